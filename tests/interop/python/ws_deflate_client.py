"""Real-peer check: python `websockets` 17.x client (permessage-deflate on, its default)
against pushwire-ws's server role with permessage-deflate
(`crates/ws/examples/deflate_peer.rs serve`).

    python ws_deflate_client.py 127.0.0.1:9002

Checks that the extension was negotiated, that messages roundtrip both ways, and that RSV1
was really used in both directions: on our side by counting the frames websockets' own
permessage-deflate extension decodes and encodes with RSV1 set, on the server's side by its
`pushwire:stats` answer. Prints one line per check and "N passed, N failed"; exit status 1 on
any failure.
"""

import asyncio
import json
import random
import sys

from websockets.asyncio.client import connect
from websockets.extensions import permessage_deflate

ADDR = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9002"
passed = failed = 0
seen = {"in_rsv1": 0, "out_rsv1": 0}

# Count the frames websockets' extension handles with RSV1 set (first frames of compressed
# messages): received ones before it decodes them, sent ones after it encoded them.
_decode = permessage_deflate.PerMessageDeflate.decode
_encode = permessage_deflate.PerMessageDeflate.encode


def decode(self, frame, *, max_size=None):
    if frame.rsv1:
        seen["in_rsv1"] += 1
    return _decode(self, frame, max_size=max_size)


def encode(self, frame):
    out = _encode(self, frame)
    if out.rsv1:
        seen["out_rsv1"] += 1
    return out


permessage_deflate.PerMessageDeflate.decode = decode
permessage_deflate.PerMessageDeflate.encode = encode


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + str(detail) if detail != '' else ''}")


async def roundtrip(ws, msg, name):
    await ws.send(msg)
    got = await ws.recv()
    check(name, got == msg, "" if got == msg else f"got {len(got)} bytes")


async def main_checks():
    async with connect(f"ws://{ADDR}/", max_size=None) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        check("permessage-deflate negotiated", ext.startswith("permessage-deflate"),
              f"Sec-WebSocket-Extensions: {ext}")
        ticks = json.dumps([{"seq": i, "event": "tick", "price": f"{100 + i * 7}.{i:02}"}
                            for i in range(40)])
        for i in range(3):
            await roundtrip(ws, ticks, f"JSON text #{i} ({len(ticks)} bytes)")
        rnd = random.Random(7)
        noise = bytes(rnd.getrandbits(8) for _ in range(3000))
        await roundtrip(ws, noise, "incompressible binary (3,000 bytes)")
        await roundtrip(ws, ticks, "JSON text after it")
        await roundtrip(ws, "hi", "short text (under pushwire's threshold)")
        await roundtrip(ws, "😀 astral 🎉 中文字 " * 200, "non-ASCII text")
        big = ticks * 60
        await roundtrip(ws, big, f"large text ({len(big)} bytes; echoed with send_fragmented)")
        await roundtrip(ws, "stream:" + ticks * 3, "text echoed with send_fragment (3 fragments)")
        # A fragmented compressed message from websockets: one frame per item.
        await ws.send([ticks[:500], ticks[500:1200], ticks[1200:]])
        got = await ws.recv()
        check("fragmented compressed message from websockets", got == ticks)
        await ws.send("pushwire:stats")
        stats = json.loads(await ws.recv())
        check("server received compressed messages (RSV1)", stats["in_compressed"] >= 10,
              json.dumps(stats))
        check("server sent compressed messages (RSV1), the noise and \"hi\" uncompressed",
              stats["out_compressed"] >= 8 and stats["out_plain"] == 2,
              f"{stats['out_compressed']} compressed, {stats['out_plain']} uncompressed")
        check("websockets received RSV1 frames", seen["in_rsv1"] >= 9, seen["in_rsv1"])
        check("websockets sent RSV1 frames", seen["out_rsv1"] >= 10, seen["out_rsv1"])
    rcvd = ws.protocol.close_rcvd
    check("close handshake", rcvd is not None and rcvd.code == 1000, rcvd)


async def main():
    try:
        await asyncio.wait_for(main_checks(), 60)
    except Exception as e:  # noqa: BLE001 - any failure is a failed check
        check("deflate session", False, repr(e))
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


asyncio.run(main())
