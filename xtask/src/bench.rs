//! `cargo xtask bench-compare BENCH GROUP [--rounds N] [--time S] [--base NAME]`: a
//! comparison you can trust on a machine whose speed changes within seconds (issue 18).
//!
//! Criterion measures the contenders of a group one after the other, so a speed change of
//! the VM between them lands in the ratio (`sse_parse_small` once gave 1.33×, 2.66× and
//! 3.22× minutes apart). Here each contender is measured for `--time` seconds in turn, round
//! after round, in a rotating order, and every round gives a ratio per contender against
//! the base (the first contender whose name holds "pushwire", or `--base`) from
//! measurements seconds apart. The report is the median ratio over the rounds with its
//! spread (lowest–highest), which is what docs/performance.md quotes.

use std::path::PathBuf;
use std::process::Command;

use crate::cargo;

struct Options {
    bench: String,
    group: String,
    rounds: usize,
    seconds: f64,
    base: Option<String>,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut free = Vec::new();
    let mut o = Options {
        bench: String::new(),
        group: String::new(),
        rounds: 7,
        seconds: 1.0,
        base: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |what: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{what} takes a value"))
        };
        match a.as_str() {
            "--rounds" => {
                o.rounds = value("--rounds")?
                    .parse()
                    .map_err(|_| "--rounds takes a number")?
            }
            "--time" => {
                o.seconds = value("--time")?
                    .parse()
                    .map_err(|_| "--time takes seconds")?
            }
            "--base" => o.base = Some(value("--base")?),
            _ => free.push(a.clone()),
        }
    }
    let [bench, group] = &free[..] else {
        return Err(
            "usage: cargo xtask bench-compare BENCH GROUP [--rounds N] [--time S] [--base NAME]"
                .into(),
        );
    };
    o.bench = bench.clone();
    o.group = group.clone();
    if o.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    Ok(o)
}

/// Builds the bench binary of `pushwire-benches` and returns its path.
fn build(bench: &str) -> Result<PathBuf, String> {
    println!("    building bench `{bench}` (cargo bench --no-run)");
    let out = cargo()
        .args([
            "bench",
            "-p",
            "pushwire-benches",
            "--bench",
            bench,
            "--no-run",
            "--message-format=json",
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "cargo bench --no-run failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == bench && v["target"]["kind"][0] == "bench")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("no executable for bench `{bench}`"))
}

/// The benchmarks of `group` (criterion's `--list`: `group/name: benchmark`).
fn contenders(bin: &PathBuf, group: &str) -> Result<Vec<String>, String> {
    let out = Command::new(bin)
        .args(["--bench", "--list"])
        .output()
        .map_err(|e| e.to_string())?;
    let prefix = format!("{group}/");
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": benchmark"))
        .filter(|n| n.starts_with(&prefix) && !n[prefix.len()..].contains('/'))
        .map(str::to_string)
        .collect();
    if names.len() < 2 {
        return Err(format!(
            "group `{group}` has {} benchmarks directly under it; need two or more",
            names.len()
        ));
    }
    Ok(names)
}

/// One measurement: criterion's median time per iteration, in ns (bencher output:
/// `test NAME ... bench:   1,234 ns/iter (+/- 56)`).
fn measure(bin: &PathBuf, name: &str, seconds: f64) -> Result<f64, String> {
    let out = Command::new(bin)
        .args([
            "--bench",
            "--exact",
            name,
            "--noplot",
            "--output-format",
            "bencher",
            "--warm-up-time",
            &format!("{}", (seconds / 3.0).max(0.2)),
            "--measurement-time",
            &format!("{seconds}"),
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{name} exited with {}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            let rest = l.split("bench:").nth(1)?;
            let ns = rest.split("ns/iter").next()?.trim().replace(',', "");
            ns.parse::<f64>().ok()
        })
        .ok_or_else(|| format!("no result for {name}:\n{text}"))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `cargo xtask bench-compare …`.
pub(crate) fn compare(args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    let bin = build(&o.bench)?;
    let names = contenders(&bin, &o.group)?;
    let base = match &o.base {
        Some(b) => {
            let full = format!("{}/{b}", o.group);
            names
                .iter()
                .position(|n| *n == full || n == b)
                .ok_or_else(|| format!("no benchmark `{full}` (have: {})", names.join(", ")))?
        }
        None => names
            .iter()
            .position(|n| n.contains("pushwire"))
            .unwrap_or(0),
    };
    println!(
        "bench-compare {} {}: {} rounds of {} s per contender, base {}",
        o.bench, o.group, o.rounds, o.seconds, names[base]
    );
    // times[k][round]
    let mut times = vec![Vec::with_capacity(o.rounds); names.len()];
    for round in 0..o.rounds {
        let mut line = format!("  round {}:", round + 1);
        for i in 0..names.len() {
            let k = (i + round) % names.len();
            let t = measure(&bin, &names[k], o.seconds)?;
            times[k].push(t);
            line.push_str(&format!(" {}={t:.0}ns", &names[k][o.group.len() + 1..]));
        }
        println!("{line}");
    }
    println!(
        "\n| {} | median ns/iter | {}'s speed-up over it: its time / {}'s, median (lowest–highest) over {} rounds |\n|---|---|---|",
        o.group,
        &names[base][o.group.len() + 1..],
        &names[base][o.group.len() + 1..],
        o.rounds
    );
    for (k, name) in names.iter().enumerate() {
        let mut ratios: Vec<f64> = times[k]
            .iter()
            .zip(&times[base])
            .map(|(t, b)| t / b)
            .collect();
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(0.0, f64::max);
        let mid = median(&mut ratios);
        let mut own = times[k].clone();
        println!(
            "| {} | {:.0} | {} |",
            &name[o.group.len() + 1..],
            median(&mut own),
            if k == base {
                "base".to_string()
            } else {
                format!("{mid:.2}× ({lo:.2}–{hi:.2})")
            }
        );
    }
    println!(
        "\n(speed-up = the contender's time / the base's time in the same round: above 1, the base is faster)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(super::median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
