//! A minimal Engine.io v3 polling client on `std::net` (one thread per HTTP request), to run
//! [`ClientSession`] against a real engine.io 3.x server.
//!
//! ```text
//! node tests/interop/node/eio-server-echo.js 3001 300 &   # engine.io 3.6.2, ping 300 ms
//! cargo run -p pushwire-engineio --example polling_client -- 127.0.0.1:3001 [SECONDS]
//! ```
//!
//! Sends a set of messages (text incl. astral/CJK/empty, binary), expects the echo server to
//! return each exactly once and in order, keeps the session alive for SECONDS (default 2) of
//! heartbeats, then closes. Prints a JSON summary; exit code 0 on success.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pushwire_engineio::{
    ClientConfig, ClientEvent, ClientRequest, ClientSession, Method, PacketData, RequestKind,
};

struct Reply {
    kind: RequestKind,
    status: u16,
    binary: bool,
    body: Vec<u8>,
}

fn http(addr: &str, req: &ClientRequest) -> std::io::Result<(u16, bool, Vec<u8>)> {
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
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let body = raw[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let binary = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("content-type: application/octet-stream")
    });
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Err(std::io::Error::other(
            "chunked responses not supported here",
        ));
    }
    Ok((status, binary, body))
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3001".into());
    let seconds: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let start = Instant::now();
    let mut config = ClientConfig::default();
    config.upgrade = false; // no websocket in this example
    let mut client = ClientSession::new(config, Duration::ZERO);
    let sent: Vec<PacketData> = vec![
        PacketData::Text("hello".into()),
        PacketData::Text("😀 astral 🎉".into()),
        PacketData::Text("中文字".into()),
        PacketData::Text(String::new()),
        PacketData::Text("x".repeat(5000)),
        PacketData::Binary(vec![0u8, 1, 2, 254, 255].into()),
        PacketData::Text("last".into()),
    ];
    let (tx, rx) = mpsc::channel::<Reply>();
    let mut received = Vec::new();
    let mut pongs_seen = 0u32;
    let mut opened = false;
    let mut closed = None;
    let deadline = Duration::from_secs(seconds);
    loop {
        let now = start.elapsed();
        while let Some(req) = client.poll_request() {
            let tx = tx.clone();
            let addr = addr.clone();
            std::thread::spawn(move || {
                let (status, binary, body) = http(&addr, &req).unwrap_or((0, false, Vec::new()));
                let _ = tx.send(Reply {
                    kind: req.kind,
                    status,
                    binary,
                    body,
                });
            });
        }
        while let Some(e) = client.poll_event() {
            match e {
                ClientEvent::Open(_) => {
                    opened = true;
                    for m in &sent {
                        client.send(m.clone()).unwrap();
                    }
                }
                ClientEvent::Message(d) => received.push(d),
                ClientEvent::Closed(r) => closed = Some(r),
                _ => {}
            }
        }
        if closed.is_some() {
            // Wait for the last POST (the close packet) before dropping the held GET: the
            // server must see `close` before the poll connection goes away.
            while let Ok(r) = rx.recv_timeout(Duration::from_secs(1)) {
                client.handle_response(start.elapsed(), r.kind, r.status, r.binary, &r.body);
                if r.kind == RequestKind::Post {
                    break;
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
            .map_or(Duration::from_millis(50), |t| t.saturating_sub(now))
            .min(Duration::from_millis(50));
        match rx.recv_timeout(wait) {
            Ok(r) => {
                if r.kind == RequestKind::Poll && r.body.windows(2).any(|w| w == b":3") {
                    pongs_seen += 1;
                }
                client.handle_response(start.elapsed(), r.kind, r.status, r.binary, &r.body);
            }
            Err(_) => client.handle_timeout(start.elapsed()),
        }
    }
    let ok = opened
        && received == sent
        && closed == Some(pushwire_engineio::ClientCloseReason::ForcedClose);
    println!(
        "{{\"ok\":{ok},\"opened\":{opened},\"sent\":{},\"received\":{},\"in_order\":{},\"pong_polls\":{pongs_seen},\"closed\":\"{closed:?}\",\"seconds\":{:.1}}}",
        sent.len(),
        received.len(),
        received == sent,
        start.elapsed().as_secs_f64()
    );
    std::process::exit(if ok { 0 } else { 1 });
}
