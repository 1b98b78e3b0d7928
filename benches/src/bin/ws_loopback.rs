//! End-to-end WebSocket benchmark over 127.0.0.1 (issue 13, "Speed and memory"): a
//! pushwire-tokio echo server against a tokio-tungstenite one and a fastwebsockets one (on a
//! hyper upgrade), all driven by the same client, in the same run. Results and the analysis
//! are in docs/performance.md ("pushwire-tokio end to end").
//!
//! Call order:
//!
//! - `ws_loopback run [options]` (the driver; the default command) spawns this same binary as
//!   `ws_loopback serve <kind>` once per measurement, reads the port the server prints, drives
//!   it from its own process, reads the server's RSS and CPU time from `/proc/<pid>/`, and
//!   kills it. Kinds: `pushwire`, `tungstenite`, `fastwebsockets` (the default set), and
//!   `pushwire-plain` (the plainest `recv`/`feed` loop, by `--kinds`).
//! - Every server runs on a tokio current-thread runtime (one core; the client gets the
//!   other), TCP_NODELAY on, deflate off, a task per connection that echoes text and binary
//!   messages; `serve <kind> fanout` relays every text message to every connection instead.
//! - The client is written once, on raw tokio sockets, and is the same for every server: it
//!   sends a fixed HTTP/1.1 upgrade, then writes pre-masked frames in large writes as fast as
//!   the socket takes them while, on the same thread, a reader parses the echoed frames and
//!   checks each payload against what was sent.
//! - `ws_loopback client <port> <count> <len>` runs one pipelined measurement against a
//!   server started by hand (`ws_loopback serve <kind>`, e.g. under valgrind).
//!
//! Options of `run`: `--rounds N` (5; servers alternate within each round), `--small N`
//! (16-byte text messages, 5,000,000), `--large N` (64 KiB binary messages, 20,000),
//! `--idle N` (idle connections, 10,000), `--fanout N` (receivers of the fan-out, 10,000),
//! `--fanout-messages N` (20), `--kinds a,b,c`; a count of 0 skips that part. Environment:
//! `PUSHWIRE_READ_BUFFER=<bytes>` sets the pushwire servers' `read_buffer_size`.
//!
//! Linux only in practice (`/proc`, `setrlimit`). No timing is asserted anywhere: the figures
//! are printed, as Markdown tables.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use pushwire_benches::proc_time::{cpu_time, loadavg, self_cpu_time, ChildServer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

/// The three servers under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pushwire,
    /// pushwire-tokio with the plainest loop (`recv`, `feed`, no explicit flush): not in the
    /// default set, select it with `--kinds`.
    PushwirePlain,
    Tungstenite,
    Fastwebsockets,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Pushwire, Kind::Tungstenite, Kind::Fastwebsockets];

    fn name(self) -> &'static str {
        match self {
            Kind::Pushwire => "pushwire",
            Kind::PushwirePlain => "pushwire-plain",
            Kind::Tungstenite => "tungstenite",
            Kind::Fastwebsockets => "fastwebsockets",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [Kind::PushwirePlain]
            .into_iter()
            .chain(Kind::ALL)
            .find(|k| k.name() == s)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => match args.get(1).and_then(|k| Kind::parse(k)) {
            Some(kind) => serve(kind, args.get(2).map(String::as_str) == Some("fanout")),
            None => Err(
                "usage: ws_loopback serve <pushwire|pushwire-plain|tungstenite|fastwebsockets> [fanout]".into(),
            ),
        },
        Some("run") => Options::parse(&args[1..]).and_then(run),
        Some("client") => client(&args[1..]),
        None => Options::parse(&[]).and_then(run),
        Some(other) => Err(format!("unknown command {other:?}: use `run` or `serve`").into()),
    };
    if let Err(e) = result {
        eprintln!("ws_loopback: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------
// OS helpers (Linux): open-file limit, CPU time, RSS.

/// Raises the soft open-file limit to the hard limit; returns the soft limit in force.
#[cfg(unix)]
fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through a pointer to a live, aligned local;
    // `setrlimit` only reads one. Neither has other preconditions.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    #[allow(clippy::unnecessary_cast)]
    let cur = lim.rlim_cur as u64;
    cur
}

/// Elsewhere the limit is left alone (0: unknown).
#[cfg(not(unix))]
fn raise_nofile() -> u64 {
    0
}

/// Resident set size of process `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

// ---------------------------------------------------------------------------------------
// Servers: `ws_loopback serve <kind> [fanout]`.

fn serve(kind: Kind, fanout: bool) -> Res<()> {
    raise_nofile();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("port {}", listener.local_addr()?.port());
        std::io::stdout().flush()?;
        let hub = fanout.then(|| tokio::sync::broadcast::channel::<Bytes>(64).0);
        loop {
            let (tcp, _) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            let hub = hub.clone();
            tokio::spawn(async move {
                let r = match (kind, hub) {
                    (Kind::Pushwire, None) => pushwire_echo(tcp).await,
                    (Kind::PushwirePlain, None) => pushwire_plain_echo(tcp).await,
                    (Kind::Tungstenite, None) => tungstenite_echo(tcp).await,
                    (Kind::Fastwebsockets, None) => fastwebsockets_serve(tcp).await,
                    (Kind::Pushwire | Kind::PushwirePlain, Some(hub)) => {
                        pushwire_fanout(tcp, hub).await
                    }
                    (Kind::Tungstenite, Some(hub)) => tungstenite_fanout(tcp, hub).await,
                    (Kind::Fastwebsockets, Some(_)) => {
                        Err("no fan-out server for fastwebsockets".into())
                    }
                };
                // A client that simply disconnects ends its handler with an I/O error: normal here.
                let _ = r;
            });
        }
    })
}

/// The pushwire servers' config: the defaults without deflate; `PUSHWIRE_READ_BUFFER=<bytes>`
/// in the environment sets `read_buffer_size` (an experiment; the figures use the default).
fn pushwire_config() -> pushwire_tokio::Config {
    let config = pushwire_tokio::Config::DEFAULT.with_deflate(None);
    match std::env::var("PUSHWIRE_READ_BUFFER")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) => config.with_read_buffer_size(n),
        None => config,
    }
}

/// The batched echo loop pushwire and tokio-tungstenite both run (one function, so the two
/// servers run the same loop): receive; queue each data message with `SinkExt::feed`; flush
/// only when no further message is immediately available. Pings are answered and Closes
/// replied to by the streams themselves.
async fn batched_echo<W, M, E>(mut ws: W, is_data: impl Fn(&M) -> bool) -> Res<()>
where
    W: futures_util::Stream<Item = Result<M, E>> + futures_util::Sink<M> + Unpin,
    E: Into<BoxError>,
    <W as futures_util::Sink<M>>::Error: Into<BoxError>,
{
    loop {
        let next = match ws.next().now_or_never() {
            Some(next) => next,
            None => {
                ws.flush().await.map_err(Into::into)?;
                ws.next().await
            }
        };
        let Some(msg) = next else {
            return Ok(());
        };
        let msg = msg.map_err(Into::into)?;
        if is_data(&msg) {
            ws.feed(msg).await.map_err(Into::into)?;
        }
    }
}

/// pushwire-tokio: `accept` on the TCP stream, then [`batched_echo`].
async fn pushwire_echo(tcp: TcpStream) -> Res<()> {
    use pushwire_tokio::{Message, WebSocketStream};
    let ws = WebSocketStream::accept(tcp, pushwire_config()).await?;
    batched_echo(ws, |m: &Message| {
        matches!(m, Message::Text(_) | Message::Binary(_))
    })
    .await
}

/// pushwire-tokio, the plainest echo loop: no explicit flush. `recv` writes what is queued
/// before it reads from the transport, so the echoes still go out in batches.
async fn pushwire_plain_echo(tcp: TcpStream) -> Res<()> {
    use pushwire_tokio::{Message, WebSocketStream};
    let mut ws = WebSocketStream::accept(tcp, pushwire_config()).await?;
    while let Some(msg) = ws.recv().await {
        if let m @ (Message::Text(_) | Message::Binary(_)) = msg? {
            ws.feed(m).await?;
        }
    }
    Ok(())
}

/// tokio-tungstenite: `accept_async` with the default `WebSocketConfig`, then
/// [`batched_echo`], as for pushwire.
async fn tungstenite_echo(tcp: TcpStream) -> Res<()> {
    use tokio_tungstenite::tungstenite::Message;
    let ws = tokio_tungstenite::accept_async(tcp).await?;
    batched_echo(ws, |m: &Message| {
        matches!(m, Message::Text(_) | Message::Binary(_))
    })
    .await
}

/// fastwebsockets: hyper's HTTP/1.1 server with upgrades, `upgrade::upgrade` in the service,
/// the upgraded connection in a `FragmentCollector` (auto-pong and auto-close on, the
/// defaults), one `write_frame` per echo: its `read_frame` is not cancel safe (a frame header
/// already taken from the buffer is lost if the future is dropped), so the "flush when
/// nothing more is ready" batching cannot be written with it.
async fn fastwebsockets_serve(tcp: TcpStream) -> Res<()> {
    use hyper::body::Incoming;
    use hyper::service::service_fn;
    let io = hyper_util::rt::TokioIo::new(tcp);
    let service = service_fn(|mut req: hyper::Request<Incoming>| async move {
        let (response, fut) = fastwebsockets::upgrade::upgrade(&mut req)?;
        tokio::spawn(async move {
            let _ = fastwebsockets_echo(fut).await;
        });
        Ok::<_, fastwebsockets::WebSocketError>(response)
    });
    hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades()
        .await?;
    Ok(())
}

async fn fastwebsockets_echo(fut: fastwebsockets::upgrade::UpgradeFut) -> Res<()> {
    use fastwebsockets::{FragmentCollector, Frame, OpCode};
    let mut ws = FragmentCollector::new(fut.await?);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text | OpCode::Binary => {
                ws.write_frame(Frame::new(true, frame.opcode, None, frame.payload))
                    .await?;
            }
            _ => {}
        }
    }
}

/// Fan-out server, pushwire-tokio: every text message received from any connection is sent
/// to every connection (a broadcast channel; `recv` is cancel safe, so it sits in `select!`).
async fn pushwire_fanout(tcp: TcpStream, hub: tokio::sync::broadcast::Sender<Bytes>) -> Res<()> {
    use pushwire_tokio::{Message, Utf8Bytes, WebSocketStream};
    let mut ws = WebSocketStream::accept(tcp, pushwire_config()).await?;
    let mut rx = hub.subscribe();
    loop {
        tokio::select! {
            msg = ws.recv() => match msg {
                None => return Ok(()),
                Some(Ok(Message::Text(t))) => {
                    let _ = hub.send(t.into_bytes());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            },
            b = rx.recv() => match b {
                Ok(b) => ws.send(Message::Text(Utf8Bytes::from_bytes(b)?)).await?,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            },
        }
    }
}

/// Fan-out server, tokio-tungstenite: as [`pushwire_fanout`].
async fn tungstenite_fanout(tcp: TcpStream, hub: tokio::sync::broadcast::Sender<Bytes>) -> Res<()> {
    use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
    let mut ws = tokio_tungstenite::accept_async(tcp).await?;
    let mut rx = hub.subscribe();
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                None => return Ok(()),
                Some(Ok(Message::Text(t))) => {
                    let _ = hub.send(Bytes::from(t));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            },
            b = rx.recv() => match b {
                Ok(b) => ws.send(Message::Text(Utf8Bytes::try_from(b)?)).await?,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// The client: raw tokio sockets, a fixed upgrade request, pre-masked frames.

const REQUEST: &[u8] = b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Connects and upgrades; returns the stream and any bytes read after the 101's head.
async fn connect(addr: SocketAddr) -> Res<(TcpStream, Vec<u8>)> {
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    tcp.write_all(REQUEST).await?;
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 1024];
    loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err("connection closed during the handshake".into());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            if !head.starts_with(b"HTTP/1.1 101") {
                return Err(format!("not a 101: {:?}", String::from_utf8_lossy(&head)).into());
            }
            return Ok((tcp, head.split_off(end + 4)));
        }
        if head.len() > 8192 {
            return Err("response head over 8 KiB".into());
        }
    }
}

/// `k` distinct payloads of `len` bytes (ASCII for text) and the same as masked client
/// frames, concatenated. Keys come from a fixed xorshift (a benchmark client: RFC 6455's
/// unpredictability is not the point here).
struct Frames {
    payloads: Vec<Vec<u8>>,
    wire: Vec<u8>,
    frame_len: usize,
}

fn build_frames(k: usize, len: usize, opcode: u8) -> Frames {
    let mut seed: u32 = 0x9e37_79b9;
    let mut payloads = Vec::with_capacity(k);
    let mut wire = Vec::new();
    let mut frame_len = 0;
    for j in 0..k {
        let payload: Vec<u8> = (0..len)
            .map(|i| b'a' + ((i * 7 + j * 13) % 26) as u8)
            .collect();
        let start = wire.len();
        wire.push(0x80 | opcode);
        if len < 126 {
            wire.push(0x80 | len as u8);
        } else if len < 65536 {
            wire.push(0x80 | 126);
            wire.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            wire.push(0x80 | 127);
            wire.extend_from_slice(&(len as u64).to_be_bytes());
        }
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let key = seed.to_be_bytes();
        wire.extend_from_slice(&key);
        wire.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        frame_len = wire.len() - start;
        payloads.push(payload);
    }
    Frames {
        payloads,
        wire,
        frame_len,
    }
}

/// One measured pipelined run on one connection.
#[derive(Debug, Clone, Copy, Default)]
struct Throughput {
    messages: u64,
    bytes: u64,
    elapsed: Duration,
    client_cpu: Duration,
    server_cpu: Duration,
}

impl Throughput {
    fn msgs_per_s(&self) -> f64 {
        if self.messages == 0 {
            return 0.0;
        }
        self.messages as f64 / self.elapsed.as_secs_f64()
    }
    fn mb_per_s(&self) -> f64 {
        if self.messages == 0 {
            return 0.0;
        }
        self.bytes as f64 / self.elapsed.as_secs_f64() / 1e6
    }
    /// Server CPU time per message.
    fn server_cpu_per_msg(&self) -> f64 {
        self.server_cpu.as_secs_f64() / self.messages.max(1) as f64
    }
}

/// Sends `count` messages of `len` bytes pipelined (as fast as the socket takes them) and
/// counts the echoes, checking each payload (whole at 16 bytes; the first and last 16 bytes of
/// larger ones).
async fn pipeline(addr: SocketAddr, server_pid: u32, count: usize, len: usize) -> Res<Throughput> {
    let opcode = if len <= 125 { 0x1 } else { 0x2 };
    let k = if len <= 125 { 4096 } else { 8 };
    let frames = build_frames(k, len, opcode);
    let (mut tcp, leftover) = connect(addr).await?;
    let (mut rd, mut wr) = tcp.split();
    let cpu0 = self_cpu_time();
    let scpu0 = cpu_time(server_pid);
    let start = Instant::now();
    let writer = async {
        let mut left = count;
        while left > 0 {
            let n = left.min(k);
            wr.write_all(&frames.wire[..n * frames.frame_len]).await?;
            left -= n;
        }
        Ok::<_, BoxError>(())
    };
    let reader = async {
        let cap = (256 << 10).max(4 * (len + 14));
        let mut buf = vec![0u8; cap];
        buf[..leftover.len()].copy_from_slice(&leftover);
        let (mut start, mut end) = (0usize, leftover.len());
        let (mut got, mut bytes) = (0usize, 0u64);
        while got < count {
            loop {
                let avail = &buf[start..end];
                if avail.len() < 2 {
                    break;
                }
                if avail[1] & 0x80 != 0 {
                    return Err::<_, BoxError>("the server sent a masked frame".into());
                }
                let (hlen, plen) = match avail[1] & 0x7f {
                    126 if avail.len() >= 4 => {
                        (4, u16::from_be_bytes([avail[2], avail[3]]) as usize)
                    }
                    127 if avail.len() >= 10 => {
                        let mut l = [0u8; 8];
                        l.copy_from_slice(&avail[2..10]);
                        (10, u64::from_be_bytes(l) as usize)
                    }
                    126 | 127 => break,
                    n => (2, n as usize),
                };
                if avail.len() < hlen + plen {
                    break;
                }
                if avail[0] != 0x80 | opcode || plen != len {
                    return Err(format!(
                        "unexpected frame {:#04x} of {plen} bytes after {got} echoes",
                        avail[0]
                    )
                    .into());
                }
                let payload = &avail[hlen..hlen + plen];
                let want = &frames.payloads[got % k];
                let edge = len.min(16);
                if payload[..edge] != want[..edge] || payload[len - edge..] != want[len - edge..] {
                    return Err(format!("echo {got} differs from what was sent").into());
                }
                got += 1;
                bytes += plen as u64;
                start += hlen + plen;
            }
            if got == count {
                break;
            }
            if start == end {
                start = 0;
                end = 0;
            } else if cap - end < len + 14 {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            }
            let n = rd.read(&mut buf[end..]).await?;
            if n == 0 && got < count {
                return Err(format!("server closed after {got} of {count} echoes").into());
            }
            end += n;
        }
        Ok((got as u64, bytes))
    };
    let (w, r) = tokio::join!(writer, reader);
    let elapsed = start.elapsed();
    let client_cpu = self_cpu_time() - cpu0;
    let server_cpu = cpu_time(server_pid).saturating_sub(scpu0);
    w?;
    let (messages, bytes) = r?;
    // A masked Close (1000); the server's reply is not waited for.
    let _ = tcp.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]).await;
    Ok(Throughput {
        messages,
        bytes,
        elapsed,
        client_cpu,
        server_cpu,
    })
}

/// Opens `n` connections, each upgraded and with one 16-byte echo done, in batches of
/// `batch` handshakes in flight. Returns the open streams.
async fn open_idle(addr: SocketAddr, n: usize, batch: usize) -> Res<Vec<TcpStream>> {
    let frame = build_frames(1, 16, 0x1);
    let mut conns = Vec::with_capacity(n);
    while conns.len() < n {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch.min(n - conns.len()) {
            let wire = frame.wire.clone();
            set.spawn(async move {
                let (mut tcp, mut got) = connect(addr).await?;
                tcp.write_all(&wire).await?;
                let mut buf = [0u8; 64];
                while got.len() < 18 {
                    let r = tcp.read(&mut buf).await?;
                    if r == 0 {
                        return Err::<_, BoxError>("closed before the echo".into());
                    }
                    got.extend_from_slice(&buf[..r]);
                }
                if got.len() != 18 || got[0] != 0x81 || got[1] != 16 {
                    return Err("unexpected echo".into());
                }
                Ok(tcp)
            });
        }
        while let Some(r) = set.join_next().await {
            conns.push(r??);
        }
    }
    Ok(conns)
}

/// `ws_loopback client <port> <count> <len>`: one pipelined run against a server started
/// by hand (e.g. under `valgrind --tool=callgrind`), printed as one line.
fn client(args: &[String]) -> Res<()> {
    let usage = "usage: ws_loopback client <port> <count> <len> [server-pid]";
    let num = |i: usize| -> Res<usize> { Ok(args.get(i).ok_or(usage)?.replace('_', "").parse()?) };
    let port = u16::try_from(num(0)?)?;
    let (count, len) = (num(1)?, num(2)?);
    let pid = num(3).map_or(0, |p| p as u32);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let t = rt.block_on(pipeline(addr, pid, count, len))?;
    println!(
        "{count} x {len} B: {:.0} msgs/s, {:.0} MB/s, {:.3} s, client CPU {:.3} s, server CPU {:.3} s",
        t.msgs_per_s(),
        t.mb_per_s(),
        t.elapsed.as_secs_f64(),
        t.client_cpu.as_secs_f64(),
        t.server_cpu.as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The driver.

struct Options {
    rounds: usize,
    small: usize,
    large: usize,
    idle: usize,
    fanout: usize,
    fanout_messages: usize,
    kinds: Vec<Kind>,
}

impl Options {
    fn parse(args: &[String]) -> Res<Options> {
        let mut o = Options {
            rounds: 5,
            small: 5_000_000,
            large: 20_000,
            idle: 10_000,
            fanout: 10_000,
            fanout_messages: 20,
            kinds: Kind::ALL.to_vec(),
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let num = || value.replace('_', "").parse::<usize>();
            match flag.as_str() {
                "--rounds" => o.rounds = num()?,
                "--small" => o.small = num()?,
                "--large" => o.large = num()?,
                "--idle" => o.idle = num()?,
                "--fanout" => o.fanout = num()?,
                "--fanout-messages" => o.fanout_messages = num()?,
                "--kinds" => {
                    o.kinds = value
                        .split(',')
                        .map(|k| Kind::parse(k).ok_or_else(|| format!("unknown kind {k:?}")))
                        .collect::<Result<_, _>>()?;
                }
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
    fn spawn(kind: Kind, fanout: bool) -> Res<Server> {
        let mut args = vec!["serve", kind.name()];
        if fanout {
            args.push("fanout");
        }
        Ok(Server(ChildServer::spawn(&args)?))
    }

    fn pid(&self) -> u32 {
        self.0.pid()
    }
}

fn run(o: Options) -> Res<()> {
    let nofile = raise_nofile();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    println!(
        "# ws_loopback: rounds {}, small {} x 16 B, large {} x 64 KiB, idle {}, fan-out {} x {}; open-file limit {nofile}; load {}",
        o.rounds, o.small, o.large, o.idle, o.fanout, o.fanout_messages, loadavg()
    );
    // results[round][kind] = (small, large)
    let mut results: Vec<Vec<(Kind, Throughput, Throughput)>> = Vec::new();
    if o.small > 0 || o.large > 0 {
        println!(
            "\n## throughput (one connection, pipelined; CPU = user+system time during the run)"
        );
        println!("| round | server | 16 B msgs/s | 16 B time | client CPU | server CPU | 64 KiB msgs/s | 64 KiB MB/s | time | client CPU | server CPU | load |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for round in 1..=o.rounds {
            let mut row = Vec::new();
            for &kind in &o.kinds {
                let server = Server::spawn(kind, false)?;
                let small = if o.small > 0 {
                    rt.block_on(pipeline(server.0.addr, server.pid(), o.small, 16))?
                } else {
                    Throughput::default()
                };
                let large = if o.large > 0 {
                    rt.block_on(pipeline(server.0.addr, server.pid(), o.large, 64 << 10))?
                } else {
                    Throughput::default()
                };
                drop(server);
                println!(
                    "| {round} | {} | {:.0} | {:.3} s | {:.3} s | {:.3} s | {:.0} | {:.0} | {:.3} s | {:.3} s | {:.3} s | {} |",
                    kind.name(),
                    small.msgs_per_s(),
                    small.elapsed.as_secs_f64(),
                    small.client_cpu.as_secs_f64(),
                    small.server_cpu.as_secs_f64(),
                    large.msgs_per_s(),
                    large.mb_per_s(),
                    large.elapsed.as_secs_f64(),
                    large.client_cpu.as_secs_f64(),
                    large.server_cpu.as_secs_f64(),
                    loadavg(),
                );
                row.push((kind, small, large));
            }
            results.push(row);
        }
        print_ratios(&results);
    }
    if o.idle > 0 {
        println!(
            "\n## idle memory ({} connections, each upgraded and one 16-byte echo done)",
            o.idle
        );
        println!("| server | RSS before | RSS with connections | per connection | load |");
        println!("|---|---|---|---|---|");
        for &kind in &o.kinds {
            let server = Server::spawn(kind, false)?;
            std::thread::sleep(Duration::from_millis(200));
            let before = rss(server.pid());
            let conns = rt.block_on(open_idle(server.0.addr, o.idle, 250))?;
            std::thread::sleep(Duration::from_millis(1000));
            let after = rss(server.pid());
            drop(conns);
            drop(server);
            println!(
                "| {} | {:.1} MiB | {:.1} MiB | {:.0} B ({:.2} KiB) | {} |",
                kind.name(),
                before as f64 / 1048576.0,
                after as f64 / 1048576.0,
                (after.saturating_sub(before)) as f64 / o.idle as f64,
                (after.saturating_sub(before)) as f64 / o.idle as f64 / 1024.0,
                loadavg(),
            );
        }
    }
    if o.fanout > 0 && o.fanout_messages > 0 {
        println!(
            "\n## fan-out (one message from one more connection to {} receivers; latency = send → the last receiver has read it)",
            o.fanout
        );
        println!("| server | fan-out p50 | p99 (= max of {}) | min | per receiver p50 | per receiver p99 | server CPU per message | load |", o.fanout_messages);
        println!("|---|---|---|---|---|---|---|---|");
        for &kind in o.kinds.iter().filter(|k| **k != Kind::Fastwebsockets) {
            let server = Server::spawn(kind, true)?;
            let r = rt.block_on(fanout(
                server.0.addr,
                server.pid(),
                o.fanout,
                o.fanout_messages,
            ))?;
            drop(server);
            println!(
                "| {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
                kind.name(),
                ms(r.last[r.last.len() / 2]),
                ms(r.last[(r.last.len() * 99).div_ceil(100) - 1]),
                ms(r.last[0]),
                ms(r.each[r.each.len() / 2]),
                ms(r.each[(r.each.len() * 99).div_ceil(100) - 1]),
                ms(r.server_cpu) / o.fanout_messages as f64,
                loadavg(),
            );
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn print_ratios(results: &[Vec<(Kind, Throughput, Throughput)>]) {
    println!(
        "\n## pushwire / peer, per round: messages/s, and server CPU per message (peer's / ours)"
    );
    println!("| peer | 16 B msgs/s, each round | range | 16 B server CPU | 64 KiB msgs/s, each round | range | 64 KiB server CPU |");
    println!("|---|---|---|---|---|---|---|");
    for peer in [Kind::Tungstenite, Kind::Fastwebsockets] {
        let (mut small, mut small_cpu, mut large, mut large_cpu) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for row in results {
            let ours = row.iter().find(|r| r.0 == Kind::Pushwire);
            let theirs = row.iter().find(|r| r.0 == peer);
            if let (Some(a), Some(b)) = (ours, theirs) {
                small.push(a.1.msgs_per_s() / b.1.msgs_per_s());
                small_cpu.push(b.1.server_cpu_per_msg() / a.1.server_cpu_per_msg());
                large.push(a.2.msgs_per_s() / b.2.msgs_per_s());
                large_cpu.push(b.2.server_cpu_per_msg() / a.2.server_cpu_per_msg());
            }
        }
        if small.is_empty() {
            continue;
        }
        // A part that was skipped (`--small 0`, `--large 0`) has no ratio: "—".
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| {
                    if x.is_finite() {
                        format!("{x:.2}×")
                    } else {
                        "—".to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let range = |v: &[f64]| {
            let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            if v.is_empty() {
                return "—".to_string();
            }
            v.sort_by(f64::total_cmp);
            let (lo, hi) = (v[0], v[v.len() - 1]);
            let mid = if v.len() % 2 == 1 {
                v[v.len() / 2]
            } else {
                (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
            };
            format!("{lo:.2}–{hi:.2}× (median {mid:.2}×)")
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            peer.name(),
            list(&small),
            range(&small),
            list(&small_cpu),
            list(&large),
            range(&large),
            list(&large_cpu),
        );
    }
}

/// Fan-out latencies: per message, the time until the last receiver had it; per delivery,
/// the time until that receiver had it. Sorted.
struct Fanout {
    last: Vec<Duration>,
    each: Vec<Duration>,
    server_cpu: Duration,
}

/// Opens `n` receivers and one sender; sends `messages` 16-byte text messages one at a time
/// (after one warm-up message, not counted), each when the previous one reached everybody.
async fn fanout(addr: SocketAddr, server_pid: u32, n: usize, messages: usize) -> Res<Fanout> {
    let conns = open_idle_plain(addr, n, 250).await?;
    let (mut sender, _) = connect(addr).await?;
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let mut tasks = tokio::task::JoinSet::new();
    for mut tcp in conns {
        let done = done_tx.clone();
        tasks.spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut pending = Vec::new();
            let mut seen = 0usize;
            loop {
                let r = tcp.read(&mut buf).await?;
                if r == 0 {
                    return Ok::<_, BoxError>(());
                }
                pending.extend_from_slice(&buf[..r]);
                // Each message is an 18-byte unmasked text frame.
                while pending.len() >= 18 {
                    if pending[0] != 0x81 || pending[1] != 16 {
                        return Err("unexpected fan-out frame".into());
                    }
                    pending.drain(..18);
                    let _ = done.send((seen, Instant::now()));
                    seen += 1;
                }
            }
        });
    }
    drop(done_tx);
    let frames = build_frames(1, 16, 0x1);
    let mut last = Vec::new();
    let mut each = Vec::new();
    let mut cpu = Duration::ZERO;
    for m in 0..=messages {
        let scpu0 = cpu_time(server_pid);
        let sent = Instant::now();
        sender.write_all(&frames.wire).await?;
        let mut got = 0;
        let mut latest = Duration::ZERO;
        while got < n {
            let (seq, at) = tokio::time::timeout(Duration::from_secs(30), done_rx.recv())
                .await?
                .ok_or("receivers ended")?;
            if seq != m {
                return Err(format!("receiver got message {seq} while {m} was expected").into());
            }
            got += 1;
            let d = at - sent;
            latest = latest.max(d);
            if m > 0 {
                each.push(d);
            }
        }
        if m > 0 {
            last.push(latest);
            cpu += cpu_time(server_pid).saturating_sub(scpu0);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tasks.abort_all();
    last.sort();
    each.sort();
    Ok(Fanout {
        last,
        each,
        server_cpu: cpu,
    })
}

/// Opens `n` upgraded connections (no echo), `batch` handshakes in flight.
async fn open_idle_plain(addr: SocketAddr, n: usize, batch: usize) -> Res<Vec<TcpStream>> {
    let mut conns = Vec::with_capacity(n);
    while conns.len() < n {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch.min(n - conns.len()) {
            set.spawn(async move {
                let (tcp, rest) = connect(addr).await?;
                if !rest.is_empty() {
                    return Err::<_, BoxError>("bytes after the 101".into());
                }
                Ok(tcp)
            });
        }
        while let Some(r) = set.join_next().await {
            conns.push(r??);
        }
    }
    Ok(conns)
}
