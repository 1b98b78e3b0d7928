//! `deflate_engines`: permessage-deflate's two engines (miniz_oxide, zlib-rs) through
//! pushwire-ws's own codec (`PerMessageDeflate::compress` / `decompress`), on a corpus of
//! message kinds, with and without context takeover (and without it, with `share_per_thread`)
//! (issue 18).
//!
//! Corpus (deterministic, built in `corpus`):
//! * `chat`: 2,000 Socket.IO chat events of 60–260 bytes (`42["chat",{…}]`), names and rooms
//!   from short lists, words from a small vocabulary, ids and times counting up;
//! * `book`: 500 order-book JSON updates of ~1 KiB (`pushwire_benches::ws_json_messages`,
//!   the `ws_deflate` payloads);
//! * `logs`: 200 batches of 24 structured log lines (~3 KiB each);
//! * `binary`: 200 messages of 4 KiB: 100 of little-endian f32 sensor samples (a slow signal
//!   plus noise: compresses a little) and 100 slices of docs/demo.png (already compressed:
//!   the incompressible case).
//!
//! Each benchmark compresses (or inflates) every message of a kind on a fresh codec, so
//! with context takeover each message may refer to the earlier ones, as on a connection.
//! Throughput is in uncompressed bytes. `cargo bench -p pushwire-benches --bench deflate`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pushwire_benches::count::Counting as _;
use pushwire_ws::deflate::negotiate::Agreement;
use pushwire_ws::deflate::{DeflateConfig, Engine, PerMessageDeflate};
use pushwire_ws::Role;

/// A small LCG: the corpus is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.next() as usize % from.len()]
    }
}

fn chat(n: usize) -> Vec<Vec<u8>> {
    const NAMES: [&str; 8] = [
        "ada", "grace", "linus", "margaret", "dennis", "barbara", "ken", "radia",
    ];
    const ROOMS: [&str; 4] = ["general", "random", "ops", "release-2026-12"];
    const WORDS: [&str; 24] = [
        "the", "deploy", "is", "green", "again", "who", "broke", "staging", "I", "will", "look",
        "at", "it", "after", "lunch", "thanks", "merged", "review", "please", "ok", "on", "my",
        "way", "done",
    ];
    let mut r = Lcg(7);
    (0..n)
        .map(|i| {
            let words = 2 + r.next() as usize % 30;
            let text: Vec<&str> = (0..words).map(|_| r.pick(&WORDS)).collect();
            format!(
                "42[\"chat\",{{\"id\":{},\"room\":\"{}\",\"from\":\"{}\",\"at\":{},\"text\":\"{}\"}}]",
                90_000 + i,
                r.pick(&ROOMS),
                r.pick(&NAMES),
                1_765_000_000_000u64 + i as u64 * 1_733,
                text.join(" ")
            )
            .into_bytes()
        })
        .collect()
}

fn logs(n: usize) -> Vec<Vec<u8>> {
    const LEVELS: [&str; 4] = ["INFO", "INFO", "DEBUG", "WARN"];
    const TARGETS: [&str; 5] = [
        "pushwire_tokio::engineio",
        "pushwire_tokio::socketio::cluster",
        "pushwire_cli::serve",
        "hyper_util::server::conn::auto",
        "pushwire_tokio::ws",
    ];
    const WHAT: [&str; 6] = [
        "session opened transport=polling",
        "upgraded to websocket",
        "published broadcast to 3 nodes",
        "client closed with 1000",
        "slow consumer skipped: queue full",
        "ping timeout; closing",
    ];
    let mut r = Lcg(11);
    let mut t = 1_765_050_000_000u64;
    (0..n)
        .map(|_| {
            let mut s = String::new();
            for _ in 0..24 {
                t += r.next() % 400;
                s.push_str(&format!(
                    "2026-12-06T{:02}:{:02}:{:02}.{:03}Z {:5} {}: {} sid={:016x} peer=10.231.0.{}:{} rtt_ms={}\n",
                    (t / 3_600_000) % 24,
                    (t / 60_000) % 60,
                    (t / 1000) % 60,
                    t % 1000,
                    r.pick(&LEVELS),
                    r.pick(&TARGETS),
                    r.pick(&WHAT),
                    r.next() << 20 | r.next(),
                    2 + r.next() % 3,
                    40_000 + r.next() % 20_000,
                    r.next() % 50
                ));
            }
            s.into_bytes()
        })
        .collect()
}

fn binary(n: usize) -> Vec<Vec<u8>> {
    let png = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/demo.png"))
        .expect("docs/demo.png");
    let mut r = Lcg(13);
    let mut phase = 0f32;
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                let mut m = Vec::with_capacity(4096);
                for _ in 0..1024 {
                    phase += 0.01;
                    let noise = (r.next() % 1000) as f32 / 100_000.0;
                    m.extend_from_slice(&(20.0 + phase.sin() * 3.0 + noise).to_le_bytes());
                }
                m
            } else {
                let at = (i * 4096 * 7) % (png.len() - 4096);
                png[at..at + 4096].to_vec()
            }
        })
        .collect()
}

fn corpus() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    vec![
        ("chat", chat(2_000)),
        (
            "book",
            pushwire_benches::ws_json_messages(500)
                .into_iter()
                .map(String::into_bytes)
                .collect(),
        ),
        ("logs", logs(200)),
        ("binary", binary(200)),
    ]
}

fn agreement(takeover: bool) -> Agreement {
    Agreement {
        server_no_context_takeover: !takeover,
        client_no_context_takeover: !takeover,
        ..Agreement::default()
    }
}

/// How a connection keeps its DEFLATE state: context takeover, none (a compressor and an
/// inflater allocated per message), or none with `share_per_thread` (one spare of each per
/// thread, reset per message).
#[derive(Clone, Copy)]
enum Mode {
    Takeover,
    NoTakeover,
    NoTakeoverShared,
}

impl Mode {
    const ALL: [(&'static str, Mode); 3] = [
        ("takeover", Mode::Takeover),
        ("no-takeover", Mode::NoTakeover),
        ("no-takeover-shared", Mode::NoTakeoverShared),
    ];
}

fn codec(engine: Engine, mode: Mode, role: Role) -> PerMessageDeflate {
    PerMessageDeflate::new(
        role,
        agreement(matches!(mode, Mode::Takeover)),
        DeflateConfig::default()
            .with_engine(engine)
            .with_share_per_thread(matches!(mode, Mode::NoTakeoverShared)),
    )
}

/// Compresses every message on a fresh server codec; returns the compressed messages.
#[inline(never)]
fn compress_all(engine: Engine, mode: Mode, msgs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut c = codec(engine, mode, Role::Server);
    msgs.iter()
        .map(|m| c.compress(m).expect("compresses"))
        .collect()
}

/// Inflates every compressed message on a fresh client codec; returns the bytes out.
#[inline(never)]
fn inflate_all(engine: Engine, mode: Mode, zs: &[Vec<u8>]) -> usize {
    let mut d = codec(engine, mode, Role::Client);
    zs.iter()
        .map(|z| d.decompress(z, 1 << 24).expect("inflates").len())
        .sum()
}

const ENGINES: [(&str, Engine); 2] = [("miniz", Engine::Miniz), ("zlib-rs", Engine::ZlibRs)];

fn deflate_engines(c: &mut Criterion) {
    for (kind, msgs) in corpus() {
        let raw: usize = msgs.iter().map(Vec::len).sum();
        for (mode, takeover) in Mode::ALL {
            // Every engine inflates every engine's output to the original messages.
            for (en, e) in ENGINES {
                let zs = compress_all(e, takeover, &msgs);
                let size: usize = zs.iter().map(Vec::len).sum();
                eprintln!(
                    "deflate_engines {kind}/{mode}: {en} compresses {raw} bytes to {size} ({:.1}%)",
                    100.0 * size as f64 / raw as f64
                );
                for (_, d) in ENGINES {
                    let mut dec = codec(d, takeover, Role::Client);
                    for (z, m) in zs.iter().zip(&msgs) {
                        assert_eq!(&dec.decompress(z, 1 << 24).expect("inflates"), m);
                    }
                }
            }
            let mut g = c.benchmark_group(format!("deflate_engines/{kind}/{mode}"));
            g.throughput(Throughput::Bytes(raw as u64));
            g.sample_size(10);
            // Both inflate the same input: zlib's format choices, which are what browsers,
            // node `ws` and python `websockets` (all on zlib) send.
            let zs = compress_all(Engine::ZlibRs, takeover, &msgs);
            for (en, e) in ENGINES {
                g.bench_function(format!("compress/{en}"), |b| {
                    b.counted_iter(|| compress_all(e, takeover, std::hint::black_box(&msgs)))
                });
                g.bench_function(format!("decompress/{en}"), |b| {
                    b.counted_iter(|| inflate_all(e, takeover, std::hint::black_box(&zs)))
                });
            }
            g.finish();
        }
    }
}

criterion_group!(benches, deflate_engines);
criterion_main!(benches);
