#!/usr/bin/env node
// Real-peer check: node `ws` 8.x clients against `pushwire serve` (/ws/echo, /ws/chat,
// handshake rejections). Prints one line per check and "N passed, N failed"; exit 1 on any
// failure.
//
//   pushwire serve --addr 127.0.0.1:8080 &
//   node ws-node.js 127.0.0.1:8080
'use strict';
const WebSocket = require('ws');
const http = require('http');

const addr = process.argv[2] || '127.0.0.1:8080';
let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail !== undefined ? ': ' + detail : ''}`);
}

function open(path, opts) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${addr}${path}`, opts);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const next = ws => new Promise(resolve => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
const closed = ws => new Promise(resolve => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))]);

function rawGet(path, headers) {
  return new Promise(resolve => {
    const req = http.request({ host: addr.split(':')[0], port: Number(addr.split(':')[1]), path, headers });
    req.on('response', res => { resolve(res.statusCode); res.resume(); });
    req.on('upgrade', res => { resolve(res.statusCode); });
    req.on('error', e => resolve(String(e)));
    req.end();
  });
}

async function step(name, f) {
  try { await withTimeout(f(), 15000, name); } catch (e) { check(name, false, e.message); }
}

(async () => {
  await step('echo', async () => {
    // permessage-deflate is offered by default by ws; pushwire serve agrees to it.
    const ws = await open('/ws/echo');
    check('echo: permessage-deflate agreed', ws.extensions.startsWith('permessage-deflate'), JSON.stringify(ws.extensions));
    for (const text of ['hello', '😀 astral 🎉 中文字', '', 'x'.repeat(70000)]) {
      ws.send(text);
      const m = await next(ws);
      check(`echo text (${text.length} chars)`, !m.isBinary && m.data.toString() === text);
    }
    for (const bin of [Buffer.from([0, 1, 2, 254, 255]), Buffer.alloc(0), Buffer.alloc(1 << 20, 7)]) {
      ws.send(bin);
      const m = await next(ws);
      check(`echo binary (${bin.length} bytes)`, m.isBinary && Buffer.compare(m.data, bin) === 0);
    }
    // A fragmented message: three frames, reassembled by pushwire, echoed whole.
    ws.send('frag', { fin: false });
    ws.send('men', { fin: false });
    ws.send('ted', { fin: true });
    const f = await next(ws);
    check('echo fragmented text', f.data.toString() === 'fragmented', f.data.toString());
    const pong = new Promise(resolve => ws.once('pong', d => resolve(d.toString())));
    ws.ping('are you there');
    check('ping answered with pong', (await pong) === 'are you there');
    const c = closed(ws);
    ws.close(4000, 'done');
    const got = await c;
    check('close code echoed', got.code === 4000, `${got.code} ${got.reason}`);
  });

  await step('oversize', async () => {
    const ws = await open('/ws/chat');
    const c = closed(ws);
    ws.send(Buffer.alloc(100 * 1024)); // over the chat's 64 KiB limit
    const got = await c;
    check('oversize chat message closed with 1009', got.code === 1009, got.code);
  });

  await step('invalid utf-8', async () => {
    const ws = await open('/ws/echo');
    const c = closed(ws);
    // ws does not validate what it sends with binary: false on a Buffer.
    ws.send(Buffer.from([0xc3, 0x28]), { binary: false });
    const got = await c;
    check('invalid UTF-8 text closed with 1007', got.code === 1007, got.code);
  });

  await step('chat', async () => {
    const a = await open('/ws/chat');
    const b = await open('/ws/chat');
    await new Promise(r => setTimeout(r, 100));
    const ma = next(a), mb = next(b);
    a.send('hi all');
    const [ra, rb] = await Promise.all([ma, mb]);
    check('chat reaches the sender', ra.data.toString() === 'hi all');
    check('chat reaches the other client', rb.data.toString() === 'hi all');
    const mb2 = next(b);
    a.send(Buffer.from([9, 8, 7]));
    const rb2 = await mb2;
    check('chat binary', rb2.isBinary && Buffer.compare(rb2.data, Buffer.from([9, 8, 7])) === 0);
    a.close(); b.close();
  });

  await step('handshake', async () => {
    check('GET without Upgrade -> 400', (await rawGet('/ws/echo', {})) === 400);
    const v8 = await rawGet('/ws/echo', { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' });
    check('Sec-WebSocket-Version 8 -> 426', v8 === 426, v8);
    const good = await rawGet('/ws/echo', { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' });
    check('valid handshake -> 101', good === 101, good);
    check('unknown path -> 404', (await rawGet('/ws/nope', {})) === 404);
  });

  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
