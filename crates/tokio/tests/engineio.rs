//! The Engine.io server (feature `engineio`) on a real hyper server on loopback, driven by
//! raw hyper requests and this crate's WebSocket client.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming as HyperBody;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pushwire_tokio::engineio::pushwire_engineio::Limits;
use pushwire_tokio::engineio::{
    CloseReason, Config, Cors, EngineIo, Incoming, PacketData, ProtocolVersion, SendError, Socket,
    TransportKind,
};
use pushwire_tokio::{Message, WebSocketStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// A generous guard: every step must finish within this (never a speed assertion).
const DEADLINE: Duration = Duration::from_secs(10);

/// Serves a new endpoint with `config` at every path of a local port.
async fn serve(config: Config) -> (u16, EngineIo, Incoming) {
    let (eio, incoming) = EngineIo::new(config);
    let port = serve_endpoint(eio.clone()).await;
    (port, eio, incoming)
}

/// Serves `eio` at every path of a local port (HTTP/1.1 and h2c, with upgrades).
async fn serve_endpoint(eio: EngineIo) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let eio = eio.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<HyperBody>| {
                    let eio = eio.clone();
                    async move { Ok::<_, Infallible>(eio.handle(req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    port
}

struct Reply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
}

/// One request on its own HTTP/1.1 connection.
async fn request(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(target)
        .header("host", "localhost");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::copy_from_slice(body))).unwrap();
    let resp = timeout(DEADLINE, sender.send_request(req))
        .await
        .unwrap()
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

/// The `sid` of a handshake body (`…{"sid":"…",…`).
fn sid_of(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let start = s.find(r#""sid":""#).unwrap() + 7;
    s[start..][..s[start..].find('"').unwrap()].to_string()
}

async fn accept(incoming: &mut Incoming) -> Socket {
    timeout(DEADLINE, incoming.accept()).await.unwrap().unwrap()
}

async fn recv(socket: &mut Socket) -> Option<PacketData> {
    timeout(DEADLINE, socket.recv()).await.unwrap()
}

/// A v4 polling handshake: the session id.
async fn open_v4(port: u16) -> String {
    let r = request(port, "GET", "/engine.io/?EIO=4&transport=polling", &[], b"").await;
    assert_eq!(r.status, StatusCode::OK);
    sid_of(&r.body)
}

#[tokio::test]
async fn v3_and_v4_handshakes_on_one_server() {
    let (port, eio, mut incoming) = serve(Config::DEFAULT).await;
    // v3: a payload `<len>:0{…}`; the spec's v4 handshake: the open packet alone, with
    // maxPayload ("maxPayload | number | The maximum number of bytes per chunk").
    let v3 = request(port, "GET", "/engine.io/?EIO=3&transport=polling", &[], b"").await;
    assert_eq!(v3.status, StatusCode::OK);
    let v3_body = String::from_utf8_lossy(&v3.body).to_string();
    assert!(v3_body.contains(":0{\"sid\":"), "{v3_body}");
    let v4 = request(port, "GET", "/engine.io/?EIO=4&transport=polling", &[], b"").await;
    assert_eq!(v4.status, StatusCode::OK);
    let v4_body = String::from_utf8_lossy(&v4.body).to_string();
    assert!(v4_body.starts_with("0{\"sid\":"), "{v4_body}");
    assert!(v4_body.contains("\"maxPayload\":1000000"), "{v4_body}");
    let a = accept(&mut incoming).await;
    let b = accept(&mut incoming).await;
    assert_eq!(a.protocol(), ProtocolVersion::V3);
    assert_eq!(b.protocol(), ProtocolVersion::V4);
    assert_eq!(a.sid(), sid_of(&v3.body));
    assert_eq!(b.sid(), sid_of(&v4.body));
    assert_eq!(eio.session_count(), 2);
    // An EIO neither revision: engine.io 6's error 5.
    let v5 = request(port, "GET", "/engine.io/?EIO=5&transport=polling", &[], b"").await;
    assert_eq!(v5.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        &v5.body[..],
        br#"{"code":5,"message":"Unsupported protocol version"}"#
    );
}

#[tokio::test]
async fn long_poll_is_held_then_answered_and_posts_arrive() {
    let (port, _eio, mut incoming) = serve(Config::DEFAULT).await;
    let sid = open_v4(port).await;
    let mut socket = accept(&mut incoming).await;
    let target = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let poll = {
        let target = target.clone();
        tokio::spawn(async move { request(port, "GET", &target, &[], b"").await })
    };
    // The GET is held: nothing to send yet.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!poll.is_finished());
    socket.send_text("hi").unwrap();
    let r = timeout(DEADLINE, poll).await.unwrap().unwrap();
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"4hi");
    // v4: packets separated by \x1e, binary as `b<base64>`.
    socket.send_binary(vec![1u8, 2, 3]).unwrap();
    socket.send_text("yo").unwrap();
    let r = request(port, "GET", &target, &[], b"").await;
    assert_eq!(&r.body[..], b"bAQID\x1e4yo");
    // A POST of two text packets and a binary one.
    let r = request(port, "POST", &target, &[], b"4hello\x1e4world\x1ebAQID").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"ok");
    assert_eq!(
        recv(&mut socket).await,
        Some(PacketData::Text("hello".into()))
    );
    assert_eq!(
        recv(&mut socket).await,
        Some(PacketData::Text("world".into()))
    );
    assert_eq!(
        recv(&mut socket).await,
        Some(PacketData::Binary(Bytes::from_static(&[1, 2, 3])))
    );
    // The client's close packet ends the session.
    let r = request(port, "POST", &target, &[], b"1").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportClose));
}

#[tokio::test]
async fn post_over_max_payload_is_refused_and_closes_the_session() {
    let engine = Config::DEFAULT
        .engine
        .with_limits(Limits::DEFAULT.with_max_payload_bytes(100));
    let (port, _eio, mut incoming) = serve(Config::DEFAULT.with_engine(engine)).await;
    let open = request(port, "GET", "/engine.io/?EIO=4&transport=polling", &[], b"").await;
    assert!(String::from_utf8_lossy(&open.body).contains("\"maxPayload\":100"));
    let sid = sid_of(&open.body);
    let mut socket = accept(&mut incoming).await;
    let target = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let body = format!("4{}", "x".repeat(200));
    let r = request(port, "POST", &target, &[], body.as_bytes()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The session is closed: the next poll carries the close packet.
    let r = request(port, "GET", &target, &[], b"").await;
    assert_eq!(&r.body[..], b"1");
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::ForcedClose));
    // A body at the limit is taken.
    let sid = open_v4(port).await;
    let mut socket = accept(&mut incoming).await;
    let target = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let body = format!("4{}", "y".repeat(99));
    let r = request(port, "POST", &target, &[], body.as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        recv(&mut socket).await,
        Some(PacketData::Text("y".repeat(99)))
    );
}

async fn ws_text<S>(ws: &mut WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match timeout(DEADLINE, ws.recv()).await.unwrap() {
            Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn polling_upgrades_to_websocket_v4_and_v3() {
    let (port, _eio, mut incoming) = serve(Config::DEFAULT).await;
    for eio in [4, 3] {
        let r = request(
            port,
            "GET",
            &format!("/engine.io/?EIO={eio}&transport=polling"),
            &[],
            b"",
        )
        .await;
        let sid = sid_of(&r.body);
        let mut socket = accept(&mut incoming).await;
        assert_eq!(socket.transport(), Some(TransportKind::Polling));
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let path = format!("/engine.io/?EIO={eio}&transport=websocket&sid={sid}");
        let mut ws = timeout(
            DEADLINE,
            WebSocketStream::client(tcp, "localhost", &path, pushwire_tokio::Config::DEFAULT),
        )
        .await
        .unwrap()
        .unwrap();
        // The probe, then the upgrade packet.
        ws.send(Message::text("2probe")).await.unwrap();
        assert_eq!(ws_text(&mut ws).await, "3probe");
        ws.send(Message::text("5")).await.unwrap();
        // Messages both ways over the websocket.
        ws.send(Message::text("4over ws")).await.unwrap();
        assert_eq!(
            recv(&mut socket).await,
            Some(PacketData::Text("over ws".into()))
        );
        assert_eq!(socket.transport(), Some(TransportKind::WebSocket));
        socket.send_text("back").unwrap();
        assert_eq!(ws_text(&mut ws).await, "4back");
        socket.send_binary(vec![9u8, 8]).unwrap();
        let bin = loop {
            match timeout(DEADLINE, ws.recv()).await.unwrap() {
                Some(Ok(Message::Binary(b))) => break b,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected binary, got {other:?}"),
            }
        };
        // v4: the bytes alone; v3: a 0x04 (message) type byte first.
        if eio == 4 {
            assert_eq!(&bin[..], &[9, 8]);
        } else {
            assert_eq!(&bin[..], &[4, 9, 8]);
        }
        socket.close();
        // engine.io closes a websocket session by closing the WebSocket (no close packet).
        loop {
            match timeout(DEADLINE, ws.recv()).await.unwrap() {
                Some(Ok(Message::Close(_))) | None => break,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected the close, got {other:?}"),
            }
        }
        assert_eq!(recv(&mut socket).await, None);
        assert_eq!(socket.close_reason(), Some(CloseReason::ForcedClose));
    }
}

#[tokio::test]
async fn heartbeat_timeout_closes_a_silent_v4_client() {
    let engine = Config::DEFAULT
        .engine
        .with_ping_interval(Duration::from_millis(50))
        .with_ping_timeout(Duration::from_millis(50));
    let (port, eio, mut incoming) = serve(Config::DEFAULT.with_engine(engine)).await;
    let sid = open_v4(port).await;
    let mut socket = accept(&mut incoming).await;
    // The server pings (v4); a held poll carries the ping.
    let target = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let r = request(port, "GET", &target, &[], b"").await;
    assert_eq!(&r.body[..], b"2");
    // The client never answers: closed within pingInterval + pingTimeout of the ping.
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::PingTimeout));
    timeout(DEADLINE, async {
        while eio.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn full_queues_refuse_sends_and_close_slow_applications() {
    let config = Config::DEFAULT
        .with_engine(Config::DEFAULT.engine.with_max_buffered_packets(2))
        .with_recv_queue(1);
    let (port, _eio, mut incoming) = serve(config).await;
    let sid = open_v4(port).await;
    let mut socket = accept(&mut incoming).await;
    // Outgoing: two packets wait for a client that does not poll; the third is refused.
    socket.send_text("a").unwrap();
    socket.send_text("b").unwrap();
    assert_eq!(
        socket.send_text("c"),
        Err(SendError::OutputFull {
            buffered: 2,
            limit: 2
        })
    );
    let target = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let r = request(port, "GET", &target, &[], b"").await;
    assert_eq!(&r.body[..], b"4a\x1e4b");
    // Incoming: one message may wait for `recv`; the second closes the session.
    let r = request(port, "POST", &target, &[], b"4one\x1e4two").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        recv(&mut socket).await,
        Some(PacketData::Text("one".into()))
    );
    let r = request(port, "GET", &target, &[], b"").await;
    assert_eq!(&r.body[..], b"1");
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::ForcedClose));
    assert_eq!(socket.send_text("late"), Err(SendError::Closed));
}

#[tokio::test]
async fn cors_is_configurable_and_preflights_are_answered() {
    let (port, _eio, _incoming) = serve(Config::DEFAULT.with_cors(Cors::ANY)).await;
    let origin = [("origin", "https://a.example")];
    let r = request(
        port,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &origin,
        b"",
    )
    .await;
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    assert!(!r.headers.contains_key("access-control-allow-credentials"));
    let (port, _eio, _incoming) = serve(Config::DEFAULT).await;
    let r = request(
        port,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &origin,
        b"",
    )
    .await;
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://a.example"
    );
    assert_eq!(r.headers["access-control-allow-credentials"], "true");
    let pre = [
        ("origin", "https://a.example"),
        ("access-control-request-method", "POST"),
    ];
    let r = request(
        port,
        "OPTIONS",
        "/engine.io/?EIO=4&transport=polling",
        &pre,
        b"",
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://a.example"
    );
    assert!(r.headers.contains_key("access-control-allow-methods"));
}

#[tokio::test]
async fn mounted_in_axum_with_an_any_route() {
    use axum::routing::any;
    let (eio, mut incoming) = EngineIo::new(Config::DEFAULT);
    let app = axum::Router::new().route(
        "/engine.io/",
        any(move |req: axum::extract::Request| {
            let eio = eio.clone();
            async move { eio.handle(req).await }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let sid = open_v4(port).await;
    let mut socket = accept(&mut incoming).await;
    let target = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    request(port, "POST", &target, &[], b"4via axum").await;
    assert_eq!(
        recv(&mut socket).await,
        Some(PacketData::Text("via axum".into()))
    );
    // Other paths are axum's.
    let r = request(port, "GET", "/other", &[], b"").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Broadcasts every message, consuming it.
struct Relay;

impl pushwire_tokio::engineio::Handler for Relay {
    fn on_message(
        &mut self,
        sessions: &mut pushwire_tokio::engineio::Sessions<'_>,
        _sid: &str,
        data: PacketData,
    ) -> Option<PacketData> {
        sessions.broadcast(&data);
        None
    }
}

#[tokio::test]
async fn a_handler_relays_before_the_post_is_answered() {
    let (eio, mut incoming) = EngineIo::with_handler(Config::DEFAULT, Relay);
    let port = serve_endpoint(eio).await;
    let a = open_v4(port).await;
    let b = open_v4(port).await;
    let mut socket_a = accept(&mut incoming).await;
    let target = |sid: &str| format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let r = request(port, "POST", &target(&a), &[], b"4one\x1e4two").await;
    assert_eq!(r.status, StatusCode::OK);
    // Both were queued for both sessions before the POST was answered.
    let r = request(port, "GET", &target(&b), &[], b"").await;
    assert_eq!(&r.body[..], b"4one\x1e4two");
    let r = request(port, "GET", &target(&a), &[], b"").await;
    assert_eq!(&r.body[..], b"4one\x1e4two");
    // Consumed: the socket never sees them; it ends when the client closes.
    request(port, "POST", &target(&a), &[], b"1").await;
    assert_eq!(recv(&mut socket_a).await, None);
}

/// A message a polling session posts, relayed by the handler, reaches a websocket session
/// without anything else waking that session's task (its wake-up once went to the poster
/// only; the demo's Engine.io chat lost its polling → websocket lines).
#[tokio::test]
async fn a_handler_relay_wakes_the_other_sessions_websockets() {
    use pushwire_tokio::engineio::client::{connect, ClientConfig};
    use pushwire_tokio::engineio::pushwire_engineio::client::Config as SessionConfig;
    let (eio, _incoming) = EngineIo::with_handler(Config::DEFAULT, Relay);
    let port = serve_endpoint(eio).await;
    let config = ClientConfig::DEFAULT.with_engine(
        SessionConfig::DEFAULT
            .with_websocket_only(true)
            .with_protocol(ProtocolVersion::V4),
    );
    let url = format!("http://127.0.0.1:{port}/engine.io/");
    let mut ws = timeout(DEADLINE, connect(&url, config))
        .await
        .unwrap()
        .unwrap();
    let poster = open_v4(port).await;
    let target = format!("/engine.io/?EIO=4&transport=polling&sid={poster}");
    let r = request(port, "POST", &target, &[], b"4from polling").await;
    assert_eq!(r.status, StatusCode::OK);
    let got = timeout(DEADLINE, ws.recv()).await.unwrap();
    assert_eq!(got, Some(PacketData::Text("from polling".into())));
}

#[tokio::test]
async fn the_hyper_client_speaks_both_revisions_over_every_transport() {
    use pushwire_tokio::engineio::client::{connect, ClientConfig};
    use pushwire_tokio::engineio::pushwire_engineio::client::Config as SessionConfig;
    let (port, _eio, mut incoming) = serve(Config::DEFAULT).await;
    // The server echoes.
    tokio::spawn(async move {
        while let Some(mut socket) = incoming.accept().await {
            tokio::spawn(async move {
                while let Some(data) = socket.recv().await {
                    let _ = socket.send(data);
                }
            });
        }
    });
    let url = format!("http://127.0.0.1:{port}/engine.io/");
    for protocol in [ProtocolVersion::V3, ProtocolVersion::V4] {
        for (mode, session) in [
            ("polling", SessionConfig::DEFAULT.with_upgrade(false)),
            (
                "websocket",
                SessionConfig::DEFAULT.with_websocket_only(true),
            ),
            ("upgrade", SessionConfig::DEFAULT),
        ] {
            let config = ClientConfig::DEFAULT.with_engine(session.with_protocol(protocol));
            let mut client = timeout(DEADLINE, connect(&url, config))
                .await
                .unwrap()
                .unwrap();
            let sent = [
                PacketData::Text("hello".into()),
                PacketData::Text("😀 中文".into()),
                PacketData::Binary(Bytes::from_static(&[0, 1, 254, 255])),
                PacketData::Text("x".repeat(5000)),
            ];
            for d in &sent {
                client.send(d.clone()).await.unwrap();
            }
            for d in &sent {
                let got = timeout(DEADLINE, client.recv()).await.unwrap();
                assert_eq!(got.as_ref(), Some(d), "{protocol:?} {mode}");
            }
            if mode != "polling" {
                // The upgrade completes after the handshake; give it the deadline.
                timeout(DEADLINE, async {
                    while client.transport() != TransportKind::WebSocket {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                })
                .await
                .unwrap_or_else(|_| panic!("{protocol:?} {mode}: not on websocket"));
                client.send(PacketData::Text("after".into())).await.unwrap();
                assert_eq!(
                    timeout(DEADLINE, client.recv()).await.unwrap(),
                    Some(PacketData::Text("after".into()))
                );
            } else {
                assert_eq!(client.transport(), TransportKind::Polling);
            }
            client.close().await;
            assert_eq!(timeout(DEADLINE, client.recv()).await.unwrap(), None);
            assert_eq!(
                client.close_reason(),
                Some(pushwire_tokio::engineio::client::ClientCloseReason::ForcedClose)
            );
        }
    }
    // Nobody listening: the handshake fails with a typed error.
    let nobody = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let err = connect(
        &format!("http://127.0.0.1:{nobody}/engine.io/"),
        ClientConfig::DEFAULT,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        pushwire_tokio::engineio::client::ConnectError::Handshake(_)
    ));
    assert!(matches!(
        connect("ftp://x/", ClientConfig::DEFAULT).await,
        Err(pushwire_tokio::engineio::client::ConnectError::InvalidUrl(
            _
        ))
    ));
}

/// Messages the server sends at once in the flood test: many more than the client's
/// receive queue ([`FLOOD_QUEUE`]) holds.
const FLOOD: usize = 40;
const FLOOD_QUEUE: usize = 4;

#[tokio::test]
async fn the_hyper_client_sends_while_a_flood_it_does_not_read_waits() {
    use pushwire_tokio::engineio::client::{connect, ClientConfig};
    use pushwire_tokio::engineio::pushwire_engineio::client::Config as SessionConfig;
    let (port, _eio, mut incoming) = serve(Config::DEFAULT).await;
    // Each session: the server floods the client, then reports what the client sent.
    let (got_tx, mut got_rx) = tokio::sync::mpsc::unbounded_channel::<PacketData>();
    tokio::spawn(async move {
        while let Some(mut socket) = incoming.accept().await {
            let got_tx = got_tx.clone();
            tokio::spawn(async move {
                for i in 0..FLOOD {
                    socket.send_text(format!("s{i}")).unwrap();
                }
                while let Some(data) = socket.recv().await {
                    let _ = got_tx.send(data);
                }
            });
        }
    });
    let url = format!("http://127.0.0.1:{port}/engine.io/");
    for protocol in [ProtocolVersion::V3, ProtocolVersion::V4] {
        for (mode, session) in [
            ("polling", SessionConfig::DEFAULT.with_upgrade(false)),
            (
                "websocket",
                SessionConfig::DEFAULT.with_websocket_only(true),
            ),
        ] {
            let config = ClientConfig::DEFAULT
                .with_engine(session.with_protocol(protocol))
                .with_recv_queue(FLOOD_QUEUE);
            let mut client = timeout(DEADLINE, connect(&url, config))
                .await
                .unwrap()
                .unwrap();
            // Let the flood reach the client (were it late, the sends below would still
            // have to complete; the wait only makes the full receive queue certain).
            tokio::time::sleep(Duration::from_millis(300)).await;
            // More sends than the command channel holds, none of them reading.
            let sent: Vec<PacketData> = (0..2 * FLOOD)
                .map(|i| PacketData::Text(format!("c{i}")))
                .collect();
            for d in &sent {
                timeout(DEADLINE, client.send(d.clone()))
                    .await
                    .unwrap_or_else(|_| panic!("{protocol:?} {mode}: send waits for recv"))
                    .unwrap();
            }
            // The server gets every send, in order.
            for d in &sent {
                let got = timeout(DEADLINE, got_rx.recv()).await.unwrap();
                assert_eq!(got.as_ref(), Some(d), "{protocol:?} {mode}");
            }
            // Then the client reads the whole flood: nothing lost, in order.
            for i in 0..FLOOD {
                let got = timeout(DEADLINE, client.recv()).await.unwrap();
                assert_eq!(
                    got,
                    Some(PacketData::Text(format!("s{i}"))),
                    "{protocol:?} {mode}"
                );
            }
            assert_eq!(client.close_reason(), None, "{protocol:?} {mode}");
            client.close().await;
            assert_eq!(timeout(DEADLINE, client.recv()).await.unwrap(), None);
        }
    }
}

#[tokio::test]
async fn duration_max_heartbeats_and_timeouts_mean_never() {
    use pushwire_tokio::engineio::client::{connect, ClientConfig};
    use pushwire_tokio::engineio::pushwire_engineio::client::Config as SessionConfig;
    let engine = Config::DEFAULT
        .engine
        .with_ping_interval(Duration::MAX)
        .with_ping_timeout(Duration::MAX);
    let config = Config::DEFAULT
        .with_engine(engine)
        .with_body_timeout(Duration::MAX)
        .with_write_timeout(Duration::MAX);
    let (port, eio, mut incoming) = serve(config).await;
    tokio::spawn(async move {
        while let Some(mut socket) = incoming.accept().await {
            tokio::spawn(async move {
                while let Some(data) = socket.recv().await {
                    let _ = socket.send(data);
                }
            });
        }
    });
    let url = format!("http://127.0.0.1:{port}/engine.io/");
    for protocol in [ProtocolVersion::V3, ProtocolVersion::V4] {
        for (mode, session) in [
            ("polling", SessionConfig::DEFAULT.with_upgrade(false)),
            ("upgrade", SessionConfig::DEFAULT),
        ] {
            let config = ClientConfig::DEFAULT
                .with_engine(session.with_protocol(protocol))
                .with_request_timeout(Duration::MAX);
            let mut client = timeout(DEADLINE, connect(&url, config))
                .await
                .unwrap()
                .unwrap();
            for i in 0..3 {
                let d = PacketData::Text(format!("m{i}"));
                timeout(DEADLINE, client.send(d.clone()))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(
                    timeout(DEADLINE, client.recv()).await.unwrap(),
                    Some(d),
                    "{protocol:?} {mode}"
                );
                // Held polls and timers with a deadline too far to represent.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(client.close_reason(), None, "{protocol:?} {mode}");
            client.close().await;
            assert_eq!(timeout(DEADLINE, client.recv()).await.unwrap(), None);
        }
    }
    // Every session closed and is gone.
    timeout(DEADLINE, async {
        while eio.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn closing_a_polling_socket_ends_it_at_once_and_the_client_still_gets_close() {
    let (port, _eio, mut incoming) = serve(Config::DEFAULT).await;
    let sid = open_v4(port).await;
    let mut socket = accept(&mut incoming).await;
    let other = open_v4(port).await;
    let _other_socket = accept(&mut incoming).await;
    let target = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let other_poll = tokio::spawn(async move {
        let target = format!("/engine.io/?EIO=4&transport=polling&sid={other}");
        request(port, "GET", &target, &[], b"").await
    });
    // A message received, not yet taken; no GET of this session is held.
    let r = request(port, "POST", &target, &[], b"4before").await;
    assert_eq!(r.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(50)).await;
    socket.close();
    // The socket ends at once (not at the client's next GET, nor after the 30 s
    // close_timeout), after the message it had received.
    assert_eq!(
        recv(&mut socket).await,
        Some(PacketData::Text("before".into()))
    );
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::ForcedClose));
    // The client's next GET still gets the close packet, and then the session is gone.
    let r = request(port, "GET", &target, &[], b"").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], b"1");
    let r = request(port, "GET", &target, &[], b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The other session's held GET was not answered by any of this.
    assert!(!other_poll.is_finished());
    other_poll.abort();
}

#[tokio::test]
async fn a_request_with_a_percent_encoded_sid_wakes_its_sessions_held_poll() {
    let (port, _eio, mut incoming) = serve(Config::DEFAULT).await;
    let r = request(port, "GET", "/engine.io/?EIO=3&transport=polling", &[], b"").await;
    let sid = sid_of(&r.body);
    let _socket = accept(&mut incoming).await;
    let held = {
        let target = format!("/engine.io/?EIO=3&transport=polling&sid={sid}");
        tokio::spawn(async move { request(port, "GET", &target, &[], b"").await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!held.is_finished(), "nothing to send yet");
    // The same sid with its first character percent-encoded: the server decodes it and
    // routes the ping to the session, whose held GET must then carry the pong at once (not
    // at the session's next deadline, 25 s away).
    let encoded = format!("%{:02X}{}", sid.as_bytes()[0], &sid[1..]);
    let target = format!("/engine.io/?EIO=3&transport=polling&sid={encoded}");
    let r = request(port, "POST", &target, &[], b"1:2").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = timeout(Duration::from_secs(2), held)
        .await
        .expect("the held GET was not woken")
        .unwrap();
    assert_eq!(&r.body[..], b"1:3");
}
