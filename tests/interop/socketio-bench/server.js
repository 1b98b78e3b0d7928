// The node socket.io 4 server of the Socket.IO broadcast benchmark (run.sh): the protocol of
// `pushwire serve`'s Socket.IO chat (crates/cli/src/siochat.rs) that the benchmark uses.
//
//   join(room, ack)          -> ack({ok: true, rooms: [...]}) (the socket's chat rooms, sorted)
//   chat({room, text}, ack)  -> socket.to(room).emit("chat", {room, from, text}),
//                               ack({ok: true, delivered}) (the room's other sockets)
//
// Like pushwire's chat it also emits `rooms` ([{name, members}]) to a socket when it connects
// and to every socket when a room's membership changes, at most once per 250 ms as pushwire's
// chat does (the first change at once, the changes made meanwhile in one announcement at the
// end of the interval); ROOMS_ANNOUNCE=0 turns that off.
//
// Usage: node server.js PORT   (127.0.0.1 only; websocket transport only; heartbeats long
// enough not to matter: pingInterval 25 s as both defaults, pingTimeout 60 s).
//
// REDIS_URL=redis://… makes it one node of a fleet (fleet.sh): @socket.io/redis-adapter 8
// (classic pub/sub) on that Redis, as `pushwire serve --redis` is one; then a chat reaches
// the room's sockets on every node, and `delivered` counts this node's only.
"use strict";
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 9200);
const announce = process.env.ROOMS_ANNOUNCE !== "0";
const PREFIX = "chat:";
const NAME = /^[\p{L}\p{N} ._-]{1,32}$/u;

const io = new Server({
  transports: ["websocket"],
  pingInterval: 25000,
  pingTimeout: 60000,
  maxHttpBufferSize: 64 * 1024,
  serveClient: false,
});

// Room name -> member count, as pushwire's chat keeps it.
const members = new Map();
function list() {
  return [...members.keys()].sort().map((name) => ({ name, members: members.get(name) }));
}
const ANNOUNCE_EVERY_MS = 250;
let cooling = false;
let pending = false;
function changed() {
  if (!announce) return;
  if (cooling) {
    pending = true;
    return;
  }
  io.emit("rooms", list());
  cooling = true;
  setTimeout(function tick() {
    if (pending) {
      pending = false;
      io.emit("rooms", list());
      setTimeout(tick, ANNOUNCE_EVERY_MS);
    } else {
      cooling = false;
    }
  }, ANNOUNCE_EVERY_MS);
}

io.on("connection", (socket) => {
  const from = "guest-" + socket.id.slice(0, 6);
  const joined = new Set();
  if (announce) socket.emit("rooms", list());
  socket.on("join", (room, ack) => {
    if (typeof room !== "string" || !NAME.test(room) || room.trim() !== room) {
      if (typeof ack === "function") ack({ ok: false, error: "bad room name" });
      return;
    }
    const fresh = !joined.has(room);
    if (fresh) {
      joined.add(room);
      members.set(room, (members.get(room) || 0) + 1);
      socket.join(PREFIX + room);
    }
    if (typeof ack === "function") ack({ ok: true, rooms: [...joined].sort() });
    if (fresh) changed();
  });
  socket.on("chat", (msg, ack) => {
    const room = msg && msg.room;
    const text = msg && msg.text;
    if (typeof room !== "string" || typeof text !== "string" || !joined.has(room)) {
      if (typeof ack === "function") ack({ ok: false, error: "not in that room" });
      return;
    }
    socket.to(PREFIX + room).emit("chat", { room, from, text });
    const size = (io.sockets.adapter.rooms.get(PREFIX + room) || new Set()).size;
    if (typeof ack === "function") ack({ ok: true, delivered: size - 1 });
  });
  socket.on("disconnect", () => {
    let left = false;
    for (const room of joined) {
      const n = (members.get(room) || 1) - 1;
      if (n === 0) members.delete(room);
      else members.set(room, n);
      left = true;
    }
    if (left) changed();
  });
});

async function main() {
  let redis = "";
  if (process.env.REDIS_URL) {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: process.env.REDIS_URL });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) c.on("error", (e) => console.error("redis:", e.message));
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
    redis = `, redis-adapter ${require("@socket.io/redis-adapter/package.json").version} on ${process.env.REDIS_URL}`;
  }
  const http = require("http").createServer();
  io.attach(http);
  http.listen(port, "127.0.0.1", () =>
    console.log(
      `socket.io ${require("socket.io/package.json").version} bench server on 127.0.0.1:${port}, rooms announce ${announce}${redis}`,
    ),
  );
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
