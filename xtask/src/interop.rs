//! `cargo xtask interop`: pushwire against software nobody here wrote.
//!
//! * SSE: a real `EventSource` in headless Chromium (Debian's `chromium`, driven by
//!   playwright-core) reads a stream written by pushwire-sse's encoder
//!   (`crates/sse/examples/browser_check.rs` + `tests/interop/browser/sse-browser.js`).
//! * Engine.io: the unmodified engine.io-client 3.5.6 against pushwire's `Server`, and
//!   pushwire's `ClientSession` against the engine.io 3.6.2 server, over polling, websocket
//!   and polling upgraded to websocket (`tests/interop/node/run-eio-interop.js`).
//!
//! Installs what it needs when missing: Debian's `chromium` (apt-get, as root) and the npm
//! packages of each `tests/interop/*` folder (`npm ci`, into their ignored `node_modules`).

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::{cargo, run, succeeds};

/// Kills the child when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One interop check.
type Check = fn() -> Result<(), String>;

/// Runs every interop check; Err names the ones that failed.
pub(crate) fn interop() -> Result<(), String> {
    let mut failed = Vec::new();
    let checks: [(&str, Check); 2] = [
        ("sse-browser", sse_browser),
        ("engineio-node", engineio_node),
    ];
    for (name, check) in checks {
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
        if r.is_err() {
            failed.push(name);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join(", ")))
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

/// `npm ci` in an interop folder when its node_modules is missing.
pub(crate) fn ensure_npm(dir: &str) -> Result<(), String> {
    if Path::new(dir).join("node_modules").is_dir() {
        return Ok(());
    }
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--prefix", dir]))
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
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
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(child);
        }
        if let Ok(Some(s)) = child.0.try_wait() {
            return Err(format!("{} exited early with {s}", program.display()));
        }
        sleep(Duration::from_millis(100));
    }
    Err(format!("{} did not listen on {port}", program.display()))
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
