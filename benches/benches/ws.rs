//! WebSocket decoding, encoding and unmasking, pushwire side by side with tungstenite 0.30 and
//! fastwebsockets 0.10; permessage-deflate (`ws_deflate`) beside miniz_oxide's raw DEFLATE,
//! since neither peer implements it.
//!
//! How each implementation is driven (the same input, the same transport model):
//!
//! - The "transport" is memory. Received bytes come from one `&[u8]` holding every frame; a
//!   read returns at most [`READ_SIZE`] bytes, as a socket read would. Sent bytes are copied
//!   into a `Vec<u8>` sink (reserved once, cleared per iteration), as a socket write would copy
//!   them into the kernel.
//! - pushwire (sans-IO): `Connection::feed` with each `READ_SIZE` slice (one copy into the
//!   connection's buffer, like the peers' reads), then poll until `Ok(None)`. Each group's
//!   function named `pushwire` uses the crate's API for throughput, and a second function the
//!   other API, for a like-for-like view. Receiving, `pushwire` is `poll_event_ref`: each
//!   event borrows the connection's input buffer (no `Bytes` split off, no reference count,
//!   no allocation); `pushwire-owned` is `poll_event`, whose events own their payload as
//!   `Bytes` like the peers' messages. Sending, `pushwire` is `send_text_to`, which encodes
//!   straight into the sink (no allocation); `pushwire-queue` is the queue API, `send_text`
//!   then draining `poll_transmit` into the sink after every message (one allocation per
//!   message: the chunk handed out, since an idle connection keeps no output buffer).
//! - `tungstenite`: `WebSocket::from_raw_socket` (server role, default config) over
//!   [`SyncStream`], which implements `std::io::Read`/`Write` on the memory transport;
//!   `read()` per message; sending is `write()` per message then one `flush()`.
//! - `fastwebsockets`: `WebSocket::after_handshake` (server role, defaults: auto pong/close,
//!   64 MiB limit, simdutf8) wrapped in `FragmentCollector` (the type that reassembles and
//!   validates whole messages) over [`AsyncStream`], which implements tokio's
//!   `AsyncRead`/`AsyncWrite` on the memory transport and is always ready, so no reactor is
//!   involved. The futures run on a current-thread tokio runtime built once, outside the timed
//!   loop; `block_on` is called once per iteration (not per frame).
//!
//! Every decoder reports (messages, payload bytes, checksum of first/last bytes); every encoder
//! reports the bytes it wrote. These are checked against each other before timing, so nobody is
//! timed doing less work. Text is always fully UTF-8 validated (all three do it per message).

#![allow(missing_docs)]

use std::hint::black_box;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pushwire_benches::count::Counting as _;
use pushwire_benches::{
    ws_binary_payloads, ws_count, ws_expected_count, ws_mask_keys, ws_masked_frames, ws_small_texts,
};

/// Largest read the memory transport returns at once.
const READ_SIZE: usize = 16 * 1024;

/// (messages, payload bytes, checksum)
type Count = (usize, usize, u64);

// ----- the memory transport --------------------------------------------------------------

/// Reads come from `input` (at most [`READ_SIZE`] at a time), writes go to `sink`.
struct Mem<'a> {
    input: &'a [u8],
    sink: Vec<u8>,
}

impl<'a> Mem<'a> {
    fn new(input: &'a [u8], sink: Vec<u8>) -> Self {
        Mem { input, sink }
    }

    fn read_into(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.input.len()).min(READ_SIZE);
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        n
    }
}

/// The memory transport as a blocking `std::io` stream (tungstenite).
struct SyncStream<'a>(Mem<'a>);

impl io::Read for SyncStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.0.read_into(buf))
    }
}

impl io::Write for SyncStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.sink.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The memory transport as an always-ready tokio stream (fastwebsockets).
struct AsyncStream<'a>(Mem<'a>);

impl tokio::io::AsyncRead for AsyncStream<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = buf.remaining().min(this.0.input.len()).min(READ_SIZE);
        buf.put_slice(&this.0.input[..n]);
        this.0.input = &this.0.input[n..];
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for AsyncStream<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.sink.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("current-thread runtime")
}

// ----- decoding --------------------------------------------------------------------------

/// A fresh server connection decodes every message of `input`.
#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn pushwire_decode(input: &[u8], messages: usize) -> Count {
    use pushwire_ws::{Config, Connection, Event};
    let mut conn = Connection::server(Config::default());
    let mut count = (0, 0, 0);
    for chunk in input.chunks(READ_SIZE) {
        conn.feed(chunk).expect("within the input bound");
        while let Some(ev) = conn.poll_event().expect("valid frames") {
            match ev {
                Event::Text(t) => ws_count(&mut count, t.as_bytes()),
                Event::Binary(b) => ws_count(&mut count, &b),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(count.0, messages);
    count
}

#[inline(never)] // a whole iteration; kept out of line so profilers can find it
/// The borrowing API: `poll_event_ref`, events lent from the connection's input buffer.
fn pushwire_decode_borrowed(input: &[u8], messages: usize) -> Count {
    use pushwire_ws::{Config, Connection, EventRef};
    let mut conn = Connection::server(Config::default());
    let mut count = (0, 0, 0);
    for chunk in input.chunks(READ_SIZE) {
        conn.feed(chunk).expect("within the input bound");
        while let Some(ev) = conn.poll_event_ref().expect("valid frames") {
            match ev {
                EventRef::Text(t) => ws_count(&mut count, t.as_bytes()),
                EventRef::Binary(b) => ws_count(&mut count, b),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(count.0, messages);
    count
}

fn tungstenite_decode(input: &[u8], messages: usize) -> Count {
    use tungstenite::protocol::{Role, WebSocket};
    use tungstenite::Message;
    let stream = SyncStream(Mem::new(input, Vec::new()));
    let mut ws = WebSocket::from_raw_socket(stream, Role::Server, None);
    let mut count = (0, 0, 0);
    for _ in 0..messages {
        match ws.read().expect("valid frames") {
            Message::Text(t) => ws_count(&mut count, t.as_bytes()),
            Message::Binary(b) => ws_count(&mut count, &b),
            other => panic!("unexpected {other:?}"),
        }
    }
    count
}

#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn fastwebsockets_decode(rt: &tokio::runtime::Runtime, input: &[u8], messages: usize) -> Count {
    use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
    let stream = AsyncStream(Mem::new(input, Vec::new()));
    let mut ws = FragmentCollector::new(WebSocket::after_handshake(stream, Role::Server));
    rt.block_on(async {
        let mut count = (0, 0, 0);
        for _ in 0..messages {
            let frame = ws.read_frame().await.expect("valid frames");
            match frame.opcode {
                OpCode::Text | OpCode::Binary => ws_count(&mut count, &frame.payload),
                other => panic!("unexpected {other:?}"),
            }
        }
        count
    })
}

fn decode_group(c: &mut Criterion, name: &str, input: &[u8], expected: Count) {
    let rt = runtime();
    let n = expected.0;
    assert_eq!(pushwire_decode(input, n), expected, "pushwire-owned");
    assert_eq!(pushwire_decode_borrowed(input, n), expected, "pushwire");
    assert_eq!(tungstenite_decode(input, n), expected, "tungstenite");
    assert_eq!(
        fastwebsockets_decode(&rt, input, n),
        expected,
        "fastwebsockets"
    );
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(input.len() as u64));
    // `pushwire` lends each message (`poll_event_ref`, the API for throughput);
    // `pushwire-owned` hands out `Bytes` payloads like the peers' owned messages.
    g.bench_function("pushwire", |b| {
        b.counted_iter(|| pushwire_decode_borrowed(black_box(input), n))
    });
    g.bench_function("pushwire-owned", |b| {
        b.counted_iter(|| pushwire_decode(black_box(input), n))
    });
    g.bench_function("tungstenite", |b| {
        b.counted_iter(|| tungstenite_decode(black_box(input), n))
    });
    g.bench_function("fastwebsockets", |b| {
        b.counted_iter(|| fastwebsockets_decode(&rt, black_box(input), n))
    });
    g.finish();
}

fn ws_decode_small(c: &mut Criterion) {
    let texts = ws_small_texts(10_000);
    let input = ws_masked_frames(0x1, &texts);
    decode_group(c, "ws_decode_small", &input, ws_expected_count(&texts));
}

fn ws_decode_1k(c: &mut Criterion) {
    let payloads = ws_binary_payloads(1_000, 1024);
    let input = ws_masked_frames(0x2, &payloads);
    decode_group(c, "ws_decode_1k", &input, ws_expected_count(&payloads));
}

// ----- encoding --------------------------------------------------------------------------

/// Each message is sent, then the output drained into the sink, as an application writing
/// every message as soon as it is queued would. Payloads are `Utf8Bytes` built beforehand
/// (a clone is a reference count, no copy).
#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn pushwire_encode(texts: &[pushwire_ws::Utf8Bytes], mut sink: Vec<u8>) -> Vec<u8> {
    use pushwire_ws::{Config, Connection};
    let mut conn = Connection::server(Config::default());
    for t in texts {
        conn.send_text(t.clone()).expect("open");
        while let Some(chunk) = conn.poll_transmit() {
            sink.extend_from_slice(&chunk);
        }
    }
    sink
}

/// The direct API: each message is encoded straight into the sink (the transport's write
/// buffer) from a borrowed `&str`, like fastwebsockets' borrowed payload.
#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn pushwire_into(texts: &[String], mut sink: Vec<u8>) -> Vec<u8> {
    use pushwire_ws::{Config, Connection};
    let mut conn = Connection::server(Config::default());
    for t in texts {
        conn.send_text_to(&mut sink, t).expect("open");
    }
    sink
}

/// `write` buffers each frame in tungstenite's output buffer; one `flush` at the end.
#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn tungstenite_encode(texts: &[tungstenite::Utf8Bytes], sink: Vec<u8>) -> Vec<u8> {
    use tungstenite::protocol::{Role, WebSocket};
    use tungstenite::Message;
    let stream = SyncStream(Mem::new(&[], sink));
    let mut ws = WebSocket::from_raw_socket(stream, Role::Server, None);
    for t in texts {
        ws.write(Message::Text(t.clone())).expect("open");
    }
    ws.flush().expect("flush");
    ws.into_inner().0.sink
}

/// `write_frame` per message with a borrowed payload (no copy before the write).
#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn fastwebsockets_encode(rt: &tokio::runtime::Runtime, texts: &[String], sink: Vec<u8>) -> Vec<u8> {
    use fastwebsockets::{Frame, Payload, Role, WebSocket};
    let stream = AsyncStream(Mem::new(&[], sink));
    let mut ws = WebSocket::after_handshake(stream, Role::Server);
    rt.block_on(async {
        for t in texts {
            ws.write_frame(Frame::text(Payload::Borrowed(t.as_bytes())))
                .await
                .expect("open");
        }
    });
    ws.into_inner().0.sink
}

fn ws_encode_small(c: &mut Criterion) {
    let rt = runtime();
    let texts = ws_small_texts(10_000);
    let pw: Vec<pushwire_ws::Utf8Bytes> = texts.iter().map(|t| t.clone().into()).collect();
    let tg: Vec<tungstenite::Utf8Bytes> = texts.iter().map(|t| t.clone().into()).collect();
    let expected = pushwire_encode(&pw, Vec::new());
    assert_eq!(expected.len(), 10_000 * 18);
    assert_eq!(pushwire_into(&texts, Vec::new()), expected, "pushwire");
    assert_eq!(tungstenite_encode(&tg, Vec::new()), expected, "tungstenite");
    assert_eq!(
        fastwebsockets_encode(&rt, &texts, Vec::new()),
        expected,
        "fastwebsockets"
    );
    let cap = expected.len();
    let mut g = c.benchmark_group("ws_encode_small");
    g.throughput(Throughput::Bytes(cap as u64));
    let mut sink = Some(Vec::with_capacity(cap));
    // `pushwire` writes each frame straight into the caller's buffer (`send_text_to`);
    // `pushwire-queue` queues it and drains `Bytes` chunks after every message.
    g.bench_function("pushwire", |b| {
        b.counted_iter(|| {
            let mut s = sink.take().unwrap_or_default();
            s.clear();
            let s = pushwire_into(black_box(&texts), s);
            black_box(s.len());
            sink = Some(s);
        })
    });
    g.bench_function("pushwire-queue", |b| {
        b.counted_iter(|| {
            let mut s = sink.take().unwrap_or_default();
            s.clear();
            let s = pushwire_encode(black_box(&pw), s);
            black_box(s.len());
            sink = Some(s);
        })
    });
    g.bench_function("tungstenite", |b| {
        b.counted_iter(|| {
            let mut s = sink.take().unwrap_or_default();
            s.clear();
            let s = tungstenite_encode(black_box(&tg), s);
            black_box(s.len());
            sink = Some(s);
        })
    });
    g.bench_function("fastwebsockets", |b| {
        b.counted_iter(|| {
            let mut s = sink.take().unwrap_or_default();
            s.clear();
            let s = fastwebsockets_encode(&rt, black_box(&texts), s);
            black_box(s.len());
            sink = Some(s);
        })
    });
    g.finish();
}

// ----- unmasking -------------------------------------------------------------------------

fn unmask_group(c: &mut Criterion, name: &str, len: usize) {
    let key = ws_mask_keys(1)[0];
    let data: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
    // Both maskers agree with the naive loop before timing.
    let mut a = data.clone();
    let mut b = data.clone();
    let mut naive = data.clone();
    pushwire_ws::mask::apply_mask(&mut a, key, 0);
    fastwebsockets::unmask(&mut b, key);
    pushwire_ws::mask::apply_mask_naive(&mut naive, key, 0);
    assert_eq!(a, naive, "pushwire");
    assert_eq!(b, naive, "fastwebsockets");

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(len as u64));
    // Masking is its own inverse: each iteration flips the buffer between masked and clear.
    let mut buf = data.clone();
    g.bench_function("pushwire", |bch| {
        bch.counted_iter(|| pushwire_ws::mask::apply_mask(black_box(&mut buf), black_box(key), 0))
    });
    g.bench_function("fastwebsockets", |bch| {
        bch.counted_iter(|| fastwebsockets::unmask(black_box(&mut buf), black_box(key)))
    });
    // The physical reference: one read and one write of every byte.
    let mut dst = vec![0u8; len];
    g.bench_function("memcpy", |bch| {
        bch.counted_iter(|| black_box(&mut dst).copy_from_slice(black_box(&data)))
    });
    g.finish();
}

fn ws_unmask_64k(c: &mut Criterion) {
    unmask_group(c, "ws_unmask_64k", 64 * 1024);
}

fn ws_unmask_1m(c: &mut Criterion) {
    unmask_group(c, "ws_unmask_1m", 1024 * 1024);
}

// ----- permessage-deflate ----------------------------------------------------------------

/// The agreement of `ws_deflate`: the defaults, i.e. context takeover both ways, 15-bit
/// windows (what browsers, node `ws` and python `websockets` end up with), on the miniz_oxide
/// engine, since this group measures the codec's cost over that raw library (the engines
/// are compared in benches/deflate.rs).
fn deflate_conn(role: pushwire_ws::Role) -> pushwire_ws::Connection {
    use pushwire_ws::deflate::negotiate::Agreement;
    use pushwire_ws::deflate::{DeflateConfig, Engine, PerMessageDeflate};
    use pushwire_ws::{Config, Connection, FixedMaskKey, Role};
    let mut conn = match role {
        Role::Server => Connection::server(Config::default()),
        Role::Client => Connection::with_mask_keys(
            Role::Client,
            Config::default(),
            Box::new(FixedMaskKey([1, 2, 3, 4])),
        ),
    };
    conn.set_extension(Box::new(PerMessageDeflate::new(
        role,
        Agreement::default(),
        DeflateConfig::default().with_engine(Engine::Miniz),
    )));
    conn
}

/// Sends every text into the sink it is given, and returns the sink.
type SendInto = fn(&[String], Vec<u8>) -> Vec<u8>;

/// A fresh server connection with permessage-deflate sends every message with
/// `send_text_to` (compressed, framed) into the sink.
#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn pushwire_deflate_send(texts: &[String], mut sink: Vec<u8>) -> Vec<u8> {
    let mut conn = deflate_conn(pushwire_ws::Role::Server);
    for t in texts {
        conn.send_text_to(&mut sink, t).expect("open");
    }
    sink
}

/// The same without the extension (the uncompressed path, for comparison).
#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn pushwire_plain_send(texts: &[String], mut sink: Vec<u8>) -> Vec<u8> {
    let mut conn = pushwire_ws::Connection::server(pushwire_ws::Config::default());
    for t in texts {
        conn.send_text_to(&mut sink, t).expect("open");
    }
    sink
}

/// The physical reference: miniz_oxide's raw DEFLATE, one compressor for all messages
/// (context takeover), a sync flush per message and the `00 00 ff ff` tail cut, no framing.
#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn miniz_compress(texts: &[String], mut sink: Vec<u8>) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
        TDEFLStatus,
    };
    let mut c = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
        6, -15, 0,
    )));
    for t in texts {
        let (status, _) = compress_to_output(&mut c, t.as_bytes(), TDEFLFlush::Sync, |b| {
            sink.extend_from_slice(b);
            true
        });
        assert_eq!(status, TDEFLStatus::Okay);
        sink.truncate(sink.len() - 4);
    }
    sink
}

/// A fresh server connection with permessage-deflate decodes every (masked, compressed)
/// message of `input`.
#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn pushwire_inflate_decode(input: &[u8], messages: usize) -> Count {
    use pushwire_ws::Event;
    let mut conn = deflate_conn(pushwire_ws::Role::Server);
    let mut count = (0, 0, 0);
    for chunk in input.chunks(READ_SIZE) {
        conn.feed(chunk).expect("within the input bound");
        while let Some(ev) = conn.poll_event().expect("valid frames") {
            match ev {
                Event::Text(t) => ws_count(&mut count, t.as_bytes()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(count.0, messages);
    count
}

/// The physical reference: miniz_oxide's raw inflate of each (unmasked) compressed payload
/// with the tail appended, one inflater for all (context takeover), into a reused buffer,
/// plus the UTF-8 check every WebSocket text message needs.
#[inline(never)] // a whole iteration; kept out of line so profilers can find it
fn miniz_inflate(payloads: &[Vec<u8>], out: &mut Vec<u8>) -> Count {
    use miniz_oxide::inflate::stream::{inflate, InflateState};
    use miniz_oxide::{DataFormat, MZFlush};
    let mut st = InflateState::new_boxed(DataFormat::Raw);
    let mut count = (0, 0, 0);
    for p in payloads {
        out.clear();
        for mut input in [&p[..], &[0, 0, 0xff, 0xff][..]] {
            while !input.is_empty() {
                let start = out.len();
                out.resize(start + 4096, 0);
                let r = inflate(&mut st, input, &mut out[start..], MZFlush::None);
                out.truncate(start + r.bytes_written);
                input = &input[r.bytes_consumed..];
                r.status.expect("valid stream");
            }
        }
        let text = std::str::from_utf8(out).expect("UTF-8");
        ws_count(&mut count, text.as_bytes());
    }
    count
}

/// Compressed payloads (unmasked) and total frame bytes of a connection's output.
fn frame_payloads(mut wire: &[u8]) -> Vec<Vec<u8>> {
    use pushwire_ws::frame::{FrameHeader, HeaderDecode};
    let mut out = Vec::new();
    while !wire.is_empty() {
        let Ok(HeaderDecode::Complete { header, header_len }) = FrameHeader::decode(wire, true)
        else {
            panic!("bad frame");
        };
        let len = header.payload_len as usize;
        let mut p = wire[header_len..header_len + len].to_vec();
        if let Some(k) = header.mask {
            pushwire_ws::mask::apply_mask(&mut p, k, 0);
        }
        assert_eq!(
            header.rsv,
            pushwire_ws::frame::RSV1,
            "every message compressed"
        );
        out.push(p);
        wire = &wire[header_len + len..];
    }
    out
}

/// `ws_deflate`: 1,000 JSON messages of about 1 KiB with context takeover, compressed
/// (server sending) and decompressed (server receiving a client's masked frames); the
/// uncompressed path and miniz_oxide's raw DEFLATE beside. Throughput is in uncompressed
/// bytes for every entry.
fn ws_deflate(c: &mut Criterion) {
    let texts = pushwire_benches::ws_json_messages(1_000);
    let raw: usize = texts.iter().map(String::len).sum();
    let expected = ws_expected_count(&texts);

    // Sending: pushwire's payloads must be byte for byte miniz's raw stream.
    let sent = pushwire_deflate_send(&texts, Vec::new());
    let payloads = frame_payloads(&sent);
    let reference = miniz_compress(&texts, Vec::new());
    assert_eq!(payloads.concat(), reference, "same compressed bytes");
    // Receiving: a client's masked compressed frames.
    let mut client = deflate_conn(pushwire_ws::Role::Client);
    let mut input = Vec::new();
    for t in &texts {
        client.send_text_to(&mut input, t).expect("open");
    }
    let client_payloads = frame_payloads(&input);
    assert_eq!(pushwire_inflate_decode(&input, texts.len()), expected);
    let mut scratch = Vec::with_capacity(64 * 1024);
    assert_eq!(miniz_inflate(&client_payloads, &mut scratch), expected);
    let plain_in = ws_masked_frames(0x1, &texts);
    assert_eq!(pushwire_decode(&plain_in, texts.len()), expected);
    eprintln!(
        "ws_deflate: {} messages, {raw} bytes of JSON -> {} bytes compressed payload \
         (ratio {:.2}, {:.1}% of the original); frames on the wire: {} bytes compressed, {} \
         uncompressed",
        texts.len(),
        reference.len(),
        raw as f64 / reference.len() as f64,
        100.0 * reference.len() as f64 / raw as f64,
        sent.len(),
        pushwire_plain_send(&texts, Vec::new()).len(),
    );

    let mut g = c.benchmark_group("ws_deflate");
    g.throughput(Throughput::Bytes(raw as u64));
    g.sample_size(20);
    let cap = raw + texts.len() * 14;
    let mut sink = Vec::with_capacity(cap);
    let sends: [(&str, SendInto); 3] = [
        ("compress/pushwire", pushwire_deflate_send),
        ("compress/miniz-raw", miniz_compress),
        ("uncompressed-send/pushwire", pushwire_plain_send),
    ];
    for (name, send) in sends {
        g.bench_function(name, |b| {
            b.counted_iter(|| {
                let mut s = core::mem::take(&mut sink);
                s.clear();
                sink = send(black_box(&texts), s);
            })
        });
    }
    g.bench_function("decompress/pushwire", |b| {
        b.counted_iter(|| pushwire_inflate_decode(black_box(&input), texts.len()))
    });
    g.bench_function("decompress/miniz-raw", |b| {
        b.counted_iter(|| miniz_inflate(black_box(&client_payloads), &mut scratch))
    });
    g.bench_function("uncompressed-receive/pushwire", |b| {
        b.counted_iter(|| pushwire_decode(black_box(&plain_in), texts.len()))
    });
    g.finish();
}

criterion_group!(
    benches,
    ws_decode_small,
    ws_decode_1k,
    ws_encode_small,
    ws_unmask_64k,
    ws_unmask_1m,
    ws_deflate
);
criterion_main!(benches);
