#!/bin/sh
# The `--restart-cmd` of client-check.js for reference-server.js: stops the server whose
# process id is in PIDFILE (SIGTERM), waits for it to exit, starts it again with the same
# arguments (the same port) and returns once it prints `listening`. Its output goes to
# PIDFILE.log. Every wait is bounded (5 s to exit, 10 s to listen).
#
#   sh restart-reference.sh PIDFILE VERSION PORT [--no-eio3]
set -eu
pidfile=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
pid=$(cat "$pidfile")
kill "$pid" 2>/dev/null || true
i=0
while kill -0 "$pid" 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 50 ]; then echo "restart-reference: server $pid did not exit" >&2; exit 1; fi
  sleep 0.1
done
: >"$pidfile.log"
nohup node "$here/reference-server.js" "$@" --pidfile "$pidfile" >"$pidfile.log" 2>&1 </dev/null &
i=0
until grep -q '^listening ' "$pidfile.log"; do
  i=$((i + 1))
  if [ "$i" -gt 100 ]; then echo "restart-reference: server did not listen: $(cat "$pidfile.log")" >&2; exit 1; fi
  sleep 0.1
done
