//! End-to-end Server-Sent Events benchmark over 127.0.0.1 (issue 14): pushwire-tokio's `Sse`
//! response body against axum 0.8's `Sse` on the same hyper server, and pushwire-tokio's
//! `EventSource` against `eventsource-client` (LaunchDarkly's) and `reqwest-eventsource`
//! reading the same server, all in the same run. Results and the analysis are in
//! docs/performance.md ("SSE end to end (issue 14)").
//!
//! Call order:
//!
//! - `sse_loopback run [options]` (the driver; the default command) spawns this same binary
//!   as `sse_loopback serve <kind> <mode>` once per measurement, reads the port it prints,
//!   measures from its own process, reads the server's CPU time from `/proc/<pid>/stat`, and
//!   kills it. Rounds alternate the implementations (A B C A B C …); it prints every round,
//!   then Markdown tables of the medians, the spreads and the ratios.
//! - **Server part.** Every server runs on a tokio current-thread runtime (one core; the reader
//!   gets the other): hyper 1's HTTP/1.1 server (`hyper::server::conn::http1::Builder` with its
//!   defaults, `serve_connection` on a `service_fn`, TCP_NODELAY on), one connection, answering
//!   `GET /<n>` with `n` events of 100 bytes of data (`data: …\n\n`, 108 bytes). The same
//!   hyper service for every kind, only the response differs:
//!   `pushwire` is `pushwire_tokio::sse::Sse::new(stream).keep_alive(None).into_http_response()`
//!   (hyper gets the `SseBody` itself), `axum` is `axum::response::sse::Sse::new(stream)
//!   .into_response()` (axum's boxed `Body`; no keep-alive is axum's default), and
//!   `pushwire-axum` is pushwire's `Sse` through axum's `IntoResponse`, i.e. boxed in the
//!   same `axum::body::Body` (what an axum handler returning pushwire's `Sse` sends).
//!   Modes of the event stream: `ready` — `stream::repeat(event).take(n)` of an event built
//!   once (cloned per item: a reference count for pushwire, a copy for axum, whose events are
//!   a `BytesMut` until sent); `build` — each event built from the 100-byte string as it is
//!   yielded (`Event::data(s)`, `Event::default().data(s)`); `trickle` — a producer task
//!   sends the pre-built event into a tokio `mpsc` channel of capacity 1, so at most one event
//!   is ever ready when the body is polled (nothing to coalesce).
//!   The reader is raw tokio TCP: it sends the GET and counts `\n\n` in what arrives (chunk
//!   framing included; the data has no line break) until `n`, so the figure is the server's.
//! - **Client part.** One server for all clients: `sse_loopback serve raw`, a raw TCP writer
//!   that answers any GET with a 200 `text/event-stream` head and `n` events in HTTP/1.1
//!   chunks of 150 events (16,200 bytes, about the frames pushwire's `Sse` coalesces into),
//!   written 4 chunks at a time, and keeps the connection open. Every event's data is the
//!   same 100 bytes but the last one's. Each client reads `n` events on a tokio current-thread
//!   runtime (its own core), checks every event's data length, and the last one's data. Clients:
//!   `pushwire` (`EventSource::builder(url).build()`, HTTP/1.1), `eventsource-client`
//!   (0.18.0's `ClientBuilder` on `launchdarkly_sdk_transport::HyperTransport`, proxies
//!   disabled), `reqwest-eventsource` (0.6's `EventSource::new` on a `reqwest::Client`
//!   0.12 with proxies disabled). After the clients, a reference without I/O: pushwire-sse's
//!   `Parser` alone on the same events in the same chunks (`poll_event`, which `EventSource`
//!   uses, and `poll_event_ref`), and std's `is_ascii` of one 100-byte value (the check
//!   `bytestring` makes of each data value `poll_event` shares), to tell where the client's
//!   time goes.
//! - `sse_loopback read <port> <n>` and `sse_loopback client <kind> <port> <n>` run one
//!   measurement against a server started by hand (`sse_loopback serve <kind> <mode>`, e.g.
//!   under `perf record`); `sse_loopback parse [n]` runs the parser-alone reference once.
//!
//! Options of `run`: `--rounds N` (5), `--ready N` (events per `ready` and `build` run,
//! 6,000,000), `--trickle N` (events per `trickle` run, 150,000), `--client N` (events per
//! client run, 4,000,000), `--servers a,b` (pushwire,axum,pushwire-axum), `--modes a,b`
//! (ready,build,trickle), `--clients a,b`
//! (pushwire,pushwire-next-ref,eventsource-client,reqwest-eventsource; the first is the one
//! the ratios compare);
//! a count of 0 skips that part.
//!
//! Linux only in practice (`/proc`). No timing is asserted anywhere: the figures are
//! printed, as Markdown tables.

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::{self, StreamExt as _};
use pushwire_benches::proc_time::{cpu_time, loadavg, self_cpu_time, ChildServer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

/// The data of every event but the last: 100 bytes, no line break.
const DATA: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB";
/// The data of the last event the raw server sends (the client part checks it).
const LAST: &str = "the-last-event-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl";
/// `data: ` + 100 bytes + `\n\n`.
const EVENT_LEN: usize = 108;

// ---------------------------------------------------------------------------------------
// What is measured.

/// The servers of the server part (`raw` is the client part's server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerKind {
    Pushwire,
    Axum,
    /// pushwire's `Sse` through axum's `IntoResponse` (boxed in `axum::body::Body`).
    PushwireAxum,
    Raw,
}

impl ServerKind {
    const DEFAULT: [ServerKind; 3] = [
        ServerKind::Pushwire,
        ServerKind::Axum,
        ServerKind::PushwireAxum,
    ];

    fn name(self) -> &'static str {
        match self {
            ServerKind::Pushwire => "pushwire",
            ServerKind::Axum => "axum",
            ServerKind::PushwireAxum => "pushwire-axum",
            ServerKind::Raw => "raw",
        }
    }

    fn parse(s: &str) -> Option<ServerKind> {
        [
            ServerKind::Pushwire,
            ServerKind::Axum,
            ServerKind::PushwireAxum,
            ServerKind::Raw,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

/// How the server's event stream yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Always ready, a pre-built event cloned per item.
    Ready,
    /// Always ready, each event built from the string when yielded.
    Build,
    /// One event at a time through an mpsc channel of capacity 1 from a producer task.
    Trickle,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Ready, Mode::Build, Mode::Trickle];

    fn name(self) -> &'static str {
        match self {
            Mode::Ready => "ready",
            Mode::Build => "build",
            Mode::Trickle => "trickle",
        }
    }

    fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// The clients of the client part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientKind {
    Pushwire,
    /// pushwire's `EventSource::next_ref`: the event lent from the parser's buffers.
    PushwireRef,
    EventsourceClient,
    ReqwestEventsource,
}

impl ClientKind {
    const ALL: [ClientKind; 4] = [
        ClientKind::Pushwire,
        ClientKind::PushwireRef,
        ClientKind::EventsourceClient,
        ClientKind::ReqwestEventsource,
    ];

    fn name(self) -> &'static str {
        match self {
            ClientKind::Pushwire => "pushwire",
            ClientKind::PushwireRef => "pushwire-next-ref",
            ClientKind::EventsourceClient => "eventsource-client",
            ClientKind::ReqwestEventsource => "reqwest-eventsource",
        }
    }

    fn parse(s: &str) -> Option<ClientKind> {
        ClientKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => {
            let kind = args.get(1).and_then(|k| ServerKind::parse(k));
            let mode = args.get(2).and_then(|m| Mode::parse(m));
            match (kind, mode) {
                (Some(ServerKind::Raw), _) => serve(ServerKind::Raw, Mode::Ready),
                (Some(kind), Some(mode)) => serve(kind, mode),
                _ => Err("usage: sse_loopback serve <pushwire|axum|pushwire-axum> <ready|build|trickle> | serve raw".into()),
            }
        }
        Some("run") => Options::parse(&args[1..]).and_then(run),
        Some("read") => read_cmd(&args[1..]),
        Some("client") => client_cmd(&args[1..]),
        Some("parse") => parse_cmd(&args[1..]),
        None => Options::parse(&[]).and_then(run),
        Some(other) => Err(format!(
            "unknown command {other:?}: use `run`, `serve`, `read`, `client` or `parse`"
        )
        .into()),
    };
    if let Err(e) = result {
        eprintln!("sse_loopback: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------
// OS helpers (Linux): CPU time.

// ---------------------------------------------------------------------------------------
// Servers: `sse_loopback serve <kind> <mode>`, `sse_loopback serve raw`.

fn serve(kind: ServerKind, mode: Mode) -> Res<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("port {}", listener.local_addr()?.port());
        std::io::stdout().flush()?;
        loop {
            let (tcp, _) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            tokio::spawn(async move {
                // A client that simply disconnects ends its connection with an error: normal.
                let _ = serve_connection(kind, mode, tcp).await;
            });
        }
    })
}

/// The number of events a request asks for: its path, `/<n>` (the raw server also takes
/// `/events/<n>`).
fn count_from_path(path: &str) -> usize {
    path.rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn serve_connection(kind: ServerKind, mode: Mode, tcp: TcpStream) -> Res<()> {
    use axum::response::IntoResponse as _;
    use pushwire_tokio::sse::{Event, Sse};
    type AxumEvent = axum::response::sse::Event;
    match (kind, mode) {
        (ServerKind::Raw, _) => raw_serve(tcp).await,
        (ServerKind::Pushwire, Mode::Ready) => {
            let event = Event::data(DATA);
            serve_http(tcp, move |n| {
                let events = stream::repeat(event.clone()).take(n);
                Sse::new(events).keep_alive(None).into_http_response()
            })
            .await
        }
        (ServerKind::Pushwire, Mode::Build) => {
            serve_http(tcp, |n| {
                let events = stream::iter(0..n).map(|_| Event::data(DATA));
                Sse::new(events).keep_alive(None).into_http_response()
            })
            .await
        }
        (ServerKind::Pushwire, Mode::Trickle) => {
            let event = Event::data(DATA);
            serve_http(tcp, move |n| {
                let events = trickle(event.clone(), n);
                Sse::new(events).keep_alive(None).into_http_response()
            })
            .await
        }
        (ServerKind::PushwireAxum, Mode::Ready) => {
            let event = Event::data(DATA);
            serve_http(tcp, move |n| {
                let events = stream::repeat(event.clone()).take(n);
                Sse::new(events).keep_alive(None).into_response()
            })
            .await
        }
        (ServerKind::PushwireAxum, Mode::Build) => {
            serve_http(tcp, |n| {
                let events = stream::iter(0..n).map(|_| Event::data(DATA));
                Sse::new(events).keep_alive(None).into_response()
            })
            .await
        }
        (ServerKind::PushwireAxum, Mode::Trickle) => {
            let event = Event::data(DATA);
            serve_http(tcp, move |n| {
                let events = trickle(event.clone(), n);
                Sse::new(events).keep_alive(None).into_response()
            })
            .await
        }
        (ServerKind::Axum, Mode::Ready) => {
            let event = AxumEvent::default().data(DATA);
            serve_http(tcp, move |n| {
                let events = stream::repeat(event.clone())
                    .take(n)
                    .map(Ok::<_, Infallible>);
                axum::response::sse::Sse::new(events).into_response()
            })
            .await
        }
        (ServerKind::Axum, Mode::Build) => {
            serve_http(tcp, |n| {
                let events = stream::iter(0..n)
                    .map(|_| Ok::<_, Infallible>(AxumEvent::default().data(DATA)));
                axum::response::sse::Sse::new(events).into_response()
            })
            .await
        }
        (ServerKind::Axum, Mode::Trickle) => {
            let event = AxumEvent::default().data(DATA);
            serve_http(tcp, move |n| {
                let events = trickle(event.clone(), n).map(Ok::<_, Infallible>);
                axum::response::sse::Sse::new(events).into_response()
            })
            .await
        }
    }
}

/// The hyper server every kind shares: HTTP/1.1, `Builder` defaults, one `service_fn`
/// answering `GET /<n>` with `respond(n)`.
async fn serve_http<B, F>(tcp: TcpStream, respond: F) -> Res<()>
where
    F: Fn(usize) -> hyper::Response<B> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    use hyper::body::Incoming;
    use hyper::service::service_fn;
    let io = hyper_util::rt::TokioIo::new(tcp);
    let service = service_fn(move |req: hyper::Request<Incoming>| {
        let response = respond(count_from_path(req.uri().path()));
        async move { Ok::<_, Infallible>(response) }
    });
    hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await?;
    Ok(())
}

/// `n` clones of `event`, sent one at a time by a producer task through an mpsc channel of
/// capacity 1.
fn trickle<T: Clone + Send + 'static>(event: T, n: usize) -> impl futures_util::Stream<Item = T> {
    let (tx, rx) = tokio::sync::mpsc::channel::<T>(1);
    tokio::spawn(async move {
        for _ in 0..n {
            if tx.send(event.clone()).await.is_err() {
                return;
            }
        }
    });
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) })
}

/// Events per chunk of the raw server: 150 × 108 = 16,200 bytes.
const RAW_CHUNK_EVENTS: usize = 150;

/// One HTTP/1.1 chunk holding `events` (already encoded).
fn chunk(events: &[u8]) -> Vec<u8> {
    let mut c = format!("{:x}\r\n", events.len()).into_bytes();
    c.extend_from_slice(events);
    c.extend_from_slice(b"\r\n");
    c
}

/// The client part's server: reads the request head, writes a 200 `text/event-stream` head
/// and `n` events (`/events/<n>`, the last one's data [`LAST`]) as 16,200-byte chunks, four
/// per write, then waits until the client closes.
async fn raw_serve(mut tcp: TcpStream) -> Res<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let r = tcp.read(&mut buf).await?;
        if r == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..r]);
        if let Some(end) = memchr::memmem::find(&head, b"\r\n\r\n") {
            break end;
        }
        if head.len() > 16384 {
            return Err("request head over 16 KiB".into());
        }
    };
    let line = String::from_utf8_lossy(&head[..end]);
    let path = line.split(' ').nth(1).unwrap_or("/");
    let n = count_from_path(path);
    if n == 0 {
        tcp.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
            .await?;
        return Ok(());
    }
    let event = format!("data: {DATA}\n\n");
    let last = format!("data: {LAST}\n\n");
    let one = chunk(&event.repeat(RAW_CHUNK_EVENTS).into_bytes());
    let four = one.repeat(4);
    tcp.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
transfer-encoding: chunked\r\n\r\n",
    )
    .await?;
    let mut left = n - 1;
    while left >= 4 * RAW_CHUNK_EVENTS {
        tcp.write_all(&four).await?;
        left -= 4 * RAW_CHUNK_EVENTS;
    }
    while left >= RAW_CHUNK_EVENTS {
        tcp.write_all(&one).await?;
        left -= RAW_CHUNK_EVENTS;
    }
    let mut tail = event.repeat(left).into_bytes();
    tail.extend_from_slice(last.as_bytes());
    tcp.write_all(&chunk(&tail)).await?;
    // Held open (no terminating chunk): the clients would reconnect after an end.
    while tcp.read(&mut buf).await? > 0 {}
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The server part's reader: raw tokio TCP, counting `\n\n`.

/// One measured run.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    events: u64,
    elapsed: Duration,
    /// CPU time of the measuring side (the reader, or the client) during the run.
    local_cpu: Duration,
    /// CPU time of the server process during the run (10 ms ticks).
    server_cpu: Duration,
}

impl Run {
    fn events_per_s(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    /// Server CPU per event, nanoseconds.
    fn server_ns_per_event(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e9 / self.events.max(1) as f64
    }

    /// Reader or client CPU per event, nanoseconds.
    fn local_ns_per_event(&self) -> f64 {
        self.local_cpu.as_secs_f64() * 1e9 / self.events.max(1) as f64
    }
}

/// Sends `GET /<n>` and counts the events of the response (`\n\n` in the bytes after the
/// head) until `n`; more than `n` is an error.
async fn read_events(addr: SocketAddr, server_pid: u32, n: usize) -> Res<Run> {
    let finder = memchr::memmem::Finder::new(b"\n\n");
    let cpu0 = self_cpu_time();
    let scpu0 = cpu_time(server_pid);
    let start = Instant::now();
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let request =
        format!("GET /{n} HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n\r\n");
    tcp.write_all(request.as_bytes()).await?;
    let mut buf = vec![0u8; 256 << 10];
    // The head.
    let mut filled = 0;
    let body_start = loop {
        let r = tcp.read(&mut buf[filled..]).await?;
        if r == 0 {
            return Err("closed before the response head".into());
        }
        filled += r;
        if let Some(end) = memchr::memmem::find(&buf[..filled], b"\r\n\r\n") {
            if !buf.starts_with(b"HTTP/1.1 200") {
                let head = String::from_utf8_lossy(&buf[..end]);
                return Err(format!("not a 200: {head:?}").into());
            }
            break end + 4;
        }
        if filled == buf.len() {
            return Err("response head over 256 KiB".into());
        }
    };
    let mut count = 0usize;
    let mut bytes = 0u64;
    let mut last_nl = false;
    let mut slice_start = body_start;
    loop {
        let data = &buf[slice_start..filled];
        if !data.is_empty() {
            if last_nl && data[0] == b'\n' {
                count += 1;
            }
            count += finder.find_iter(data).count();
            last_nl = data[data.len() - 1] == b'\n';
            bytes += data.len() as u64;
        }
        if count >= n {
            break;
        }
        let r = tcp.read(&mut buf).await?;
        if r == 0 {
            return Err(format!("server closed after {count} of {n} events").into());
        }
        slice_start = 0;
        filled = r;
    }
    let elapsed = start.elapsed();
    let local_cpu = self_cpu_time() - cpu0;
    let server_cpu = cpu_time(server_pid).saturating_sub(scpu0);
    if count != n {
        return Err(format!("{count} events where {n} were asked for").into());
    }
    if bytes < (n * EVENT_LEN) as u64 {
        return Err(format!("{bytes} bytes for {n} events of {EVENT_LEN}").into());
    }
    Ok(Run {
        events: n as u64,
        elapsed,
        local_cpu,
        server_cpu,
    })
}

/// `sse_loopback read <port> <n> [server-pid]`: one reader run against a server started by
/// hand, printed as one line.
fn read_cmd(args: &[String]) -> Res<()> {
    let usage = "usage: sse_loopback read <port> <n> [server-pid]";
    let num = |i: usize| -> Res<usize> { Ok(args.get(i).ok_or(usage)?.replace('_', "").parse()?) };
    let port = u16::try_from(num(0)?)?;
    let n = num(1)?;
    let pid = num(2).map_or(0, |p| p as u32);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let r = rt.block_on(read_events(addr, pid, n))?;
    println!(
        "{n} events: {:.0} events/s, {:.3} s, reader CPU {:.3} s, server CPU {:.3} s",
        r.events_per_s(),
        r.elapsed.as_secs_f64(),
        r.local_cpu.as_secs_f64(),
        r.server_cpu.as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The client part: each client reads `n` events from the raw server.

/// Checks the `i`-th event's data (0-based) of `n`: its length, and all of it for the last
/// event (whose data differs from the others').
fn check(i: usize, n: usize, data: &str) -> Res<()> {
    let ok = if i + 1 == n {
        data == LAST
    } else {
        data.len() == DATA.len()
    };
    if !ok {
        return Err(format!("event {i} of {n} has data {data:?}").into());
    }
    Ok(())
}

/// Reads `n` events with client `kind` from `url`; every event's data is checked.
async fn read_client(kind: ClientKind, url: &str, n: usize) -> Res<()> {
    match kind {
        ClientKind::Pushwire => {
            let mut es = pushwire_tokio::sse::EventSource::builder(url).build()?;
            for i in 0..n {
                match es.next().await {
                    Some(Ok(event)) => check(i, n, event.data())?,
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(format!("ended after {i} of {n} events").into()),
                }
            }
        }
        ClientKind::PushwireRef => {
            let mut es = pushwire_tokio::sse::EventSource::builder(url).build()?;
            for i in 0..n {
                match es.next_ref().await {
                    Some(Ok(event)) => check(i, n, event.data)?,
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(format!("ended after {i} of {n} events").into()),
                }
            }
        }
        ClientKind::EventsourceClient => {
            use eventsource_client::{Client as _, SSE};
            let transport = launchdarkly_sdk_transport::HyperTransport::builder()
                .disable_proxy()
                .build_http()?;
            let client =
                eventsource_client::ClientBuilder::for_url(url)?.build_with_transport(transport);
            let mut events = client.stream();
            let mut i = 0;
            while i < n {
                match events.next().await {
                    Some(Ok(SSE::Event(event))) => {
                        check(i, n, &event.data)?;
                        i += 1;
                    }
                    Some(Ok(SSE::Connected(_) | SSE::Comment(_))) => {}
                    Some(Err(e)) => return Err(format!("eventsource-client: {e:?}").into()),
                    None => return Err(format!("ended after {i} of {n} events").into()),
                }
            }
        }
        ClientKind::ReqwestEventsource => {
            use reqwest_eventsource::{Event, EventSource};
            let client = reqwest::Client::builder().no_proxy().build()?;
            let mut es = EventSource::new(client.get(url))?;
            let mut i = 0;
            while i < n {
                match es.next().await {
                    Some(Ok(Event::Message(event))) => {
                        check(i, n, &event.data)?;
                        i += 1;
                    }
                    Some(Ok(Event::Open)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(format!("ended after {i} of {n} events").into()),
                }
            }
            es.close();
        }
    }
    Ok(())
}

/// One client run on a fresh current-thread runtime (dropped after, with whatever tasks
/// the client spawned).
fn client_run(kind: ClientKind, addr: SocketAddr, server_pid: u32, n: usize) -> Res<Run> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let url = format!("http://{addr}/events/{n}");
    let cpu0 = self_cpu_time();
    let scpu0 = cpu_time(server_pid);
    let start = Instant::now();
    rt.block_on(read_client(kind, &url, n))?;
    let elapsed = start.elapsed();
    let local_cpu = self_cpu_time() - cpu0;
    let server_cpu = cpu_time(server_pid).saturating_sub(scpu0);
    drop(rt);
    Ok(Run {
        events: n as u64,
        elapsed,
        local_cpu,
        server_cpu,
    })
}

/// `sse_loopback client <kind> <port> <n> [server-pid]`: one client run against a server
/// started by hand (`sse_loopback serve raw`), printed as one line.
fn client_cmd(args: &[String]) -> Res<()> {
    let usage = "usage: sse_loopback client <pushwire|eventsource-client|reqwest-eventsource> <port> <n> [server-pid]";
    let kind = args
        .first()
        .and_then(|k| ClientKind::parse(k))
        .ok_or(usage)?;
    let num = |i: usize| -> Res<usize> { Ok(args.get(i).ok_or(usage)?.replace('_', "").parse()?) };
    let port = u16::try_from(num(1)?)?;
    let n = num(2)?;
    let pid = num(3).map_or(0, |p| p as u32);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let r = client_run(kind, addr, pid, n)?;
    println!(
        "{} {n} events: {:.0} events/s, {:.3} s, client CPU {:.3} s, server CPU {:.3} s",
        kind.name(),
        r.events_per_s(),
        r.elapsed.as_secs_f64(),
        r.local_cpu.as_secs_f64(),
        r.server_cpu.as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reference without I/O: pushwire-sse's parser alone on the client part's body.

/// The client part's body as the raw server sends it, decoded: `n` events (the last one's
/// data [`LAST`]) in chunks of [`RAW_CHUNK_EVENTS`].
fn body_chunks(n: usize) -> Vec<Bytes> {
    let event = format!("data: {DATA}\n\n");
    let full = Bytes::from(event.repeat(RAW_CHUNK_EVENTS));
    let mut chunks = vec![full; (n - 1) / RAW_CHUNK_EVENTS];
    let mut tail = event.repeat((n - 1) % RAW_CHUNK_EVENTS);
    tail.push_str(&format!("data: {LAST}\n\n"));
    chunks.push(Bytes::from(tail));
    chunks
}

/// The parser-alone references, in the order of [`PARSE_NAMES`]: time for `n` events each.
const PARSE_NAMES: [&str; 3] = [
    "pushwire-sse `Parser::poll_event` (owned events, as `EventSource`)",
    "pushwire-sse `Parser::poll_event_ref` (lent events)",
    "std `<[u8]>::is_ascii` of one 100-byte value",
];

fn parse_reference(n: usize) -> Res<[Run; 3]> {
    use pushwire_sse::Parser;
    let chunks = body_chunks(n);
    let err = |e: &dyn std::fmt::Debug| -> BoxError { format!("{e:?}").into() };
    let timed = |elapsed: Duration| Run {
        events: n as u64,
        elapsed,
        local_cpu: elapsed,
        server_cpu: Duration::ZERO,
    };
    // Owned events: what `EventSource` yields (it feeds hyper's frames with `feed_bytes`).
    let start = Instant::now();
    let mut parser = Parser::new();
    let mut i = 0;
    for chunk in &chunks {
        parser.feed_bytes(chunk.clone()).map_err(|e| err(&e))?;
        while let Some(event) = parser.poll_event().map_err(|e| err(&e))? {
            check(i, n, event.data())?;
            i += 1;
        }
    }
    let owned = timed(start.elapsed());
    if i != n {
        return Err(format!("the parser read {i} of {n} events").into());
    }
    // Lent events.
    let start = Instant::now();
    let mut parser = Parser::new();
    let mut i = 0;
    for chunk in &chunks {
        parser.feed_bytes(chunk.clone()).map_err(|e| err(&e))?;
        while let Some(event) = parser.poll_event_ref().map_err(|e| err(&e))? {
            check(i, n, event.data)?;
            i += 1;
        }
    }
    let lent = timed(start.elapsed());
    if i != n {
        return Err(format!("the parser read {i} of {n} events").into());
    }
    // The check `bytestring::ByteString::try_from(Bytes)` makes of each shared data value.
    let start = Instant::now();
    let mut ascii = 0usize;
    for _ in 0..n {
        ascii += usize::from(std::hint::black_box(DATA.as_bytes()).is_ascii());
    }
    let is_ascii = timed(start.elapsed());
    if ascii != n {
        return Err("not ASCII".into());
    }
    Ok([owned, lent, is_ascii])
}

/// `sse_loopback parse [n]`: the parser-alone references once (e.g. under `perf record`).
fn parse_cmd(args: &[String]) -> Res<()> {
    let n = match args.first() {
        Some(n) => n.replace('_', "").parse()?,
        None => 4_000_000,
    };
    for (name, r) in PARSE_NAMES.iter().zip(parse_reference(n)?) {
        println!("{name}: {:.1} ns per event", r.local_ns_per_event());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The driver.

struct Options {
    rounds: usize,
    ready: usize,
    trickle: usize,
    client: usize,
    servers: Vec<ServerKind>,
    modes: Vec<Mode>,
    clients: Vec<ClientKind>,
}

fn parse_list<T>(value: &str, parse: impl Fn(&str) -> Option<T>) -> Res<Vec<T>> {
    value
        .split(',')
        .map(|k| parse(k).ok_or_else(|| format!("unknown name {k:?}").into()))
        .collect()
}

impl Options {
    fn parse(args: &[String]) -> Res<Options> {
        let mut o = Options {
            rounds: 5,
            ready: 6_000_000,
            trickle: 150_000,
            client: 4_000_000,
            servers: ServerKind::DEFAULT.to_vec(),
            modes: Mode::ALL.to_vec(),
            clients: ClientKind::ALL.to_vec(),
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let num = || value.replace('_', "").parse::<usize>();
            match flag.as_str() {
                "--rounds" => o.rounds = num()?,
                "--ready" => o.ready = num()?,
                "--trickle" => o.trickle = num()?,
                "--client" => o.client = num()?,
                "--servers" => {
                    o.servers = parse_list(value, |s| {
                        ServerKind::parse(s).filter(|k| *k != ServerKind::Raw)
                    })?
                }
                "--modes" => o.modes = parse_list(value, Mode::parse)?,
                "--clients" => o.clients = parse_list(value, ClientKind::parse)?,
                _ => return Err(format!("unknown option {flag:?}").into()),
            }
        }
        Ok(o)
    }
}

/// A spawned server process, killed on drop.
/// A server process of this binary (see `ChildServer`).
struct Server(ChildServer);

impl Server {
    fn spawn(kind: ServerKind, mode: Mode) -> Res<Server> {
        Ok(Server(ChildServer::spawn(&[
            "serve",
            kind.name(),
            mode.name(),
        ])?))
    }

    fn pid(&self) -> u32 {
        self.0.pid()
    }
}

/// The results of one part: per implementation, its runs in round order.
struct Part {
    title: String,
    names: Vec<&'static str>,
    runs: Vec<Vec<Run>>,
    /// Print the first implementation's ratios to the others.
    ratios: bool,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

fn range(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

fn mega(x: f64) -> String {
    format!("{:.3} M", x / 1e6)
}

impl Part {
    /// The summary: median events/s and the spread per implementation, CPU per event, and
    /// the first implementation's ratio to each other one (per round: same-round figures).
    fn print(&self, local: &str) {
        println!("\n### {}\n", self.title);
        if !self.ratios {
            println!("| what | median ns per event | min–max |");
            println!("|---|---|---|");
            for (name, runs) in self.names.iter().zip(&self.runs) {
                let ns: Vec<f64> = runs.iter().map(Run::local_ns_per_event).collect();
                let (lo, hi) = range(&ns);
                println!("| {name} | {:.1} | {lo:.1}–{hi:.1} |", median(&ns));
            }
            return;
        }
        println!("| implementation | median events/s | min–max | server CPU per event (median) | {local} CPU per event (median) |");
        println!("|---|---|---|---|---|");
        for (name, runs) in self.names.iter().zip(&self.runs) {
            let eps: Vec<f64> = runs.iter().map(Run::events_per_s).collect();
            let (lo, hi) = range(&eps);
            let scpu: Vec<f64> = runs.iter().map(Run::server_ns_per_event).collect();
            let lcpu: Vec<f64> = runs.iter().map(Run::local_ns_per_event).collect();
            println!(
                "| {name} | {} | {}–{} | {:.0} ns | {:.0} ns |",
                mega(median(&eps)),
                mega(lo),
                mega(hi),
                median(&scpu),
                median(&lcpu),
            );
        }
        if self.names.len() < 2 || !self.ratios {
            return;
        }
        println!(
            "\n| {} / peer | ratio of medians | per round (median, min–max) |",
            self.names[0]
        );
        println!("|---|---|---|");
        let ours = &self.runs[0];
        for (name, runs) in self.names.iter().zip(&self.runs).skip(1) {
            let per_round: Vec<f64> = ours
                .iter()
                .zip(runs)
                .map(|(a, b)| a.events_per_s() / b.events_per_s())
                .collect();
            let a: Vec<f64> = ours.iter().map(Run::events_per_s).collect();
            let b: Vec<f64> = runs.iter().map(Run::events_per_s).collect();
            let (lo, hi) = range(&per_round);
            println!(
                "| {name} | {:.2}× | {:.2}× ({lo:.2}–{hi:.2}×) |",
                median(&a) / median(&b),
                median(&per_round),
            );
        }
    }
}

fn run(o: Options) -> Res<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    println!(
        "# sse_loopback: rounds {}, ready/build {} events, trickle {} events, client {} events, {EVENT_LEN} bytes each; load {}",
        o.rounds,
        o.ready,
        o.trickle,
        o.client,
        loadavg()
    );
    let mut parts = Vec::new();
    for &mode in &o.modes {
        let n = if mode == Mode::Trickle {
            o.trickle
        } else {
            o.ready
        };
        if n == 0 || o.servers.is_empty() {
            continue;
        }
        println!("\n## server, mode {} ({n} events per run)\n", mode.name());
        println!("| round | server | events/s | time | server CPU | reader CPU | load |");
        println!("|---|---|---|---|---|---|---|");
        let mut runs = vec![Vec::new(); o.servers.len()];
        for round in 1..=o.rounds {
            for (i, &kind) in o.servers.iter().enumerate() {
                let server = Server::spawn(kind, mode)?;
                let r = rt.block_on(read_events(server.0.addr, server.pid(), n))?;
                drop(server);
                println!(
                    "| {round} | {} | {:.0} | {:.3} s | {:.3} s | {:.3} s | {} |",
                    kind.name(),
                    r.events_per_s(),
                    r.elapsed.as_secs_f64(),
                    r.server_cpu.as_secs_f64(),
                    r.local_cpu.as_secs_f64(),
                    loadavg()
                );
                runs[i].push(r);
            }
        }
        parts.push((
            "reader",
            Part {
                title: format!(
                    "server, {} ({n} events of {EVENT_LEN} bytes per run)",
                    mode.name()
                ),
                names: o.servers.iter().map(|k| k.name()).collect(),
                runs,
                ratios: true,
            },
        ));
    }
    if o.client > 0 && !o.clients.is_empty() {
        let n = o.client;
        println!("\n## clients ({n} events per run, from `serve raw`)\n");
        println!("| round | client | events/s | time | client CPU | server CPU | load |");
        println!("|---|---|---|---|---|---|---|");
        let mut runs = vec![Vec::new(); o.clients.len()];
        for round in 1..=o.rounds {
            for (i, &kind) in o.clients.iter().enumerate() {
                let server = Server::spawn(ServerKind::Raw, Mode::Ready)?;
                let r = client_run(kind, server.0.addr, server.pid(), n)?;
                drop(server);
                println!(
                    "| {round} | {} | {:.0} | {:.3} s | {:.3} s | {:.3} s | {} |",
                    kind.name(),
                    r.events_per_s(),
                    r.elapsed.as_secs_f64(),
                    r.local_cpu.as_secs_f64(),
                    r.server_cpu.as_secs_f64(),
                    loadavg()
                );
                runs[i].push(r);
            }
        }
        parts.push((
            "client",
            Part {
                title: format!("clients ({n} events of {EVENT_LEN} bytes per run)"),
                names: o.clients.iter().map(|k| k.name()).collect(),
                runs,
                ratios: true,
            },
        ));
        // The parser alone on the same events, for where the client's time goes.
        let mut runs = vec![Vec::new(); PARSE_NAMES.len()];
        for _ in 0..o.rounds {
            for (i, r) in parse_reference(n)?.into_iter().enumerate() {
                runs[i].push(r);
            }
        }
        parts.push((
            "thread",
            Part {
                title: format!(
                    "reference: the client's parser alone, in memory ({n} events, same chunks)"
                ),
                names: PARSE_NAMES.to_vec(),
                runs,
                ratios: false,
            },
        ));
    }
    println!("\n## summary (load at the end {})", loadavg());
    for (local, part) in &parts {
        part.print(local);
    }
    Ok(())
}
