//! `cargo xtask interop`: pushwire against software nobody here wrote.
//!
//! * SSE: a real `EventSource` in headless Chromium (Debian's `chromium`, driven by
//!   playwright-core) reads a stream written by pushwire-sse's encoder
//!   (`crates/sse/examples/browser_check.rs` + `tests/interop/browser/sse-browser.js`).
//! * Engine.io: the unmodified engine.io-client 3.5.6 against pushwire's `Server`, and
//!   pushwire's `client::Session` against the engine.io 3.6.2 server, over polling, websocket
//!   and polling upgraded to websocket (`tests/interop/node/run-eio-interop.js`); and a live
//!   differential of random packets and payloads against engine.io-parser 2.2.1
//!   (`tests/interop/node/eio-differential.js`) and, for protocol v4, 5.2.3
//!   (`tests/interop/node/eio4-differential.js`).
//! * Socket.IO (`socketio-parser`): a live differential of fresh random packets and message
//!   sequences against socket.io-parser 3.4.3 and 4.2.7
//!   (`tests/interop/node/gen-sio-vectors.js`, checked by
//!   `crates/socketio/tests/differential.rs`).
//!
//! * `pushwire serve` (crates/cli): the demo page in headless Chromium (SSE with a dropped
//!   stream and Last-Event-ID resume, WebSocket echo and chat, the page's Engine.io chat
//!   upgrading to websocket; saves target/demo.png, or $PUSHWIRE_SCREENSHOT), node `ws` 8.x clients against /ws/echo
//!   and /ws/chat, and the unmodified engine.io-client 3.5.6 and 6.6 (protocol v3 and v4)
//!   against /engine.io/ over polling, websocket and upgrade
//!   (`tests/interop/browser/demo-browser.js`, `tests/interop/node/ws-node.js`,
//!   `tests/interop/node/eio-client-echo.js`, `tests/interop/node/eio4-client-check.js`).
//!   `sse-h2-many`: 100 EventSources from one page of headless Chromium (`/sse/many`) to
//!   `pushwire serve --self-signed` over h2, then to a plain `pushwire serve` over
//!   HTTP/1.1, then over HTTP/1.1 with TLS (`--disable-http2`): over h2 all receive on one
//!   connection; over HTTP/1.1 Chromium's six connections per host let six through and
//!   the page is stuck (`tests/interop/browser/sse-many.js`).
//!   `serve-engineio-v4`: `pushwire serve --reference-apps` (the v4 spec's test-suite echo
//!   server) against engine.io-client 6.6 — polling, websocket, upgrade, heartbeats at 300 ms,
//!   maxPayload exceeded — and engine.io-client 3.5.6, all at once on one server process.
//!   `serve-bad-path`: the same reference apps through a bad path — a TCP relay in the node
//!   process (no netem here) that adds 40 ms each way, refuses the websocket, goes silent
//!   after the upgrade or cuts it — against engine.io-client 6.6 (the upgrade under latency,
//!   polling kept when the websocket is refused, `ping timeout` on a silent path) and
//!   socket.io-client 4.8 (reconnection by itself after a cut, acks both ways under latency);
//!   every case has a deadline (`tests/interop/socketio/bad-path.js`).
//!   `engineio-client-v6`: pushwire-tokio's Engine.io client (v3 and v4, every transport)
//!   against the engine.io 6.6 server (`tests/interop/node/eio6-server-echo.js`).
//!   `serve-socketio`: the unmodified socket.io-client 4.8 and 2.5 against `pushwire serve
//!   --reference-apps` at /socket.io/ (the interop app of `tests/interop/socketio/APP.md`):
//!   15 checks per run over polling, websocket and upgrade, both clients in one room
//!   (`--mixed`), and reconnection after the server is restarted
//!   (`tests/interop/socketio/client-check.js`). `socketio-client`: pushwire-tokio's
//!   Socket.IO client against the socket.io 4.8 and 2.5 servers, every transport, with
//!   restarts (`tests/interop/socketio-client/run.sh`).
//!   `sse-client`: pushwire-tokio's SSE client (`pushwire_tokio::sse::EventSource`,
//!   `crates/tokio/examples/sse_client_check.rs`) against event-stream servers on
//!   sse-starlette 3.5 (starlette 1.7, uvicorn 0.54; `tests/interop/python/sse_server.py`)
//!   and better-sse 0.16 (node `http`; `tests/interop/node/sse-server.js`): streams broken
//!   mid-event and ended cleanly (every id once, in order, the right `Last-Event-ID`, no
//!   reconnection before `retry`), the exponential backoff, 500, a wrong content type, 204
//!   and a read timeout (`tests/interop/sse/run.py`; times checked as lower bounds only).
//!   `redis-fleet`: a mixed fleet on one Redis — two `pushwire serve --redis` nodes and one
//!   node socket.io 4.8 + @socket.io/redis-adapter 8 server, socket.io-client 4.8 on each, each
//!   server and Redis on a host of its own (network namespaces, 10 ms added between nodes and
//!   Redis), then Redis stopped and restarted under traffic (`fleet-outage.js`); then
//!   `--redis-wire socket.io-redis-5` with socket.io 2.5 + socket.io-redis 5.4 and
//!   socket.io-client 2.5 on 127.0.0.1 (`tests/interop/redis-adapter/fleet-check.js`,
//!   `v2/fleet-check.js`).
//!
//! * python `websockets` 17.4 (in the ignored venv `target/interop-venv`): its client
//!   against `pushwire serve` (pushwire-ws server role), and its server against
//!   `crates/cli/examples/ws_peer_check.rs` (pushwire-ws client role)
//!   (`tests/interop/python/`).
//!
//! * permessage-deflate (RFC 7692), compressed messages both ways, RSV1 checked on the wire
//!   or by counters: python `websockets` client -> `crates/ws/examples/deflate_peer.rs serve`
//!   and `deflate_peer client` -> python `websockets` server
//!   (`tests/interop/python/ws_deflate_client.py`, `ws_server.py`); node `ws` 8.x clients
//!   (`tests/interop/node/ws-deflate.js`); headless Chromium's WebSocket
//!   (`tests/interop/browser/ws-deflate-browser.js`), each against `deflate_peer serve`.
//!
//! * `load`: the bounded loopback load check — `pushwire loadtest` holds 10,000 idle
//!   WebSocket connections and 1,000 SSE streams to one `pushwire serve` and fans 20 chat
//!   messages out to all of them; it prints RSS per connection and fan-out times, and fails
//!   on a lost, duplicated or reordered message or a failed connection, never on timing.
//!
//! * `hostile`: hostile neighbours (issue 18) — `pushwire loadtest --hostile 1000` runs
//!   1,000 hostile clients of nine kinds (silent and slowloris connections, endless headers,
//!   oversized WebSocket lengths, junk after the handshake, deflate bombs, Engine.io bodies
//!   at and over `maxPayload`, SSE and WebSocket chat members that stop reading) against one
//!   `pushwire serve`
//!   while 100 chatters talk; it prints the chat latency without, during and after the
//!   attack and the server's RSS, and fails on a wrong answer to any hostile client, a lost
//!   or duplicated chat line, or a panic in the server's log — never on timing.
//!
//! Installs what it needs when missing: Debian's `chromium` and `redis-server` (apt-get, as
//! root) and the npm packages of each `tests/interop/*` folder (`npm ci`, into their ignored
//! `node_modules`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::hosts::{self, Hosts};
use crate::proc::{free_port, wait_for_addr, wait_for_port, Guard};
use crate::{cargo, run, succeeds};

/// One interop check.
type Check = fn() -> Result<(), String>;

/// Runs the interop checks named in `only` (every check when empty); Err names the ones
/// that failed.
pub(crate) fn interop(only: &[String]) -> Result<(), String> {
    let mut failed = Vec::new();
    let checks: &[(&str, Check)] = &[
        ("sse-browser", sse_browser),
        ("engineio-node", engineio_node),
        ("engineio-differential", engineio_differential),
        ("socketio-parser", socketio_parser),
        ("demo-browser", demo_browser),
        ("h2-browser", h2_browser),
        ("sse-h2-many", sse_h2_many),
        ("serve-ws-node", serve_ws_node),
        ("serve-engineio-client", serve_engineio_client),
        ("serve-engineio-v4", serve_engineio_v4),
        ("serve-bad-path", serve_bad_path),
        ("engineio-client-v6", engineio_client_v6),
        ("serve-socketio", serve_socketio),
        ("socketio-client", socketio_client),
        ("sse-client", sse_client),
        ("redis-fleet", redis_fleet),
        ("python-websockets", python_websockets),
        ("ws-deflate-python", ws_deflate_python),
        ("ws-deflate-node", ws_deflate_node),
        ("ws-deflate-browser", ws_deflate_browser),
        ("load", load),
        ("hostile", hostile),
    ];
    if let Some(unknown) = only
        .iter()
        .find(|o| !checks.iter().any(|c| c.0 == o.as_str()))
    {
        let names: Vec<&str> = checks.iter().map(|c| c.0).collect();
        return Err(format!(
            "unknown check `{unknown}` (checks: {})",
            names.join(", ")
        ));
    }
    for &(name, check) in checks {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let t = Instant::now();
        let r = check();
        println!(
            "    interop {name}: {} in {:.1}s{}",
            if r.is_ok() { "ok" } else { "FAILED" },
            t.elapsed().as_secs_f64(),
            r.as_ref()
                .err()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
        if let Err(e) = r {
            // The reason goes into the summary, which is what a CI log's tail shows; a long
            // one is cut (the full text is printed above).
            let mut why: String = e.chars().take(300).collect();
            if why.len() < e.len() {
                why.push('…');
            }
            failed.push(format!("{name}: {why}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join("; ")))
    }
}

/// Installs Debian's chromium when /usr/bin/chromium is missing.
pub(crate) fn ensure_chromium() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").is_file() {
        return Ok(());
    }
    println!("    installing Debian's chromium (apt-get)");
    let apt = |args: &[&str]| {
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(args))
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "chromium"])
}

/// Installs Debian's redis-server when /usr/bin/redis-server is missing (the `redis-fleet`
/// check and pushwire-tokio's cluster test start their own throw-away servers).
pub(crate) fn ensure_redis() -> Result<(), String> {
    ensure_debian("/usr/bin/redis-server", "redis-server")
}

/// Installs Debian's `package` (apt-get, as root) when `file` is missing.
fn ensure_debian(file: &str, package: &str) -> Result<(), String> {
    if Path::new(file).is_file() {
        return Ok(());
    }
    println!("    installing Debian's {package} (apt-get)");
    let apt = |args: &[&str]| {
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(args))
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", package])
}

/// `npm ci` in an interop folder when its node_modules is missing.
pub(crate) fn ensure_npm(dir: &str) -> Result<(), String> {
    // Installed, and not older than the lock file (a package added since is installed).
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let installed = modified(&Path::new(dir).join("node_modules/.package-lock.json"));
    let wanted = modified(&Path::new(dir).join("package-lock.json"));
    if installed.is_some() && installed >= wanted {
        return Ok(());
    }
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--prefix", dir]))
}

/// Starts `program args…` and waits until it accepts connections on `port`.
fn start_server(program: &Path, args: &[String], port: u16) -> Result<Guard, String> {
    let mut child = Guard(
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?,
    );
    wait_for_port(port, &mut child.0, &program.display().to_string())?;
    Ok(child)
}

fn sse_browser() -> Result<(), String> {
    ensure_chromium()?;
    if !succeeds(Command::new("node").arg("--version")) {
        return Err("node is not installed".into());
    }
    ensure_npm("tests/interop/browser")?;
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "pushwire-sse",
        "--example",
        "browser_check",
    ]))?;
    let port = free_port()?;
    let _server = start_server(
        Path::new("target/release/examples/browser_check"),
        &[port.to_string()],
        port,
    )?;
    run(Command::new("node")
        .arg("tests/interop/browser/sse-browser.js")
        .arg(port.to_string()))
}

fn engineio_node() -> Result<(), String> {
    ensure_npm("tests/interop/node")?;
    run(cargo().args(["build", "-p", "pushwire-engineio", "--examples"]))?;
    run(Command::new("node").arg("tests/interop/node/run-eio-interop.js"))
}

/// Live differential against engine.io-parser 2.2.1: random packets and payloads
/// (`crates/engineio/examples/differential.rs`, seed `EIO_DIFF_SEED`, default 1) encoded by
/// both sides and compared byte for byte, each side decoding the other's output
/// (`tests/interop/node/eio-differential.js`); then the same for protocol v4 against
/// engine.io-parser 5.2.3 (`gen4`/`check4`, `tests/interop/node/eio4-differential.js`).
fn engineio_differential() -> Result<(), String> {
    ensure_npm("tests/interop/node")?;
    run(cargo().args([
        "build",
        "-p",
        "pushwire-engineio",
        "--example",
        "differential",
    ]))?;
    let dir = Path::new("target/eio-differential");
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let (ours, theirs) = (dir.join("pushwire.json"), dir.join("reference.json"));
    let seed = std::env::var("EIO_DIFF_SEED").unwrap_or_else(|_| "1".into());
    let example = Path::new("target/debug/examples/differential");
    run(Command::new(example)
        .args(["gen", &seed, "1000", "500"])
        .arg(&ours))?;
    run(Command::new("node")
        .arg("tests/interop/node/eio-differential.js")
        .arg(&ours)
        .arg(&theirs))?;
    run(Command::new(example).arg("check").arg(&ours).arg(&theirs))?;
    // Revision 4 against engine.io-parser 5.2.3, the same seed.
    let (ours, theirs) = (dir.join("pushwire-v4.json"), dir.join("reference-v4.json"));
    run(Command::new(example)
        .args(["gen4", &seed, "1000", "500"])
        .arg(&ours))?;
    run(Command::new("node")
        .arg("tests/interop/node/eio4-differential.js")
        .arg(&ours)
        .arg(&theirs))?;
    run(Command::new(example).arg("check4").arg(&ours).arg(&theirs))
}

/// Live differential against socket.io-parser 3.4.3 (revision 4) and 4.2.7 (revision 5):
/// `tests/interop/node/gen-sio-vectors.js` draws fresh random packets and message sequences
/// (seed `SIO_DIFF_SEED`, default: the time) and records what both parsers encode and
/// decode; `crates/socketio/tests/differential.rs` (`live_vectors`, reading `SIO_VECTORS`)
/// checks pushwire against them: every encoding byte for byte, every decoding equal unless
/// one of the documented quirks explains the difference.
fn socketio_parser() -> Result<(), String> {
    ensure_npm("tests/interop/node")?;
    let dir = Path::new("target/sio-differential");
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let vectors = dir.join("vectors.json");
    let seed = std::env::var("SIO_DIFF_SEED").unwrap_or_else(|_| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs());
        (t % 1_000_000_007).to_string()
    });
    println!("    socket.io-parser differential, seed {seed} (SIO_DIFF_SEED={seed} repeats it)");
    run(Command::new("node")
        .arg("tests/interop/node/gen-sio-vectors.js")
        .args([
            "--seed", &seed, "--encode", "400", "--decode", "1000", "--out",
        ])
        .arg(&vectors))?;
    let abs = std::fs::canonicalize(&vectors).map_err(|e| e.to_string())?;
    run(cargo().env("SIO_VECTORS", abs).args([
        "test",
        "-p",
        "pushwire-socketio",
        "--test",
        "differential",
        "live_vectors",
        "--",
        "--nocapture",
    ]))
}

/// Builds the release `pushwire` binary and starts `pushwire serve` on a free port.
fn start_pushwire_serve() -> Result<(Guard, u16), String> {
    start_pushwire_serve_with(&[])
}

/// The release `pushwire` binary, in `$CARGO_TARGET_DIR` when set (else `target/`).
fn pushwire_bin() -> std::path::PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
    Path::new(&dir).join("release/pushwire")
}

/// [`start_pushwire_serve`] with more arguments after `serve --addr 127.0.0.1:PORT`.
fn start_pushwire_serve_with(more: &[&str]) -> Result<(Guard, u16), String> {
    run(cargo().args(["build", "--release", "-p", "pushwire-cli"]))?;
    let port = free_port()?;
    let mut args = vec![
        "serve".to_string(),
        "--addr".to_string(),
        format!("127.0.0.1:{port}"),
    ];
    args.extend(more.iter().map(|a| a.to_string()));
    let server = start_server(&pushwire_bin(), &args, port)?;
    Ok((server, port))
}

fn demo_browser() -> Result<(), String> {
    ensure_chromium()?;
    ensure_npm("tests/interop/browser")?;
    let (_server, port) = start_pushwire_serve()?;
    // The screenshot goes to target/ so a run leaves the work tree clean; set
    // PUSHWIRE_SCREENSHOT=docs/demo.png to refresh the README's picture.
    let shot = std::env::var("PUSHWIRE_SCREENSHOT").unwrap_or_else(|_| "target/demo.png".into());
    run(Command::new("node")
        .arg("tests/interop/browser/demo-browser.js")
        .arg(port.to_string())
        .arg(shot))
}

/// `pushwire serve --self-signed` in headless Chromium over HTTPS: the page over h2, wss echo,
/// EventSource; then the server's log says how Chromium opened its WebSocket (an HTTP/2
/// extended CONNECT, RFC 8441, logs `CONNECT /ws/echo (HTTP/2)`; an HTTP/1.1 upgrade on a
/// second connection logs `GET /ws/echo`).
fn h2_browser() -> Result<(), String> {
    ensure_chromium()?;
    ensure_npm("tests/interop/browser")?;
    run(cargo().args(["build", "--release", "-p", "pushwire-cli"]))?;
    let port = free_port()?;
    std::fs::create_dir_all("target/interop").map_err(|e| e.to_string())?;
    let log_path = Path::new("target/interop/h2-serve.log");
    let log = std::fs::File::create(log_path).map_err(|e| e.to_string())?;
    let mut server = Guard(
        Command::new(pushwire_bin())
            .args([
                "serve",
                "--self-signed",
                "--addr",
                &format!("127.0.0.1:{port}"),
            ])
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start pushwire serve: {e}"))?,
    );
    wait_for_port(port, &mut server.0, "pushwire serve --self-signed")?;
    let checked = run(Command::new("node")
        .arg("tests/interop/browser/h2-browser.js")
        .arg(port.to_string()));
    drop(server);
    let text = std::fs::read_to_string(log_path).map_err(|e| e.to_string())?;
    let h2 = text
        .lines()
        .filter(|l| l.contains(": CONNECT /ws/echo (HTTP/2)"))
        .count();
    let h1 = text
        .lines()
        .filter(|l| l.contains(": GET /ws/echo"))
        .count();
    println!(
        "    Chromium's wss://…/ws/echo: {h2} by HTTP/2 extended CONNECT (RFC 8441), {h1} by HTTP/1.1 upgrade (log: {})",
        log_path.display()
    );
    checked?;
    // Chromium 156 opens them on the page's HTTP/2 connection (seen 2026-12-06): a fallback
    // to HTTP/1.1 would mean the server stopped announcing SETTINGS_ENABLE_CONNECT_PROTOCOL
    // or answering the CONNECT.
    if h2 == 0 || h1 > 0 {
        return Err(format!(
            "expected every /ws/echo by extended CONNECT: {h2} CONNECT, {h1} GET"
        ));
    }
    Ok(())
}

/// Starts the release `pushwire serve --addr 127.0.0.1:PORT more…` on a free port with its
/// output in `log` (created afresh).
fn start_logged_serve(more: &[&str], log: &Path) -> Result<(Guard, u16), String> {
    let port = free_port()?;
    let file = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let mut server = Guard(
        Command::new(pushwire_bin())
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(more)
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start pushwire serve: {e}"))?,
    );
    wait_for_port(port, &mut server.0, "pushwire serve")?;
    Ok((server, port))
}

/// Issue 14: 100 EventSources in one page (`/sse/many`) of headless Chromium, over h2
/// (`pushwire serve --self-signed`) and over HTTP/1.1 (a plain `pushwire serve`, and the TLS
/// one with Chromium's `--disable-http2`). `sse-many.js` reads the servers' logs
/// (target/interop/sse-many-*.log) to count the requests that arrived and the connections
/// they came on; it checks facts, never timing: h2 all 100 on one connection, HTTP/1.1 at
/// most 6 and the page stuck. About 30 s.
fn sse_h2_many() -> Result<(), String> {
    ensure_chromium()?;
    ensure_npm("tests/interop/browser")?;
    run(cargo().args(["build", "--release", "-p", "pushwire-cli"]))?;
    std::fs::create_dir_all("target/interop").map_err(|e| e.to_string())?;
    let (h2_log, h1_log) = (
        Path::new("target/interop/sse-many-h2.log"),
        Path::new("target/interop/sse-many-h1.log"),
    );
    let (_h2, h2_port) = start_logged_serve(&["--self-signed"], h2_log)?;
    let (_h1, h1_port) = start_logged_serve(&[], h1_log)?;
    run(Command::new("node")
        .arg("tests/interop/browser/sse-many.js")
        .arg(h2_port.to_string())
        .arg(h2_log)
        .arg(h1_port.to_string())
        .arg(h1_log))
}

fn serve_ws_node() -> Result<(), String> {
    ensure_npm("tests/interop/node")?;
    let (_server, port) = start_pushwire_serve()?;
    run(Command::new("node")
        .arg("tests/interop/node/ws-node.js")
        .arg(format!("127.0.0.1:{port}")))
}

fn serve_engineio_client() -> Result<(), String> {
    ensure_npm("tests/interop/node")?;
    let (_server, port) = start_pushwire_serve()?;
    let mut results = Vec::new();
    for mode in ["polling", "websocket", "upgrade"] {
        println!("    engine.io-client 3.5.6 -> pushwire serve /engine.io/ over {mode}");
        results.push(run(Command::new("node")
            .arg("tests/interop/node/eio-client-echo.js")
            .arg(format!("http://127.0.0.1:{port}"))
            .arg("0")
            .arg(mode)));
    }
    // The chat serves v4 clients too (one at a time here: the chat sends every message to
    // every session).
    for mode in ["polling", "websocket", "upgrade"] {
        println!("    engine.io-client 6.6 (EIO=4) -> pushwire serve /engine.io/ over {mode}");
        results.push(run(Command::new("node")
            .arg("tests/interop/node/eio4-client-check.js")
            .arg(format!("http://127.0.0.1:{port}"))
            .arg(mode)));
    }
    tally(&results, "", "engine.io-client modes")
}

/// Prints how many of `results` passed (`how`: appended to the line) and fails when any
/// did not (`what` names them in the error).
fn tally(results: &[Result<(), String>], how: &str, what: &str) -> Result<(), String> {
    let failed = results.iter().filter(|r| r.is_err()).count();
    println!(
        "    {} passed, {failed} failed{how}",
        results.len() - failed
    );
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} {what} failed"))
    }
}

/// engine.io-client 6.6 (protocol v4) and engine.io-client 3.5.6 (v3) at the same time
/// against one `pushwire serve --reference-apps` (the v4 spec's test-suite echo server:
/// pingInterval 300, pingTimeout 200, maxPayload 1e6, CORS `*`): v4 over polling,
/// websocket and the upgrade, heartbeats over several intervals on both transports, and a
/// message over maxPayload closing the session on both; v3 over the three transports with
/// three heartbeats each (`tests/interop/node/eio4-client-check.js`, `eio-client-echo.js`).
fn serve_engineio_v4() -> Result<(), String> {
    ensure_npm("tests/interop/node")?;
    let (_server, port) = start_pushwire_serve_with(&["--reference-apps"])?;
    let url = format!("http://127.0.0.1:{port}");
    let mut runs: Vec<(String, Command)> = Vec::new();
    for mode in [
        "polling",
        "websocket",
        "upgrade",
        "heartbeat-polling",
        "heartbeat-websocket",
        "maxpayload-polling",
        "maxpayload-websocket",
    ] {
        let mut c = Command::new("node");
        c.arg("tests/interop/node/eio4-client-check.js")
            .arg(&url)
            .arg(mode);
        runs.push((format!("engine.io-client 6.6 (EIO=4) {mode}"), c));
    }
    for mode in ["polling", "websocket", "upgrade"] {
        let mut c = Command::new("node");
        c.arg("tests/interop/node/eio-client-echo.js")
            .arg(&url)
            .arg("3")
            .arg(mode);
        runs.push((
            format!("engine.io-client 3.5.6 (EIO=3) {mode}, 3 heartbeats"),
            c,
        ));
    }
    // All at once, against the same server process.
    let started = Instant::now();
    let mut children = Vec::new();
    for (name, mut c) in runs {
        let child = c
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start node: {e}"))?;
        children.push((name, child));
    }
    let mut results = Vec::new();
    for (name, child) in children {
        let out = child
            .wait_with_output()
            .map_err(|e| format!("node failed: {e}"))?;
        let line = String::from_utf8_lossy(&out.stdout);
        let ok = out.status.success();
        println!(
            "    {} {name}: {}",
            if ok { "ok  " } else { "FAIL" },
            line.trim()
        );
        results.push(if ok { Ok(()) } else { Err(name) });
    }
    let how = format!(
        ", concurrently, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tally(&results, &how, "engine.io-client runs")
}

/// engine.io-client 6.6 and socket.io-client 4.8 against `pushwire serve --reference-apps`
/// over a bad path: a TCP relay in the node process delays every chunk 40 ms each way,
/// refuses connections for `transport=websocket`, goes silent right after the client's
/// upgrade packet (or later, after pings over the websocket) or cuts the websocket after the
/// upgrade (`tests/interop/socketio/bad-path.js`, one relay per case, each case with a
/// deadline; docs/reliability.md "Bad networks").
fn serve_bad_path() -> Result<(), String> {
    ensure_npm("tests/interop/socketio")?;
    let (_server, port) = start_pushwire_serve_with(&["--reference-apps"])?;
    run(Command::new("node")
        .arg("tests/interop/socketio/bad-path.js")
        .arg(format!("http://127.0.0.1:{port}")))
}

/// Builds pushwire-tokio's example `name` (debug) with `features`; its path, in
/// `$CARGO_TARGET_DIR` when set (else `target/`).
fn tokio_example(features: &str, name: &str) -> Result<std::path::PathBuf, String> {
    run(cargo().args([
        "build",
        "-p",
        "pushwire-tokio",
        "--features",
        features,
        "--example",
        name,
    ]))?;
    let dir = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
    Ok(Path::new(&dir).join("debug/examples").join(name))
}

/// pushwire-tokio's Engine.io client (`crates/tokio/examples/eio_client_check.rs`) against the
/// engine.io 6.6 server with `allowEIO3` (`tests/interop/node/eio6-server-echo.js`, pingInterval
/// 300, pingTimeout 200): revisions 3 and 4 over polling, websocket and the upgrade, text and
/// binary echoed before and after 1.5 s of heartbeats.
fn engineio_client_v6() -> Result<(), String> {
    ensure_npm("tests/interop/node")?;
    let check = tokio_example("engineio", "eio_client_check")?;
    let port = free_port()?;
    let _server = start_server(
        Path::new("node"),
        &[
            "tests/interop/node/eio6-server-echo.js".to_string(),
            port.to_string(),
            "300".to_string(),
            "200".to_string(),
        ],
        port,
    )?;
    let url = format!("http://127.0.0.1:{port}/engine.io/");
    let mut results = Vec::new();
    for protocol in ["3", "4"] {
        for mode in ["polling", "websocket", "upgrade"] {
            results.push(run(Command::new(&check).arg(&url).arg(protocol).arg(mode)));
        }
    }
    tally(&results, "", "pushwire client runs against engine.io 6")
}

/// The python venv with the packages of tests/interop/python/requirements.txt.
const VENV: &str = "target/interop-venv";

fn ensure_venv() -> Result<(), String> {
    let python = Path::new(VENV).join("bin/python");
    if !python.is_file() {
        run(Command::new("python3").args(["-m", "venv", VENV]))?;
    }
    if !succeeds(
        Command::new(&python).args(["-c", "import websockets, sse_starlette, starlette, uvicorn"]),
    ) {
        run(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "-q",
            "-r",
            "tests/interop/python/requirements.txt",
        ]))?;
    }
    Ok(())
}

fn python_websockets() -> Result<(), String> {
    ensure_venv()?;
    let python = Path::new(VENV).join("bin/python");
    let client = {
        let (_server, port) = start_pushwire_serve()?;
        println!("    python websockets client -> pushwire serve (pushwire-ws server role)");
        run(Command::new(&python)
            .arg("tests/interop/python/ws_client.py")
            .arg(format!("127.0.0.1:{port}")))
    };
    run(cargo().args(["build", "-p", "pushwire-cli", "--example", "ws_peer_check"]))?;
    let port = free_port()?;
    let server = {
        let _server = start_python_ws_server(&python, port)?;
        println!("    pushwire-ws client -> python websockets server");
        run(Command::new("target/debug/examples/ws_peer_check").arg(format!("127.0.0.1:{port}")))
    };
    client.and(server)
}

/// Starts `tests/interop/python/ws_server.py` (python websockets' echo server) on `port`.
fn start_python_ws_server(python: &Path, port: u16) -> Result<Guard, String> {
    start_server(
        python,
        &[
            "tests/interop/python/ws_server.py".to_string(),
            port.to_string(),
        ],
        port,
    )
}

/// Builds `crates/ws/examples/deflate_peer.rs` (debug) and starts `deflate_peer serve`.
fn start_deflate_peer() -> Result<(Guard, u16), String> {
    run(cargo().args(["build", "-p", "pushwire-ws", "--example", "deflate_peer"]))?;
    let port = free_port()?;
    let server = start_server(
        Path::new("target/debug/examples/deflate_peer"),
        &["serve".to_string(), port.to_string()],
        port,
    )?;
    Ok((server, port))
}

fn ws_deflate_python() -> Result<(), String> {
    ensure_venv()?;
    let python = Path::new(VENV).join("bin/python");
    let client = {
        let (_server, port) = start_deflate_peer()?;
        println!(
            "    python websockets client (deflate) -> pushwire-ws server (deflate_peer serve)"
        );
        run(Command::new(&python)
            .arg("tests/interop/python/ws_deflate_client.py")
            .arg(format!("127.0.0.1:{port}")))
    };
    let port = free_port()?;
    let server = {
        // websockets' server enables permessage-deflate by default (window bits 12).
        let _server = start_python_ws_server(&python, port)?;
        println!(
            "    pushwire-ws client (deflate_peer client) -> python websockets server (deflate)"
        );
        run(Command::new("target/debug/examples/deflate_peer")
            .arg("client")
            .arg(format!("127.0.0.1:{port}")))
    };
    client.and(server)
}

fn ws_deflate_node() -> Result<(), String> {
    ensure_npm("tests/interop/node")?;
    let (_server, port) = start_deflate_peer()?;
    println!(
        "    node ws 8.x clients (perMessageDeflate) -> pushwire-ws server (deflate_peer serve)"
    );
    run(Command::new("node")
        .arg("tests/interop/node/ws-deflate.js")
        .arg(format!("127.0.0.1:{port}")))
}

fn ws_deflate_browser() -> Result<(), String> {
    ensure_chromium()?;
    ensure_npm("tests/interop/browser")?;
    let (_server, port) = start_deflate_peer()?;
    println!(
        "    headless Chromium WebSocket (permessage-deflate) -> pushwire-ws server (deflate_peer serve)"
    );
    run(Command::new("node")
        .arg("tests/interop/browser/ws-deflate-browser.js")
        .arg(port.to_string()))
}

/// The load check: `pushwire loadtest` against a fresh `pushwire serve` (both raise their
/// own open-file limits; counts, durations and the 127.0.0.1 address are fixed).
fn load() -> Result<(), String> {
    let (server, port) = start_pushwire_serve()?;
    run(Command::new(pushwire_bin()).args([
        "loadtest",
        "--addr",
        &format!("127.0.0.1:{port}"),
        "--server-pid",
        &server.0.id().to_string(),
        "--ws",
        "10000",
        "--sse",
        "1000",
        "--messages",
        "20",
        "--timeout",
        "120",
    ]))
}

/// Hostile neighbours: `pushwire loadtest --hostile 1000` against a fresh `pushwire serve`
/// (its log kept in target/interop/hostile-serve.log and searched for panics).
fn hostile() -> Result<(), String> {
    run(cargo().args(["build", "--release", "-p", "pushwire-cli"]))?;
    let port = free_port()?;
    std::fs::create_dir_all("target/interop").map_err(|e| e.to_string())?;
    let log_path = Path::new("target/interop/hostile-serve.log");
    let log = std::fs::File::create(log_path).map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let mut server = Guard(
        Command::new(pushwire_bin())
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start pushwire serve: {e}"))?,
    );
    wait_for_port(port, &mut server.0, "pushwire serve")?;
    let checked = run(Command::new(pushwire_bin()).args([
        "loadtest",
        "--hostile",
        "1000",
        "--healthy",
        "100",
        "--seconds",
        "15",
        "--addr",
        &format!("127.0.0.1:{port}"),
        "--server-pid",
        &server.0.id().to_string(),
        "--timeout",
        "240",
    ]));
    drop(server);
    let text = std::fs::read(log_path).map_err(|e| e.to_string())?;
    let panics = String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| l.contains("panicked"))
        .count();
    checked?;
    if panics > 0 {
        return Err(format!(
            "{panics} panics in the server's log ({})",
            log_path.display()
        ));
    }
    println!("    no panic in the server's log");
    Ok(())
}

/// socket.io-client 4.8 and 2.5 (npm) against `pushwire serve --reference-apps`: six runs of
/// `client-check.js` at once (each client over polling, websocket and the upgrade, with both
/// clients sharing a room), then one reconnection run per client, each restarting the
/// server (`restart-pushwire.sh`), one after the other.
fn serve_socketio() -> Result<(), String> {
    ensure_npm("tests/interop/socketio")?;
    run(cargo().args(["build", "--release", "-p", "pushwire-cli"]))?;
    let port = free_port()?;
    std::fs::create_dir_all("target/interop").map_err(|e| e.to_string())?;
    let pidfile = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join("target/interop/serve-socketio.pid");
    let _ = std::fs::remove_file(&pidfile);
    let bin = std::fs::canonicalize(pushwire_bin()).map_err(|e| e.to_string())?;
    let restart = format!(
        "bash tests/interop/socketio/restart-pushwire.sh {} {} {port}",
        pidfile.display(),
        bin.display()
    );
    run(Command::new("sh").arg("-c").arg(&restart))?;
    // Whatever happens below, the last server started is stopped.
    struct Stop(std::path::PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            if let Ok(pid) = std::fs::read_to_string(&self.0) {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
    let _stop = Stop(pidfile.clone());
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let mut children = Vec::new();
    for client in ["4", "2"] {
        for transport in ["polling", "websocket", "upgrade"] {
            let child = Command::new("node")
                .arg("tests/interop/socketio/client-check.js")
                .args([client, &url, transport, "--mixed"])
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start node: {e}"))?;
            children.push((format!("socket.io-client {client}.x {transport}"), child));
        }
    }
    let mut results = Vec::new();
    let mut report = |name: String, out: std::process::Output| {
        let text = String::from_utf8_lossy(&out.stdout);
        let summary = text
            .lines()
            .filter(|l| l.starts_with("FAIL") || l.starts_with("SUMMARY"))
            .collect::<Vec<_>>()
            .join("; ");
        let ok = out.status.success();
        println!("    {} {name}: {summary}", if ok { "ok  " } else { "FAIL" });
        results.push(if ok { Ok(()) } else { Err(name) });
    };
    for (name, child) in children {
        let out = child
            .wait_with_output()
            .map_err(|e| format!("node failed: {e}"))?;
        report(name, out);
    }
    for client in ["4", "2"] {
        let out = Command::new("node")
            .arg("tests/interop/socketio/client-check.js")
            .args([client, &url, "upgrade", "--only", "reconnect"])
            .args(["--restart-cmd", &restart])
            .output()
            .map_err(|e| format!("cannot start node: {e}"))?;
        report(
            format!("socket.io-client {client}.x reconnect after a restart"),
            out,
        );
    }
    let how = format!(", in {:.1} s", started.elapsed().as_secs_f64());
    tally(&results, &how, "socket.io-client runs")
}

/// pushwire-tokio's Socket.IO client (`crates/tokio/examples/sio_client_check.rs`) against
/// the socket.io 4.8 and 2.5 servers, over the upgrade, polling and websocket, with server
/// restarts (`tests/interop/socketio-client/run.sh`).
fn socketio_client() -> Result<(), String> {
    ensure_npm("tests/interop/socketio-client")?;
    run(Command::new("sh").arg("tests/interop/socketio-client/run.sh"))
}

/// pushwire-tokio's SSE client (`crates/tokio/examples/sse_client_check.rs`) against
/// sse-starlette 3.5 on uvicorn and better-sse 0.16 on node's `http`
/// (`tests/interop/python/sse_server.py`, `tests/interop/node/sse-server.js`), driven by
/// `tests/interop/sse/run.py` with the venv's python: seven checks per server, one line
/// each; server output in target/interop/sse-*.log.
fn sse_client() -> Result<(), String> {
    ensure_venv()?;
    ensure_npm("tests/interop/node")?;
    let check = tokio_example("sse", "sse_client_check")?;
    run(Command::new(Path::new(VENV).join("bin/python"))
        .arg("tests/interop/sse/run.py")
        .arg(check))
}

/// A mixed Redis fleet on one machine (issue 17): a throw-away redis-server, two `pushwire
/// serve --redis` nodes (P1, P2) and one node server (N3,
/// `tests/interop/redis-adapter/fleet-server.js`: socket.io 4.8 + @socket.io/redis-adapter 8),
/// socket.io-client 4.8 clients on each, checked by `fleet-check.js` (chats crossing nodes
/// exactly once, fetchSockets, serverSideEmitWithAck, broadcast with acks, socketsJoin,
/// disconnectSockets across the mix); then the same with `--redis-wire socket.io-redis-5`,
/// socket.io 2.5 + socket.io-redis 5.4 and socket.io-client 2.5 (`v2/`) on a fresh redis-server.
fn redis_fleet() -> Result<(), String> {
    ensure_redis()?;
    ensure_npm("tests/interop/redis-adapter")?;
    ensure_npm("tests/interop/redis-adapter/v2")?;
    run(cargo().args(["build", "--release", "-p", "pushwire-cli"]))?;
    // The socket.io 4 fleet runs on separate hosts where namespaces can be made (root,
    // iproute2), the socket.io 2 fleet on loopback.
    let _ = ensure_debian("/usr/sbin/ip", "iproute2");
    let apart = hosts::available();
    if !apart {
        println!("    network namespaces unavailable (root and iproute2 needed): every fleet on 127.0.0.1");
    }
    let mut results = Vec::new();
    for (label, dir, wire, apart) in [
        (
            "redis-adapter 8 / socket.io 4.8",
            "tests/interop/redis-adapter",
            "redis-adapter-8",
            apart,
        ),
        (
            "socket.io-redis 5 / socket.io 2.5",
            "tests/interop/redis-adapter/v2",
            "socket.io-redis-5",
            false,
        ),
    ] {
        let started = Instant::now();
        let r = fleet_run(dir, wire, apart);
        let how = format!("in {:.1} s", started.elapsed().as_secs_f64());
        match &r {
            Ok(()) => println!("    ok   fleet {label}: {how}"),
            Err(e) => println!("    FAIL fleet {label}: {e} ({how})"),
        }
        results.push(r.map_err(|_| label.to_string()));
    }
    tally(&results, "", "fleets")
}

/// Added latency between a node and Redis on separate hosts, each way (delay-relay.js).
const FLEET_DELAY_MS: &str = "10";

/// Starts `program args` (on host `i` of `hosts`, if any) and waits until `addr` accepts.
fn start_at(
    hosts: Option<&Hosts>,
    i: usize,
    program: &str,
    args: &[String],
    addr: &str,
) -> Result<Guard, String> {
    let mut cmd = match hosts {
        Some(h) => {
            let mut prefix = h.exec(i);
            let mut c = Command::new(prefix.remove(0));
            c.args(prefix).arg(program);
            c
        }
        None => Command::new(program),
    };
    let mut child = Guard(
        cmd.args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?,
    );
    wait_for_addr(addr, &mut child.0, program)?;
    Ok(child)
}

/// One fleet: redis-server, P1 and P2 (`pushwire serve --redis URL --redis-wire wire`), N3
/// (`node dir/fleet-server.js`), then `node dir/fleet-check.js` and, where the folder has
/// it, `node dir/fleet-outage.js` (Redis stopped and restarted under traffic), whose lines
/// are printed. With `apart`, Redis, P1, P2 and N3 each run on a host of their own (network
/// namespaces, [`Hosts`]) and the nodes reach Redis through `delay-relay.js`, which adds
/// [`FLEET_DELAY_MS`] each way; the checks run in the root namespace and reach the nodes
/// over their veths. Otherwise everything is on 127.0.0.1.
fn fleet_run(dir: &str, wire: &str, apart: bool) -> Result<(), String> {
    // Dropped last: the servers on these hosts go first.
    let hosts = if apart {
        match Hosts::create(&["r", "p1", "p2", "n3"]) {
            Ok(h) => Some(h),
            Err(e) => {
                println!("      separate hosts could not be made ({e}): on 127.0.0.1");
                None
            }
        }
    } else {
        None
    };
    let h = hosts.as_ref();
    let (redis_host, redis_port) = match h {
        Some(h) => (h.ip(0), 6379),
        None => ("127.0.0.1".to_string(), free_port()?),
    };
    let redis_args = [
        "--port",
        &redis_port.to_string(),
        "--bind",
        &redis_host,
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning",
        // Clients from other hosts (the relay's address is not loopback); the namespaces
        // are reachable from this machine only.
        "--protected-mode",
        "no",
    ]
    .map(String::from);
    let redis_addr = format!("{redis_host}:{redis_port}");
    let _redis = start_at(h, 0, "redis-server", &redis_args, &redis_addr)?;
    let redis_url = format!("redis://{redis_addr}/");
    // What the nodes use: Redis itself, or the delaying relay in front of it.
    let (_relay, nodes_redis) = match h {
        Some(h) => {
            let relay_addr = format!("{}:6380", h.ip(0));
            let args = [
                "tests/interop/redis-adapter/delay-relay.js",
                &relay_addr,
                &redis_addr,
                FLEET_DELAY_MS,
            ]
            .map(String::from);
            let g = start_at(Some(h), 0, "node", &args, &relay_addr)?;
            (Some(g), format!("redis://{relay_addr}/"))
        }
        None => (None, redis_url.clone()),
    };
    let mut guards = Vec::new();
    let mut urls = Vec::new();
    for i in 1..=3 {
        let (host, port) = match h {
            Some(h) => (h.ip(i), 3000),
            None => ("127.0.0.1".to_string(), free_port()?),
        };
        let addr = format!("{host}:{port}");
        let (program, args) = if i < 3 {
            let bin = pushwire_bin().display().to_string();
            let args = [
                "serve",
                "--addr",
                &addr,
                "--redis",
                &nodes_redis,
                "--redis-wire",
                wire,
            ]
            .map(String::from)
            .to_vec();
            (bin, args)
        } else {
            let script = format!("{dir}/fleet-server.js");
            let args = vec![script, port.to_string(), nodes_redis.clone(), host.clone()];
            ("node".to_string(), args)
        };
        guards.push(start_at(h, i, &program, &args, &addr)?);
        urls.push(format!("http://{addr}"));
    }
    if h.is_some() {
        println!(
            "      on separate hosts: Redis {redis_addr} behind a {FLEET_DELAY_MS} ms relay, P1 {}, P2 {}, N3 {} (network namespaces)",
            urls[0], urls[1], urls[2]
        );
    }
    node_script(&format!("{dir}/fleet-check.js"), &urls, &redis_url, &[])?;
    // Redis stopped and restarted under traffic (the script restarts it with this command).
    let outage = format!("{dir}/fleet-outage.js");
    if Path::new(&outage).exists() {
        let mut restart = vec!["--".to_string()];
        if let Some(h) = h {
            restart.extend(h.exec(0));
        }
        restart.push("redis-server".to_string());
        restart.extend(redis_args.iter().cloned());
        node_script(&outage, &urls, &redis_url, &restart)?;
    }
    Ok(())
}

/// Runs `node script URLS… REDIS_URL EXTRA…`, printing its lines; Err when it fails.
fn node_script(
    script: &str,
    urls: &[String],
    redis_url: &str,
    extra: &[String],
) -> Result<(), String> {
    let out = Command::new("node")
        .arg(script)
        .args(urls)
        .arg(redis_url)
        .args(extra)
        .output()
        .map_err(|e| format!("cannot start node: {e}"))?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        println!("      {line}");
    }
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.trim().is_empty() {
        println!("      (stderr) {}", err.trim());
    }
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{script} failed"))
    }
}
