//! WebSocket through hyper (feature `http`): HTTP/1.1 upgrades and RFC 8441 extended CONNECT
//! on hyper-util's auto server, with pushwire-tokio's clients.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pushwire_tokio::upgrade::{connect_http2, is_websocket_request, Upgrade};
use pushwire_tokio::{Config, Message, WebSocketStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Body = Empty<Bytes>;

/// Echoes every text and binary message; answers non-WebSocket requests 404.
async fn handle(mut req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if !is_websocket_request(&req) {
        let mut r = Response::new(Body::new());
        *r.status_mut() = StatusCode::NOT_FOUND;
        return Ok(r);
    }
    let up = match Upgrade::from_request(&mut req) {
        Ok(up) => up,
        Err(e) => return Ok(e.response()),
    };
    let protocol = up.offer().protocols().first().cloned();
    let (resp, pending) = up.accept(protocol.as_deref(), Config::DEFAULT).unwrap();
    tokio::spawn(async move {
        let mut ws = pending.await.unwrap();
        while let Some(Ok(msg)) = ws.recv().await {
            if matches!(msg, Message::Text(_) | Message::Binary(_)) && ws.send(msg).await.is_err() {
                break;
            }
        }
    });
    Ok(resp)
}

/// Serves `handle` on a local port, HTTP/1.1 and h2c (prior knowledge); `connect_protocol`
/// says whether the HTTP/2 server announces SETTINGS_ENABLE_CONNECT_PROTOCOL.
async fn server(connect_protocol: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut b = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                if connect_protocol {
                    b.http2().enable_connect_protocol();
                }
                let _ = b
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service_fn(handle))
                    .await;
            });
        }
    });
    port
}

async fn h2_sender(port: u16) -> hyper::client::conn::http2::SendRequest<Body> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

async fn echo_roundtrip<S>(ws: &mut WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for i in 0..50u32 {
        let text = format!("message {i} {}", "x".repeat(i as usize * 100));
        ws.send(Message::text(text.clone())).await.unwrap();
        match ws.recv().await {
            Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), text),
            other => panic!("expected the echo, got {other:?}"),
        }
    }
    ws.send(Message::binary(vec![7u8; 70_000])).await.unwrap();
    match ws.recv().await {
        Some(Ok(Message::Binary(b))) => assert_eq!(&b[..], &[7u8; 70_000][..]),
        other => panic!("expected the binary echo, got {other:?}"),
    }
}

#[tokio::test]
async fn http1_upgrade_through_hyper_echoes() {
    let port = server(true).await;
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut ws = WebSocketStream::client(tcp, "localhost", "/echo", Config::DEFAULT)
        .await
        .unwrap();
    echo_roundtrip(&mut ws).await;
    ws.close(1000, "bye").await.unwrap();
    let mut closed = false;
    while let Some(m) = ws.recv().await {
        if let Message::Close(Some(c)) = m.unwrap() {
            assert_eq!(c.code(), 1000);
            closed = true;
        }
    }
    assert!(closed, "the server answered our Close");
}

#[tokio::test]
async fn rfc8441_extended_connect_over_h2c_echoes_with_subprotocol() {
    let port = server(true).await;
    let mut sender = h2_sender(port).await;
    let uri: http::Uri = format!("http://127.0.0.1:{port}/echo").parse().unwrap();
    let (mut ws, protocol) = connect_http2(&mut sender, uri.clone(), &["chat"], Config::DEFAULT)
        .await
        .unwrap();
    assert_eq!(protocol.as_deref(), Some("chat"));
    echo_roundtrip(&mut ws).await;
    // A second WebSocket on the same HTTP/2 connection, beside the first.
    let (mut ws2, _) = connect_http2(&mut sender, uri, &[], Config::DEFAULT.with_deflate(None))
        .await
        .unwrap();
    echo_roundtrip(&mut ws2).await;
    echo_roundtrip(&mut ws).await;
    ws.close(1000, "").await.unwrap();
    while let Some(m) = ws.recv().await {
        m.unwrap();
    }
}

#[tokio::test]
async fn extended_connect_refused_when_the_server_does_not_announce_it() {
    let port = server(false).await;
    let mut sender = h2_sender(port).await;
    let uri: http::Uri = format!("http://127.0.0.1:{port}/echo").parse().unwrap();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        connect_http2(&mut sender, uri, &[], Config::DEFAULT),
    )
    .await
    .expect("refused, not hung");
    assert!(
        r.is_err(),
        "a server without SETTINGS_ENABLE_CONNECT_PROTOCOL cannot take it"
    );
}

/// Sends a raw HTTP/1.1 request and returns the response head.
async fn raw(port: u16, request: &str) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "response ended early: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap().to_ascii_lowercase()
}

#[tokio::test]
async fn bad_handshakes_get_400_and_426_from_hyper() {
    let port = server(true).await;
    let head = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    // No key.
    let r = raw(port, &format!("{head}Sec-WebSocket-Version: 13\r\n\r\n")).await;
    assert!(r.starts_with("http/1.1 400"), "{r}");
    // Version 8: 426 with the version we speak.
    let r = raw(
        port,
        &format!(
            "{head}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
        ),
    )
    .await;
    assert!(r.starts_with("http/1.1 426"), "{r}");
    assert!(r.contains("sec-websocket-version: 13\r\n"), "{r}");
    // A good one: the RFC 6455 §1.3 accept value, and deflate agreed.
    let r = raw(
        port,
        &format!("{head}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"),
    )
    .await;
    assert!(r.starts_with("http/1.1 101"), "{r}");
    assert!(
        r.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"),
        "{r}"
    );
    assert!(
        r.contains("sec-websocket-extensions: permessage-deflate"),
        "{r}"
    );
}
