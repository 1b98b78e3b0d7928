'use strict';
// One node of a mixed fleet (issue 17, "Proof"): a socket.io 4.8 server with
// @socket.io/redis-adapter 8 (classic pub/sub, node-redis 4 clients) speaking the same chat
// protocol as `pushwire serve --redis` (crates/cli/src/siochat.rs, siofleet.rs):
//
//   join(room)          -> socket.join("chat:" + room), ack {ok, rooms}
//   leave(room)         -> socket.leave("chat:" + room), ack {ok, rooms}
//   chat({room, text})  -> socket.to("chat:" + room).emit("chat", {room, from, text}),
//                          ack {ok, delivered} (delivered: local recipients only, see below)
//   who(room)           -> io.in("chat:" + room).fetchSockets() ids, ack {ok, sockets}
//   ssping()            -> io.serverSideEmitWithAck("ping"), ack {ok, answers}
//   server-side "ping"  -> answered {node: "node"}
//
// plus events only this node offers, to drive the fleet from the node side:
//
//   askall(room)        -> io.to("chat:" + room).timeout(3000).emitWithAck("q"), ack {ok, answers}
//   joinall({room, to}) -> io.in("chat:" + room).socketsJoin("chat:" + to), ack {ok}
//   kick(room)          -> io.in("chat:" + room).disconnectSockets(), ack {ok}
//   whois(room)         -> io.in("chat:" + room).fetchSockets(), ack {ok, sockets: [{id, rooms,
//                          handshake}]} (the RemoteSockets as this node sees them)
//   shout(text)         -> io.emit("shout", {text}) (to everyone, every node), ack {ok}
//   leaveall({room, from}) -> io.in("chat:" + room).socketsLeave("chat:" + from), ack {ok}
//   allrooms()          -> io.of("/").adapter.allRooms(), ack {ok, rooms}
//
// Usage: node fleet-server.js PORT REDIS_URL [HOST]   (HOST default 127.0.0.1; prints
// "listening PORT uid" when ready)

const http = require('http');
const { Server } = require('socket.io');
const { createClient } = require('redis');
const { createAdapter } = require('@socket.io/redis-adapter');

// Logged, not fatal: node ends the process on an unhandled rejection, and redis-adapter
// 8.3.0 publishes a broadcast without handling the promise (`this.pubClient.publish(channel,
// msg)`), which node-redis rejects with SocketClosedUnexpectedlyError when Redis drops the
// connection under it: without this, the outage check ends this server.
process.on('unhandledRejection', (e) => console.error('unhandled rejection:', e && e.message));

const PREFIX = 'chat:';
const NAME = /^[\p{L}\p{N} ._-]{1,32}$/u;

function validRoom(r) {
  return typeof r === 'string' && NAME.test(r) && r.trim() === r;
}

function roomsOf(socket) {
  return [...socket.rooms].filter((r) => r.startsWith(PREFIX)).map((r) => r.slice(PREFIX.length)).sort();
}

async function main() {
  const port = Number(process.argv[2]);
  const url = process.argv[3];
  const host = process.argv[4] || '127.0.0.1';
  if (!port || !url) {
    console.error('usage: node fleet-server.js PORT REDIS_URL');
    process.exit(2);
  }
  const pub = createClient({ url });
  const sub = pub.duplicate();
  pub.on('error', (e) => console.error('pub error', e.message));
  sub.on('error', (e) => console.error('sub error', e.message));
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });

  io.on('ping', (...args) => {
    const cb = args.pop();
    if (typeof cb === 'function') cb({ node: 'node' });
  });

  io.on('connection', (socket) => {
    const auth = socket.handshake.auth || {};
    const from = typeof auth.name === 'string' && NAME.test(auth.name) && auth.name.length <= 24
      ? auth.name
      : 'guest-' + socket.id.slice(0, 6);
    const reply = (cb, fields) => { if (typeof cb === 'function') cb({ ok: true, ...fields }); };
    const refuse = (cb, error) => { if (typeof cb === 'function') cb({ ok: false, error }); };
    const guarded = (cb, f) => Promise.resolve().then(f).then(
      (fields) => reply(cb, fields),
      (e) => refuse(cb, String((e && e.message) || e)),
    );

    socket.on('join', (room, cb) => {
      if (!validRoom(room)) return refuse(cb, 'bad room name');
      socket.join(PREFIX + room);
      reply(cb, { rooms: roomsOf(socket) });
    });
    socket.on('leave', (room, cb) => {
      if (!validRoom(room)) return refuse(cb, 'bad room name');
      socket.leave(PREFIX + room);
      reply(cb, { rooms: roomsOf(socket) });
    });
    socket.on('chat', (msg, cb) => {
      if (!msg || !validRoom(msg.room) || typeof msg.text !== 'string') return refuse(cb, 'bad arguments');
      if (!socket.rooms.has(PREFIX + msg.room)) return refuse(cb, 'not in that room');
      const target = PREFIX + msg.room;
      // Local recipients (the adapter does not count remote ones for a plain emit).
      const local = io.sockets.adapter.rooms.get(target);
      const delivered = local ? [...local].filter((id) => id !== socket.id).length : 0;
      socket.to(target).emit('chat', { room: msg.room, from, text: msg.text });
      reply(cb, { delivered });
    });
    socket.on('who', (room, cb) => guarded(cb, async () => {
      if (!validRoom(room)) throw new Error('bad room name');
      const sockets = await io.in(PREFIX + room).fetchSockets();
      return { sockets: sockets.map((s) => s.id) };
    }));
    socket.on('ssping', (cb) => guarded(cb, async () => ({
      answers: await io.serverSideEmitWithAck('ping'),
    })));
    socket.on('askall', (room, cb) => guarded(cb, async () => {
      if (!validRoom(room)) throw new Error('bad room name');
      return { answers: await io.to(PREFIX + room).timeout(3000).emitWithAck('q') };
    }));
    socket.on('joinall', (arg, cb) => guarded(cb, () => {
      if (!arg || !validRoom(arg.room) || !validRoom(arg.to)) throw new Error('bad arguments');
      io.in(PREFIX + arg.room).socketsJoin(PREFIX + arg.to);
      return {};
    }));
    socket.on('whois', (room, cb) => guarded(cb, async () => {
      if (!validRoom(room)) throw new Error('bad room name');
      const sockets = await io.in(PREFIX + room).fetchSockets();
      return { sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], handshake: s.handshake })) };
    }));
    socket.on('shout', (text, cb) => guarded(cb, () => {
      if (typeof text !== 'string') throw new Error('bad arguments');
      io.emit('shout', { text });
      return {};
    }));
    socket.on('leaveall', (arg, cb) => guarded(cb, () => {
      if (!arg || !validRoom(arg.room) || !validRoom(arg.from)) throw new Error('bad arguments');
      io.in(PREFIX + arg.room).socketsLeave(PREFIX + arg.from);
      return {};
    }));
    socket.on('allrooms', (cb) => guarded(cb, async () => ({
      rooms: [...(await io.of('/').adapter.allRooms())],
    })));
    socket.on('kick', (room, cb) => guarded(cb, () => {
      if (!validRoom(room)) throw new Error('bad room name');
      io.in(PREFIX + room).disconnectSockets();
      return {};
    }));
  });

  await new Promise((r) => httpServer.listen(port, host, r));
  console.log(`listening ${port} ${io.of('/').adapter.uid}`);
  const stop = () => {
    io.close();
    Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(e && e.stack);
  process.exit(1);
});
