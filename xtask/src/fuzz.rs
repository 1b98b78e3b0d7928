//! Fuzzing that accumulates (issue 18).
//!
//! * `fuzz/seeds/<target>` is each target's **kept corpus**: minimized, committed, and
//!   grown by campaigns. Hand-written seeds and every input that once found a bug live there
//!   too, so a bug found once is replayed on every run.
//! * `fuzz/corpus/<target>` is libFuzzer's working corpus (not committed).
//! * [`smoke`] (CI's `fuzz` step) first **replays** the kept corpus (`-runs=0`: every input
//!   executed once, nothing mutated; any crash fails), then fuzzes for a few seconds for new
//!   inputs.
//! * [`campaign`] (`cargo xtask fuzz-campaign`) runs each target until its coverage
//!   plateaus — no new coverage feature for `--plateau` seconds — or `--max-seconds`, then
//!   merges the working corpus into the kept one with libFuzzer's `-merge=1` (minimizing:
//!   only inputs that add a feature are kept) and prints one Markdown row per target for
//!   docs/reliability.md.
//!
//! The fuzz binaries are run directly (`fuzz/target/<host>/release/<target>`, built by
//! `cargo fuzz build`), so the campaign can watch libFuzzer's status lines and stop it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::{env, fs, thread};

use crate::{cargo, run, succeeds};

/// Longest input libFuzzer may generate; the kept corpora stay small with it.
const MAX_LEN: &str = "-max_len=4096";

/// Makes sure `cargo fuzz` runs, installing cargo-fuzz into target/tools when missing.
/// Returns the PATH to use.
fn ensure_cargo_fuzz() -> Result<std::ffi::OsString, String> {
    let tools = Path::new("target/tools");
    let tools_bin = env::current_dir()
        .map_err(|e| e.to_string())?
        .join(tools)
        .join("bin");
    let mut paths = vec![tools_bin.clone()];
    paths.extend(env::split_paths(&env::var_os("PATH").unwrap_or_default()));
    let path = env::join_paths(paths).map_err(|e| e.to_string())?;
    if succeeds(cargo().env("PATH", &path).args(["fuzz", "--version"])) {
        return Ok(path);
    }
    println!("    cargo-fuzz not found; installing it into target/tools");
    run(cargo().args([
        "install",
        "cargo-fuzz",
        "--locked",
        "--root",
        &tools.to_string_lossy(),
    ]))?;
    Ok(path)
}

/// Builds every target (`cargo fuzz build`, no sanitizer) and returns the targets to run:
/// `only`, checked against `cargo fuzz list`, or all of them.
fn build(only: &[String]) -> Result<Vec<String>, String> {
    let path = ensure_cargo_fuzz()?;
    let out = cargo()
        .env("PATH", &path)
        .args(["fuzz", "list"])
        .output()
        .map_err(|e| format!("cargo fuzz list: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo fuzz list failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let all: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    for t in only {
        if !all.contains(t) {
            return Err(format!("no fuzz target `{t}` (have: {})", all.join(", ")));
        }
    }
    let targets = if only.is_empty() { all } else { only.to_vec() };
    if targets.is_empty() {
        return Err("no fuzz targets found".into());
    }
    run(cargo()
        .env("PATH", &path)
        .args(["fuzz", "build", "--sanitizer", "none"]))?;
    Ok(targets)
}

/// The binary `cargo fuzz build` made for `target`.
fn binary(target: &str) -> Result<PathBuf, String> {
    binary_in(Path::new("fuzz/target"), target)
}

/// The binary for `target` under a cargo-fuzz target directory.
fn binary_in(dir: &Path, target: &str) -> Result<PathBuf, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("rustc -vV: {e}"))?;
    let host = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or("rustc -vV names no host")?;
    let bin = dir.join(host).join("release").join(target);
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("{} was not built", bin.display()))
    }
}

fn kept(target: &str) -> PathBuf {
    Path::new("fuzz/seeds").join(target)
}

fn working(target: &str) -> Result<PathBuf, String> {
    let dir = Path::new("fuzz/corpus").join(target);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn artifacts(target: &str) -> Result<String, String> {
    let dir = Path::new("fuzz/artifacts").join(target);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(format!("-artifact_prefix={}/", dir.display()))
}

/// What libFuzzer's status lines said last (`#N  NEW  cov: C ft: F corp: U/Sb … exec/s: E`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Status {
    execs: u64,
    cov: u64,
    features: u64,
    units: u64,
}

impl Status {
    /// Reads one stderr line of libFuzzer; `None` when it is not a status line.
    fn parse(line: &str) -> Option<Status> {
        let rest = line.strip_prefix('#')?;
        let mut words = rest.split_whitespace();
        let execs = words.next()?.parse().ok()?;
        let mut s = Status {
            execs,
            ..Status::default()
        };
        let mut seen = false;
        while let Some(w) = words.next() {
            match w {
                "cov:" => s.cov = words.next()?.parse().ok()?,
                "ft:" => {
                    s.features = words.next()?.parse().ok()?;
                    seen = true;
                }
                "corp:" => s.units = words.next()?.split('/').next()?.parse().ok()?,
                _ => {}
            }
        }
        seen.then_some(s)
    }
}

/// Runs `bin` with `args`, streaming its stderr through `on_line`; `on_line` returns true
/// to stop the run (SIGINT, so libFuzzer exits cleanly). `limit` is a hard bound.
fn watch(
    bin: &Path,
    args: &[String],
    limit: Duration,
    mut on_line: impl FnMut(&str, Instant) -> bool,
) -> Result<(bool, Vec<String>), String> {
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut tail: Vec<String> = Vec::new();
    let mut stopping = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(line) => {
                if !stopping && on_line(&line, Instant::now()) {
                    interrupt(child.id());
                    stopping = true;
                }
                tail.push(line);
                if tail.len() > 60 {
                    tail.drain(..20);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if !stopping && on_line("", Instant::now()) {
                    interrupt(child.id());
                    stopping = true;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if start.elapsed() > limit + Duration::from_secs(30) {
            let _ = child.kill();
        } else if !stopping && start.elapsed() > limit {
            interrupt(child.id());
            stopping = true;
        }
    }
    let _ = reader.join();
    let status = child.wait().map_err(|e| e.to_string())?;
    // libFuzzer exits 0 when done, and also after a SIGINT we sent (it prints its stats
    // and exits with 0 or 72 — "interrupted" — depending on the version).
    let ok = status.success() || (stopping && status.code() == Some(72));
    Ok((ok, tail))
}

fn interrupt(pid: u32) {
    let _ = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
}

/// Replays `target`'s kept corpus: every input executed once. Returns the number of inputs
/// and the coverage they reach (libFuzzer's `INITED` line).
fn replay(target: &str) -> Result<(usize, Status), String> {
    replay_with(&binary(target)?, target)
}

/// [`replay`] with a given binary (an AddressSanitizer build, say).
fn replay_with(bin: &Path, target: &str) -> Result<(usize, Status), String> {
    let dir = kept(target);
    let inputs = fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    if inputs == 0 {
        return Ok((0, Status::default()));
    }
    let args = vec![
        "-runs=0".to_string(),
        MAX_LEN.to_string(),
        artifacts(target)?,
        dir.display().to_string(),
    ];
    let mut inited = Status::default();
    let (ok, tail) = watch(bin, &args, Duration::from_secs(600), |line, _| {
        if line.contains("INITED") {
            if let Some(s) = Status::parse(line) {
                inited = s;
            }
        }
        false
    })?;
    if !ok {
        return Err(format!(
            "replaying {} failed:\n{}",
            dir.display(),
            tail.join("\n")
        ));
    }
    Ok((inputs, inited))
}

/// CI's step: for each target, replay the kept corpus, then fuzz for `seconds` from it.
pub(crate) fn smoke(seconds: u64, only: &[String]) -> Result<(), String> {
    let targets = build(only)?;
    let mut failed = Vec::new();
    for t in &targets {
        let t0 = Instant::now();
        let replayed = replay(t);
        match &replayed {
            Ok((n, s)) => println!(
                "    fuzz target {t}: replayed {n} kept inputs in {:.1}s (cov {}, ft {})",
                t0.elapsed().as_secs_f64(),
                s.cov,
                s.features
            ),
            Err(e) => println!("    fuzz target {t}: REPLAY FAILED: {e}"),
        }
        let t1 = Instant::now();
        let mut cmd = cargo();
        cmd.env("PATH", ensure_cargo_fuzz()?).args([
            "fuzz",
            "run",
            "--sanitizer",
            "none",
            t,
            &working(t)?.display().to_string(),
        ]);
        if kept(t).is_dir() {
            cmd.arg(kept(t));
        }
        cmd.args([
            "--",
            &format!("-max_total_time={seconds}"),
            MAX_LEN,
            "-print_final_stats=1",
        ]);
        let r = run(&mut cmd);
        println!(
            "    fuzz target {t}: new-input run {} after {:.1}s",
            if r.is_ok() { "ok" } else { "FAILED" },
            t1.elapsed().as_secs_f64()
        );
        if replayed.is_err() || r.is_err() {
            failed.push(t.clone());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzz targets failed: {}", failed.join(", ")))
    }
}

/// `cargo xtask fuzz [--seconds N] [TARGET...]`.
pub(crate) fn smoke_cmd(args: &[String]) -> Result<(), String> {
    let mut seconds = 20;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seconds" {
            seconds = number(it.next(), "--seconds")?;
        } else {
            targets.push(a.clone());
        }
    }
    smoke(seconds, &targets)
}

fn number(s: Option<&String>, what: &str) -> Result<u64, String> {
    s.and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{what} takes a number"))
}

/// `cargo xtask fuzz-asan [TARGET...]`: with a nightly toolchain, builds every target with
/// AddressSanitizer (into `fuzz/target-asan`, beside the plain build) and replays each kept
/// corpus under it. Not a CI step: nightly is never required.
pub(crate) fn asan(only: &[String]) -> Result<(), String> {
    if !succeeds(cargo().args(["+nightly", "--version"])) {
        return Err("no nightly toolchain (`cargo +nightly` fails): nothing to do".into());
    }
    let targets = build(only)?;
    let path = ensure_cargo_fuzz()?;
    let dir = Path::new("fuzz/target-asan");
    run(cargo().env("PATH", &path).args([
        "+nightly",
        "fuzz",
        "build",
        "--sanitizer",
        "address",
        "--target-dir",
        &dir.display().to_string(),
    ]))?;
    let mut failed = Vec::new();
    println!(
        "\n| target | kept inputs replayed under ASan | seconds | result |\n|---|---|---|---|"
    );
    for t in &targets {
        let t0 = Instant::now();
        let r = replay_with(&binary_in(dir, t)?, t);
        let secs = t0.elapsed().as_secs_f64();
        match r {
            Ok((n, _)) => println!("| {t} | {n} | {secs:.1} | clean |"),
            Err(e) => {
                println!("| {t} | | {secs:.1} | FAILED |\n{e}");
                failed.push(t.clone());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("under AddressSanitizer: {}", failed.join(", ")))
    }
}

/// One target's campaign result, a row of docs/reliability.md.
struct Row {
    target: String,
    seconds: f64,
    plateaued: bool,
    start: Status,
    end: Status,
    kept_before: usize,
    kept_after: usize,
    kept_bytes: u64,
    finding: Option<String>,
}

/// `cargo xtask fuzz-campaign [--max-seconds N] [--plateau S] [TARGET...]`.
pub(crate) fn campaign(args: &[String]) -> Result<(), String> {
    let mut max = 300;
    let mut plateau = 60;
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--max-seconds" => max = number(it.next(), "--max-seconds")?,
            "--plateau" => plateau = number(it.next(), "--plateau")?,
            _ => only.push(a.clone()),
        }
    }
    let targets = build(&only)?;
    let mut rows = Vec::new();
    for t in &targets {
        let row = campaign_one(t, Duration::from_secs(max), Duration::from_secs(plateau))?;
        println!("{}", markdown(&row));
        rows.push(row);
    }
    println!(
        "\n| target | time s | stop | execs | cov start → end | ft start → end | kept inputs before → after | kept KiB | finding |\n|---|---|---|---|---|---|---|---|---|"
    );
    for r in &rows {
        println!("{}", markdown(r));
    }
    let found: Vec<_> = rows.iter().filter(|r| r.finding.is_some()).collect();
    if found.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "findings in: {}",
            found
                .iter()
                .map(|r| r.target.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

fn markdown(r: &Row) -> String {
    format!(
        "| {} | {:.0} | {} | {} | {} → {} | {} → {} | {} → {} | {} | {} |",
        r.target,
        r.seconds,
        if r.plateaued { "plateau" } else { "time" },
        r.end.execs,
        r.start.cov,
        r.end.cov,
        r.start.features,
        r.end.features,
        r.kept_before,
        r.kept_after,
        r.kept_bytes / 1024,
        r.finding.as_deref().unwrap_or("none"),
    )
}

fn campaign_one(target: &str, max: Duration, plateau: Duration) -> Result<Row, String> {
    let bin = binary(target)?;
    let kept_dir = kept(target);
    fs::create_dir_all(&kept_dir).map_err(|e| e.to_string())?;
    let kept_before = fs::read_dir(&kept_dir).map(|d| d.count()).unwrap_or(0);
    let work = working(target)?;
    let args = vec![
        MAX_LEN.to_string(),
        "-print_final_stats=1".to_string(),
        artifacts(target)?,
        work.display().to_string(),
        kept_dir.display().to_string(),
    ];
    let t0 = Instant::now();
    let mut start = None;
    let mut end = Status::default();
    let mut last_new = Instant::now();
    let mut plateaued = false;
    let (ok, tail) = watch(&bin, &args, max, |line, now| {
        if line.contains("INITED") {
            // From an empty corpus the line has no coverage figures ("#2 INITED exec/s: 0").
            let s = Status::parse(line).unwrap_or_default();
            start = Some(s);
            end = s;
            last_new = now;
        } else if let Some(s) = Status::parse(line) {
            if s.features > end.features {
                last_new = now;
            }
            end = s;
        }
        if start.is_some() && now.duration_since(last_new) >= plateau {
            plateaued = true;
            return true;
        }
        false
    })?;
    let seconds = t0.elapsed().as_secs_f64();
    let finding = if ok {
        None
    } else {
        let why = tail
            .iter()
            .find(|l| l.contains("ERROR") || l.contains("panicked") || l.contains("deadly"))
            .cloned()
            .unwrap_or_else(|| tail.last().cloned().unwrap_or_default());
        println!("    {target}: finding\n{}", tail.join("\n"));
        Some(why)
    };
    // Minimize: keep only inputs that add a feature, from the kept and working corpora.
    let merged = Path::new("fuzz/corpus").join(format!("{target}.merged"));
    let _ = fs::remove_dir_all(&merged);
    fs::create_dir_all(&merged).map_err(|e| e.to_string())?;
    let status = Command::new(&bin)
        .args([
            "-merge=1",
            MAX_LEN,
            &merged.display().to_string(),
            &kept_dir.display().to_string(),
            &work.display().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{target}: -merge=1 failed with {status}"));
    }
    fs::remove_dir_all(&kept_dir).map_err(|e| e.to_string())?;
    fs::rename(&merged, &kept_dir).map_err(|e| e.to_string())?;
    let (mut kept_after, mut kept_bytes) = (0, 0);
    for e in fs::read_dir(&kept_dir).map_err(|e| e.to_string())? {
        let e = e.map_err(|e| e.to_string())?;
        kept_after += 1;
        kept_bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
    }
    Ok(Row {
        target: target.to_string(),
        seconds,
        plateaued,
        start: start.unwrap_or_default(),
        end,
        kept_before,
        kept_after,
        kept_bytes,
        finding,
    })
}

#[cfg(test)]
mod tests {
    use super::Status;

    #[test]
    fn reads_libfuzzer_status_lines() {
        let line = "#123456\tNEW    cov: 2186 ft: 9120 corp: 812/54Kb lim: 4096 exec/s: 14000 rss: 120Mb L: 44/4096 MS: 2 ChangeBit-CopyPart-";
        assert_eq!(
            Status::parse(line),
            Some(Status {
                execs: 123456,
                cov: 2186,
                features: 9120,
                units: 812
            })
        );
        let inited = "#1024\tINITED cov: 10 ft: 11 corp: 3/9b exec/s: 0 rss: 30Mb";
        assert_eq!(Status::parse(inited).map(|s| s.features), Some(11));
        assert_eq!(Status::parse("INFO: Seed: 1234"), None);
        assert_eq!(Status::parse("#5 pulse  exec/s: 2 rss: 1Mb"), None);
    }
}
