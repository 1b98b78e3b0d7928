//! The pushwire side of the live differential against engine.io-parser 2.2.1
//! (`tests/interop/node/eio-differential.js`, run by `cargo xtask interop`).
//!
//! ```text
//! cargo run -p pushwire-engineio --example differential -- gen SEED PACKETS PAYLOADS ours.json
//! node tests/interop/node/eio-differential.js ours.json theirs.json
//! cargo run -p pushwire-engineio --example differential -- check ours.json theirs.json
//! ```
//!
//! `gen` draws random packets and payloads with proptest strategies from a fixed seed — text
//! of any Unicode (astral, CJK, U+2028, controls, digits and `:` that look like lengths,
//! empty), binary data of 0–100 bytes, every packet type — and writes them with pushwire's
//! encodings: string/base64 form, WebSocket frame, text payload, XHR2 binary payload and
//! the payload engine.io would pick. The node script encodes the same packets with the
//! reference, compares byte for byte, decodes our encodings and writes its own. `check`
//! decodes the reference's encodings with pushwire's decoders and compares the packets.
//! Each step prints what it compared and exits 1 on a difference.
//!
//! Revision 4, against engine.io-parser 5.2.3 (`tests/interop/node/eio4-differential.js`):
//!
//! ```text
//! cargo run -p pushwire-engineio --example differential -- gen4 SEED PACKETS PAYLOADS ours.json
//! node tests/interop/node/eio4-differential.js ours.json theirs.json
//! cargo run -p pushwire-engineio --example differential -- check4 ours.json theirs.json
//! ```
//!
//! The same draws, made revision 4 packets (binary data only in messages; no `\x1e` in text,
//! which a v4 payload cannot carry), encoded as the string form, the WebSocket frame and
//! the `\x1e` payload.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use pushwire_engineio::{
    decode_binary_payload, decode_text_payload, encode_binary_payload, encode_payload,
    encode_text_payload, v4, EncodedPayload, Limits, Packet, PacketData, PacketType, WsMessage,
};
use serde_json::{json, Value};

fn kind() -> impl Strategy<Value = PacketType> {
    (0u8..7).prop_map(|n| PacketType::from_number(n).expect("0..7"))
}

/// Text biased towards what breaks length arithmetic: astral characters (2 UTF-16 units),
/// CJK (3 UTF-8 bytes, 1 unit), U+2028/U+2029, controls, digits and `:`, a leading `b`.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => ".{0,40}",
        2 => "[a-z0-9:b€é中文字😀🎉\u{10FFFF}\u{FFFF}\u{2028}\u{2029}\u{0}\u{1f}\n\r\t\"\\\\]{0,30}",
        1 => "[\u{4E00}-\u{9FFF}]{1,20}",
        1 => "[\u{1F300}-\u{1FAFF}\u{20000}-\u{2A6DF}]{1,10}",
        1 => Just(String::new()),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        3 => (kind(), text()).prop_map(|(k, t)| Packet::text(k, t)),
        1 => (kind(), proptest::collection::vec(any::<u8>(), 0..100))
            .prop_map(|(k, b)| Packet::binary(k, b)),
    ]
}

fn packet_json(p: &Packet) -> Value {
    match &p.data {
        PacketData::Text(t) => json!({ "type": p.kind.name(), "text": t }),
        PacketData::Binary(b) => json!({ "type": p.kind.name(), "binary": B64.encode(b) }),
    }
}

fn packet_from_json(v: &Value) -> Packet {
    let name = v["type"].as_str().expect("type");
    let kind = PacketType::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .expect("known type");
    match (v.get("text"), v.get("binary")) {
        (Some(t), _) => Packet::text(kind, t.as_str().expect("text")),
        (_, Some(b)) => Packet::binary(kind, B64.decode(b.as_str().expect("b64")).expect("b64")),
        _ => panic!("packet without data: {v}"),
    }
}

/// `{"text": …}` or `{"binary": base64}`.
fn wire_json(text: Option<&str>, binary: Option<&[u8]>) -> Value {
    match (text, binary) {
        (Some(t), _) => json!({ "text": t }),
        (_, Some(b)) => json!({ "binary": B64.encode(b) }),
        _ => unreachable!(),
    }
}

/// Which revision `gen` and `check` work on.
#[derive(Clone, Copy, PartialEq)]
enum Revision {
    V3,
    V4,
}

/// A drawn packet as revision 4 can carry it: binary data only in a message, no record
/// separator in text.
fn for_v4(p: Packet) -> Packet {
    match p.data {
        PacketData::Binary(b) => Packet::binary_message(b),
        PacketData::Text(t) => Packet::text(p.kind, t.replace('\u{1e}', "")),
    }
}

fn gen(rev: Revision, seed: u64, n_packets: usize, n_payloads: usize, out: &str) {
    let mut seed_bytes = [0u8; 16];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    seed_bytes[8..].copy_from_slice(&(!seed).to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::XorShift, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let mut draw = |s: &dyn Fn() -> BoxedStrategy<Packet>| {
        s().new_tree(&mut runner).expect("strategy").current()
    };
    // Fixed edge cases first, then random ones.
    let mut packets = vec![
        Packet::message(""),
        Packet::message("😀"),
        Packet::message("中文"),
        Packet::message("\u{2028}\u{2029}"),
        Packet::binary_message(Vec::new()),
        Packet::binary_message(vec![0u8, 255]),
        Packet::empty(PacketType::Noop),
        Packet::text(PacketType::Ping, "probe"),
    ];
    while packets.len() < n_packets {
        packets.push(draw(&|| packet().boxed()));
    }
    if rev == Revision::V4 {
        packets = packets.into_iter().map(for_v4).collect();
    }
    let mut payloads: Vec<Vec<usize>> = vec![vec![], vec![0], vec![1, 2, 4], vec![4, 5]];
    let mut pick = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::XorShift, &[7; 16]),
    );
    while payloads.len() < n_payloads {
        let idx = proptest::collection::vec(0..packets.len(), 0..12)
            .new_tree(&mut pick)
            .expect("strategy")
            .current();
        payloads.push(idx);
    }
    let json = match rev {
        Revision::V3 => encodings(&packets, &payloads),
        Revision::V4 => encodings_v4(&packets, &payloads),
    };
    std::fs::write(out, serde_json::to_vec(&json).expect("json")).expect("write");
    println!(
        "pushwire: {} packets ({} binary), {} payloads written to {out}",
        packets.len(),
        packets.iter().filter(|p| p.data.is_binary()).count(),
        payloads.len()
    );
}

/// pushwire's revision 4 encodings of every packet and payload.
fn encodings_v4(packets: &[Packet], payloads: &[Vec<usize>]) -> Value {
    let frames: Vec<Value> = packets
        .iter()
        .map(|p| match v4::packet_to_ws_message(p, true) {
            WsMessage::Text(t) => wire_json(Some(&t), None),
            WsMessage::Binary(b) => wire_json(None, Some(&b)),
        })
        .collect();
    let payload: Vec<String> = payloads
        .iter()
        .map(|idx| {
            let ps: Vec<Packet> = idx.iter().map(|&i| packets[i].clone()).collect();
            v4::payload_to_string(&ps)
        })
        .collect();
    json!({
        "packets": packets.iter().map(packet_json).collect::<Vec<_>>(),
        "payloads": payloads,
        "packet_str": packets.iter().map(v4::packet_to_string).collect::<Vec<_>>(),
        "packet_frame": frames,
        "payload": payload,
    })
}

/// pushwire's encodings of every packet and payload.
fn encodings(packets: &[Packet], payloads: &[Vec<usize>]) -> Value {
    let frames: Vec<Value> = packets
        .iter()
        .map(|p| match p.to_ws_message(true) {
            WsMessage::Text(t) => wire_json(Some(&t), None),
            WsMessage::Binary(b) => wire_json(None, Some(&b)),
        })
        .collect();
    let (mut text, mut xhr2, mut auto) = (Vec::new(), Vec::new(), Vec::new());
    for idx in payloads {
        let ps: Vec<Packet> = idx.iter().map(|&i| packets[i].clone()).collect();
        let mut t = Vec::new();
        encode_text_payload(&ps, &mut t);
        let t = String::from_utf8(t).unwrap();
        text.push(Value::String(t));
        let mut b = Vec::new();
        encode_binary_payload(&ps, &mut b);
        xhr2.push(Value::String(B64.encode(&b)));
        auto.push(match encode_payload(&ps, true) {
            EncodedPayload::Text(t) => wire_json(Some(&t), None),
            EncodedPayload::Binary(b) => wire_json(None, Some(&b)),
        });
    }
    json!({
        "packets": packets.iter().map(packet_json).collect::<Vec<_>>(),
        "payloads": payloads,
        "packet_str": packets.iter().map(Packet::to_str_form).collect::<Vec<_>>(),
        "packet_frame": frames,
        "payload_text": text,
        "payload_xhr2": xhr2,
        "payload_auto": auto,
    })
}

/// `check` for revision 4: the reference's string forms, frames and payloads decoded by the
/// v4 functions.
fn check_v4(
    t: &mut Tally,
    packets: &[Packet],
    payloads: &[Vec<Packet>],
    list: &dyn Fn(&str) -> Vec<Value>,
    wire: &dyn Fn(&Value) -> WsMessage,
) -> bool {
    for (i, s) in list("packet_str").iter().enumerate() {
        let got = v4::decode_packet(s.as_str().expect("str")).map(|p| vec![p]);
        t.check(
            "v4 string form",
            i,
            got.map_err(|e| e.to_string()),
            &packets[i..=i],
        );
    }
    for (i, f) in list("packet_frame").iter().enumerate() {
        let got = v4::packet_from_ws_message(wire(f)).map(|p| vec![p]);
        t.check(
            "v4 frame",
            i,
            got.map_err(|e| e.to_string()),
            &packets[i..=i],
        );
    }
    let bodies = list("payload");
    for (i, s) in bodies.iter().enumerate() {
        // engine.io-parser 5 writes nothing for no packets (null), and no body decodes.
        let got = match s.as_str() {
            None => Ok(Vec::new()),
            Some(body) => payload_result(v4::decode_payload(body.to_owned(), Limits::DEFAULT)),
        };
        t.check("v4 payload", i, got, &payloads[i]);
    }
    println!(
        "pushwire decoded engine.io-parser 5's encodings: {} of {} identical ({} packets in the string form, {} as frames, {} payloads)",
        t.compared - t.differences.len(),
        t.compared,
        list("packet_str").len(),
        list("packet_frame").len(),
        bodies.len(),
    );
    for d in t.differences.iter().take(10) {
        println!("  DIFFERENCE {d}");
    }
    t.differences.is_empty() && t.compared > 0
}

/// Counts comparisons and keeps the first differences.
#[derive(Default)]
struct Tally {
    compared: usize,
    differences: Vec<String>,
}

impl Tally {
    fn check(&mut self, what: &str, i: usize, got: Result<Vec<Packet>, String>, want: &[Packet]) {
        self.compared += 1;
        match got {
            Ok(got) if got == want => {}
            other => self
                .differences
                .push(format!("{what} #{i}: decoded {other:?}, expected {want:?}")),
        }
    }
}

fn payload_result(
    it: impl Iterator<Item = Result<Packet, impl core::fmt::Debug>>,
) -> Result<Vec<Packet>, String> {
    it.map(|r| r.map_err(|e| format!("{e:?}"))).collect()
}

fn check(rev: Revision, ours: &str, theirs: &str) -> bool {
    let read = |p: &str| -> Value {
        serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json")
    };
    let (ours, theirs) = (read(ours), read(theirs));
    let packets: Vec<Packet> = ours["packets"]
        .as_array()
        .expect("packets")
        .iter()
        .map(packet_from_json)
        .collect();
    let payloads: Vec<Vec<Packet>> = ours["payloads"]
        .as_array()
        .expect("payloads")
        .iter()
        .map(|idx| {
            idx.as_array()
                .expect("indices")
                .iter()
                .map(|i| packets[i.as_u64().expect("index") as usize].clone())
                .collect()
        })
        .collect();
    let wire = |v: &Value| -> WsMessage {
        match (v.get("text"), v.get("binary")) {
            (Some(t), _) => WsMessage::Text(t.as_str().expect("text").to_owned()),
            (_, Some(b)) => WsMessage::Binary(Bytes::from(
                B64.decode(b.as_str().expect("b64")).expect("b64"),
            )),
            _ => panic!("bad wire value {v}"),
        }
    };
    let list = |k: &str| {
        theirs[k]
            .as_array()
            .unwrap_or_else(|| panic!("{k}"))
            .clone()
    };
    let mut t = Tally::default();
    if rev == Revision::V4 {
        return check_v4(&mut t, &packets, &payloads, &list, &wire);
    }
    for (i, s) in list("packet_str").iter().enumerate() {
        let got = Packet::decode_str(s.as_str().expect("str")).map(|p| vec![p]);
        t.check(
            "string form",
            i,
            got.map_err(|e| e.to_string()),
            &packets[i..=i],
        );
    }
    for (i, f) in list("packet_frame").iter().enumerate() {
        let got = Packet::from_ws_message(wire(f)).map(|p| vec![p]);
        t.check("frame", i, got.map_err(|e| e.to_string()), &packets[i..=i]);
    }
    for (i, s) in list("payload_text").iter().enumerate() {
        let body = s.as_str().expect("str").to_owned();
        let got = payload_result(decode_text_payload(body, Limits::DEFAULT));
        t.check("text payload", i, got, &payloads[i]);
    }
    for (i, s) in list("payload_xhr2").iter().enumerate() {
        let body = B64.decode(s.as_str().expect("b64")).expect("b64");
        let got = payload_result(decode_binary_payload(body, Limits::DEFAULT));
        t.check("XHR2 payload", i, got, &payloads[i]);
    }
    for (i, v) in list("payload_auto").iter().enumerate() {
        let got = match wire(v) {
            WsMessage::Text(s) => payload_result(decode_text_payload(s, Limits::DEFAULT)),
            WsMessage::Binary(b) => payload_result(decode_binary_payload(b, Limits::DEFAULT)),
        };
        t.check("automatic payload", i, got, &payloads[i]);
    }
    println!(
        "pushwire decoded the reference's encodings: {} of {} identical ({} packets in the string form, {} as frames, {} text, {} XHR2 and {} automatic payloads)",
        t.compared - t.differences.len(),
        t.compared,
        list("packet_str").len(),
        list("packet_frame").len(),
        list("payload_text").len(),
        list("payload_xhr2").len(),
        list("payload_auto").len(),
    );
    for d in t.differences.iter().take(10) {
        println!("  DIFFERENCE {d}");
    }
    t.differences.is_empty() && t.compared > 0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [cmd @ ("gen" | "gen4"), seed, n, m, out] => {
            let rev = if *cmd == "gen4" {
                Revision::V4
            } else {
                Revision::V3
            };
            gen(
                rev,
                seed.parse().expect("seed"),
                n.parse().expect("packets"),
                m.parse().expect("payloads"),
                out,
            );
            true
        }
        ["check", ours, theirs] => check(Revision::V3, ours, theirs),
        ["check4", ours, theirs] => check(Revision::V4, ours, theirs),
        _ => {
            eprintln!(
                "usage: differential gen|gen4 SEED PACKETS PAYLOADS OUT | check|check4 OURS THEIRS"
            );
            false
        }
    };
    std::process::exit(if ok { 0 } else { 1 });
}
