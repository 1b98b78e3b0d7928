//! The optional timers of WebSocketStream (auto-ping, pong timeout, idle timeout, close
//! timeout), in paused
//! tokio time: the runtime jumps to the next timer whenever every task waits, so these tests
//! take no real time and are deterministic.

use std::time::Duration;

use pushwire_tokio::pushwire_ws::{Connection, FixedMaskKey};
use pushwire_tokio::{Config, Error, Message, Role, TimeoutKind, WebSocketStream};
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::{timeout, Instant};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// A client and a server joined by an in-memory pipe, after a real handshake.
async fn pair(
    client: Config,
    server: Config,
) -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = duplex(64 << 10);
    let (c, s) = tokio::join!(
        WebSocketStream::client(a, "example.test", "/", client),
        WebSocketStream::accept(b, server),
    );
    (c.unwrap(), s.unwrap())
}

/// Asserts that `err` is a timeout of `kind`.
fn assert_timeout(err: &Error, kind: TimeoutKind) {
    match err {
        Error::Timeout { kind: got, .. } => assert_eq!(*got, kind, "{err:?}"),
        other => panic!("expected a {kind:?} timeout, got {other:?}"),
    }
}

/// A server stream over a pipe whose other end is driven by hand (`peer`).
fn raw_server(config: Config, capacity: usize) -> (DuplexStream, WebSocketStream<DuplexStream>) {
    let (peer, io) = duplex(capacity);
    (peer, WebSocketStream::from_raw(io, Role::Server, config))
}

/// A client stream masking with the all-zero key, so its frames read as plain bytes.
fn raw_client(config: Config) -> (DuplexStream, WebSocketStream<DuplexStream>) {
    let (peer, io) = duplex(4096);
    let conn = Connection::with_mask_keys(
        Role::Client,
        config.to_ws_config(),
        Box::new(FixedMaskKey([0; 4])),
    );
    (peer, WebSocketStream::from_connection(io, conn, config))
}

/// The Close frame a server writes for a timeout: 1001 (0x03E9) and the reason.
fn server_close(reason: &str) -> Vec<u8> {
    let mut f = vec![0x88, 2 + reason.len() as u8, 0x03, 0xE9];
    f.extend_from_slice(reason.as_bytes());
    f
}

/// A masked (zero key) text frame from a client.
fn client_text(text: &str) -> Vec<u8> {
    let mut f = vec![0x81, 0x80 | text.len() as u8, 0, 0, 0, 0];
    f.extend_from_slice(text.as_bytes());
    f
}

fn pinging(interval: u64, pong: u64) -> Config {
    Config::DEFAULT
        .with_ping_interval(Some(SECS(interval)))
        .with_pong_timeout(Some(SECS(pong)))
}

#[tokio::test(start_paused = true)]
async fn ping_is_sent_after_the_interval_and_an_answering_peer_stays_up() {
    let (mut client, mut server) = pair(pinging(10, 5), Config::DEFAULT).await;
    // The server answers pings by itself while it receives; it echoes texts.
    let peer = tokio::spawn(async move {
        let mut pings = 0;
        while let Some(msg) = server.recv().await {
            match msg.unwrap() {
                Message::Ping(p) => {
                    assert!(p.is_empty());
                    pings += 1;
                }
                Message::Text(t) => server.send(Message::Text(t)).await.unwrap(),
                Message::Close(_) => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        pings
    });
    let start = Instant::now();
    let mut pongs = 0;
    // 55 s of silence from the application: pings at 10, 20, 30, 40, 50 s, each answered.
    while let Ok(msg) = timeout(SECS(55).saturating_sub(start.elapsed()), client.recv()).await {
        assert_eq!(msg.unwrap().unwrap(), Message::Pong(Default::default()));
        pongs += 1;
    }
    assert_eq!(pongs, 5);
    client.send(Message::text("still here")).await.unwrap();
    assert_eq!(
        client.recv().await.unwrap().unwrap(),
        Message::text("still here")
    );
    client.close(1000, "").await.unwrap();
    while client.recv().await.is_some() {}
    assert_eq!(peer.await.unwrap(), 5);
}

#[tokio::test(start_paused = true)]
async fn server_times_out_a_peer_that_never_answers_and_writes_close_1001() {
    let (mut peer, mut server) = raw_server(pinging(10, 5), 4096);
    let start = Instant::now();
    let err = server.recv().await.unwrap().unwrap_err();
    assert!(
        matches!(err, Error::Timeout { kind: TimeoutKind::Pong, after } if after == SECS(5)),
        "{err:?}"
    );
    // The ping went out after 10 s of silence, the pong deadline 5 s later (paused time:
    // this checks the deadlines, not a speed).
    assert!(start.elapsed() >= SECS(15), "{:?}", start.elapsed());
    assert!(server.recv().await.is_none());
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap(); // the transport was shut down
    let mut expected = vec![0x89, 0x00];
    expected.extend(server_close("pong timeout"));
    assert_eq!(wire, expected);
}

#[tokio::test(start_paused = true)]
async fn client_times_out_a_peer_that_never_answers_and_writes_close_1001() {
    let (mut peer, mut client) = raw_client(pinging(10, 5));
    let err = client.recv().await.unwrap().unwrap_err();
    assert_timeout(&err, TimeoutKind::Pong);
    assert!(client.recv().await.is_none());
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    // Masked with the zero key: ping, then Close 1001 "pong timeout".
    let mut expected = vec![
        0x89,
        0x80,
        0,
        0,
        0,
        0,
        0x88,
        0x80 | 14,
        0,
        0,
        0,
        0,
        0x03,
        0xE9,
    ];
    expected.extend_from_slice(b"pong timeout");
    assert_eq!(wire, expected);
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_fires_on_a_silent_peer() {
    let config = Config::DEFAULT.with_idle_timeout(Some(SECS(30)));
    let (mut peer, mut server) = raw_server(config, 4096);
    let start = Instant::now();
    let err = server.recv().await.unwrap().unwrap_err();
    assert!(
        matches!(err, Error::Timeout { kind: TimeoutKind::Idle, after } if after == SECS(30)),
        "{err:?}"
    );
    assert!(start.elapsed() >= SECS(30));
    assert!(server.recv().await.is_none());
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    assert_eq!(wire, server_close("idle timeout")); // no ping: none configured
}

#[tokio::test(start_paused = true)]
async fn traffic_resets_the_idle_timeout() {
    let config = Config::DEFAULT.with_idle_timeout(Some(SECS(30)));
    let (mut peer, mut server) = raw_server(config, 4096);
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        // Five messages 20 s apart: 100 s in all, never 30 s of silence.
        for i in 0..5 {
            tokio::time::sleep(SECS(20)).await;
            peer.write_all(&client_text(&i.to_string())).await.unwrap();
        }
        peer
    });
    for i in 0..5 {
        assert_eq!(
            server.recv().await.unwrap().unwrap(),
            Message::text(i.to_string())
        );
    }
    let mut peer = writer.await.unwrap();
    let err = server.recv().await.unwrap().unwrap_err();
    assert_timeout(&err, TimeoutKind::Idle);
    // 30 s after the last message (at 100 s), not after the first.
    assert!(start.elapsed() >= SECS(130), "{:?}", start.elapsed());
    assert!(server.recv().await.is_none());
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    assert_eq!(wire, server_close("idle timeout"));
}

#[tokio::test(start_paused = true)]
async fn any_data_answers_a_ping() {
    let (mut peer, mut server) = raw_server(pinging(10, 5), 4096);
    let writer = tokio::spawn(async move {
        // Data every 4 s from 12 s on: after each ping (at 10 s, then 10 s after the last
        // data) something arrives within the 5 s pong timeout, though never a Pong.
        tokio::time::sleep(SECS(12)).await;
        for _ in 0..5 {
            peer.write_all(&client_text("d")).await.unwrap();
            tokio::time::sleep(SECS(4)).await;
        }
        peer
    });
    for _ in 0..5 {
        assert_eq!(server.recv().await.unwrap().unwrap(), Message::text("d"));
    }
    let mut peer = writer.await.unwrap();
    // Then silence: a ping 10 s after the last data and the pong timeout 5 s later.
    let err = server.recv().await.unwrap().unwrap_err();
    assert_timeout(&err, TimeoutKind::Pong);
    assert!(server.recv().await.is_none());
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    let mut expected = vec![0x89, 0x00, 0x89, 0x00];
    expected.extend(server_close("pong timeout"));
    assert_eq!(
        wire, expected,
        "one ping at 10 s, one after the data stopped"
    );
}

#[tokio::test(start_paused = true)]
async fn keepalive_pings_repeat_while_silent_without_a_pong_timeout() {
    let config = Config::DEFAULT.with_ping_interval(Some(SECS(10)));
    let (mut peer, mut server) = raw_server(config, 4096);
    assert!(
        timeout(SECS(35), server.recv()).await.is_err(),
        "no error, no message"
    );
    drop(server);
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    assert_eq!(wire, [0x89, 0x00].repeat(3), "pings at 10, 20, 30 s");
}

#[tokio::test(start_paused = true)]
async fn timers_are_off_by_default() {
    let (mut peer, mut server) = raw_server(Config::DEFAULT, 4096);
    // A day of paused time: no ping, no timeout.
    assert!(timeout(SECS(86_400), server.recv()).await.is_err());
    drop(server);
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    assert!(wire.is_empty(), "{wire:?}");
}

#[tokio::test(start_paused = true)]
async fn the_close_after_a_timeout_is_given_up_when_the_peer_reads_nothing() {
    // Room for the ping only: the Close can never be written.
    let config = Config::DEFAULT
        .with_ping_interval(Some(SECS(10)))
        .with_pong_timeout(Some(SECS(5)));
    let (peer, mut server) = raw_server(config, 2);
    let err = server.recv().await.unwrap().unwrap_err();
    assert_timeout(&err, TimeoutKind::Pong);
    // Ends instead of waiting forever on the full pipe (the bound is 1 s of paused time;
    // the guard only catches a hang).
    let start = Instant::now();
    assert!(timeout(SECS(3600), server.recv()).await.unwrap().is_none());
    assert!(start.elapsed() >= SECS(1));
    drop(peer);
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_ends_a_close_handshake_the_peer_never_answers() {
    let config = Config::DEFAULT.with_idle_timeout(Some(SECS(30)));
    let (mut peer, mut server) = raw_server(config, 4096);
    server.close(1000, "bye").await.unwrap();
    let err = server.recv().await.unwrap().unwrap_err();
    assert_timeout(&err, TimeoutKind::Idle);
    assert!(server.recv().await.is_none());
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    // Only our own Close: no second one for the timeout.
    assert_eq!(wire, [0x88, 0x05, 0x03, 0xE8, b'b', b'y', b'e']);
}

#[tokio::test(start_paused = true)]
async fn close_timeout_ends_a_close_handshake_even_while_the_peer_keeps_sending() {
    // The idle timeout cannot end it (data keeps arriving); the close timeout does.
    let config = Config::DEFAULT
        .with_idle_timeout(Some(SECS(30)))
        .with_close_timeout(Some(SECS(10)));
    let (mut peer, mut server) = raw_server(config, 1 << 20);
    let start = Instant::now();
    server.close(1000, "bye").await.unwrap();
    let chatter = tokio::spawn(async move {
        // A message a second for a minute, and never the Close.
        for i in 0..60 {
            tokio::time::sleep(SECS(1)).await;
            if peer.write_all(&client_text(&i.to_string())).await.is_err() {
                break;
            }
        }
        peer
    });
    // Data frames after our Close are dropped by the codec (RFC 6455 §1.4); the next item is
    // the timeout, 10 s after the Close (the idle timeout would be 30 s after the last).
    let err = timeout(SECS(3600), server.recv())
        .await
        .expect("a timeout fired")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { kind: TimeoutKind::Close, after } if after == SECS(10)),
        "{err:?}"
    );
    assert_eq!(start.elapsed(), SECS(10));
    assert!(server.recv().await.is_none());
    drop(server);
    let mut peer = chatter.await.unwrap();
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    // Only our own Close (no second one for the timeout), then the end of the stream.
    assert_eq!(wire, [0x88, 0x05, 0x03, 0xE8, b'b', b'y', b'e']);
}

#[tokio::test(start_paused = true)]
async fn a_close_answered_in_time_is_not_a_timeout() {
    let config = Config::DEFAULT.with_close_timeout(Some(SECS(10)));
    let (mut peer, mut server) = raw_server(config, 4096);
    server.close(1000, "bye").await.unwrap();
    let answer = tokio::spawn(async move {
        tokio::time::sleep(SECS(9)).await;
        // A masked (zero key) Close 1000 from the client.
        peer.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8])
            .await
            .unwrap();
        peer
    });
    match server.recv().await {
        Some(Ok(Message::Close(Some(f)))) => assert_eq!(f.code(), 1000),
        other => panic!("expected the peer's Close, got {other:?}"),
    }
    assert!(server.recv().await.is_none());
    drop(answer.await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn close_timeout_counts_only_after_our_close() {
    // Open and silent for an hour: the close timeout alone never fires.
    let config = Config::DEFAULT.with_close_timeout(Some(SECS(10)));
    let (peer, mut server) = raw_server(config, 4096);
    assert!(timeout(SECS(3600), server.recv()).await.is_err());
    drop(peer);
}

#[tokio::test(start_paused = true)]
async fn close_timeout_works_on_the_split_reader_after_the_writer_closes() {
    let config = Config::DEFAULT.with_close_timeout(Some(SECS(10)));
    let (peer, server) = raw_server(config, 4096);
    let Ok((mut rx, mut tx)) = server.split() else {
        panic!("a stream without deflate splits")
    };
    let start = Instant::now();
    tx.close(1000, "bye").await.unwrap();
    // The guard turns a hang into a failure.
    let err = timeout(SECS(3600), rx.recv())
        .await
        .expect("the close timeout fired")
        .unwrap()
        .unwrap_err();
    assert_timeout(&err, TimeoutKind::Close);
    assert_eq!(start.elapsed(), SECS(10));
    assert!(rx.recv().await.is_none());
    drop(peer);
}

#[tokio::test(start_paused = true)]
async fn timers_live_in_the_stream_so_recv_in_select_keeps_them() {
    // recv() is dropped every second by the other branch; the timers keep their deadlines
    // (a timer held in the recv future would restart each time and never fire).
    let config = pinging(10, 5).with_idle_timeout(Some(SECS(60)));
    let (mut peer, mut server) = raw_server(config, 4096);
    let mut cancelled = 0u32;
    let err = loop {
        tokio::select! {
            r = server.recv() => break r.unwrap().unwrap_err(),
            _ = tokio::time::sleep(SECS(1)) => cancelled += 1,
        }
    };
    assert_timeout(&err, TimeoutKind::Pong);
    assert!(cancelled >= 10, "recv was cancelled {cancelled} times");
    assert!(server.recv().await.is_none());
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    let mut expected = vec![0x89, 0x00];
    expected.extend(server_close("pong timeout"));
    assert_eq!(wire, expected);
}

#[tokio::test(start_paused = true)]
async fn duration_max_timers_mean_never() {
    let max = Config::DEFAULT
        .with_ping_interval(Some(Duration::MAX))
        .with_pong_timeout(Some(Duration::MAX))
        .with_idle_timeout(Some(Duration::MAX));
    let (mut client, mut server) = pair(max, max).await;
    client.send(Message::text("hello")).await.unwrap();
    assert_eq!(
        server.recv().await.unwrap().unwrap(),
        Message::text("hello")
    );
    // A day of paused time on both sides: no ping, no timeout, no panic.
    assert!(timeout(SECS(86_400), server.recv()).await.is_err());
    assert!(timeout(SECS(86_400), client.recv()).await.is_err());
    server.send(Message::text("still up")).await.unwrap();
    assert_eq!(
        client.recv().await.unwrap().unwrap(),
        Message::text("still up")
    );
}

/// The server's Close 1000, unmasked, as a client receives it.
const SERVER_CLOSE_1000: [u8; 4] = [0x88, 0x02, 0x03, 0xE8];
/// A client's Close 1000 reply, masked with the zero key.
const CLIENT_CLOSE_1000: [u8; 8] = [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8];

/// A config with timers (the close timeout), so a client waits for the server's close.
fn with_timers() -> Config {
    Config::DEFAULT.with_close_timeout(Some(SECS(10)))
}

/// A raw client that has received the server's Close 1000 (yielded as the third item).
async fn after_server_close(
    config: Config,
) -> (DuplexStream, WebSocketStream<DuplexStream>, Message) {
    let (mut peer, mut client) = raw_client(config);
    peer.write_all(&SERVER_CLOSE_1000).await.unwrap();
    let close = client.recv().await.unwrap().unwrap();
    (peer, client, close)
}

#[tokio::test(start_paused = true)]
async fn a_client_with_timers_waits_for_the_server_to_close_first() {
    let (mut peer, mut client, close) = after_server_close(with_timers()).await;
    assert!(matches!(close, Message::Close(Some(_))));
    let start = Instant::now();
    let (end, ()) = tokio::join!(client.recv(), async {
        let mut reply = [0u8; 8];
        peer.read_exact(&mut reply).await.unwrap();
        assert_eq!(reply, CLIENT_CLOSE_1000);
        // The client keeps its side open while the server has not closed.
        let mut more = [0u8; 1];
        assert!(
            timeout(Duration::from_millis(300), peer.read(&mut more))
                .await
                .is_err(),
            "the client closed before the server"
        );
        // The server closes; then the client does.
        peer.shutdown().await.unwrap();
        let eof = timeout(SECS(3600), peer.read(&mut more)).await;
        assert_eq!(eof.expect("the client never closed").unwrap(), 0);
    });
    assert!(end.is_none());
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < SECS(1),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_gives_up_waiting_for_the_server_to_close_after_one_second() {
    let (mut peer, mut client, _) = after_server_close(with_timers()).await;
    let start = Instant::now();
    // The guard only catches a hang; the bound is 1 s of paused time.
    assert!(timeout(SECS(3600), client.recv()).await.unwrap().is_none());
    assert_eq!(start.elapsed(), SECS(1));
    // It then closed its side: the reply, then end of stream.
    let mut wire = Vec::new();
    timeout(SECS(3600), peer.read_to_end(&mut wire))
        .await
        .expect("the client never closed")
        .unwrap();
    assert_eq!(wire, CLIENT_CLOSE_1000);
}

#[tokio::test(start_paused = true)]
async fn a_client_without_timers_ends_right_after_the_close_handshake() {
    let (peer, mut client, _) = after_server_close(Config::DEFAULT).await;
    let start = Instant::now();
    assert!(client.recv().await.is_none());
    assert_eq!(start.elapsed(), Duration::ZERO);
    drop(peer);
}

#[tokio::test(start_paused = true)]
async fn a_client_stops_waiting_for_a_server_that_keeps_sending_after_one_second() {
    let (mut peer, mut client, _) = after_server_close(with_timers()).await;
    let start = Instant::now();
    let (end, ()) = tokio::join!(client.recv(), async {
        let mut reply = [0u8; 8];
        peer.read_exact(&mut reply).await.unwrap();
        // Junk every 10 ms, never a close: the client must not wait past its bound.
        loop {
            if peer.write_all(&[0u8; 64]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            let mut sink = [0u8; 64];
            if let Ok(Ok(0)) = timeout(Duration::ZERO, peer.read(&mut sink)).await {
                break; // the client closed its side
            }
        }
    });
    assert!(end.is_none());
    let waited = start.elapsed();
    assert!(
        waited >= SECS(1) && waited < Duration::from_millis(1100),
        "{waited:?}"
    );
}
