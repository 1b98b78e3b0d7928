'use strict';
// Shared by capture.js (socket.io 4 + @socket.io/redis-adapter 8) and v2/capture.js
// (socket.io 2 + socket.io-redis 5). Requires no npm package: each caller passes its own
// notepack.io, so each side decodes with the msgpack codec its adapter really uses.

const { spawn, execFileSync } = require('child_process');
const net = require('net');
const fs = require('fs');
const path = require('path');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function redisServerVersion() {
  const out = execFileSync('redis-server', ['--version']).toString();
  const m = /v=([0-9.]+)/.exec(out);
  return m ? m[1] : out.trim();
}

// Starts a throw-away redis-server on a free loopback port; resolves to { port, stop }.
async function startRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  let exited = false;
  child.on('exit', () => { exited = true; });
  // never leave it behind, even when the capture dies of an uncaught exception
  const killOnExit = () => { if (!exited) child.kill('SIGTERM'); };
  process.on('exit', killOnExit);
  // Wait until it accepts connections (PING over a raw socket, RESP inline command).
  const deadline = Date.now() + 10000;
  for (;;) {
    if (exited) throw new Error('redis-server exited early:\n' + log);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => resolve(false));
      s.on('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')); });
      s.on('connect', () => s.write('PING\r\n'));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error('redis-server did not answer PING:\n' + log);
    await sleep(50);
  }
  const stop = () => new Promise((resolve) => {
    if (exited) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return { port, stop, pid: child.pid };
}

// The decoded value as JSON: Buffers (and other byte views) as {"_binary_base64"}, notepack's
// Date (msgpack timestamp ext -1 in notepack 3, ext 0 in notepack 2) as {"_date_iso"}, undefined
// (notepack's fixext 1 type 0, decode only) as {"_undefined": true}, non-finite floats as
// {"_float": "NaN"|"Infinity"|"-Infinity"}.
function toJsonValue(v) {
  if (v === undefined) return { _undefined: true };
  if (v === null) return null;
  if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) {
    return { _binary_base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  }
  if (v instanceof ArrayBuffer) return { _binary_base64: Buffer.from(v).toString('base64') };
  if (v instanceof Date) return { _date_iso: v.toISOString() };
  if (typeof v === 'number' && !Number.isFinite(v)) return { _float: String(v) };
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) o[k] = toJsonValue(v[k]);
    return o;
  }
  return v;
}

// Classifies and decodes one published payload the way the adapters' receivers do:
// the broadcast channel is always msgpack; request/response channels are JSON when the
// first byte is '{' (0x7b), msgpack otherwise.
function decodePayload(notepack, channel, payload) {
  const isBroadcast = !/^socket\.io-(request|response)#/.test(channel);
  const kind = !isBroadcast && payload[0] === 0x7b ? 'json' : 'msgpack';
  let decoded;
  try {
    decoded = kind === 'json' ? JSON.parse(payload.toString('utf8')) : toJsonValue(notepack.decode(payload));
  } catch (e) {
    decoded = { _decode_error: String(e && e.message) };
  }
  return { kind, decoded };
}

// A recorder fed by the spy subscriber. Each case: run the action, wait (deadline) until the
// expected number of messages arrived, then a quiet period to catch extras.
class Recorder {
  constructor(notepack) {
    this.notepack = notepack;
    this.current = null;
    this.messages = [];
    this.stray = [];
    this.failures = [];
    this.summary = [];
  }

  onMessage(channel, payload) {
    channel = channel.toString();
    payload = Buffer.from(payload);
    const entry = { channel, payload };
    if (this.current) this.current.push(entry);
    else this.stray.push(entry);
  }

  async waitFor(n, deadlineMs) {
    const deadline = Date.now() + deadlineMs;
    while (this.current.length < n && Date.now() < deadline) await sleep(10);
  }

  // spec: { name, call, action: async () => extra|undefined, expect: number | (extra) => number,
  //         quietMs, note }
  async run(spec, ctx) {
    this.current = [];
    let extra;
    try {
      extra = await spec.action();
    } catch (e) {
      this.failures.push(`${spec.name}: action threw ${e && e.stack}`);
    }
    const expected = typeof spec.expect === 'function' ? spec.expect(extra) : spec.expect;
    await this.waitFor(expected, spec.deadlineMs || 8000);
    await sleep(spec.quietMs || 200);
    const got = this.current;
    this.current = null;
    if (got.length !== expected) {
      this.failures.push(`${spec.name}: expected ${expected} published messages, saw ${got.length}`);
    }
    for (const [i, m] of got.entries()) {
      const { kind, decoded } = decodePayload(this.notepack, m.channel, m.payload);
      const rec = {
        case: spec.name,
        call: spec.call,
        seq: i,
        channel: m.channel,
        payload_kind: kind,
        payload_base64: m.payload.toString('base64'),
        decoded,
      };
      const pub = ctx.publisherOf(m.channel, decoded, spec);
      if (pub) rec.publisher = pub;
      if (spec.note) rec.note = spec.note;
      this.messages.push(rec);
    }
    this.summary.push({ case: spec.name, messages: got.length, expected });
    return extra;
  }

  printSummary(out) {
    for (const s of this.summary) {
      out.write(`${s.messages === s.expected ? 'ok  ' : 'FAIL'} ${String(s.messages).padStart(2)} ${s.case}\n`);
    }
    if (this.stray.length) out.write(`(${this.stray.length} messages outside any case, not recorded)\n`);
    for (const f of this.failures) out.write(`FAILURE: ${f}\n`);
  }
}

function versionOf(dir, name) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
}

module.exports = { sleep, freePort, startRedis, redisServerVersion, toJsonValue, decodePayload, Recorder, versionOf };
