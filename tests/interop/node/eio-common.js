// Helpers shared by the Engine.io fixture generators (gen-eio-vectors.js for v3,
// gen-eio4-vectors.js for v4) and the live differentials (eio-differential.js,
// eio4-differential.js). Nothing here encodes or decodes: the reference parsers do.
'use strict';

// mulberry32: a tiny seeded PRNG so the random vectors are the same on every run.
function rng(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The seeded draws of a generator: `pick` from a list, `int` below n, random text over
// `alphabet` and random bytes, all from one `rng(seed)` stream.
function draws(seed, alphabet) {
  const rand = rng(seed);
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const int = (n) => Math.floor(rand() * n);
  function randText() {
    const n = pick([0, 1, 2, 5, 10, 40]);
    let s = '';
    for (let i = 0; i < n; i++) s += pick(alphabet);
    return s;
  }
  function randBytes() {
    const n = pick([0, 1, 2, 3, 4, 7, 32, 100]);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  }
  return { rand, pick, int, randText, randBytes };
}

const TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];

// True when `s` holds a lone surrogate, which JSON (and a Rust String) cannot carry.
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
function describeString(s) {
  if (hasLoneSurrogate(s)) {
    const u = [];
    for (let i = 0; i < s.length; i++) u.push(s.charCodeAt(i));
    return { utf16: u };
  }
  return { text: s };
}

// A packet as the fixtures store it: type name (null when the reference produced
// `undefined`), and data as {text}, {hex} (binary) or absent (no data).
function describePacket(p) {
  const out = { type: p.type === undefined ? null : p.type };
  if (p.data === undefined) return out;
  if (Buffer.isBuffer(p.data)) out.data = { hex: p.data.toString('hex') };
  else if (p.data instanceof ArrayBuffer) out.data = { hex: Buffer.from(p.data).toString('hex') };
  else out.data = describeString(String(p.data));
  return out;
}
const isErr = (p) => p.type === 'error' && p.data === 'parser error';
function encodedDesc(v) {
  return typeof v === 'string' ? { text: v } : { hex: Buffer.from(v).toString('hex') };
}

// One HTTP request to a live server on 127.0.0.1: its status, content type and body. A
// request without an answer within `timeoutMs` rejects with `timeout`.
function request(port, method, pathQuery, body, headers, timeoutMs) {
  const http = require('http');
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathQuery, headers: headers || {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs || 5000, () => req.destroy(new Error('timeout')));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---- live differentials

// A packet of pushwire's JSON as the reference's object.
const toRef = (p) => (p.binary !== undefined
  ? { type: p.type, data: Buffer.from(p.binary, 'base64') }
  : { type: p.type, data: p.text });
// The reference's encoders are callback based but synchronous (null: never called back).
const sync = (f) => { let out = null; f((v) => { out = v; }); return out; };
const wire = (v) => (typeof v === 'string' ? { text: v } : { binary: Buffer.from(v).toString('base64') });
const unwire = (w) => (w.binary !== undefined ? Buffer.from(w.binary, 'base64') : w.text);
const show = (v) => JSON.stringify(Buffer.isBuffer(v) ? { buffer: v.toString('hex') } : v);

// Counts comparisons by kind, keeps the differences, and prints the summary.
class Comparer {
  constructor() { this.diffs = []; this.counts = {}; this.noData = 0; }

  compare(kind, i, ok, detail) {
    this.counts[kind] = this.counts[kind] || [0, 0];
    this.counts[kind][1] += 1;
    if (ok) this.counts[kind][0] += 1;
    else this.diffs.push(`${kind} #${i}: ${detail()}`);
  }

  samePacket(got, want) {
    if (!got || got.type !== want.type) return false;
    if (Buffer.isBuffer(want.data)) return Buffer.isBuffer(got.data) && got.data.equals(want.data);
    // Documented: no data decodes without `data`; pushwire writes empty text that way.
    if (got.data === undefined && want.data === '') {
      this.noData += 1;
      return true;
    }
    return got.data === want.data;
  }

  samePackets(got, want) {
    return got.length === want.length && got.every((p, i) => this.samePacket(p, want[i]));
  }

  // Prints the tally and exits: 0 when everything compared was identical.
  finish(title) {
    console.log(title);
    let total = 0; let same = 0;
    for (const [kind, [ok, n]] of Object.entries(this.counts)) {
      console.log(`  ${kind}: ${ok} of ${n} identical`);
      total += n; same += ok;
    }
    console.log(`  total: ${same} of ${total} identical (${this.noData} decodes of empty text came back without \`data\`, the documented divergence)`);
    for (const d of this.diffs.slice(0, 10)) console.log(`  DIFFERENCE ${d}`);
    process.exit(this.diffs.length === 0 && total > 0 ? 0 : 1);
  }
}

module.exports = {
  request, rng, draws, TYPES, describePacket, isErr, encodedDesc, toRef, sync, wire, unwire, show, Comparer,
};
