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
//!
//! With `--instructions`, each contender is also run once under callgrind, and the report adds
//! its instructions per iteration and the ratio of those: figures no other load on the machine
//! changes. The bench counts only its routine (benches/src/count.rs: `--count` calls after a
//! warm-up, inside a frame `--toggle-collect` names), not the group's setup. `--rounds 0
//! --instructions` gives the counts alone. Needs valgrind.

use std::path::PathBuf;
use std::process::Command;

use crate::cargo;

struct Options {
    bench: String,
    group: String,
    rounds: usize,
    seconds: f64,
    base: Option<String>,
    /// Count instructions under callgrind: `Some(0)` for an automatic number of calls.
    count: Option<u64>,
}

/// Instructions `--instructions` aims to count per contender (without `--count`): 10 calls
/// first, then as many as make about this many (at least 10, at most 1,000), so a 100 ns
/// routine is averaged over 1,000 calls and a 40 ms one is not run for minutes under
/// callgrind.
const COUNT_BUDGET: f64 = 2e8;

fn options(args: &[String]) -> Result<Options, String> {
    let mut free = Vec::new();
    let mut o = Options {
        bench: String::new(),
        group: String::new(),
        rounds: 7,
        seconds: 1.0,
        base: None,
        count: None,
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
            "--instructions" => o.count = Some(o.count.unwrap_or(0)),
            "--count" => {
                let n: u64 = value("--count")?
                    .parse()
                    .map_err(|_| "--count takes a number")?;
                if n == 0 {
                    return Err("--count must be at least 1".into());
                }
                o.count = Some(n);
            }
            _ => free.push(a.clone()),
        }
    }
    let [bench, group] = &free[..] else {
        return Err(
            "usage: cargo xtask bench-compare BENCH GROUP [--rounds N] [--time S] [--base NAME] \
             [--instructions] [--count CALLS]"
                .into(),
        );
    };
    o.bench = bench.clone();
    o.group = group.clone();
    if o.rounds == 0 && o.count.is_none() {
        return Err("--rounds must be at least 1 (or 0 with --instructions)".into());
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

/// Instructions per routine call of benchmark `name`: callgrind counting only inside
/// `pushwire_benches::count::counted`, divided by the `calls` the bench made there.
fn instructions(bin: &PathBuf, name: &str, calls: u64) -> Result<f64, String> {
    let file = std::env::temp_dir().join(format!("pushwire-callgrind-{}.out", std::process::id()));
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--toggle-collect=pushwire_benches::count::counted*",
            &format!("--callgrind-out-file={}", file.display()),
        ])
        .arg(bin)
        .args(["--bench", "--exact", name])
        .env("PUSHWIRE_BENCH_COUNT", calls.to_string())
        .output()
        .map_err(|e| format!("valgrind: {e} (apt-get install valgrind)"))?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "{name} under callgrind exited with {}:\n{err}",
            out.status
        ));
    }
    // The bench says it counted; without it the routine does not use `counted_iter`.
    if !err.contains(&format!("{calls} routine calls counted")) {
        return Err(format!(
            "{name} did not count its routine (does it call counted_iter?):\n{err}"
        ));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let _ = std::fs::remove_file(&file);
    match total_instructions(&text) {
        // Nothing counted: the toggled frame never ran (a renamed function, an inlined one).
        Some(0) => Err(format!(
            "{name}: callgrind counted no instruction inside pushwire_benches::count::counted"
        )),
        Some(total) => Ok(total as f64 / calls as f64),
        None => Err(format!("no totals in callgrind's output for {name}")),
    }
}

/// The `totals:` (or older `summary:`) line of a callgrind output file: instructions first.
fn total_instructions(callgrind_out: &str) -> Option<u64> {
    callgrind_out.lines().find_map(|l| {
        let rest = l
            .strip_prefix("totals:")
            .or_else(|| l.strip_prefix("summary:"))?;
        rest.split_whitespace().next()?.parse().ok()
    })
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

/// One contender's figures in a group.
struct Row {
    /// The name after `group/`.
    name: String,
    /// Median ns per iteration over the rounds (None without rounds).
    ns: Option<f64>,
    /// Its time / the base's, per round: median, lowest, highest (None for the base).
    ratio: Option<(f64, f64, f64)>,
    /// Instructions per iteration under callgrind, if counted.
    instructions: Option<f64>,
    /// Whether this is the base contender.
    base: bool,
}

/// Measures every contender of `o.group` (wall clock in rounds, then instructions).
fn measure_group(o: &Options, bin: &PathBuf) -> Result<Vec<Row>, String> {
    let names = contenders(bin, &o.group)?;
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
    let short = |name: &str| name[o.group.len() + 1..].to_string();
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
            let t = measure(bin, &names[k], o.seconds)?;
            times[k].push(t);
            line.push_str(&format!(" {}={t:.0}ns", short(&names[k])));
        }
        println!("{line}");
    }
    let mut rows = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let instructions = match o.count {
            Some(count) => {
                let mut calls = if count == 0 { 10 } else { count };
                let mut n = instructions(bin, name, calls)?;
                if count == 0 {
                    let more = (COUNT_BUDGET / n.max(1.0)).clamp(10.0, 1000.0) as u64;
                    if more > calls {
                        calls = more;
                        n = instructions(bin, name, calls)?;
                    }
                }
                println!(
                    "  {}: {n:.0} instructions per iteration ({calls} calls under callgrind)",
                    short(name)
                );
                Some(n)
            }
            None => None,
        };
        let (ns, ratio) = if o.rounds == 0 {
            (None, None)
        } else {
            let mut ratios: Vec<f64> = times[k]
                .iter()
                .zip(&times[base])
                .map(|(t, b)| t / b)
                .collect();
            let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = ratios.iter().copied().fold(0.0, f64::max);
            let mid = median(&mut ratios);
            let mut own = times[k].clone();
            (Some(median(&mut own)), (k != base).then_some((mid, lo, hi)))
        };
        rows.push(Row {
            name: short(name),
            ns,
            ratio,
            instructions,
            base: k == base,
        });
    }
    Ok(rows)
}

/// `cargo xtask bench-compare …`.
pub(crate) fn compare(args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    let bin = build(&o.bench)?;
    let rows = measure_group(&o, &bin)?;
    let base = rows.iter().find(|r| r.base).map_or("", |r| r.name.as_str());
    let base_instr = rows.iter().find(|r| r.base).and_then(|r| r.instructions);
    let mut head = format!("\n| {} |", o.group);
    let mut rule = "|---|".to_string();
    if o.rounds > 0 {
        head += &format!(
            " median ns/iter | {base}'s speed-up over it: its time / {base}'s, median (lowest–highest) over {} rounds |",
            o.rounds
        );
        rule += "---|---|";
    }
    if o.count.is_some() {
        head += &format!(" instructions/iter | its instructions / {base}'s |");
        rule += "---|---|";
    }
    println!("{head}\n{rule}");
    for r in &rows {
        let mut line = format!("| {} |", r.name);
        if let Some(ns) = r.ns {
            line += &format!(" {ns:.0} |");
            line += &match r.ratio {
                Some((mid, lo, hi)) => format!(" {mid:.2}× ({lo:.2}–{hi:.2}) |"),
                None => " base |".into(),
            };
        }
        if let (Some(n), Some(b)) = (r.instructions, base_instr) {
            line += &format!(" {n:.0} |");
            line += &if r.base {
                " base |".to_string()
            } else {
                format!(" {:.2}× |", n / b)
            };
        }
        println!("{line}");
    }
    println!(
        "\n(speed-up = the contender's time, or instructions, / the base's: above 1, the base is faster)"
    );
    Ok(())
}

/// The groups of docs/performance.md's headline table: every codec group with two or more
/// contenders (bench, group).
const HEADLINE: &[(&str, &str)] = &[
    ("sse", "sse_parse_large"),
    ("sse", "sse_parse_small"),
    ("ws", "ws_decode_1k"),
    ("ws", "ws_decode_small"),
    ("ws", "ws_deflate/compress"),
    ("ws", "ws_deflate/decompress"),
    ("ws", "ws_encode_small"),
    ("ws", "ws_unmask_1m"),
    ("ws", "ws_unmask_64k"),
    ("engineio", "eio3_packet_decode"),
    ("engineio", "eio3_payload_decode"),
    ("engineio", "eio3_payload_encode"),
    ("engineio", "eio4_packet_decode"),
    ("engineio", "eio4_payload_decode"),
    ("engineio", "eio4_payload_encode"),
    ("socketio", "socketio/binary2/decode"),
    ("socketio", "socketio/binary2/encode"),
    ("socketio", "socketio/json10k/decode"),
    ("socketio", "socketio/json10k/decode_args"),
    ("socketio", "socketio/json10k/encode"),
    ("socketio", "socketio/small/decode"),
    ("socketio", "socketio/small/decode_args"),
    ("socketio", "socketio/small/encode"),
];

/// `cargo xtask bench-table [--rounds N] [--time S] [--instructions] [--count CALLS]
/// [GROUP...]`: docs/performance.md's headline table in one command (every [`HEADLINE`] group,
/// or those named), one Markdown row per group.
pub(crate) fn table(args: &[String]) -> Result<(), String> {
    let mut flags = Vec::new();
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if matches!(a.as_str(), "--rounds" | "--time" | "--count" | "--base") {
            flags.push(a.clone());
            flags.extend(it.next().cloned());
        } else if a.starts_with("--") {
            flags.push(a.clone());
        } else {
            only.push(a.clone());
        }
    }
    let mut lines = Vec::new();
    for (bench, group) in HEADLINE {
        if !only.is_empty() && !only.iter().any(|g| g == group) {
            continue;
        }
        let mut a = vec![bench.to_string(), group.to_string()];
        a.extend(flags.iter().cloned());
        let o = options(&a)?;
        let bin = build(bench)?;
        let rows = measure_group(&o, &bin)?;
        let base = rows.iter().find(|r| r.base).ok_or("no base")?;
        let mut cells = Vec::new();
        for r in rows.iter().filter(|r| !r.base) {
            let mut c = r.name.clone();
            if let Some((mid, lo, hi)) = r.ratio {
                c += &format!(" {mid:.2}× ({lo:.2}–{hi:.2})");
            }
            if let (Some(n), Some(b)) = (r.instructions, base.instructions) {
                c += &format!(" [{:.2}× instructions]", n / b);
            }
            cells.push(c);
        }
        let own = match (base.ns, base.instructions) {
            (Some(ns), Some(i)) => format!("{} / {i:.0} instructions", time(ns)),
            (Some(ns), None) => time(ns),
            (None, Some(i)) => format!("{i:.0} instructions"),
            (None, None) => String::new(),
        };
        lines.push(format!(
            "| `{bench}` | `{group}` | {own} | {} |",
            cells.join("; ")
        ));
    }
    println!(
        "\n| bench | group | the base per iteration | contenders: the base's speed-up, median (lowest–highest) [by instructions] |\n|---|---|---|---|"
    );
    for l in lines {
        println!("{l}");
    }
    Ok(())
}

/// `ns` nanoseconds, in ns, µs or ms.
fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(super::median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn callgrind_totals() {
        let out = "events: Ir\nfn=(1) main\n0 5\ntotals: 123456\n";
        assert_eq!(super::total_instructions(out), Some(123456));
        assert_eq!(super::total_instructions("summary: 77 1\n"), Some(77));
        assert_eq!(super::total_instructions("events: Ir\n"), None);
    }
}
