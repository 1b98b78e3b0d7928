//! The axum extractor (feature `axum`) on `axum::serve`: HTTP/1.1 upgrades and h2c extended
//! CONNECT on one `any()` route, subprotocol choice, deflate, and refusals.

use axum::response::Response;
use axum::routing::any;
use axum::Router;
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pushwire_tokio::axum::WebSocketUpgrade;
use pushwire_tokio::upgrade::connect_http2;
use pushwire_tokio::{Config, Message, WebSocketStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn echo(ws: WebSocketUpgrade) -> Response {
    let ws = ws.protocols(["v2.chat", "v1.chat"]);
    let chosen = ws.selected_protocol().map(str::to_owned);
    ws.on_upgrade(move |mut ws| async move {
        // The first message says which subprotocol was chosen, then everything is echoed.
        let _ = ws
            .send(Message::text(chosen.unwrap_or_else(|| "none".into())))
            .await;
        while let Some(Ok(msg)) = ws.recv().await {
            if matches!(msg, Message::Text(_) | Message::Binary(_)) && ws.send(msg).await.is_err() {
                break;
            }
        }
    })
}

async fn serve() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new().route("/ws", any(echo));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

async fn roundtrip<S>(ws: &mut WebSocketStream<S>, expect_protocol: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match ws.recv().await {
        Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), expect_protocol),
        other => panic!("expected the chosen subprotocol, got {other:?}"),
    }
    for i in 0..20 {
        let text = format!("{i}: {}", "abc".repeat(i * 50));
        ws.send(Message::text(text.clone())).await.unwrap();
        match ws.recv().await {
            Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), text),
            other => panic!("expected the echo, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn http1_upgrade_through_axum() {
    let port = serve().await;
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut ws = WebSocketStream::client(tcp, "localhost", "/ws", Config::DEFAULT)
        .await
        .unwrap();
    roundtrip(&mut ws, "none").await;
}

#[tokio::test]
async fn http2_extended_connect_through_axum_with_a_subprotocol() {
    let port = serve().await;
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake::<_, Empty<Bytes>>(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let uri: http::Uri = format!("http://127.0.0.1:{port}/ws").parse().unwrap();
    // The client prefers v1.chat, and the client's order wins.
    let (mut ws, protocol) =
        connect_http2(&mut sender, uri, &["v1.chat", "v2.chat"], Config::DEFAULT)
            .await
            .unwrap();
    assert_eq!(protocol.as_deref(), Some("v1.chat"));
    roundtrip(&mut ws, "v1.chat").await;
}

#[tokio::test]
async fn axum_refuses_what_is_not_a_handshake() {
    let port = serve().await;
    for (request, status) in [
        // A plain GET.
        ("GET /ws HTTP/1.1\r\nHost: a\r\n\r\n", "400"),
        // A wrong version: 426 and the version we speak.
        ("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n", "426"),
    ] {
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 1024];
        let n = tcp.read(&mut buf).await.unwrap();
        let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
        assert!(head.starts_with(&format!("http/1.1 {status}")), "{head}");
        if status == "426" {
            assert!(head.contains("sec-websocket-version: 13\r\n"), "{head}");
        }
    }
}
