#!/usr/bin/env node
// Differential vectors for pushwire-socketio: every expected value below is produced by the
// reference implementations, socket.io-parser 3.4.3 (protocol revision 4, socket.io 2.x;
// npm alias `socket.io-parser-v3`) and 4.2.7 (revision 5, socket.io 3/4), never by pushwire.
//
//   cd tests/interop/node && npm ci && node gen-sio-vectors.js
//
// writes crates/socketio/tests/fixtures/sio-vectors.json (seed 0x5105, deterministic), read
// by crates/socketio/tests/differential.rs. `cargo xtask interop socketio-parser` runs
//
//   node gen-sio-vectors.js --seed N --encode 400 --decode 1000 --out target/sio-differential/vectors.json
//
// (`--encode` / `--decode`: how many random cases of each section, beside the fixed ones)
// and points that test at the fresh file (`SIO_VECTORS`), so every CI run draws new cases.
//
// Two sections:
// * `encode`: a random packet (all types, namespaces, ack ids, nested JSON with unicode and
//   escapes, Buffers nested in arrays and objects) and the Engine.io messages the
//   reference's Encoder writes for it: the text, then each attachment (base64).
// * `decode`: a sequence of Engine.io messages (text or binary), valid or mutated, and what
//   the reference's Decoder makes of it: the packets it emits, then the message of the
//   first error it throws (null: none). Packets are written as `pushwire decode socketio`
//   writes them: {"type","nsp","id"?,"data"?}, each Buffer as {"_binary_base64": …}; values
//   JSON cannot hold are {"_undefined":true}, {"_number":"Infinity"} and {"_utf16":[…]}.
//   socket.io-parser 3.4.3 does not throw on an unknown type: it emits an ERROR packet whose
//   data starts with "parser error: "; that is recorded as the error it is.
//
// Object keys are never integer-like (a JS object lists those first, whatever the insertion
// order), and never `__proto__`.
'use strict';

const fs = require('fs');
const path = require('path');
const v3 = require('socket.io-parser-v3');
const v5 = require('socket.io-parser');
const { rng } = require('./eio-common');

const TYPE_NAMES = ['CONNECT', 'DISCONNECT', 'EVENT', 'ACK', 'CONNECT_ERROR', 'BINARY_EVENT', 'BINARY_ACK'];
const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const SEED = Number(opt('--seed', String(0x5105)));
const OUT = opt('--out', path.join(__dirname, '..', '..', '..', 'crates', 'socketio', 'tests', 'fixtures', 'sio-vectors.json'));
const N_ENCODE = Number(opt('--encode', '200'));
const N_DECODE = Number(opt('--decode', '330'));

const rand = rng(SEED);
const pick = (a) => a[Math.floor(rand() * a.length)];
const int = (n) => Math.floor(rand() * n);
const chance = (p) => rand() < p;

// Strings: ASCII, JSON specials, control characters, 2-4 byte UTF-8, U+2028, astral.
const CHARS = ['a', 'b', 'Z', '0', '7', ' ', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u0001',
  '\u001f', '\u007f', 'é', 'ß', '€', '中', '😀', '🎉', '\u{10FFFF}', '\uFFFF', '\u2028', '\u2029', '{', '[', ',',
  '-', '_placeholder', 'num'];
function randString(max) {
  const n = int(max === undefined ? 8 : max);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(CHARS);
  return s;
}
// Keys: never integer-like (JS lists those first) and never `__proto__`.
function randKey() {
  return pick(['k', 'x', '_', 'é', 'a b', 'data', 'num', 'type', '😀']) + (chance(0.5) ? randString(3) : '');
}
function randBytes() {
  const n = pick([0, 1, 2, 3, 4, 7, 16, 64]);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}
// Numbers JSON.stringify prints exactly as ECMAScript Number::toString does; floats only
// when `floats` (the encode section checks pushwire's Number::toString against them).
function randNumber(floats) {
  const r = rand();
  if (r < 0.3) return int(10);
  if (r < 0.5) return int(1e6) - 5e5;
  if (r < 0.6) return pick([0, -1, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER]);
  if (!floats) return int(1e9);
  return pick([0.5, -1.25, 0.1, 1e21, 1e-7, 1.5e-7, 123.456, 2.5e300, 1e20, 0.000001, 5e-324,
    1.7976931348623157e308, rand(), rand() * 1e10, -rand() * 1e-10, 1 / 3]);
}
// A random JSON value; Buffers inside when `bin`.
function randValue(depth, bin, floats) {
  const r = rand();
  if (depth <= 0 || r < 0.45) {
    const s = rand();
    if (bin && s < 0.25) return randBytes();
    if (s < 0.35) return null;
    if (s < 0.45) return chance(0.5);
    if (s < 0.7) return randNumber(floats);
    return randString();
  }
  if (r < 0.75) {
    const a = [];
    const n = int(5);
    for (let i = 0; i < n; i++) a.push(randValue(depth - 1, bin, floats));
    return a;
  }
  const o = {};
  const n = int(5);
  for (let i = 0; i < n; i++) o[randKey()] = randValue(depth - 1, bin, floats);
  return o;
}
const randObject = (bin, floats) => {
  const o = {};
  const n = int(4);
  for (let i = 0; i < n; i++) o[randKey()] = randValue(2, bin, floats);
  return o;
};
const hasBin = (v) => Buffer.isBuffer(v) || (Array.isArray(v) ? v.some(hasBin)
  : v !== null && typeof v === 'object' && Object.values(v).some(hasBin));
// Namespaces: `/`, short paths, unicode, a query string (revision 4 auth); never a `,`.
function randNsp() {
  return pick(['/', '/', '/', '/admin', '/chat', '/a/b', '/é€', '/😀', '/x?token=1&y=2', '/-', '/ 1']);
}
function randId() {
  return pick([undefined, undefined, 0, 1, 12, 456, 2 ** 31, 2 ** 53 - 1]);
}
function randEventName(version) {
  for (;;) {
    const n = chance(0.1) ? int(100) : pick(['message', 'chat', 'a', '', 'hello world', 'é😀', 'x"y', 'project:delete', randString(6)]);
    if (version === 4 || !RESERVED.includes(n)) return n;
  }
}

// A packet the revision's rules allow (what pushwire's Packet::new builds).
function randPacket(version, floats) {
  const kind = pick(['CONNECT', 'DISCONNECT', 'EVENT', 'EVENT', 'EVENT', 'ACK', 'ACK', 'CONNECT_ERROR']);
  const bin = chance(0.5);
  const p = { type: kind, nsp: randNsp() };
  switch (kind) {
    case 'CONNECT':
      if (version === 5) { if (chance(0.6)) p.data = randObject(false, floats); } else {
        const r = rand();
        if (r < 0.3) p.data = randObject(false, floats);
        else if (r < 0.4) p.data = [randValue(2, false, floats)];
      }
      break;
    case 'DISCONNECT':
      break;
    case 'EVENT': {
      const a = [randEventName(version)];
      const n = int(5);
      for (let i = 0; i < n; i++) a.push(randValue(3, bin, floats));
      if (bin && chance(0.5)) a.push(randBytes());
      p.data = a;
      p.id = randId();
      break;
    }
    case 'ACK': {
      const a = [];
      const n = int(4);
      for (let i = 0; i < n; i++) a.push(randValue(3, bin, floats));
      if (bin && chance(0.5)) a.push({ [randKey()]: [randBytes(), randBytes()] });
      p.data = a;
      p.id = pick([0, 1, 7, 99, 2 ** 31]);
      break;
    }
    default: // CONNECT_ERROR
      if (version === 5) p.data = chance(0.5) ? randString(10) : { message: randString(10), data: randValue(2, false, floats) };
      else p.data = pick([randString(10), randObject(false, floats), [1]]);
  }
  if (p.id === undefined) delete p.id;
  if (hasBin(p.data)) p.type = kind === 'EVENT' ? 'BINARY_EVENT' : 'BINARY_ACK';
  return p;
}

// ---- describing values JSON cannot hold as they are

function hasLoneSurrogate(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xD800 && c <= 0xDBFF) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xDC00 && d <= 0xDFFF)) return true;
      i++;
    } else if (c >= 0xDC00 && c <= 0xDFFF) return true;
  }
  return false;
}
// Below 100 levels a value is written as it is; deeper, as {"_json": JSON.stringify(v)}, so
// that the fixture stays within serde_json's default recursion limit.
function describeValue(v, level) {
  level = level || 0;
  if (level > 100 && v !== null && typeof v === 'object') return { _json: JSON.stringify(v) };
  if (v === undefined) return { _undefined: true };
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    return { _binary_base64: Buffer.from(v.buffer ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v).toString('base64') };
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : { _number: String(v) };
  if (typeof v === 'string') {
    if (!hasLoneSurrogate(v)) return v;
    const u = [];
    for (let i = 0; i < v.length; i++) u.push(v.charCodeAt(i));
    return { _utf16: u };
  }
  if (Array.isArray(v)) {
    const out = [];
    for (let i = 0; i < v.length; i++) out.push(describeValue(v[i], level + 1));
    return out;
  }
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v)) {
      // A key JSON cannot hold: the object is described by that key alone.
      if (hasLoneSurrogate(k)) return { _utf16: describeValue(k)._utf16 };
      out[k] = describeValue(v[k], level + 1);
    }
    return out;
  }
  return v;
}
function describePacket(p) {
  const out = { type: TYPE_NAMES[p.type] === undefined ? String(p.type) : TYPE_NAMES[p.type], nsp: p.nsp };
  if (p.id !== undefined) out.id = describeValue(p.id);
  if (p.data !== undefined) out.data = describeValue(p.data, 0);
  return out;
}
const message = (m) => (typeof m === 'string' ? { text: m } : { binary_base64: Buffer.from(m).toString('base64') });

// ---- the reference, run

function encode(version, p) {
  const obj = { type: TYPE_NAMES.indexOf(p.type), nsp: p.nsp };
  if (p.id !== undefined) obj.id = p.id;
  if (p.data !== undefined) obj.data = p.data;
  let out = null;
  if (version === 4) new v3.Encoder().encode(obj, (r) => { out = r; });
  else {
    // 4.x takes EVENT/ACK and makes them binary itself (`if (hasBinary(obj))`).
    if (obj.type === 5) obj.type = 2;
    if (obj.type === 6) obj.type = 3;
    out = new v5.Encoder().encode(obj);
  }
  return out.map(message);
}

function decode(version, msgs) {
  const packets = [];
  let error = null;
  const dec = version === 4 ? new v3.Decoder() : new v5.Decoder();
  dec.on('decoded', (p) => {
    if (error !== null) return;
    // 3.4.3's `error()`: an ERROR packet in place of a thrown error.
    if (version === 4 && p.type === 4 && typeof p.data === 'string' && p.data.startsWith('parser error: ')) {
      error = p.data;
      return;
    }
    packets.push(describePacket(p));
  });
  for (const m of msgs) {
    if (error !== null) break;
    try {
      dec.add(typeof m === 'string' ? m : Buffer.from(m));
    } catch (e) {
      error = e.message;
    }
  }
  // `pending`: a binary packet still waits for attachments at the end of the input.
  const pending = error === null && Boolean(dec.reconstructor && dec.reconstructor.reconPack);
  return { packets, error, pending };
}

// ---- the cases

const pkgVersion = (name) => JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', name, 'package.json'), 'utf8')).version;

const fixture = {
  generator: 'tests/interop/node/gen-sio-vectors.js',
  seed: SEED,
  reference: {
    'socket.io-parser-v3': pkgVersion('socket.io-parser-v3'),
    'socket.io-parser': pkgVersion('socket.io-parser'),
    node: process.version,
  },
  encode: [],
  decode: [],
};

const fixedEncode = [
  [5, 'v5 spec event', { type: 'EVENT', nsp: '/', data: ['foo'] }],
  [5, 'v5 spec binary two attachments', { type: 'BINARY_EVENT', nsp: '/admin', data: ['baz', Buffer.from([1, 2]), Buffer.from([3, 4])] }],
  [5, 'v5 binary ack nested', { type: 'BINARY_ACK', nsp: '/', id: 15, data: [{ a: [Buffer.from([1]), { b: Buffer.alloc(0) }] }, 'x'] }],
  [5, 'v5 connect auth', { type: 'CONNECT', nsp: '/admin', data: { token: 'é"\\\u2028' } }],
  [5, 'v5 connect_error object', { type: 'CONNECT_ERROR', nsp: '/', data: { message: 'Not authorized' } }],
  [4, 'v4 error string', { type: 'CONNECT_ERROR', nsp: '/admin', data: 'Not authorized' }],
  [4, 'v4 connect query', { type: 'CONNECT', nsp: '/admin?token=1' }],
  [4, 'v4 binary event', { type: 'BINARY_EVENT', nsp: '/admin', id: 456, data: ['project:delete', Buffer.from([1, 2, 3])] }],
  [5, 'numbers', { type: 'EVENT', nsp: '/', data: ['n', 0, -0, 1e21, 1e-7, 0.1, 2 ** 53, 2 ** 53 + 2, 1.5e300, -123.456] }],
  [5, 'control characters', { type: 'EVENT', nsp: '/', data: ['\u0000\u0001\u001f\b\t\n\f\r"\\/\u007f\u2028😀'] }],
  [5, 'ten attachments', { type: 'BINARY_EVENT', nsp: '/', data: ['t', ...Array.from({ length: 10 }, (_, i) => Buffer.from([i]))] }],
];
for (const [version, name, p] of fixedEncode) fixture.encode.push({ name, version, packet: describePacket({ ...p, type: TYPE_NAMES.indexOf(p.type) }), messages: encode(version, p) });
for (let i = 0; i < N_ENCODE; i++) {
  const version = pick([4, 5]);
  const p = randPacket(version, chance(0.3));
  fixture.encode.push({ name: `random encode ${i}`, version, packet: describePacket({ ...p, type: TYPE_NAMES.indexOf(p.type) }), messages: encode(version, p) });
}

// Texts the quirks of the reference show on, each for both revisions.
const fixedTexts = [
  '', ' ', ' 0', '0', '7', 'x', '-1', '0/admin,', '0/admin', '0/admin?token=1,', '1', '1/admin,', '1[]', '0[]', '0null',
  '0"x"', '0{}', '0{"token":"a"}', '2', '2[]', '2[1]', '2["a"]', '2 ["a"]', '21 ["a"]', '2 1["a"]', '212["foo"]',
  '2/admin,456["project:delete",123]', '2["disconnect"]', '2["connect"]', '2[null]', '2{"a":1}', '2["a"', '2["a"]x',
  '3', '31', '31[]', '31{}', '3/admin,13["bar"]', '4', '4"x"', '4{"message":"no"}', '4[]', '4null', '4true',
  '5', '51', '5-["a"]', '50-["a"]', '51-["a",{"_placeholder":true,"num":0}]', '5 1-["a"]', '51 -["a"]', '51.0-["a"]',
  '5+1-["a"]', '50x1-["a"]', '511-["a"]', '599999999999999999999999-["a"]', '299999999999999999999["a"]',
  '218446744073709551615["a"]', '218446744073709551616["a"]', '29007199254740993["a"]',
  '2["a","\\ud800"]', '2["a","\\udc00x"]', '2["a","\\ud83d\\ude00"]', '2["a",1e400]', '2["a",-1e400]', '2["a",1e-400]',
  '2["a",' + '['.repeat(129) + ']'.repeat(129) + ']', '2["a",' + '['.repeat(126) + ']'.repeat(126) + ']',
  '2["a",{"__x":1,"k":2,"k":3}]', '2["a",{"1":1,"b":2,"0":3}]', '2["\\u0041\\n"]', '2["a",0.1,1.5e-7,123.456e2]',
  '2[5,"x"]', '2[true]', '2["a"] ', '2\t["a"]', '2\n["a"]', '2/,["a"]', '2/a,b["a"]', '2/a', '2/a,', '2/a,1',
  '6', '61-[]', '60-[]', '51-["a",{"_placeholder":true,"num":3}]', '61-15["bar",{"_placeholder":true,"num":0}]',
];
const ATT = Buffer.from([1, 2, 3]);
const fixedSeqs = [
  ['binary then attachment', ['51-["a",{"_placeholder":true,"num":0}]', ATT]],
  ['two attachments out of order', ['52-["e",{"x":[{"_placeholder":true,"num":1}],"y":{"_placeholder":true,"num":0}}]', Buffer.from([0xaa]), Buffer.from([0xbb])]],
  ['placeholder num too large', ['51-["a",{"_placeholder":true,"num":1}]', ATT]],
  ['placeholder num negative', ['51-["a",{"_placeholder":true,"num":-1}]', ATT]],
  ['placeholder num fraction', ['51-["a",{"_placeholder":true,"num":0.5}]', ATT]],
  ['placeholder num 1.0', ['52-["a",{"_placeholder":true,"num":1.0}]', ATT, ATT]],
  ['placeholder num string', ['51-["a",{"_placeholder":true,"num":"0"}]', ATT]],
  ['placeholder without num', ['51-["a",{"_placeholder":true}]', ATT]],
  ['placeholder not true', ['51-["a",{"_placeholder":1,"num":9}]', ATT]],
  ['placeholder repeated num', ['51-["a",{"_placeholder":true,"num":5,"num":0}]', ATT]],
  ['placeholder in a plain event', ['2["a",{"_placeholder":true,"num":3}]']],
  ['zero attachments with a placeholder', ['50-["a",{"_placeholder":true,"num":0}]', ATT]],
  ['binary without packet', [ATT]],
  ['text while reconstructing', ['51-["a",{"_placeholder":true,"num":0}]', '2["b"]']],
  ['binary after a complete packet', ['2["a"]', ATT]],
  ['packets then error', ['2["a"]', '3/x,1[]', '9', '2["b"]']],
  ['eleven attachments', ['511-["a"]', ...Array.from({ length: 11 }, () => ATT)]],
  ['empty attachment', ['51-["a",{"_placeholder":true,"num":0}]', Buffer.alloc(0)]],
];
for (const version of [4, 5]) {
  for (const t of fixedTexts) fixture.decode.push({ name: `v${version} text ${Array.from(JSON.stringify(t)).slice(0, 80).join('')}`, version, input: [message(t)], ...decode(version, [t]) });
  for (const [name, seq] of fixedSeqs) fixture.decode.push({ name: `v${version} ${name}`, version, input: seq.map(message), ...decode(version, seq) });
}

// Random sequences: valid encodings of random packets, some of their texts mutated, binary
// messages dropped, repeated or moved.
const MUT = ['', ' ', '0', '1', '5', '9', '-', '/', ',', '"', '[', ']', '{', '}', '\\', 'x', '.', 'e', '+', '\u2028', '😀',
  '\\ud800', '{"_placeholder":true,"num":0}', 'null', '1e400'];
// Works on code points: a text message is UTF-8 on the wire and cannot hold a lone
// surrogate (a JSON escape of one, `\ud800`, it can).
function mutate(text) {
  let t = Array.from(text);
  const n = 1 + int(3);
  for (let k = 0; k < n; k++) {
    const at = int(t.length + 1);
    const r = rand();
    if (r < 0.4) t = [...t.slice(0, at), pick(MUT), ...t.slice(at)];
    else if (r < 0.7) t = [...t.slice(0, at), ...t.slice(at + 1 + int(3))];
    else t = [...t.slice(0, at), pick(MUT), ...t.slice(at + 1)];
  }
  return t.join('');
}
for (let i = 0; i < N_DECODE; i++) {
  const version = pick([4, 5]);
  const seq = [];
  const n = 1 + int(4);
  for (let j = 0; j < n; j++) {
    const msgs = encode(version, randPacket(version, chance(0.3))).map((m) => (m.text !== undefined ? m.text : Buffer.from(m.binary_base64, 'base64')));
    if (chance(0.3)) msgs[0] = mutate(msgs[0]);
    if (msgs.length > 1 && chance(0.1)) msgs.splice(1 + int(msgs.length - 1), 1);
    if (msgs.length > 1 && chance(0.05)) msgs.push(msgs[msgs.length - 1]);
    seq.push(...msgs);
  }
  fixture.decode.push({ name: `random decode ${i}`, version, input: seq.map(message), ...decode(version, seq) });
}

fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify(fixture) + '\n');
console.log(`wrote ${path.relative(process.cwd(), OUT)}: ${fixture.encode.length} encode, ${fixture.decode.length} decode cases (seed ${SEED})`);
