'use strict';
// notepack.io differential helper: one JSON object per stdin line, one JSON line out per line.
//
//   {"hex": "<msgpack bytes>"}  ->  {"decoded": <notepack.decode as JSON>, "hex": "<notepack.encode(decoded)>"}
//   {"json": <value>}           ->  {"hex": "<notepack.encode(value)>"}
//   anything that fails         ->  {"error": "<message>"}
//
// In both directions binary is {"_binary_base64": "..."}, a Date {"_date_iso": "..."},
// undefined {"_undefined": true}, NaN/Infinity/-Infinity {"_float": "NaN"|"Infinity"|"-Infinity"}
// (the same convention as the redis-adapter fixtures). Every other object is a plain map.
//
// Usage: node notepack-roundtrip.js [--notepack2] < lines.jsonl
//   --notepack2 uses notepack.io 2.2 from v2/node_modules (what socket.io-redis 5 uses)
//   instead of notepack.io 3.0 (what @socket.io/redis-adapter 8 uses).

const readline = require('readline');
const path = require('path');
const { toJsonValue } = require('./common');

const v2 = process.argv.includes('--notepack2');
const notepack = require(v2 ? path.join(__dirname, 'v2', 'node_modules', 'notepack.io') : 'notepack.io');

function fromJsonValue(v) {
  if (Array.isArray(v)) return v.map(fromJsonValue);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const k = keys[0];
      if (k === '_binary_base64' && typeof v[k] === 'string') return Buffer.from(v[k], 'base64');
      if (k === '_date_iso' && typeof v[k] === 'string') return new Date(v[k]);
      if (k === '_undefined' && v[k] === true) return undefined;
      if (k === '_float' && ['NaN', 'Infinity', '-Infinity'].includes(v[k])) return Number(v[k]);
    }
    const o = {};
    for (const k of keys) o[k] = fromJsonValue(v[k]);
    return o;
  }
  return v;
}

function handle(line) {
  let input;
  try {
    input = JSON.parse(line);
  } catch (e) {
    return { error: 'input is not JSON: ' + e.message };
  }
  try {
    if (input && typeof input.hex === 'string') {
      if (!/^([0-9a-fA-F]{2})*$/.test(input.hex)) return { error: 'hex is not an even-length hex string' };
      const value = notepack.decode(Buffer.from(input.hex, 'hex'));
      return { decoded: toJsonValue(value), hex: notepack.encode(value).toString('hex') };
    }
    if (input && Object.prototype.hasOwnProperty.call(input, 'json')) {
      return { hex: notepack.encode(fromJsonValue(input.json)).toString('hex') };
    }
    return { error: 'expected {"hex": ...} or {"json": ...}' };
  } catch (e) {
    return { error: String(e && e.message) };
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  process.stdout.write(JSON.stringify(handle(line)) + '\n');
});
