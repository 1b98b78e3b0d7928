#!/usr/bin/env node
// The engine.io 6.6 server (protocol v4, with allowEIO3 for v3 clients) as an echo peer for
// pushwire-tokio's Engine.io client (crates/tokio/examples/eio_client_check.rs).
//
//   node eio6-server-echo.js [PORT] [PING_INTERVAL_MS] [PING_TIMEOUT_MS]
//
// Echoes every message; logs connections, upgrades and closes on stderr.
'use strict';
const http = require('http');
const { attach } = require('engine.io-v6');

const port = Number(process.argv[2] || 3002);
const pingInterval = Number(process.argv[3] || 300);
const pingTimeout = Number(process.argv[4] || 200);
const httpServer = http.createServer();
const server = attach(httpServer, { pingInterval, pingTimeout, maxPayload: 1e6, allowEIO3: true });
server.on('connection', (socket) => {
  console.error('connection', socket.id, 'EIO=' + socket.protocol, socket.transport.name);
  socket.on('upgrade', () => console.error('upgrade', socket.id));
  socket.on('message', (m) => socket.send(m));
  socket.on('close', (reason) => console.error('close', socket.id, reason));
});
httpServer.listen(port, '127.0.0.1', () => console.error('listening', port));
