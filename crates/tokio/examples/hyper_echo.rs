//! A WebSocket echo server on hyper (feature `http`): HTTP/1.1 and h2c on one port, WebSockets
//! by HTTP/1.1 upgrade or HTTP/2 extended CONNECT (RFC 8441), permessage-deflate agreed when
//! offered. Other requests get 404.
//!
//! ```text
//! cargo run -p pushwire-tokio --features http --example hyper_echo -- 127.0.0.1:9001
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pushwire_tokio::upgrade::{is_websocket_request, Upgrade};
use pushwire_tokio::{Config, Message};

async fn handle(mut req: Request<Incoming>) -> Result<Response<Empty<Bytes>>, Infallible> {
    if !is_websocket_request(&req) {
        let mut r = Response::new(Empty::new());
        *r.status_mut() = StatusCode::NOT_FOUND;
        return Ok(r);
    }
    let upgrade = match Upgrade::from_request(&mut req) {
        Ok(u) => u,
        Err(e) => return Ok(e.response()),
    };
    let (response, pending) = match upgrade.accept(None, Config::DEFAULT) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot accept: {e}");
            let mut r = Response::new(Empty::new());
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return Ok(r);
        }
    };
    tokio::spawn(async move {
        let Ok(mut ws) = pending.await else { return };
        while let Some(Ok(msg)) = ws.recv().await {
            if matches!(msg, Message::Text(_) | Message::Binary(_)) && ws.send(msg).await.is_err() {
                break;
            }
        }
    });
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("echo on ws://{}/", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder.http2().enable_connect_protocol();
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(tcp), service_fn(handle))
                .await;
        });
    }
}
