//! A minimal Engine.io v3 client on `std::net` (one thread per HTTP request, a bare-bones
//! RFC 6455 client for the websocket written here only for the interop check), to run
//! [`client::Session`] against a real engine.io 3.x server.
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

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pushwire_engineio::client;
use pushwire_engineio::http::Method;
use pushwire_engineio::Instant as EioInstant;
use pushwire_engineio::{PacketData, TransportKind, WsMessage};

enum Input {
    Http {
        kind: client::RequestKind,
        status: u16,
        binary: bool,
        body: Vec<u8>,
    },
    WsConnected(TcpStream),
    WsFailed,
    WsFrame(WsMessage),
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

/// Opens a WebSocket (RFC 6455 §4.1) and spawns its reader; frames come back as inputs.
fn ws_connect(addr: &str, query: &str, tx: mpsc::Sender<Input>) {
    let addr = addr.to_owned();
    let query = query.to_owned();
    std::thread::spawn(move || {
        let run = || -> std::io::Result<()> {
            let mut s = TcpStream::connect(&addr)?;
            let head = format!(
                "GET /engine.io/?{query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            );
            s.write_all(head.as_bytes())?;
            let mut resp = Vec::new();
            let mut b = [0u8; 1];
            while !resp.ends_with(b"\r\n\r\n") {
                s.read_exact(&mut b)?;
                resp.push(b[0]);
            }
            if !resp.starts_with(b"HTTP/1.1 101") {
                return Err(std::io::Error::other("no 101"));
            }
            let _ = tx.send(Input::WsConnected(s.try_clone()?));
            let mut message: Option<(u8, Vec<u8>)> = None;
            loop {
                let mut h = [0u8; 2];
                s.read_exact(&mut h)?;
                let (fin, opcode) = (h[0] & 0x80 != 0, h[0] & 0x0F);
                let mut len = u64::from(h[1] & 0x7F);
                if len == 126 {
                    let mut x = [0u8; 2];
                    s.read_exact(&mut x)?;
                    len = u64::from(u16::from_be_bytes(x));
                } else if len == 127 {
                    let mut x = [0u8; 8];
                    s.read_exact(&mut x)?;
                    len = u64::from_be_bytes(x);
                }
                let mut payload = vec![0u8; usize::try_from(len).unwrap_or(0).min(16 << 20)];
                s.read_exact(&mut payload)?;
                match opcode {
                    0x8 => return Ok(()),
                    0x9 => write_frame(&mut s, 0xA, &payload)?,
                    0xA => {}
                    0x0 => {
                        if let Some((_, m)) = message.as_mut() {
                            m.extend_from_slice(&payload);
                        }
                    }
                    op => message = Some((op, payload)),
                }
                if fin && opcode < 0x8 {
                    if let Some((op, m)) = message.take() {
                        let f = if op == 0x1 {
                            WsMessage::Text(String::from_utf8_lossy(&m).into_owned())
                        } else {
                            WsMessage::Binary(m.into())
                        };
                        let _ = tx.send(Input::WsFrame(f));
                    }
                }
            }
        };
        match run() {
            Err(e) if e.to_string() == "no 101" => {
                let _ = tx.send(Input::WsFailed);
            }
            _ => {
                let _ = tx.send(Input::WsClosed);
            }
        }
    });
}

/// A masked client frame (RFC 6455 §5.3; a fixed key is fine for a local test).
fn write_frame(s: &mut TcpStream, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
    let key = [0x12u8, 0x34, 0x56, 0x78];
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    s.write_all(&out)?;
    s.flush()
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
    let mut ws: Option<TcpStream> = None;
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
                client::WsAction::Send(f) => {
                    if let Some(s) = ws.as_mut() {
                        let _ = match f {
                            WsMessage::Text(t) => write_frame(s, 0x1, t.as_bytes()),
                            WsMessage::Binary(b) => write_frame(s, 0x2, &b),
                        };
                    }
                }
                client::WsAction::Close => {
                    if let Some(mut s) = ws.take() {
                        let _ = write_frame(&mut s, 0x8, &1000u16.to_be_bytes());
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
            Ok(Input::WsFrame(f)) => client.handle_ws_message(now, f),
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
