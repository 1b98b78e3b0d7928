#!/bin/sh
# Runs pushwire-tokio's Socket.IO client check (crates/tokio/examples/sio_client_check.rs)
# against socket.io 4.8.1 (protocol 5) and 2.5.1 (protocol 4), each over the upgrade,
# polling only and websocket only, with server restarts. From the repository root:
#
#   sh tests/interop/socketio-client/run.sh
#
# Needs node and npm; installs node_modules here (not committed) on the first run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export SIO_DIR="$here"
[ -d "$here/node_modules" ] || (cd "$here" && npm ci --silent) || exit 1
cargo build -q -p pushwire-tokio --features socketio --example sio_client_check || exit 1
bin=${CARGO_TARGET_DIR:-target}/debug/examples/sio_client_check
fail=0
for pair in "3100 v4 5" "3101 v2 4"; do
  set -- $pair
  port=$1; flavour=$2; protocol=$3
  (cd "$here" && node server.js "$port" "$flavour" > "$here/$port.log" 2>&1 & echo $! > "$here/$port.pid")
  sleep 1
  for t in upgrade polling websocket; do
    "$bin" "http://127.0.0.1:$port/socket.io/" "$protocol" --transport "$t" \
      --restart-cmd "sh $here/restart.sh $port $flavour" || fail=1
  done
  kill "$(cat "$here/$port.pid")" 2>/dev/null
  rm -f "$here/$port.pid" "$here/$port.log"
done
exit $fail
