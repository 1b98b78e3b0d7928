//! `pushwire loadtest --sio-broadcast N`: a Socket.IO broadcast to `N` sockets in one room.
//!
//! It speaks to any server with the protocol of `pushwire serve`'s Socket.IO chat
//! (`siochat.rs`) at `/socket.io/`: `join(room)` answered with an ack `{ok: true, …}`, and
//! `chat({room, text})` sent as `chat {room, from, text}` to every **other** socket of the
//! room, answered with an ack `{ok: true, delivered}`. `tests/interop/socketio-bench/`
//! holds a node socket.io 4 server with the same protocol, and the script that runs both.
//!
//! Each of the `N` receivers is one tokio task on one WebSocket
//! (`/socket.io/?EIO=4&transport=websocket`, pushwire-ws in the client role) that speaks
//! Engine.io 4 / Socket.IO 5 by hand, with as little parsing as the exchange needs: it
//! answers the ping `2` with `3`, waits for the open packet `0{…}`, sends `40`, waits for
//! `40{…}`, emits `420["join","bench"]` and waits for the ack `430[{"ok":true,…}]`; after
//! that it only looks for `42["chat",…"text":"bench <k>"…]` and records when round `k`
//! arrived. Anything else (the chat's room lists, say) is counted and dropped.
//!
//! Once every receiver has joined (at most [`CONNECTING`] handshakes in flight), and the server's
//! traffic has settled, one more socket joins the room and emits `chat` once as a warm-up (not
//! counted) and then `--rounds` times, each round once the previous one reached every receiver
//! still connected (or after [`PER_ROUND`]) and a [`PAUSE`]. A receipt's latency is its arrival
//! time less the send time (one clock: the sender and the receivers are in this process). It
//! reports the p50/p99/max of every receipt and of each round's last receipt, the
//! delivered/expected count, the server's resident memory before connecting and with every socket
//! joined (`--server-pid`), and the CPU time both processes spent in the rounds. Any receipt
//! missing or duplicated, or any receiver failing, makes it exit with status 1; timing is reported,
//! never judged.
//!
//! Bounded like the other mode: fixed counts, a deadline per connection, per round and for
//! the whole run (`--timeout`), the open-file limit raised (and the count scaled down,
//! saying so, if it or the local port range is too small), loopback addresses only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tokio::time::{sleep, timeout, timeout_at, Instant};

use crate::loadtest::{
    load_average, local_ports, ms, percentile, rss_kib, ws_connect, Shared, WsPeer, CONNECTING,
    SPARE_FDS,
};

/// The Engine.io 4 WebSocket endpoint, without polling first.
const PATH: &str = "/socket.io/?EIO=4&transport=websocket";
/// The room everybody joins.
const ROOM: &str = "bench";
/// Longest wait for one round to reach every receiver.
const PER_ROUND: Duration = Duration::from_secs(15);
/// Pause between rounds, so that each broadcast is measured on its own.
const PAUSE: Duration = Duration::from_millis(200);
/// Longest wait for one socket's connection, Socket.IO connect and join.
const JOIN_WITHIN: Duration = Duration::from_secs(60);
/// Longest wait for the server's traffic to settle after the joins (see [`settle`]).
const SETTLE_WITHIN: Duration = Duration::from_secs(120);

/// Options of `pushwire loadtest --sio-broadcast N`.
#[derive(Debug)]
pub(crate) struct Options {
    addr: SocketAddr,
    server_pid: Option<u32>,
    sockets: usize,
    rounds: usize,
    timeout: Duration,
    label: String,
}

impl Options {
    /// Parses the arguments after `loadtest` (`--sio-broadcast N` among them).
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = Options {
            addr: "127.0.0.1:8080".parse().expect("valid default address"),
            server_pid: None,
            sockets: 10_000,
            rounds: 20,
            timeout: Duration::from_secs(300),
            label: "sio".into(),
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
                "--sio-broadcast" => o.sockets = number(value()?)?.max(1),
                "--rounds" => o.rounds = number(value()?)?.clamp(1, 10_000),
                "--timeout" => o.timeout = Duration::from_secs(number(value()?)? as u64),
                "--label" => o.label = value()?.clone(),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        if !o.addr.ip().is_loopback() {
            return Err("loadtest talks to a loopback address only".into());
        }
        Ok(o)
    }
}

/// Runs the broadcast check; `Err` says why it failed.
pub(crate) fn run(opts: Options) -> Result<(), String> {
    let limit = opts.timeout;
    crate::loadtest::run_within(limit, limit + Duration::from_secs(10), check(opts))
}

// --- The little of the wire the clients parse -------------------------------------------

/// The round `k` of a received Engine.io message, if it is a chat broadcast of this check:
/// `42["chat",{…,"text":"bench <k>"…}]`. The text is looked for after the last
/// `"text":"`, so a sender name (which comes before it, and cannot hold `"`) cannot
/// shadow it.
pub(crate) fn chat_round(msg: &str) -> Option<usize> {
    let rest = msg.strip_prefix("42[\"chat\",")?;
    let at = rest.rfind("\"text\":\"bench ")?;
    let digits = &rest[at + "\"text\":\"bench ".len()..];
    let end = digits.find('"')?;
    let d = &digits[..end];
    if d.is_empty() || d.len() > 9 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    d.parse().ok()
}

/// The ack id and arguments of an ack in namespace `/` (`43<id>[…]`), if `msg` is one.
pub(crate) fn ack(msg: &str) -> Option<(u32, &str)> {
    let rest = msg.strip_prefix("43")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let id = rest[..digits].parse().ok()?;
    let args = &rest[digits..];
    args.starts_with('[').then_some((id, args))
}

/// The `delivered` count of a chat ack's arguments `[{"ok":true,"delivered":N}]`.
pub(crate) fn delivered(args: &str) -> Option<u64> {
    if !args.contains("\"ok\":true") {
        return None;
    }
    let at = args.find("\"delivered\":")? + "\"delivered\":".len();
    let digits: String = args[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .take(19)
        .collect();
    digits.parse().ok()
}

// --- The clients ------------------------------------------------------------------------

/// Connects to `PATH`, does the Engine.io and Socket.IO handshakes and joins [`ROOM`]
/// (ack id 0). Engine.io pings met on the way are answered.
pub(crate) async fn join(addr: SocketAddr) -> Result<WsPeer, String> {
    let mut p = ws_connect(addr, PATH)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    #[derive(PartialEq)]
    enum Stage {
        Open,
        Connect,
        Join,
    }
    let mut stage = Stage::Open;
    loop {
        let texts = p.step().await.map_err(|e| format!("{e}"))?;
        for t in &texts {
            let t = t.as_str();
            if t == "2" {
                p.conn.send_text("3").map_err(|e| e.to_string())?;
            } else if stage == Stage::Open && t.starts_with('0') {
                p.conn.send_text("40").map_err(|e| e.to_string())?;
                stage = Stage::Connect;
            } else if stage == Stage::Connect && t.starts_with("40") {
                let join = format!("420[\"join\",\"{ROOM}\"]");
                p.conn.send_text(join.as_str()).map_err(|e| e.to_string())?;
                stage = Stage::Join;
            } else if t.starts_with("44") {
                return Err(format!("refused: {t}"));
            } else if stage == Stage::Join {
                if let Some((0, args)) = ack(t) {
                    if !args.contains("\"ok\":true") {
                        return Err(format!("join refused: {t}"));
                    }
                    p.flush().await.map_err(|e| e.to_string())?;
                    return Ok(p);
                }
            }
        }
    }
}

/// [`join`] once a permit of `gate` is free (at most that many handshakes in flight),
/// within [`JOIN_WITHIN`].
pub(crate) async fn join_gated(gate: &Semaphore, addr: SocketAddr) -> Result<WsPeer, String> {
    let permit = gate.acquire().await;
    let r = timeout(JOIN_WITHIN, join(addr)).await;
    drop(permit);
    r.unwrap_or_else(|_| Err("connect and join timed out".into()))
}

/// What the receivers, the sender and the driver share.
struct Bench {
    /// Send times, receipt times and counts per round.
    rounds: Shared,
    /// Messages the receivers got that were neither pings nor chat (room lists, …).
    other: AtomicUsize,
    /// Per round: the `delivered` of the sender's ack.
    acked: Mutex<Vec<Option<u64>>>,
}

/// Receives until the connection ends (which, before the end of the run, is a failure).
async fn receive(mut p: WsPeer, bench: &Bench) {
    let mut next = 0;
    let why = loop {
        let texts = match p.step().await {
            Ok(t) => t,
            Err(e) => break format!("receiver: {e}"),
        };
        for t in &texts {
            if t == "2" {
                if p.conn.send_text("3").is_err() {
                    bench
                        .rounds
                        .fail("receiver: the server closed the WebSocket (pong refused)".into());
                    return;
                }
            } else if let Some(k) = chat_round(t) {
                bench.rounds.record(k, &mut next);
            } else {
                bench.other.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
    bench.rounds.fail(why);
}

/// The sender: emits `chat` with `bench <k>` (ack id `k + 1`) for each `k` received,
/// records when it went out, and records the ack's `delivered`; until `cmds` closes.
async fn send_loop(mut p: WsPeer, mut cmds: mpsc::Receiver<usize>, bench: &Bench) {
    let mut buf = [0u8; 2048];
    loop {
        tokio::select! {
            k = cmds.recv() => {
                let Some(k) = k else { return };
                let msg = format!(
                    "42{}[\"chat\",{{\"room\":\"{ROOM}\",\"text\":\"bench {k}\"}}]",
                    k + 1
                );
                if p.conn.send_text(msg.as_str()).is_err() {
                    bench.rounds.fail("sender: send refused".into());
                    return;
                }
                let _ = bench.rounds.sent_at[k].set(Instant::now());
            }
            r = p.read_some(&mut buf) => {
                let texts = match r.and_then(|()| p.texts()) {
                    Ok(t) => t,
                    Err(e) => {
                        bench.rounds.fail(format!("sender: {e}"));
                        return;
                    }
                };
                for t in &texts {
                    if t == "2" {
                        let _ = p.conn.send_text("3");
                    } else if let Some((id, args)) = ack(t) {
                        let mut acked = bench.acked.lock().unwrap_or_else(PoisonError::into_inner);
                        let slot = (id as usize).checked_sub(1).and_then(|k| acked.get_mut(k));
                        if let Some(slot) = slot {
                            *slot = delivered(args);
                        }
                    }
                }
            }
        }
        if let Err(e) = p.flush().await {
            bench.rounds.fail(format!("sender: {e}"));
            return;
        }
    }
}

/// Waits until the receivers have had no other traffic (room lists, …) for one second,
/// at most [`SETTLE_WITHIN`]; returns how many such messages had arrived by then.
async fn settle(bench: &Bench) -> usize {
    let until = Instant::now() + SETTLE_WITHIN;
    let mut last = bench.other.load(Ordering::Relaxed);
    while Instant::now() < until {
        sleep(Duration::from_secs(1)).await;
        let now = bench.other.load(Ordering::Relaxed);
        if now == last {
            break;
        }
        last = now;
    }
    last
}

/// How many receivers have failed since they joined.
fn dead(shared: &Shared) -> usize {
    shared
        .failures
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len()
}

fn kib_per(delta_kib: u64, n: usize) -> f64 {
    delta_kib as f64 / n.max(1) as f64
}

async fn check(mut o: Options) -> Result<(), String> {
    let tag = o.label.clone();
    let say = |s: String| println!("{tag}: {s}");
    // Room for the sockets: the open-file limit and the local port range.
    let wanted = o.sockets;
    let mut room = wanted;
    if let Some(nofile) = crate::os::raise_nofile() {
        room = room.min((nofile as usize).saturating_sub(SPARE_FDS));
    }
    if let Some(ports) = local_ports() {
        room = room.min(ports.saturating_sub(SPARE_FDS));
    }
    if room < wanted {
        o.sockets = room;
        say(format!(
            "SCALED DOWN to {room} receivers (the open-file limit or the local port range allow no more)"
        ));
    }
    let receivers = o.sockets;
    if receivers == 0 {
        return Err("no room for any receiver".into());
    }
    say(format!(
        "machine: {} CPUs, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    ));
    let rss_before = o.server_pid.and_then(rss_kib);

    let bench = Arc::new(Bench {
        rounds: Shared::new(receivers, o.rounds),
        other: AtomicUsize::new(0),
        acked: Mutex::new(vec![None; o.rounds + 1]),
    });

    // Connect and join every receiver, CONNECTING at a time.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    for _ in 0..receivers {
        let (gate, ready, bench, addr) = (gate.clone(), ready_tx.clone(), bench.clone(), o.addr);
        tokio::spawn(async move {
            match join_gated(&gate, addr).await {
                Ok(p) => {
                    let _ = ready.send(Ok(()));
                    receive(p, &bench).await;
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
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
    let joined_in = started.elapsed();
    say(format!(
        "{ok} of {receivers} sockets connected and joined room `{ROOM}` in {:.2} s ({:.0} joins/s), {failed} failed",
        joined_in.as_secs_f64(),
        ok as f64 / joined_in.as_secs_f64()
    ));
    if let Some(e) = &first_error {
        say(format!(
            "CONTINUING with the {ok} sockets that joined; {failed} failed (first: {e})"
        ));
    }
    if ok == 0 {
        return Err("no socket joined".into());
    }
    let receivers = ok;
    bench.rounds.set_receivers(receivers);
    let other = settle(&bench).await;
    say(format!(
        "settled {:.1} s after the last join; {other} other messages received (room lists, …)",
        (started.elapsed() - joined_in).as_secs_f64()
    ));
    let rss_joined = o.server_pid.and_then(rss_kib);
    if let (Some(a), Some(b)) = (rss_before, rss_joined) {
        say(format!(
            "server RSS {:.1} MiB before, {:.1} MiB with {receivers} joined sockets: {:.2} KiB per socket",
            a as f64 / 1024.0,
            b as f64 / 1024.0,
            kib_per(b.saturating_sub(a), receivers)
        ));
    }

    // The sender: one more socket in the room, not counted among the receivers.
    let sender = timeout(JOIN_WITHIN, join(o.addr))
        .await
        .map_err(|_| "sender: join timed out".to_string())?
        .map_err(|e| format!("sender: {e}"))?;
    let (send_tx, send_rx) = mpsc::channel::<usize>(1);
    let sender_bench = bench.clone();
    tokio::spawn(async move { send_loop(sender, send_rx, &sender_bench).await });

    let shared = &bench.rounds;
    let mut last_per_round = Vec::new();
    let (mut server_cpu, mut own_cpu) = (Duration::ZERO, Duration::ZERO);
    let me = std::process::id();
    let mut short_rounds = 0;
    // Stop sending before the run's deadline, leaving time for the report.
    let stop_at = started + o.timeout.saturating_sub(Duration::from_secs(5));
    let mut rounds_sent = 0;
    for k in 0..=o.rounds {
        if Instant::now() + PER_ROUND + PAUSE > stop_at {
            say(format!(
                "STOPPED after {} rounds: the run's deadline (--timeout) is near",
                k.saturating_sub(1)
            ));
            short_rounds += o.rounds + 1 - k;
            break;
        }
        rounds_sent = k;
        sleep(PAUSE).await;
        let cpu_before = (
            o.server_pid.and_then(crate::os::cpu_time),
            crate::os::cpu_time(me),
        );
        send_tx
            .send(k)
            .await
            .map_err(|_| "the sender's connection ended".to_string())?;
        let deadline = Instant::now() + PER_ROUND;
        // Every receiver still connected has it (a receiver the server closed never will:
        // checked every 50 ms), or the round's deadline.
        while shared.counts[k].load(Ordering::Acquire) < receivers.saturating_sub(dead(shared)) {
            if Instant::now() >= deadline {
                break;
            }
            let tick = (Instant::now() + Duration::from_millis(50)).min(deadline);
            let _ = timeout_at(tick, shared.all_in.notified()).await;
        }
        let got = shared.counts[k].load(Ordering::Acquire);
        if got < receivers {
            short_rounds += 1;
            say(format!(
                "round {k} reached {got} of {receivers} receivers within {} s",
                PER_ROUND.as_secs()
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
            let last = shared.arrivals[k]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .copied()
                .max()
                .unwrap_or_default();
            last_per_round.push(last);
        }
    }
    // Late receipts and duplicates would show up here.
    sleep(Duration::from_millis(500)).await;
    let rss_after = o.server_pid.and_then(rss_kib);

    last_per_round.sort();
    let mut each: Vec<Duration> = shared.arrivals[1..]
        .iter()
        .flat_map(|a| a.lock().unwrap_or_else(PoisonError::into_inner).clone())
        .collect();
    each.sort();
    let expected = receivers * o.rounds.max(1);
    let failed_now = shared
        .failures
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len();
    if failed_now > 0 {
        say(format!("{failed_now} receivers failed during the run"));
    }
    let got: usize = shared.counts[1..]
        .iter()
        .map(|c| c.load(Ordering::Acquire))
        .sum();
    say(format!(
        "broadcast to {receivers} sockets, {} rounds (after 1 warm-up): delivered {got} of {expected} ({:.2} %)",
        o.rounds,
        got as f64 * 100.0 / expected as f64
    ));
    say(format!(
        "every receipt: p50 {}, p99 {}, max {}",
        ms(percentile(&each, 50.0)),
        ms(percentile(&each, 99.0)),
        ms(each.last().copied().unwrap_or_default()),
    ));
    say(format!(
        "last receipt per round (the whole broadcast): p50 {}, p99 {}, min {}, max {}",
        ms(percentile(&last_per_round, 50.0)),
        ms(percentile(&last_per_round, 99.0)),
        ms(last_per_round.first().copied().unwrap_or_default()),
        ms(last_per_round.last().copied().unwrap_or_default()),
    ));
    let acked = bench
        .acked
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let acks: Vec<String> = {
        let mut v: Vec<String> = acked[1..]
            .iter()
            .map(|a| a.map_or("none".into(), |d| d.to_string()))
            .collect();
        v.dedup();
        v
    };
    say(format!(
        "the sender's acks said delivered: {}",
        acks.join(", ")
    ));
    if o.server_pid.is_some() {
        say(format!(
            "CPU time during the rounds: server {} per round ({:.2} µs per receipt), load generator {} per round",
            ms(server_cpu / rounds_sent.max(1) as u32),
            server_cpu.as_secs_f64() * 1e6 / got.max(1) as f64,
            ms(own_cpu / rounds_sent.max(1) as u32),
        ));
    }
    if let Some(b) = rss_after {
        say(format!(
            "server RSS after the rounds {:.1} MiB",
            b as f64 / 1024.0
        ));
    }
    say(format!(
        "load average {}, total {:.1} s",
        load_average(),
        started.elapsed().as_secs_f64()
    ));

    let extra: usize = shared
        .counts
        .iter()
        .map(|c| c.load(Ordering::Acquire).saturating_sub(receivers))
        .sum();
    let misordered = shared.misordered.load(Ordering::Relaxed);
    let failures = shared
        .failures
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if failed > 0 || short_rounds > 0 || extra > 0 || misordered > 0 || !failures.is_empty() {
        return Err(format!(
            "{failed} sockets failed to join, {short_rounds} rounds incomplete, {extra} duplicated, {misordered} out of order, {} sockets failed after joining{}",
            failures.len(),
            failures
                .first()
                .map(|f| format!(" (first: {f})"))
                .unwrap_or_default()
        ));
    }
    say("every round reached every receiver exactly once, in order".into());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_round_reads_the_round_of_a_broadcast_only() {
        let pushwire = r#"42["chat",{"room":"bench","from":"guest-AbC","text":"bench 17"}]"#;
        assert_eq!(chat_round(pushwire), Some(17));
        let node = r#"42["chat",{"room":"bench","from":"x1","text":"bench 0"}]"#;
        assert_eq!(chat_round(node), Some(0));
        for other in [
            r#"42["rooms",[{"name":"bench","members":3}]]"#,
            r#"42["chat",{"room":"bench","text":"hello"}]"#,
            r#"42["chat",{"room":"bench","text":"bench "}]"#,
            r#"42["chat",{"room":"bench","text":"bench 1x"}]"#,
            r#"42["chat",{"room":"bench","text":"bench 12"#,
            r#"42["chat",{"room":"bench","text":"bench 99999999999"}]"#,
            r#"43["chat",{"text":"bench 1"}]"#,
            "2",
            "",
        ] {
            assert_eq!(chat_round(other), None, "{other}");
        }
    }

    #[test]
    fn ack_reads_the_id_and_the_arguments() {
        assert_eq!(
            ack(r#"430[{"ok":true,"rooms":["bench"]}]"#),
            Some((0, r#"[{"ok":true,"rooms":["bench"]}]"#))
        );
        assert_eq!(ack(r#"4312[{"ok":true}]"#), Some((12, r#"[{"ok":true}]"#)));
        assert_eq!(ack(r#"43[{"ok":true}]"#), None);
        assert_eq!(ack(r#"420["join","bench"]"#), None);
        assert_eq!(ack("430"), None);
        assert_eq!(ack("430x[]"), None);
        assert_eq!(ack("431234567890[]"), None);
    }

    #[test]
    fn delivered_reads_a_successful_ack_only() {
        assert_eq!(
            delivered(r#"[{"ok":true,"delivered":10000}]"#),
            Some(10_000)
        );
        assert_eq!(delivered(r#"[{"delivered":3,"ok":true}]"#), Some(3));
        assert_eq!(
            delivered(r#"[{"ok":false,"error":"not in that room"}]"#),
            None
        );
        assert_eq!(delivered(r#"[{"ok":true}]"#), None);
    }
}
