//! WebSocketStream over a bad network (issue 18, "bad networks"), in paused tokio time.
//!
//! Between the client and the server runs a relay, [`Net`], that behaves as TCP does on a
//! bad path, as the application sees it: every byte arrives once and in order, but late
//! (`latency` each way), not at all while the path is **partitioned** (bytes wait in the
//! relay and flow again when it heals: TCP retransmits them), or never, when the path is
//! **cut** (both ends see their connection end). Packet loss and reordering are below TCP
//! and show here only as latency. netem is not in this machine's kernel, and a user-space
//! relay in paused time runs the same cases deterministically and at once.
//!
//! What is checked: close handshakes finish over latency or end by the configured timeout
//! during a partition; a partition shorter than the pong timeout loses and repeats nothing;
//! a longer one ends both sides by their timers; a cut ends both sides with an error or the
//! end of the stream. Every wait in these tests has a deadline, so a hang fails the test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pushwire_tokio::{Config, Error, Message, TimeoutKind, WebSocketStream};
use tokio::io::{duplex, split, AsyncReadExt, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, timeout, Instant};

const MS: fn(u64) -> Duration = Duration::from_millis;
const SECS: fn(u64) -> Duration = Duration::from_secs;
/// Longest any test waits for anything (paused time: only a hang reaches it).
const HANG: Duration = Duration::from_secs(3600);

/// The path's controls.
struct Net {
    partitioned: watch::Sender<bool>,
    cut: watch::Sender<bool>,
    /// Bytes the client-to-server direction delivers before it cuts the path (`usize::MAX`:
    /// never).
    cut_after: Arc<AtomicUsize>,
}

impl Net {
    fn partition(&self) {
        self.partitioned.send_replace(true);
    }
    fn heal(&self) {
        self.partitioned.send_replace(false);
    }
    /// Cuts the path now.
    fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Cuts the path once the client-to-server direction has delivered `n` more bytes.
    fn cut_after(&self, n: usize) {
        self.cut_after.store(n, Ordering::SeqCst);
    }
}

/// One direction of the path: reads `from`, delivers each chunk `latency` later, in order,
/// holding it while partitioned; stops (dropping both ends) when cut.
async fn pump(
    mut from: ReadHalf<DuplexStream>,
    mut to: WriteHalf<DuplexStream>,
    latency: Duration,
    mut partitioned: watch::Receiver<bool>,
    cut_tx: watch::Sender<bool>,
    cut_after: Option<Arc<AtomicUsize>>,
) {
    let mut cut = cut_tx.subscribe();
    let (tx, mut rx) = mpsc::channel::<(Instant, Bytes)>(1024);
    let mut cut_r = cut.clone();
    let reader = async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let n = tokio::select! {
                r = from.read(&mut buf) => match r {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                },
                _ = cut_r.wait_for(|&c| c) => return,
            };
            let chunk = Bytes::copy_from_slice(&buf[..n]);
            if tx.send((Instant::now() + latency, chunk)).await.is_err() {
                return;
            }
        }
    };
    let writer = async move {
        loop {
            let next = tokio::select! {
                c = rx.recv() => c,
                _ = cut.wait_for(|&c| c) => return,
            };
            let Some((due, chunk)) = next else { break };
            tokio::select! {
                () = sleep_until(due) => {}
                _ = cut.wait_for(|&c| c) => return,
            }
            tokio::select! {
                r = partitioned.wait_for(|&p| !p) => if r.is_err() { return },
                _ = cut.wait_for(|&c| c) => return,
            }
            if let Some(left) = &cut_after {
                let n = left.load(Ordering::SeqCst);
                if n < chunk.len() {
                    // Deliver what is left of the allowance, then cut the whole path.
                    let _ = to.write_all(&chunk[..n]).await;
                    cut_tx.send_replace(true);
                    return;
                }
                if n != usize::MAX {
                    left.store(n - chunk.len(), Ordering::SeqCst);
                }
            }
            // A cut also ends a write its receiver is not reading (a full pipe).
            tokio::select! {
                r = to.write_all(&chunk) => if r.is_err() { return },
                _ = cut.wait_for(|&c| c) => return,
            }
        }
        // The sender finished: pass its end of stream on.
        let _ = to.shutdown().await;
    };
    // Either side ending (a cut ends both) drops this direction's halves.
    tokio::join!(reader, writer);
}

/// A client and a server WebSocketStream joined through a relay with `latency` each way,
/// after the handshake (which crosses the relay too).
async fn over_net(
    latency: Duration,
    client: Config,
    server: Config,
) -> (
    WebSocketStream<DuplexStream>,
    WebSocketStream<DuplexStream>,
    Net,
) {
    let (c_io, c_net) = duplex(64 << 10);
    let (s_io, s_net) = duplex(64 << 10);
    let (partitioned, p_rx) = watch::channel(false);
    let (cut, _) = watch::channel(false);
    let cut_after = Arc::new(AtomicUsize::new(usize::MAX));
    let (c_r, c_w) = split(c_net);
    let (s_r, s_w) = split(s_net);
    tokio::spawn(pump(
        c_r,
        s_w,
        latency,
        p_rx.clone(),
        cut.clone(),
        Some(cut_after.clone()),
    ));
    tokio::spawn(pump(s_r, c_w, latency, p_rx, cut.clone(), None));
    let (c, s) = tokio::join!(
        WebSocketStream::client(c_io, "example.test", "/", client),
        WebSocketStream::accept(s_io, server),
    );
    (
        c.unwrap(),
        s.unwrap(),
        Net {
            partitioned,
            cut,
            cut_after,
        },
    )
}

/// Receives until the stream ends, collecting the data messages; `Err` carries the error
/// that ended it.
async fn drain(ws: &mut WebSocketStream<DuplexStream>) -> (Vec<Message>, Result<(), Error>) {
    let mut got = Vec::new();
    loop {
        match timeout(HANG, ws.recv()).await.expect("the stream ends") {
            None => return (got, Ok(())),
            Some(Ok(m)) => got.push(m),
            Some(Err(e)) => {
                // After an error the stream ends too.
                assert!(timeout(HANG, ws.recv()).await.expect("ends").is_none());
                return (got, Err(e));
            }
        }
    }
}

fn texts(n: usize) -> Vec<Message> {
    (0..n).map(|i| Message::text(format!("m{i}"))).collect()
}

#[tokio::test(start_paused = true)]
async fn close_handshake_finishes_over_latency() {
    let (mut client, mut server, _net) = over_net(MS(300), Config::DEFAULT, Config::DEFAULT).await;
    for m in texts(20) {
        client.send(m).await.unwrap();
    }
    client.close(1000, "done").await.unwrap();
    let (server_got, server_end) = drain(&mut server).await;
    let (client_got, client_end) = drain(&mut client).await;
    // Every message once and in order, then the peer's Close on each side.
    let mut expected = texts(20);
    expected.push(Message::Close(Some(
        pushwire_tokio::CloseFrame::new(1000, "done").unwrap(),
    )));
    assert_eq!(server_got, expected);
    assert_eq!(server_end.ok(), Some(()));
    assert_eq!(client_got.len(), 1, "{client_got:?}");
    assert!(matches!(client_got[0], Message::Close(Some(ref f)) if f.code() == 1000));
    assert_eq!(client_end.ok(), Some(()));
}

#[tokio::test(start_paused = true)]
async fn close_during_a_partition_ends_by_the_idle_timeout() {
    let config = Config::DEFAULT.with_idle_timeout(Some(SECS(30)));
    let (mut client, mut server, net) = over_net(MS(50), config, config).await;
    net.partition();
    let start = Instant::now();
    client.close(1000, "bye").await.unwrap();
    let (got, end) = drain(&mut client).await;
    assert!(got.is_empty(), "{got:?}");
    match end {
        Err(Error::Timeout {
            kind: TimeoutKind::Idle,
            ..
        }) => {}
        other => panic!("expected the idle timeout, got {other:?}"),
    }
    // Paused time: the deadline that ended it, not a speed.
    assert!(start.elapsed() >= SECS(30), "{:?}", start.elapsed());
    // The server, silent as well, ends by its own idle timeout; nothing hangs.
    let (got, end) = drain(&mut server).await;
    assert!(got.is_empty(), "{got:?}");
    assert!(matches!(
        end,
        Err(Error::Timeout {
            kind: TimeoutKind::Idle,
            ..
        })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_partition_shorter_than_the_pong_timeout_loses_and_repeats_nothing() {
    let config = Config::DEFAULT
        .with_ping_interval(Some(SECS(2)))
        .with_pong_timeout(Some(SECS(5)));
    let (mut client, mut server, net) = over_net(MS(100), config, config).await;
    let echo = tokio::spawn(async move {
        let mut n = 0;
        while let Some(m) = timeout(HANG, server.recv()).await.expect("ends") {
            match m.expect("no error on the server") {
                Message::Text(t) => {
                    n += 1;
                    server.send(Message::Text(t)).await.unwrap();
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        n
    });
    // 10 messages, a 4 s partition (pings go unanswered for less than the pong timeout),
    // 10 more sent during it, then 10 after it heals.
    for m in texts(10) {
        client.send(m).await.unwrap();
    }
    net.partition();
    for m in texts(20).into_iter().skip(10) {
        client.send(m).await.unwrap();
    }
    tokio::time::sleep(SECS(4)).await;
    net.heal();
    for m in texts(30).into_iter().skip(20) {
        client.send(m).await.unwrap();
    }
    let mut got = Vec::new();
    while got.len() < 30 {
        match timeout(HANG, client.recv()).await.expect("ends") {
            Some(Ok(m @ Message::Text(_))) => got.push(m),
            Some(Ok(_)) => {}
            other => panic!("the client ended early: {other:?}"),
        }
    }
    assert_eq!(got, texts(30));
    client.close(1000, "").await.unwrap();
    let _ = drain(&mut client).await;
    assert_eq!(echo.await.unwrap(), 30);
}

#[tokio::test(start_paused = true)]
async fn a_partition_longer_than_the_pong_timeout_ends_both_sides() {
    let config = Config::DEFAULT
        .with_ping_interval(Some(SECS(2)))
        .with_pong_timeout(Some(SECS(3)));
    let (mut client, mut server, net) = over_net(MS(100), config, config).await;
    net.partition();
    let start = Instant::now();
    let (c_end, s_end) = tokio::join!(drain(&mut client), drain(&mut server));
    for (side, (got, end)) in [("client", c_end), ("server", s_end)] {
        assert!(got.is_empty(), "{side}: {got:?}");
        match end {
            Err(Error::Timeout {
                kind: TimeoutKind::Pong,
                ..
            }) => {}
            other => panic!("{side}: expected the pong timeout, got {other:?}"),
        }
    }
    // Ping after 2 s of silence, pong deadline 3 s later (paused time).
    assert!(start.elapsed() >= SECS(5), "{:?}", start.elapsed());
    drop(net);
}

#[tokio::test(start_paused = true)]
async fn a_cut_ends_both_sides_without_a_hang() {
    let (mut client, mut server, net) = over_net(MS(20), Config::DEFAULT, Config::DEFAULT).await;
    // The path is cut 100,000 bytes into a 1 MiB message (of pseudo-random bytes, so that
    // permessage-deflate, agreed by default, cannot shrink it under the cut).
    net.cut_after(100_000);
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    client
        .feed(Message::Binary(Bytes::from(noise)))
        .await
        .unwrap();
    let sending = tokio::spawn(async move {
        let r = timeout(HANG, client.flush()).await.expect("the flush ends");
        let end = drain(&mut client).await;
        (r, end)
    });
    let (got, end) = drain(&mut server).await;
    assert!(
        got.is_empty(),
        "half a message is never delivered: {} messages",
        got.len()
    );
    assert!(
        end.is_err(),
        "a cut mid-message is an error, not a clean end"
    );
    let (flushed, (got, _)) = sending.await.unwrap();
    // The client's flush fails or completes into its pipe; either way its stream ends.
    let _ = flushed;
    assert!(got.is_empty(), "{} messages", got.len());
}

#[tokio::test(start_paused = true)]
async fn a_cut_during_a_partition_ends_both_sides_without_timers() {
    // No ping, pong or idle timer: only the end of the connection can end these streams.
    let (mut client, mut server, net) = over_net(MS(50), Config::DEFAULT, Config::DEFAULT).await;
    net.partition();
    client.send(Message::text("held")).await.unwrap();
    tokio::time::sleep(SECS(60)).await;
    net.cut();
    let (c_end, s_end) = tokio::join!(drain(&mut client), drain(&mut server));
    // The message held by the partition is lost with the connection, never half-delivered.
    assert!(s_end.0.is_empty(), "{} messages", s_end.0.len());
    assert!(c_end.0.is_empty(), "{} messages", c_end.0.len());
    // A connection that ends without a Close is an error on both sides.
    assert!(c_end.1.is_err(), "{:?}", c_end.1);
    assert!(s_end.1.is_err(), "{:?}", s_end.1);
}
