//! Engine.io payload and packet codecs, revisions 3 (`eio3_*`) and 4 (`eio4_*`), pushwire side
//! by side with engineioxide-core 0.2 (feature `v3` adds its revision 3 codecs), the Rust
//! implementation behind socketioxide.
//!
//! Every function decodes or encodes the same input and returns what it got (packet count
//! and message bytes, or the encoded bytes); the results are compared once before timing so
//! that no implementation is timed doing less work.
//!
//! engineioxide's payload codecs are async (a `Stream` over an `http_body::Body` for
//! decoding, a `Stream` of packet buffers for encoding); they are driven with
//! `futures::executor::block_on` over inputs that are ready at once, so no time is spent
//! waiting.
//!
//! The measured functions are `#[inline(never)]` so that callgrind can count the
//! instructions of one call (`valgrind --tool=callgrind --toggle-collect=…`; see
//! docs/performance.md).

#![allow(missing_docs)]

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use engineioxide_core::{payload, Packet as XPacket, PacketBuf, ProtocolVersion, Str};
use futures::executor::block_on;
use futures::stream::{self, StreamExt};
use http_body_util::Full;
use pushwire_benches::count::Counting as _;
use pushwire_benches::{eio3_text_payload, eio3_tick_packets, eio4_text_payload};
use pushwire_engineio::{
    decode_text_payload, encode_payload, v4, EncodedPayload, Limits, Packet, PacketData,
    PacketType, WsMessage,
};
use std::hint::black_box;

/// (message packets, message bytes)
type Count = (usize, usize);

/// Payload limit handed to engineioxide (pushwire uses `Limits::DEFAULT`, 1 MB).
const MAX_PAYLOAD: u64 = 1_000_000;

fn count_pushwire(n: &mut Count, p: &Packet) {
    assert_eq!(p.kind, PacketType::Message);
    if let PacketData::Text(s) = &p.data {
        n.0 += 1;
        n.1 += s.len();
    }
}

fn count_engineioxide(n: &mut Count, p: &XPacket) {
    if let XPacket::Message(s) = p {
        n.0 += 1;
        n.1 += s.len();
    } else {
        panic!("not a message: {p:?}");
    }
}

// ---- payload decode -------------------------------------------------------------------

#[inline(never)]
fn pushwire_payload_decode(body: &Bytes) -> Count {
    let mut n = (0, 0);
    for p in decode_text_payload(body.clone(), Limits::DEFAULT) {
        count_pushwire(&mut n, &p.expect("valid payload"));
    }
    n
}

/// engineioxide's decoder of `version` (its v3 and v4 decoders behind one entry point).
#[inline(never)]
fn engineioxide_payload_decode(body: &Bytes, version: ProtocolVersion) -> Count {
    block_on(async {
        let packets = payload::decoder(Full::new(body.clone()), None, version, MAX_PAYLOAD);
        let mut packets = std::pin::pin!(packets);
        let mut n = (0, 0);
        while let Some(p) = packets.next().await {
            count_engineioxide(&mut n, &p.expect("valid payload"));
        }
        n
    })
}

/// pushwire's decoder of revision `version`'s text payloads.
fn pushwire_decoder(version: ProtocolVersion) -> fn(&Bytes) -> Count {
    match version {
        ProtocolVersion::V3 => pushwire_payload_decode,
        _ => pushwire_eio4_payload_decode,
    }
}

/// A payload of `n` tick packets in revision `version`'s text form.
fn payload_for(version: ProtocolVersion, n: usize) -> Bytes {
    match version {
        ProtocolVersion::V3 => Bytes::from(eio3_text_payload(n)),
        _ => Bytes::from(eio4_text_payload(n)),
    }
}

/// Both decoders find the same `packets` packets and bytes in `body`.
fn payload_decode_check(body: &Bytes, packets: usize, version: ProtocolVersion) {
    let expected = pushwire_decoder(version)(body);
    assert_eq!(expected.0, packets);
    assert_eq!(
        engineioxide_payload_decode(body, version),
        expected,
        "engineioxide"
    );
}

/// `eio3_payload_decode` / `eio4_payload_decode`: the 1,000-packet payload.
fn payload_decode(c: &mut Criterion, group: &str, version: ProtocolVersion) {
    let (body, pushwire) = (payload_for(version, 1000), pushwire_decoder(version));
    payload_decode_check(&body, 1000, version);
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("pushwire", |b| {
        b.counted_iter(|| pushwire(black_box(&body)))
    });
    g.bench_function("engineioxide", |b| {
        b.counted_iter(|| engineioxide_payload_decode(black_box(&body), version))
    });
    g.finish();
}

/// The same decode at 10, 100 and 1,000 packets per payload; the throughput is in packets,
/// so criterion reports the per-packet rate (constant when decoding is linear).
fn payload_decode_scaling(c: &mut Criterion, group: &str, version: ProtocolVersion) {
    let mut g = c.benchmark_group(group);
    for n in [10, 100, 1000] {
        let (body, pushwire) = (payload_for(version, n), pushwire_decoder(version));
        payload_decode_check(&body, n, version);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("pushwire", n), &body, |b, body| {
            b.counted_iter(|| pushwire(black_box(body)))
        });
        g.bench_with_input(BenchmarkId::new("engineioxide", n), &body, |b, body| {
            b.counted_iter(|| engineioxide_payload_decode(black_box(body), version))
        });
    }
    g.finish();
}

fn eio3_payload_decode(c: &mut Criterion) {
    payload_decode(c, "eio3_payload_decode", ProtocolVersion::V3);
}

fn eio3_payload_decode_scaling(c: &mut Criterion) {
    payload_decode_scaling(c, "eio3_payload_decode_scaling", ProtocolVersion::V3);
}

fn eio4_payload_decode(c: &mut Criterion) {
    payload_decode(c, "eio4_payload_decode", ProtocolVersion::V4);
}

fn eio4_payload_decode_scaling(c: &mut Criterion) {
    payload_decode_scaling(c, "eio4_payload_decode_scaling", ProtocolVersion::V4);
}

// ---- payload encode -------------------------------------------------------------------

#[inline(never)]
fn pushwire_payload_encode(packets: &[Packet]) -> String {
    // The owned form: a `String` sized up front, as a polling response is built.
    match encode_payload(packets, false) {
        EncodedPayload::Text(out) => out,
        EncodedPayload::Binary(_) => unreachable!("text payload without binary support"),
    }
}

/// engineioxide encodes a stream of packet buffers (one per `emit`), consuming them.
#[inline(never)]
fn engineioxide_payload_encode(packets: Vec<PacketBuf>, version: ProtocolVersion) -> Bytes {
    block_on(payload::encoder(
        stream::iter(packets),
        version,
        false,
        u64::MAX,
    ))
    .data
}

/// The 1,000 tick packets as engineioxide's encoder takes them.
fn engineioxide_tick_bufs(texts: &[String]) -> Vec<PacketBuf> {
    texts
        .iter()
        .map(|t| PacketBuf::from_elem(XPacket::Message(Str::from(t[1..].to_owned())), 1))
        .collect()
}

fn eio3_payload_encode(c: &mut Criterion) {
    let texts = eio3_tick_packets(1000);
    let ours: Vec<Packet> = texts.iter().map(|t| Packet::message(&t[1..])).collect();
    let theirs = engineioxide_tick_bufs(&texts);
    let expected = pushwire_payload_encode(&ours);
    assert_eq!(expected, eio3_text_payload(1000));
    assert_eq!(
        engineioxide_payload_encode(theirs.clone(), ProtocolVersion::V3),
        expected.as_bytes(),
        "engineioxide"
    );
    let mut g = c.benchmark_group("eio3_payload_encode");
    g.throughput(Throughput::Bytes(expected.len() as u64));
    g.bench_function("pushwire", |b| {
        b.counted_iter(|| pushwire_payload_encode(black_box(&ours)))
    });
    // The packets are consumed: clone them outside the timed part (cheap `Bytes` clones).
    g.bench_function("engineioxide", |b| {
        b.counted_iter_batched(
            || theirs.clone(),
            |p| engineioxide_payload_encode(p, ProtocolVersion::V3),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

// ---- single packet decode -------------------------------------------------------------

/// Owned messages, as a WebSocket layer hands them over (`WsMessage::Text(String)`).
#[inline(never)]
fn pushwire_packet_decode(texts: Vec<String>) -> Count {
    let mut n = (0, 0);
    for t in texts {
        count_pushwire(
            &mut n,
            &Packet::from_ws_message(WsMessage::Text(t)).expect("valid packet"),
        );
    }
    n
}

/// Borrowed messages: `Packet::decode_str(&str)` (copies the data into the packet).
#[inline(never)]
fn pushwire_borrowed_packet_decode(texts: &[String]) -> Count {
    let mut n = (0, 0);
    for t in texts {
        count_pushwire(&mut n, &Packet::decode_str(t).expect("valid packet"));
    }
    n
}

#[inline(never)]
fn engineioxide_packet_decode(texts: Vec<String>, version: ProtocolVersion) -> Count {
    let mut n = (0, 0);
    for t in texts {
        count_engineioxide(&mut n, &XPacket::parse(version, t).expect("valid packet"));
    }
    n
}

fn eio3_packet_decode(c: &mut Criterion) {
    let texts = eio3_tick_packets(1000);
    let expected = pushwire_packet_decode(texts.clone());
    assert_eq!(expected.0, 1000);
    assert_eq!(pushwire_borrowed_packet_decode(&texts), expected);
    assert_eq!(
        engineioxide_packet_decode(texts.clone(), ProtocolVersion::V3),
        expected,
        "engineioxide"
    );
    let mut g = c.benchmark_group("eio3_packet_decode");
    g.throughput(Throughput::Elements(texts.len() as u64));
    // Both take ownership of the 1,000 messages: clone them outside the timed part.
    g.bench_function("pushwire", |b| {
        b.counted_iter_batched(
            || texts.clone(),
            pushwire_packet_decode,
            BatchSize::PerIteration,
        )
    });
    g.bench_function("pushwire-borrowed", |b| {
        b.counted_iter(|| pushwire_borrowed_packet_decode(black_box(&texts)))
    });
    g.bench_function("engineioxide", |b| {
        b.counted_iter_batched(
            || texts.clone(),
            |t| engineioxide_packet_decode(t, ProtocolVersion::V3),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

// ---- revision 4 ------------------------------------------------------------------------
//
// The same 1,000 tick packets; the payload joins them with the record separator `\x1e`.

#[inline(never)]
fn pushwire_eio4_payload_decode(body: &Bytes) -> Count {
    let mut n = (0, 0);
    for p in v4::decode_payload(body.clone(), Limits::DEFAULT) {
        count_pushwire(&mut n, &p.expect("valid payload"));
    }
    n
}

#[inline(never)]
fn pushwire_eio4_payload_encode(packets: &[Packet]) -> String {
    v4::payload_to_string(packets)
}

fn eio4_payload_encode(c: &mut Criterion) {
    let texts = eio3_tick_packets(1000);
    let ours: Vec<Packet> = texts.iter().map(|t| Packet::message(&t[1..])).collect();
    let theirs = engineioxide_tick_bufs(&texts);
    let expected = pushwire_eio4_payload_encode(&ours);
    assert_eq!(expected, eio4_text_payload(1000));
    assert_eq!(
        engineioxide_payload_encode(theirs.clone(), ProtocolVersion::V4),
        expected.as_bytes(),
        "engineioxide"
    );
    let mut g = c.benchmark_group("eio4_payload_encode");
    g.throughput(Throughput::Bytes(expected.len() as u64));
    g.bench_function("pushwire", |b| {
        b.counted_iter(|| pushwire_eio4_payload_encode(black_box(&ours)))
    });
    g.bench_function("engineioxide", |b| {
        b.counted_iter_batched(
            || theirs.clone(),
            |p| engineioxide_payload_encode(p, ProtocolVersion::V4),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// Owned WebSocket text messages, as for revision 3.
#[inline(never)]
fn pushwire_eio4_packet_decode(texts: Vec<String>) -> Count {
    let mut n = (0, 0);
    for t in texts {
        count_pushwire(
            &mut n,
            &v4::packet_from_ws_message(WsMessage::Text(t)).expect("valid packet"),
        );
    }
    n
}

fn eio4_packet_decode(c: &mut Criterion) {
    let texts = eio3_tick_packets(1000);
    let expected = pushwire_eio4_packet_decode(texts.clone());
    assert_eq!(expected.0, 1000);
    assert_eq!(
        engineioxide_packet_decode(texts.clone(), ProtocolVersion::V4),
        expected,
        "engineioxide"
    );
    let mut g = c.benchmark_group("eio4_packet_decode");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("pushwire", |b| {
        b.counted_iter_batched(
            || texts.clone(),
            pushwire_eio4_packet_decode,
            BatchSize::PerIteration,
        )
    });
    g.bench_function("engineioxide", |b| {
        b.counted_iter_batched(
            || texts.clone(),
            |t| engineioxide_packet_decode(t, ProtocolVersion::V4),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(
    benches,
    eio3_payload_decode,
    eio3_payload_encode,
    eio3_packet_decode,
    eio3_payload_decode_scaling,
    eio4_payload_decode,
    eio4_payload_encode,
    eio4_packet_decode,
    eio4_payload_decode_scaling
);
criterion_main!(benches);
