#!/usr/bin/env node
// Live differential of pushwire-engineio against engine.io-parser 2.2.1 (run by
// `cargo xtask interop`; see crates/engineio/examples/differential.rs for the whole loop).
//
//   node eio-differential.js OURS.json THEIRS.json
//
// OURS.json holds random packets and payloads and pushwire's encodings of them. This script
// (1) encodes the same packets with the reference and compares byte for byte, (2) decodes
// pushwire's encodings with the reference and compares the packets, and (3) writes the
// reference's encodings to THEIRS.json for pushwire to decode. Exit code 1 on a difference.
//
// The one documented divergence that shows up with valid input: the reference decodes a
// packet without data (`4`, `1:4`) without a `data` field, where pushwire has empty text
// (docs/engineio.md, "Wire rules"); `undefined` is compared as "".
'use strict';

const fs = require('fs');
const parser = require('engine.io-parser');
const { toRef, sync, wire, unwire, show, Comparer } = require('./eio-common');

const [oursPath, theirsPath] = process.argv.slice(2);
if (!oursPath || !theirsPath) {
  console.error('usage: node eio-differential.js OURS.json THEIRS.json');
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
const theirs = { packet_str: [], packet_frame: [], payload_text: [], payload_xhr2: [], payload_auto: [] };
packets.forEach((p, i) => {
  const s = sync((cb) => parser.encodePacket(p, false, false, cb));
  theirs.packet_str.push(s);
  compare('encode string/base64 form', i, s === ours.packet_str[i], () => `reference ${show(s)}, pushwire ${show(ours.packet_str[i])}`);
  const f = sync((cb) => parser.encodePacket(p, true, false, cb));
  theirs.packet_frame.push(wire(f));
  const of = unwire(ours.packet_frame[i]);
  const same = Buffer.isBuffer(f) ? Buffer.isBuffer(of) && f.equals(of) : f === of;
  compare('encode websocket frame', i, same, () => `reference ${show(f)}, pushwire ${show(of)}`);
});
payloads.forEach((ps, i) => {
  const t = sync((cb) => parser.encodePayload(ps, false, cb));
  theirs.payload_text.push(t);
  compare('encode text payload', i, t === ours.payload_text[i], () => `reference ${show(t)}, pushwire ${show(ours.payload_text[i])}`);
  const b = sync((cb) => parser.encodePayloadAsBinary(ps, cb));
  theirs.payload_xhr2.push(b.toString('base64'));
  compare('encode XHR2 payload', i, b.toString('base64') === ours.payload_xhr2[i], () => `reference ${show(b)}, pushwire ${ours.payload_xhr2[i]}`);
  const a = sync((cb) => parser.encodePayload(ps, true, cb));
  theirs.payload_auto.push(wire(a));
  const oa = unwire(ours.payload_auto[i]);
  const sameA = Buffer.isBuffer(a) ? Buffer.isBuffer(oa) && a.equals(oa) : a === oa;
  compare('encode automatic payload', i, sameA, () => `reference ${show(a)}, pushwire ${show(oa)}`);
});

// ---- (2) pushwire's encodings, decoded by the reference
function decodeText(body) {
  const out = [];
  parser.decodePayload(body, (p) => { out.push(p); });
  return out;
}
function decodeBinary(buf) {
  const out = [];
  parser.decodePayloadAsBinary(buf, (p) => { out.push(p); });
  return out;
}
packets.forEach((p, i) => {
  const d = parser.decodePacket(ours.packet_str[i]);
  compare('decode string/base64 form', i, samePacket(d, p), () => `got ${show(d)} for ${show(p)}`);
  const f = parser.decodePacket(unwire(ours.packet_frame[i]));
  compare('decode websocket frame', i, samePacket(f, p), () => `got ${show(f)} for ${show(p)}`);
});
payloads.forEach((ps, i) => {
  const t = decodeText(ours.payload_text[i]);
  compare('decode text payload', i, samePackets(t, ps), () => `got ${show(t)} for ${show(ps)}`);
  const b = decodeBinary(Buffer.from(ours.payload_xhr2[i], 'base64'));
  compare('decode XHR2 payload', i, samePackets(b, ps), () => `got ${show(b)} for ${show(ps)}`);
  const w = unwire(ours.payload_auto[i]);
  const a = Buffer.isBuffer(w) ? decodeBinary(w) : decodeText(w);
  compare('decode automatic payload', i, samePackets(a, ps), () => `got ${show(a)} for ${show(ps)}`);
});

fs.writeFileSync(theirsPath, JSON.stringify(theirs));

const astral = ours.packets.filter((p) => p.text !== undefined && /[\u{10000}-\u{10FFFF}]/u.test(p.text)).length;
const cjk = ours.packets.filter((p) => p.text !== undefined && /[\u4E00-\u9FFF\u{20000}-\u{2A6DF}]/u.test(p.text)).length;
const binary = ours.packets.filter((p) => p.binary !== undefined).length;
const empty = ours.packets.filter((p) => p.text === '').length;
cmp.finish(`engine.io-parser 2.2.1 vs pushwire: ${packets.length} packets (${binary} binary, ${astral} with astral characters, ${cjk} with CJK, ${empty} empty text), ${payloads.length} payloads`);
