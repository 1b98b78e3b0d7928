#!/bin/sh
# restart.sh <port> <flavour>: kills the server whose pid is in ${SIO_DIR:-/tmp/sio-node}/<port>.pid and starts it again.
port=$1; fl=$2
kill "$(cat ${SIO_DIR:-/tmp/sio-node}/$port.pid)" 2>/dev/null
sleep 0.7
cd ${SIO_DIR:-/tmp/sio-node} && node server.js "$port" "$fl" >> ${SIO_DIR:-/tmp/sio-node}/$port.log 2>&1 &
echo $! > ${SIO_DIR:-/tmp/sio-node}/$port.pid
sleep 0.5
