// The node socket.io 4 server of the Socket.IO broadcast benchmark (run.sh): the protocol of
// `pushwire serve`'s Socket.IO chat (crates/cli/src/siochat.rs) that the benchmark uses.
//
//   join(room, ack)          -> ack({ok: true, rooms: [...]}) (the socket's chat rooms, sorted)
//   chat({room, text}, ack)  -> socket.to(room).emit("chat", {room, from, text}),
//                               ack({ok: true, delivered}) (the room's other sockets)
//
// Like pushwire's chat it also emits `rooms` ([{name, members}]) to a socket when it connects
// and to every socket whenever a room's membership changes, unless ROOMS_ANNOUNCE=0 (see
// docs/performance.md, "Socket.IO broadcast to 10,000 sockets").
//
// Usage: node server.js PORT   (127.0.0.1 only; websocket transport only; heartbeats long
// enough not to matter: pingInterval 25 s as both defaults, pingTimeout 60 s).
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
    if (fresh && announce) io.emit("rooms", list());
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
    let changed = false;
    for (const room of joined) {
      const n = (members.get(room) || 1) - 1;
      if (n === 0) members.delete(room);
      else members.set(room, n);
      changed = true;
    }
    if (changed && announce) io.emit("rooms", list());
  });
});

const http = require("http").createServer();
io.attach(http);
http.listen(port, "127.0.0.1", () => console.log(`socket.io ${require("socket.io/package.json").version} bench server on 127.0.0.1:${port}, rooms announce ${announce}`));
