//! `pushwire serve`: the demo server.
//!
//! hyper on tokio, HTTP/1.1 (keep-alive) and HTTP/2 (h2c with prior knowledge, which
//! hyper-util's auto server tells apart by the connection preface); WebSockets through
//! pushwire-tokio, over HTTP/1.1 upgrades and over HTTP/2 extended CONNECT (RFC 8441), with
//! permessage-deflate agreed whenever the client offers it. What it serves:
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
//! * `GET /sse/many` — a page that opens `?n=` EventSources (default 100, at most 200) to
//!   `/sse/box` at once and shows which open and receive: over HTTP/1.1 the browser's
//!   six-connections-per-host cap stops all but six, over HTTP/2 they share one connection
//!   (`cargo xtask interop sse-h2-many` measures both).
//! * `GET /sse/chat` — the WebSocket chat relayed as an event stream (see `demo.rs`).
//! * `GET /ws/echo`, `GET /ws/chat` — WebSocket echo and chat (see `demo.rs`).
//! * `/engine.io/` — Engine.io v3 and v4: a chat over long-polling and websocket, or with
//!   `--reference-apps` the v4 spec's test-suite echo server (see `eio.rs`).
//! * `/socket.io/` — Socket.IO v4 and v5: a chat with rooms (see `siochat.rs`), or with
//!   `--reference-apps` the v5 spec's test-suite server with the interop app's events (see
//!   `sio.rs`).
//!
//! Bounded: request heads are limited to 16 KiB, 100 headers and 10 s (hyper's limits), a
//! connection that sends nothing is closed after 10 s, a write that makes no progress for
//! 10 s ends its connection ([`crate::http::StallGuard`]), and at most `--max-conns`
//! connections are served at once (more get 503). `pushwire loadtest --hostile` checks all
//! of it under attack.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::service::service_fn;
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use pushwire_sse::encode;
use pushwire_tokio::sse::{self, LastEventId, Sse};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::http::{self, Body, FirstRead, Req, ResetOnClose, StallGuard, KEEP_ALIVE_EVERY};

/// Command-line options of `pushwire serve`.
#[derive(Debug)]
pub(crate) struct Options {
    addr: SocketAddr,
    max_conns: usize,
    threads: usize,
    /// Serve HTTPS (HTTP/1.1 and h2 by ALPN) with this certificate.
    tls: Option<crate::tls::Source>,
    /// `/engine.io/` and `/socket.io/` serve the specs' reference test servers instead of
    /// the chats.
    reference_apps: bool,
    /// Be one node of a Redis fleet (`--redis URL`, `--redis-wire`).
    redis: Option<crate::sio::RedisOpts>,
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
        let (mut cert, mut key, mut self_signed) = (None, None, false);
        let mut reference_apps = false;
        let mut redis_url = None;
        let mut wire = pushwire_tokio::socketio::cluster::Wire::RedisAdapter8;
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
                "--tls-cert" => cert = Some(it.next().ok_or("--tls-cert takes a PEM file")?.into()),
                "--tls-key" => key = Some(it.next().ok_or("--tls-key takes a PEM file")?.into()),
                "--self-signed" => self_signed = true,
                "--reference-apps" => reference_apps = true,
                "--redis" => {
                    redis_url = Some(it.next().ok_or("--redis takes redis://HOST:PORT/")?.clone())
                }
                "--redis-wire" => {
                    wire = match it.next().map(String::as_str) {
                        Some("redis-adapter-8") => {
                            pushwire_tokio::socketio::cluster::Wire::RedisAdapter8
                        }
                        Some("socket.io-redis-5") => {
                            pushwire_tokio::socketio::cluster::Wire::SocketIoRedis5
                        }
                        _ => {
                            return Err(
                                "--redis-wire takes redis-adapter-8 or socket.io-redis-5".into()
                            )
                        }
                    }
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        let tls = match (cert, key, self_signed) {
            (None, None, false) => None,
            (None, None, true) => Some(crate::tls::Source::SelfSigned),
            (Some(cert), Some(key), false) => Some(crate::tls::Source::Files { cert, key }),
            (_, _, true) => return Err("--self-signed goes without --tls-cert/--tls-key".into()),
            _ => return Err("--tls-cert and --tls-key go together".into()),
        };
        if redis_url.is_some() && reference_apps {
            return Err("--redis serves the chat: it goes without --reference-apps".into());
        }
        Ok(Options {
            redis: redis_url.map(|url| crate::sio::RedisOpts { url, wire }),
            addr,
            max_conns,
            threads,
            tls,
            reference_apps,
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
pub(crate) const RETRY_MS: u64 = 2000;

/// What the connections share.
struct State {
    chat: Arc<crate::demo::Chat>,
    eio: crate::eio::Eio,
    /// The Socket.IO chat, or the reference app (`--reference-apps`).
    sio: crate::sio::Sio,
}

/// Most bytes of a request head (hyper answers 431 beyond).
const MAX_HEAD: usize = 16 * 1024;
/// Most header lines in a request head.
const MAX_HEADERS: usize = 100;
/// Time allowed for a request head to arrive (hyper answers 408 after).
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

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

/// How often `serve` returns freed heap memory to the OS ([`crate::os::trim_heap`]).
const HEAP_TRIM_EVERY: Duration = Duration::from_secs(10);

async fn serve(opts: Options) -> io::Result<()> {
    let listener = TcpListener::bind(opts.addr).await?;
    let tls = opts.tls.as_ref().map(crate::tls::acceptor).transpose()?;
    // The first line is read by tests and scripts: keep its form.
    println!(
        "pushwire demo listening on {}://{}/",
        if tls.is_some() { "https" } else { "http" },
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
    if opts.reference_apps {
        println!(
            "reference apps: /engine.io/ is the Engine.io v4 test-suite echo server \
             (pingInterval 300, pingTimeout 200, maxPayload 1000000, CORS *; EIO=3 and 4)"
        );
        println!(
            "reference apps: /socket.io/ is the Socket.IO v5 test-suite server with the \
             interop app's events (connectTimeout 1000; protocols 4 and 5)"
        );
    }
    let live = Arc::new(AtomicUsize::new(0));
    let state = Arc::new(State {
        chat: Arc::new(crate::demo::Chat::default()),
        eio: crate::eio::Eio::start(opts.reference_apps),
        sio: crate::sio::Sio::start(opts.reference_apps, opts.redis.as_ref()).await?,
    });
    if let Some(c) = state.sio.cluster() {
        state.chat.join_fleet(c.clone());
    }
    // Freed memory goes back to the OS: glibc keeps what a burst of connections freed in its
    // per-thread arenas (RSS stayed ~120 MiB after a hostile run, 20× the idle baseline).
    tokio::spawn(async {
        let mut every = tokio::time::interval(HEAP_TRIM_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let _ = tokio::task::spawn_blocking(crate::os::trim_heap).await;
        }
    });
    // Tells the HTTP connections to finish their request and close.
    let (stop, stopped) = watch::channel(false);
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
        let stopped = stopped.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _live = live;
            let _ = stream.set_nodelay(true);
            if !version_known(&stream).await {
                println!("{peer}: connection ended: no HTTP version told in 10 s");
                return;
            }
            let guarded = StallGuard::new(stream);
            let reset = guarded.reset_handle();
            let served = match tls {
                None => connection(guarded, reset, peer, state, stopped).await,
                Some(acceptor) => match crate::tls::accept(&acceptor, guarded).await {
                    Ok(tls) => connection(tls, reset, peer, state, stopped).await,
                    Err(e) => Err(e.into()),
                },
            };
            if let Err(e) = served {
                println!("{peer}: connection ended: {e}");
            }
        });
    }
    // Ctrl-C: close what is open, politely, within a bound.
    SHUTDOWN.store(true, Ordering::SeqCst);
    let _ = stop.send(true);
    let sessions = state.eio.close_all() + state.sio.close_all();
    let sockets = crate::wslink::close_all();
    state.chat.close_streams();
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

/// Waits, at most [`HEAD_TIMEOUT`], until the first bytes of `stream` tell HTTP/1.1 from
/// HTTP/2 (the whole preface, or a byte that leaves it). hyper-util reads those bytes
/// without a timer, so a connection that sends nothing, or a prefix of the preface and
/// then nothing, would be held for ever. `false`: not told in time, or closed.
/// (`peek`, not `readable`: readiness can be reported before any byte is there.)
async fn version_known(stream: &tokio::net::TcpStream) -> bool {
    let deadline = tokio::time::Instant::now() + HEAD_TIMEOUT;
    let mut buf = [0u8; 24];
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return false,
        };
        if http::version_told(&buf[..n]) {
            return true;
        }
        // A prefix of the preface, so far: wait for more (rare; peek would return the
        // same bytes at once).
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Serves one connection (TCP, or TLS over it) with hyper: HTTP/1.1 with keep-alive, or
/// HTTP/2 when the client opens with the HTTP/2 preface (h2c with prior knowledge, or h2
/// chosen by ALPN); upgrades (WebSocket) on both.
async fn connection<S>(
    stream: S,
    reset: ResetOnClose,
    peer: SocketAddr,
    state: Arc<State>,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .max_headers(MAX_HEADERS);
    // RFC 8441: announce SETTINGS_ENABLE_CONNECT_PROTOCOL, so that clients may open
    // WebSockets on HTTP/2 streams.
    builder
        .http2()
        .timer(TokioTimer::new())
        .enable_connect_protocol()
        // An HTTP/2 connection has no header timeout after its preface: ping it when idle
        // and close it when the pings go unanswered.
        .keep_alive_interval(Some(KEEP_ALIVE_EVERY))
        .keep_alive_timeout(HEAD_TIMEOUT);
    let peer: Arc<str> = peer.to_string().into();
    let service = service_fn(move |mut req: Req| {
        // A handler that gives up on the connection (a WebSocket not keeping up) can make
        // its close a reset.
        req.extensions_mut().insert(reset.clone());
        route(req, peer.clone(), state.clone())
    });
    // The HTTP version not told by the bytes read within the head timeout: end the
    // connection. hyper's own header timeout starts only once it has chosen HTTP/1.1 (its
    // version detection waits without a bound while the bytes match the HTTP/2 preface), and
    // a TLS client that completes the handshake and then sends nothing, or only the start of
    // the preface, would hold the connection for ever.
    let (stream, known) = FirstRead::new(stream);
    let first_byte = tokio::time::sleep(HEAD_TIMEOUT);
    tokio::pin!(first_byte);
    let mut waiting = true;
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(conn);
    loop {
        tokio::select! {
            r = conn.as_mut() => return r,
            _ = stopped.wait_for(|&s| s) => break,
            () = &mut first_byte, if waiting => {
                if !known.load(Ordering::Relaxed) {
                    return Err(format!(
                        "no HTTP version told in {} s after the connection opened",
                        HEAD_TIMEOUT.as_secs()
                    )
                    .into());
                }
                waiting = false;
            }
        }
    }
    // Shutting down: finish the request in progress, then close.
    conn.as_mut().graceful_shutdown();
    conn.await
}

/// Answers one request.
async fn route(req: Req, peer: Arc<str>, state: Arc<State>) -> Result<Response<Body>, Infallible> {
    let peer = &*peer;
    let path = req.uri().path().to_owned();
    if !path.starts_with("/engine.io") && !path.starts_with("/socket.io") {
        println!("{peer}: {}", http::describe(&req));
    }
    let get = req.method() == Method::GET;
    // WebSockets over HTTP/2 arrive as CONNECT (RFC 8441).
    let ws = get || req.method() == Method::CONNECT;
    Ok(match path.as_str() {
        "/" if get => http::respond(StatusCode::OK, "text/html; charset=utf-8", PAGE.as_bytes()),
        "/sse/box" if get => sse_box(req, peer),
        "/comet/box/poll" if get => comet_poll(req, peer).await,
        "/comet/box/frame" if get => comet_frame(req, peer),
        "/sse/many" if get => http::respond(
            StatusCode::OK,
            "text/html; charset=utf-8",
            MANY_PAGE.as_bytes(),
        ),
        "/sse/chat" if get => crate::demo::sse_chat(req, peer, &state.chat),
        "/ws/echo" if ws => crate::demo::ws_echo(req, peer),
        "/ws/chat" if ws => crate::demo::ws_chat(req, peer, &state.chat),
        p if p == "/engine.io" || p.starts_with("/engine.io/") => {
            crate::eio::handle(req, peer, &state.eio).await
        }
        p if p == "/socket.io" || p.starts_with("/socket.io/") => {
            crate::sio::handle(req, peer, &state.sio).await
        }
        "/" | "/sse/box" | "/comet/box/poll" | "/comet/box/frame" | "/sse/many" | "/sse/chat"
        | "/ws/echo" | "/ws/chat" => http::respond(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            b"method not allowed\n",
        ),
        _ => http::respond(StatusCode::NOT_FOUND, "text/plain", b"not found\n"),
    })
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

/// `GET /sse/box`: the box's walk as an event stream, resumed from `Last-Event-ID` (or
/// `?lastEventId=`), which is the position `x,y`.
fn sse_box(req: Req, peer: &str) -> Response<Body> {
    let padding = http::query(&req)
        .unwrap_or("")
        .split('&')
        .any(|p| p == "padding=1");
    let walk = BoxWalk::from_request(req, peer, "SSE", true);
    let resp = Sse::new(walk)
        .retry(Duration::from_millis(RETRY_MS))
        .padding(padding)
        .keep_alive(Some(KEEP_ALIVE_EVERY))
        .into_http_response();
    resp.map(|b| Body::Dyn(Box::pin(b)))
}

/// Longest a long-poll request of the box is held: the next step comes after [`TICK`].
const LONG_POLL_WAIT: Duration = Duration::from_secs(25);

/// `GET /comet/box/poll?lastEventId=x,y`: the walk's next step by long-polling (seed 002's
/// first Comet model), for pages without `EventSource`: held until the step (one [`TICK`]),
/// answered with JSON; the page asks again with the step's id.
async fn comet_poll(req: Req, peer: &str) -> Response<Body> {
    let walk = BoxWalk::from_request(req, peer, "long-poll", false);
    let resp = sse::long_poll(walk, LONG_POLL_WAIT, 16).await;
    let (parts, body) = resp.into_parts();
    Response::from_parts(parts, Body::Dyn(Box::pin(body)))
}

/// `GET /comet/box/frame?lastEventId=x,y`: the walk as iframe streaming (the "forever
/// frame", seed 002's second Comet model): a never-ending HTML document calling
/// `parent.pushwireFrame(event)` per step; `?drop=N` ends it after N steps, and the page
/// reloads it with the last id.
fn comet_frame(req: Req, peer: &str) -> Response<Body> {
    let walk = BoxWalk::from_request(req, peer, "forever frame", true);
    match sse::ForeverFrame::new(walk).callback("parent.pushwireFrame") {
        Ok(frame) => frame
            .keep_alive(Some(KEEP_ALIVE_EVERY))
            .into_http_response()
            .map(|b| Body::Dyn(Box::pin(b))),
        Err(_) => http::respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            b"callback\n",
        ),
    }
}

/// The stream of the box: a step of the walk every [`TICK`] (the first at once when
/// `immediate`).
struct BoxWalk {
    first: Option<sse::Event>,
    immediate: bool,
    what: &'static str,
    pos: (i64, i64),
    walk: Walk,
    ticks: tokio::time::Interval,
    sent: u64,
    drop_after: Option<u64>,
    peer: String,
}

impl BoxWalk {
    /// The walk a request asks for: from its `Last-Event-ID` (or `?lastEventId=`), the
    /// position `x,y` (else the centre), with a `resume` event first when resuming, ending
    /// after `?drop=N` steps.
    fn from_request(req: Req, peer: &str, what: &'static str, immediate: bool) -> BoxWalk {
        let resume = LastEventId::from_request(&req).0;
        let pos = resume
            .as_deref()
            .and_then(parse_position)
            .unwrap_or(((WIDTH - BOX) / 2, (HEIGHT - BOX) / 2));
        // A long-poll request always carries the last id: only a new walk is logged.
        match &resume {
            Some(id) if immediate => println!("{peer}: {what} reconnect, resuming from {id:?}"),
            Some(_) => {}
            None => println!("{peer}: {what} new stream"),
        }
        // `?drop=N`: end the stream after N events, so that tests (and curious users) can
        // watch the client reconnect with the last event id.
        let drop_after: Option<u64> = http::query(&req)
            .unwrap_or("")
            .split('&')
            .find_map(|p| p.strip_prefix("drop="))
            .and_then(|n| n.parse().ok());
        drop(req);
        // Tell the page where the walk resumed (no `id`, so the last event ID is unchanged).
        let first = resume.as_deref().filter(|_| immediate).and_then(|id| {
            let ev = encode::EventBuilder::new().event("resume").ok()?;
            Some(sse::Event::from(ev.data(id)))
        });
        BoxWalk {
            first,
            immediate,
            what,
            pos,
            walk: Walk::new(),
            ticks: tokio::time::interval_at(tokio::time::Instant::now() + TICK, TICK),
            sent: 0,
            drop_after,
            peer: peer.to_string(),
        }
    }
}

impl futures_core::Stream for BoxWalk {
    type Item = sse::Event;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<sse::Event>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return std::task::Poll::Ready(Some(first));
        }
        if this.drop_after.is_some_and(|n| this.sent >= n) || shutting_down() {
            return std::task::Poll::Ready(None);
        }
        if (this.sent > 0 || !this.immediate) && this.ticks.poll_tick(cx).is_pending() {
            return std::task::Poll::Pending;
        }
        this.pos = this.walk.step(this.pos);
        this.sent += 1;
        let id = format!("{},{}", this.pos.0, this.pos.1);
        let ev = encode::EventBuilder::new()
            .id(&id)
            .map(|b| sse::Event::from(b.data(&id)))
            .ok();
        std::task::Poll::Ready(ev)
    }
}

impl Drop for BoxWalk {
    fn drop(&mut self) {
        let how = if self.drop_after.is_some_and(|n| self.sent >= n) {
            " (drop=N)"
        } else if shutting_down() {
            " (shutdown)"
        } else {
            ""
        };
        // A long-poll request is one step: only streams are logged.
        if self.immediate {
            println!(
                "{}: {} stream closed after {} events{how}",
                self.peer, self.what, self.sent
            );
        }
    }
}

/// The demo page.
const PAGE: &str = include_str!("page.html");

/// `GET /sse/many`: `?n=` EventSources to `/sse/box` at once (the page reads `n`).
const MANY_PAGE: &str = include_str!("many.html");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_options_go_together() {
        let parse =
            |a: &[&str]| Options::parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(parse(&[]).unwrap().tls.is_none());
        assert!(matches!(
            parse(&["--self-signed"]).unwrap().tls,
            Some(crate::tls::Source::SelfSigned)
        ));
        assert!(matches!(
            parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"])
                .unwrap()
                .tls,
            Some(crate::tls::Source::Files { .. })
        ));
        assert!(parse(&["--tls-cert", "c.pem"]).is_err());
        assert!(parse(&["--tls-key", "k.pem"]).is_err());
        assert!(parse(&["--self-signed", "--tls-cert", "c.pem", "--tls-key", "k.pem"]).is_err());
        assert!(parse(&["--tls-cert"]).is_err());
    }

    #[test]
    fn self_signed_certificate_makes_an_acceptor() {
        assert!(crate::tls::acceptor(&crate::tls::Source::SelfSigned).is_ok());
        let missing = crate::tls::Source::Files {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        };
        let err = crate::tls::acceptor(&missing)
            .err()
            .expect("missing files fail");
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }

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
