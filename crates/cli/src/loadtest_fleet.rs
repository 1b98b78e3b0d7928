//! `pushwire loadtest --sio-fleet ADDR,ADDR,…`: cross-node Socket.IO broadcast over a fleet.
//!
//! Issue 17's speed figure: several servers of one Redis fleet (pushwire nodes or node
//! socket.io nodes), `--per-node` sockets on each, every socket in one room. Socket 0 of each
//! node is also a sender: it emits `chat({room, text})`, which the server broadcasts to every
//! *other* socket of the room on every node (the protocol of `pushwire serve`'s Socket.IO
//! chat, see `loadtest_sio.rs`; `tests/interop/socketio-bench/server.js` speaks it too). So
//! each message crosses Redis to reach the other nodes' sockets, and every socket of the
//! fleet but its sender must get it exactly once.
//!
//! The load is **open loop**: a ladder of rates (`--rates`, broadcasts per second over the
//! whole fleet), each held for `--seconds`. Message `j` of a step is due at `t0 + j / rate`
//! and is sent by node `j mod nodes`'s sender when it is due; its latency at each receiver is
//! the arrival time less that due time, so a sender or server that falls behind shows as
//! latency, not as a slower rate (no coordinated omission). Receipts on another node than
//! the sender's are the *cross-node* latency; the same node's are reported beside them. One
//! clock: the senders and receivers are in this process.
//!
//! A warm-up step (`--warmup` seconds, default 3, at the first rate) comes first and is
//! reported but not judged: a JIT-compiled server (node) is slow in its first seconds.
//! A step *holds* when every receipt arrived (within [`DRAIN`] after its last send), none
//! twice, and the cross-node p99 is at most `--p99-limit`. The ladder stops after the first
//! step that does not hold; the last step that held is the fleet's **sustained rate** at that
//! p99. Timing is reported, never judged: the exit status is 1 only for a duplicate, a socket
//! that failed, or a fleet that held no step at all.
//!
//! Bounded: fixed counts, at most 40 steps of at most 10⁷ messages, a deadline per
//! connection, per step and for the run (`--timeout`), loopback addresses only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tokio::time::{sleep, sleep_until, Instant};

use crate::loadtest::{load_average, ms, WsPeer, CONNECTING};
use crate::loadtest_sio::{chat_round, join_gated};

/// How long after a step's last send its receipts may still arrive.
const DRAIN: Duration = Duration::from_secs(5);
/// Quiet time between steps.
const BETWEEN: Duration = Duration::from_secs(1);
/// Message numbers: `step * STRIDE + j` (the chat texts carry at most 9 digits).
const STRIDE: usize = 10_000_000;
/// Most steps in a ladder.
const MAX_STEPS: usize = 40;

/// Options of `pushwire loadtest --sio-fleet`.
#[derive(Debug)]
pub(crate) struct Options {
    addrs: Vec<SocketAddr>,
    per_node: usize,
    rates: Vec<u32>,
    seconds: f64,
    warmup: f64,
    p99_limit: Duration,
    pids: Vec<u32>,
    timeout: Duration,
    label: String,
}

fn list<T: std::str::FromStr>(a: &str, v: &str) -> Result<Vec<T>, String> {
    v.split(',')
        .map(|x| x.trim().parse().map_err(|_| format!("bad {a} item `{x}`")))
        .collect()
}

impl Options {
    /// Parses the arguments after `loadtest` (`--sio-fleet ADDR,…` among them).
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = Options {
            addrs: Vec::new(),
            per_node: 10,
            rates: vec![
                1_000, 2_000, 4_000, 6_000, 8_000, 12_000, 16_000, 24_000, 32_000, 48_000, 64_000,
            ],
            seconds: 5.0,
            warmup: 3.0,
            p99_limit: Duration::from_millis(50),
            pids: Vec::new(),
            timeout: Duration::from_secs(600),
            label: "fleet".into(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let v = it.next().ok_or(format!("{a} takes a value"))?;
            let number = |v: &String| -> Result<u64, String> {
                v.parse().map_err(|_| format!("bad {a} `{v}`"))
            };
            match a.as_str() {
                "--sio-fleet" => o.addrs = list(a, v)?,
                "--per-node" => o.per_node = (number(v)? as usize).clamp(2, 5_000),
                "--rates" => o.rates = list(a, v)?,
                "--seconds" => {
                    o.seconds = v.parse().map_err(|_| format!("bad {a} `{v}`"))?;
                }
                "--warmup" => {
                    o.warmup = v.parse().map_err(|_| format!("bad {a} `{v}`"))?;
                }
                "--p99-limit" => o.p99_limit = Duration::from_millis(number(v)?),
                "--pids" => o.pids = list(a, v)?,
                "--timeout" => o.timeout = Duration::from_secs(number(v)?),
                "--label" => o.label = v.clone(),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        if o.addrs.is_empty() {
            return Err("--sio-fleet needs at least one address".into());
        }
        if o.addrs.iter().any(|a| !a.ip().is_loopback()) {
            return Err("loadtest talks to loopback addresses only".into());
        }
        if !(0.1..=600.0).contains(&o.seconds) || !(0.0..=600.0).contains(&o.warmup) {
            return Err("--seconds must be within 0.1 and 600, --warmup within 0 and 600".into());
        }
        if o.rates.is_empty() || o.rates.len() > MAX_STEPS || o.rates.contains(&0) {
            return Err(format!("--rates takes 1 to {MAX_STEPS} rates above 0"));
        }
        if o.rates.iter().any(|&r| messages(r, o.seconds) >= STRIDE) {
            return Err(format!("a step may send at most {} messages", STRIDE - 1));
        }
        Ok(o)
    }
}

/// How many messages a step at `rate` per second sends in `seconds`.
fn messages(rate: u32, seconds: f64) -> usize {
    ((f64::from(rate) * seconds).round() as usize).max(1)
}

/// Runs the ladder; `Err` says why it failed.
pub(crate) fn run(opts: Options) -> Result<(), String> {
    let limit = opts.timeout;
    crate::loadtest::run_within(limit, limit + Duration::from_secs(10), check(opts))
}

/// One step of the ladder, as every socket sees it.
struct Step {
    /// The warm-up step (at the first rate, before the ladder; not judged).
    warm: bool,
    /// How long the step sends.
    window: Duration,
    /// Messages in the step.
    n: usize,
    /// Broadcasts per second.
    rate: f64,
    /// When message 0 is due (set when the step starts).
    t0: OnceLock<Instant>,
    /// Receipts so far.
    got: AtomicUsize,
    /// Messages sent so far (over every sender).
    sent: AtomicUsize,
    /// Reported: later receipts are counted as late, not kept.
    closed: std::sync::atomic::AtomicBool,
}

impl Step {
    fn due(&self, t0: Instant, j: usize) -> Instant {
        t0 + Duration::from_secs_f64(j as f64 / self.rate)
    }
}

/// What one socket received in one step.
#[derive(Default)]
struct Receipts {
    /// Which messages arrived, one bit each (allocated at the first receipt).
    seen: Vec<u64>,
    /// Latencies in µs of receipts from another node's sender, and from this node's.
    cross: Vec<u32>,
    local: Vec<u32>,
}

/// What every task shares.
struct Fleet {
    nodes: usize,
    steps: Vec<Step>,
    /// Per socket, per step.
    receipts: Vec<Mutex<Vec<Receipts>>>,
    duplicates: AtomicUsize,
    strays: AtomicUsize,
    /// Receipts of a step after its report (beyond its drain).
    late: AtomicUsize,
    failures: Mutex<Vec<String>>,
}

impl Fleet {
    fn fail(&self, what: String) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(what);
    }

    /// Records that socket `me` (on node `node`) got message `k`.
    fn record(&self, me: usize, node: usize, k: usize) {
        let now = Instant::now();
        let (s, j) = (k / STRIDE, k % STRIDE);
        let Some(step) = self.steps.get(s) else {
            self.strays.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let Some(&t0) = step.t0.get().filter(|_| j < step.n) else {
            self.strays.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if step.closed.load(Ordering::Acquire) {
            self.late.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let micros = now.saturating_duration_since(step.due(t0, j)).as_micros();
        let mut all = self.receipts[me]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let r = &mut all[s];
        if r.seen.is_empty() {
            r.seen = vec![0; step.n.div_ceil(64)];
        }
        let (word, bit) = (j / 64, 1u64 << (j % 64));
        if r.seen[word] & bit != 0 {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        r.seen[word] |= bit;
        let micros = u32::try_from(micros).unwrap_or(u32::MAX);
        if j % self.nodes == node {
            r.local.push(micros);
        } else {
            r.cross.push(micros);
        }
        step.got.fetch_add(1, Ordering::Release);
    }
}

/// One socket: records every chat receipt; socket 0 of a node also sends its share of each
/// step that `cmds` announces, each message when it is due.
async fn socket(
    mut p: WsPeer,
    me: usize,
    node: usize,
    fleet: Arc<Fleet>,
    mut cmds: Option<mpsc::Receiver<usize>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    // The step being sent, and the next message of it that this sender owes.
    let mut sending: Option<(usize, usize)> = None;
    let far = Instant::now() + Duration::from_secs(86_400);
    loop {
        let due = match sending {
            Some((s, j)) => fleet.steps[s].due(*fleet.steps[s].t0.get().expect("started"), j),
            None => far,
        };
        tokio::select! {
            cmd = async { cmds.as_mut().expect("guarded").recv().await }, if cmds.is_some() && sending.is_none() => {
                match cmd {
                    Some(s) => sending = Some((s, node)).filter(|&(s, j)| j < fleet.steps[s].n),
                    None => cmds = None,
                }
            }
            () = sleep_until(due), if sending.is_some() => {
                // Everything due by now, in one write.
                let (s, mut j) = sending.expect("guarded");
                let step = &fleet.steps[s];
                let t0 = *step.t0.get().expect("started");
                let now = Instant::now();
                while j < step.n && step.due(t0, j) <= now {
                    let msg = format!(
                        "42[\"chat\",{{\"room\":\"bench\",\"text\":\"bench {}\"}}]",
                        s * STRIDE + j
                    );
                    if let Err(e) = p.conn.send_text(msg.as_str()) {
                        fleet.fail(format!("sender {node}: send refused ({e})"));
                        return;
                    }
                    step.sent.fetch_add(1, Ordering::Release);
                    j += fleet.nodes;
                }
                sending = (j < step.n).then_some((s, j));
            }
            r = p.read_some(&mut buf) => {
                let texts = match r.and_then(|()| p.texts()) {
                    Ok(t) => t,
                    Err(e) => {
                        fleet.fail(format!("socket {me} (node {node}): {e}"));
                        return;
                    }
                };
                for t in &texts {
                    if t == "2" {
                        let _ = p.conn.send_text("3");
                    } else if let Some(k) = chat_round(t) {
                        fleet.record(me, node, k);
                    }
                }
            }
        }
        if let Err(e) = p.flush().await {
            fleet.fail(format!("socket {me} (node {node}): {e}"));
            return;
        }
    }
}

/// The p-th percentile of µs values, as a duration.
fn pct(v: &[u32], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    Duration::from_micros(u64::from(v[rank.clamp(1, v.len()) - 1]))
}

fn cpu_of(pids: &[u32]) -> Option<Duration> {
    pids.iter()
        .map(|&p| crate::os::cpu_time(p))
        .sum::<Option<Duration>>()
}

async fn check(o: Options) -> Result<(), String> {
    let tag = o.label.clone();
    let say = |s: String| println!("{tag}: {s}");
    let nodes = o.addrs.len();
    let sockets = nodes * o.per_node;
    if let Some(nofile) = crate::os::raise_nofile() {
        if (nofile as usize) < sockets + crate::loadtest::SPARE_FDS {
            return Err(format!("the open-file limit {nofile} is too small"));
        }
    }
    say(format!(
        "machine: {} CPUs, load average {}; {nodes} nodes, {} sockets each, one room; rates {:?} broadcasts/s for {} s each; p99 limit {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        o.per_node,
        o.rates,
        o.seconds,
        ms(o.p99_limit)
    ));
    let fleet = Arc::new(Fleet {
        nodes,
        steps: (o.warmup > 0.0)
            .then_some((o.rates[0], o.warmup, true))
            .into_iter()
            .chain(o.rates.iter().map(|&r| (r, o.seconds, false)))
            .map(|(r, secs, warm)| Step {
                warm,
                window: Duration::from_secs_f64(secs),
                n: messages(r, secs),
                rate: f64::from(r),
                t0: OnceLock::new(),
                got: AtomicUsize::new(0),
                sent: AtomicUsize::new(0),
                closed: std::sync::atomic::AtomicBool::new(false),
            })
            .collect(),
        receipts: (0..sockets)
            .map(|_| Mutex::new((0..=o.rates.len()).map(|_| Receipts::default()).collect()))
            .collect(),
        duplicates: AtomicUsize::new(0),
        strays: AtomicUsize::new(0),
        late: AtomicUsize::new(0),
        failures: Mutex::new(Vec::new()),
    });

    // Join every socket, CONNECTING at a time; socket `node * per_node` is node's sender.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let mut senders = Vec::new();
    for me in 0..sockets {
        let node = me / o.per_node;
        let cmds = if me % o.per_node == 0 {
            let (tx, rx) = mpsc::channel::<usize>(1);
            senders.push(tx);
            Some(rx)
        } else {
            None
        };
        let (gate, ready, fleet, addr) =
            (gate.clone(), ready_tx.clone(), fleet.clone(), o.addrs[node]);
        tokio::spawn(async move {
            match join_gated(&gate, addr).await {
                Ok(p) => {
                    let _ = ready.send(Ok(()));
                    socket(p, me, node, fleet, cmds).await;
                }
                Err(e) => {
                    let _ = ready.send(Err(format!("{addr}: {e}")));
                }
            }
        });
    }
    drop(ready_tx);
    for _ in 0..sockets {
        match ready_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(format!("a socket did not join: {e}")),
            None => return Err("the sockets ended".into()),
        }
    }
    say(format!(
        "{sockets} sockets joined in {:.2} s",
        started.elapsed().as_secs_f64()
    ));
    // Let the join announcements settle.
    sleep(Duration::from_secs(2)).await;

    let expected_each = sockets - 1;
    let stop_at = started + o.timeout;
    let mut sustained: Option<(u32, Duration)> = None;
    let mut held_any = false;
    for (s, step) in fleet.steps.iter().enumerate() {
        let window = step.window;
        if Instant::now() + window + DRAIN + BETWEEN > stop_at {
            say("STOPPED: the run's deadline (--timeout) is near".into());
            break;
        }
        sleep(BETWEEN).await;
        let cpu_before = cpu_of(&o.pids);
        let t0 = Instant::now() + Duration::from_millis(20);
        let _ = step.t0.set(t0);
        for tx in &senders {
            tx.send(s)
                .await
                .map_err(|_| "a sender's connection ended".to_string())?;
        }
        let expected = step.n * expected_each;
        // Until every message is sent and every receipt is in, or DRAIN after the last send
        // (a sender that fell behind sends after the window; its receipts get DRAIN too),
        // and never past the run's deadline.
        let mut sent_by = None;
        let mut give_up = t0 + window + DRAIN;
        while Instant::now() < give_up.min(stop_at) {
            if sent_by.is_none() && step.sent.load(Ordering::Acquire) >= step.n {
                let now = Instant::now();
                sent_by = Some(now);
                give_up = give_up.max(now + DRAIN);
            } else if sent_by.is_none() {
                give_up = give_up.max(Instant::now() + DRAIN);
            }
            if step.got.load(Ordering::Acquire) >= expected && sent_by.is_some() {
                break;
            }
            if !fleet
                .failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty()
            {
                break;
            }
            sleep(Duration::from_millis(5)).await;
        }
        let done = Instant::now();
        let cpu_after = cpu_of(&o.pids);
        let sent = step.sent.load(Ordering::Acquire);
        let got = step.got.load(Ordering::Acquire);
        step.closed.store(true, Ordering::Release);
        let (mut cross, mut local) = (Vec::new(), Vec::new());
        for r in &fleet.receipts {
            let mut all = r.lock().unwrap_or_else(PoisonError::into_inner);
            cross.extend_from_slice(&all[s].cross);
            local.extend_from_slice(&all[s].local);
            // Later receipts are counted as late: the step's data can go.
            all[s] = Receipts::default();
        }
        cross.sort_unstable();
        local.sort_unstable();
        let send_secs = sent_by
            .unwrap_or(done)
            .saturating_duration_since(t0)
            .as_secs_f64()
            .max(window.as_secs_f64());
        let p99 = pct(&cross, 99.0);
        let all_in = got == expected && sent == step.n;
        let holds = all_in && p99 <= o.p99_limit;
        let cpu = match (cpu_before, cpu_after) {
            (Some(a), Some(b)) => {
                let c = b.saturating_sub(a);
                format!(
                    "; servers' CPU {:.2} s ({:.0} % of one core, {:.1} µs per broadcast)",
                    c.as_secs_f64(),
                    c.as_secs_f64() * 100.0 / (done - t0).as_secs_f64(),
                    c.as_secs_f64() * 1e6 / sent.max(1) as f64
                )
            }
            _ => String::new(),
        };
        let name = if step.warm {
            "warm-up (not judged)".to_string()
        } else {
            format!("step {s}")
        };
        say(format!(
            "{name}: {} broadcasts/s asked, {sent} of {} sent in {send_secs:.2} s ({:.0}/s); {got} of {expected} receipts ({:.3} %); cross-node p50 {} p99 {} max {}; same-node p50 {} p99 {}{cpu} — {}",
            step.rate,
            step.n,
            sent as f64 / send_secs,
            got as f64 * 100.0 / expected as f64,
            ms(pct(&cross, 50.0)),
            ms(p99),
            ms(pct(&cross, 100.0)),
            ms(pct(&local, 50.0)),
            ms(pct(&local, 99.0)),
            if holds { "holds" } else if all_in { "p99 over the limit" } else { "receipts missing" }
        ));
        if step.warm {
            continue;
        }
        if !holds {
            break;
        }
        held_any = true;
        sustained = Some((step.rate as u32, p99));
    }
    // Late receipts after a missing step, and duplicates, show up here.
    let duplicates = fleet.duplicates.load(Ordering::Relaxed);
    let strays = fleet.strays.load(Ordering::Relaxed);
    let late = fleet.late.load(Ordering::Relaxed);
    match sustained {
        Some((rate, p99)) => say(format!(
            "SUSTAINED {rate} broadcasts/s across {nodes} nodes (cross-node p99 {} ≤ {}), {} receipts/s",
            ms(p99),
            ms(o.p99_limit),
            u64::from(rate) * expected_each as u64
        )),
        None => say(format!("SUSTAINED none: no step held (p99 limit {})", ms(o.p99_limit))),
    }
    say(format!(
        "{duplicates} duplicates, {strays} unexpected chat messages, {late} receipts after their step's report; load average {}, total {:.1} s",
        load_average(),
        started.elapsed().as_secs_f64()
    ));
    let failures = fleet
        .failures
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if duplicates > 0 || !failures.is_empty() || !held_any {
        return Err(format!(
            "{duplicates} duplicated receipts, {} sockets failed{}{}",
            failures.len(),
            failures
                .first()
                .map(|f| format!(" (first: {f})"))
                .unwrap_or_default(),
            if held_any { "" } else { ", no step held" }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(nodes: usize, n: usize) -> Fleet {
        Fleet {
            nodes,
            steps: vec![Step {
                warm: false,
                window: Duration::from_secs(1),
                n,
                rate: 1000.0,
                t0: OnceLock::new(),
                got: AtomicUsize::new(0),
                sent: AtomicUsize::new(0),
                closed: std::sync::atomic::AtomicBool::new(false),
            }],
            receipts: (0..2)
                .map(|_| Mutex::new(vec![Receipts::default()]))
                .collect(),
            duplicates: AtomicUsize::new(0),
            strays: AtomicUsize::new(0),
            late: AtomicUsize::new(0),
            failures: Mutex::new(Vec::new()),
        }
    }

    #[test]
    fn receipts_are_counted_once_and_split_by_the_senders_node() {
        let f = fleet(3, 100);
        // Before the step starts, and beyond it: strays.
        f.record(0, 1, 5);
        assert_eq!(f.strays.load(Ordering::Relaxed), 1);
        let _ = f.steps[0].t0.set(Instant::now());
        f.record(0, 1, 100);
        f.record(0, 1, STRIDE + 1);
        assert_eq!(f.strays.load(Ordering::Relaxed), 3);
        // 4 and 7 come from node 1's sender (4 mod 3, 7 mod 3), 5 from node 2's.
        for k in [4, 5, 7, 5] {
            f.record(0, 1, k);
        }
        f.record(1, 2, 5);
        assert_eq!(f.duplicates.load(Ordering::Relaxed), 1);
        assert_eq!(f.steps[0].got.load(Ordering::Relaxed), 4);
        let r = f.receipts[0].lock().unwrap();
        assert_eq!((r[0].local.len(), r[0].cross.len()), (2, 1));
        let r = f.receipts[1].lock().unwrap();
        assert_eq!((r[0].local.len(), r[0].cross.len()), (1, 0));
        drop(r);
        // After the step's report: counted as late, not kept.
        f.steps[0].closed.store(true, Ordering::Release);
        f.record(1, 2, 8);
        assert_eq!(f.late.load(Ordering::Relaxed), 1);
        assert_eq!(f.steps[0].got.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn options_bound_the_ladder() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let o = Options::parse(&args(
            "--sio-fleet 127.0.0.1:1,127.0.0.1:2 --rates 10,20 --seconds 2 --pids 1,2",
        ))
        .unwrap();
        assert_eq!(
            (o.addrs.len(), o.rates, o.pids),
            (2, vec![10, 20], vec![1, 2])
        );
        for bad in [
            "--rates 10",
            "--sio-fleet 10.0.0.1:1",
            "--sio-fleet 127.0.0.1:1 --rates 0",
            "--sio-fleet 127.0.0.1:1 --rates 10000000 --seconds 2",
            "--sio-fleet 127.0.0.1:1 --seconds 0",
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(pct(&v, 50.0), Duration::from_micros(50));
        assert_eq!(pct(&v, 99.0), Duration::from_micros(99));
        assert_eq!(pct(&v, 100.0), Duration::from_micros(100));
        assert_eq!(pct(&[], 99.0), Duration::ZERO);
    }
}
