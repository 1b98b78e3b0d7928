#!/usr/bin/env node
// Real-peer check: node `ws` 8.x clients with permessage-deflate (its default for clients:
// `perMessageDeflate: true`, messages of 1,024 bytes or more compressed) against pushwire-ws's
// server role with permessage-deflate (crates/ws/examples/deflate_peer.rs serve).
//
// Checks the negotiated extension (`ws.extensions` and the response header), that messages roundtrip, and that RSV1 was
// really used both ways: server -> client by reading the frame headers off the raw socket,
// client -> server from the server's `pushwire:stats` answer. A second client offers
// `server_no_context_takeover; client_no_context_takeover` with a window of 10 bits and a
// threshold of 0. Prints one line per check and "N passed, N failed"; exit 1 on any failure.
//
//   node ws-deflate.js 127.0.0.1:9002
'use strict';
const WebSocket = require('ws');

const addr = process.argv[2] || '127.0.0.1:9002';
let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail !== undefined ? ': ' + detail : ''}`);
}
const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))]);

// Frame headers of the server's (unmasked) frames, parsed from the raw byte stream.
function tapFrames(socket) {
  const frames = [];
  let buf = Buffer.alloc(0);
  let skip = 0; // payload bytes of the current frame still to come
  socket.on('data', chunk => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buf.length);
        buf = buf.subarray(n); skip -= n;
        if (skip > 0) return;
      }
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      frames.push({ fin: !!(buf[0] & 0x80), rsv1: !!(buf[0] & 0x40), opcode: buf[0] & 0x0f, len });
      buf = buf.subarray(off); skip = len;
    }
  });
  return frames;
}

function open(opts) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${addr}/`, opts);
    ws.once('upgrade', res => {
      ws._tap = tapFrames(res.socket);
      ws._extHeader = res.headers['sec-websocket-extensions'] || '';
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const next = ws => new Promise(resolve => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));

async function roundtrip(ws, msg, name) {
  const p = next(ws);
  ws.send(msg);
  const m = await p;
  const ok = typeof msg === 'string' ? (!m.isBinary && m.data.toString() === msg)
    : (m.isBinary && Buffer.compare(m.data, msg) === 0);
  check(name, ok, ok ? undefined : `${m.data.length} bytes back`);
}

async function stats(ws) {
  const p = next(ws);
  ws.send('pushwire:stats');
  return JSON.parse((await p).data.toString());
}

const ticks = JSON.stringify(Array.from({ length: 40 }, (_, i) => ({ seq: i, event: 'tick', price: `${100 + i * 7}.${String(i).padStart(2, '0')}` })));
let seed = 12345;
const noise = Buffer.from(Array.from({ length: 3000 }, () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 24; }));

async function session(name, opts, expectExt) {
  const ws = await open(opts);
  // ws.extensions names the accepted extensions; the parameters are in the response header.
  check(`${name}: negotiated`, ws.extensions === 'permessage-deflate' && expectExt(ws._extHeader),
    `ws.extensions '${ws.extensions}', Sec-WebSocket-Extensions: ${ws._extHeader}`);
  for (let i = 0; i < 3; i++) await roundtrip(ws, ticks, `${name}: JSON text #${i} (${ticks.length} bytes)`);
  await roundtrip(ws, noise, `${name}: incompressible binary (3,000 bytes)`);
  await roundtrip(ws, ticks, `${name}: JSON text after it`);
  await roundtrip(ws, 'hi', `${name}: short text`);
  await roundtrip(ws, '😀 astral 🎉 中文字 '.repeat(200), `${name}: non-ASCII text`);
  const big = ticks.repeat(60);
  await roundtrip(ws, big, `${name}: large text (${big.length} bytes; echoed with send_fragmented)`);
  await roundtrip(ws, 'stream:' + ticks.repeat(3), `${name}: text echoed with send_fragment (3 fragments)`);
  // A fragmented compressed message from ws (each send({fin:false}) is one frame).
  const p = next(ws);
  ws.send(ticks.slice(0, 700), { fin: false });
  ws.send(ticks.slice(700, 1400), { fin: false });
  ws.send(ticks.slice(1400), { fin: true });
  const f = await p;
  check(`${name}: fragmented compressed message from ws`, f.data.toString() === ticks);
  const s = await stats(ws);
  const firsts = ws._tap.filter(fr => fr.opcode === 1 || fr.opcode === 2);
  const conts = ws._tap.filter(fr => fr.opcode === 0);
  check(`${name}: server received compressed messages (RSV1)`, s.in_compressed >= 8, JSON.stringify(s));
  check(`${name}: server sent RSV1 on first frames, never on continuations`,
    firsts.filter(fr => fr.rsv1).length >= 8 && conts.length > 0 && conts.every(fr => !fr.rsv1),
    `${firsts.filter(fr => fr.rsv1).length} of ${firsts.length} first frames with RSV1, ${conts.length} continuations`);
  const c = new Promise(resolve => ws.once('close', code => resolve(code)));
  ws.close(1000, 'done');
  check(`${name}: close`, (await c) === 1000);
}

(async () => {
  try {
    await withTimeout(session('ws default', {}, () => true), 30000, 'default session');
    await withTimeout(session('ws no context takeover, 10-bit window', {
      perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10, threshold: 0 },
    }, e => e.includes('server_no_context_takeover') && e.includes('server_max_window_bits=10')), 30000, 'second session');
  } catch (e) {
    check('session', false, e.message);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
