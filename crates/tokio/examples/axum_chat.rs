//! A chat on axum: every message a client sends goes to every connected client. WebSockets
//! open over HTTP/1.1 upgrades and, on HTTP/2 connections (h2c here; h2 behind TLS in a
//! browser), over extended CONNECT (RFC 8441) — one `any()` route takes both — with
//! permessage-deflate agreed when the client offers it.
//!
//! ```text
//! cargo run -p pushwire-tokio --features axum --example axum_chat -- 127.0.0.1:3000
//! ```
//! then open http://127.0.0.1:3000/ in two tabs.

use axum::extract::State;
use axum::response::{Html, Response};
use axum::routing::{any, get};
use axum::Router;
use pushwire_tokio::axum::WebSocketUpgrade;
use pushwire_tokio::Message;
use tokio::sync::broadcast;

/// Messages that may wait for a slow member before it starts missing them.
const BACKLOG: usize = 256;

const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>pushwire axum chat</title>
<pre id="log"></pre><input id="line" autofocus placeholder="say something, press Enter">
<script>
const ws = new WebSocket(`ws://${location.host}/chat`);
const log = (t) => { document.getElementById('log').textContent += t + '\n'; };
ws.onopen = () => log(`connected (${ws.extensions || 'no extension'})`);
ws.onmessage = (e) => log(e.data);
ws.onclose = (e) => log(`closed ${e.code}`);
document.getElementById('line').onkeydown = (e) => {
  if (e.key === 'Enter' && e.target.value) { ws.send(e.target.value); e.target.value = ''; }
};
</script>"#;

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let (tx, _) = broadcast::channel::<Message>(BACKLOG);
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/chat", any(chat))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    println!("axum chat on http://{}/", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

/// One member: what it sends goes to everyone (itself included); what anyone sends comes
/// back to it. A member that falls `BACKLOG` messages behind is told so and closed.
async fn chat(ws: WebSocketUpgrade, State(tx): State<broadcast::Sender<Message>>) -> Response {
    ws.on_upgrade(move |mut ws| async move {
        let mut rx = tx.subscribe();
        loop {
            tokio::select! {
                // `recv` is cancel safe: losing the race to the broadcast loses nothing.
                msg = ws.recv() => match msg {
                    Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => {
                        let _ = tx.send(m);
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
                out = rx.recv() => match out {
                    Ok(m) => {
                        if ws.send(m).await.is_err() {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = ws.close(1008, "too slow").await;
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    })
}
