//! Reads an event stream with `pushwire_tokio::sse::EventSource` and prints what happens,
//! one line each, for the interop checks against servers written by others
//! (tests/interop/sse). Usage:
//!
//! ```text
//! sse_client_check URL [--reconnect-ms N] [--max-backoff-ms N] [--read-timeout-ms N]
//!                      [--max-attempts N] [--last-event-id ID] [--max-events N] [--http2]
//!                      [--backoff-reset-ms N] [--jitter none|full|decorrelated]
//! ```
//!
//! `--reconnect-ms` sets both the reconnection time and the backoff's base
//! (`min_backoff`); `--backoff-reset-ms 0` counts every stream that opened as healthy (the
//! delay is then the reconnection time alone).
//!
//! Lines: `event <id> <type> <data>` (data with LF as `\n`), then one final line:
//! `end closed opened=<streams>` (204 or `--max-events` reached) or
//! `end failed opened=<streams> <reason>`.

use std::io::Write;
use std::time::Duration;

use futures_util::StreamExt;
use pushwire_tokio::sse::{ClientConfig, EventSource, HttpVersion, Jitter};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first().cloned() else {
        eprintln!("usage: sse_client_check URL [options]");
        std::process::exit(2);
    };
    let opt = |name: &str| -> Option<&str> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let ms = |name: &str| {
        opt(name)
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
    };
    let mut config = ClientConfig::DEFAULT.with_jitter(Jitter::Full);
    if let Some(d) = ms("--reconnect-ms") {
        config = config.with_reconnection_time(d).with_min_backoff(d);
    }
    if let Some(d) = ms("--max-backoff-ms") {
        config = config.with_max_backoff(d);
    }
    if let Some(d) = ms("--read-timeout-ms") {
        config = config.with_read_timeout(Some(d));
    }
    if let Some(n) = opt("--max-attempts").and_then(|v| v.parse().ok()) {
        config = config.with_max_attempts(Some(n));
    }
    if let Some(d) = ms("--backoff-reset-ms") {
        config = config.with_backoff_reset_after(d);
    }
    match opt("--jitter") {
        Some("none") => config = config.with_jitter(Jitter::None),
        Some("decorrelated") => config = config.with_jitter(Jitter::Decorrelated),
        _ => {}
    }
    let max_events: Option<u64> = opt("--max-events").and_then(|v| v.parse().ok());
    let mut builder = EventSource::builder(&url).config(config);
    if let Some(id) = opt("--last-event-id") {
        builder = builder.last_event_id(id);
    }
    if args.iter().any(|a| a == "--http2") {
        builder = builder.http_version(HttpVersion::Http2);
    }
    let mut source = match builder.build() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let mut seen = 0u64;
        let failed = loop {
            if max_events.is_some_and(|m| seen >= m) {
                source.close();
            }
            match source.next().await {
                Some(Ok(ev)) => {
                    seen += 1;
                    let _ = writeln!(
                        out,
                        "event {} {} {}",
                        ev.last_event_id(),
                        ev.event_type(),
                        ev.data().replace('\n', "\\n")
                    );
                }
                Some(Err(e)) => break Some(e.to_string()),
                None => break None,
            }
        };
        let opened = source.streams_opened();
        let _ = match failed {
            None => writeln!(out, "end closed opened={opened}"),
            Some(reason) => writeln!(out, "end failed opened={opened} {reason}"),
        };
        let _ = out.flush();
    });
}
