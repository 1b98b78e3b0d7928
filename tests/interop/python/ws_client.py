"""Real-peer check: python `websockets` 17.x client against pushwire-ws (the /ws/echo and
/ws/chat endpoints of `pushwire serve`).

    python ws_client.py 127.0.0.1:8080

Prints one line per check and "N passed, N failed"; exit status 1 on any failure.
"""

import asyncio
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ADDR = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8080"
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + str(detail) if detail != '' else ''}")


async def echo():
    async with connect(f"ws://{ADDR}/ws/echo", max_size=None) as ws:
        for text in ["hello", "😀 astral 🎉 中文字", "", "x" * 100_000]:
            await ws.send(text)
            got = await ws.recv()
            check(f"echo text ({len(text)} chars)", got == text)
        for data in [b"\x00\x01\xfe\xff", b"", bytes(range(256)) * 4096]:
            await ws.send(data)
            got = await ws.recv()
            check(f"echo binary ({len(data)} bytes)", got == data)
        # A fragmented message: websockets sends an iterable as one frame per item.
        await ws.send(["frag", "men", "ted"])
        got = await ws.recv()
        check("echo fragmented text", got == "fragmented", got)
        await ws.send([b"\x01\x02", b"\x03"])
        got = await ws.recv()
        check("echo fragmented binary", got == b"\x01\x02\x03", got)
        pong = await ws.ping(b"are you there")
        latency = await asyncio.wait_for(pong, 5)
        check("ping answered with pong", latency >= 0)


async def close_codes():
    for code in [1000, 1001, 1003, 1008, 1011, 3000, 4999]:
        ws = await connect(f"ws://{ADDR}/ws/echo")
        await ws.close(code, "bye")
        # The server echoes the status code it received (RFC 6455 §5.5.1).
        rcvd = ws.protocol.close_rcvd
        check(f"close {code} echoed", rcvd is not None and rcvd.code == code,
              rcvd.code if rcvd else None)


async def oversize():
    # The echo endpoint accepts messages up to 16 MiB.
    async with connect(f"ws://{ADDR}/ws/echo", max_size=None) as ws:
        try:
            # The close may arrive while the message is still being written.
            await ws.send(b"\x00" * ((16 << 20) + 1))
            await asyncio.wait_for(ws.recv(), 10)
            check("oversize message -> 1009", False, "echoed")
        except ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else None
            check("oversize message -> 1009", code == 1009, code)


async def chat():
    async with connect(f"ws://{ADDR}/ws/chat") as a, connect(f"ws://{ADDR}/ws/chat") as b:
        await asyncio.sleep(0.1)
        await a.send("hi from python")
        check("chat reaches the sender", await a.recv() == "hi from python")
        check("chat reaches the other client", await b.recv() == "hi from python")


async def main():
    for step in [echo, close_codes, oversize, chat]:
        try:
            await asyncio.wait_for(step(), 30)
        except Exception as e:  # noqa: BLE001 - any failure is a failed check
            check(step.__name__, False, repr(e))
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


asyncio.run(main())
