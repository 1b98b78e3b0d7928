#!/usr/bin/env node
// Live differential of pushwire-engineio's revision 4 (`v4`) against engine.io-parser 5.2.3
// (the npm alias `engine.io-parser-v5`; run by `cargo xtask interop`; see
// crates/engineio/examples/differential.rs, `gen4` / `check4`, for the whole loop).
//
//   node eio4-differential.js OURS.json THEIRS.json
//
// OURS.json holds random revision 4 packets and payloads and pushwire's encodings of them.
// This script (1) encodes the same packets with the reference and compares byte for byte,
// (2) decodes pushwire's encodings with the reference and compares the packets, and (3)
// writes the reference's encodings to THEIRS.json for pushwire to decode. Exit code 1 on a
// difference.
//
// Documented differences that show up with valid input: a packet without data (`4`)
// decodes without a `data` field, where pushwire has empty text (compared as ""); the
// reference never calls back for an empty list of packets (null), where pushwire writes
// nothing.
'use strict';

const fs = require('fs');
const parser = require('engine.io-parser-v5');
const { toRef, sync, wire, unwire, show, Comparer } = require('./eio-common');

const [oursPath, theirsPath] = process.argv.slice(2);
if (!oursPath || !theirsPath) {
  console.error('usage: node eio4-differential.js OURS.json THEIRS.json');
  process.exit(2);
}
const ours = JSON.parse(fs.readFileSync(oursPath, 'utf8'));

const packets = ours.packets.map(toRef);
const payloads = ours.payloads.map((idx) => idx.map((i) => packets[i]));
const cmp = new Comparer();
const compare = cmp.compare.bind(cmp);
const samePacket = cmp.samePacket.bind(cmp);
const samePackets = cmp.samePackets.bind(cmp);

// ---- (1) the reference's encodings, compared with pushwire's, byte for byte
const theirs = { packet_str: [], packet_frame: [], payload: [] };
packets.forEach((p, i) => {
  const s = sync((cb) => parser.encodePacket(p, false, cb));
  theirs.packet_str.push(s);
  compare('encode string form', i, s === ours.packet_str[i], () => `reference ${show(s)}, pushwire ${show(ours.packet_str[i])}`);
  const f = sync((cb) => parser.encodePacket(p, true, cb));
  theirs.packet_frame.push(wire(f));
  const of = unwire(ours.packet_frame[i]);
  const same = typeof f === 'string' ? f === of : Buffer.isBuffer(of) && Buffer.from(f).equals(of);
  compare('encode websocket frame', i, same, () => `reference ${show(f)}, pushwire ${show(of)}`);
});
payloads.forEach((ps, i) => {
  const t = sync((cb) => parser.encodePayload(ps, cb));
  theirs.payload.push(t);
  const ok = t === null ? ps.length === 0 && ours.payload[i] === '' : t === ours.payload[i];
  compare('encode payload', i, ok, () => `reference ${show(t)}, pushwire ${show(ours.payload[i])}`);
});

// ---- (2) pushwire's encodings, decoded by the reference
packets.forEach((p, i) => {
  const d = parser.decodePacket(ours.packet_str[i]);
  compare('decode string form', i, samePacket(d, p), () => `got ${show(d)} for ${show(p)}`);
  const f = parser.decodePacket(unwire(ours.packet_frame[i]));
  compare('decode websocket frame', i, samePacket(f, p), () => `got ${show(f)} for ${show(p)}`);
});
payloads.forEach((ps, i) => {
  if (ps.length === 0) return; // no body to decode
  const d = parser.decodePayload(ours.payload[i]);
  compare('decode payload', i, samePackets(d, ps), () => `got ${show(d)} for ${show(ps)}`);
});

fs.writeFileSync(theirsPath, JSON.stringify(theirs));

const binary = ours.packets.filter((p) => p.binary !== undefined).length;
const version = JSON.parse(fs.readFileSync(require.resolve('engine.io-parser-v5').replace(/build\/cjs\/index\.js$/, 'package.json'), 'utf8')).version;
cmp.finish(`engine.io-parser ${version} vs pushwire v4: ${packets.length} packets (${binary} binary), ${payloads.length} payloads`);
