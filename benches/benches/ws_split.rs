//! What splitting a WebSocket into owned halves costs on each path: pushwire-tokio's
//! `WsReader`/`WsWriter` against its whole `WebSocketStream`, and tokio-tungstenite 0.30's
//! `StreamExt::split` (a `BiLock` around the whole stream) against its whole stream.
//!
//! - Transport: memory, no reactor. Reading, a `&[u8]` of 1,000 masked 16-byte text frames
//!   (`tokio::io::join` with a sink as the write side); writing, a sink that discards (with an
//!   empty reader). Every transport is always ready, so what is timed is the I/O layer.
//! - Receive: 1,000 `recv`/`next` calls. Send: 1,000 `feed`s then one `flush` (pushwire's
//!   `feed` and tungstenite's `SinkExt::feed`).
//! - Streams are built (and split) in the setup of `iter_batched`, outside the timing; the
//!   futures run on one current-thread runtime with `block_on` once per iteration.
//!
//! Each side's message count is checked before timing.
//!
//! `cargo bench -p pushwire-benches --bench ws_split`

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures_util::{SinkExt, StreamExt};
use pushwire_benches::count::Counting as _;
use pushwire_tokio::{Config, Message, Role, WebSocketStream};
use pushwire_ws::{Connection, FixedMaskKey};
use tokio::io::{empty, join, sink, Empty, Join, Sink};
use tokio_tungstenite::tungstenite::protocol::Role as TRole;
use tokio_tungstenite::tungstenite::Message as TMessage;

const N: usize = 1000;
const PAYLOAD: &str = "0123456789abcdef";

/// 1,000 masked text frames, as a client sends them.
fn client_frames() -> Vec<u8> {
    let mut c = Connection::with_mask_keys(
        pushwire_ws::Role::Client,
        pushwire_ws::Config::default(),
        Box::new(FixedMaskKey([1, 2, 3, 4])),
    );
    let mut out = Vec::new();
    for _ in 0..N {
        c.send_text_to(&mut out, PAYLOAD).unwrap();
    }
    out
}

type ReadIo = Join<&'static [u8], Sink>;
type WriteIo = Join<Empty, Sink>;

/// A tokio-tungstenite server stream on `io` (no handshake).
fn tungstenite<T>(rt: &tokio::runtime::Runtime, io: T) -> tokio_tungstenite::WebSocketStream<T>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    rt.block_on(tokio_tungstenite::WebSocketStream::from_raw_socket(
        io,
        TRole::Server,
        None,
    ))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn recv(c: &mut Criterion) {
    let wire: &'static [u8] = Box::leak(client_frames().into_boxed_slice());
    let rt = rt();
    let io = || join(wire, sink());
    // Check: every implementation receives N texts.
    rt.block_on(async {
        let (mut r, _w) = WebSocketStream::from_raw(io(), Role::Server, Config::DEFAULT)
            .split()
            .unwrap();
        let mut n = 0;
        while let Some(Ok(Message::Text(_))) = r.recv().await {
            n += 1;
        }
        assert_eq!(n, N);
        let ws =
            tokio_tungstenite::WebSocketStream::from_raw_socket(io(), TRole::Server, None).await;
        let (_s, mut st) = ws.split();
        let mut n = 0;
        while let Some(Ok(TMessage::Text(_))) = st.next().await {
            n += 1;
        }
        assert_eq!(n, N);
    });
    let mut g = c.benchmark_group("ws_split_recv_16B");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("pushwire-whole", |b| {
        b.counted_iter_batched(
            || WebSocketStream::from_raw(io(), Role::Server, Config::DEFAULT),
            |mut ws: WebSocketStream<ReadIo>| {
                rt.block_on(async {
                    for _ in 0..N {
                        black_box(ws.recv().await);
                    }
                });
                // Dropped outside the timing, like every other variant's streams.
                ws
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("pushwire-reader", |b| {
        b.counted_iter_batched(
            || {
                WebSocketStream::from_raw(io(), Role::Server, Config::DEFAULT)
                    .split()
                    .unwrap()
            },
            |(mut r, w)| {
                rt.block_on(async {
                    for _ in 0..N {
                        black_box(r.recv().await);
                    }
                });
                (r, w)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("tokio-tungstenite-whole", |b| {
        b.counted_iter_batched(
            || tungstenite(&rt, io()),
            |mut ws| {
                rt.block_on(async {
                    for _ in 0..N {
                        black_box(ws.next().await);
                    }
                });
                ws
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("tokio-tungstenite-split", |b| {
        b.counted_iter_batched(
            || tungstenite(&rt, io()).split(),
            |(s, mut st)| {
                rt.block_on(async {
                    for _ in 0..N {
                        black_box(st.next().await);
                    }
                });
                (s, st)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn send(c: &mut Criterion) {
    let rt = rt();
    let io = || join(empty(), sink());
    let mut g = c.benchmark_group("ws_split_send_16B");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("pushwire-whole", |b| {
        b.counted_iter_batched(
            || WebSocketStream::from_raw(io(), Role::Server, Config::DEFAULT),
            |mut ws: WebSocketStream<WriteIo>| {
                rt.block_on(async {
                    for _ in 0..N {
                        ws.feed(Message::text(PAYLOAD)).await.unwrap();
                    }
                    ws.flush().await.unwrap();
                });
                ws
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("pushwire-writer", |b| {
        b.counted_iter_batched(
            || {
                WebSocketStream::from_raw(io(), Role::Server, Config::DEFAULT)
                    .split()
                    .unwrap()
            },
            |(r, mut w)| {
                rt.block_on(async {
                    for _ in 0..N {
                        w.feed(Message::text(PAYLOAD)).await.unwrap();
                    }
                    w.flush().await.unwrap();
                });
                (r, w)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("tokio-tungstenite-whole", |b| {
        b.counted_iter_batched(
            || tungstenite(&rt, io()),
            |mut ws| {
                rt.block_on(async {
                    for _ in 0..N {
                        ws.feed(TMessage::text(PAYLOAD)).await.unwrap();
                    }
                    ws.flush().await.unwrap();
                });
                ws
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("tokio-tungstenite-split", |b| {
        b.counted_iter_batched(
            || tungstenite(&rt, io()).split(),
            |(mut s, st)| {
                rt.block_on(async {
                    for _ in 0..N {
                        s.feed(TMessage::text(PAYLOAD)).await.unwrap();
                    }
                    s.flush().await.unwrap();
                });
                (s, st)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, recv, send);
criterion_main!(benches);
