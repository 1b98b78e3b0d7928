#!/usr/bin/env node
// Real-peer check: the unmodified engine.io-client 3.5.6 (node) against the pushwire
// echo server (crates/engineio/examples/echo_server.rs).
//
//   cargo run -p pushwire-engineio --example echo_server -- 127.0.0.1:3000 &
//   node eio-client-echo.js http://127.0.0.1:3000 [PONGS] [polling|websocket|upgrade]
//
// MODE polling (default): polling only; websocket: websocket only; upgrade: polling, then
// the probe and upgrade to websocket, with messages sent before, during and after it.
//
// With PONGS, also waits for that many ping/pong heartbeats (start the server with a short
// ping interval, e.g. `-- 127.0.0.1:3000 300`).
// Sends text (ASCII, astral, CJK, U+2028, empty, 5,000 characters) and binary messages,
// expects each echoed exactly once and in order, then closes. Exit code 0 on success.
'use strict';
const eio = require('engine.io-client');

const url = process.argv[2] || 'http://127.0.0.1:3000';
const wantPongs = Number(process.argv[3] || 0);
let pongs = 0;
const messages = ['hello', '😀 astral 🎉', '中文字', 'line\u2028sep', '', 'x'.repeat(5000),
  Buffer.from([0, 1, 2, 254, 255]), 'b4AQID', '1:2', '🇫🇷👩‍👩‍👧 𠀀 終', Buffer.alloc(1000, 0xa5), 'last'];

const mode = process.argv[4] || 'polling';
const transports = { polling: ['polling'], websocket: ['websocket'], upgrade: ['polling', 'websocket'] }[mode];
const socket = eio(url, { transports });
let upgraded = false;
socket.on('upgrade', () => { upgraded = true; });
const got = [];
const timer = setTimeout(() => finish('timeout'), 10000 + wantPongs * 2000);

function same(a, b) {
  if (Buffer.isBuffer(a)) return (Buffer.isBuffer(b) || b instanceof ArrayBuffer) && Buffer.compare(a, Buffer.from(b)) === 0;
  // engine.io-parser 2.x drops the data of a one-character packet: '' arrives as undefined.
  if (a === '') return b === undefined || b === '';
  return a === b;
}

function finish(err) {
  clearTimeout(timer);
  const ok = !err && got.length === messages.length && messages.every((m, i) => same(m, got[i]))
    && (mode !== 'upgrade' || upgraded);
  console.log(JSON.stringify({
    ok, mode, upgraded, error: err || null, pongs, transport: socket.transport && socket.transport.name,
    sent: messages.length, received: got.length,
    mismatches: messages.map((m, i) => (same(m, got[i]) ? null : { i, sent: String(m).slice(0, 40), got: String(got[i]).slice(0, 40) })).filter(Boolean),
  }));
  socket.close();
  setTimeout(() => process.exit(ok ? 0 : 1), 100);
}

socket.on('open', () => {
  if (mode !== 'upgrade') {
    for (const m of messages) socket.send(m);
    return;
  }
  // Before the probe, while upgrading, and after the upgrade.
  const third = Math.ceil(messages.length / 3);
  messages.slice(0, third).forEach((m) => socket.send(m));
  socket.once('upgrading', () => messages.slice(third, 2 * third).forEach((m) => socket.send(m)));
  socket.once('upgrade', () => messages.slice(2 * third).forEach((m) => socket.send(m)));
});
const done = () => got.length === messages.length && pongs >= wantPongs;
socket.on('message', (m) => {
  got.push(m);
  if (done()) finish();
});
socket.on('pong', () => {
  pongs++;
  if (done()) finish();
});
socket.on('error', (e) => finish('error: ' + e));
socket.on('close', (r) => { if (got.length < messages.length) finish('closed: ' + r); });
