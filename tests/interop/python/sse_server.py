"""Event-stream server on sse-starlette 3.5 (starlette 1.7, uvicorn 0.54) for the
`sse-client` interop check: pushwire-tokio's EventSource
(crates/tokio/examples/sse_client_check.rs) against it, driven by tests/interop/sse/run.py.
The node twin is tests/interop/node/sse-server.js (better-sse); both behave the same.

    python sse_server.py PORT

Routes (`R`: the `retry` field sent first, in ms; `Last-Event-ID` is read as an integer,
default 0):

* `GET /counter?total=T&per=K&retry=R&mode=mid|clean`: 204 once Last-Event-ID >= T; else
  `retry: R`, then events `id: n` / `data: n` for n = last+1 ... (at most K, never past T);
  `mode=clean` ends the response, `mode=mid` then writes an event without its blank line
  (`id: 99999` / `data: partial`) and breaks the connection (an exception in the generator:
  uvicorn closes the transport without the last chunk).
* `GET /status/500` -> 500; `GET /wrong-type` -> 200 text/plain with an event in the body;
  `GET /nocontent` -> 204.
* `GET /stall?retry=R`: `retry: R`, the event 1 unless Last-Event-ID is 1, then nothing (no
  keep-alive) until the client goes.
* `GET /flaky?retry=R`: `retry: R`, then the response ends, every time.
* `GET /log?run=X`: the requests whose query has `run=X`, as JSON: `t` (monotonic ms at
  arrival), `path`, `lei` (the Last-Event-ID header or null), `status`, `sent` (events
  sent), `last` (id of the last complete event sent, or null), `end` (ms when the server
  ended or broke the stream, or null).
"""

import sys
import time

import anyio
import uvicorn
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

LOG = []


def now_ms():
    return time.monotonic() * 1000.0


def record(request: Request):
    entry = {
        "t": now_ms(),
        "path": request.url.path
        + ("?" + request.url.query if request.url.query else ""),
        "lei": request.headers.get("last-event-id"),
        "status": None,
        "sent": 0,
        "last": None,
        "end": None,
    }
    LOG.append(entry)
    return entry


def last_id(request: Request) -> int:
    try:
        return int(request.headers.get("last-event-id", "0"))
    except ValueError:
        return 0


def qint(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


class Abort(Exception):
    """Raised in a stream's generator to break the connection mid-event."""


async def counter(request: Request):
    entry = record(request)
    total = qint(request, "total", 100)
    per = qint(request, "per", 10)
    retry = qint(request, "retry", 1000)
    mode = request.query_params.get("mode", "clean")
    last = last_id(request)
    if last >= total:
        entry["status"] = 204
        return Response(status_code=204)
    entry["status"] = 200

    async def events():
        yield ServerSentEvent(retry=retry)
        for n in range(last + 1, min(last + per, total) + 1):
            yield ServerSentEvent(data=str(n), id=str(n))
            entry["sent"] += 1
            entry["last"] = str(n)
        if mode == "mid":
            # Raw bytes pass through sse-starlette unchanged: an event without its blank line.
            yield b"id: 99999\r\ndata: partial\r\n"
            entry["end"] = now_ms()
            raise Abort("connection broken on purpose (mode=mid)")
        entry["end"] = now_ms()

    return EventSourceResponse(events(), ping=0)


async def status_500(request: Request):
    entry = record(request)
    entry["status"] = 500
    return PlainTextResponse("boom", status_code=500)


async def wrong_type(request: Request):
    entry = record(request)
    entry["status"] = 200
    return PlainTextResponse("id: 1\ndata: 1\n\n")


async def nocontent(request: Request):
    entry = record(request)
    entry["status"] = 204
    return Response(status_code=204)


async def stall(request: Request):
    entry = record(request)
    entry["status"] = 200
    retry = qint(request, "retry", 1000)
    send_one = request.headers.get("last-event-id") != "1"

    async def events():
        yield ServerSentEvent(retry=retry)
        if send_one:
            yield ServerSentEvent(data="1", id="1")
            entry["sent"] = 1
            entry["last"] = "1"
        await anyio.sleep_forever()

    return EventSourceResponse(events(), ping=0)


async def flaky(request: Request):
    entry = record(request)
    entry["status"] = 200
    retry = qint(request, "retry", 1000)

    async def events():
        yield ServerSentEvent(retry=retry)
        entry["end"] = now_ms()

    return EventSourceResponse(events(), ping=0)


async def log(request: Request):
    run = request.query_params.get("run")
    wanted = [e for e in LOG if run is None or f"run={run}" in e["path"].split("?", 1)[-1].split("&")]
    return JSONResponse(wanted)


app = Starlette(
    routes=[
        Route("/counter", counter),
        Route("/status/500", status_500),
        Route("/wrong-type", wrong_type),
        Route("/nocontent", nocontent),
        Route("/stall", stall),
        Route("/flaky", flaky),
        Route("/log", log),
    ]
)


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8766
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:
            await anyio.sleep(0.02)
        print(f"listening on 127.0.0.1:{port}", flush=True)


if __name__ == "__main__":
    anyio.run(main)
