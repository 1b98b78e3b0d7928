//! The Engine.io polling → websocket upgrade over a bad path (issue 18, "bad networks"): the
//! upgrade completes, or the session falls back to (stays on) polling, and nothing hangs.
//!
//! Between pushwire-tokio's Engine.io client and its server runs a TCP relay, [`Relay`], on
//! loopback. It delays every chunk each way (`latency`), and treats the connections that carry
//! a websocket (`transport=websocket` in the request line) by a [`WsPath`]: passed, refused
//! (closed as soon as the request is seen), stalled after the `101` (nothing more passes
//! either way, and neither end is told: a partition that never heals), or stalled or cut after
//! the upgrade. Polling requests always pass. netem is not in this machine's kernel (see
//! docs/reliability.md); on TCP an application sees a bad path as delay, silence or a cut,
//! which is what the relay makes. Real time, short heartbeats; every wait has a deadline, so a
//! hang fails the test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pushwire_tokio::engineio::client::{connect, Client, ClientCloseReason, ClientConfig};
use pushwire_tokio::engineio::pushwire_engineio::client::Config as SessionConfig;
use pushwire_tokio::engineio::{Config, EngineIo, PacketData, ProtocolVersion, TransportKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{sleep, timeout};

/// Longest any step may take (a guard against hangs, never a speed assertion).
const DEADLINE: Duration = Duration::from_secs(10);
const MS: fn(u64) -> Duration = Duration::from_millis;

/// What the path does to a connection that carries a websocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WsPath {
    /// Passed like polling.
    Pass,
    /// Closed as soon as its request is seen.
    Refuse,
    /// The request and the `101` pass, then nothing more either way.
    StallAfterHandshake,
    /// Passed until `n` bytes after the `101` have gone to the client, then nothing more
    /// either way (the upgrade completes; later the path goes silent).
    StallAfter(usize),
    /// Passed until `n` bytes after the `101` have gone to the client, then both ends are
    /// closed.
    CutAfter(usize),
}

/// The relay's listening port and what it saw.
struct Relay {
    port: u16,
    seen: Arc<Seen>,
}

/// What the relay saw.
#[derive(Default)]
struct Seen {
    /// Connections that carried a websocket.
    websockets: AtomicUsize,
    /// Websocket connections the client closed after the path had stalled (it let go of a
    /// socket nothing could pass on any more).
    let_go_while_stalled: AtomicUsize,
}

impl Relay {
    /// A relay to `127.0.0.1:server` with `latency` each way and `ws` for websockets.
    async fn start(server: u16, latency: Duration, ws: WsPath) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Seen::default());
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let seen = log.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", server)).await else {
                        return;
                    };
                    relay(client, server, latency, ws, seen).await;
                });
            }
        });
        Relay { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/engine.io/", self.port)
    }
}

/// Reads from `from` until a request or response head is complete (`\r\n\r\n`); returns the
/// bytes read (the head, and whatever followed it in the same reads), or `None` at the end.
async fn read_head(from: &mut OwnedReadHalf) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > 64 * 1024 {
            return None;
        }
        match from.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(buf)
}

/// One connection through the path.
async fn relay(
    client: TcpStream,
    server: TcpStream,
    latency: Duration,
    ws: WsPath,
    seen: Arc<Seen>,
) {
    let (mut c_read, c_write) = client.into_split();
    let (s_read, mut s_write) = server.into_split();
    let Some(head) = read_head(&mut c_read).await else {
        return;
    };
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let is_ws = String::from_utf8_lossy(&head[..line_end]).contains("transport=websocket");
    let path = if is_ws {
        seen.websockets.fetch_add(1, Ordering::SeqCst);
        ws
    } else {
        WsPath::Pass
    };
    if path == WsPath::Refuse {
        return; // both halves dropped: the client's connection ends
    }
    sleep(latency).await;
    if s_write.write_all(&head).await.is_err() {
        return;
    }
    // Bytes the server may send the client after its response head before the path stalls
    // or is cut; `None`: no limit.
    let (limit, then) = match path {
        WsPath::Pass | WsPath::Refuse => (None, Gone::Stalled),
        WsPath::StallAfterHandshake => (Some(0), Gone::Stalled),
        WsPath::StallAfter(n) => (Some(n), Gone::Stalled),
        WsPath::CutAfter(n) => (Some(n), Gone::Cut),
    };
    let (gone_tx, gone_rx) = watch::channel(Gone::Flowing);
    tokio::join!(
        pump_up(c_read, s_write, latency, gone_rx, seen),
        pump_down(s_read, c_write, latency, limit, then, gone_tx),
    );
}

/// The path's state, shared by both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gone {
    Flowing,
    /// Nothing more passes either way, and neither end is told.
    Stalled,
    /// Both ends are closed.
    Cut,
}

/// Client → server: forwards every chunk `latency` later, in order, until either end closes;
/// once the path is [`Gone::Stalled`] reads and writes nothing more but keeps both ends
/// open, once [`Gone::Cut`] drops them.
async fn pump_up(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    latency: Duration,
    mut gone: watch::Receiver<Gone>,
    seen: Arc<Seen>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown().await;
                    return;
                }
                Ok(n) => n,
            },
            g = async { gone.wait_for(|&g| g != Gone::Flowing).await.map(|g| *g) } => {
                let cut = g.map_or(true, |g| g == Gone::Cut);
                if !cut {
                    // Stalled: what the client sends is lost, and the server hears nothing
                    // (`to` stays open). Note when the client lets go of its end.
                    while let Ok(n) = from.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                    seen.let_go_while_stalled.fetch_add(1, Ordering::SeqCst);
                    std::future::pending::<()>().await;
                }
                return; // `from` and `to` dropped: the server's connection ends
            }
        };
        sleep(latency).await;
        if *gone.borrow() != Gone::Flowing || to.write_all(&buf[..n]).await.is_err() {
            continue; // the select above sees the state next
        }
    }
}

/// Server → client: forwards the response head, then at most `limit` more bytes (if any
/// limit), each chunk `latency` later; at the limit the path becomes `then`: a stall keeps
/// both ends open and silent until the test ends, a cut closes them.
async fn pump_down(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    latency: Duration,
    limit: Option<usize>,
    then: Gone,
    gone: watch::Sender<Gone>,
) {
    let mut pending_head: Option<Vec<u8>> = limit.map(|_| Vec::new());
    let mut after = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        let mut send = Vec::new();
        let mut body = buf[..n].to_vec();
        if let Some(head) = pending_head.as_mut() {
            // Pass the response head whole, then count what follows it.
            head.extend_from_slice(&body);
            let Some(p) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            send.extend_from_slice(&head[..p + 4]);
            body = head[p + 4..].to_vec();
            pending_head = None;
        }
        let allowed = limit.map_or(body.len(), |l| body.len().min(l - after));
        send.extend_from_slice(&body[..allowed]);
        after += allowed;
        sleep(latency).await;
        if to.write_all(&send).await.is_err() {
            return;
        }
        if limit.is_some_and(|l| after >= l) {
            gone.send_replace(then);
            if then == Gone::Stalled {
                std::future::pending::<()>().await;
            }
            return; // `from` and `to` dropped: the client's connection ends
        }
    }
}

/// An echo server (both revisions) with short heartbeats: a ping every 300 ms, 200 ms to
/// answer, probes cancelled after `upgrade_timeout`.
async fn echo_server(upgrade_timeout: Duration) -> (u16, EngineIo) {
    echo_server_with(upgrade_timeout, MS(200)).await
}

/// [`echo_server`] with `ping_timeout` instead of 200 ms.
async fn echo_server_with(upgrade_timeout: Duration, ping_timeout: Duration) -> (u16, EngineIo) {
    let engine = Config::DEFAULT
        .engine
        .with_ping_interval(MS(300))
        .with_ping_timeout(ping_timeout)
        .with_upgrade_timeout(upgrade_timeout);
    let (eio, mut incoming) = EngineIo::new(Config::DEFAULT.with_engine(engine));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let endpoint = eio.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let eio = endpoint.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let eio = eio.clone();
                        async move { Ok::<_, std::convert::Infallible>(eio.handle(req).await) }
                    });
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(tcp), service)
                .await;
            });
        }
    });
    tokio::spawn(async move {
        while let Some(mut socket) = incoming.accept().await {
            tokio::spawn(async move {
                while let Some(data) = socket.recv().await {
                    let _ = socket.send(data);
                }
            });
        }
    });
    (port, eio)
}

/// Sends `n` numbered messages tagged `tag` and expects each echoed once, in order.
async fn echo(client: &mut Client, tag: &str, n: usize) {
    for i in 0..n {
        client
            .send(PacketData::Text(format!("{tag} {i}")))
            .await
            .unwrap();
    }
    for i in 0..n {
        let got = timeout(DEADLINE, client.recv())
            .await
            .unwrap_or_else(|_| panic!("{tag}: message {i} not echoed in time"));
        assert_eq!(got, Some(PacketData::Text(format!("{tag} {i}"))), "{tag}");
    }
}

async fn client(url: &str, protocol: ProtocolVersion) -> Client {
    client_with(url, SessionConfig::DEFAULT.with_protocol(protocol)).await
}

async fn client_with(url: &str, session: SessionConfig) -> Client {
    let config = ClientConfig::DEFAULT
        .with_engine(session)
        .with_ws(ClientConfig::DEFAULT.ws.with_close_timeout(Some(MS(300))))
        .with_request_timeout(Duration::from_secs(5));
    timeout(DEADLINE, connect(url, config))
        .await
        .expect("handshake in time")
        .expect("handshake")
}

/// Waits (within the deadline) until the client is on `kind`.
async fn wait_transport(client: &Client, kind: TransportKind, what: &str) {
    timeout(DEADLINE, async {
        while client.transport() != kind {
            sleep(MS(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: never on {kind:?}"));
}

/// Waits (within the deadline) until the server has no session left.
async fn sessions_end(eio: &EngineIo, protocol: ProtocolVersion) {
    timeout(DEADLINE, async {
        while eio.session_count() > 0 {
            sleep(MS(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{protocol:?}: the server kept the session"));
}

#[tokio::test]
async fn over_latency_the_upgrade_completes() {
    // A ping answered over polling crosses the path several times (the held GET's answer,
    // the POST, chunk by chunk, one POST at a time): 200 ms would be tight at 40 ms each way
    // on a loaded machine, so the server waits 2 s for the pong here.
    let (server, _eio) = echo_server_with(Duration::from_secs(10), MS(2000)).await;
    let relay = Relay::start(server, MS(40), WsPath::Pass).await;
    for protocol in [ProtocolVersion::V3, ProtocolVersion::V4] {
        let mut c = client(&relay.url(), protocol).await;
        echo(&mut c, "before", 5).await;
        wait_transport(&c, TransportKind::WebSocket, "40 ms each way").await;
        echo(&mut c, "after", 20).await;
        c.close().await;
        assert_eq!(timeout(DEADLINE, c.recv()).await.unwrap(), None);
    }
    assert_eq!(relay.seen.websockets.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_refused_websocket_leaves_the_session_on_polling() {
    let (server, _eio) = echo_server(Duration::from_secs(10)).await;
    let relay = Relay::start(server, MS(5), WsPath::Refuse).await;
    for protocol in [ProtocolVersion::V3, ProtocolVersion::V4] {
        let mut c = client(&relay.url(), protocol).await;
        echo(&mut c, "during", 10).await;
        // Several heartbeats (300 + 200 ms) later the session is alive and still polling.
        sleep(MS(1200)).await;
        echo(&mut c, "later", 10).await;
        assert_eq!(c.transport(), TransportKind::Polling, "{protocol:?}");
        assert_eq!(c.close_reason(), None);
        c.close().await;
    }
    assert!(
        relay.seen.websockets.load(Ordering::SeqCst) >= 2,
        "the probe was tried"
    );
}

#[tokio::test]
async fn a_websocket_path_that_stalls_after_the_101_leaves_the_session_on_polling() {
    // The server gives up on the probe after 500 ms and the client after 700 ms (its
    // `upgrade_timeout`); neither hears the other (the path is silent). The session goes on
    // polling, and the client lets go of its probe socket while the session lives (its
    // Close is lost; the socket's close timeout, 300 ms here, ends it).
    let (server, _eio) = echo_server(MS(500)).await;
    let relay = Relay::start(server, MS(5), WsPath::StallAfterHandshake).await;
    for (i, protocol) in [ProtocolVersion::V3, ProtocolVersion::V4]
        .into_iter()
        .enumerate()
    {
        let session = SessionConfig::DEFAULT
            .with_protocol(protocol)
            .with_upgrade_timeout(MS(700));
        let mut c = client_with(&relay.url(), session).await;
        echo(&mut c, "during", 10).await;
        timeout(DEADLINE, async {
            while relay.seen.let_go_while_stalled.load(Ordering::SeqCst) < i + 1 {
                sleep(MS(20)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{protocol:?}: the probe socket was never let go"));
        echo(&mut c, "after the upgrade timeouts", 10).await;
        assert_eq!(c.transport(), TransportKind::Polling, "{protocol:?}");
        assert_eq!(c.close_reason(), None);
        c.close().await;
    }
    assert_eq!(relay.seen.websockets.load(Ordering::SeqCst), 2);
}

/// Bytes the server sends on a websocket before the probe is answered and the upgrade is
/// done: the `101` head is not counted; `3probe` (v4) or its v3 form is one small frame.
const AFTER_PROBE: usize = 8;

#[tokio::test]
async fn a_websocket_that_goes_silent_after_the_upgrade_ends_by_heartbeat_on_both_sides() {
    for protocol in [ProtocolVersion::V3, ProtocolVersion::V4] {
        let (server, eio) = echo_server(Duration::from_secs(10)).await;
        // Enough for the probe's answer and a few echoes, then silence both ways.
        let relay = Relay::start(server, MS(5), WsPath::StallAfter(AFTER_PROBE + 60)).await;
        let mut c = client(&relay.url(), protocol).await;
        wait_transport(&c, TransportKind::WebSocket, "before the stall").await;
        // The client hears nothing more: its heartbeat (v4: no ping within 300 + 200 ms; v3:
        // no pong to its ping) ends the session.
        let mut got = Vec::new();
        let end = timeout(DEADLINE, async {
            loop {
                let _ = c.send(PacketData::Text("x".into())).await;
                match timeout(MS(50), c.recv()).await {
                    Ok(Some(m)) => got.push(m),
                    Ok(None) => return,
                    Err(_) => {}
                }
            }
        })
        .await;
        assert!(end.is_ok(), "{protocol:?}: the client never gave up");
        assert_eq!(c.close_reason(), Some(ClientCloseReason::PingTimeout));
        // The server's session ends too (its heartbeat), within the deadline.
        sessions_end(&eio, protocol).await;
    }
}

#[tokio::test]
async fn a_websocket_cut_after_the_upgrade_ends_the_session_on_both_sides() {
    for protocol in [ProtocolVersion::V3, ProtocolVersion::V4] {
        let (server, eio) = echo_server(Duration::from_secs(10)).await;
        let relay = Relay::start(server, MS(5), WsPath::CutAfter(AFTER_PROBE + 60)).await;
        let mut c = client(&relay.url(), protocol).await;
        wait_transport(&c, TransportKind::WebSocket, "before the cut").await;
        let end = timeout(DEADLINE, async {
            loop {
                let _ = c.send(PacketData::Text("x".into())).await;
                if let Ok(None) = timeout(MS(50), c.recv()).await {
                    return;
                }
            }
        })
        .await;
        assert!(end.is_ok(), "{protocol:?}: the client never saw the cut");
        assert!(
            matches!(
                c.close_reason(),
                Some(ClientCloseReason::TransportClose | ClientCloseReason::TransportError)
            ),
            "{protocol:?}: {:?}",
            c.close_reason()
        );
        sessions_end(&eio, protocol).await;
    }
}
