#!/usr/bin/env bash
# The cross-node broadcast benchmark of issue 17 (docs/performance.md, "Socket.IO broadcast
# across a Redis fleet"): three `pushwire serve --redis` nodes, then three node socket.io 4
# servers with @socket.io/redis-adapter 8 (server.js with REDIS_URL), each fleet on a fresh
# Redis, driven by the same `pushwire loadtest --sio-fleet` ladder of broadcast rates.
# A benchmark, not a check: not in CI.
#
#   tests/interop/socketio-bench/fleet.sh [RUNS]      (default 1)
#
# Environment: RATES (default 1000,2000,4000,6000,8000,12000,16000,24000,32000,48000,64000 broadcasts/s over the fleet),
# SECONDS_PER_STEP (5), PER_NODE (sockets per node, 10), P99_LIMIT (ms, 50), THREADS
# (pushwire serve --threads, default 1: one thread per node, as node has), NICE (0),
# PUSHWIRE=path skips the build. Ports: Redis 6391, pushwire 9311-9313, node 9321-9323,
# 127.0.0.1 only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
runs=${1:-1}
rates=${RATES:-1000,2000,4000,6000,8000,12000,16000,24000,32000,48000,64000}
seconds=${SECONDS_PER_STEP:-5}
per_node=${PER_NODE:-10}
limit=${P99_LIMIT:-50}
threads=${THREADS:-1}
nice=${NICE:-0}
redis_port=6391

command -v redis-server > /dev/null || { echo "redis-server is not installed (apt-get install redis-server)"; exit 1; }
if [ -z "${PUSHWIRE:-}" ]; then
    (cd "$root" && nice -n 19 cargo build --release -q -p pushwire-cli)
    PUSHWIRE="${CARGO_TARGET_DIR:-$root/target}/release/pushwire"
fi
if [ ! -d "$here/node_modules/@socket.io/redis-adapter" ]; then
    (cd "$here" && nice -n 19 npm install --no-audit --no-fund)
fi
echo "$(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg); $(redis-server --version | cut -d' ' -f1-3)"
echo "pushwire: $PUSHWIRE (--threads $threads); node $(node --version), socket.io $(node -p 'require("'"$here"'/node_modules/socket.io/package.json").version'), redis-adapter $(node -p 'require("'"$here"'/node_modules/@socket.io/redis-adapter/package.json").version')"

# shellcheck source=common.sh
. "$here/common.sh"

logs=$(mktemp -d /tmp/socketio-fleet.XXXXXX)
echo "logs in $logs"
pids=()
stop() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
trap stop EXIT INT TERM

start_redis() {
    nice -n "$nice" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        > "$logs/redis-$1.log" 2>&1 &
    pids+=($!)
    redis_pid=$!
    wait_port "$redis_port"
}

# start_node LABEL PORT: one node of the fleet being measured.
start_node() {
    if [ "$1" = pushwire ]; then
        nice -n "$nice" "$PUSHWIRE" serve --addr "127.0.0.1:$2" --threads "$threads" \
            --redis "redis://127.0.0.1:$redis_port" > "$logs/pushwire-$2-$run.log" 2>&1 &
    else
        (cd "$here" && REDIS_URL="redis://127.0.0.1:$redis_port" ROOMS_ANNOUNCE=0 exec nice -n "$nice" node server.js "$2") \
            > "$logs/node-$2-$run.log" 2>&1 &
    fi
    pids+=($!); node_pids+=($!); addrs+=("127.0.0.1:$2")
}

# measure LABEL PORT PORT PORT: a fresh Redis, three nodes, the ladder, everything stopped.
measure() {
    local label=$1
    shift
    start_redis "$label-$run"
    node_pids=()
    addrs=()
    for port in "$@"; do start_node "$label" "$port"; done
    for port in "$@"; do wait_port "$port"; done
    sleep 1
    nice -n "$nice" "$PUSHWIRE" loadtest --sio-fleet "$(IFS=,; echo "${addrs[*]}")" --per-node "$per_node" \
        --rates "$rates" --seconds "$seconds" --p99-limit "$limit" \
        --pids "$(IFS=,; echo "${node_pids[*]}")" --label "$label" || status=1
    stop
    sleep 2
}

status=0
run=1
while [ "$run" -le "$runs" ]; do
    echo "== run $run of $runs =="
    measure pushwire 9311 9312 9313
    measure node 9321 9322 9323
    run=$((run + 1))
done
exit $status
