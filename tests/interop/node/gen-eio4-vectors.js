#!/usr/bin/env node
// Differential fixture for pushwire-engineio's revision 4 (`pushwire_engineio::v4`): every
// expected value below is produced by the reference implementation, engine.io-parser 5.2.3
// (installed under the npm alias `engine.io-parser-v5`, beside 2.2.1 for revision 3), never
// by pushwire.
//
//   cd tests/interop/node && npm ci && node gen-eio4-vectors.js
//
// writes crates/engineio/tests/fixtures/eio4-vectors.json, read by
// crates/engineio/tests/differential.rs. Deterministic: a seeded PRNG, and the live
// engine.io 6.6.13 server's (npm alias `engine.io-v6`) session ids are fixed through
// `generateId`.
'use strict';

const fs = require('fs');
const path = require('path');
const parser = require('engine.io-parser-v5');

const { draws, TYPES, describePacket, isErr, encodedDesc, request } = require('./eio-common');

const OUT = path.join(__dirname, '..', '..', '..', 'crates', 'engineio', 'tests', 'fixtures', 'eio4-vectors.json');


// ASCII, digits (look like types), 'b' (looks like base64), base64 characters, 2-, 3- and
// 4-byte UTF-8, JSON-ish and escapes. No record separator: a payload cannot carry it.
const ALPHABET = ['a', 'Z', '0', '4', '9', ':', 'b', '=', '+', '/', ' ', '"', '\\', '\n', '\r', '\t', '\u0000',
  '\u001f', '\u007f', 'é', '€', '中', '😀', '🎉', '\u{10FFFF}', '\uFFFF', '\u2028', '{', '}', '[', ']', ','];

const { rand, pick, int, randText, randBytes } = draws(0x5eed4, ALPHABET);
// A packet revision 4 can carry: binary data only in a message.
function randPacket() {
  const r = rand();
  if (r < 0.1) return { type: pick(TYPES) };
  if (r < 0.6) return { type: pick(TYPES), data: randText() };
  return { type: 'message', data: randBytes() };
}

function encodePacket(p, supportsBinary) {
  let out;
  parser.encodePacket(p, supportsBinary, (r) => { out = r; });
  return out;
}
// engine.io-parser 5 never calls back for an empty list: null.
function encodePayload(ps) {
  let out = null;
  parser.encodePayload(ps, (r) => { out = r; });
  return out;
}
// decodePayload: the packets before its first error packet, and whether there was one.
function decodePayload(input) {
  const packets = [];
  let error = false;
  for (const p of parser.decodePayload(input)) {
    if (isErr(p)) { error = true; break; }
    packets.push(describePacket(p));
  }
  return { packets, error };
}

const fixture = {
  generator: 'tests/interop/node/gen-eio4-vectors.js',
  reference: {
    'engine.io-parser': JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', 'engine.io-parser-v5', 'package.json'), 'utf8')).version,
    protocol: parser.protocol,
    node: process.version,
  },
};

// ---------------------------------------------------------------- packets

const fixedPackets = [
  { name: 'spec 4hello', p: { type: 'message', data: 'hello' } },
  { name: 'spec binary 1..4', p: { type: 'message', data: Buffer.from([1, 2, 3, 4]) } },
  { name: 'ping', p: { type: 'ping' } },
  { name: 'pong', p: { type: 'pong' } },
  { name: 'ping probe', p: { type: 'ping', data: 'probe' } },
  { name: 'pong probe', p: { type: 'pong', data: 'probe' } },
  { name: 'upgrade', p: { type: 'upgrade' } },
  { name: 'noop', p: { type: 'noop' } },
  { name: 'close', p: { type: 'close' } },
  { name: 'message empty string', p: { type: 'message', data: '' } },
  { name: 'message no data', p: { type: 'message' } },
  { name: 'open json', p: { type: 'open', data: '{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}' } },
  { name: 'message euro', p: { type: 'message', data: '€' } },
  { name: 'message astral', p: { type: 'message', data: '😀🎉' } },
  { name: 'message with separator', p: { type: 'message', data: 'a\u001eb' } },
  { name: 'message socket.io event', p: { type: 'message', data: '2["tick",{"n":1}]' } },
  { name: 'binary empty', p: { type: 'message', data: Buffer.alloc(0) } },
  { name: 'binary starting with 4', p: { type: 'message', data: Buffer.from([0xe3, 0xef, 0xbe]) } },
  { name: 'binary 0..5', p: { type: 'message', data: Buffer.from([0, 1, 2, 3, 4, 5]) } },
  { name: 'binary long', p: { type: 'message', data: Buffer.alloc(3000, 7) } },
  { name: 'binary ping (type is dropped)', p: { type: 'ping', data: Buffer.from([0xff, 0xfe]) } },
  { name: 'binary Uint8Array', p: { type: 'message', data: new Uint8Array([9, 8, 7]) } },
];
const packetList = fixedPackets.slice();
for (let i = 0; i < 150; i++) packetList.push({ name: 'random packet ' + i, p: randPacket() });

fixture.packet_encode = packetList.map(({ name, p }) => ({
  name,
  packet: describePacket(ArrayBuffer.isView(p.data) && !Buffer.isBuffer(p.data) ? { type: p.type, data: Buffer.from(p.data) } : p),
  // encodePacket(packet, supportsBinary=false): the string form (polling, or b64=1).
  string: encodePacket(p, false),
  // encodePacket(packet, supportsBinary=true): what a WebSocket frame carries.
  frame: encodedDesc(encodePacket(p, true)),
}));

const stringPacketInputs = [
  '', '0', '1', '2', '2probe', '3probe', '4', '4hello', '5', '6', '7', '8x', '9', 'x', ' 4', '-1', 'B',
  '4😀', '😀', '€4', '42["ev",{}]', '\u001e', '4\u001e', 'b', 'bAQIDBA==', 'bAQID', 'bAQI', 'bAR==', 'bAQ=',
  'bA!==', 'bAQ==\n', 'b-_8=', 'b4', 'b4+++', 'b4AQIDBA==', 'b4AQID', 'b0', 'bAA==', 'b====', 'b AQ==',
  '0{"sid":"x"}', '6:4hello',
];
fixture.packet_decode_string = stringPacketInputs.map((input) => {
  const r = parser.decodePacket(input);
  return { name: JSON.stringify(input), input, result: isErr(r) ? 'error' : describePacket(r) };
});

const binaryPacketInputs = [[], [0], [4], [4, 1, 2], [6, 0], [7], [255, 1], [0x34, 0x61], [0x62, 0x41]];
fixture.packet_decode_binary = binaryPacketInputs.map((bytes) => {
  const r = parser.decodePacket(Buffer.from(bytes));
  return { name: JSON.stringify(bytes), input_hex: Buffer.from(bytes).toString('hex'), result: isErr(r) ? 'error' : describePacket(r) };
});

// ---------------------------------------------------------------- payloads

const fixedPayloads = [
  { name: 'empty list', ps: [] },
  { name: 'spec hello ping world', ps: [{ type: 'message', data: 'hello' }, { type: 'ping' }, { type: 'message', data: 'world' }] },
  { name: 'spec hello binary', ps: [{ type: 'message', data: 'hello' }, { type: 'message', data: Buffer.from([1, 2, 3, 4]) }] },
  { name: 'euro', ps: [{ type: 'message', data: '€' }] },
  { name: 'empty string message', ps: [{ type: 'message', data: '' }] },
  { name: 'two empty string messages', ps: [{ type: 'message', data: '' }, { type: 'message', data: '' }] },
  { name: 'astral', ps: [{ type: 'message', data: '😀' }, { type: 'message', data: 'a😀b🎉c' }] },
  { name: 'noop', ps: [{ type: 'noop' }] },
  { name: 'only binary empty', ps: [{ type: 'message', data: Buffer.alloc(0) }] },
  { name: 'long text and binary', ps: [{ type: 'message', data: 'x'.repeat(1234) }, { type: 'message', data: Buffer.alloc(3000, 7) }] },
  { name: 'close appended', ps: [{ type: 'message', data: 'bye' }, { type: 'close' }] },
  { name: 'text with separator', ps: [{ type: 'message', data: 'a\u001eb' }] },
];
const payloadList = fixedPayloads.slice();
for (let i = 0; i < 120; i++) {
  const ps = [];
  const n = pick([1, 1, 2, 3, 5, 8]);
  for (let j = 0; j < n; j++) ps.push(randPacket());
  payloadList.push({ name: 'random payload ' + i, ps });
}

fixture.payload_encode = payloadList.map(({ name, ps }) => {
  const payload = encodePayload(ps);
  return {
    name,
    packets: ps.map(describePacket),
    // encodePayload(packets): the \x1e-joined text payload (null: no callback).
    payload,
    // The reference decoding its own output.
    decoded: payload === null ? null : decodePayload(payload),
  };
});

const payloadInputs = [
  '', '\u001e', '\u001e\u001e', '4', '4hello', '4hello\u001e2\u001e4world', '4hello\u001ebAQIDBA==', '4a\u001e',
  '\u001e4a', '4a\u001e\u001e4b', '2\u001ex\u001e3', '2\u001e7', '2\u001ebAQ=\u001e3', '2\u001eb\u001e3', 'b',
  'b4AQIDBA==', 'bAQIDBA==\u001eb4+++', '6:4hello', '6:4hello6:4world', '1:2', '4€\u001e4😀', '4\u2028\u001e4\n',
  '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}',
  ' 4', '4 \u001e 4', 'bAR==', 'b-_8=', 'bAQ==\n', '40\u001e42["a"]\u001e43', '5\u001e6\u001e1',
];
// Random inputs: packets joined by separators, now and then one the reference refuses too
// (empty, unknown type), so the packets before an error are compared.
function randEncodedPacket() {
  const r = rand();
  if (r < 0.05) return '';
  if (r < 0.1) return pick(['x', '7', '8hello', ' 4', 'B']);
  return encodePacket(randPacket(), false);
}
for (let i = 0; i < 80; i++) {
  const parts = [];
  const n = 1 + int(8);
  for (let j = 0; j < n; j++) parts.push(randEncodedPacket());
  payloadInputs.push(parts.join('\u001e'));
}
fixture.payload_decode = payloadInputs.map((input) => ({
  name: JSON.stringify(input), input, ...decodePayload(input),
}));

// Bodies that are not UTF-8: engine.io 6 reads a polling body as text (`setEncoding('utf8')`,
// so invalid sequences become U+FFFD) before decodePayload.
const byteInputs = [[0x34, 0xff], [0x32, 0x1e, 0x34, 0xed, 0xa0, 0x80], [0x34, 0xc3]];
fixture.payload_decode_bytes = byteInputs.map((bytes) => ({
  name: JSON.stringify(bytes), input_hex: Buffer.from(bytes).toString('hex'),
  ...decodePayload(Buffer.from(bytes).toString('utf8')),
}));

// ---------------------------------------------------------------- a live engine.io 6 server

async function liveServer() {
  const http = require('http');
  const engine = require('engine.io-v6');
  const start = async (opts) => {
    const httpServer = http.createServer();
    const server = engine.attach(httpServer, opts);
    let n = 0;
    server.generateId = () => 'fixture-sid-' + (n++);
    const sockets = [];
    const received = [];
    const closes = [];
    server.on('connection', (s) => {
      sockets.push(s);
      s.on('message', (m) => received.push(describePacket({ type: 'message', data: m })));
      s.on('close', (reason) => closes.push({ sid: s.id, reason }));
    });
    await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
    return { httpServer, server, sockets, received, closes, port: httpServer.address().port };
  };
  const stop = (x) => { for (const s of x.sockets) s.close(); x.server.close(); x.httpServer.close(); };
  const desc = (r) => ({ status: r.status, content_type: r.type || null, body: r.body.toString('utf8') });
  const out = { engine_io: JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', 'engine.io-v6', 'package.json'), 'utf8')).version };

  // Both revisions at once (`allowEIO3`), the timings of the spec's handshake example.
  const a = await start({ pingInterval: 25000, pingTimeout: 20000, allowEIO3: true });
  try {
    const q4 = '/engine.io/?EIO=4&transport=polling';
    out.handshake_v4 = desc(await request(a.port, 'GET', q4 + '&t=a'));
    out.handshake_v3 = desc(await request(a.port, 'GET', '/engine.io/?EIO=3&transport=polling&t=b'));
    a.sockets[0].send('hello');
    a.sockets[0].send(Buffer.from([1, 2, 3]));
    a.sockets[0].send('€😀');
    out.poll_v4 = desc(await request(a.port, 'GET', q4 + '&sid=fixture-sid-0&t=c'));
    const body = '4hello\u001ebAQIDBA==\u001e4€\u001e4';
    const r = await request(a.port, 'POST', q4 + '&sid=fixture-sid-0&t=d', body, { 'Content-Type': 'text/plain;charset=UTF-8' });
    await new Promise((res) => setTimeout(res, 50));
    out.post_v4 = { body, status: r.status, reply: r.body.toString('utf8'), server_received: a.received.slice() };
    // A binary body from a v4 client: engine.io 6 closes the session ("invalid content").
    const binary = await request(a.port, 'POST', q4 + '&sid=fixture-sid-0&t=e', Buffer.from([0, 1, 0xff, 0x34]),
      { 'Content-Type': 'application/octet-stream' }, 500).then((x) => desc(x), (e) => ({ error: e.message }));
    await new Promise((res) => setTimeout(res, 50));
    out.binary_post_v4 = { response: binary, closes: a.closes.slice() };
  } finally {
    stop(a);
  }

  // Revision 4 only (engine.io 6's default): revision 3 gets error 5.
  const b = await start({ pingInterval: 25000, pingTimeout: 20000 });
  try {
    out.unsupported_eio3 = desc(await request(b.port, 'GET', '/engine.io/?EIO=3&transport=polling&t=f'));
    out.unsupported_no_eio = desc(await request(b.port, 'GET', '/engine.io/?transport=polling&t=g'));
  } finally {
    stop(b);
  }
  return out;
}

liveServer().then((live) => {
  fixture.live_server = live;
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(fixture, null, 1) + '\n');
  const count = (k) => (Array.isArray(fixture[k]) ? fixture[k].length : 0);
  console.log('wrote', path.relative(process.cwd(), OUT), Object.keys(fixture).map((k) => k + '=' + count(k)).join(' '));
  process.exit(0);
}, (e) => { console.error(e); process.exit(1); });
