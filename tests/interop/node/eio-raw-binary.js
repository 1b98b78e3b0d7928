#!/usr/bin/env node
// Real-peer check of binary polling against the pushwire echo server
// (crates/engineio/examples/echo_server.rs), with hand-made HTTP requests, because
// engine.io-client 3.x under node always polls with `b64=1` (INTEROP.md). Every payload is
// written and read by the reference, engine.io-parser 2.2.1; the websocket is node `ws`.
//
//   cargo run -p pushwire-engineio --example echo_server -- 127.0.0.1:3000 &
//   node eio-raw-binary.js http://127.0.0.1:3000 [xhr2|b64]
//
// xhr2: requests without `b64`; POST bodies are XHR2 binary payloads
//   (`Content-Type: application/octet-stream`), and poll responses carrying binary must be
//   XHR2 payloads too; on the websocket, binary goes as binary frames.
// b64:  every request with `b64=1`; POST bodies are text payloads with base64 packets
//   (`10:b4AAEC/v8=`), poll responses must be text; on the websocket, binary goes as
//   base64 text frames.
//
// Messages (emoji, CJK, empty, binary of several sizes, text that looks like packets) are
// sent in three groups: by POST before the upgrade, by POST while the websocket probe is
// pending, and on the websocket after the upgrade. Each must come back exactly once and in
// order (polling responses, then the websocket). Prints a JSON line; exit code 0 on success.
'use strict';
const http = require('http');
const parser = require('engine.io-parser');
const WebSocket = require('ws');

const base = process.argv[2] || 'http://127.0.0.1:3000';
const mode = process.argv[3] || 'xhr2';
const b64 = mode === 'b64';
const bin = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255));
const messages = [
  '😀 astral 🎉', '中文字 𠀀', bin(5, 1), '', 'plain', bin(0, 0), '4:b4AQ', bin(300, 7),
  '\u2028\u2029', bin(1, 255), '🇫🇷👩‍👩‍👧', 'x'.repeat(3000) + '😀', bin(70000, 3), 'last 終',
];
const third = Math.ceil(messages.length / 3);
const groups = [messages.slice(0, third), messages.slice(third, 2 * third), messages.slice(2 * third)];
const packet = (data) => ({ type: 'message', data });

const got = [];
const seen = { pollContentTypes: {}, wsTextFrames: 0, wsBinaryFrames: 0, noops: 0 };
let sid = null;
let upgraded = false;

function request(method, query, body, contentType) {
  return new Promise((resolve, reject) => {
    const url = new URL(`/engine.io/?EIO=3&transport=polling${b64 ? '&b64=1' : ''}${query}&t=${Date.now()}`, base);
    const headers = body ? { 'Content-Type': contentType, 'Content-Length': body.length } : {};
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] || '', body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// Decodes a poll response with the reference: XHR2 when octet-stream, else text.
function decodeResponse(r) {
  const out = [];
  const kind = r.type.startsWith('application/octet-stream') ? 'xhr2' : 'text';
  seen.pollContentTypes[kind] = (seen.pollContentTypes[kind] || 0) + 1;
  if (kind === 'xhr2') parser.decodePayloadAsBinary(r.body, (p) => { out.push(p); });
  else parser.decodePayload(r.body.toString('utf8'), (p) => { out.push(p); });
  return out;
}

function take(packets) {
  for (const p of packets) {
    if (p.type === 'error') throw new Error('reference could not decode a response');
    if (p.type === 'message') got.push(p.data);
    else if (p.type === 'noop') seen.noops++;
  }
}

function post(group) {
  const ps = group.map(packet);
  let body; let type;
  if (b64) {
    parser.encodePayload(ps, false, (s) => { body = Buffer.from(s, 'utf8'); });
    type = 'text/plain;charset=UTF-8';
  } else {
    parser.encodePayloadAsBinary(ps, (b) => { body = b; });
    type = 'application/octet-stream';
  }
  return request('POST', `&sid=${sid}`, body, type).then((r) => {
    if (r.status !== 200 || r.body.toString() !== 'ok') throw new Error(`POST answered ${r.status} ${r.body}`);
  });
}

async function pollUntil(count) {
  while (got.length < count && !upgraded) {
    const r = await request('GET', `&sid=${sid}`);
    if (r.status !== 200) throw new Error(`poll answered ${r.status} ${r.body}`);
    take(decodeResponse(r));
  }
}

function same(a, b) {
  if (Buffer.isBuffer(a)) return (Buffer.isBuffer(b) || b instanceof ArrayBuffer) && Buffer.compare(a, Buffer.from(b)) === 0;
  // engine.io-parser 2.x drops the data of a one-character packet: '' arrives as undefined.
  if (a === '') return b === undefined || b === '';
  return a === b;
}

async function main() {
  // Handshake (a text payload either way: no binary in it).
  const open = await request('GET', '');
  const hs = decodeResponse(open);
  if (!hs.length || hs[0].type !== 'open') throw new Error(`bad handshake ${open.body}`);
  sid = JSON.parse(hs[0].data).sid;

  // 1. Polling: POST, then poll until the echoes are back.
  await post(groups[0]);
  await pollUntil(groups[0].length);

  // 2. The probe: a poll is held when the websocket says 2probe; the second group goes by
  //    POST while the probe is pending. As engine.io-client does, once 3probe is in, polling
  //    stops after the poll in flight returns (released with a noop, or carrying echoes),
  //    then 5 switches the session to the websocket, which gets whatever is still buffered.
  const held = request('GET', `&sid=${sid}`).then((r) => take(decodeResponse(r)));
  const wsUrl = `${base.replace(/^http/, 'ws')}/engine.io/?EIO=3&transport=websocket&sid=${sid}${b64 ? '&b64=1' : ''}`;
  const ws = new WebSocket(wsUrl);
  const wsPackets = [];
  let onWs = null;
  ws.on('message', (data, isBinary) => {
    if (isBinary) seen.wsBinaryFrames++; else seen.wsTextFrames++;
    const p = parser.decodePacket(isBinary ? Buffer.from(data) : data.toString('utf8'));
    wsPackets.push(p);
    if (onWs) onWs();
  });
  const wsWait = (pred) => new Promise((resolve) => {
    const check = () => { if (pred()) { onWs = null; resolve(); } };
    onWs = check;
    check();
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send('2probe');
  await post(groups[1]);
  await wsWait(() => wsPackets.some((p) => p.type === 'pong' && p.data === 'probe'));
  await held;
  ws.send('5');
  upgraded = true;

  // 3. Websocket: the third group as frames (binary frames for xhr2, base64 text for b64).
  for (const m of groups[2]) {
    parser.encodePacket(packet(m), !b64, false, (enc) => ws.send(enc));
  }
  const messagesOnWs = () => wsPackets.filter((p) => p.type === 'message').length;
  await Promise.race([
    wsWait(() => got.length + messagesOnWs() >= messages.length),
    new Promise((resolve) => setTimeout(resolve, 5000)),
  ]);
  for (const p of wsPackets) if (p.type === 'message') got.push(p.data);
  ws.send('1');
  ws.close();
}

function finish(err) {
  const ok = !err && got.length === messages.length && messages.every((m, i) => same(m, got[i]))
    && (b64 ? !seen.pollContentTypes.xhr2 && seen.wsBinaryFrames === 0
      : seen.pollContentTypes.xhr2 > 0 && seen.wsBinaryFrames > 0);
  console.log(JSON.stringify({
    ok, mode, error: err ? String(err) : null, sent: messages.length, received: got.length, ...seen,
    mismatches: messages.map((m, i) => (same(m, got[i]) ? null
      : { i, sent: String(m).slice(0, 40), got: String(got[i]).slice(0, 40) })).filter(Boolean),
  }));
  process.exit(ok ? 0 : 1);
}

const timer = setTimeout(() => finish('timeout'), 20000);
main().then(() => { clearTimeout(timer); finish(null); }, (e) => { clearTimeout(timer); finish(e); });
