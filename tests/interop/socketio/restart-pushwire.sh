#!/usr/bin/env bash
# The `--restart-cmd` of client-check.js for `pushwire serve --reference-apps`: stops the
# server whose process id is in PIDFILE (SIGTERM), waits for it to exit, starts it again on
# the same port and returns once the port accepts connections. Also starts the first one
# (an empty or missing PIDFILE). Output goes to PIDFILE.log. Every wait is bounded (5 s to
# exit, 10 s to listen).
#
#   bash restart-pushwire.sh PIDFILE PUSHWIRE_BIN PORT
set -eu
pidfile=$1
bin=$2
port=$3
if [ -s "$pidfile" ]; then
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 50 ]; then echo "restart-pushwire: server $pid did not exit" >&2; exit 1; fi
    sleep 0.1
  done
fi
nohup "$bin" serve --addr "127.0.0.1:$port" --reference-apps >>"$pidfile.log" 2>&1 </dev/null &
echo $! >"$pidfile"
i=0
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 100 ]; then echo "restart-pushwire: server did not listen: $(tail -5 "$pidfile.log")" >&2; exit 1; fi
  sleep 0.1
done
