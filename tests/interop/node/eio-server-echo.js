#!/usr/bin/env node
// The engine.io 3.6.2 server as an echo peer for pushwire's client session
// (crates/engineio/examples/echo_client.rs).
//
//   node eio-server-echo.js [PORT] [PING_INTERVAL_MS]
//
// Echoes every message; logs connections, closes and close reasons on stderr.
'use strict';
const http = require('http');
const engine = require('engine.io');

const port = Number(process.argv[2] || 3001);
const ping = Number(process.argv[3] || 25000);
const httpServer = http.createServer();
const server = engine.attach(httpServer, { pingInterval: ping, pingTimeout: ping });
server.on('connection', (socket) => {
  console.error('connection', socket.id, socket.transport.name);
  socket.on('message', (m) => socket.send(m));
  socket.on('close', (reason) => console.error('close', socket.id, reason));
});
httpServer.listen(port, '127.0.0.1', () => console.error('listening', port));
