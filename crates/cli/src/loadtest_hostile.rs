//! `pushwire loadtest --hostile N` (not in the usage text): hostile neighbours on loopback
//! (issue 18; run by `cargo xtask interop` as the check `hostile`).
//!
//! It connects `--healthy` well-behaved WebSocket chatters to `/ws/chat` and runs three
//! phases of `--seconds` each, in which every chatter sends a short line every
//! `--interval-ms` and reads everything:
//!
//! 1. **quiet**: nothing else happens;
//! 2. **attack**: `N` hostile clients (below) run at once, from a second thread, each
//!    repeating its attack until the phase ends;
//! 3. **recovery**: the hostile clients are gone.
//!
//! For every phase it reports the chat latency (line sent → line read, over every receiver)
//! p50/p99/max, and for the whole run the server's resident memory (`/proc/<pid>/status`,
//! every 250 ms): before, peak in the attack, and at the end. Every chatter must get every
//! line of every phase exactly once and in order, and no chatter may be disconnected.
//!
//! The hostile clients, `N` spread evenly over nine kinds, and what the server must do:
//!
//! | kind | what it does | the right answer |
//! |---|---|---|
//! | `silent` | a connection that sends nothing | closed within the header timeout (10 s) |
//! | `slowloris` | a request head, one byte per second | connection closed (hyper's header timeout, 10 s), no response or `408` |
//! | `endless-headers` | a head of 150 header lines, or one header line that never ends | `431`, then closed |
//! | `oversized-length` | a WebSocket frame declaring 2^62 bytes | Close `1009`, then closed |
//! | `junk` | random bytes with RSV1–3 set after the handshake | Close `1002`, then closed |
//! | `deflate-bomb` | permessage-deflate agreed, a 1 KiB message inflating to 1 MiB | Close `1009`, then closed |
//! | `eio-limits` | Engine.io v4 polling: a POST of exactly `maxPayload` bytes, one byte more, one declaring 10^12 bytes, then a poll | `200 ok`, `413`, `413`, then the close packet `1` (or `400`) |
//! | `sse-non-reader` | `GET /sse/chat` with a 4 KiB receive buffer, then not reading for 40 s (and until the phase ends) | a 200 event stream; then dropped by the server once its queues overflow (EOF once read), or kept with every attack-phase line up to each chatter's last, without a gap |
//! | `ws-non-reader` | a `/ws/chat` WebSocket with a 4 KiB receive buffer, then as `sse-non-reader` | the same: dropped (reset or EOF, with or without a Close) or kept intact, at most 4 MiB waiting |
//!
//! Any wrong answer, a chatter that loses, duplicates or misorders a line or is
//! disconnected, a server whose RSS passes 1 GiB in the attack (a bound for runaway buffering,
//! far above the peaks seen), or a phase that misses its deadline makes it fail (exit status
//! 1). Timing is reported, never judged. Everything is bounded: counts are fixed, every
//! wait has a deadline, and the whole run has one (`--timeout`).

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::time::{sleep, timeout, Instant};

use crate::loadtest::{ms, percentile, rss_kib, ws_connect, WsPeer};

/// Options of `pushwire loadtest --hostile N`.
#[derive(Debug)]
pub(crate) struct Options {
    addr: SocketAddr,
    server_pid: Option<u32>,
    hostile: usize,
    healthy: usize,
    seconds: u64,
    interval: Duration,
    timeout: Duration,
}

impl Options {
    /// Parses the arguments after `loadtest`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = Options {
            addr: "127.0.0.1:8080".parse().expect("valid default address"),
            server_pid: None,
            hostile: 1_000,
            healthy: 100,
            seconds: 15,
            interval: Duration::from_millis(500),
            timeout: Duration::from_secs(240),
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
                "--hostile" => o.hostile = number(value()?)?,
                "--healthy" => o.healthy = number(value()?)?.max(1),
                "--seconds" => o.seconds = number(value()?)?.max(1) as u64,
                "--interval-ms" => {
                    o.interval = Duration::from_millis(number(value()?)?.max(10) as u64)
                }
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

/// The phases, in order.
const PHASES: [&str; 3] = ["quiet", "attack", "recovery"];
/// After a phase's last line: time for every line to arrive.
const DRAIN: Duration = Duration::from_secs(3);
/// Time given to the hostile clients to connect before the attack phase's lines.
const RAMP: Duration = Duration::from_secs(2);
/// How often the server's memory is read.
const RSS_EVERY: Duration = Duration::from_millis(250);
/// Longest wait for one hostile attempt (its own deadlines are shorter).
const ATTEMPT_LIMIT: Duration = Duration::from_secs(80);
/// Pause between two attempts of a quick hostile kind (the attack is hostility, not a
/// connection flood).
const BETWEEN_ATTEMPTS: Duration = Duration::from_secs(1);
/// The server's header timeout (`serve.rs`), and the slack allowed on it.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const SLACK: Duration = Duration::from_secs(5);
/// Longest wait for a non-reading SSE client's stream to end once it reads again.
const NON_READER_END: Duration = Duration::from_secs(30);
/// How long a non-reading SSE client does not read, at least: long enough for the chat's
/// lines to fill what the server may hold for it (its queues and the socket buffers, tens
/// of KiB), plus the server's write timeout (10 s) twice — the stream's, then the
/// connection's.
const NON_READER_HOLD: Duration = Duration::from_secs(40);
/// Most bytes a non-reading SSE client may find waiting when it reads again: what the
/// server held for it must be bounded.
const NON_READER_BACKLOG: usize = 4 << 20;
/// The server's resident memory must stay under this during the attack (KiB): a bound, not
/// a measurement — several times the peaks seen (230–325 MiB), far under the 11,929 MiB the
/// Engine.io chat reached before its sessions were bounded in bytes.
const MAX_RSS_KIB: u64 = 1 << 20;
/// A non-reading SSE client that gets nothing new for this long has caught up.
const CAUGHT_UP: Duration = Duration::from_secs(2);

/// What the chatters share: per phase, the lines each sent and, per receiver and sender,
/// the next line expected.
struct Health {
    healthy: usize,
    epoch: Instant,
    interval: Duration,
    /// `[phase][sender]`: lines sent.
    sent: Vec<Vec<AtomicU32>>,
    /// `[phase][receiver * healthy + sender]`: the next line expected.
    next: Vec<Vec<AtomicU32>>,
    /// `[phase]`: lines that arrived twice or out of order.
    anomalies: Vec<AtomicU64>,
    /// `[phase]`: latencies in microseconds.
    latencies: Vec<Mutex<Vec<u32>>>,
    /// Chatters that failed, and why.
    failures: Mutex<Vec<String>>,
}

impl Health {
    fn new(healthy: usize, interval: Duration) -> Health {
        Health {
            healthy,
            epoch: Instant::now(),
            interval,
            sent: (0..PHASES.len())
                .map(|_| (0..healthy).map(|_| AtomicU32::new(0)).collect())
                .collect(),
            next: (0..PHASES.len())
                .map(|_| (0..healthy * healthy).map(|_| AtomicU32::new(0)).collect())
                .collect(),
            anomalies: (0..PHASES.len()).map(|_| AtomicU64::new(0)).collect(),
            latencies: (0..PHASES.len()).map(|_| Mutex::new(Vec::new())).collect(),
            failures: Mutex::new(Vec::new()),
        }
    }

    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Receiver `r` read `text` (`hl <phase> <sender> <seq> <sent µs>`; other lines are
    /// not ours and are ignored).
    fn arrived(&self, r: usize, text: &str) {
        let mut f = text.split(' ');
        if f.next() != Some("hl") {
            return;
        }
        let mut num = || f.next().and_then(|n| n.parse::<u64>().ok());
        let (Some(p), Some(s), Some(j), Some(t)) = (num(), num(), num(), num()) else {
            return;
        };
        let (p, s) = (p as usize, s as usize);
        if p >= PHASES.len() || s >= self.healthy {
            return;
        }
        let lat = self.now_us().saturating_sub(t).min(u32::MAX as u64) as u32;
        self.latencies[p]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(lat);
        let next = &self.next[p][r * self.healthy + s];
        let expected = next.load(Ordering::Relaxed) as u64;
        if j != expected {
            self.anomalies[p].fetch_add(1, Ordering::Relaxed);
        }
        if j >= expected {
            next.store(j as u32 + 1, Ordering::Relaxed);
        }
    }

    fn fail(&self, what: String) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }

    /// Lines of phase `p` that some receiver has not got (sum over receivers and senders).
    fn missing(&self, p: usize) -> u64 {
        let mut missing = 0;
        for r in 0..self.healthy {
            for s in 0..self.healthy {
                let sent = self.sent[p][s].load(Ordering::Relaxed);
                let got = self.next[p][r * self.healthy + s].load(Ordering::Relaxed);
                missing += sent.saturating_sub(got) as u64;
            }
        }
        missing
    }
}

/// One well-behaved chatter: sends a line every interval while a phase is on (`ctl` holds
/// its index), reads everything; closes politely when `ctl` is dropped.
async fn chatter(
    i: usize,
    mut peer: WsPeer,
    h: Arc<Health>,
    mut ctl: watch::Receiver<Option<usize>>,
) {
    // Spread the chatters over the interval.
    let offset = h.interval.mul_f64(i as f64 / h.healthy as f64);
    let mut tick = tokio::time::interval_at(Instant::now() + offset, h.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match peer.texts() {
            Ok(texts) => texts.iter().for_each(|t| h.arrived(i, t)),
            Err(e) => return h.fail(format!("chatter {i}: {e}")),
        }
        if let Err(e) = peer.flush().await {
            return h.fail(format!("chatter {i}: write: {e}"));
        }
        if peer.conn.should_close_transport() {
            return h.fail(format!("chatter {i}: closed by the server"));
        }
        tokio::select! {
            _ = tick.tick() => {
                let phase = *ctl.borrow();
                if let Some(p) = phase {
                    let j = h.sent[p][i].load(Ordering::Relaxed);
                    let text = format!("hl {p} {i} {j} {}", h.now_us());
                    if peer.conn.send_text(text.as_str()).is_err() {
                        return h.fail(format!("chatter {i}: send refused"));
                    }
                    h.sent[p][i].store(j + 1, Ordering::Relaxed);
                }
            }
            r = peer.read_some(&mut buf) => {
                if let Err(e) = r {
                    return h.fail(format!("chatter {i}: read: {e}"));
                }
            }
            c = ctl.changed() => {
                if c.is_err() {
                    // The run is over: close politely, without waiting for the reply.
                    let _ = peer.conn.send_close(1000, "done");
                    let _ = timeout(Duration::from_secs(2), peer.flush()).await;
                    return;
                }
            }
        }
    }
}

/// The kinds of hostile client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Silent,
    Slowloris,
    EndlessHeaders,
    OversizedLength,
    Junk,
    DeflateBomb,
    EioLimits,
    SseNonReader,
    WsNonReader,
}

const KINDS: [Kind; 9] = [
    Kind::Silent,
    Kind::Slowloris,
    Kind::EndlessHeaders,
    Kind::OversizedLength,
    Kind::Junk,
    Kind::DeflateBomb,
    Kind::EioLimits,
    Kind::SseNonReader,
    Kind::WsNonReader,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Silent => "silent",
            Kind::Slowloris => "slowloris",
            Kind::EndlessHeaders => "endless-headers",
            Kind::OversizedLength => "oversized-length",
            Kind::Junk => "junk",
            Kind::DeflateBomb => "deflate-bomb",
            Kind::EioLimits => "eio-limits",
            Kind::SseNonReader => "sse-non-reader",
            Kind::WsNonReader => "ws-non-reader",
        }
    }
}

/// Per kind: attempts, right answers, wrong answers (the first few kept), longest attempt.
#[derive(Default)]
struct Tally {
    attempts: AtomicU64,
    right: AtomicU64,
    wrong: AtomicU64,
    examples: Mutex<Vec<String>>,
    /// How the right answers were given, with counts.
    hows: Mutex<Vec<(&'static str, u64)>>,
    longest_ms: AtomicU64,
}

/// A hostile attempt's result: how the server answered rightly, or what was wrong.
type Outcome = Result<&'static str, String>;

struct Hostiles {
    addr: SocketAddr,
    stop: AtomicBool,
    tallies: Vec<Tally>,
    bomb: Vec<u8>,
    /// The chatters' lines sent, to check what a non-reader that was kept received.
    health: Arc<Health>,
    /// How many of [`KINDS`] run (the first ones).
    kinds: usize,
}

impl Hostiles {
    fn record(&self, kind: Kind, took: Duration, outcome: Outcome) {
        let t = &self.tallies[kind as usize];
        t.attempts.fetch_add(1, Ordering::Relaxed);
        t.longest_ms
            .fetch_max(took.as_millis() as u64, Ordering::Relaxed);
        match outcome {
            Ok(how) => {
                t.right.fetch_add(1, Ordering::Relaxed);
                let mut hows = t.hows.lock().unwrap_or_else(|e| e.into_inner());
                match hows.iter_mut().find(|(h, _)| *h == how) {
                    Some((_, n)) => *n += 1,
                    None => hows.push((how, 1)),
                }
            }
            Err(e) => {
                t.wrong.fetch_add(1, Ordering::Relaxed);
                let mut ex = t.examples.lock().unwrap_or_else(|e| e.into_inner());
                if ex.len() < 3 {
                    ex.push(e);
                }
            }
        }
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Runs hostile client `n` until the stop flag is set (its attempt in progress finishes).
async fn hostile(n: usize, hs: Arc<Hostiles>) {
    let kind = KINDS[n % hs.kinds];
    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (n as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
    let mut round = 0usize;
    // Connect over the first second rather than all at once: a burst of 1,000 connects
    // overflows the listen backlog (1,024 with the chatters and the churn), and the kernel
    // then completes connects the server only accepts seconds later (SYN-ACK retries).
    sleep(Duration::from_millis((n % 100) as u64 * 10)).await;
    while !hs.stopping() {
        let started = Instant::now();
        let attempt = async {
            match kind {
                Kind::Silent => silent(&hs).await,
                Kind::Slowloris => slowloris(&hs).await,
                Kind::EndlessHeaders => {
                    endless_headers(&hs, (n / KINDS.len() + round) % 2 == 0).await
                }
                Kind::OversizedLength => oversized_length(&hs).await,
                Kind::Junk => junk(&hs, &mut rng).await,
                Kind::DeflateBomb => deflate_bomb(&hs).await,
                Kind::EioLimits => eio_limits(&hs).await,
                Kind::SseNonReader => non_reader(&hs, false).await,
                Kind::WsNonReader => non_reader(&hs, true).await,
            }
        };
        let outcome = match timeout(ATTEMPT_LIMIT, attempt).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", ATTEMPT_LIMIT.as_secs())),
        };
        hs.record(kind, started.elapsed(), outcome);
        round += 1;
        if !hs.stopping()
            && !matches!(
                kind,
                Kind::Silent | Kind::Slowloris | Kind::SseNonReader | Kind::WsNonReader
            )
        {
            sleep(BETWEEN_ATTEMPTS).await;
        }
    }
}

/// Opens a connection to the server.
async fn open(addr: SocketAddr) -> Result<TcpStream, String> {
    let s = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = s.set_nodelay(true);
    Ok(s)
}

/// How a read to the end finished.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The server closed (FIN).
    Eof,
    /// The connection was reset, or another read error.
    Error(io::ErrorKind),
    /// Nothing for `limit`.
    Silent,
}

/// Reads until the connection ends or stays silent for `limit`, keeping at most the first
/// `keep` bytes.
async fn read_to_end(s: &mut TcpStream, keep: usize, limit: Duration) -> (Vec<u8>, End) {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match timeout(limit, s.read(&mut buf)).await {
            Ok(Ok(0)) => return (got, End::Eof),
            Ok(Ok(n)) => {
                let room = keep.saturating_sub(got.len());
                got.extend_from_slice(&buf[..n.min(room)]);
            }
            Ok(Err(e)) => return (got, End::Error(e.kind())),
            Err(_) => return (got, End::Silent),
        }
    }
}

/// Reads until the connection ends, keeping at most the first `keep` bytes (the caller
/// bounds the time).
async fn read_all<R: tokio::io::AsyncRead + Unpin>(rd: &mut R, keep: usize) -> (Vec<u8>, End) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match rd.read(&mut buf).await {
            Ok(0) => return (got, End::Eof),
            Ok(n) => got.extend_from_slice(&buf[..n.min(keep.saturating_sub(got.len()))]),
            Err(e) => return (got, End::Error(e.kind())),
        }
    }
}

/// The status code of an HTTP/1.1 response head at the start of `r`.
fn status(r: &[u8]) -> Option<u16> {
    let line = r.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// A connection that sends nothing: closed within the header timeout (HTTP/1.1 or HTTP/2 is
/// only known from the first bytes, so this is the server's wait for them).
async fn silent(hs: &Hostiles) -> Outcome {
    let mut s = open(hs.addr).await?;
    let started = Instant::now();
    let (got, end) = read_to_end(&mut s, 4096, HEAD_TIMEOUT + SLACK).await;
    match (end, status(&got)) {
        (End::Eof | End::Error(_), None) if got.is_empty() => Ok("closed without a response"),
        (End::Eof | End::Error(_), Some(408)) => Ok("408, closed"),
        (end, _) => Err(format!(
            "a connection sending nothing: {end:?} after {:.1} s with {:?}",
            started.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&got[..got.len().min(40)])
        )),
    }
}

/// A connection closed for a slow request head: no response, or 408.
async fn slowloris(hs: &Hostiles) -> Outcome {
    let mut s = open(hs.addr).await?;
    let started = Instant::now();
    s.write_all(b"GET /ws/chat HTTP/1.1\r\nHost: hostile\r\nX-Slow: ")
        .await
        .map_err(|e| format!("write: {e}"))?;
    let (mut rd, mut wr) = s.split();
    let drip = async {
        loop {
            sleep(Duration::from_secs(1)).await;
            if wr.write_all(b"a").await.is_err() {
                // Closed: the read below sees it.
                std::future::pending::<()>().await;
            }
        }
    };
    let read = read_all(&mut rd, 4096);
    let ended = tokio::select! {
        r = timeout(HEAD_TIMEOUT + SLACK, read) => r,
        () = drip => unreachable!("the drip never ends"),
    };
    let took = started.elapsed();
    match ended {
        Err(_) => Err(format!(
            "still open after {} s of a request head one byte a second",
            (HEAD_TIMEOUT + SLACK).as_secs()
        )),
        Ok((got, end)) => match status(&got) {
            None if got.is_empty() => Ok("closed without a response"),
            Some(408) => Ok("408, closed"),
            _ => Err(format!(
                "after {:.1} s: {end:?} with {:?}",
                took.as_secs_f64(),
                String::from_utf8_lossy(&got[..got.len().min(40)])
            )),
        },
    }
}

/// 431 for a complete head with 150 header lines (`many`; hyper judges the count once the
/// head is complete: one that never completes is the slowloris case), or one header line
/// that never ends (over the 16 KiB head limit).
async fn endless_headers(hs: &Hostiles, many: bool) -> Outcome {
    let mut s = open(hs.addr).await?;
    let mut head = b"GET /ws/chat HTTP/1.1\r\nHost: hostile\r\n".to_vec();
    if many {
        for k in 0..150 {
            head.extend_from_slice(format!("X-Header-{k}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        s.write_all(&head)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let (got, end) = read_to_end(&mut s, 4096, Duration::from_secs(10)).await;
        return match (status(&got), &end) {
            (Some(431), End::Eof | End::Error(_)) => Ok("431 (150 header lines)"),
            _ => Err(format!(
                "150 header lines: {end:?} with {:?}",
                String::from_utf8_lossy(&got[..got.len().min(40)])
            )),
        };
    }
    head.extend_from_slice(b"X-Endless: ");
    s.write_all(&head)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let (mut rd, mut wr) = s.split();
    // Up to 1 MiB of one header's value, 1 KiB at a time, while reading the answer.
    let flood = async {
        let chunk = [b'a'; 1024];
        for _ in 0..1024 {
            if wr.write_all(&chunk).await.is_err() {
                break;
            }
        }
        std::future::pending::<()>().await;
    };
    let read = read_all(&mut rd, 4096);
    let ended = tokio::select! {
        r = timeout(Duration::from_secs(10), read) => r,
        () = flood => unreachable!("the flood never ends"),
    };
    match ended {
        Err(_) => Err("an endless header line: no answer within 10 s".into()),
        Ok((got, end)) => match status(&got) {
            Some(431) => Ok("431 (16 KiB head)"),
            // Closing is also an answer to a head over the limit (counted apart: hyper
            // answers 431, and under load a few connections were seen closed without it).
            None if got.is_empty() && end == End::Eof => Ok("closed without a response"),
            _ => Err(format!(
                "an endless header line: {end:?} with {:?}",
                String::from_utf8_lossy(&got[..got.len().min(40)])
            )),
        },
    }
}

/// Opens `/ws/chat` with a hand-written handshake (offering permessage-deflate when
/// `deflate`); returns the stream after the 101 and whether deflate was agreed.
async fn handshake(hs: &Hostiles, deflate: bool) -> Result<(TcpStream, bool), String> {
    handshake_on(open(hs.addr).await?, deflate).await
}

/// [`handshake`] on a stream already connected.
async fn handshake_on(mut s: TcpStream, deflate: bool) -> Result<(TcpStream, bool), String> {
    let req = format!(
        "GET /ws/chat HTTP/1.1\r\nHost: hostile\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{}\r\n",
        if deflate {
            "Sec-WebSocket-Extensions: permessage-deflate\r\n"
        } else {
            ""
        }
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| format!("handshake write: {e}"))?;
    // Read the head byte by byte: nothing after it may be taken from the socket here.
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match timeout(Duration::from_secs(10), s.read(&mut b)).await {
            Ok(Ok(1)) => head.push(b[0]),
            Ok(_) => return Err("handshake: connection ended".into()),
            Err(_) => return Err("handshake: no answer within 10 s".into()),
        }
        if head.len() > 4096 {
            return Err("handshake: head over 4 KiB".into());
        }
    }
    if status(&head) != Some(101) {
        return Err(format!(
            "handshake refused: {:?}",
            String::from_utf8_lossy(&head[..head.len().min(40)])
        ));
    }
    let agreed = String::from_utf8_lossy(&head)
        .to_ascii_lowercase()
        .contains("permessage-deflate");
    Ok((s, agreed))
}

/// A masked client frame header (mask key 0) for a payload of `len` bytes.
fn frame_header(first: u8, len: u64) -> Vec<u8> {
    let mut h = vec![first];
    match len {
        0..=125 => h.push(0x80 | len as u8),
        126..=0xFFFF => {
            h.push(0x80 | 126);
            h.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            h.push(0x80 | 127);
            h.extend_from_slice(&len.to_be_bytes());
        }
    }
    // Mask key 0: the payload goes as it is.
    h.extend_from_slice(&[0, 0, 0, 0]);
    h
}

/// Reads what the server sends until it closes; the status code of its Close frame must be
/// `code`, and the server must then close the connection.
async fn expect_close(mut s: TcpStream, code: u16) -> Outcome {
    let (got, end) = read_to_end(&mut s, 1 << 20, Duration::from_secs(10)).await;
    let seen = close_code(&got);
    match (seen, &end) {
        (Some(c), End::Eof | End::Error(_)) if c == code => Ok(match code {
            1002 => "Close 1002, closed",
            1009 => "Close 1009, closed",
            _ => "the right Close, closed",
        }),
        _ => Err(format!(
            "expected Close {code} and the end: got {seen:?} ({} bytes), then {end:?}",
            got.len()
        )),
    }
}

/// The status code of the first Close frame among the server's (unmasked) frames in `got`
/// (the chat's lines come first: the hostile client is a chat member until it misbehaves).
fn close_code(got: &[u8]) -> Option<u16> {
    let mut rest = got;
    while let Some((op, start, end)) = frame_at(rest) {
        if op == 0x8 {
            return match &rest[start..end] {
                [hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
                _ => None,
            };
        }
        rest = &rest[end..];
    }
    None
}

/// A frame declaring 2^62 bytes: 1009 (the chat's frame limit is 64 KiB).
async fn oversized_length(hs: &Hostiles) -> Outcome {
    let (mut s, _) = handshake(hs, false).await?;
    s.write_all(&frame_header(0x82, 1 << 62))
        .await
        .map_err(|e| format!("write: {e}"))?;
    expect_close(s, 1009).await
}

/// 64 random bytes whose first has RSV1–3 set (no extension agreed): 1002.
async fn junk(hs: &Hostiles, rng: &mut u64) -> Outcome {
    let (mut s, _) = handshake(hs, false).await?;
    let mut bytes = Vec::with_capacity(64);
    for _ in 0..64 {
        // xorshift64
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        bytes.push(*rng as u8);
    }
    bytes[0] |= 0x70;
    s.write_all(&bytes)
        .await
        .map_err(|e| format!("write: {e}"))?;
    expect_close(s, 1002).await
}

/// One compressed text message inflating to 1 MiB of zeros: 1009.
async fn deflate_bomb(hs: &Hostiles) -> Outcome {
    let (mut s, agreed) = handshake(hs, true).await?;
    if !agreed {
        return Err("permessage-deflate was not agreed".into());
    }
    let mut frame = frame_header(0xC1, hs.bomb.len() as u64);
    frame.extend_from_slice(&hs.bomb);
    s.write_all(&frame)
        .await
        .map_err(|e| format!("write: {e}"))?;
    expect_close(s, 1009).await
}

/// Sends one HTTP/1.1 request on a new connection (`Connection: close`) and reads the whole
/// answer: its status and body.
async fn request(
    hs: &Hostiles,
    method: &str,
    target: &str,
    extra: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    let mut s = open(hs.addr).await?;
    let head =
        format!("{method} {target} HTTP/1.1\r\nHost: hostile\r\nConnection: close\r\n{extra}\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    // A refused body may not be read: the answer counts, not the write.
    let _ = s.write_all(&out).await;
    let (got, _) = read_to_end(&mut s, 64 * 1024, Duration::from_secs(10)).await;
    let code = status(&got).ok_or_else(|| {
        format!(
            "{method} {target}: no status in {:?}",
            String::from_utf8_lossy(&got[..got.len().min(40)])
        )
    })?;
    let body = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| got[i + 4..].to_vec())
        .unwrap_or_default();
    Ok((code, body))
}

/// Engine.io v4 polling at its limits.
async fn eio_limits(hs: &Hostiles) -> Outcome {
    const OPEN: &str = "/engine.io/?EIO=4&transport=polling";
    let (code, body) = request(hs, "GET", OPEN, "", b"").await?;
    let text = String::from_utf8_lossy(&body).into_owned();
    if code != 200 || !text.starts_with("0{") {
        return Err(format!(
            "handshake: {code} {:?}",
            text.chars().take(60).collect::<String>()
        ));
    }
    let field = |name: &str| -> Option<String> {
        let start = text.find(&format!("\"{name}\":"))? + name.len() + 3;
        let rest = &text[start..];
        let end = rest.find([',', '}'])?;
        Some(rest[..end].trim_matches('"').to_string())
    };
    let sid = field("sid").ok_or("handshake without sid")?;
    let max: usize = field("maxPayload")
        .and_then(|m| m.parse().ok())
        .ok_or("handshake without maxPayload")?;
    let target = format!("{OPEN}&sid={sid}");
    let post = |len: usize| {
        let mut b = vec![b'a'; len];
        b[0] = b'4';
        b
    };
    let ctype = "Content-Type: text/plain;charset=UTF-8\r\n";
    let send = |body: Vec<u8>| {
        let (target, head) = (
            &target,
            format!("{ctype}Content-Length: {}\r\n", body.len()),
        );
        async move { request(hs, "POST", target, &head, &body).await }
    };
    let (code, body) = send(post(max)).await?;
    if code != 200 || body != b"ok" {
        return Err(format!("POST of maxPayload ({max}) bytes: {code}"));
    }
    let (code, _) = send(post(max + 1)).await?;
    if code != 413 {
        return Err(format!("POST of maxPayload + 1 bytes: {code}, not 413"));
    }
    let (code, _) = request(
        hs,
        "POST",
        &target,
        &format!("{ctype}Content-Length: 1000000000000\r\n"),
        b"4a",
    )
    .await?;
    if code != 413 {
        return Err(format!("POST declaring 10^12 bytes: {code}, not 413"));
    }
    // The session is closed: the next poll gets the close packet (as engine.io delivers a
    // server-side close to a polling client), or 400 (unknown session) once it is gone.
    // Chat messages queued before the close come first: poll until the close packet.
    for _ in 0..5 {
        let (code, body) = request(hs, "GET", &target, "", b"").await?;
        let closed = body.split(|&b| b == 0x1e).next_back() == Some(b"1");
        match code {
            400 => return Ok("200 ok, 413, 413, 400"),
            200 if closed => return Ok("200 ok, 413, 413, close packet"),
            200 => continue,
            _ => return Err(format!("poll after the 413: {code}, not 200 or 400")),
        }
    }
    Err("five polls after the 413 without the close packet".into())
}

/// A chat member that stops reading: `GET /sse/chat` (`ws`: false) or a `/ws/chat`
/// WebSocket (`ws`: true) with a 4 KiB receive buffer, unread for [`NON_READER_HOLD`] and
/// until the stop flag; then reading, the stream must end (the server gave up on it) or
/// catch up with no line missing, within [`NON_READER_END`] and after at most
/// [`NON_READER_BACKLOG`] bytes.
async fn non_reader(hs: &Hostiles, ws: bool) -> Outcome {
    let sock = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    let _ = sock.set_recv_buffer_size(4096);
    // An Ethernet MSS, so that reading again reopens the window at once (see `set_mss`).
    crate::os::set_mss(&sock, 1460);
    let mut s = sock
        .connect(hs.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    if ws {
        s = handshake_on(s, false).await?.0;
    } else {
        s.write_all(
            b"GET /sse/chat HTTP/1.1\r\nHost: hostile\r\nAccept: text/event-stream\r\n\r\n",
        )
        .await
        .map_err(|e| format!("write: {e}"))?;
    }
    let held = Instant::now() + NON_READER_HOLD;
    while !hs.stopping() || Instant::now() < held {
        sleep(Duration::from_millis(100)).await;
    }
    // Read again: until the server's end of the stream, or until caught up (nothing new for
    // CAUGHT_UP: the chat is quiet between the phases), checking that the chatters' lines
    // that did arrive have no gap.
    let started = Instant::now();
    let mut lines = Lines {
        ws,
        ..Lines::default()
    };
    let mut buf = vec![0u8; 16 * 1024];
    let end = loop {
        if lines.total > NON_READER_BACKLOG {
            return Err(format!(
                "more than {NON_READER_BACKLOG} bytes were waiting: the server's buffer for it is not bounded"
            ));
        }
        if started.elapsed() > NON_READER_END {
            return Err(format!(
                "still sending {:.0} s after reading again, {} bytes read",
                started.elapsed().as_secs_f64(),
                lines.total
            ));
        }
        match timeout(CAUGHT_UP, s.read(&mut buf)).await {
            Ok(Ok(0)) => break End::Eof,
            Ok(Ok(n)) => lines.feed(&buf[..n]),
            Ok(Err(e)) => break End::Error(e.kind()),
            Err(_) => break End::Silent,
        }
    };
    if !ws {
        // The stream must have been one: 200 and `text/event-stream` (not a 503 "busy").
        let head = String::from_utf8_lossy(&lines.head).to_ascii_lowercase();
        if !head.starts_with("http/1.1 200") || !head.contains("text/event-stream") {
            return Err(format!(
                "not an event stream: {:?}",
                head.chars().take(60).collect::<String>()
            ));
        }
    }
    if lines.gaps > 0 {
        return Err(format!(
            "{} gaps in the chatters' lines ({} lines read, then {end:?}): lines lost without the stream ending",
            lines.gaps, lines.seen
        ));
    }
    match (end, lines.close) {
        (End::Eof | End::Error(_), Some(_)) => Ok("dropped by the server with a Close"),
        (End::Error(std::io::ErrorKind::ConnectionReset), None) => {
            Ok("dropped by the server (reset)")
        }
        (End::Eof | End::Error(_), None) => Ok("dropped by the server (EOF once read)"),
        (End::Silent, _) => {
            // Kept: then it must have everything up to each chatter's last line of the
            // attack phase (a server that quietly stopped relaying to it would leave the
            // tail missing, which the gap check alone cannot see).
            let sent = &hs.health.sent[1];
            for (c, n) in sent.iter().enumerate() {
                let n = n.load(Ordering::Relaxed) as u64;
                let last = lines.last.get(&(1, c as u64)).copied();
                if n > 0 && last != Some(n - 1) {
                    return Err(format!(
                        "kept, but chatter {c}'s last attack line is {last:?}, not {} ({} lines read)",
                        n - 1,
                        lines.seen
                    ));
                }
            }
            Ok("kept: caught up, every attack-phase line, backlog bounded")
        }
    }
}

/// The chatters' `hl` lines as a chat member reads them — an event stream over HTTP/1.1
/// chunked encoding, or (`ws`) a server's WebSocket frames — checked for gaps.
#[derive(Default)]
struct Lines {
    ws: bool,
    /// The first bytes read (the HTTP response head, for an event stream).
    head: Vec<u8>,
    partial: Vec<u8>,
    /// WebSocket: the status code of the server's Close frame, once read.
    close: Option<u16>,
    /// The last line number seen per (phase, chatter).
    last: std::collections::HashMap<(u64, u64), u64>,
    seen: u64,
    gaps: u64,
    total: usize,
}

impl Lines {
    fn feed(&mut self, bytes: &[u8]) {
        self.total += bytes.len();
        let room = 512usize.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if self.ws {
            return self.feed_frames(bytes);
        }
        for &b in bytes {
            if b != b'\n' {
                // A line of ours is short: longer ones are not ours.
                if self.partial.len() < 256 {
                    self.partial.push(b);
                }
                continue;
            }
            let line = std::mem::take(&mut self.partial);
            if let Some(rest) = line.strip_prefix(b"data: hl ") {
                self.line(rest);
            }
        }
    }

    /// Whole frames out of `partial` + `bytes` (the chat's frames are at most 64 KiB, so
    /// `partial` is bounded by that); text frames are lines.
    fn feed_frames(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        let mut at = 0;
        // Taken out while its frames are read, so that `line` can borrow `self`.
        let buf = std::mem::take(&mut self.partial);
        while let Some((op, start, end)) = frame_at(&buf[at..]) {
            let payload = &buf[at + start..at + end];
            match op {
                0x1 => {
                    if let Some(rest) = payload.strip_prefix(b"hl ") {
                        self.line(rest);
                    }
                }
                0x8 => {
                    self.close = Some(
                        payload
                            .get(..2)
                            .map_or(1005, |c| u16::from_be_bytes([c[0], c[1]])),
                    )
                }
                _ => {}
            }
            at += end;
        }
        self.partial = buf;
        self.partial.drain(..at);
    }

    /// One `hl` line after its tag: `<phase> <chatter> <number> …`.
    fn line(&mut self, rest: &[u8]) {
        let mut f = rest.split(|&c| c == b' ').map(|n| {
            std::str::from_utf8(n)
                .ok()
                .and_then(|n| n.parse::<u64>().ok())
        });
        if let (Some(Some(p)), Some(Some(s)), Some(Some(j))) = (f.next(), f.next(), f.next()) {
            self.seen += 1;
            if let Some(prev) = self.last.insert((p, s), j) {
                if j != prev + 1 {
                    self.gaps += 1;
                }
            }
        }
    }
}

/// The first whole server (unmasked) frame in `b`: its opcode and where its payload starts
/// and ends; `None` until it is whole.
fn frame_at(b: &[u8]) -> Option<(u8, usize, usize)> {
    let (op, len7) = (b.first()? & 0x0F, (b.get(1)? & 0x7F) as usize);
    let (len, at) = match len7 {
        126 => (u16::from_be_bytes([*b.get(2)?, *b.get(3)?]) as usize, 4),
        127 => (
            u64::from_be_bytes(b.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n, 2usize),
    };
    let end = at.checked_add(len)?;
    (b.len() >= end).then_some((op, at, end))
}

/// The run.
pub(crate) fn run(opts: Options) -> Result<(), String> {
    let limit = opts.timeout;
    crate::loadtest::run_within(limit, limit, check(opts))
}

async fn check(o: Options) -> Result<(), String> {
    if let Some(nofile) = crate::os::raise_nofile() {
        let need = (o.hostile + o.healthy + crate::loadtest::SPARE_FDS) as u64;
        if nofile < need {
            return Err(format!("open-file limit {nofile}, {need} needed"));
        }
    }
    println!(
        "hostile: {} healthy chatters on /ws/chat (a line every {} ms each), {} hostile clients, phases of {} s; machine: {} CPUs, load average {}",
        o.healthy,
        o.interval.as_millis(),
        o.hostile,
        o.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        crate::loadtest::load_average()
    );
    // The server's memory, every RSS_EVERY, for the whole run.
    let samples: Arc<Mutex<Vec<(Duration, u64)>>> = Arc::default();
    let t0 = Instant::now();
    if let Some(pid) = o.server_pid {
        let samples = samples.clone();
        tokio::spawn(async move {
            while let Some(kib) = rss_kib(pid) {
                samples
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((t0.elapsed(), kib));
                sleep(RSS_EVERY).await;
            }
        });
    }
    let rss_now = || {
        samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .map(|s| s.1)
    };
    sleep(RSS_EVERY * 2).await;
    let rss_start = rss_now();

    // The chatters.
    let h = Arc::new(Health::new(o.healthy, o.interval));
    let (ctl_tx, ctl_rx) = watch::channel(None);
    let mut chatters = Vec::new();
    for i in 0..o.healthy {
        let peer = timeout(Duration::from_secs(10), ws_connect(o.addr, "/ws/chat"))
            .await
            .map_err(|_| format!("chatter {i}: connect timed out"))?
            .map_err(|e| format!("chatter {i}: connect: {e}"))?;
        chatters.push(tokio::spawn(chatter(i, peer, h.clone(), ctl_rx.clone())));
    }
    drop(ctl_rx);
    sleep(Duration::from_secs(1)).await;
    let rss_base = rss_now();
    let phase = |p: usize| {
        let (h, ctl_tx, secs) = (h.clone(), &ctl_tx, o.seconds);
        async move {
            let _ = ctl_tx.send(Some(p));
            sleep(Duration::from_secs(secs)).await;
            let _ = ctl_tx.send(None);
            sleep(DRAIN).await;
            let _ = &h;
        }
    };
    phase(0).await;

    // The attack: the hostile clients on a thread of their own.
    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; 1 << 20], 9);
    let hs = Arc::new(Hostiles {
        addr: o.addr,
        stop: AtomicBool::new(false),
        tallies: KINDS.iter().map(|_| Tally::default()).collect(),
        bomb,
        health: h.clone(),
        kinds: KINDS.len(),
    });
    let attack_from = t0.elapsed();
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let thread = {
        let hs = hs.clone();
        let n = o.hostile;
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    let tasks: Vec<_> = (0..n)
                        .map(|i| tokio::spawn(hostile(i, hs.clone())))
                        .collect();
                    for (i, t) in tasks.into_iter().enumerate() {
                        if t.await.is_err() {
                            // A panic in an attempt is the check's own fault: count it.
                            hs.record(
                                KINDS[i % hs.kinds],
                                Duration::ZERO,
                                Err("the hostile client panicked".into()),
                            );
                        }
                    }
                });
            }
            let _ = done_tx.send(());
        })
    };
    sleep(RAMP).await;
    phase(1).await;
    hs.stop.store(true, Ordering::Relaxed);
    let attack_to = t0.elapsed();
    // Attempts in progress finish within their own deadlines.
    let joined = timeout(ATTEMPT_LIMIT + SLACK, done_rx).await;
    if joined.is_err() {
        // (Not joined: a blocking join here would stop the whole run's deadline.)
        return Err("the hostile clients did not finish".into());
    }
    let _ = thread.join();
    let attack_end = t0.elapsed();
    sleep(Duration::from_secs(2)).await;
    phase(2).await;
    let rss_end = rss_now();
    drop(ctl_tx);
    for c in chatters {
        let _ = timeout(Duration::from_secs(5), c).await;
    }

    // The report.
    let mut failed = Vec::new();
    println!(
        "hostile: chat latency over {} receivers (sent → read):",
        o.healthy
    );
    for (p, name) in PHASES.iter().enumerate() {
        let mut lat: Vec<Duration> = h.latencies[p]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|&us| Duration::from_micros(us as u64))
            .collect();
        lat.sort_unstable();
        let sent: u64 = h.sent[p]
            .iter()
            .map(|s| s.load(Ordering::Relaxed) as u64)
            .sum();
        let missing = h.missing(p);
        let anomalies = h.anomalies[p].load(Ordering::Relaxed);
        println!(
            "hostile:   {name:<8} {sent} lines sent, {} deliveries, p50 {}, p99 {}, max {}; {missing} missing, {anomalies} twice or out of order",
            lat.len(),
            ms(percentile(&lat, 50.0)),
            ms(percentile(&lat, 99.0)),
            ms(lat.last().copied().unwrap_or_default()),
        );
        if missing > 0 || anomalies > 0 {
            failed.push(format!(
                "{name}: {missing} lines missing, {anomalies} twice or out of order"
            ));
        }
        if sent == 0 {
            failed.push(format!("{name}: no line sent"));
        }
    }
    for f in h.failures.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        failed.push(f.clone());
    }
    println!(
        "hostile: hostile clients ({} at once, in {} kinds):",
        o.hostile, hs.kinds
    );
    for (k, t) in KINDS.iter().zip(&hs.tallies) {
        let (a, r, w) = (
            t.attempts.load(Ordering::Relaxed),
            t.right.load(Ordering::Relaxed),
            t.wrong.load(Ordering::Relaxed),
        );
        println!(
            "hostile:   {:<17} {a} attempts, {r} answered right, {w} wrong, longest {:.1} s",
            k.name(),
            t.longest_ms.load(Ordering::Relaxed) as f64 / 1e3
        );
        for (how, count) in t.hows.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            println!("hostile:     {count} × {how}");
        }
        for e in t.examples.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            println!("hostile:     wrong: {e}");
        }
        if w > 0 {
            failed.push(format!("{}: {w} wrong answers", k.name()));
        }
        if a == 0 && o.hostile >= hs.kinds && (*k as usize) < hs.kinds {
            failed.push(format!("{}: no attempt", k.name()));
        }
    }
    let mut peak_kib = None;
    if o.server_pid.is_some() {
        let s = samples.lock().unwrap_or_else(|e| e.into_inner());
        let peak = s
            .iter()
            .filter(|(t, _)| *t >= attack_from && *t <= attack_end)
            .map(|s| s.1)
            .max();
        peak_kib = peak;
        let mib =
            |k: Option<u64>| k.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        println!(
            "hostile: server RSS: {} at the start, {} with the chatters, peak {} in the attack ({:.0}–{:.0} s, attempts ended at {:.0} s), {} at the end ({} samples)",
            mib(rss_start),
            mib(rss_base),
            mib(peak),
            attack_from.as_secs_f64(),
            attack_to.as_secs_f64(),
            attack_end.as_secs_f64(),
            mib(rss_end),
            s.len()
        );
    }
    if let Some(peak) = peak_kib.filter(|&k| k > MAX_RSS_KIB) {
        failed.push(format!(
            "server RSS peaked at {:.0} MiB, over the {} MiB bound: something buffers without a limit",
            peak as f64 / 1024.0,
            MAX_RSS_KIB / 1024
        ));
    }
    if failed.is_empty() {
        println!("hostile: PASS");
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}
