//! `pushwire loadtest` (not in the usage text): the bounded loopback load check of
//! `pushwire serve` (run by `cargo xtask interop` as the check `load`).
//!
//! It opens a fixed number of idle WebSocket connections to `/ws/chat` and of event streams
//! from `/sse/chat` (the chat relayed as SSE), reads the server's resident memory before and
//! after, then sends a fixed number of chat messages, one at a time, from one more WebSocket
//! connection and measures for each how long it takes until every receiver has it. Every
//! receiver must get every message exactly once and in order; any lost, duplicated or
//! reordered message, and any connection that fails, makes it exit with status 1. Timing is
//! reported, never judged.
//!
//! Everything is bounded: the counts are fixed, each phase has a deadline and the whole run
//! has one (`--timeout`). It raises its own open-file limit and scales the counts down,
//! saying so, when that limit or the local port range is too small.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use pushwire_ws::handshake::{ClientHandshake, ClientRequest, HandshakeLimits};
use pushwire_ws::{Config, Connection, Event, StdRandom};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::time::{timeout, timeout_at, Instant};

/// Options of `pushwire loadtest`.
#[derive(Debug)]
pub(crate) struct Options {
    addr: SocketAddr,
    server_pid: Option<u32>,
    ws: usize,
    sse: usize,
    messages: usize,
    timeout: Duration,
}

impl Options {
    /// Parses the arguments after `loadtest`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = Options {
            addr: "127.0.0.1:8080".parse().expect("valid default address"),
            server_pid: None,
            ws: 10_000,
            sse: 1_000,
            messages: 20,
            timeout: Duration::from_secs(120),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || it.next().ok_or(format!("{a} takes a value"));
            let number = |v: &String| -> Result<usize, String> {
                v.parse().map_err(|_| format!("bad {a} `{v}`"))
            };
            match a.as_str() {
                "--addr" => {
                    let v = value()?;
                    o.addr = v.parse().map_err(|e| format!("bad --addr `{v}`: {e}"))?;
                }
                "--server-pid" => o.server_pid = Some(number(value()?)? as u32),
                "--ws" => o.ws = number(value()?)?,
                "--sse" => o.sse = number(value()?)?,
                "--messages" => o.messages = number(value()?)?.max(1),
                "--timeout" => o.timeout = Duration::from_secs(number(value()?)? as u64),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        if !o.addr.ip().is_loopback() {
            return Err("loadtest talks to a loopback address only".into());
        }
        Ok(o)
    }
}

/// Handshakes in flight at once (the server's accept backlog is 1,024).
pub(crate) const CONNECTING: usize = 256;
/// Longest wait for one message to reach every receiver.
const PER_MESSAGE: Duration = Duration::from_secs(15);
/// Pause between messages, so that each fan-out is measured on its own.
const PAUSE: Duration = Duration::from_millis(100);
/// Descriptors kept for stdio, the runtime and the sender.
pub(crate) const SPARE_FDS: usize = 64;

/// What the receivers and the driver share (also used by `--sio-broadcast`, see
/// `loadtest_sio.rs`).
pub(crate) struct Shared {
    /// How many receivers every message must reach (lowered by [`Shared::set_receivers`]
    /// when some failed to connect).
    receivers: AtomicUsize,
    /// When message `k` went out (0 is the warm-up).
    pub(crate) sent_at: Vec<OnceLock<Instant>>,
    /// Per message: how long each receiver took to get it.
    pub(crate) arrivals: Vec<Mutex<Vec<Duration>>>,
    /// Per message: how many receivers got it.
    pub(crate) counts: Vec<AtomicUsize>,
    /// Signalled when a message has reached every receiver.
    pub(crate) all_in: Notify,
    /// Messages that arrived out of order or twice.
    pub(crate) misordered: AtomicUsize,
    /// Receivers that failed after connecting (closed, protocol error, …).
    pub(crate) failures: Mutex<Vec<String>>,
}

impl Shared {
    /// The state for `receivers` receivers of messages `0..=messages` (0 is the warm-up).
    pub(crate) fn new(receivers: usize, messages: usize) -> Shared {
        Shared {
            receivers: AtomicUsize::new(receivers),
            sent_at: (0..=messages).map(|_| OnceLock::new()).collect(),
            arrivals: (0..=messages).map(|_| Mutex::new(Vec::new())).collect(),
            counts: (0..=messages).map(|_| AtomicUsize::new(0)).collect(),
            all_in: Notify::new(),
            misordered: AtomicUsize::new(0),
            failures: Mutex::new(Vec::new()),
        }
    }

    /// A receiver got `text`; chat lines that are not ours are ignored.
    fn arrived(&self, text: &str, next: &mut usize) {
        if let Some(k) = text
            .strip_prefix("load ")
            .and_then(|t| t.split(' ').next())
            .and_then(|k| k.parse::<usize>().ok())
        {
            self.record(k, next);
        }
    }

    /// A receiver got message `k` (ignored when out of range); `next` is the message that
    /// receiver expects next, for the order check.
    pub(crate) fn record(&self, k: usize, next: &mut usize) {
        if k >= self.counts.len() {
            return;
        }
        if let Some(t0) = self.sent_at[k].get() {
            let d = t0.elapsed();
            self.arrivals[k]
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(d);
        }
        if k != *next {
            self.misordered.fetch_add(1, Ordering::Relaxed);
        }
        *next = k + 1;
        if self.counts[k].fetch_add(1, Ordering::AcqRel) + 1 == self.receivers() {
            self.all_in.notify_one();
        }
    }

    /// How many receivers every message must reach.
    pub(crate) fn receivers(&self) -> usize {
        self.receivers.load(Ordering::Acquire)
    }

    /// Sets how many receivers every message must reach (before the first message).
    pub(crate) fn set_receivers(&self, n: usize) {
        self.receivers.store(n, Ordering::Release);
    }

    /// Records a receiver's failure.
    pub(crate) fn fail(&self, what: String) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }
}

/// Runs the load check; `Err` says why it failed.
pub(crate) fn run(opts: Options) -> Result<(), String> {
    let limit = opts.timeout;
    run_within(limit, limit, check(opts))
}

/// Runs `check` on a current-thread runtime (every mode of `loadtest` is one process with
/// one thread), failing it after `deadline`; `limit` is the `--timeout` it reports.
pub(crate) fn run_within(
    limit: Duration,
    deadline: Duration,
    check: impl std::future::Future<Output = Result<(), String>>,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        match timeout(deadline, check).await {
            Ok(r) => r,
            Err(_) => Err(format!("did not finish within {} s", limit.as_secs())),
        }
    })
}

/// The resident set of process `pid` in KiB (`VmRSS` of `/proc/<pid>/status`).
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The local port range (`net.ipv4.ip_local_port_range`), as a count of ports.
pub(crate) fn local_ports() -> Option<usize> {
    let r = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = r.split_whitespace().map(|n| n.parse::<usize>().ok());
    let (lo, hi) = (it.next()??, it.next()??);
    Some(hi.saturating_sub(lo) + 1)
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`), or `?`.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The `p`-th percentile (nearest rank) of sorted `v`.
pub(crate) fn percentile(v: &[Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// `d` in milliseconds, one decimal.
pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

async fn check(mut o: Options) -> Result<(), String> {
    // Room for the sockets: the open-file limit and the local port range.
    let wanted = o.ws + o.sse;
    let mut room = wanted;
    match crate::os::raise_nofile() {
        Some(nofile) => {
            println!("load: open-file limit {nofile}");
            room = room.min((nofile as usize).saturating_sub(SPARE_FDS));
        }
        None => println!("load: open-file limit unknown"),
    }
    if let Some(ports) = local_ports() {
        println!("load: {ports} local ports (net.ipv4.ip_local_port_range)");
        room = room.min(ports.saturating_sub(SPARE_FDS));
    }
    if room < wanted {
        let f = room as f64 / wanted as f64;
        o.ws = (o.ws as f64 * f) as usize;
        o.sse = (o.sse as f64 * f) as usize;
        println!(
            "load: SCALED DOWN to {} WebSocket + {} SSE receivers (limits allow {room} of {wanted})",
            o.ws, o.sse
        );
    }
    let receivers = o.ws + o.sse;
    if receivers == 0 {
        return Err("no room for any receiver".into());
    }
    println!(
        "load: machine: {} CPUs, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let rss_before = o.server_pid.and_then(rss_kib);

    let shared = Arc::new(Shared::new(receivers, o.messages));

    // Connect every receiver, CONNECTING at a time.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    for i in 0..receivers {
        let (gate, ready, shared, addr) = (gate.clone(), ready_tx.clone(), shared.clone(), o.addr);
        let sse = i >= o.ws;
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let r = if sse {
                timeout(Duration::from_secs(30), sse_connect(addr)).await
            } else {
                timeout(Duration::from_secs(30), ws_connect(addr, "/ws/chat"))
                    .await
                    .map(|r| r.map(Receiver::Ws))
            };
            drop(permit);
            match r {
                Ok(Ok(rx)) => {
                    let _ = ready.send(Ok(()));
                    rx.run(&shared).await;
                }
                Ok(Err(e)) => {
                    let _ = ready.send(Err(e.to_string()));
                }
                Err(_) => {
                    let _ = ready.send(Err("connect timed out".into()));
                }
            }
        });
    }
    drop(ready_tx);
    let (mut ok, mut failed, mut first_error) = (0usize, 0usize, None);
    while ok + failed < receivers {
        match ready_rx.recv().await {
            Some(Ok(())) => ok += 1,
            Some(Err(e)) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
            None => break,
        }
    }
    let connect = started.elapsed();
    println!(
        "load: {ok} of {receivers} receivers connected ({} WebSocket /ws/chat, {} SSE /sse/chat) in {:.2} s ({:.0} connections/s), {failed} failed",
        o.ws,
        o.sse,
        connect.as_secs_f64(),
        ok as f64 / connect.as_secs_f64()
    );
    if let Some(e) = first_error {
        return Err(format!("{failed} receivers failed to connect (first: {e})"));
    }

    // Memory, once the server has settled.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = o.server_pid.and_then(rss_kib);
    if let (Some(a), Some(b)) = (rss_before, rss_idle) {
        println!(
            "load: server RSS {:.1} MiB before, {:.1} MiB with {receivers} idle connections: {:.2} KiB per connection",
            a as f64 / 1024.0,
            b as f64 / 1024.0,
            b.saturating_sub(a) as f64 / receivers as f64
        );
    }

    // The sender: one more WebSocket connection, not counted among the receivers.
    let (send_tx, send_rx) = mpsc::channel::<usize>(1);
    let sender = ws_connect(o.addr, "/ws/chat")
        .await
        .map_err(|e| format!("sender: {e}"))?;
    let sender_shared = shared.clone();
    tokio::spawn(async move { sender.send_loop(send_rx, &sender_shared).await });

    let mut per_message = Vec::new();
    let mut server_cpu = Duration::ZERO;
    let mut own_cpu = Duration::ZERO;
    let me = std::process::id();
    for k in 0..=o.messages {
        tokio::time::sleep(PAUSE).await;
        // CPU time of the measured messages' fan-outs (the warm-up's is left out).
        let cpu_before = (
            o.server_pid.and_then(crate::os::cpu_time),
            crate::os::cpu_time(me),
        );
        send_tx
            .send(k)
            .await
            .map_err(|_| "the sender's connection ended".to_string())?;
        let deadline = Instant::now() + PER_MESSAGE;
        while shared.counts[k].load(Ordering::Acquire) < receivers {
            if timeout_at(deadline, shared.all_in.notified())
                .await
                .is_err()
            {
                break;
            }
        }
        let got = shared.counts[k].load(Ordering::Acquire);
        if got < receivers {
            return Err(format!(
                "message {k} reached {got} of {receivers} receivers within {} s",
                PER_MESSAGE.as_secs()
            ));
        }
        if k > 0 {
            let cpu_after = (
                o.server_pid.and_then(crate::os::cpu_time),
                crate::os::cpu_time(me),
            );
            if let (Some(a), Some(b)) = (cpu_before.0, cpu_after.0) {
                server_cpu += b.saturating_sub(a);
            }
            if let (Some(a), Some(b)) = (cpu_before.1, cpu_after.1) {
                own_cpu += b.saturating_sub(a);
            }
            let all = shared.arrivals[k]
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .copied()
                .max()
                .unwrap_or_default();
            per_message.push(all);
        }
    }
    // Late duplicates would show up here.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = o.server_pid.and_then(rss_kib);

    per_message.sort();
    let mut each: Vec<Duration> = shared.arrivals[1..]
        .iter()
        .flat_map(|a| a.lock().unwrap_or_else(|e| e.into_inner()).clone())
        .collect();
    each.sort();
    println!(
        "load: fan-out of one chat message to all {receivers} receivers, {} messages (after 1 warm-up): p50 {}, p99 {}, min {}, max {}",
        o.messages,
        ms(percentile(&per_message, 50.0)),
        ms(percentile(&per_message, 99.0)),
        ms(per_message.first().copied().unwrap_or_default()),
        ms(per_message.last().copied().unwrap_or_default()),
    );
    println!(
        "load: per receiver ({} deliveries): p50 {}, p99 {}",
        each.len(),
        ms(percentile(&each, 50.0)),
        ms(percentile(&each, 99.0)),
    );
    let deliveries = (receivers * o.messages) as f64;
    if o.server_pid.is_some() {
        println!(
            "load: CPU time during the fan-outs: server {} per message ({:.1} µs per delivery), load generator {} per message",
            ms(server_cpu / o.messages as u32),
            server_cpu.as_secs_f64() * 1e6 / deliveries,
            ms(own_cpu / o.messages as u32),
        );
    }
    if let Some(b) = rss_after {
        println!(
            "load: server RSS after the fan-out {:.1} MiB",
            b as f64 / 1024.0
        );
    }
    println!(
        "load: load average {}, total {:.1} s",
        load_average(),
        started.elapsed().as_secs_f64()
    );

    let extra: usize = shared
        .counts
        .iter()
        .map(|c| c.load(Ordering::Acquire).saturating_sub(receivers))
        .sum();
    let misordered = shared.misordered.load(Ordering::Relaxed);
    let failures = shared
        .failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if extra > 0 || misordered > 0 || !failures.is_empty() {
        return Err(format!(
            "{extra} duplicated, {misordered} out of order, {} receivers failed{}",
            failures.len(),
            failures
                .first()
                .map(|f| format!(" (first: {f})"))
                .unwrap_or_default()
        ));
    }
    println!(
        "load: every message reached every receiver exactly once, in order ({} deliveries)",
        receivers * (o.messages + 1)
    );
    Ok(())
}

/// A connected receiver.
enum Receiver {
    Ws(WsPeer),
    Sse(TcpStream, Box<pushwire_sse::Parser>),
}

impl Receiver {
    /// Reads until the connection ends (which, before the end of the run, is a failure).
    async fn run(self, shared: &Shared) {
        let mut next = 0;
        let why = match self {
            Receiver::Ws(mut p) => loop {
                match p.step().await {
                    Ok(texts) => texts.iter().for_each(|t| shared.arrived(t, &mut next)),
                    Err(e) => break format!("WebSocket receiver: {e}"),
                }
            },
            Receiver::Sse(mut stream, mut parser) => {
                let mut buf = vec![0u8; 4096];
                loop {
                    let n = match stream.read(&mut buf).await {
                        Ok(0) => break "SSE receiver: server ended the stream".to_string(),
                        Ok(n) => n,
                        Err(e) => break format!("SSE receiver: {e}"),
                    };
                    if let Err(e) = parser.feed(&buf[..n]) {
                        break format!("SSE receiver: {e}");
                    }
                    while let Ok(Some(ev)) = parser.poll_event() {
                        shared.arrived(ev.data(), &mut next);
                    }
                }
            }
        };
        shared.fail(why);
    }
}

/// Connects with `SO_LINGER` 0: closing (at the end of the run) resets the connection, so
/// the thousands of client ports are not left in TIME_WAIT for the next run.
pub(crate) async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_zero_linger()?;
    Ok(stream)
}

/// Opens `GET /sse/chat` and reads the response head.
async fn sse_connect(addr: SocketAddr) -> io::Result<Receiver> {
    let mut stream = connect(addr).await?;
    stream
        .write_all(
            format!("GET /sse/chat HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let end = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(p) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if head.len() > 16 * 1024 {
            return Err(io::Error::other("response head too large"));
        }
    };
    if !head.starts_with(b"HTTP/1.1 200") {
        let line = String::from_utf8_lossy(&head[..head.len().min(40)]).into_owned();
        return Err(io::Error::other(format!("/sse/chat answered {line:?}")));
    }
    let mut parser = Box::new(pushwire_sse::Parser::new());
    parser
        .feed(&head[end..])
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok(Receiver::Sse(stream, parser))
}

/// A WebSocket client connection (pushwire-ws, client role).
pub(crate) struct WsPeer {
    stream: TcpStream,
    /// The connection's state; queue messages with `send_text`, then [`WsPeer::step`] or
    /// [`WsPeer::flush`] writes them.
    pub(crate) conn: Connection,
}

/// Opens a WebSocket to `path` (with its query).
pub(crate) async fn ws_connect(addr: SocketAddr, path: &str) -> io::Result<WsPeer> {
    let mut stream = connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut keys = StdRandom::new();
    let req = ClientRequest::new(&addr.to_string(), path);
    let mut hs = ClientHandshake::new(&req, &mut keys, HandshakeLimits::DEFAULT)
        .map_err(|e| io::Error::other(e.to_string()))?;
    stream.write_all(&hs.request()).await?;
    let mut buf = [0u8; 1024];
    let accepted = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        match hs.feed(&buf[..n]) {
            Ok(None) => continue,
            Ok(Some(a)) => break a,
            Err(e) => return Err(io::Error::other(format!("handshake: {e}"))),
        }
    };
    let conn = hs
        .into_connection(&accepted, Config::DEFAULT, Box::new(keys), None)
        .map_err(|e| io::Error::other(format!("handshake: {e}")))?;
    Ok(WsPeer { stream, conn })
}

impl WsPeer {
    /// Writes what the connection queued (pongs, messages).
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        while let Some(chunk) = self.conn.poll_transmit() {
            self.stream.write_all(&chunk).await?;
        }
        Ok(())
    }

    /// The text messages decoded from what was fed (other events are handled inside).
    pub(crate) fn texts(&mut self) -> io::Result<Vec<String>> {
        let mut texts = Vec::new();
        loop {
            match self.conn.poll_event() {
                Ok(Some(Event::Text(t))) => texts.push(t.as_str().to_owned()),
                Ok(Some(_)) => {}
                Ok(None) => return Ok(texts),
                Err(e) => return Err(io::Error::other(e.to_string())),
            }
        }
    }

    /// Reads once and feeds the connection. Cancel-safe: a read that is cancelled has
    /// taken nothing from the socket.
    pub(crate) async fn read_some(&mut self, buf: &mut [u8]) -> io::Result<()> {
        let n = self.stream.read(buf).await?;
        if n == 0 {
            self.conn.feed_eof();
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.conn.feed(&buf[..n]).map_err(io::Error::other)
    }

    /// Handles what was fed, then waits for more; returns the text messages decoded.
    pub(crate) async fn step(&mut self) -> io::Result<Vec<String>> {
        let texts = self.texts()?;
        self.flush().await?;
        if self.conn.should_close_transport() {
            return Err(io::Error::other("closed by the server"));
        }
        if !texts.is_empty() {
            return Ok(texts);
        }
        let mut buf = [0u8; 2048];
        self.read_some(&mut buf).await?;
        Ok(texts)
    }

    /// Sends `load <k>` for each `k` received, recording when it went out, and reads (and
    /// drops) what the server sends back, until `cmds` closes.
    async fn send_loop(mut self, mut cmds: mpsc::Receiver<usize>, shared: &Shared) {
        loop {
            let mut buf = [0u8; 2048];
            tokio::select! {
                k = cmds.recv() => {
                    let Some(k) = k else { return };
                    let text = format!("load {k} {}", "x".repeat(32));
                    if self.conn.send_text(text.as_str()).is_err() {
                        shared.fail("sender: send refused".into());
                        return;
                    }
                    let _ = shared.sent_at[k].set(Instant::now());
                }
                r = self.stream.read(&mut buf) => match r {
                    Ok(n) if n > 0 => {
                        if self.conn.feed(&buf[..n]).is_err() {
                            shared.fail("sender: input refused".into());
                            return;
                        }
                        while let Ok(Some(_)) = self.conn.poll_event() {}
                    }
                    _ => {
                        shared.fail("sender: connection ended".into());
                        return;
                    }
                },
            }
            if let Err(e) = self.flush().await {
                shared.fail(format!("sender: {e}"));
                return;
            }
        }
    }
}
