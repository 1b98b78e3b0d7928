#!/usr/bin/env bash
# The Socket.IO broadcast benchmark (issue 16; docs/performance.md, "Socket.IO broadcast to
# 10,000 sockets"): `pushwire loadtest --sio-broadcast N` against `pushwire serve` and then
# against the node socket.io 4 server of server.js, with the same parameters, in one run.
# A benchmark, not a check: not in CI.
#
#   tests/interop/socketio-bench/run.sh [SOCKETS [ROUNDS [RUNS]]]   (default 10000 20 1)
#
# Environment: ROOMS_ANNOUNCE=0 stops the node server's `rooms` announcements (pushwire's
# chat always makes them); PUSHWIRE=path skips the build; NICE=n (default 19) for every
# process started here. Ports 9310 (pushwire) and 9320 (node), 127.0.0.1 only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
sockets=${1:-10000}
rounds=${2:-20}
runs=${3:-1}
nice=${NICE:-19}
timeout=${TIMEOUT:-900}

# One descriptor per socket on both sides: raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open-file limit $(ulimit -n); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -z "${PUSHWIRE:-}" ]; then
    (cd "$root" && nice -n "$nice" cargo build --release -q -p pushwire-cli)
    PUSHWIRE="${CARGO_TARGET_DIR:-$root/target}/release/pushwire"
fi
if [ ! -d "$here/node_modules/socket.io" ]; then
    (cd "$here" && nice -n "$nice" npm install --no-audit --no-fund)
fi
echo "pushwire: $PUSHWIRE; node $(node --version), socket.io $(node -p 'require("'"$here"'/node_modules/socket.io/package.json").version')"

logs=$(mktemp -d /tmp/socketio-bench.XXXXXX)
echo "server logs in $logs"
server_pid=
stop() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap stop EXIT INT TERM

# shellcheck source=common.sh
. "$here/common.sh"

status=0
run=1
while [ "$run" -le "$runs" ]; do
    echo "== run $run of $runs: $sockets sockets, $rounds rounds =="
    nice -n "$nice" "$PUSHWIRE" serve --addr 127.0.0.1:9310 > "$logs/pushwire-$run.log" 2>&1 &
    server_pid=$!
    wait_port 9310
    nice -n "$nice" "$PUSHWIRE" loadtest --sio-broadcast "$sockets" --rounds "$rounds" \
        --addr 127.0.0.1:9310 --server-pid "$server_pid" --label pushwire --timeout "$timeout" || status=1
    stop
    # Why the server closed sockets, if it did (serve logs "…: left (<reason>)").
    grep -o 'left ([^)]*)' "$logs/pushwire-$run.log" | sort | uniq -c | sed "s/^/pushwire: sockets that left, by reason (the load generator closes all of them when it ends: transport close): /" || true
    sleep 2
    (cd "$here" && exec nice -n "$nice" node server.js 9320) > /dev/null 2>&1 &
    server_pid=$!
    wait_port 9320
    nice -n "$nice" "$PUSHWIRE" loadtest --sio-broadcast "$sockets" --rounds "$rounds" \
        --addr 127.0.0.1:9320 --server-pid "$server_pid" --label node --timeout "$timeout" || status=1
    stop
    sleep 2
    run=$((run + 1))
done
exit $status
