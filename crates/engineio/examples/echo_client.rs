//! A minimal Engine.io v3 client on `std::net` (one thread per HTTP request, the websocket
//! on pushwire-ws: its client handshake and [`Connection`](pushwire_ws::Connection)), to run [`client::Session`]
//! against a real engine.io 3.x server.
//!
//! ```text
//! node tests/interop/node/eio-server-echo.js 3001 300 &   # engine.io 3.6.2, ping 300 ms
//! cargo run -p pushwire-engineio --example echo_client -- 127.0.0.1:3001 [SECONDS] [polling|websocket|upgrade]
//! ```
//!
//! Sends a set of messages (text incl. astral/CJK/empty, binary) — with `upgrade`, some
//! before the probe and the rest once upgraded — expects the echo server to return each
//! exactly once and in order, keeps the session alive for SECONDS (default 2) of heartbeats,
//! then closes. Prints a JSON summary; exit code 0 on success.

mod common;

use common::Ws;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use pushwire_engineio::client;
use pushwire_engineio::http::Method;
use pushwire_engineio::Instant as EioInstant;
use pushwire_engineio::{PacketData, TransportKind, WsMessage};
use pushwire_ws::handshake::{ClientHandshake, ClientRequest, HandshakeLimits};
use pushwire_ws::{Config, Event as WsEvent, StdRandom};

enum Input {
    Http {
        kind: client::RequestKind,
        status: u16,
        binary: bool,
        body: Vec<u8>,
    },
    WsConnected(Arc<Mutex<Ws>>),
    WsFailed,
    WsMessage(WsMessage),
    WsClosed,
}

fn http(addr: &str, req: &client::Request) -> std::io::Result<(u16, bool, Vec<u8>)> {
    let mut s = TcpStream::connect(addr)?;
    let method = if req.method == Method::Post {
        "POST"
    } else {
        "GET"
    };
    let mut head = format!(
        "{method} /engine.io/?{} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        req.query,
        req.body.len()
    );
    if let Some(ct) = req.content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(&req.body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    if head.contains("transfer-encoding: chunked") {
        return Err(std::io::Error::other(
            "chunked responses not supported here",
        ));
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let binary = head
        .lines()
        .any(|l| l.starts_with("content-type: application/octet-stream"));
    Ok((status, binary, raw[split + 4..].to_vec()))
}

/// Why a websocket ended.
enum WsEnd {
    /// The handshake failed (no 101): the upgrade is refused.
    Refused,
    /// The connection closed or failed after the handshake.
    Closed,
}

/// Opens a WebSocket with pushwire-ws's client handshake and spawns its reader; messages
/// come back as inputs.
fn ws_connect(addr: &str, query: &str, tx: mpsc::Sender<Input>) {
    let addr = addr.to_owned();
    let query = query.to_owned();
    std::thread::spawn(move || {
        let run = || -> Result<(), WsEnd> {
            let mut s = TcpStream::connect(&addr).map_err(|_| WsEnd::Closed)?;
            let req = ClientRequest::new(&addr, &format!("/engine.io/?{query}"));
            let mut keys = StdRandom::new();
            let mut handshake = ClientHandshake::new(&req, &mut keys, HandshakeLimits::DEFAULT)
                .map_err(|_| WsEnd::Refused)?;
            s.write_all(&handshake.request())
                .map_err(|_| WsEnd::Closed)?;
            let mut buf = vec![0u8; 64 * 1024];
            let accepted = loop {
                let n = s.read(&mut buf).map_err(|_| WsEnd::Closed)?;
                if n == 0 {
                    return Err(WsEnd::Closed);
                }
                match handshake.feed(&buf[..n]) {
                    Ok(Some(accepted)) => break accepted,
                    Ok(None) => {}
                    Err(_) => return Err(WsEnd::Refused),
                }
            };
            let conn = handshake
                .into_connection(&accepted, Config::DEFAULT, Box::new(keys), None)
                .map_err(|_| WsEnd::Refused)?;
            let stream = s.try_clone().map_err(|_| WsEnd::Closed)?;
            let ws = Arc::new(Mutex::new(Ws { conn, stream }));
            let _ = tx.send(Input::WsConnected(Arc::clone(&ws)));
            // The connection may already hold frames sent right after the 101.
            let mut n = 0;
            loop {
                let mut messages = Vec::new();
                let mut open = true;
                {
                    let mut ws = ws.lock().unwrap();
                    if n > 0 && ws.conn.feed(&buf[..n]).is_err() {
                        return Err(WsEnd::Closed);
                    }
                    loop {
                        match ws.conn.poll_event() {
                            Ok(Some(WsEvent::Text(t))) => {
                                messages.push(WsMessage::Text(t.as_str().to_owned()))
                            }
                            Ok(Some(WsEvent::Binary(b))) => messages.push(WsMessage::Binary(b)),
                            Ok(Some(WsEvent::Close(_))) | Err(_) => {
                                open = false;
                                break;
                            }
                            Ok(Some(_)) => {}
                            Ok(None) => break,
                        }
                    }
                    let _ = ws.flush();
                }
                for m in messages {
                    let _ = tx.send(Input::WsMessage(m));
                }
                if !open {
                    return Err(WsEnd::Closed);
                }
                n = s.read(&mut buf).map_err(|_| WsEnd::Closed)?;
                if n == 0 {
                    return Err(WsEnd::Closed);
                }
            }
        };
        let _ = tx.send(match run() {
            Err(WsEnd::Refused) => Input::WsFailed,
            _ => Input::WsClosed,
        });
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:3001".into());
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let mode = args.get(3).cloned().unwrap_or_else(|| "polling".into());
    let start = Instant::now();
    let mut config = client::Config::default();
    config.upgrade = mode == "upgrade";
    config.websocket_only = mode == "websocket";
    let mut client = client::Session::new(config, EioInstant::ZERO);
    let sent: Vec<PacketData> = vec![
        PacketData::Text("hello".into()),
        PacketData::Text("😀 astral 🎉".into()),
        PacketData::Text("中文字".into()),
        PacketData::Text(String::new()),
        PacketData::Text("x".repeat(5000)),
        PacketData::Binary(vec![0u8, 1, 2, 254, 255].into()),
        PacketData::Text("last".into()),
    ];
    let split = if mode == "upgrade" { 3 } else { sent.len() };
    let (tx, rx) = mpsc::channel::<Input>();
    let mut ws: Option<Arc<Mutex<Ws>>> = None;
    let mut received = Vec::new();
    let (mut opened, mut upgraded, mut closed) = (false, false, None);
    let mut sent_rest = split == sent.len();
    let deadline = EioInstant::from_duration(Duration::from_secs(seconds));
    let mut post_in_flight_at_close = false;
    loop {
        let now = EioInstant::from_duration(start.elapsed());
        while let Some(req) = client.poll_request() {
            let tx = tx.clone();
            let addr = addr.clone();
            std::thread::spawn(move || {
                let (status, binary, body) = http(&addr, &req).unwrap_or((0, false, Vec::new()));
                let _ = tx.send(Input::Http {
                    kind: req.kind,
                    status,
                    binary,
                    body,
                });
            });
            if closed.is_some() {
                post_in_flight_at_close = true;
            }
        }
        while let Some(a) = client.poll_ws_action() {
            match a {
                client::WsAction::Connect { query } => ws_connect(&addr, &query, tx.clone()),
                client::WsAction::Send(m) => {
                    if let Some(ws) = &ws {
                        let mut ws = ws.lock().unwrap();
                        let _ = match m {
                            WsMessage::Text(t) => ws.conn.send_text(t),
                            WsMessage::Binary(b) => ws.conn.send_binary(b),
                        };
                        let _ = ws.flush();
                    }
                }
                client::WsAction::Close => {
                    if let Some(ws) = ws.take() {
                        let mut ws = ws.lock().unwrap();
                        let _ = ws.conn.send_close(1000, "");
                        let _ = ws.flush();
                    }
                }
            }
        }
        while let Some(e) = client.poll_event() {
            match e {
                client::Event::Open(_) => {
                    opened = true;
                    for m in &sent[..split] {
                        client.send(m.clone()).unwrap();
                    }
                }
                client::Event::Upgraded => upgraded = true,
                client::Event::Message(d) => received.push(d),
                client::Event::Closed(r) => closed = Some(r),
                client::Event::UpgradeFailed => eprintln!("upgrade failed"),
            }
        }
        if upgraded && !sent_rest {
            sent_rest = true;
            for m in &sent[split..] {
                client.send(m.clone()).unwrap();
            }
            continue;
        }
        if closed.is_some() {
            // The last POST (the close packet) must reach the server before the held GET's
            // connection goes away; a websocket close frame is already written.
            if post_in_flight_at_close || client.transport() == TransportKind::Polling {
                while let Ok(i) = rx.recv_timeout(Duration::from_secs(1)) {
                    if let Input::Http {
                        kind,
                        status,
                        binary,
                        body,
                    } = i
                    {
                        client.handle_response(
                            EioInstant::from_duration(start.elapsed()),
                            kind,
                            status,
                            binary,
                            &body,
                        );
                        if kind == client::RequestKind::Post {
                            break;
                        }
                    }
                }
            }
            break;
        }
        if now >= deadline && received.len() >= sent.len() {
            client.close();
            continue;
        }
        let wait = client
            .poll_timeout()
            .map_or(Duration::from_millis(50), |t| {
                t.saturating_duration_since(now)
            })
            .min(Duration::from_millis(50));
        let now = EioInstant::from_duration(start.elapsed());
        match rx.recv_timeout(wait) {
            Ok(Input::Http {
                kind,
                status,
                binary,
                body,
            }) => client.handle_response(now, kind, status, binary, &body),
            Ok(Input::WsConnected(s)) => {
                ws = Some(s);
                client.handle_ws_connected(now);
            }
            Ok(Input::WsMessage(m)) => client.handle_ws_message(now, m),
            Ok(Input::WsClosed | Input::WsFailed) => {
                ws = None;
                client.handle_ws_closed(now);
            }
            Err(_) => client.handle_timeout(now),
        }
    }
    let ok = opened
        && received == sent
        && closed == Some(client::CloseReason::ForcedClose)
        && (mode != "upgrade" || upgraded);
    println!(
        "{{\"ok\":{ok},\"mode\":\"{mode}\",\"opened\":{opened},\"upgraded\":{upgraded},\"sent\":{},\"received\":{},\"in_order\":{},\"closed\":\"{closed:?}\",\"seconds\":{:.1}}}",
        sent.len(),
        received.len(),
        received == sent,
        start.elapsed().as_secs_f64()
    );
    std::process::exit(if ok { 0 } else { 1 });
}
