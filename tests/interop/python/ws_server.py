"""Real-peer check, server side: a python `websockets` 17.x echo server (max_size 1 MiB)
for pushwire-ws's client role (crates/cli/examples/ws_peer_check.rs).

    python ws_server.py PORT
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    async with serve(echo, "127.0.0.1", port, max_size=1 << 20):
        print(f"listening on 127.0.0.1:{port}", flush=True)
        await asyncio.Future()


asyncio.run(main())
