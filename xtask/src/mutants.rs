//! The CI step `mutants` (issue 18): cargo-mutants on the lines of the sans-IO codec crates
//! that changed since the commit named in `.ci/mutants-base`, with `--in-diff`.
//!
//! Every mutant of a changed line must be caught by a test (or hang a test: cargo-mutants'
//! "timeout", which fails CI by its time limit too, so it counts as detected); a missed one
//! fails the step, naming it. A mutant that cannot be caught because it changes nothing
//! observable goes in `.cargo/mutants.toml`'s `exclude_re` with the reason beside it.
//!
//! `.ci/mutants-base` holds the last landed commit whose codec changes were tested this way;
//! each session moves it to the commit it started from (docs/reliability.md, "Mutation
//! testing"). On a clone that lacks that commit (a shallow one), the base is `HEAD~1`; on one
//! without even that, the step says so and passes (nothing to compare with).
//!
//! cargo-mutants is installed into `target/tools` when missing, like cargo-fuzz.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::cargo;

/// The sans-IO codec crates' sources: the mutated code.
const CODEC_SOURCES: &[&str] = &[
    "crates/sse/src",
    "crates/ws/src",
    "crates/engineio/src",
    "crates/socketio/src",
];

/// Where the results go (cargo-mutants writes `mutants.out` under it).
const OUTPUT: &str = "target/mutants-diff";

/// `git` with `args`; stdout on success.
fn git(args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The commit to diff against: `.ci/mutants-base` if this clone has it, else `HEAD~1`.
fn base() -> Option<String> {
    let named = fs::read_to_string(".ci/mutants-base")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(c) = named {
        if git(&["cat-file", "-e", &format!("{c}^{{commit}}")]).is_ok() {
            return Some(c);
        }
        println!("    .ci/mutants-base names {c}, which this clone lacks; using HEAD~1");
    }
    git(&["rev-parse", "--verify", "HEAD~1"])
        .ok()
        .map(|s| s.trim().to_string())
}

/// The mutants cargo-mutants reports as missed in `mutants.out/missed.txt`.
fn missed(out: &Path) -> Vec<String> {
    fs::read_to_string(out.join("mutants.out").join("missed.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The CI step.
pub(crate) fn mutants_diff() -> Result<(), String> {
    let Some(base) = base() else {
        println!("    no base commit in this clone (shallow?): nothing to compare with");
        return Ok(());
    };
    // Against the working tree (on CI's clean clone, HEAD): the lines as they are now.
    // Plain paths with a/ and b/ prefixes whatever the user's git settings
    // (`diff.noprefix`, an external diff tool, colour), or cargo-mutants would match
    // nothing and pass.
    let mut args = vec![
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        base.as_str(),
        "--",
    ];
    args.extend(CODEC_SOURCES);
    let diff = git(&args)?;
    println!(
        "    codec source changes since {base}: {} diff lines",
        diff.lines().count()
    );
    if diff.trim().is_empty() {
        println!("    no codec source changed: no mutants to test");
        return Ok(());
    }
    let path = crate::ensure_cargo_tool("mutants", "cargo-mutants")?;
    let out = Path::new(OUTPUT);
    fs::create_dir_all(out).map_err(|e| format!("{OUTPUT}: {e}"))?;
    let diff_file = out.join("codec.diff");
    fs::write(&diff_file, &diff).map_err(|e| format!("{}: {e}", diff_file.display()))?;
    // cargo-mutants exits non-zero when anything is missed or times out; the outcome
    // files say which, and only a missed mutant fails the step.
    let status = cargo()
        .env("PATH", &path)
        // Not the ignored files (fuzz/target, node_modules: 1.4 GB on a CI machine).
        .args(["mutants", "--gitignore", "true", "--in-diff"])
        .arg(&diff_file)
        .arg("--output")
        .arg(out)
        .status()
        .map_err(|e| format!("cargo mutants: {e}"))?;
    let missed = missed(out);
    if !missed.is_empty() {
        return Err(format!(
            "{} mutant(s) of changed codec lines missed by every test (kill each with a test, \
             or exclude an equivalent one in .cargo/mutants.toml with the reason):\n      {}",
            missed.len(),
            missed.join("\n      ")
        ));
    }
    // 0: all caught; 3: timeouts (detected: a hang); 2 means missed mutants even when
    // missed.txt could not be read; others are failures of the run itself (4: the
    // unmutated tree failed its tests).
    match status.code() {
        Some(0) | Some(3) => Ok(()),
        other => Err(format!("cargo mutants exited with {other:?}")),
    }
}
