//! Socket.IO packet codecs, pushwire-socketio side by side with socketioxide-parser-common
//! 0.17 (on socketioxide-core 0.20) (`CommonParser`, the default parser of socketioxide), on the three inputs the issue
//! names: a small event, an event with two binary attachments, a 10 KiB JSON event.
//!
//! What each side is asked to do, so that neither is timed doing less:
//! - **decode** (`…/decode`): wire messages → a packet whose event name is known (what a
//!   server needs to dispatch it). pushwire checks the whole JSON while decoding (as
//!   socket.io-parser's `JSON.parse` does); socketioxide slices the header and reads the
//!   name from the JSON when asked (`read_event`), without checking the rest.
//! - **decode + args** (`…/decode_args`): the same, then the arguments as a
//!   `serde_json::Value` (what a handler taking JSON gets).
//! - **encode** (`…/encode`): a serde value + an event name → the wire messages.
//!
//! Results are compared before timing (same event name, same args, same text).

#![allow(missing_docs)]

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pushwire_benches::count::Counting as _;
use pushwire_socketio::{Decoder, Limits, Packet, PacketData, ProtocolVersion};
use serde_json::json;
use socketioxide_core::packet::{Packet as XPacket, PacketData as XData};
use socketioxide_core::parser::{Parse, ParseConfig, ParseError, ParserState};
use socketioxide_core::{Str, Value as XValue};
use socketioxide_parser_common::CommonParser;
use std::hint::black_box;

/// The three inputs: (name, event args as JSON, binary attachments appended as args).
fn inputs() -> Vec<(&'static str, serde_json::Value, Vec<Bytes>)> {
    let small = json!([{"user": "ann", "text": "hello"}]);
    let mut rows = Vec::new();
    while serde_json::to_string(&rows).unwrap().len() < 10 * 1024 {
        let i = rows.len();
        rows.push(json!({"id": i, "name": format!("item-{i}"), "price": 12.5, "tags": ["a", "b"], "ok": true}));
    }
    let big = json!([rows]);
    vec![
        ("small", small.clone(), vec![]),
        (
            "binary2",
            small,
            vec![Bytes::from(vec![7u8; 1024]), Bytes::from(vec![9u8; 4096])],
        ),
        ("json10k", big, vec![]),
    ]
}

/// `(args..., Bytes...)` as one serde sequence, so both encoders see the same value.
#[derive(Clone)]
struct Args {
    json: Vec<serde_json::Value>,
    bins: Vec<Bytes>,
}

impl serde::Serialize for Args {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A tuple: socketioxide spreads a tuple into the arguments (a sequence would be one
        // argument); pushwire spreads any array.
        use serde::ser::SerializeTuple;
        let mut seq = s.serialize_tuple(self.json.len() + self.bins.len())?;
        for v in &self.json {
            seq.serialize_element(v)?;
        }
        for b in &self.bins {
            seq.serialize_element(&serde_bytes_ref(b))?;
        }
        seq.end()
    }
}

struct BytesRef<'a>(&'a [u8]);
fn serde_bytes_ref(b: &Bytes) -> BytesRef<'_> {
    BytesRef(b)
}
impl serde::Serialize for BytesRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

// ---- pushwire ------------------------------------------------------------------------

#[inline(never)]
fn pushwire_encode(args: &Args) -> Vec<PacketData> {
    Packet::event_with(ProtocolVersion::V5, "/", "event", args)
        .unwrap()
        .into_messages()
}

#[inline(never)]
fn pushwire_decode(msgs: Vec<PacketData>) -> Packet {
    let mut dec = Decoder::new(ProtocolVersion::V5, Limits::DEFAULT);
    let mut out = None;
    for m in msgs {
        out = dec.push(m).unwrap();
    }
    let p = out.unwrap();
    assert_eq!(p.event_name(), Some("event"));
    p
}

#[inline(never)]
fn pushwire_decode_args(msgs: Vec<PacketData>) -> serde_json::Value {
    let p = pushwire_decode(msgs);
    p.deserialize::<serde_json::Value>().unwrap()
}

// ---- socketioxide --------------------------------------------------------------------

#[inline(never)]
fn x_encode(args: &Args) -> Vec<PacketData> {
    let v = CommonParser.encode_value(args, Some("event")).unwrap();
    match CommonParser.encode(XPacket::event("/", v)) {
        XValue::Str(s, bins) => {
            let mut out = vec![PacketData::Text(s.to_string())];
            out.extend(bins.into_iter().flatten().map(PacketData::Binary));
            out
        }
        XValue::Bytes(_) => unreachable!("the common parser writes text"),
    }
}

#[inline(never)]
fn x_decode(msgs: Vec<PacketData>) -> XPacket {
    let config = ParseConfig::default();
    let state = ParserState::default();
    let mut out = None;
    for m in msgs {
        let r = match m {
            PacketData::Text(s) => CommonParser.decode_str(&config, &state, Str::from(s)),
            PacketData::Binary(b) => CommonParser.decode_bin(&config, &state, b),
        };
        match r {
            Ok(p) => out = Some(p),
            Err(ParseError::NeedsMoreBinaryData) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    let p = out.unwrap();
    let v = match &p.inner {
        XData::Event(v, _) | XData::BinaryEvent(v, _) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(CommonParser.read_event(v).unwrap(), "event");
    p
}

#[inline(never)]
fn x_decode_args(msgs: Vec<PacketData>) -> serde_json::Value {
    let mut p = x_decode(msgs);
    match &mut p.inner {
        XData::Event(v, _) | XData::BinaryEvent(v, _) => {
            let args: serde_json::Value = CommonParser.decode_value(v, true).unwrap();
            args
        }
        _ => unreachable!(),
    }
}

fn bench(c: &mut Criterion) {
    for (name, json, bins) in inputs() {
        let args = Args {
            json: json.as_array().unwrap().clone(),
            bins,
        };
        let ours = pushwire_encode(&args);
        let theirs = x_encode(&args);
        assert_eq!(
            ours, theirs,
            "{name}: both encoders write the same messages"
        );
        let json_only = args.bins.is_empty();
        if json_only {
            // pushwire's args include the name (the whole array); socketioxide's drop it.
            let mut a = pushwire_decode_args(ours.clone());
            a.as_array_mut().unwrap().remove(0);
            // socketioxide hands a lone argument over unwrapped.
            let b = match x_decode_args(theirs.clone()) {
                one if args.json.len() == 1 => serde_json::Value::Array(vec![one]),
                many => many,
            };
            assert_eq!(a, b, "{name}: same args");
        }
        let bytes: usize = ours
            .iter()
            .map(|m| match m {
                PacketData::Text(s) => s.len(),
                PacketData::Binary(b) => b.len(),
            })
            .sum();

        let mut g = c.benchmark_group(format!("socketio/{name}"));
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function("decode/pushwire", |b| {
            b.counted_iter_batched(
                || ours.clone(),
                |m| black_box(pushwire_decode(m)),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("decode/socketioxide", |b| {
            b.counted_iter_batched(
                || ours.clone(),
                |m| black_box(x_decode(m)),
                BatchSize::SmallInput,
            )
        });
        // Binary does not fit a `serde_json::Value`: JSON-only inputs.
        if json_only {
            g.bench_function("decode_args/pushwire", |b| {
                b.counted_iter_batched(
                    || ours.clone(),
                    |m| black_box(pushwire_decode_args(m)),
                    BatchSize::SmallInput,
                )
            });
            g.bench_function("decode_args/socketioxide", |b| {
                b.counted_iter_batched(
                    || ours.clone(),
                    |m| black_box(x_decode_args(m)),
                    BatchSize::SmallInput,
                )
            });
        }
        g.bench_function("encode/pushwire", |b| {
            b.counted_iter(|| black_box(pushwire_encode(&args)))
        });
        g.bench_function("encode/socketioxide", |b| {
            b.counted_iter(|| black_box(x_encode(&args)))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
