//! `cargo xtask autobahn`: Autobahn|Testsuite against pushwire-ws in both roles, through
//! pushwire-tokio.
//!
//! * Server role: `wstest -m fuzzingclient` against `pushwire serve`'s `/ws/echo` (hyper,
//!   pushwire-tokio, permessage-deflate agreed when offered).
//! * `--deflate` runs cases 12.* and 13.* (permessage-deflate, ~8 min per role) instead of
//!   1–11, into `target/autobahn/{fc,fs}-deflate`; `cargo xtask ci` runs it as the step
//!   `autobahn-deflate`, after `autobahn`.
//! * Client role: `wstest -m fuzzingserver` (bound to 127.0.0.1) driven by
//!   `crates/tokio/examples/autobahn_client.rs` (`WebSocketStream::client`, echoing on the
//!   owned halves of `into_split`).
//!
//! The two roles run at the same time (each wstest is one single-threaded Python process).
//!
//! wstest is Python 2 only; it is installed into a virtualenv under `target/autobahn`
//! from pyenv's CPython 2.7.18 (see shared/AUTOBAHN.md), once. Every case must be OK, or
//! INFORMATIONAL where Autobahn itself rates it so; anything else fails the step.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::proc::{free_port, wait_for_port, Guard};
use crate::{cargo, run};

const CASES: &str = r#"["1.*","2.*","3.*","4.*","5.*","6.*","7.*","8.*","9.*","10.*","11.*"]"#;
/// permessage-deflate cases (`--deflate`).
const DEFLATE_CASES: &str = r#"["12.*","13.*"]"#;
const AGENT: &str = "pushwire";

/// Runs both roles (cases 12/13 with `deflate`, else 1–11); Err names what failed.
pub(crate) fn autobahn(deflate: bool) -> Result<(), String> {
    let (cases, suffix) = if deflate {
        (DEFLATE_CASES, "-deflate")
    } else {
        (CASES, "")
    };
    let dir = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join("target/autobahn");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let wstest = ensure_wstest(&dir)?;
    run(cargo().args(["build", "--release", "-p", "pushwire-cli"]))?;
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "pushwire-tokio",
        "--example",
        "autobahn_client",
    ]))?;
    let examples = PathBuf::from("target/release/examples");
    let pushwire = PathBuf::from("target/release/pushwire");

    // The roles share nothing (their own ports, report directories and processes), and each
    // wstest is one single-threaded Python process: run them at the same time.
    let (server, client) = std::thread::scope(|s| {
        let server = s.spawn(|| server_role(&dir, &wstest, &pushwire, cases, suffix));
        let client = client_role(
            &dir,
            &wstest,
            &examples.join("autobahn_client"),
            cases,
            suffix,
        );
        let server = server
            .join()
            .unwrap_or_else(|_| Err("server role thread panicked".to_string()));
        (server, client)
    });
    let mut failed = Vec::new();
    let mut lines = Vec::new();
    for (role, r) in [("server", server), ("client", client)] {
        match r {
            Ok(counts) => {
                let bad: usize = counts
                    .iter()
                    .filter(|(k, _)| k.as_str() != "OK" && k.as_str() != "INFORMATIONAL")
                    .map(|(_, v)| v.len())
                    .sum();
                let summary = counts
                    .iter()
                    .map(|(k, v)| format!("{k} {}", v.len()))
                    .collect::<Vec<_>>()
                    .join(", ");
                println!("    autobahn {role} role: {summary}");
                for (k, v) in &counts {
                    if k != "OK" && k != "INFORMATIONAL" {
                        println!("      {k}: {}", v.join(" "));
                    }
                }
                lines.push(format!("| {role} | {summary} |"));
                if bad > 0 {
                    failed.push(format!("{role} role: {bad} cases not OK"));
                }
            }
            Err(e) => {
                println!("    autobahn {role} role: ERROR {e}");
                failed.push(format!("{role} role: {e}"));
            }
        }
    }
    let _ = fs::write(
        dir.join(format!("summary{suffix}.md")),
        format!("| role | result |\n|---|---|\n{}\n", lines.join("\n")),
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// The wstest executable, installing it when missing (about 30 s).
fn ensure_wstest(dir: &Path) -> Result<PathBuf, String> {
    let wstest = dir.join("venv27/bin/wstest");
    if wstest.is_file() {
        return Ok(wstest);
    }
    let py27 = python27()?;
    println!("    installing Autobahn|Testsuite into {}", dir.display());
    let tool = dir.join("venvtool");
    run(Command::new(&py27)
        .args(["-m", "pip", "install", "--quiet", "--target"])
        .arg(&tool)
        .arg("virtualenv<20.22"))?;
    run(Command::new(&py27)
        .env("PYTHONPATH", &tool)
        .args(["-m", "virtualenv"])
        .arg(dir.join("venv27")))?;
    run(Command::new(dir.join("venv27/bin/pip")).args([
        "install",
        "--quiet",
        "autobahntestsuite==25.10.1",
    ]))?;
    if wstest.is_file() {
        Ok(wstest)
    } else {
        Err("wstest missing after install".into())
    }
}

fn python27() -> Result<PathBuf, String> {
    let root = Command::new("pyenv")
        .arg("root")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")))
        .ok_or("no pyenv root")?;
    let py = root.join("versions/2.7.18/bin/python");
    if py.is_file() {
        Ok(py)
    } else {
        Err(format!(
            "{} not found: Autobahn|Testsuite needs pyenv's CPython 2.7.18",
            py.display()
        ))
    }
}

/// `pushwire` is the CLI binary: `pushwire serve` is started and tested at `/ws/echo`.
fn server_role(
    dir: &Path,
    wstest: &Path,
    pushwire: &Path,
    cases: &str,
    suffix: &str,
) -> Result<Counts, String> {
    let work = dir.join(format!("fc{suffix}"));
    let _ = fs::remove_dir_all(work.join("reports"));
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let port = free_port()?;
    let log = fs::File::create(work.join("server.log")).map_err(|e| e.to_string())?;
    let mut server = Guard(
        Command::new(pushwire)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", pushwire.display()))?,
    );
    wait_for_port(port, &mut server.0, "pushwire serve")?;
    let spec = format!(
        r#"{{"options": {{"failByDrop": false}}, "outdir": "{}",
 "servers": [{{"agent": "{AGENT}", "url": "ws://127.0.0.1:{port}/ws/echo"}}],
 "cases": {cases}, "exclude-cases": [], "exclude-agent-cases": {{}}}}"#,
        work.join("reports/servers").display()
    );
    fs::write(work.join("spec.json"), spec).map_err(|e| e.to_string())?;
    let log = fs::File::create(work.join("wstest.log")).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let status = Command::new(wstest)
        .args(["-m", "fuzzingclient", "-s"])
        .arg(work.join("spec.json"))
        .current_dir(&work)
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .status()
        .map_err(|e| format!("wstest: {e}"))?;
    println!(
        "    fuzzingclient finished in {:.1}s ({status})",
        t.elapsed().as_secs_f64()
    );
    drop(server);
    read_index(&work.join("reports/servers/index.json"))
}

/// Binds wstest's listeners to 127.0.0.1 instead of 0.0.0.0.
const LOCAL_WRAPPER: &str = r#"import autobahn.twisted.websocket as ws
from twisted.internet import reactor
_listenWS = ws.listenWS
def listenWS(factory, contextFactory=None, backlog=50, interface='127.0.0.1'):
    return _listenWS(factory, contextFactory, backlog, interface or '127.0.0.1')
ws.listenWS = listenWS
_listenTCP = reactor.listenTCP
def listenTCP(port, factory, backlog=50, interface='127.0.0.1'):
    return _listenTCP(port, factory, backlog, interface or '127.0.0.1')
reactor.listenTCP = listenTCP
import autobahntestsuite.fuzzing
try:
    autobahntestsuite.fuzzing.listenWS = listenWS
except Exception:
    pass
from autobahntestsuite import wstest
wstest.run()
"#;

fn client_role(
    dir: &Path,
    wstest: &Path,
    client: &Path,
    cases: &str,
    suffix: &str,
) -> Result<Counts, String> {
    let work = dir.join(format!("fs{suffix}"));
    let _ = fs::remove_dir_all(work.join("reports"));
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let port = free_port()?;
    let spec = format!(
        r#"{{"url": "ws://127.0.0.1:{port}", "outdir": "{}",
 "cases": {cases}, "exclude-cases": [], "exclude-agent-cases": {{}}}}"#,
        work.join("reports/clients").display()
    );
    fs::write(work.join("fuzzingserver.json"), spec).map_err(|e| e.to_string())?;
    fs::write(work.join("wstest_local.py"), LOCAL_WRAPPER).map_err(|e| e.to_string())?;
    let python = wstest.with_file_name("python");
    let log = fs::File::create(work.join("wstest.log")).map_err(|e| e.to_string())?;
    let mut server = Guard(
        Command::new(python)
            .arg(work.join("wstest_local.py"))
            .args(["-m", "fuzzingserver", "-u", "0", "-s"])
            .arg(work.join("fuzzingserver.json"))
            .current_dir(&work)
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start wstest: {e}"))?,
    );
    wait_for_port(port, &mut server.0, "wstest fuzzingserver")?;
    let log = fs::File::create(work.join("client.log")).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let status = Command::new(client)
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .map_err(|e| format!("cannot start {}: {e}", client.display()))?;
    println!(
        "    autobahn_client finished in {:.1}s ({status})",
        t.elapsed().as_secs_f64()
    );
    // wstest writes the reports when the client asks; give it a moment to finish.
    let index = work.join("reports/clients/index.json");
    let start = Instant::now();
    while !index.is_file() && start.elapsed() < Duration::from_secs(30) {
        sleep(Duration::from_millis(200));
    }
    drop(server);
    read_index(&index)
}

/// Behaviour → case ids, over both `behavior` and `behaviorClose` (the worse of the two).
type Counts = BTreeMap<String, Vec<String>>;

fn read_index(path: &Path) -> Result<Counts, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let cases = json
        .get(AGENT)
        .and_then(|v| v.as_object())
        .ok_or_else(|| format!("{}: no results for agent {AGENT}", path.display()))?;
    if cases.is_empty() {
        return Err(format!("{}: no cases ran", path.display()));
    }
    let rank = |b: &str| match b {
        "OK" => 0,
        "INFORMATIONAL" => 1,
        "NON-STRICT" => 2,
        "UNIMPLEMENTED" => 3,
        _ => 4,
    };
    let mut counts = Counts::new();
    for (id, r) in cases {
        let b = r
            .get("behavior")
            .and_then(|v| v.as_str())
            .unwrap_or("MISSING");
        let c = r
            .get("behaviorClose")
            .and_then(|v| v.as_str())
            .unwrap_or("OK");
        let worst = if rank(c) > rank(b) { c } else { b };
        counts
            .entry(worst.to_string())
            .or_default()
            .push(id.clone());
    }
    Ok(counts)
}
