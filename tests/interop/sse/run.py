"""The `sse-client` interop check: pushwire-tokio's EventSource
(crates/tokio/examples/sse_client_check.rs) against event-stream servers on libraries
nobody here wrote — sse-starlette (tests/interop/python/sse_server.py, on starlette and
uvicorn) and better-sse (tests/interop/node/sse-server.js, on node's http).

    target/interop-venv/bin/python tests/interop/sse/run.py CLIENT [--server starlette|better-sse]

Run from the repository root with the python that has sse-starlette (the venv of `cargo
xtask interop`, which runs this as the check `sse-client`). For each server: the counter
with broken and with clean streams (every id once, in order; the right Last-Event-ID on
every reconnection; no reconnection sooner than the server's `retry`), the exponential
backoff on a stream that always ends at once, a 500, a wrong content type, a 204, and a
stalled stream dropped by the read timeout. Times are only checked as lower bounds (what
the client must wait at least), never as upper ones. One line per check; exits 1 if any
failed. Server output goes to target/interop/sse-*.log.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TOLERANCE_MS = 5.0
CLIENT_TIMEOUT_S = 60


class CheckFailed(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(name, argv, port):
    os.makedirs(os.path.join(ROOT, "target", "interop"), exist_ok=True)
    log_path = os.path.join(ROOT, "target", "interop", f"sse-{name}.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(
        argv + [str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CheckFailed(f"{name} server exited with {proc.returncode} (see {log_path})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise CheckFailed(f"{name} server did not listen on {port} within 30 s")


def run_client(client, url, *args):
    """Runs the client; (events [(id, type, data)], final line)."""
    try:
        out = subprocess.run(
            [client, url, *args],
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"the client did not finish within {CLIENT_TIMEOUT_S} s")
    events, end = [], None
    for line in out.stdout.splitlines():
        if line.startswith("event "):
            if end is not None:
                raise CheckFailed(f"an event after the end line: {line!r}")
            parts = line.split(" ", 3)
            events.append(tuple(parts[1:]) + ("",) * (4 - len(parts)))
        elif line.startswith("end "):
            end = line
        else:
            raise CheckFailed(f"unexpected client output: {line!r}")
    if end is None:
        raise CheckFailed(
            f"no end line (exit {out.returncode}, stderr {out.stderr.strip()[:200]!r})"
        )
    return events, end


def server_log(base, run):
    with urllib.request.urlopen(f"{base}/log?run={run}", timeout=10) as r:
        return json.load(r)


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


def span(values):
    return f"{min(values):.1f}–{max(values):.1f} ms" if values else "none"


def check_counter(client, base, run, mode, total, per, retry):
    url = f"{base}/counter?total={total}&per={per}&retry={retry}&mode={mode}&run={run}"
    events, end = run_client(client, url, "--backoff-reset-ms", "0")
    streams = -(-total // per)
    ids = [e[0] for e in events]
    want = [str(n) for n in range(1, total + 1)]
    if ids != want:
        dup = len(ids) - len(set(ids))
        missing = sorted(set(want) - set(ids), key=int)[:10]
        extra = [i for i in ids if i not in set(want)][:10]
        raise CheckFailed(
            f"{len(ids)} events, not {total} in order: {dup} duplicated, "
            f"missing {missing}, unexpected {extra}"
        )
    bad = [e for e in events if e[2] != e[0]]
    expect(not bad, f"data differs from id: {bad[:3]}")
    expect(end == f"end closed opened={streams}", f"final line {end!r}, not 'end closed opened={streams}'")
    log = server_log(base, run)
    expect(len(log) == streams + 1, f"{len(log)} requests in the server's log, not {streams + 1}")
    expect(log[0]["lei"] is None, f"the first request sent Last-Event-ID {log[0]['lei']!r}")
    wrong = [
        (i + 1, b["lei"], a["last"])
        for i, (a, b) in enumerate(zip(log, log[1:]))
        if b["lei"] != a["last"]
    ]
    expect(not wrong, f"reconnections with the wrong Last-Event-ID (request, sent, wanted): {wrong[:5]}")
    statuses = [e["status"] for e in log]
    expect(statuses == [200] * streams + [204], f"statuses {statuses}")
    expect(all(e["end"] is not None for e in log[:-1]), "a stream the server did not end")
    gaps = [b["t"] - a["end"] for a, b in zip(log, log[1:])]
    short = [round(g, 1) for g in gaps if g < retry - TOLERANCE_MS]
    expect(not short, f"reconnected sooner than retry {retry} ms: {short[:10]}")
    return (
        f"{total} events, ids 1..{total} once each in order, opened={streams}, "
        f"{len(log)} requests (the last a 204), Last-Event-ID right on all {streams} "
        f"reconnections, gaps {span(gaps)} (retry {retry} ms)"
    )


def check_backoff(client, base, run):
    url = f"{base}/flaky?retry=20&run={run}"
    events, end = run_client(
        client, url,
        "--jitter", "none", "--max-attempts", "6", "--max-backoff-ms", "320",
        "--reconnect-ms", "20",
    )
    expect(not events, f"{len(events)} events from a stream that sends none")
    expect(
        end == "end failed opened=6 6 consecutive attempts failed",
        f"final line {end!r}",
    )
    log = server_log(base, run)
    expect(len(log) == 6, f"{len(log)} requests in the server's log, not 6")
    expect(all(e["end"] is not None for e in log), "a stream the server did not end")
    gaps = [b["t"] - a["end"] for a, b in zip(log, log[1:])]
    want = [40, 80, 160, 320, 320]
    short = [
        f"#{i + 2}: {g:.1f} < {w}" for i, (g, w) in enumerate(zip(gaps, want))
        if g < w - TOLERANCE_MS
    ]
    expect(not short, f"reconnected before the backoff delay: {short}")
    shown = ", ".join(f"{g:.1f}" for g in gaps)
    return f"6 requests, then '6 consecutive attempts failed'; gaps {shown} ms (at least 40, 80, 160, 320, 320)"


def check_once(client, base, run, path, want_end, reason_has):
    url = f"{base}{path}?run={run}"
    events, end = run_client(client, url)
    expect(not events, f"{len(events)} events")
    expect(end.startswith(want_end), f"final line {end!r}, not {want_end!r}…")
    for part in reason_has:
        expect(part in end, f"final line {end!r} does not mention {part!r}")
    log = server_log(base, run)
    expect(len(log) == 1, f"{len(log)} requests in the server's log, not 1")
    return f"'{end}' after 1 request"


def check_stall(client, base, run):
    url = f"{base}/stall?retry=50&run={run}"
    events, end = run_client(
        client, url, "--read-timeout-ms", "300", "--max-attempts", "3", "--jitter", "none",
        "--reconnect-ms", "50",
    )
    expect(events == [("1", "message", "1")], f"events {events}, not the one event 1")
    expect(
        end == "end failed opened=3 3 consecutive attempts failed",
        f"final line {end!r}",
    )
    log = server_log(base, run)
    expect(len(log) == 3, f"{len(log)} requests in the server's log, not 3")
    leis = [e["lei"] for e in log]
    expect(leis == [None, "1", "1"], f"Last-Event-ID per request {leis}, not [None, '1', '1']")
    # Request to request: the read timeout (300 ms of silence) plus the backoff delay
    # (retry 50 doubled: 100, then 200).
    gaps = [b["t"] - a["t"] for a, b in zip(log, log[1:])]
    want = [400, 500]
    short = [
        f"#{i + 2}: {g:.1f} < {w}" for i, (g, w) in enumerate(zip(gaps, want))
        if g < w - TOLERANCE_MS
    ]
    expect(not short, f"reconnected before read timeout + delay: {short}")
    shown = ", ".join(f"{g:.1f}" for g in gaps)
    return f"event 1 once, 3 requests (Last-Event-ID 1 on the 2nd and 3rd), request gaps {shown} ms (at least 400, 500)"


def checks(client, base, tag):
    return [
        ("counter mode=mid", lambda: check_counter(client, base, f"{tag}-mid", "mid", 500, 5, 20)),
        ("counter mode=clean", lambda: check_counter(client, base, f"{tag}-clean", "clean", 100, 10, 20)),
        ("backoff", lambda: check_backoff(client, base, f"{tag}-backoff")),
        ("status 500", lambda: check_once(
            client, base, f"{tag}-500", "/status/500", "end failed opened=0", ["status 500"])),
        ("wrong content type", lambda: check_once(
            client, base, f"{tag}-type", "/wrong-type", "end failed opened=0",
            ["content type", "text/plain"])),
        ("204", lambda: check_once(client, base, f"{tag}-204", "/nocontent", "end closed opened=0", [])),
        ("read timeout", lambda: check_stall(client, base, f"{tag}-stall")),
    ]


def versions():
    try:
        from importlib.metadata import version

        starlette = f"sse-starlette {version('sse-starlette')} (starlette {version('starlette')}, uvicorn {version('uvicorn')})"
    except Exception:
        starlette = "sse-starlette"
    try:
        with open(os.path.join(ROOT, "tests/interop/node/node_modules/better-sse/package.json")) as f:
            better = f"better-sse {json.load(f)['version']} (node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()})"
    except Exception:
        better = "better-sse"
    return starlette, better


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    client = os.path.abspath(args[0])
    only = args[args.index("--server") + 1] if "--server" in args else None
    starlette, better = versions()
    servers = [
        ("starlette", starlette, [sys.executable, "tests/interop/python/sse_server.py"]),
        ("better-sse", better, ["node", "tests/interop/node/sse-server.js"]),
    ]
    passed, failed = 0, []
    for tag, label, argv in servers:
        if only and only != tag:
            continue
        print(f"    pushwire-tokio EventSource -> {label}")
        port = free_port()
        try:
            proc = start(tag, argv, port)
        except CheckFailed as e:
            print(f"    FAIL {tag}: {e}")
            failed.append(f"{tag} (server)")
            continue
        try:
            base = f"http://127.0.0.1:{port}"
            for name, check in checks(client, base, tag):
                t = time.monotonic()
                try:
                    detail = check()
                    took = time.monotonic() - t
                    print(f"    ok   {tag} {name}: {detail} ({took:.1f} s)", flush=True)
                    passed += 1
                except Exception as e:  # a check's own failure or an unexpected error
                    print(f"    FAIL {tag} {name}: {e}", flush=True)
                    failed.append(f"{tag} {name}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(f"    {passed} passed, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
