//! A minimal Engine.io v3 echo server on `std::net` with one thread per connection, to run
//! real clients (engine.io-client 3.x) against [`Server`]: HTTP long-polling, and the
//! websocket transport with a bare-bones RFC 6455 layer (handshake, unfragmented or
//! continued frames, no extensions) written here only for the interop check — a real
//! application couples the session with pushwire-ws instead.
//!
//! ```text
//! cargo run -p pushwire-engineio --example echo_server -- 127.0.0.1:3000 [PING_INTERVAL_MS]
//! node tests/interop/node/eio-client-echo.js http://127.0.0.1:3000 [PONGS] [polling|websocket|upgrade]
//! ```
//!
//! Every message a client sends is sent back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use pushwire_engineio::http::{HttpRequest, HttpResponse, Method};
use pushwire_engineio::server::{self, sid_from_bytes, Event, Outcome, Server, WsAction};
use pushwire_engineio::{Instant as EioInstant, WsMessage};
use sha1::{Digest, Sha1};

type Sids = Box<dyn FnMut() -> String + Send>;

struct Shared {
    server: Mutex<Server<Sids>>,
    changed: Condvar,
    start: Instant,
}

impl Shared {
    fn now(&self) -> EioInstant {
        EioInstant::from_duration(self.start.elapsed())
    }

    /// Echo every message, then wake the held polls and websocket writers.
    fn pump(&self, server: &mut Server<Sids>) {
        while let Some((sid, event)) = server.poll_event() {
            match event {
                Event::Message(data) => {
                    let _ = server.send(&sid, data);
                }
                other => eprintln!("{sid}: {other:?}"),
            }
        }
        self.changed.notify_all();
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = std::net::TcpListener::bind(&addr)?;
    eprintln!("listening on {}", listener.local_addr()?);
    let mut counter = 0u64;
    let sids: Sids = Box::new(move || {
        counter += 1;
        // Not random: fine for a local test server. Use 15 random bytes in production.
        let mut b = [0u8; 15];
        b[..8].copy_from_slice(&counter.to_be_bytes());
        sid_from_bytes(b)
    });
    let mut config = server::Config::default();
    if let Some(ms) = std::env::args().nth(2).and_then(|a| a.parse().ok()) {
        config.ping_interval = Duration::from_millis(ms);
        config.ping_timeout = Duration::from_millis(ms);
    }
    let shared = Arc::new(Shared {
        server: Mutex::new(Server::new(config, sids)),
        changed: Condvar::new(),
        start: Instant::now(),
    });
    {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(50));
            let mut server = shared.server.lock().unwrap();
            let now = shared.now();
            if server.poll_timeout().is_some_and(|t| t <= now) {
                server.handle_timeout(now);
                shared.pump(&mut server);
            }
        });
    }
    for stream in listener.incoming() {
        let stream = stream?;
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            if let Err(e) = serve(&shared, stream) {
                eprintln!("connection error: {e}");
            }
        });
    }
    Ok(())
}

fn serve(shared: &Arc<Shared>, stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = match parts.next() {
        Some("GET") => Method::Get,
        Some("POST") => Method::Post,
        Some("OPTIONS") => Method::Options,
        _ => Method::Other,
    };
    let target = parts.next().unwrap_or("/").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (mut len, mut origin, mut content_type, mut ws_key, mut upgrade) =
        (0usize, None, None, None, false);
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim().to_owned();
            match k.to_ascii_lowercase().as_str() {
                "content-length" => len = v.parse().unwrap_or(0),
                "origin" => origin = Some(v),
                "content-type" => content_type = Some(v),
                "sec-websocket-key" => ws_key = Some(v),
                "upgrade" => upgrade = v.eq_ignore_ascii_case("websocket"),
                _ => {}
            }
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    if !path.starts_with("/engine.io") {
        return write_response(stream, &simple(404));
    }
    let req = HttpRequest {
        method,
        query,
        origin: origin.as_deref(),
        content_type: content_type.as_deref(),
        websocket_upgrade: upgrade && ws_key.is_some(),
        body: &body,
    };
    let mut server = shared.server.lock().unwrap();
    let outcome = server.handle_request(shared.now(), &req);
    shared.pump(&mut server);
    match outcome {
        Outcome::Respond(r) => {
            drop(server);
            write_response(stream, &r)
        }
        Outcome::Hold { sid } => {
            let r = loop {
                if let Some(r) = server.poll_http_response(&sid) {
                    shared.pump(&mut server);
                    break r;
                }
                server = shared
                    .changed
                    .wait_timeout(server, Duration::from_millis(200))
                    .unwrap()
                    .0;
            };
            drop(server);
            write_response(stream, &r)
        }
        Outcome::AcceptWebSocket { sid } => {
            drop(server);
            websocket(
                shared,
                stream,
                reader,
                &sid,
                ws_key.as_deref().unwrap_or(""),
            )
        }
    }
}

fn simple(status: u16) -> HttpResponse {
    HttpResponse {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

fn write_response(mut stream: TcpStream, r: &HttpResponse) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} X\r\n", r.status);
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        r.body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(&r.body)?;
    stream.flush()
}

/// RFC 6455 §4.2.2: `Sec-WebSocket-Accept` = base64(SHA-1(key + GUID)).
fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

fn write_frame(stream: &mut TcpStream, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut head = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => head.push(n as u8),
        n if n <= 0xFFFF => {
            head.push(126);
            head.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            head.push(127);
            head.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    stream.write_all(&head)?;
    stream.write_all(payload)?;
    stream.flush()
}

/// Reads one message (joining continuation frames); `None` at close or EOF. Answers pings.
fn read_message(
    reader: &mut impl Read,
    writer: &Mutex<TcpStream>,
) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut message: Option<(u8, Vec<u8>)> = None;
    loop {
        let mut h = [0u8; 2];
        if reader.read_exact(&mut h).is_err() {
            return Ok(None);
        }
        let (fin, opcode) = (h[0] & 0x80 != 0, h[0] & 0x0F);
        let mut len = u64::from(h[1] & 0x7F);
        if len == 126 {
            let mut b = [0u8; 2];
            reader.read_exact(&mut b)?;
            len = u64::from(u16::from_be_bytes(b));
        } else if len == 127 {
            let mut b = [0u8; 8];
            reader.read_exact(&mut b)?;
            len = u64::from_be_bytes(b);
        }
        let mut mask = [0u8; 4];
        if h[1] & 0x80 != 0 {
            reader.read_exact(&mut mask)?;
        }
        let mut payload = vec![0u8; usize::try_from(len).unwrap_or(0).min(16 << 20)];
        reader.read_exact(&mut payload)?;
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
        match opcode {
            0x8 => return Ok(None),
            0x9 => write_frame(&mut writer.lock().unwrap(), 0xA, &payload)?,
            0xA => {}
            0x0 => {
                if let Some((_, m)) = message.as_mut() {
                    m.extend_from_slice(&payload);
                }
            }
            op => message = Some((op, payload)),
        }
        if fin && opcode < 0x8 {
            return Ok(message.take());
        }
    }
}

fn websocket(
    shared: &Arc<Shared>,
    stream: TcpStream,
    mut reader: BufReader<TcpStream>,
    sid: &str,
    key: &str,
) -> std::io::Result<()> {
    let mut s = stream;
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    s.write_all(head.as_bytes())?;
    let writer = Arc::new(Mutex::new(s));
    // Reader: frames in.
    {
        let shared = Arc::clone(shared);
        let writer = Arc::clone(&writer);
        let sid = sid.to_owned();
        std::thread::spawn(move || {
            while let Ok(Some((op, payload))) = read_message(&mut reader, &writer) {
                let frame = if op == 0x1 {
                    WsMessage::Text(String::from_utf8_lossy(&payload).into_owned())
                } else {
                    WsMessage::Binary(payload.into())
                };
                let mut server = shared.server.lock().unwrap();
                server.handle_ws_message(shared.now(), &sid, frame);
                shared.pump(&mut server);
            }
            let mut server = shared.server.lock().unwrap();
            server.handle_ws_closed(shared.now(), &sid);
            shared.pump(&mut server);
        });
    }
    // Writer: session output out.
    let mut server = shared.server.lock().unwrap();
    loop {
        let mut out = Vec::new();
        while let Some(o) = server.poll_ws_action(sid) {
            out.push(o);
        }
        let gone = server.session(sid).is_none_or(|s| s.is_closed());
        if !out.is_empty() {
            drop(server);
            let mut w = writer.lock().unwrap();
            for o in out {
                match o {
                    WsAction::Send(WsMessage::Text(t)) => write_frame(&mut w, 0x1, t.as_bytes())?,
                    WsAction::Send(WsMessage::Binary(b)) => write_frame(&mut w, 0x2, &b)?,
                    WsAction::Close => {
                        let _ = write_frame(&mut w, 0x8, &1000u16.to_be_bytes());
                        let _ = w.shutdown(std::net::Shutdown::Both);
                        return Ok(());
                    }
                }
            }
            drop(w);
            server = shared.server.lock().unwrap();
            continue;
        }
        if gone {
            return Ok(());
        }
        server = shared
            .changed
            .wait_timeout(server, Duration::from_millis(200))
            .unwrap()
            .0;
    }
}
