//! A minimal Engine.io v3 echo server on `std::net` with one thread per connection, to run
//! real clients (engine.io-client 3.x) against [`Server`]: HTTP long-polling, and the
//! websocket transport on pushwire-ws (its server handshake and [`Connection`](pushwire_ws::Connection)).
//!
//! ```text
//! cargo run -p pushwire-engineio --example echo_server -- 127.0.0.1:3000 [PING_INTERVAL_MS]
//! node tests/interop/node/eio-client-echo.js http://127.0.0.1:3000 [PONGS] [polling|websocket|upgrade]
//! ```
//!
//! Every message a client sends is sent back.

mod common;

use common::Ws;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use pushwire_engineio::http::{HttpRequest, HttpResponse, Method};
use pushwire_engineio::server::{self, sid_from_bytes, Event, Outcome, Server, WsAction};
use pushwire_engineio::{Instant as EioInstant, WsMessage};
use pushwire_ws::handshake::{rejection_response, ServerHandshake};
use pushwire_ws::{Config, Event as WsEvent};

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
    // The raw head, for pushwire-ws's handshake if this is a websocket.
    let mut head = line.clone().into_bytes();
    let mut parts = line.split_whitespace();
    let method = match parts.next() {
        Some("GET") => Method::Get,
        Some("POST") => Method::Post,
        Some("OPTIONS") => Method::Options,
        _ => Method::Other,
    };
    let target = parts.next().unwrap_or("/").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (mut len, mut origin, mut content_type, mut has_key, mut upgrade) =
        (0usize, None, None, false, false);
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        head.extend_from_slice(line.as_bytes());
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
                "sec-websocket-key" => has_key = true,
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
        websocket_upgrade: upgrade && has_key,
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
            websocket(shared, stream, reader, &sid, &head)
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

/// Reads the websocket until it closes: messages go to the session, pings are answered (the
/// connection queues the pong), the peer's Close is echoed.
fn read_websocket(
    shared: &Shared,
    mut reader: BufReader<TcpStream>,
    ws: &Mutex<Ws>,
    sid: &str,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // The reader's buffer may already hold the first frames.
        let n = reader.read(&mut buf)?;
        let mut messages = Vec::new();
        let mut open = n > 0;
        {
            let mut ws = ws.lock().unwrap();
            if n == 0 {
                ws.conn.feed_eof();
            } else if ws.conn.feed(&buf[..n]).is_err() {
                return Ok(());
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
            ws.flush()?;
        }
        let mut server = shared.server.lock().unwrap();
        for m in messages {
            server.handle_ws_message(shared.now(), sid, m);
        }
        shared.pump(&mut server);
        if !open {
            return Ok(());
        }
    }
}

fn websocket(
    shared: &Arc<Shared>,
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    sid: &str,
    head: &[u8],
) -> std::io::Result<()> {
    let mut s = stream;
    let mut handshake = ServerHandshake::default();
    let offer = match handshake.feed(head) {
        Ok(Some(offer)) => offer,
        Ok(None) => return s.write_all(&rejection_response(400)),
        Err(e) => return s.write_all(&e.response()),
    };
    let (response, conn) = handshake
        .into_connection(&offer, None, Config::DEFAULT, None)
        .map_err(std::io::Error::other)?;
    s.write_all(&response)?;
    let ws = Arc::new(Mutex::new(Ws { conn, stream: s }));
    // Reader: messages in.
    {
        let shared = Arc::clone(shared);
        let ws = Arc::clone(&ws);
        let sid = sid.to_owned();
        std::thread::spawn(move || {
            let _ = read_websocket(&shared, reader, &ws, &sid);
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
            let mut w = ws.lock().unwrap();
            for o in out {
                let sent = match o {
                    WsAction::Send(WsMessage::Text(t)) => w.conn.send_text(t),
                    WsAction::Send(WsMessage::Binary(b)) => w.conn.send_binary(b),
                    WsAction::Close => {
                        let _ = w.conn.send_close(1000, "");
                        let _ = w.flush();
                        let _ = w.stream.shutdown(std::net::Shutdown::Both);
                        return Ok(());
                    }
                };
                sent.map_err(std::io::Error::other)?;
            }
            w.flush()?;
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
