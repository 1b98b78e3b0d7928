// socket.io servers for pushwire-tokio's Socket.IO client check
// (crates/tokio/examples/sio_client_check.rs).
//
//   node server.js <port> [v4|v2]
//
// v4: socket.io 4.8.1 (protocol 5, Engine.io 4), pingInterval 300 ms, pingTimeout 200 ms.
// v2: socket.io 2.5.1 (protocol 4, Engine.io 3), the same timings.
// Namespaces `/` and `/custom` behave alike:
//   on connection     emit `auth` with the handshake's auth (v2: its query)
//   `message`         emit `message-back` with the same arguments
//   `message-with-ack` answer the ack with the same arguments
//   `ask-client`      emit `question` with an ack callback, then emit `answer-was` with
//                     the client's answer
//   `kick-me`         disconnect this namespace's socket from the server side
//   `custom-count`    answer the ack with the number of sockets connected to `/custom`
// Prints "listening <port>" once it listens.
'use strict';

const port = Number(process.argv[2] || 3100);
const flavour = process.argv[3] || 'v4';
const opts = { pingInterval: 300, pingTimeout: 200 };

function handlers(socket, auth, customCount) {
  socket.emit('auth', auth);
  socket.on('message', (...args) => socket.emit('message-back', ...args));
  socket.on('message-with-ack', (...args) => {
    const cb = args.pop();
    if (typeof cb === 'function') cb(...args);
  });
  socket.on('ask-client', () => {
    socket.emit('question', 'what is the answer?', (...answer) => {
      socket.emit('answer-was', ...answer);
    });
  });
  socket.on('kick-me', () => socket.disconnect());
  socket.on('custom-count', (cb) => {
    if (typeof cb === 'function') cb(customCount());
  });
}

let io;
if (flavour === 'v2') {
  io = require('socket.io-v2')(port, opts);
  const onConn = (socket) => {
    const q = Object.assign({}, socket.handshake.query);
    // engine.io's own query parameters are not auth.
    delete q.EIO; delete q.transport; delete q.t; delete q.sid; delete q.b64;
    handlers(socket, q, () => Object.keys(io.of('/custom').connected).length);
  };
  io.of('/').on('connection', onConn);
  io.of('/custom').on('connection', onConn);
} else {
  const { Server } = require('socket.io');
  io = new Server(port, opts);
  const onConn = (socket) =>
    handlers(socket, socket.handshake.auth, () => io.of('/custom').sockets.size);
  io.of('/').on('connection', onConn);
  io.of('/custom').on('connection', onConn);
}
console.log(`listening ${port} ${flavour}`);
