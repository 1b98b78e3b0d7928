//! `pushwire serve`: the demo server.
//!
//! A small thread-per-connection HTTP/1.1 server on std::net. It is deliberately plain: the
//! demo's job is to show the codecs at work, and the codecs do not care which runtime feeds
//! them. What it serves:
//!
//! * `GET /` — the demo page.
//! * `GET /sse/box` — Server-Sent Events: a box doing a random walk inside 800×600, one event
//!   every 500 ms with `id: x,y` and data `x,y`. A reconnecting browser resumes from its
//!   `Last-Event-ID` header (or a `lastEventId` query parameter, for polyfills); `retry: 2000`
//!   is set; a keep-alive comment goes out every 15 s; `?padding=1` sends the 2 KiB padding
//!   comment first, for legacy polyfills.
//!
//!   `?drop=N` ends the stream after N events (to watch the browser reconnect); a resumed
//!   stream starts with an `event: resume` whose data is the id it resumed from.
//! * `GET /ws/echo`, `GET /ws/chat` — WebSocket echo and chat (see `demo.rs`).
//! * `/engine.io/` — Engine.io v3: a chat over long-polling and websocket (see `eio.rs`).
//!
//! Bounded: request heads are limited to 16 KiB, 100 headers and 10 s, and at most
//! `MAX_CONNECTIONS` connections are served at once (more get 503).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use pushwire_sse::{encode, server};

/// Command-line options of `pushwire serve`.
#[derive(Debug)]
pub(crate) struct Options {
    addr: SocketAddr,
}

impl Options {
    /// Parses the arguments after `serve`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut addr: SocketAddr = "127.0.0.1:8080".parse().expect("valid default address");
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--addr" => {
                    let v = it.next().ok_or("--addr takes HOST:PORT")?;
                    addr = v.parse().map_err(|e| format!("bad --addr `{v}`: {e}"))?;
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Options { addr })
    }
}

/// Most bytes of request head read before answering 431.
const MAX_HEAD: usize = 16 * 1024;
/// Most header lines in a request head.
const MAX_HEADERS: usize = 100;
/// A write that makes no progress for this long ends the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a request head to arrive.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Most connections served at once.
const MAX_CONNECTIONS: usize = 512;
/// The box's field.
const WIDTH: i64 = 800;
const HEIGHT: i64 = 600;
const BOX: i64 = 40;
const STEP: i64 = 20;
const TICK: Duration = Duration::from_millis(500);
/// The `retry:` sent to SSE clients, in milliseconds.
const RETRY_MS: u64 = 2000;
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

/// What the connections share.
struct State {
    chat: crate::demo::Chat,
    eio: crate::eio::Eio,
}

/// Runs the server until the process is killed.
pub(crate) fn run(opts: Options) -> io::Result<()> {
    let listener = TcpListener::bind(opts.addr)?;
    println!(
        "pushwire demo listening on http://{}/",
        listener.local_addr()?
    );
    let live = Arc::new(AtomicUsize::new(0));
    let state = Arc::new(State {
        chat: crate::demo::Chat::default(),
        eio: crate::eio::Eio::start(),
    });
    watch_for_shutdown(listener.local_addr()?);
    for stream in listener.incoming() {
        if shutting_down() {
            break;
        }
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                eprintln!("accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if live.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            live.fetch_sub(1, Ordering::SeqCst);
            let _ = respond(
                &mut stream,
                "503 Service Unavailable",
                "text/plain",
                b"busy\n",
            );
            continue;
        }
        let live = live.clone();
        let state = state.clone();
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into());
            match handle(stream, &peer, &state) {
                Ok(()) => {}
                Err(e) => println!("{peer}: connection ended: {e}"),
            }
            live.fetch_sub(1, Ordering::SeqCst);
        });
    }
    // Ctrl-C: close what is open, politely, within a bound.
    let sessions = state.eio.close_all();
    let sockets = crate::wslink::close_all();
    println!(
        "shutting down: {} connections open ({sockets} WebSocket, {sessions} Engine.io sessions)",
        live.load(Ordering::SeqCst)
    );
    let deadline = Instant::now() + SHUTDOWN_GRACE;
    while live.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "stopped ({} connections still open were cut)",
        live.load(Ordering::SeqCst)
    );
    Ok(())
}

/// Set by SIGINT / SIGTERM.
static SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C (SIGINT) or SIGTERM was received.
pub(crate) fn shutting_down() -> bool {
    SHUTDOWN.load(Ordering::SeqCst)
}

/// Longest wait for connections to close after Ctrl-C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

#[cfg(unix)]
extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    SHUTDOWN.store(true, Ordering::SeqCst);
}

/// Installs the SIGINT/SIGTERM handlers and a thread that, once one fires, wakes the
/// blocking `accept` by connecting to the listener.
fn watch_for_shutdown(local: SocketAddr) {
    #[cfg(unix)]
    {
        let handler = on_signal as extern "C" fn(libc::c_int);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: `on_signal` is an `extern "C" fn(c_int)` that only stores to an atomic,
            // which is async-signal-safe; `signal` has no other preconditions.
            unsafe {
                libc::signal(sig, handler as libc::sighandler_t);
            }
        }
    }
    std::thread::spawn(move || {
        while !shutting_down() {
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut wake = local;
        if wake.ip().is_unspecified() {
            wake.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
    });
}

/// A parsed request head, with the raw bytes kept for the WebSocket handshake parser.
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    /// Header names lowercased, values trimmed.
    pub(crate) headers: Vec<(String, String)>,
    /// The head exactly as received (request line to blank line).
    pub(crate) raw_head: Vec<u8>,
    /// Bytes that arrived after the head in the same reads.
    pub(crate) leftover: Vec<u8>,
    /// Raw value of the `Last-Event-ID` header, if any.
    last_event_id: Option<Vec<u8>>,
}

impl Request {
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }

    pub(crate) fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The first value of header `name` (lowercase).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

enum Head {
    Closed,
    Bad(&'static str, &'static str),
    Ok(Request),
}

/// Position just after the blank line ending a head, if `buf` holds one.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        let rest = &buf[nl + 1..];
        if rest.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        if rest.starts_with(b"\n") {
            return Some(nl + 2);
        }
        i = nl + 1;
    }
    None
}

fn read_head(stream: &mut TcpStream) -> io::Result<Head> {
    stream.set_read_timeout(Some(HEAD_TIMEOUT))?;
    // The whole head must arrive within HEAD_TIMEOUT, not each read (slow-loris).
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = head_end(&buf) {
            break end;
        }
        if Instant::now() >= deadline {
            return Ok(Head::Bad("408 Request Timeout", "request head too slow\n"));
        }
        if buf.len() >= MAX_HEAD {
            return Ok(Head::Bad(
                "431 Request Header Fields Too Large",
                "request head too large\n",
            ));
        }
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(if buf.is_empty() {
                    Head::Closed
                } else {
                    Head::Bad("408 Request Timeout", "request head too slow\n")
                })
            }
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(if buf.is_empty() {
                Head::Closed
            } else {
                Head::Bad("400 Bad Request", "truncated request head\n")
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let leftover = buf.split_off(end);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(Head::Bad("400 Bad Request", "bad request line\n"));
    };
    if !version.starts_with("HTTP/1.") {
        return Ok(Head::Bad(
            "505 HTTP Version Not Supported",
            "HTTP/1.x only\n",
        ));
    }
    if !target.starts_with('/') {
        return Ok(Head::Bad("400 Bad Request", "bad request target\n"));
    }
    let mut req = Request {
        method: method.to_string(),
        target: target.to_string(),
        headers: Vec::new(),
        raw_head: Vec::new(),
        leftover,
        last_event_id: None,
    };
    for l in lines.filter(|l| !l.is_empty()) {
        let Some((k, v)) = l.split_once(':') else {
            return Ok(Head::Bad("400 Bad Request", "malformed header\n"));
        };
        if k.is_empty() || k.ends_with([' ', '\t']) {
            return Ok(Head::Bad("400 Bad Request", "malformed header\n"));
        }
        if req.headers.len() >= MAX_HEADERS {
            return Ok(Head::Bad(
                "431 Request Header Fields Too Large",
                "too many headers\n",
            ));
        }
        req.headers.push((
            k.to_ascii_lowercase(),
            v.trim_matches([' ', '\t']).to_string(),
        ));
    }
    // The raw value, as pushwire-sse's resume helpers expect it.
    if let Some(colon) = buf
        .windows(15)
        .position(|w| w.eq_ignore_ascii_case(b"\nlast-event-id:"))
    {
        let start = colon + 15;
        let len = buf[start..].iter().position(|&b| b == b'\n').unwrap_or(0);
        let v = &buf[start..start + len];
        req.last_event_id = Some(v.strip_suffix(b"\r").unwrap_or(v).to_vec());
    }
    req.raw_head = buf;
    Ok(Head::Ok(req))
}

fn handle(mut stream: TcpStream, peer: &str, state: &State) -> io::Result<()> {
    // A client that stops reading is dropped after this long (SSE streams, large responses);
    // WebSocket connections set their own.
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let req = match read_head(&mut stream)? {
        Head::Closed => return Ok(()),
        Head::Bad(status, body) => {
            println!("{peer}: {status}");
            return respond(&mut stream, status, "text/plain", body.as_bytes());
        }
        Head::Ok(r) => r,
    };
    let path = req.path().to_owned();
    if !path.starts_with("/engine.io") {
        println!("{peer}: {} {}", req.method, req.target);
    }
    match (req.method.as_str(), path.as_str()) {
        ("GET", "/") => respond(
            &mut stream,
            "200 OK",
            "text/html; charset=utf-8",
            PAGE.as_bytes(),
        ),
        ("GET", "/sse/box") => sse_box(stream, &req, peer),
        ("GET", "/ws/echo") => crate::demo::ws_echo(stream, req, peer),
        ("GET", "/ws/chat") => crate::demo::ws_chat(stream, req, peer, &state.chat),
        (_, p) if p == "/engine.io" || p.starts_with("/engine.io/") => {
            crate::eio::handle(stream, req, peer, &state.eio)
        }
        (_, "/" | "/sse/box" | "/ws/echo" | "/ws/chat") => respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"method not allowed\n",
        ),
        _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n"),
    }
}

/// Writes a complete response with `Connection: close`.
pub(crate) fn respond(
    stream: &mut TcpStream,
    status: &str,
    ctype: &str,
    body: &[u8],
) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

/// Parses a resume point `x,y` (as sent in `id:`), clamped into the field.
fn parse_position(id: &str) -> Option<(i64, i64)> {
    let (x, y) = id.split_once(',')?;
    let x: i64 = x.trim().parse().ok()?;
    let y: i64 = y.trim().parse().ok()?;
    Some((x.clamp(0, WIDTH - BOX), y.clamp(0, HEIGHT - BOX)))
}

/// A small xorshift generator: the walk needs no cryptographic randomness.
struct Walk {
    state: u64,
}

impl Walk {
    fn new() -> Walk {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        Walk { state: seed | 1 }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    /// One step of -STEP, 0 or +STEP on each axis, staying inside the field.
    fn step(&mut self, (x, y): (i64, i64)) -> (i64, i64) {
        let r = self.next();
        let dx = (r % 3) as i64 - 1;
        let dy = ((r >> 8) % 3) as i64 - 1;
        (
            (x + dx * STEP).clamp(0, WIDTH - BOX),
            (y + dy * STEP).clamp(0, HEIGHT - BOX),
        )
    }
}

fn sse_box(mut stream: TcpStream, req: &Request, peer: &str) -> io::Result<()> {
    let resume = server::resume_point(req.last_event_id.as_deref(), req.query());
    let mut pos = resume
        .as_deref()
        .and_then(parse_position)
        .unwrap_or(((WIDTH - BOX) / 2, (HEIGHT - BOX) / 2));
    match &resume {
        Some(id) => println!("{peer}: SSE reconnect, resuming from {id:?}"),
        None => println!("{peer}: SSE new stream"),
    }
    let padding = req
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "padding=1"));
    // `?drop=N`: end the stream after N events, so that tests (and curious users) can watch
    // the browser reconnect with Last-Event-ID.
    let drop_after: Option<u64> = req.query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("drop="))
            .and_then(|n| n.parse().ok())
    });

    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    for (k, v) in server::RESPONSE_HEADERS {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut out = BytesMut::new();
    out.extend_from_slice(head.as_bytes());
    if padding {
        out.extend_from_slice(server::PADDING);
    }
    encode::Event::new().retry(RETRY_MS).encode(&mut out);
    if let Some(id) = &resume {
        // Tell the page where the walk resumed (no `id`, so the last event ID is unchanged).
        if let Ok(ev) = encode::Event::new().event("resume") {
            ev.data(id).encode(&mut out);
        }
    }
    stream.write_all(&out)?;

    let mut walk = Walk::new();
    let mut last_keep_alive = Instant::now();
    let mut sent = 0u64;
    loop {
        out.clear();
        pos = walk.step(pos);
        let id = format!("{},{}", pos.0, pos.1);
        encode::Event::new()
            .id(&id)
            .expect("digits and a comma")
            .data(&id)
            .encode(&mut out);
        if last_keep_alive.elapsed() >= KEEP_ALIVE_EVERY {
            out.extend_from_slice(server::KEEP_ALIVE);
            last_keep_alive = Instant::now();
        }
        if let Err(e) = stream.write_all(&out).and_then(|()| stream.flush()) {
            println!("{peer}: SSE stream closed after {sent} events ({e})");
            return Ok(());
        }
        sent += 1;
        if shutting_down() {
            println!("{peer}: SSE stream ended by shutdown after {sent} events");
            return Ok(());
        }
        if drop_after.is_some_and(|n| sent >= n) {
            println!("{peer}: SSE stream dropped after {sent} events (drop={sent})");
            return Ok(());
        }
        std::thread::sleep(TICK);
    }
}

/// The demo page.
const PAGE: &str = include_str!("page.html");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_and_clamp() {
        assert_eq!(parse_position("10,20"), Some((10, 20)));
        assert_eq!(parse_position(" 10 , 20 "), Some((10, 20)));
        assert_eq!(parse_position("9999,-5"), Some((WIDTH - BOX, 0)));
        assert_eq!(parse_position("x,1"), None);
        assert_eq!(parse_position("12"), None);
    }

    #[test]
    fn walk_stays_inside_the_field() {
        let mut w = Walk { state: 42 };
        let mut p = (0, 0);
        for _ in 0..10_000 {
            p = w.step(p);
            assert!((0..=WIDTH - BOX).contains(&p.0) && (0..=HEIGHT - BOX).contains(&p.1));
        }
    }
}
