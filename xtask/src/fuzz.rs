//! Fuzzing that accumulates (issue 18).
//!
//! * `fuzz/seeds/<target>`: hand-written seeds (spec examples, captured interop messages) and
//!   every input that once found a bug, under readable names. Never rewritten by a tool.
//! * `fuzz/kept/<target>`: the **kept corpus** — what campaigns found, minimized (libFuzzer's
//!   `-merge=1`: only inputs that reach a coverage feature neither the seeds nor a smaller
//!   kept input reach), named by content hash. Committed.
//! * `fuzz/corpus/<target>`: libFuzzer's working corpus (not committed).
//! * [`smoke`] (CI's `fuzz` step) first **replays** seeds and kept corpus (`-runs=0`: every
//!   input executed once, nothing mutated; a crash, an oracle failure or a hang fails), then
//!   fuzzes for a few seconds for new inputs.
//! * [`campaign`] (`cargo xtask fuzz-campaign`) runs each target until its coverage
//!   plateaus — no new coverage feature for `--plateau` seconds — or `--max-seconds`, then
//!   merges the working corpus into the kept one and prints one Markdown row per target for
//!   docs/reliability.md.
//! * [`asan`] (`cargo xtask fuzz-asan`) replays seeds and kept corpora under
//!   AddressSanitizer, with a nightly toolchain.
//!
//! The fuzz binaries are run directly (`fuzz/target/<host>/release/<target>`, built by
//! `cargo fuzz build`), so the campaign can watch libFuzzer's status lines and stop it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::{fs, thread};

use crate::{cargo, run, succeeds};

/// Longest input libFuzzer may generate; the kept corpora stay small with it.
const MAX_LEN: &str = "-max_len=4096";

/// An input running longer than this is a finding (a hang), not a pass.
const TIMEOUT: &str = "-timeout=10";

/// What `cargo fuzz` needs and what it built.
struct Built {
    /// PATH with target/tools/bin first (cargo-fuzz).
    path: std::ffi::OsString,
    /// The targets to run.
    targets: Vec<String>,
    /// rustc's host triple (the binaries' directory).
    host: String,
}

impl Built {
    /// The binary for `target` under a cargo-fuzz target directory.
    fn binary_in(&self, dir: &Path, target: &str) -> Result<PathBuf, String> {
        let bin = dir.join(&self.host).join("release").join(target);
        if bin.is_file() {
            Ok(bin)
        } else {
            Err(format!("{} was not built", bin.display()))
        }
    }

    /// The binary `cargo fuzz build` made for `target`.
    fn binary(&self, target: &str) -> Result<PathBuf, String> {
        self.binary_in(Path::new("fuzz/target"), target)
    }
}

/// The targets to run (`only`, checked against `cargo fuzz list`, or all of them), without
/// building anything.
fn list(only: &[String]) -> Result<Built, String> {
    let path = crate::ensure_cargo_tool("fuzz", "cargo-fuzz")?;
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
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("rustc -vV: {e}"))?;
    let host = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or("rustc -vV names no host")?;
    Ok(Built {
        path,
        targets,
        host,
    })
}

/// [`list`], then builds every target (`cargo fuzz build`, no sanitizer).
fn build(only: &[String]) -> Result<Built, String> {
    let built = list(only)?;
    run(cargo()
        .env("PATH", &built.path)
        .args(["fuzz", "build", "--sanitizer", "none"]))?;
    Ok(built)
}

fn seeds(target: &str) -> PathBuf {
    Path::new("fuzz/seeds").join(target)
}

fn kept(target: &str) -> PathBuf {
    Path::new("fuzz/kept").join(target)
}

/// The committed input directories of `target` that exist: seeds, then kept.
fn committed(target: &str) -> Vec<PathBuf> {
    [seeds(target), kept(target)]
        .into_iter()
        .filter(|d| d.is_dir())
        .collect()
}

/// Files (count, bytes) in a directory; 0 when it does not exist.
fn files(dir: &Path) -> (usize, u64) {
    let Ok(entries) = fs::read_dir(dir) else {
        return (0, 0);
    };
    entries.flatten().fold((0, 0), |(n, b), e| {
        (n + 1, b + e.metadata().map(|m| m.len()).unwrap_or(0))
    })
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

/// How a watched libFuzzer run ended.
struct Outcome {
    /// Exited cleanly (0, or 72 after a SIGINT we sent because `on_line` asked).
    ok: bool,
    /// Still running at `limit`: stopped by us (a replay must never get here).
    over_time: bool,
    /// The last lines of its stderr.
    tail: Vec<String>,
    /// Its first lines that report a failure (`ERROR`, `panicked`, `deadly`, `timeout`),
    /// kept apart so a long backtrace cannot push them out of `tail`.
    errors: Vec<String>,
}

impl Outcome {
    fn report(&self) -> String {
        let mut s = self.errors.join("\n");
        s.push_str("\n...\n");
        s.push_str(&self.tail.join("\n"));
        s
    }
}

/// Runs `bin` with `args`, streaming its stderr through `on_line`; `on_line` returns true
/// to stop the run (SIGINT, so libFuzzer exits cleanly). `limit` is a hard bound.
fn watch(
    bin: &Path,
    args: &[String],
    limit: Duration,
    mut on_line: impl FnMut(&str, Instant) -> bool,
) -> Result<Outcome, String> {
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
    let mut errors: Vec<String> = Vec::new();
    let mut asked = false;
    let mut over_time = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(line) => {
                if !asked && !over_time && on_line(&line, Instant::now()) {
                    interrupt(child.id());
                    asked = true;
                }
                if errors.len() < 8
                    && ["ERROR", "panicked", "deadly", "timeout"]
                        .iter()
                        .any(|w| line.contains(w))
                {
                    errors.push(line.clone());
                }
                tail.push(line);
                if tail.len() > 60 {
                    tail.drain(..20);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if !asked && !over_time && on_line("", Instant::now()) {
                    interrupt(child.id());
                    asked = true;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if start.elapsed() > limit + Duration::from_secs(30) {
            let _ = child.kill();
        } else if !asked && !over_time && start.elapsed() > limit {
            interrupt(child.id());
            over_time = true;
        }
    }
    let _ = reader.join();
    let status = child.wait().map_err(|e| e.to_string())?;
    // libFuzzer exits 0 when done, and after a SIGINT it prints its stats and exits with 0
    // or 72 ("interrupted") depending on the version.
    let stopped = asked || over_time;
    let ok = status.success() || (stopped && status.code() == Some(72));
    Ok(Outcome {
        ok,
        over_time,
        tail,
        errors,
    })
}

fn interrupt(pid: u32) {
    let _ = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
}

/// Replays `target`'s seeds and kept corpus with `bin`: every input executed once. Returns
/// the number of inputs and the coverage they reach (libFuzzer's `INITED` line).
fn replay(bin: &Path, target: &str) -> Result<(usize, Status), String> {
    let dirs = committed(target);
    let inputs: usize = dirs.iter().map(|d| files(d).0).sum();
    if inputs == 0 {
        return Ok((0, Status::default()));
    }
    let mut args = vec![
        "-runs=0".to_string(),
        MAX_LEN.to_string(),
        TIMEOUT.to_string(),
        artifacts(target)?,
    ];
    args.extend(dirs.iter().map(|d| d.display().to_string()));
    let mut inited = Status::default();
    let out = watch(bin, &args, Duration::from_secs(600), |line, _| {
        if line.contains("INITED") {
            inited = Status::parse(line).unwrap_or_default();
        }
        false
    })?;
    if !out.ok || out.over_time {
        return Err(format!(
            "replaying {target}'s {inputs} committed inputs failed{}:\n{}",
            if out.over_time { " (over 600 s)" } else { "" },
            out.report()
        ));
    }
    Ok((inputs, inited))
}

/// CI's step: for each target, replay seeds and kept corpus, then fuzz for `seconds` from
/// them.
pub(crate) fn smoke(seconds: u64, only: &[String]) -> Result<(), String> {
    let built = build(only)?;
    let mut failed = Vec::new();
    for t in &built.targets {
        let t0 = Instant::now();
        let replayed = built.binary(t).and_then(|bin| replay(&bin, t));
        match &replayed {
            Ok((n, s)) => println!(
                "    fuzz target {t}: replayed {n} committed inputs in {:.1}s (cov {}, ft {})",
                t0.elapsed().as_secs_f64(),
                s.cov,
                s.features
            ),
            Err(e) => println!("    fuzz target {t}: REPLAY FAILED: {e}"),
        }
        let t1 = Instant::now();
        let mut cmd = cargo();
        cmd.env("PATH", &built.path).args([
            "fuzz",
            "run",
            "--sanitizer",
            "none",
            t,
            &working(t)?.display().to_string(),
        ]);
        cmd.args(committed(t));
        cmd.args([
            "--",
            &format!("-max_total_time={seconds}"),
            MAX_LEN,
            TIMEOUT,
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
    // The rustup proxy on PATH understands `+nightly`; `$CARGO` (the toolchain's own cargo,
    // under `cargo xtask`) does not.
    let nightly = || {
        let mut c = Command::new("cargo");
        c.arg("+nightly");
        c
    };
    if !succeeds(nightly().arg("--version")) {
        return Err("no nightly toolchain (`cargo +nightly` fails): nothing to do".into());
    }
    let built = list(only)?;
    let dir = Path::new("fuzz/target-asan");
    run(nightly().env("PATH", &built.path).args([
        "fuzz",
        "build",
        "--sanitizer",
        "address",
        "--target-dir",
        &dir.display().to_string(),
    ]))?;
    let mut failed = Vec::new();
    println!(
        "\n| target | committed inputs replayed under ASan | seconds | result |\n|---|---|---|---|"
    );
    for t in &built.targets {
        let t0 = Instant::now();
        let r = built.binary_in(dir, t).and_then(|bin| replay(&bin, t));
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
    let built = build(&only)?;
    let mut rows = Vec::new();
    for t in &built.targets {
        let row = campaign_one(
            &built.binary(t)?,
            t,
            Duration::from_secs(max),
            Duration::from_secs(plateau),
        )?;
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

fn campaign_one(bin: &Path, target: &str, max: Duration, plateau: Duration) -> Result<Row, String> {
    let kept_dir = kept(target);
    let kept_before = files(&kept_dir).0;
    let work = working(target)?;
    let mut args = vec![
        MAX_LEN.to_string(),
        TIMEOUT.to_string(),
        "-print_final_stats=1".to_string(),
        artifacts(target)?,
        work.display().to_string(),
    ];
    args.extend(committed(target).iter().map(|d| d.display().to_string()));
    let t0 = Instant::now();
    let mut start = None;
    let mut end = Status::default();
    let mut last_new = Instant::now();
    let mut plateaued = false;
    let out = watch(bin, &args, max, |line, now| {
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
    let mut finding = if out.ok {
        None
    } else {
        println!("    {target}: finding\n{}", out.report());
        Some(
            out.errors
                .first()
                .or(out.tail.last())
                .cloned()
                .unwrap_or_default(),
        )
    };
    if let Err(e) = merge(bin, target, &work) {
        println!("    {target}: {e}");
        finding.get_or_insert(e);
    }
    let (kept_after, kept_bytes) = files(&kept_dir);
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

/// Minimizes kept + working corpus into a new kept corpus: only inputs that reach a feature
/// the seeds do not (the merge starts from a copy of the seeds, removed again after). The
/// old kept corpus is replaced only once the new one is complete.
fn merge(bin: &Path, target: &str, work: &Path) -> Result<(), String> {
    let kept_dir = kept(target);
    let merged = Path::new("fuzz/corpus").join(format!("{target}.merged"));
    let _ = fs::remove_dir_all(&merged);
    fs::create_dir_all(&merged).map_err(|e| e.to_string())?;
    let mut seed_names = Vec::new();
    if let Ok(entries) = fs::read_dir(seeds(target)) {
        for e in entries.flatten() {
            fs::copy(e.path(), merged.join(e.file_name())).map_err(|e| e.to_string())?;
            seed_names.push(e.file_name());
        }
    }
    let mut cmd = Command::new(bin);
    cmd.args(["-merge=1", MAX_LEN, TIMEOUT]).arg(&merged);
    if kept_dir.is_dir() {
        cmd.arg(&kept_dir);
    }
    let status = cmd
        .arg(work)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "-merge=1 failed with {status}; kept corpus left as it was"
        ));
    }
    for name in seed_names {
        fs::remove_file(merged.join(name)).map_err(|e| e.to_string())?;
    }
    fs::create_dir_all("fuzz/kept").map_err(|e| e.to_string())?;
    let old = Path::new("fuzz/corpus").join(format!("{target}.old"));
    let _ = fs::remove_dir_all(&old);
    if kept_dir.is_dir() {
        fs::rename(&kept_dir, &old).map_err(|e| e.to_string())?;
    }
    fs::rename(&merged, &kept_dir).map_err(|e| e.to_string())?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
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
