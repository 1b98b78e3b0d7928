#!/usr/bin/env node
// The interop app of APP.md on a real node socket.io server.
//
//   node reference-server.js VERSION PORT [--no-eio3] [--pidfile FILE]
//
// VERSION: `4` → socket.io 4.8.4 (Socket.IO protocol 5 over Engine.IO 4, and with
//   `allowEIO3: true` protocol 4 over Engine.IO 3 for socket.io-client 2.x);
//   `2` → socket.io 2.5.1 (Socket.IO protocol 4 over Engine.IO 3 only).
// PORT: 0 picks a free port. `--no-eio3` (VERSION 4 only) leaves allowEIO3 off, the
//   default of socket.io 4, to show that socket.io-client 2.x is then refused.
// `--pidfile FILE` writes the process id there (restart-reference.sh uses it).
// Prints `listening <port>` once ready; exits 0 on SIGTERM or SIGINT.
'use strict';
const http = require('http');
const fs = require('fs');

const version = process.argv[2];
const port = Number(process.argv[3] || 0);
const noEio3 = process.argv.includes('--no-eio3');
const pidfileAt = process.argv.indexOf('--pidfile');
if (pidfileAt > 0) fs.writeFileSync(process.argv[pidfileAt + 1], String(process.pid));
if (version !== '4' && version !== '2') {
  console.error('usage: node reference-server.js 4|2 PORT [--no-eio3] [--pidfile FILE]');
  process.exit(2);
}

// APP.md "Options": the v5 spec's test-suite server options.
const OPTIONS = {
  path: '/socket.io/',
  pingInterval: 300,
  pingTimeout: 200,
  // The spec's test-suite server passes `maxPayload: 1000000`; the option socket.io reads is
  // maxHttpBufferSize (engine.io announces it as `maxPayload` in the v4 handshake).
  maxHttpBufferSize: 1000000,
};

// Query keys that belong to Engine.IO, not to the app (APP.md "auth").
const ENGINE_KEYS = ['EIO', 'transport', 't', 'sid', 'b64', 'j'];
function withoutEngineKeys(query) {
  const out = {};
  for (const [k, v] of Object.entries(query || {})) if (!ENGINE_KEYS.includes(k)) out[k] = v;
  return out;
}

const httpServer = http.createServer();
let io;
let authOf;
let roomsOf;
let join;
let leave;

if (version === '4') {
  const { Server } = require('socket.io');
  io = new Server(httpServer, Object.assign({}, OPTIONS, {
    connectTimeout: 1000,
    cors: { origin: '*' },
    allowEIO3: !noEio3,
  }));
  // Protocol 5: handshake.auth is the CONNECT packet's payload. Protocol 4 (EIO=3): socket.io 4
  // puts the query of the CONNECT packet's namespace (`/custom?x=1`) in handshake.auth and
  // the Engine.IO request's query in handshake.query; socket.io 2 merges the two into
  // handshake.query (the CONNECT query wins). APP.md asks for that merge.
  authOf = (socket) => (socket.conn.protocol === 3
    ? withoutEngineKeys(Object.assign({}, socket.handshake.query, socket.handshake.auth))
    : socket.handshake.auth);
  roomsOf = (socket) => [...socket.rooms].filter((r) => r !== socket.id).sort();
  join = (socket, room, done) => { socket.join(room); done(); };
  leave = (socket, room, done) => { socket.leave(room); done(); };
} else {
  const Server = require('socket.io-v2');
  io = new Server(httpServer, Object.assign({}, OPTIONS, { origins: '*:*' }));
  authOf = (socket) => withoutEngineKeys(socket.handshake.query);
  roomsOf = (socket) => Object.keys(socket.rooms).filter((r) => r !== socket.id).sort();
  join = (socket, room, done) => socket.join(room, () => done());
  leave = (socket, room, done) => socket.leave(room, () => done());
}

function lastFn(args) {
  return typeof args[args.length - 1] === 'function' ? args.pop() : null;
}

// The full app (APP.md): on "/" and on the dynamic namespaces /dyn-<digits>.
function fullApp(socket) {
  socket.emit('auth', authOf(socket));
  socket.on('message', (...args) => {
    lastFn(args);
    socket.emit('message-back', ...args);
  });
  socket.on('message-with-ack', (...args) => {
    const ack = lastFn(args);
    if (ack) ack(...args);
  });
  socket.on('join', (room, ack) => {
    if (typeof room !== 'string') return;
    join(socket, room, () => { if (typeof ack === 'function') ack(roomsOf(socket)); });
  });
  socket.on('leave', (room, ack) => {
    if (typeof room !== 'string') return;
    leave(socket, room, () => { if (typeof ack === 'function') ack(roomsOf(socket)); });
  });
  socket.on('to-room', (room, payload) => {
    if (typeof room !== 'string') return;
    socket.to(room).emit('room-message', payload, socket.id);
  });
  socket.on('to-all', (payload) => {
    socket.nsp.emit('all-message', payload, socket.id);
  });
  socket.on('ask-client', (payload) => {
    socket.emit('question', payload, (...answer) => socket.emit('answer-was', ...answer));
  });
  socket.on('kick-me', () => {
    socket.disconnect();
  });
}

io.on('connection', fullApp);
io.of(/^\/dyn-\d+$/).on('connection', fullApp);
io.of('/custom').on('connection', (socket) => {
  socket.emit('auth', authOf(socket));
});
io.of('/refuse').use((socket, next) => {
  const err = new Error('refused');
  err.data = { code: 42 };
  next(err);
});
io.of('/refuse-plain').use((socket, next) => {
  next(new Error('refused'));
});

httpServer.listen(port, '127.0.0.1', () => {
  console.log('listening ' + httpServer.address().port);
});

function stop() {
  // io.close() ends every Engine.IO session (no Socket.IO DISCONNECT packet: clients see the
  // transport close and reconnect) and the HTTP server; exit even if a socket lingers.
  setTimeout(() => process.exit(0), 1000).unref();
  io.close(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
