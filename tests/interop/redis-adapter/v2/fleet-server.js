'use strict';
// One node of a mixed fleet, socket.io 2 side (issue 17, "Proof"): a socket.io 2.5 server with
// socket.io-redis 5.4 speaking the same chat protocol as `pushwire serve --redis URL
// --redis-wire socket.io-redis-5` (crates/cli/src/siochat.rs):
//
//   join(room)          -> socket.join("chat:" + room), ack {ok, rooms}
//   leave(room)         -> socket.leave("chat:" + room), ack {ok, rooms}
//   chat({room, text})  -> socket.to("chat:" + room).emit("chat", {room, from, text}), ack {ok, delivered}
//
// (socket.io 2 clients send no CONNECT payload, so `from` is always "guest-" and the first six
// characters of the socket id, as pushwire names a socket without `auth.name`), plus events
// only this node offers, to drive the fleet through socket.io-redis 5's requests:
//
//   clients(room)        -> adapter.clients(["chat:" + room]), ack {ok, sockets}
//   custom(data)         -> adapter.customRequest(data), ack {ok, replies}; this node's
//                           customHook answers {node: "node"}
//   remotejoin({sid, to})-> adapter.remoteJoin(sid, "chat:" + to), ack {ok}
//   remotekick({sid})    -> adapter.remoteDisconnect(sid, true), ack {ok}
//   roomsof(sid)         -> adapter.clientRooms(sid), ack {ok, rooms}
//   allrooms()           -> adapter.allRooms(), ack {ok, rooms}
//   shout(text)          -> io.emit("shout", {text}) (to everyone, every node), ack {ok}
//
// Usage: node v2/fleet-server.js PORT REDIS_URL   (prints "listening PORT uid" when ready)

const http = require('http');
const socketio = require('socket.io');
const redis = require('redis');
const redisAdapter = require('socket.io-redis');

const PREFIX = 'chat:';
const NAME = /^[\p{L}\p{N} ._-]{1,32}$/u;

function validRoom(r) {
  return typeof r === 'string' && NAME.test(r) && r.trim() === r;
}

function roomsOf(socket) {
  return Object.keys(socket.rooms).filter((r) => r.startsWith(PREFIX)).map((r) => r.slice(PREFIX.length)).sort();
}

async function main() {
  const port = Number(process.argv[2]);
  const url = process.argv[3];
  if (!port || !url) {
    console.error('usage: node v2/fleet-server.js PORT REDIS_URL');
    process.exit(2);
  }
  const mk = () => {
    const c = redis.createClient(url);
    c.on('error', (e) => console.error('redis error', e.message));
    return c;
  };
  const pubClient = mk();
  const subClient = mk();
  const httpServer = http.createServer();
  const io = socketio(httpServer);
  const adapterClass = redisAdapter({ pubClient, subClient });
  io.adapter(adapterClass);
  const adapter = io.of('/').adapter;
  // socket.io-redis 5 re-emits its clients' errors on the adapter: without a listener a
  // Redis outage ends the process (its README: "you should listen to the error event").
  adapter.on('error', (e) => console.error('adapter error', e.message));
  adapter.customHook = (data, cb) => cb({ node: 'node' });

  io.on('connection', (socket) => {
    const from = 'guest-' + socket.id.slice(0, 6);
    const reply = (cb, fields) => { if (typeof cb === 'function') cb({ ok: true, ...fields }); };
    const refuse = (cb, error) => { if (typeof cb === 'function') cb({ ok: false, error }); };
    // node-style callback API -> ack
    const viaAdapter = (cb, call, fields) => call((err, v) => (err ? refuse(cb, err.message) : reply(cb, fields(v))));

    socket.on('join', (room, cb) => {
      if (!validRoom(room)) return refuse(cb, 'bad room name');
      socket.join(PREFIX + room, () => reply(cb, { rooms: roomsOf(socket) }));
    });
    socket.on('leave', (room, cb) => {
      if (!validRoom(room)) return refuse(cb, 'bad room name');
      socket.leave(PREFIX + room, () => reply(cb, { rooms: roomsOf(socket) }));
    });
    socket.on('chat', (msg, cb) => {
      if (!msg || !validRoom(msg.room) || typeof msg.text !== 'string') return refuse(cb, 'bad arguments');
      const target = PREFIX + msg.room;
      if (!socket.rooms[target]) return refuse(cb, 'not in that room');
      const local = adapter.rooms[target];
      const delivered = local ? Object.keys(local.sockets).filter((id) => id !== socket.id).length : 0;
      socket.to(target).emit('chat', { room: msg.room, from, text: msg.text });
      reply(cb, { delivered });
    });
    socket.on('clients', (room, cb) => {
      if (!validRoom(room)) return refuse(cb, 'bad room name');
      viaAdapter(cb, (f) => adapter.clients([PREFIX + room], f), (sockets) => ({ sockets }));
    });
    socket.on('custom', (...args) => {
      const cb = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
      const data = args[0];
      viaAdapter(cb, (f) => adapter.customRequest(data === undefined ? null : data, f), (replies) => ({ replies }));
    });
    socket.on('remotejoin', (arg, cb) => {
      if (!arg || typeof arg.sid !== 'string' || !validRoom(arg.to)) return refuse(cb, 'bad arguments');
      viaAdapter(cb, (f) => adapter.remoteJoin(arg.sid, PREFIX + arg.to, f), () => ({}));
    });
    socket.on('remotekick', (arg, cb) => {
      if (!arg || typeof arg.sid !== 'string') return refuse(cb, 'bad arguments');
      viaAdapter(cb, (f) => adapter.remoteDisconnect(arg.sid, true, f), () => ({}));
    });
    socket.on('roomsof', (sid, cb) => {
      if (typeof sid !== 'string') return refuse(cb, 'bad arguments');
      viaAdapter(cb, (f) => adapter.clientRooms(sid, f), (rooms) => ({ rooms }));
    });
    socket.on('allrooms', (cb) => viaAdapter(cb, (f) => adapter.allRooms(f), (rooms) => ({ rooms })));
    socket.on('shout', (text, cb) => {
      if (typeof text !== 'string') return refuse(cb, 'bad arguments');
      io.emit('shout', { text });
      reply(cb, {});
    });
  });

  await new Promise((r) => httpServer.listen(port, '127.0.0.1', r));
  console.log(`listening ${port} ${adapterClass.uid}`);
  const stop = () => {
    io.close();
    pubClient.quit();
    subClient.quit();
    setTimeout(() => process.exit(0), 300).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(e && e.stack);
  process.exit(1);
});
