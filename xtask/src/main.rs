//! Project automation for pushwire, run as `cargo xtask <command>`.
//!
//! * `cargo xtask ci` — every check CI runs, in order, each reported as PASS/FAIL with
//!   its time, then a summary table and a closing `N passed, N failed` line. Installs the
//!   tools it needs (cargo-fuzz, cargo-mutants) into `target/tools` when they are missing.
//! * `cargo xtask mutants-diff` — cargo-mutants on the codec lines changed since
//!   `.ci/mutants-base` (CI's `mutants` step; a missed mutant fails it).
//! * `cargo xtask autobahn [--deflate]` — Autobahn|Testsuite cases 1–11 (with `--deflate`:
//!   the permessage-deflate cases 12 and 13 instead) against pushwire-ws, both roles; CI runs
//!   both (steps `autobahn` and `autobahn-deflate`).
//! * `cargo xtask interop [CHECK...]` — real peers (headless Chromium, node and python
//!   peers); only the named checks when given.
//! * `cargo xtask fuzz [--seconds N] [TARGET...]` — build every cargo-fuzz target, replay
//!   its kept corpus (`fuzz/seeds/<target>`) and fuzz it for N seconds (CI's `fuzz` step).
//! * `cargo xtask fuzz-campaign [--max-seconds N] [--plateau S] [TARGET...]` — fuzz each
//!   target until its coverage plateaus, then merge what it found into the kept corpus.
//! * `cargo xtask fuzz-asan [TARGET...]` — with a nightly toolchain: every target built with
//!   AddressSanitizer, each kept corpus replayed under it.
//! * `cargo xtask bench-compare BENCH GROUP [--rounds N] [--time S] [--base NAME]
//!   [--instructions] [--count CALLS]` — the contenders of a criterion group measured in
//!   alternation, round after round; median ratio and its spread; with `--instructions`, also
//!   each contender's instructions per iteration under callgrind.
//! * `cargo xtask bench-table [--rounds N] [--time S] [--instructions] [GROUP...]` — the same
//!   for every group of docs/performance.md's headline table, a Markdown row each.
//!
//! Dependencies are kept to serde_json (reading Autobahn reports) so this crate builds in
//! seconds on a fresh machine.

mod autobahn;
mod bench;
mod fuzz;
mod hosts;
mod interop;
mod mutants;
mod proc;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = workspace_root();
    env::set_current_dir(&root).expect("cannot enter the workspace root");
    match args.first().map(String::as_str) {
        Some("ci") => ci(&args[1..]),
        Some("fuzz") => report("fuzz", fuzz::smoke_cmd(&args[1..])),
        Some("fuzz-campaign") => report("fuzz-campaign", fuzz::campaign(&args[1..])),
        Some("fuzz-asan") => report("fuzz-asan", fuzz::asan(&args[1..])),
        Some("bench-compare") => report("bench-compare", bench::compare(&args[1..])),
        Some("bench-table") => report("bench-table", bench::table(&args[1..])),
        Some("mutants-diff") => report("mutants-diff", mutants::mutants_diff()),
        Some("autobahn") => report(
            "autobahn",
            autobahn::autobahn(args[1..].iter().any(|a| a == "--deflate")),
        ),
        Some("interop") => report("interop", interop::interop(&args[1..])),
        Some("help") | Some("--help") | Some("-h") | None => {
            print_help();
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("xtask: unknown command `{other}`");
            print_help();
            ExitCode::from(2)
        }
    }
}

fn print_help() {
    println!(
        "usage: cargo xtask <command>\n\n\
         commands:\n  \
         ci [--skip STEP,...] [--only STEP,...] [--fuzz-seconds N]\n      \
         run every check (steps: {})\n  \
         fuzz [--seconds N] [TARGET...]\n      \
         build the cargo-fuzz targets, replay each kept corpus, fuzz each for N seconds (default 20)\n  \
         fuzz-campaign [--max-seconds N] [--plateau S] [TARGET...]\n      \
         fuzz each target until no new coverage for S s (default 60; at most N s, default 300),\n      \
         then minimize what it found into fuzz/seeds/<target>\n  \
         fuzz-asan [TARGET...]\n      \
         (nightly) build the targets with AddressSanitizer, replay each kept corpus under it\n  \
         bench-compare BENCH GROUP [--rounds N] [--time S] [--base NAME] [--instructions] [--count CALLS]\n      \
         criterion contenders in alternating rounds; median ratio and spread;\n      \
         --instructions: also instructions per iteration under callgrind (needs valgrind)\n  \
         bench-table [--rounds N] [--time S] [--instructions] [--count CALLS] [GROUP...]\n      \
         bench-compare over every headline group of docs/performance.md, a row each\n  \
         mutants-diff\n      \
         cargo-mutants on the codec lines changed since .ci/mutants-base (CI step `mutants`)\n  \
         autobahn [--deflate]\n      \
         Autobahn|Testsuite cases 1-11 (--deflate: 12-13) against pushwire-ws in both roles\n  \
         interop [CHECK...]\n      \
         real peers: headless Chromium (SSE), ...",
        STEPS.join(", ")
    );
}

/// The CI steps, in the order they run.
const STEPS: &[&str] = &[
    "fmt",
    "clippy",
    "test",
    "doctest",
    "doc",
    "bench-build",
    "autobahn",
    "autobahn-deflate",
    "interop",
    "fuzz",
    "mutants",
];

fn workspace_root() -> PathBuf {
    // xtask lives in <root>/xtask; CARGO_MANIFEST_DIR is set by `cargo run`.
    match env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => Path::new(&dir)
            .parent()
            .expect("xtask has a parent directory")
            .to_path_buf(),
        None => env::current_dir().expect("current directory"),
    }
}

struct StepResult {
    name: String,
    ok: bool,
    time: Duration,
    detail: String,
}

fn ci(args: &[String]) -> ExitCode {
    let mut skip: Vec<String> = Vec::new();
    let mut only: Vec<String> = Vec::new();
    let mut fuzz_seconds: u64 = 20;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--skip" => skip.extend(split_list(it.next())),
            "--only" => only.extend(split_list(it.next())),
            "--fuzz-seconds" => {
                fuzz_seconds = it.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
                    eprintln!("xtask: --fuzz-seconds takes a number");
                    std::process::exit(2)
                })
            }
            other => {
                eprintln!("xtask ci: unknown argument `{other}`");
                return ExitCode::from(2);
            }
        }
    }
    for s in skip.iter().chain(only.iter()) {
        if !STEPS.contains(&s.as_str()) {
            eprintln!("xtask ci: unknown step `{s}` (steps: {})", STEPS.join(", "));
            return ExitCode::from(2);
        }
    }

    let started = Instant::now();
    let mut results = Vec::new();
    for &step in STEPS {
        if skip.iter().any(|s| s == step) || (!only.is_empty() && !only.iter().any(|s| s == step)) {
            continue;
        }
        println!("\n==> [{step}] starting");
        let t = Instant::now();
        let outcome = match step {
            "fmt" => run(cargo().args(["fmt", "--all", "--", "--check"])),
            // The codec crates promise `no_std` + `alloc`: build them without `std` too.
            "clippy" => run(cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
            .and_then(|()| {
                run(cargo().args([
                    "build",
                    "--no-default-features",
                    "-p",
                    "pushwire-ws",
                    "-p",
                    "pushwire-sse",
                    "-p",
                    "pushwire-engineio",
                    "-p",
                    "pushwire-socketio",
                ]))
            })
            .and_then(|()| {
                // zlib-rs, the default permessage-deflate engine, without std as well.
                run(cargo().args([
                    "build",
                    "--no-default-features",
                    "--features",
                    "zlib-rs",
                    "-p",
                    "pushwire-ws",
                ]))
            }),
            // crates/tokio/tests/socketio_cluster.rs starts its own redis-server.
            "test" => interop::ensure_redis().and_then(|()| run_tests()),
            "doctest" => run(cargo().args(["test", "--workspace", "--doc"])),
            // Broken links, unclosed HTML tags and other rustdoc warnings fail the step.
            // pushwire-tokio's `codec` and `axum` modules are not enabled by any other
            // workspace member: document them in a second pass with every feature on.
            "doc" => run(cargo().env("RUSTDOCFLAGS", "-D warnings").args([
                "doc",
                "--no-deps",
                "--workspace",
            ]))
            .and_then(|()| {
                run(cargo().env("RUSTDOCFLAGS", "-D warnings").args([
                    "doc",
                    "--no-deps",
                    "-p",
                    "pushwire-tokio",
                    "--all-features",
                ]))
            }),
            "bench-build" => run(cargo().args(["bench", "--workspace", "--no-run"])),
            "autobahn" => autobahn::autobahn(false),
            "autobahn-deflate" => autobahn::autobahn(true),
            "interop" => interop::interop(&[]),
            "fuzz" => fuzz::smoke(fuzz_seconds, &[]),
            "mutants" => mutants::mutants_diff(),
            _ => unreachable!("every step in STEPS is handled"),
        };
        let time = t.elapsed();
        let (ok, detail) = match outcome {
            Ok(()) => (true, String::new()),
            Err(e) => (false, e),
        };
        println!(
            "==> [{step}] {} in {:.1}s{}",
            if ok { "PASS" } else { "FAIL" },
            time.as_secs_f64(),
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        );
        results.push(StepResult {
            name: step.to_string(),
            ok,
            time,
            detail,
        });
    }

    println!("\nSummary (cargo xtask ci)");
    println!("{:<14} {:<6} {:>9}", "step", "result", "seconds");
    for r in &results {
        println!(
            "{:<14} {:<6} {:>9.1}{}",
            r.name,
            if r.ok { "PASS" } else { "FAIL" },
            r.time.as_secs_f64(),
            if r.ok {
                String::new()
            } else {
                format!("  ({})", r.detail)
            }
        );
    }
    let passed = results.iter().filter(|r| r.ok).count();
    let failed = results.len() - passed;
    println!("total time {:.1}s", started.elapsed().as_secs_f64());
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn split_list(s: Option<&String>) -> Vec<String> {
    s.map(|s| {
        s.split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

fn report(what: &str, r: Result<(), String>) -> ExitCode {
    match r {
        Ok(()) => {
            println!("{what}: PASS");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{what}: FAIL: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Makes sure `cargo <sub>` runs, installing the crate `krate` into `target/tools` when it is
/// missing (cargo-fuzz, cargo-mutants). Returns the PATH to run it with (`target/tools/bin`
/// first).
pub(crate) fn ensure_cargo_tool(sub: &str, krate: &str) -> Result<std::ffi::OsString, String> {
    let tools = Path::new("target/tools");
    let tools_bin = env::current_dir()
        .map_err(|e| e.to_string())?
        .join(tools)
        .join("bin");
    let mut paths = vec![tools_bin];
    paths.extend(env::split_paths(&env::var_os("PATH").unwrap_or_default()));
    let path = env::join_paths(paths).map_err(|e| e.to_string())?;
    if succeeds(cargo().env("PATH", &path).args([sub, "--version"])) {
        return Ok(path);
    }
    println!("    {krate} not found; installing it into target/tools");
    run(cargo().args([
        "install",
        krate,
        "--locked",
        "--root",
        &tools.to_string_lossy(),
    ]))?;
    Ok(path)
}

pub(crate) fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs a command with inherited stdio; Err carries a one-line reason.
pub(crate) fn run(cmd: &mut Command) -> Result<(), String> {
    println!("    $ {}", describe(cmd));
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("`{}` exited with {s}", describe(cmd))),
        Err(e) => Err(format!("cannot start `{}`: {e}", describe(cmd))),
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

pub(crate) fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Runs nextest with its stderr passed through, and on failure names the tests that failed
/// (nextest's `FAIL` / `TIMEOUT` / `SIG…` status lines) in the error, so that the step
/// summary at the end of a CI log says which ones.
fn run_naming_failures(cmd: &mut Command) -> Result<(), String> {
    use std::io::BufRead;
    println!("    $ {}", describe(cmd));
    let mut child = cmd
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    let mut failed: Vec<String> = Vec::new();
    if let Some(err) = child.stderr.take() {
        for line in std::io::BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            eprintln!("{line}");
            let t = line.trim_start();
            let status = t.split_whitespace().next().unwrap_or("");
            if matches!(status, "FAIL" | "TIMEOUT" | "LEAK-FAIL")
                || status.starts_with("SIG")
                || status.starts_with("ABORT")
            {
                // `FAIL [   1.234s] (12/900) crate::binary test_name`: keep the name.
                let name = t.rsplit_once(") ").map_or(t, |(_, n)| n).to_string();
                if !failed.contains(&name) && failed.len() < 20 {
                    failed.push(name);
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else if failed.is_empty() {
        Err(format!("`{}` exited with {status}", describe(cmd)))
    } else {
        Err(format!("{status}; failed: {}", failed.join(", ")))
    }
}

/// Unit, integration and property tests: nextest when present (it is on these machines),
/// plain `cargo test` otherwise. Doc tests are their own step (nextest cannot run them).
fn run_tests() -> Result<(), String> {
    if succeeds(cargo().args(["nextest", "--version"])) {
        run_naming_failures(cargo().args([
            "nextest",
            "run",
            "--workspace",
            "--all-targets",
            "--no-fail-fast",
        ]))
    } else {
        println!("    cargo-nextest not found; using cargo test");
        run(cargo().args(["test", "--workspace", "--all-targets", "--no-fail-fast"]))
    }
}
