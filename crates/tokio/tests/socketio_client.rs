//! The Socket.IO client (feature `socketio`) against a scripted Socket.IO server: this
//! crate's Engine.io server (`EngineIo` on hyper, loopback) with the Socket.IO packets
//! written and checked by hand, as socket.io 4.x (revision 5) and 2.x (revision 4) send
//! them (the packet texts are the specs' examples). The real node servers are
//! `examples/sio_client_check.rs` against `tests/interop/socketio-client/server.js`.

use std::convert::Infallible;
use std::time::Duration;

use http::Request;
use hyper::body::Incoming as HyperBody;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pushwire_tokio::engineio::{self, EngineIo, Incoming, PacketData, Socket};
use pushwire_tokio::socketio::client::{
    connect, AckError, ClientConfig, ClientEvent, ClientSocket, DisconnectReason, EmitError, Error,
    Map, ProtocolVersion, SioConfig, SocketEvent, Value,
};
use tokio::net::TcpListener;
use tokio::time::timeout;

/// A generous guard: every step must finish within this (never a speed assertion).
const DEADLINE: Duration = Duration::from_secs(10);

/// An Engine.io endpoint on a local port; its URL and its new sessions.
async fn serve() -> (String, Incoming) {
    let (eio, incoming) = EngineIo::new(engineio::Config::DEFAULT);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
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
    (format!("http://127.0.0.1:{port}/socket.io/"), incoming)
}

async fn accept(incoming: &mut Incoming) -> Socket {
    timeout(DEADLINE, incoming.accept()).await.unwrap().unwrap()
}

/// The next text message the server receives.
async fn server_recv(socket: &mut Socket) -> String {
    match timeout(DEADLINE, socket.recv()).await.unwrap() {
        Some(PacketData::Text(t)) => t,
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// The next text messages, `n` of them, sorted (the order of two namespaces' joins is
/// the order of the calls, but the test does not rely on it).
async fn server_recv_sorted(socket: &mut Socket, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(server_recv(socket).await);
    }
    out.sort();
    out
}

async fn next(s: &mut ClientSocket) -> SocketEvent {
    timeout(DEADLINE, s.recv()).await.unwrap().unwrap()
}

async fn connected(s: &mut ClientSocket) -> String {
    match next(s).await {
        SocketEvent::Connected { sid } => sid,
        other => panic!("expected Connected, got {other:?}"),
    }
}

fn token(t: &str) -> Value {
    Value::Object(Map::from_iter([("token", Value::from(t))]))
}

fn fast_reconnect() -> SioConfig {
    SioConfig::DEFAULT
        .with_reconnection_delay(Duration::from_millis(50))
        .with_reconnection_delay_max(Duration::from_millis(100))
}

#[tokio::test]
async fn v5_two_namespaces_share_one_session_and_acks_go_both_ways() {
    let (url, mut incoming) = serve().await;
    let mut client = connect(&url, ClientConfig::DEFAULT).await.unwrap();
    let mut root = client.socket("/", Some(token("a"))).await.unwrap();
    let mut custom = client.socket("/custom", Some(token("b"))).await.unwrap();

    let mut server = accept(&mut incoming).await;
    // v5 spec: "0/admin,{"token":"123"}" — a CONNECT with auth; `/` has no namespace part.
    assert_eq!(
        server_recv_sorted(&mut server, 2).await,
        [r#"0/custom,{"token":"b"}"#, r#"0{"token":"a"}"#]
    );
    server.send_text(r#"0{"sid":"root-sid"}"#).unwrap();
    server
        .send_text(r#"0/custom,{"sid":"custom-sid"}"#)
        .unwrap();
    assert_eq!(connected(&mut root).await, "root-sid");
    assert_eq!(connected(&mut custom).await, "custom-sid");

    // Our ack request: "2/custom,0[…]" then the server's "3/custom,0[…]".
    let ack = custom
        .emit_with_ack("hi", &[Value::from(1u64)], None)
        .await
        .unwrap();
    assert_eq!(server_recv(&mut server).await, r#"2/custom,0["hi",1]"#);
    server.send_text(r#"3/custom,0["ok"]"#).unwrap();
    assert_eq!(
        timeout(DEADLINE, ack).await.unwrap().unwrap(),
        [Value::from("ok")]
    );

    // The server's ack request on `/`, answered by us.
    server.send_text(r#"27["question",{"n":2}]"#).unwrap();
    let SocketEvent::Event(e) = next(&mut root).await else {
        panic!("expected an event")
    };
    assert_eq!(e.name, "question");
    assert_eq!(
        e.args,
        [Value::Object(Map::from_iter([("n", Value::from(2u64))]))]
    );
    let responder = e.ack.expect("the server asked for an ack");
    assert_eq!(responder.id(), 7);
    responder.send(&[Value::from("yes")]).await.unwrap();
    assert_eq!(server_recv(&mut server).await, r#"37["yes"]"#);

    // Events reach only their namespace; a plain emit carries no id.
    server.send_text(r#"2/custom,["only-custom"]"#).unwrap();
    root.emit("plain", &[]).await.unwrap();
    assert_eq!(server_recv(&mut server).await, r#"2["plain"]"#);
    let SocketEvent::Event(e) = next(&mut custom).await else {
        panic!("expected an event")
    };
    assert_eq!((e.name.as_str(), e.ack.is_none()), ("only-custom", true));
    assert!(timeout(Duration::from_millis(200), root.recv())
        .await
        .is_err());

    // One Engine.io session for both namespaces.
    assert!(timeout(Duration::from_millis(200), incoming.accept())
        .await
        .is_err());
    let first = timeout(DEADLINE, client.recv()).await.unwrap();
    assert!(matches!(first, Some(ClientEvent::Open { sid }) if sid == server.sid()));
}

#[tokio::test]
async fn v5_a_lost_session_is_reopened_and_both_namespaces_rejoin() {
    let (url, mut incoming) = serve().await;
    let config = ClientConfig::DEFAULT.with_socketio(fast_reconnect());
    let mut client = connect(&url, config).await.unwrap();
    let mut root = client.socket("/", None).await.unwrap();
    let mut custom = client.socket("/custom", None).await.unwrap();
    let mut server = accept(&mut incoming).await;
    assert_eq!(server_recv_sorted(&mut server, 2).await, ["0", "0/custom,"]);
    server.send_text(r#"0{"sid":"a"}"#).unwrap();
    server.send_text(r#"0/custom,{"sid":"b"}"#).unwrap();
    connected(&mut root).await;
    connected(&mut custom).await;

    server.close();
    for s in [&mut root, &mut custom] {
        match next(s).await {
            SocketEvent::Disconnected { reason } => {
                assert_eq!(reason, DisconnectReason::TransportClose);
            }
            other => panic!("expected Disconnected, got {other:?}"),
        }
    }
    // An emit while disconnected waits in the send buffer.
    root.emit("buffered", &[]).await.unwrap();

    let mut server2 = accept(&mut incoming).await;
    assert_ne!(server2.sid(), server.sid());
    assert_eq!(
        server_recv_sorted(&mut server2, 2).await,
        ["0", "0/custom,"]
    );
    server2.send_text(r#"0{"sid":"c"}"#).unwrap();
    server2.send_text(r#"0/custom,{"sid":"d"}"#).unwrap();
    assert_eq!(connected(&mut root).await, "c");
    assert_eq!(connected(&mut custom).await, "d");
    assert_eq!(server_recv(&mut server2).await, r#"2["buffered"]"#);

    let mut saw = Vec::new();
    while let Ok(Some(e)) = timeout(Duration::from_millis(100), client.recv()).await {
        saw.push(e);
    }
    assert!(saw.contains(&ClientEvent::TransportClosed), "{saw:?}");
    assert!(
        saw.iter()
            .any(|e| matches!(e, ClientEvent::Reconnected { .. })),
        "{saw:?}"
    );
}

#[tokio::test]
async fn v4_root_is_implicit_and_a_server_disconnect_is_final() {
    let (url, mut incoming) = serve().await;
    let config = ClientConfig::DEFAULT
        .with_protocol(ProtocolVersion::V4)
        .with_socketio(fast_reconnect());
    let client = connect(&url, config).await.unwrap();
    // Revision 4 cannot carry auth for `/` in a CONNECT.
    assert!(matches!(
        client.socket("/", Some(token("x"))).await,
        Err(Error::Connect(_))
    ));
    let mut root = client.socket("/", None).await.unwrap();
    let mut custom = client.socket("/custom", Some(token("b"))).await.unwrap();
    let mut server = accept(&mut incoming).await;
    // socket.io 2 connects `/` itself; the client asks for the others, auth as a query.
    server.send_text("0").unwrap();
    assert_eq!(server_recv(&mut server).await, "0/custom?token=b,");
    server.send_text("0/custom").unwrap();
    assert_eq!(connected(&mut root).await, server.sid());
    assert_eq!(
        connected(&mut custom).await,
        format!("/custom#{}", server.sid())
    );

    // "1/custom": the server disconnects the namespace; the socket ends.
    server.send_text("1/custom").unwrap();
    match next(&mut custom).await {
        SocketEvent::Disconnected { reason } => {
            assert_eq!(reason, DisconnectReason::IoServerDisconnect);
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert!(timeout(DEADLINE, custom.recv()).await.unwrap().is_none());
    assert!(matches!(
        custom.emit("late", &[]).await,
        Err(Error::Emit(EmitError::NotJoined(_)))
    ));

    // After a reconnection only `/` is there (it is implicit): no CONNECT for `/custom`.
    server.close();
    assert!(matches!(
        next(&mut root).await,
        SocketEvent::Disconnected {
            reason: DisconnectReason::TransportClose
        }
    ));
    let mut server2 = accept(&mut incoming).await;
    server2.send_text("0").unwrap();
    assert_eq!(connected(&mut root).await, server2.sid());
    root.emit("after", &[]).await.unwrap();
    assert_eq!(server_recv(&mut server2).await, r#"2["after"]"#);
    drop(client);
}

#[tokio::test]
async fn refusals_are_typed() {
    assert!(matches!(
        connect("ws://127.0.0.1:1/", ClientConfig::DEFAULT).await,
        Err(Error::InvalidUrl(_))
    ));
    let (url, mut incoming) = serve().await;
    let client = connect(&url, ClientConfig::DEFAULT).await.unwrap();
    let mut root = client.socket("/", None).await.unwrap();
    assert!(matches!(
        client.socket("/", None).await,
        Err(Error::AlreadyJoined(n)) if n == "/"
    ));
    let mut server = accept(&mut incoming).await;
    assert_eq!(server_recv(&mut server).await, "0");
    server.send_text(r#"0{"sid":"a"}"#).unwrap();
    connected(&mut root).await;
    // v5: "connect" is a reserved event name.
    assert!(matches!(
        root.emit("connect", &[]).await,
        Err(Error::Emit(EmitError::Build(_)))
    ));
    // No answer within the timeout.
    let ack = root
        .emit_with_ack("ignored", &[], Some(Duration::from_millis(100)))
        .await
        .unwrap();
    assert_eq!(server_recv(&mut server).await, r#"20["ignored"]"#);
    assert_eq!(
        timeout(DEADLINE, ack).await.unwrap(),
        Err(AckError::Timeout)
    );
    // The server drops the namespace: an awaited ack is dropped.
    let ack = root.emit_with_ack("pending", &[], None).await.unwrap();
    assert_eq!(server_recv(&mut server).await, r#"21["pending"]"#);
    server.send_text("1").unwrap();
    assert_eq!(
        timeout(DEADLINE, ack).await.unwrap(),
        Err(AckError::Dropped)
    );
}

#[tokio::test]
async fn a_full_event_queue_loses_nothing_and_dropping_a_socket_leaves_its_namespace() {
    let (url, mut incoming) = serve().await;
    let config = ClientConfig::DEFAULT.with_event_queue(1);
    let client = connect(&url, config).await.unwrap();
    let mut root = client.socket("/", None).await.unwrap();
    let custom = client.socket("/custom", None).await.unwrap();
    let mut server = accept(&mut incoming).await;
    server_recv_sorted(&mut server, 2).await;
    server.send_text(r#"0{"sid":"a"}"#).unwrap();
    server.send_text(r#"0/custom,{"sid":"b"}"#).unwrap();
    for i in 0..20u64 {
        server.send_text(format!(r#"2["n",{i}]"#)).unwrap();
    }
    // Nothing read yet: the driver holds the overflow and stops reading, but still takes
    // commands and runs timers: an ack times out, dropping `/custom` queues its DISCONNECT.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ack = root
        .emit_with_ack("late", &[], Some(Duration::from_millis(50)))
        .await
        .unwrap();
    assert_eq!(
        timeout(DEADLINE, ack).await.unwrap(),
        Err(AckError::Timeout)
    );
    drop(custom);
    // Still nothing read: what was queued goes out all the same, in order.
    assert_eq!(server_recv(&mut server).await, r#"20["late"]"#);
    assert_eq!(server_recv(&mut server).await, "1/custom,");
    connected(&mut root).await;
    for i in 0..20u64 {
        match next(&mut root).await {
            SocketEvent::Event(e) => assert_eq!(e.args, [Value::from(i)]),
            other => panic!("expected event {i}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_given_up_and_reconnect_starts_again() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config =
        ClientConfig::DEFAULT.with_socketio(fast_reconnect().with_reconnection_attempts(Some(2)));
    let mut client = connect(&format!("http://127.0.0.1:{port}/socket.io/"), config)
        .await
        .unwrap();
    let mut root = client.socket("/", None).await.unwrap();
    let mut saw = Vec::new();
    while !saw.contains(&ClientEvent::ReconnectFailed) {
        saw.push(timeout(DEADLINE, client.recv()).await.unwrap().unwrap());
    }
    let errors = saw.iter().filter(|e| **e == ClientEvent::OpenError).count();
    let attempts = saw
        .iter()
        .filter(|e| matches!(e, ClientEvent::ReconnectAttempt { .. }))
        .count();
    // The first open and 2 reconnection attempts, each failed.
    assert_eq!((errors, attempts), (3, 2), "{saw:?}");
    // The socket stays joined, never connected.
    assert!(timeout(Duration::from_millis(100), root.recv())
        .await
        .is_err());
    client.reconnect().await;
    assert_eq!(
        timeout(DEADLINE, client.recv()).await.unwrap(),
        Some(ClientEvent::OpenError)
    );
}

#[tokio::test]
async fn a_duration_max_ack_timeout_means_never() {
    let (url, mut incoming) = serve().await;
    let client = connect(&url, ClientConfig::DEFAULT).await.unwrap();
    let mut root = client.socket("/", None).await.unwrap();
    let mut server = accept(&mut incoming).await;
    assert_eq!(server_recv(&mut server).await, "0");
    server.send_text(r#"0{"sid":"a"}"#).unwrap();
    connected(&mut root).await;
    // The ack's deadline is too far for the clock: it never fires, and nothing panics.
    let ack = root
        .emit_with_ack("slow", &[], Some(Duration::MAX))
        .await
        .unwrap();
    assert_eq!(server_recv(&mut server).await, r#"20["slow"]"#);
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.send_text(r#"30["done"]"#).unwrap();
    assert_eq!(
        timeout(DEADLINE, ack).await.unwrap().unwrap(),
        [Value::from("done")]
    );
    // The driver is still there.
    root.emit("after", &[]).await.unwrap();
    assert_eq!(server_recv(&mut server).await, r#"2["after"]"#);
}

/// socket.io-client 2 carries the auth of `/` in the URL's query (its `query` option): the
/// query of the URL given to `connect` goes with every Engine.io request, before Engine.io's
/// own parameters, on polling and on websocket.
#[tokio::test]
async fn v4_url_query_reaches_the_server_on_every_transport() {
    let (url, mut incoming) = serve().await;
    let url = format!("{url}?token=abc%20d&room=x");
    for websocket_only in [false, true] {
        let mut eio = engineio::client::ClientConfig::DEFAULT;
        eio.engine = eio.engine.with_websocket_only(websocket_only);
        let config = ClientConfig::DEFAULT
            .with_protocol(ProtocolVersion::V4)
            .with_engineio(eio)
            .with_socketio(fast_reconnect());
        let client = connect(&url, config).await.unwrap();
        let mut root = client.socket("/", None).await.unwrap();
        let server = accept(&mut incoming).await;
        let query = server.query().to_owned();
        assert!(query.starts_with("token=abc%20d&room=x&"), "{query}");
        assert!(query.split('&').any(|p| p == "EIO=3"), "{query}");
        let transport = if websocket_only {
            "websocket"
        } else {
            "polling"
        };
        assert!(
            query
                .split('&')
                .any(|p| p == format!("transport={transport}")),
            "{query}"
        );
        server.send_text("0").unwrap();
        assert_eq!(connected(&mut root).await, server.sid());
        client.close().await;
    }
}
