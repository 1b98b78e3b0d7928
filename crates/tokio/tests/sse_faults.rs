//! SSE resume on a bad network (issue 18): `EventSource` reads a `Channel` on `axum::serve`
//! through a faulty TCP relay — delays, connections cut mid-stream (FIN or reset), and a
//! partition that swallows everything for a while, then heals. Every event must arrive
//! exactly once and in order. (netem is not in this machine's kernel, so the faults are the
//! relay's, in user space, from a seed.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use pushwire_sse::EventBuilder;
use pushwire_tokio::sse::{Channel, ClientConfig, EventSource, Jitter, LastEventId, Sse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{sleep, Instant};

const EVENTS: u64 = 1500;

async fn events(State(ch): State<Channel>, last: LastEventId) -> impl IntoResponse {
    let sub = match last.as_deref() {
        Some(id) => ch.subscribe(Some(id)),
        None => ch.subscribe_at(0),
    };
    Sse::new(sub).keep_alive(Some(Duration::from_millis(100)))
}

/// SplitMix64, for reproducible faults.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A relay to `upstream` that delays each chunk from the server by 0–15 ms, cuts each
/// connection after a random 2–40 KiB from the server (half with a reset), and during
/// `partition` (from the relay's start) forwards nothing at all, in either direction.
async fn relay(
    upstream: u16,
    seed: u64,
    partition: (Duration, Duration),
    cuts: Arc<AtomicU64>,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let start = Instant::now();
    let partitioned = move || {
        let t = start.elapsed();
        t >= partition.0 && t < partition.1
    };
    tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            let (mut down, _) = listener.accept().await.unwrap();
            n += 1;
            let mut rng = Rng(seed ^ n.wrapping_mul(0xA24B_AED4_963E_E407));
            let cuts = cuts.clone();
            tokio::spawn(async move {
                let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    return;
                };
                let budget = 2048 + rng.below(38 * 1024) as usize;
                let reset = rng.below(2) == 0;
                let mut sent = 0usize;
                let (mut dr, mut dw) = down.split();
                let (mut ur, mut uw) = up.split();
                let mut req = [0u8; 4096];
                let mut resp = [0u8; 4096];
                loop {
                    tokio::select! {
                        r = dr.read(&mut req) => match r {
                            Ok(0) | Err(_) => break,
                            Ok(k) => {
                                while partitioned() { sleep(Duration::from_millis(10)).await; }
                                if uw.write_all(&req[..k]).await.is_err() { break; }
                            }
                        },
                        r = ur.read(&mut resp) => match r {
                            Ok(0) | Err(_) => break,
                            Ok(k) => {
                                sleep(Duration::from_millis(rng.below(16))).await;
                                while partitioned() { sleep(Duration::from_millis(10)).await; }
                                let k = k.min(budget - sent);
                                if dw.write_all(&resp[..k]).await.is_err() { break; }
                                sent += k;
                                if sent >= budget {
                                    cuts.fetch_add(1, Ordering::Relaxed);
                                    if reset {
                                        let _ = down.set_zero_linger();
                                    }
                                    break;
                                }
                            }
                        },
                    }
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_once_through_cuts_delays_and_a_partition() {
    let ch = Channel::new(EVENTS as usize);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route("/events", get(events))
        .with_state(ch.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let cuts = Arc::new(AtomicU64::new(0));
    let partition = (Duration::from_millis(800), Duration::from_millis(2300));
    let port = relay(upstream, 0x5EED, partition, cuts.clone()).await;
    // Events at about 1 per ms, some with several lines and characters that need care.
    let producer = {
        let ch = ch.clone();
        tokio::spawn(async move {
            for i in 0..EVENTS {
                let data = format!("{i}\nline two é 😀 {}", "x".repeat((i % 7 * 40) as usize));
                ch.send(EventBuilder::new().data(&data));
                if i % 10 == 0 {
                    sleep(Duration::from_millis(10)).await;
                }
            }
        })
    };
    let config = ClientConfig::DEFAULT
        .with_reconnection_time(Duration::from_millis(20))
        .with_min_backoff(Duration::from_millis(20))
        .with_max_backoff(Duration::from_millis(200))
        .with_jitter(Jitter::Full)
        .with_backoff_reset_after(Duration::from_millis(100))
        // The partition is seen as silence: keep-alives stop, the read times out.
        .with_read_timeout(Some(Duration::from_millis(400)))
        .with_connect_timeout(Some(Duration::from_millis(400)));
    let mut source = EventSource::builder(&format!("http://127.0.0.1:{port}/events"))
        .config(config)
        .seed(7)
        .build()
        .unwrap();
    let mut got = Vec::with_capacity(EVENTS as usize);
    let run = async {
        while (got.len() as u64) < EVENTS {
            let e = source
                .next()
                .await
                .expect("the source never ends here")
                .unwrap();
            let n: u64 = e.last_event_id().parse().unwrap();
            // Every event once and in order: the next one is always the one expected.
            assert_eq!(n, got.len() as u64, "after {} events in order", got.len());
            let first_line = e.data().split('\n').next().unwrap().to_string();
            assert_eq!(first_line, n.to_string(), "the event's own data");
            assert!(e.data().ends_with(&"x".repeat((n % 7 * 40) as usize)));
            got.push(n);
        }
    };
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .unwrap_or_else(|_| panic!("stalled after {} events", got.len()));
    producer.await.unwrap();
    let cut = cuts.load(Ordering::Relaxed);
    assert!(
        cut >= 5,
        "the relay cut only {cut} connections: the test tested little"
    );
    assert!(
        source.streams_opened() > cut,
        "{} streams",
        source.streams_opened()
    );
    println!(
        "{EVENTS} events once, in order; {} streams, {cut} cut by the relay",
        source.streams_opened()
    );
}
