//! `pushwire serve`: the demo server.
//!
//! A small HTTP/1.1 server on tokio: one task per connection, one request per connection.
//! The codecs do not care which runtime feeds them; this module and its siblings are the
//! I/O layer. What it serves:
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
//! * `GET /sse/chat` — the WebSocket chat relayed as an event stream (see `demo.rs`).
//! * `GET /ws/echo`, `GET /ws/chat` — WebSocket echo and chat (see `demo.rs`).
//! * `/engine.io/` — Engine.io v3: a chat over long-polling and websocket (see `eio.rs`).
//!
//! Bounded: request heads are limited to 16 KiB, 100 headers and 10 s, and at most
//! `--max-conns` connections are served at once (more get 503).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use pushwire_sse::{encode, server};
use tokio::net::{TcpListener, TcpStream};

use crate::http::{read_head, respond, sse_head, write_all, Head, Request, KEEP_ALIVE_EVERY};

/// Command-line options of `pushwire serve`.
#[derive(Debug)]
pub(crate) struct Options {
    addr: SocketAddr,
    max_conns: usize,
    threads: usize,
}

/// Default `--max-conns`: room for the 11,000-connection load check and then some; the
/// open-file limit may lower it (see [`run`]).
const DEFAULT_MAX_CONNS: usize = 16_384;

impl Options {
    /// Parses the arguments after `serve`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut addr: SocketAddr = "127.0.0.1:8080".parse().expect("valid default address");
        let mut max_conns = DEFAULT_MAX_CONNS;
        let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--addr" => {
                    let v = it.next().ok_or("--addr takes HOST:PORT")?;
                    addr = v.parse().map_err(|e| format!("bad --addr `{v}`: {e}"))?;
                }
                "--max-conns" => {
                    let v = it.next().ok_or("--max-conns takes a number")?;
                    max_conns = v
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| format!("bad --max-conns `{v}`"))?;
                }
                "--threads" => {
                    let v = it.next().ok_or("--threads takes a number")?;
                    threads = v
                        .parse()
                        .ok()
                        .filter(|&n: &usize| (1..=64).contains(&n))
                        .ok_or_else(|| format!("bad --threads `{v}` (1 to 64)"))?;
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Options {
            addr,
            max_conns,
            threads,
        })
    }
}

/// Descriptors kept free for the listener, stdio and the runtime when the open-file limit
/// caps `--max-conns`.
const SPARE_FDS: u64 = 64;
/// The box's field.
const WIDTH: i64 = 800;
const HEIGHT: i64 = 600;
const BOX: i64 = 40;
const STEP: i64 = 20;
const TICK: Duration = Duration::from_millis(500);
/// The `retry:` sent to SSE clients, in milliseconds.
const RETRY_MS: u64 = 2000;

/// What the connections share.
struct State {
    chat: crate::demo::Chat,
    eio: crate::eio::Eio,
}

/// Runs the server until Ctrl-C or SIGTERM.
///
/// By default on tokio's multi-thread scheduler with one worker per CPU (`--threads N` for
/// another count); `--threads 1` runs everything on one thread (the current-thread runtime).
/// Several workers are the default because the kernel's share of a fan-out's writes then
/// runs on every core (figures in docs/performance.md).
pub(crate) fn run(opts: Options) -> io::Result<()> {
    let runtime = if opts.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(opts.threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(serve(opts))
}

/// Counts a connection as live until dropped.
struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve(opts: Options) -> io::Result<()> {
    let listener = TcpListener::bind(opts.addr).await?;
    // The first line is read by tests and scripts: keep its form.
    println!(
        "pushwire demo listening on http://{}/",
        listener.local_addr()?
    );
    let mut max_conns = opts.max_conns;
    if let Some(nofile) = crate::os::raise_nofile() {
        let room = nofile.saturating_sub(SPARE_FDS) as usize;
        if room < max_conns {
            println!(
                "open-file limit {nofile}: serving at most {room} connections, not {max_conns}"
            );
            max_conns = room.max(1);
        }
    }
    println!(
        "at most {max_conns} connections, {} runtime thread{}",
        opts.threads,
        if opts.threads == 1 { "" } else { "s" }
    );
    let live = Arc::new(AtomicUsize::new(0));
    let state = Arc::new(State {
        chat: crate::demo::Chat::default(),
        eio: crate::eio::Eio::start(),
    });
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut signal => break,
        };
        let (stream, peer) = match accepted {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if live.fetch_add(1, Ordering::SeqCst) >= max_conns {
            live.fetch_sub(1, Ordering::SeqCst);
            // A short answer fits the socket's send buffer: written without waiting.
            let _ = stream.try_write(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\
                  Content-Length: 5\r\nConnection: close\r\n\r\nbusy\n",
            );
            continue;
        }
        let live = Live(live.clone());
        let state = state.clone();
        tokio::spawn(async move {
            let _live = live;
            let peer = peer.to_string();
            if let Err(e) = handle(stream, &peer, &state).await {
                println!("{peer}: connection ended: {e}");
            }
        });
    }
    // Ctrl-C: close what is open, politely, within a bound.
    SHUTDOWN.store(true, Ordering::SeqCst);
    let sessions = state.eio.close_all();
    let sockets = crate::wslink::close_all();
    println!(
        "shutting down: {} connections open ({sockets} WebSocket and SSE chat, {sessions} Engine.io sessions)",
        live.load(Ordering::SeqCst)
    );
    let deadline = Instant::now() + SHUTDOWN_GRACE;
    while live.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "stopped ({} connections still open were cut)",
        live.load(Ordering::SeqCst)
    );
    Ok(())
}

/// Set once Ctrl-C (SIGINT) or SIGTERM was received.
static SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C (SIGINT) or SIGTERM was received.
pub(crate) fn shutting_down() -> bool {
    SHUTDOWN.load(Ordering::SeqCst)
}

/// Longest wait for connections to close after Ctrl-C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM. A signal that cannot be watched
/// never completes (rather than shutting down at once).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Serves one connection.
///
/// Each step runs in its own boxed future, freed when the step ends, so that the
/// connection's task keeps only the state of the step it is in: reading the head, say,
/// needs more than an idle WebSocket (memory per idle connection). The boxes are bound
/// with `let` before being awaited: a future built inside the awaiting expression would
/// keep its (moved-from) space in the task for as long as the await lasts.
async fn handle(stream: TcpStream, peer: &str, state: &State) -> io::Result<()> {
    let reading = Box::pin(read_request(stream, peer));
    let Some((stream, req)) = reading.await? else {
        return Ok(());
    };
    let serving = route(stream, req, peer, state);
    serving.await
}

/// Reads the request head; a bad one is answered here (and `None` returned).
async fn read_request(
    mut stream: TcpStream,
    peer: &str,
) -> io::Result<Option<(TcpStream, Request)>> {
    match read_head(&mut stream).await? {
        Head::Closed => Ok(None),
        Head::Bad(status, body) => {
            println!("{peer}: {status}");
            respond(&mut stream, status, "text/plain", body.as_bytes()).await?;
            Ok(None)
        }
        Head::Ok(r) => Ok(Some((stream, r))),
    }
}

/// A connection's handler, boxed (see [`handle`]).
type Serving<'a> = Pin<Box<dyn Future<Output = io::Result<()>> + Send + 'a>>;

/// Answers with a fixed short response.
fn short(
    mut stream: TcpStream,
    status: &'static str,
    ctype: &'static str,
    body: &'static [u8],
) -> Serving<'static> {
    Box::pin(async move { respond(&mut stream, status, ctype, body).await })
}

/// The handler for the request.
fn route<'a>(stream: TcpStream, req: Request, peer: &'a str, state: &'a State) -> Serving<'a> {
    let path = req.path().to_owned();
    if !path.starts_with("/engine.io") {
        println!("{peer}: {} {}", req.method, req.target);
    }
    match (req.method.as_str(), path.as_str()) {
        ("GET", "/") => short(
            stream,
            "200 OK",
            "text/html; charset=utf-8",
            PAGE.as_bytes(),
        ),
        ("GET", "/sse/box") => Box::pin(sse_box(stream, req, peer)),
        ("GET", "/sse/chat") => Box::pin(crate::demo::sse_chat(stream, req, peer, &state.chat)),
        ("GET", "/ws/echo") => Box::pin(crate::demo::ws_echo(stream, req, peer)),
        ("GET", "/ws/chat") => Box::pin(crate::demo::ws_chat(stream, req, peer, &state.chat)),
        (_, p) if p == "/engine.io" || p.starts_with("/engine.io/") => {
            Box::pin(crate::eio::handle(stream, req, peer, &state.eio))
        }
        (_, "/" | "/sse/box" | "/sse/chat" | "/ws/echo" | "/ws/chat") => short(
            stream,
            "405 Method Not Allowed",
            "text/plain",
            b"method not allowed\n",
        ),
        _ => short(stream, "404 Not Found", "text/plain", b"not found\n"),
    }
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

async fn sse_box(mut stream: TcpStream, req: Request, peer: &str) -> io::Result<()> {
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
    drop(req);

    let mut out = BytesMut::new();
    out.extend_from_slice(&sse_head());
    if padding {
        out.extend_from_slice(server::PADDING);
    }
    encode::EventBuilder::new().retry(RETRY_MS).encode(&mut out);
    if let Some(id) = &resume {
        // Tell the page where the walk resumed (no `id`, so the last event ID is unchanged).
        if let Ok(ev) = encode::EventBuilder::new().event("resume") {
            ev.data(id).encode(&mut out);
        }
    }
    write_all(&mut stream, &out).await?;

    let mut walk = Walk::new();
    let mut last_keep_alive = Instant::now();
    let mut sent = 0u64;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + TICK, TICK);
    loop {
        out.clear();
        pos = walk.step(pos);
        let id = format!("{},{}", pos.0, pos.1);
        encode::EventBuilder::new()
            .id(&id)
            .expect("digits and a comma")
            .data(&id)
            .encode(&mut out);
        if last_keep_alive.elapsed() >= KEEP_ALIVE_EVERY {
            out.extend_from_slice(server::KEEP_ALIVE);
            last_keep_alive = Instant::now();
        }
        if let Err(e) = write_all(&mut stream, &out).await {
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
        ticks.tick().await;
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
