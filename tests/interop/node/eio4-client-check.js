#!/usr/bin/env node
// Real-peer check: the unmodified engine.io-client 6.6 (protocol v4, node) against an
// Engine.io echo server — `pushwire serve --reference-apps` (the v4 spec's test-suite server:
// pingInterval 300, pingTimeout 200, maxPayload 1e6, CORS *), or the chat of `pushwire serve`
// for the echo modes (a lone client gets its own messages back).
//
//   node eio4-client-check.js http://127.0.0.1:3000 MODE
//
// MODE:
//   polling | websocket | upgrade — text (ASCII, astral, CJK, U+2028, empty, 5,000
//     characters) and binary messages sent, each echoed exactly once
//     and in order; `upgrade` sends before, during and after the upgrade and requires it.
//   heartbeat-polling | heartbeat-websocket — stays open over several ping intervals: at
//     least 4 server pings answered, messages still echoed, no close.
//   maxpayload-polling | maxpayload-websocket — a message over maxPayload (1,000,000 bytes):
//     the client must see its session closed; then the sid must be refused or closed by the
//     server (a raw poll gets the close packet `1` or a 400).
// Prints one JSON line; exit code 0 on success.
'use strict';
const { Socket } = require('engine.io-client-v6');
const http = require('http');

const url = process.argv[2] || 'http://127.0.0.1:3000';
const mode = process.argv[3] || 'polling';
const kind = mode.split('-')[0];
const transportArg = mode.includes('-') ? mode.split('-')[1] : mode;
const transports = { polling: ['polling'], websocket: ['websocket'], upgrade: ['polling', 'websocket'] }[transportArg];
if (!transports) {
  console.error('unknown mode ' + mode);
  process.exit(2);
}

// (No text with U+001E: it is v4's payload separator, which the protocol cannot carry on
// polling — engine.io-parser 5 splits on it too.)
const messages = ['hello', '😀 astral 🎉', '中文字', 'line\u2028sep', '', 'x'.repeat(5000),
  Buffer.from([0, 1, 2, 254, 255]), 'b4AQID', '4:4', Buffer.alloc(1000, 0xa5), 'last'];

const socket = new Socket(url, { transports });
let upgraded = false;
let pings = 0;
let closed = null;
const got = [];
let finished = false;
const timer = setTimeout(() => finish('timeout'), kind === 'heartbeat' ? 15000 : 10000);

function same(a, b) {
  if (Buffer.isBuffer(a)) return (Buffer.isBuffer(b) || b instanceof ArrayBuffer || ArrayBuffer.isView(b)) && Buffer.compare(a, Buffer.from(b)) === 0;
  // engine.io-parser 5 drops the data of a one-character packet: '' arrives as undefined.
  if (a === '') return b === undefined || b === '';
  return a === b;
}

function report(ok, err, extra) {
  console.log(JSON.stringify(Object.assign({
    client: 'engine.io-client 6.6 (EIO=4)', ok, mode, upgraded, pings, error: err || null, closed,
    transport: socket.transport && socket.transport.name, sent: messages.length, received: got.length,
    mismatches: messages.map((m, i) => (same(m, got[i]) ? null : { i, sent: String(m).slice(0, 40), got: String(got[i]).slice(0, 40) })).filter(Boolean),
  }, extra || {})));
  setTimeout(() => process.exit(ok ? 0 : 1), 100);
}

function finish(err) {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  const ok = !err && got.length === messages.length && messages.every((m, i) => same(m, got[i]))
    && (transportArg !== 'upgrade' || upgraded) && (kind !== 'heartbeat' || pings >= 4);
  socket.close();
  report(ok, err);
}

// A raw poll with the session's id, after the session is gone: the close packet or a 400.
function rawPoll(sid, cb) {
  const req = http.get(`${url}/engine.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => { body += c; });
    res.on('end', () => cb(res.statusCode, body));
  });
  req.on('error', (e) => cb(0, String(e)));
}

if (kind === 'maxpayload') {
  let sid = null;
  socket.on('open', () => {
    sid = socket.id;
    // 1,000,001 bytes of data: over maxPayload on its own.
    socket.send('y'.repeat(1000001));
  });
  socket.on('message', (m) => got.push(m));
  socket.on('close', (reason) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    closed = reason;
    rawPoll(sid, (status, body) => {
      const refused = status === 400 || (status === 200 && body === '1');
      report(refused && got.length === 0, refused ? null : 'session still served', { sent: 1, received: got.length, mismatches: [], after: { status, body: body.slice(0, 80) } });
    });
  });
  return;
}

socket.on('upgrade', () => { upgraded = true; });
socket.on('ping', () => { pings++; });
socket.on('open', () => {
  if (transportArg !== 'upgrade') {
    if (kind === 'heartbeat') {
      // Half now, half after several heartbeats.
      const half = Math.ceil(messages.length / 2);
      messages.slice(0, half).forEach((m) => socket.send(m));
      setTimeout(() => messages.slice(half).forEach((m) => socket.send(m)), 1500);
      return;
    }
    for (const m of messages) socket.send(m);
    return;
  }
  const third = Math.ceil(messages.length / 3);
  messages.slice(0, third).forEach((m) => socket.send(m));
  socket.once('upgrading', () => messages.slice(third, 2 * third).forEach((m) => socket.send(m)));
  socket.once('upgrade', () => messages.slice(2 * third).forEach((m) => socket.send(m)));
});
socket.on('message', (m) => {
  got.push(m);
  if (got.length === messages.length && (kind !== 'heartbeat' || pings >= 4)) finish();
});
socket.on('ping', () => {
  if (kind === 'heartbeat' && got.length === messages.length && pings >= 4) finish();
});
socket.on('error', (e) => finish('error: ' + e));
socket.on('close', (r) => { closed = r; finish('closed: ' + r); });
