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
//! Bounded: request heads are limited to 16 KiB and 10 s, and at most `MAX_CONNECTIONS`
//! connections are served at once (more get 503).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
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
/// Most connections served at once.
const MAX_CONNECTIONS: usize = 512;
/// The box's field.
const WIDTH: i64 = 800;
const HEIGHT: i64 = 600;
const BOX: i64 = 40;
const STEP: i64 = 20;
const TICK: Duration = Duration::from_millis(500);
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

/// Runs the server until the process is killed.
pub(crate) fn run(opts: Options) -> io::Result<()> {
    let listener = TcpListener::bind(opts.addr)?;
    println!(
        "pushwire demo listening on http://{}/",
        listener.local_addr()?
    );
    let live = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept failed: {e}");
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
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into());
            match handle(stream, &peer) {
                Ok(()) => {}
                Err(e) => println!("{peer}: connection ended: {e}"),
            }
            live.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}

struct Request {
    method: String,
    target: String,
    /// Raw value of the `Last-Event-ID` header, if any.
    last_event_id: Option<Vec<u8>>,
}

impl Request {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }

    fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }
}

enum Head {
    Closed,
    Bad(&'static str, &'static str),
    Ok(Request),
}

fn read_head(stream: &TcpStream) -> io::Result<Head> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.take(MAX_HEAD as u64));
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line)? == 0 {
        return Ok(Head::Closed);
    }
    let text = String::from_utf8_lossy(&line).into_owned();
    let mut parts = text.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(Head::Bad("400 Bad Request", "bad request line\n"));
    };
    if !version.starts_with("HTTP/1.") {
        return Ok(Head::Bad(
            "505 HTTP Version Not Supported",
            "HTTP/1.x only\n",
        ));
    }
    let mut req = Request {
        method: method.to_string(),
        target: target.to_string(),
        last_event_id: None,
    };
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 || !line.ends_with(b"\n") {
            return Ok(Head::Bad(
                "431 Request Header Fields Too Large",
                "request head too large or truncated\n",
            ));
        }
        let l = line.strip_suffix(b"\n").unwrap_or(&line);
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if l.is_empty() {
            return Ok(Head::Ok(req));
        }
        if let Some(colon) = l.iter().position(|&b| b == b':') {
            if l[..colon].eq_ignore_ascii_case(b"last-event-id") {
                req.last_event_id = Some(l[colon + 1..].to_vec());
            }
        }
    }
}

fn handle(mut stream: TcpStream, peer: &str) -> io::Result<()> {
    let req = match read_head(&stream)? {
        Head::Closed => return Ok(()),
        Head::Bad(status, body) => {
            println!("{peer}: {status}");
            return respond(&mut stream, status, "text/plain", body.as_bytes());
        }
        Head::Ok(r) => r,
    };
    println!("{peer}: {} {}", req.method, req.target);
    match (req.method.as_str(), req.path()) {
        ("GET", "/") => respond(
            &mut stream,
            "200 OK",
            "text/html; charset=utf-8",
            PAGE.as_bytes(),
        ),
        ("GET", "/sse/box") => sse_box(stream, &req, peer),
        ("GET", _) => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n"),
        _ => respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"method not allowed\n",
        ),
    }
}

fn respond(stream: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) -> io::Result<()> {
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
    encode::Event::new().retry(2000).encode(&mut out);
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
        std::thread::sleep(TICK);
    }
}

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>pushwire demo</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2em; }
  #field { position: relative; width: 800px; height: 600px; border: 1px solid #888; background: #f7f7f7; }
  #box { position: absolute; width: 40px; height: 40px; background: #2a6; transition: left .4s, top .4s; }
  .stats span { font-weight: bold; }
</style>
<h1>pushwire</h1>
<h2>Server-Sent Events: a random walk</h2>
<p class="stats">events <span id="count">0</span> · reconnects <span id="reconnects">0</span> ·
  position <span id="pos">–</span> · last id <span id="lastid">–</span> · state <span id="state">connecting</span></p>
<div id="field"><div id="box"></div></div>
<p>The WebSocket and Engine.io demos arrive with the CLI issue.</p>
<script>
  const params = new URLSearchParams(location.search);
  const src = '/sse/box' + (params.get('padding') === '1' ? '?padding=1' : '');
  const es = new EventSource(src);
  let count = 0, opens = 0;
  const $ = id => document.getElementById(id);
  es.onopen = () => { opens++; $('reconnects').textContent = Math.max(0, opens - 1); $('state').textContent = 'open'; };
  es.onerror = () => { $('state').textContent = 'reconnecting'; };
  es.onmessage = ev => {
    const [x, y] = ev.data.split(',').map(Number);
    $('box').style.left = x + 'px';
    $('box').style.top = y + 'px';
    $('count').textContent = ++count;
    $('pos').textContent = ev.data;
    $('lastid').textContent = ev.lastEventId;
  };
</script>
"#;

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
