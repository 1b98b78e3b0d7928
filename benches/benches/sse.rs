//! SSE parsing and encoding, pushwire side by side with eventsource-stream and sse-stream.
//!
//! Every function parses the same chunks and counts the events and data bytes it got; the
//! counts are checked once before timing so that no implementation is timed doing less work.
//!
//! `pushwire` is the crate's reading API for throughput: `feed_bytes` then `poll_event_ref`,
//! whose events borrow the parser's buffers (nothing allocated per event). `pushwire-owned` is
//! `poll_event`, whose events are owned like the peers' (the one-line data shares the fed
//! chunk; the type and id are inline strings).

#![allow(missing_docs)]

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::executor::block_on;
use futures::stream::{self, StreamExt};
use pushwire_benches::count::Counting as _;
use pushwire_benches::{chunks, sse_large_stream, sse_small_stream};
use std::hint::black_box;

/// (events, data bytes)
type Count = (usize, usize);

fn pushwire(chunks: &[Bytes]) -> Count {
    let mut p = pushwire_sse::Parser::new();
    let (mut n, mut bytes) = (0, 0);
    for c in chunks {
        p.feed_bytes(c.clone()).expect("within limits");
        while let Some(e) = p.poll_event().expect("valid stream") {
            n += 1;
            bytes += e.data().len();
        }
    }
    (n, bytes)
}

/// The zero-allocation API: events borrow the parser's buffers.
fn pushwire_borrowed(chunks: &[Bytes]) -> Count {
    let mut p = pushwire_sse::Parser::new();
    let (mut n, mut bytes) = (0, 0);
    for c in chunks {
        p.feed_bytes(c.clone()).expect("within limits");
        while let Some(e) = p.poll_event_ref().expect("valid stream") {
            n += 1;
            bytes += e.data.len();
        }
    }
    (n, bytes)
}

fn eventsource_stream(chunks: &[Bytes]) -> Count {
    use eventsource_stream::Eventsource;
    let s = stream::iter(chunks.iter().cloned().map(Ok::<Bytes, std::io::Error>));
    block_on(async {
        let mut events = s.eventsource();
        let (mut n, mut bytes) = (0, 0);
        while let Some(e) = events.next().await {
            let e = e.expect("valid stream");
            n += 1;
            bytes += e.data.len();
        }
        (n, bytes)
    })
}

fn sse_stream(chunks: &[Bytes]) -> Count {
    let s = stream::iter(chunks.iter().cloned().map(Ok::<Bytes, std::io::Error>));
    block_on(async {
        let mut events = sse_stream::SseStream::from_bytes_stream(s);
        let (mut n, mut bytes) = (0, 0);
        while let Some(e) = events.next().await {
            let e = e.expect("valid stream");
            if let Some(d) = e.data {
                n += 1;
                bytes += d.len();
            }
        }
        (n, bytes)
    })
}

fn parse_group(c: &mut Criterion, name: &str, input: &[u8], chunk: usize, events: usize) {
    let chunks = chunks(input, chunk);
    let expected = pushwire(&chunks);
    assert_eq!(expected.0, events);
    assert_eq!(pushwire_borrowed(&chunks), expected, "pushwire");
    assert_eq!(eventsource_stream(&chunks), expected, "eventsource-stream");
    assert_eq!(sse_stream(&chunks), expected, "sse-stream");
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(input.len() as u64));
    // `pushwire` is the crate's reading API for throughput (events lent, nothing allocated
    // per event); `pushwire-owned` hands out owned events like the peers.
    g.bench_function("pushwire", |b| {
        b.counted_iter(|| pushwire_borrowed(black_box(&chunks)))
    });
    g.bench_function("pushwire-owned", |b| {
        b.counted_iter(|| pushwire(black_box(&chunks)))
    });
    g.bench_function("eventsource-stream", |b| {
        b.counted_iter(|| eventsource_stream(black_box(&chunks)))
    });
    g.bench_function("sse-stream", |b| {
        b.counted_iter(|| sse_stream(black_box(&chunks)))
    });
    g.finish();
}

fn sse_parse_small(c: &mut Criterion) {
    parse_group(
        c,
        "sse_parse_small",
        &sse_small_stream(10_000),
        4096,
        10_000,
    );
}

fn sse_parse_large(c: &mut Criterion) {
    parse_group(
        c,
        "sse_parse_large",
        &sse_large_stream(16, 64 * 1024),
        64 * 1024,
        16,
    );
}

fn sse_encode_small(c: &mut Criterion) {
    let payloads: Vec<(String, String)> = (0..10_000)
        .map(|i| {
            (
                i.to_string(),
                format!(
                    "{{\"seq\":{i},\"symbol\":\"PSHW\",\"price\":{}.{:02}}}",
                    100 + i % 50,
                    i % 100
                ),
            )
        })
        .collect();
    let total: usize = {
        let mut out = BytesMut::new();
        encode_all(&payloads, &mut out);
        out.len()
    };
    let mut g = c.benchmark_group("sse_encode_small");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("pushwire", |b| {
        let mut out = BytesMut::with_capacity(total);
        b.counted_iter(|| {
            out.clear();
            encode_all(black_box(&payloads), &mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

fn encode_all(payloads: &[(String, String)], out: &mut BytesMut) {
    for (id, data) in payloads {
        pushwire_sse::EventBuilder::new()
            .event("tick")
            .and_then(|e| e.id(id))
            .expect("valid fields")
            .data(data)
            .encode(out);
    }
}

criterion_group!(benches, sse_parse_small, sse_parse_large, sse_encode_small);
criterion_main!(benches);
