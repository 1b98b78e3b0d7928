#!/usr/bin/env node
// Differential fixture for pushwire-engineio: every expected value below is produced by the
// reference implementation (engine.io-parser 2.2.1, the engine.io 3.6.2 server, the
// engine.io-client 3.5.6 JSONP transport), never by pushwire.
//
//   cd tests/interop/node && npm ci && node gen-eio-vectors.js
//
// writes crates/engineio/tests/fixtures/eio3-vectors.json, read by
// crates/engineio/tests/differential.rs. Deterministic: a seeded PRNG, and the live server's
// session id is fixed through `generateId`.
'use strict';

const fs = require('fs');
const path = require('path');
const http = require('http');
const parser = require('engine.io-parser');
const engine = require('engine.io');
const Polling = require('engine.io/lib/transports/polling');
const JSONP = require('engine.io/lib/transports/polling-jsonp');

const { draws, TYPES, describePacket, isErr, encodedDesc, request } = require('./eio-common');

const OUT = path.join(__dirname, '..', '..', '..', 'crates', 'engineio', 'tests', 'fixtures', 'eio3-vectors.json');

// ---------------------------------------------------------------- helpers


// ASCII, digits and ':' (look like lengths), 'b' (looks like base64), 2-, 3- and 4-byte
// UTF-8 (the last are astral: 2 UTF-16 units), CJK, JSON-ish and escapes.
const ALPHABET = ['a', 'Z', '0', '9', ':', 'b', ' ', '"', '\\', '\n', '\r', '\t', '\u0000', '\u001f', '\u007f',
  'é', '€', '中', '文', '😀', '🎉', '\u{10FFFF}', '\uFFFF', '\u2028', '\u2029', '{', '}', '[', ']', ','];

const { rand, pick, int, randText, randBytes } = draws(0x5eed, ALPHABET);
function randPacket() {
  const type = pick(TYPES);
  const r = rand();
  if (r < 0.1) return { type };
  if (r < 0.6) return { type, data: randText() };
  return { type, data: randBytes() };
}

function encodePacket(p, supportsBinary) {
  let out;
  parser.encodePacket(p, supportsBinary, (r) => { out = r; });
  return out;
}
function encodePayload(ps, supportsBinary) {
  let out;
  parser.encodePayload(ps, supportsBinary, (r) => { out = r; });
  return out;
}
function encodeBinaryPayload(ps) {
  let out;
  parser.encodePayloadAsBinary(ps, (r) => { out = r; });
  return out;
}
// decodePayload / decodePayloadAsBinary: the packets the reference delivers before its first
// error, whether there was one, and how many it delivered after it (XHR2 goes on).
function decodeWith(fn, input) {
  const packets = [];
  let error = false;
  let afterError = 0;
  fn(input, (p) => {
    if (isErr(p)) { error = true; return; }
    if (error) { afterError++; return; }
    packets.push(describePacket(p));
  });
  return { packets, error, after_error: afterError };
}

// ---------------------------------------------------------------- packets

const fixture = {
  generator: 'tests/interop/node/gen-eio-vectors.js',
  reference: {
    'engine.io-parser': require('engine.io-parser/package.json').version,
    'engine.io': require('engine.io/package.json').version,
    'engine.io-client': require('engine.io-client/package.json').version,
    node: process.version,
  },
};

const fixedPackets = [
  { name: 'ping probe', p: { type: 'ping', data: 'probe' } },
  { name: 'pong probe', p: { type: 'pong', data: 'probe' } },
  { name: 'message hello', p: { type: 'message', data: 'hello' } },
  { name: 'message empty string', p: { type: 'message', data: '' } },
  { name: 'message no data', p: { type: 'message' } },
  { name: 'upgrade', p: { type: 'upgrade' } },
  { name: 'noop', p: { type: 'noop' } },
  { name: 'close', p: { type: 'close' } },
  { name: 'open json', p: { type: 'open', data: '{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}' } },
  { name: 'message euro', p: { type: 'message', data: '€' } },
  { name: 'message astral', p: { type: 'message', data: '😀🎉' } },
  { name: 'message cjk', p: { type: 'message', data: '中文字' } },
  { name: 'message socket.io event', p: { type: 'message', data: '2["tick",{"n":1}]' } },
  { name: 'binary message 0..5', p: { type: 'message', data: Buffer.from([0, 1, 2, 3, 4, 5]) } },
  { name: 'binary message empty', p: { type: 'message', data: Buffer.alloc(0) } },
  { name: 'binary message 1..4', p: { type: 'message', data: Buffer.from([1, 2, 3, 4]) } },
  { name: 'binary ping', p: { type: 'ping', data: Buffer.from([0xff, 0xfe]) } },
];
const packetList = fixedPackets.slice();
for (let i = 0; i < 150; i++) packetList.push({ name: 'random packet ' + i, p: randPacket() });

fixture.packet_encode = packetList.map(({ name, p }) => ({
  name,
  packet: describePacket(p),
  // encodePacket(packet, supportsBinary=false): string form, base64 form for binary data.
  string: encodePacket(p, false),
  // encodePacket(packet, supportsBinary=true): a Buffer (binary form) for binary data.
  frame: encodedDesc(encodePacket(p, true)),
}));

const stringPacketInputs = [
  '', '0', '1', '2', '2probe', '3probe', '4', '4hello', '5', '6', '7', '8x', '9', 'x', ' 4', '-1',
  '4😀', '😀', '€4', '42["ev",{}]', 'b', 'b4', 'b4AQIDBA==', 'b4AQID', 'b4AQI', 'b4AR==', 'b4AQ=',
  'b4A!==', 'b4AQ==\n', 'b7AQ==', 'bx', 'b ', 'b4-_8=', 'b0', 'b6AA==', '0{"sid":"x"}',
];
fixture.packet_decode_string = stringPacketInputs.map((input) => {
  const r = parser.decodePacket(input);
  return { name: JSON.stringify(input), input, result: isErr(r) ? 'error' : describePacket(r) };
});

const binaryPacketInputs = [[], [0], [4], [4, 1, 2], [6, 0], [7], [7, 1], [255, 1], [0x34, 0x61], [3, 0xff]];
fixture.packet_decode_binary = binaryPacketInputs.map((bytes) => {
  const r = parser.decodePacket(Buffer.from(bytes));
  return { name: JSON.stringify(bytes), input_hex: Buffer.from(bytes).toString('hex'), result: isErr(r) ? 'error' : describePacket(r) };
});

// ---------------------------------------------------------------- payloads

const fixedPayloads = [
  { name: 'empty list', ps: [] },
  { name: 'spec hello world', ps: [{ type: 'message', data: 'hello' }, { type: 'message', data: 'world' }] },
  { name: 'spec hello euro', ps: [{ type: 'message', data: 'hello' }, { type: 'message', data: '€' }] },
  { name: 'spec euro + binary', ps: [{ type: 'message', data: '€' }, { type: 'message', data: Buffer.from([1, 2, 3, 4]) }] },
  { name: 'empty string message', ps: [{ type: 'message', data: '' }] },
  { name: 'astral', ps: [{ type: 'message', data: '😀' }, { type: 'message', data: 'a😀b🎉c' }] },
  { name: 'noop', ps: [{ type: 'noop' }] },
  { name: 'long text', ps: [{ type: 'message', data: 'x'.repeat(1234) }, { type: 'message', data: '😀'.repeat(600) }] },
  { name: 'long binary', ps: [{ type: 'message', data: Buffer.alloc(3000, 7) }] },
  { name: 'only binary empty', ps: [{ type: 'message', data: Buffer.alloc(0) }] },
  { name: 'close appended', ps: [{ type: 'message', data: 'bye' }, { type: 'close' }] },
];
const payloadList = fixedPayloads.slice();
for (let i = 0; i < 120; i++) {
  const ps = [];
  const n = pick([1, 1, 2, 3, 5, 8]);
  for (let j = 0; j < n; j++) ps.push(randPacket());
  payloadList.push({ name: 'random payload ' + i, ps });
}

fixture.payload_encode = payloadList.map(({ name, ps }) => {
  const text = encodePayload(ps, false);
  const binary = encodeBinaryPayload(ps);
  return {
    name,
    packets: ps.map(describePacket),
    // encodePayload(packets, supportsBinary=false): a text payload.
    text,
    // encodePayloadAsBinary(packets): the XHR2 payload.
    binary_hex: binary.toString('hex'),
    // encodePayload(packets, supportsBinary=true): binary only if a packet is binary.
    auto_supports_binary: encodedDesc(encodePayload(ps, true)),
    // The reference decoding its own output.
    text_decoded: decodeWith(parser.decodePayload, text),
    binary_decoded: decodeWith(parser.decodePayloadAsBinary, binary),
  };
});

const textPayloadInputs = [
  '', '0:', '0:0:', '1:', ':', '1:4:', '2:4', '4:4hey', '6:4hello6:4world', '6:4hello2:4€', '2:4€10:b4AQIDBA==',
  '3:4😀', '2:4😀', '5:4😀', '1:21:x1:3', '1:2a:3', '1:2:3', '1:212', '1:2abc', '10:4hello',
  'a:4', '1:7', '1:x', '1:b', '2:b4', '3:b9A', '6:b4AQID', '5:b4AQI', '6:b4A!==', '6:b4AR==',
  ' 1:2', '01:2', '001:2', '1.0:2', '0x1:2', '1e0:2', '+1:2', '-0:', '-0:1:2', 'Infinity:', '1 :2',
  '0:1:6', '1:6', '1:4', '3:4中文', '96:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}',
  '1:11:2', '2:4\n', '2:4\u2028', '99999999999999999999:4',
];
fixture.text_payload_decode = textPayloadInputs.map((input) => ({
  name: JSON.stringify(input), input, ...decodeWith(parser.decodePayload, input),
}));

const binaryPayloadInputs = [
  [], [0], [0, 1], [0, 1, 0xff], [0, 1, 0xff, 0x34], [0, 0, 0xff], [1, 0, 0xff], [1, 1, 0xff, 4],
  [2, 1, 0xff, 4], [0, 1, 0xff, 0x32, 2, 1, 0xff, 4], [0, 0x31, 0xff, 0x34], [0, 10, 0xff, 0x34],
  [0, 5, 0xff, 0x34, 0x61], [0, 2, 0xff, 0x34, 0xff], [1, 1, 0xff, 9], [1, 2, 0xff, 7, 7],
  [0, 6, 0xff, 0x62, 0x34, 0x41, 0x51, 0x3d, 0x3d], [0, 4, 0xff, 0x62, 0x34, 0x41, 0x51],
  [0, 5, 0xff, 0x34, 0xf0, 0x9f, 0x98, 0x80], [0, 4, 0xff, 0x34, 0xed, 0xa0, 0x80],
  [0, 1, 0xff, 0x36, 0, 1, 0xff, 0x36, 1, 3, 0xff, 4, 1, 2], [0, 1, 0xff, 0x37],
  [0, 1, 0xff, 0x32, 0, 9], [0, 1, 0xff, 0x32, 1], [0, 0, 1, 0xff, 0x32],
];
fixture.binary_payload_decode = binaryPayloadInputs.map((bytes) => ({
  name: JSON.stringify(bytes), input_hex: Buffer.from(bytes).toString('hex'),
  ...decodeWith(parser.decodePayloadAsBinary, Buffer.from(bytes)),
}));

// ---------------------------------------------------------------- JSONP (engine.io 3.6.2)

const jsonpPayloads = [
  '', 'packet data', '6:4hello', '5:4a"b\\', '3:4\n\r', '2:4\u2028', '2:4\u2029', '3:4\u0000\u001f',
  '2:4\u007f', '3:4😀', '7:4a\nb\\n', '4:4\t\b\f', '10:b4AQIDBA==', '2:4</script>',
];
fixture.jsonp_response = jsonpPayloads.map((payload, i) => {
  const t = new JSONP({ _query: { j: String(i) } });
  let body;
  const saved = Polling.prototype.doWrite;
  Polling.prototype.doWrite = function (data) { body = data; };
  try { t.doWrite(payload, {}, () => {}); } finally { Polling.prototype.doWrite = saved; }
  return { name: JSON.stringify(payload), index: i, payload, body };
});

// What the server's JSONP onData hands to decodePayload (null: it ignores the body).
function jsonpServerReceives(body) {
  const t = new JSONP({ _query: { j: '0' } });
  let got = null;
  const saved = Polling.prototype.onData;
  Polling.prototype.onData = function (data) { got = data; };
  try { t.onData(body); } finally { Polling.prototype.onData = saved; }
  return got;
}

// engine.io-client 3.5.6's JSONP doWrite, run with a stub DOM; the form body is then
// serialized as a browser does: newline normalization of the form data set, then the
// application/x-www-form-urlencoded serializer (URLSearchParams implements it).
function jsonpClientBody(payload) {
  const JSONPPolling = require('engine.io-client/lib/transports/polling-jsonp');
  const el = () => ({ style: {}, setAttribute() {}, appendChild() {}, removeChild() {} });
  global.document = { createElement: el, body: el() };
  let body = null;
  const self = {
    form: { ...el(), submit() {
      const v = self.area.value.replace(/\r(?!\n)|(?<!\r)\n/g, '\r\n');
      body = new URLSearchParams({ d: v }).toString();
    } },
    area: el(),
    uri: () => '/engine.io/?EIO=3&transport=polling&j=0',
    iframeId: 'eio_iframe_0',
    onError() {},
  };
  JSONPPolling.prototype.doWrite.call(self, payload, () => {});
  delete global.document;
  return body;
}

const jsonpRequestBodies = [
  'd=6%3A4hello', 'd=7%3A4a%5Cnb', 'd=7%3A4a%5C%5Cnb', 'd=%5C%5C%5Cn', 'd=a+b%20c', 'x=1&d=2%3A4%C3%A9&y',
  'd', 'x=1', '', 'd=1&d=2', 'd=%4', 'd=%ff', 'd=%zz', '%64=1%3A6', 'd=1%3A6&d', 'd=3%3A4%F0%9F%98%80',
];
fixture.jsonp_request = jsonpRequestBodies.map((body) => ({
  name: JSON.stringify(body), body, payload: jsonpServerReceives(body),
}));
fixture.jsonp_client_request = jsonpPayloads.concat(['4:4\\\n', '6:4\\\\n\n', '1:4', '3:4 +&=%']).map((payload) => {
  const body = jsonpClientBody(payload);
  return { name: JSON.stringify(payload), payload, body, server_receives: jsonpServerReceives(body) };
});

// ---------------------------------------------------------------- a live engine.io 3.6.2 server

async function liveServer() {
  const httpServer = http.createServer();
  const server = engine.attach(httpServer, { pingInterval: 25000, pingTimeout: 5000 });
  let n = 0;
  server.generateId = () => 'fixture-sid-' + (n++);
  const sockets = [];
  const received = [];
  server.on('connection', (s) => {
    sockets.push(s);
    s.on('message', (m) => received.push(describePacket({ type: 'message', data: m })));
  });
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const port = httpServer.address().port;
  const out = {};
  try {
    const q = '/engine.io/?EIO=3&transport=polling';
    const hs = await request(port, 'GET', q + '&t=a');
    out.handshake = { content_type: hs.type, body: hs.body.toString('utf8') };
    const hsj = await request(port, 'GET', q + '&j=3&t=b');
    out.handshake_jsonp = { content_type: hsj.type, body: hsj.body.toString('utf8') };
    const hsb = await request(port, 'GET', q + '&b64=1&t=c');

    // Server sends text, an astral text and binary: XHR2 poll (no b64) and a b64 poll.
    for (const [i, sid] of [[0, 'fixture-sid-0'], [2, 'fixture-sid-2']]) {
      sockets[i].send('hello');
      sockets[i].send('😀');
      sockets[i].send(Buffer.from([1, 2, 3]));
    }
    const poll = await request(port, 'GET', q + '&sid=fixture-sid-0&t=d');
    out.poll_xhr2 = { content_type: poll.type, body_hex: poll.body.toString('hex') };
    const pollb = await request(port, 'GET', q + '&b64=1&sid=fixture-sid-2&t=e');
    out.poll_b64 = { content_type: pollb.type, body: pollb.body.toString('utf8') };
    void hsb;

    // Client posts: a text payload with UTF-16 lengths and an XHR2 binary payload.
    const textBody = '6:4hello3:4😀1:4';
    const r1 = await request(port, 'POST', q + '&sid=fixture-sid-0&t=f', textBody, { 'Content-Type': 'text/plain;charset=UTF-8' });
    const binBody = Buffer.from([0, 6, 0xff, 0x34, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 1, 4, 0xff, 4, 9, 8, 7]);
    const r2 = await request(port, 'POST', q + '&sid=fixture-sid-0&t=g', binBody, { 'Content-Type': 'application/octet-stream' });
    await new Promise((r) => setTimeout(r, 50));
    out.post = {
      text_body: textBody, text_status: r1.status, text_reply: r1.body.toString('utf8'),
      binary_body_hex: binBody.toString('hex'), binary_status: r2.status, binary_reply: r2.body.toString('utf8'),
      server_received: received,
    };
  } finally {
    for (const s of sockets) s.close();
    server.close();
    httpServer.close();
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
