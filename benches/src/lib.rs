//! Input generators shared by the criterion benchmarks in `benches/benches/`.
//!
//! The benchmarks themselves live in `benches/benches/*.rs`; run them with
//! `cargo bench -p pushwire-benches` (see docs/performance.md). Every generator is
//! deterministic, so runs compare like with like.

use bytes::Bytes;

/// Splits `data` into chunks of `size` bytes, as a socket read loop would deliver them.
pub fn chunks(data: &[u8], size: usize) -> Vec<Bytes> {
    data.chunks(size).map(Bytes::copy_from_slice).collect()
}

/// The `sse_parse_small` stream: `n` events, each `id: N`, `event: tick` and one `data:` line
/// of a JSON object of about 100 bytes.
pub fn sse_small_stream(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 140);
    for i in 0..n {
        out.extend_from_slice(
            format!(
                "id: {i}\nevent: tick\ndata: {{\"seq\":{i},\"symbol\":\"PSHW\",\"price\":{}.{:02},\"volume\":{},\"venue\":\"XNAS\",\"flags\":[\"a\",\"b\"]}}\n\n",
                100 + i % 50,
                i % 100,
                1000 + i * 7
            )
            .as_bytes(),
        );
    }
    out
}

/// The `sse_parse_large` stream: `n` events, each one `data:` line of `len` bytes.
pub fn sse_large_stream(n: usize, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * (len + 8));
    for i in 0..n {
        out.extend_from_slice(b"data: ");
        out.extend((0..len).map(|k| b'a' + ((i + k) % 26) as u8));
        out.extend_from_slice(b"\n\n");
    }
    out
}

/// One Engine.io v3 `tick` message packet in the string form, `4["tick",{…}]`, about 100
/// bytes (ASCII, so its UTF-16 length equals its byte length).
pub fn eio3_tick_packet(i: usize) -> String {
    format!(
        "4[\"tick\",{{\"seq\":{i},\"symbol\":\"PSHW\",\"price\":{}.{:02},\"volume\":{},\"venue\":\"XNAS\",\"flags\":[\"a\"]}}]",
        100 + i % 50,
        i % 100,
        1000 + i * 7
    )
}

/// `n` tick packets (see [`eio3_tick_packet`]), as single packets in the string form.
pub fn eio3_tick_packets(n: usize) -> Vec<String> {
    (0..n).map(eio3_tick_packet).collect()
}

/// The `eio3_payload_decode` input: a text payload `<length>:<packet>` of `n` tick packets,
/// written here without any Engine.io library.
pub fn eio3_text_payload(n: usize) -> String {
    let mut out = String::with_capacity(n * 110);
    for p in eio3_tick_packets(n) {
        // ASCII: UTF-16 units = bytes.
        out.push_str(&p.len().to_string());
        out.push(':');
        out.push_str(&p);
    }
    out
}

/// The `eio4_payload_decode` input: a revision 4 text payload of `n` tick packets joined
/// by the record separator `\x1e`, written here without any Engine.io library.
pub fn eio4_text_payload(n: usize) -> String {
    eio3_tick_packets(n).join("\x1e")
}

/// A deterministic sequence of WebSocket masking keys (an LCG), so runs compare like with like.
pub fn ws_mask_keys(n: usize) -> Vec<[u8; 4]> {
    let mut x: u32 = 0x9e37_79b9;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            x.to_be_bytes()
        })
        .collect()
}

/// The `ws_decode_small` / `ws_encode_small` payloads: `n` JSON-like texts of exactly 16
/// bytes (`{"seq":00000042}`).
pub fn ws_small_texts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{{\"seq\":{:08}}}", i % 100_000_000))
        .collect()
}

/// The `ws_decode_1k` payloads: `n` binary payloads of `len` bytes.
pub fn ws_binary_payloads(n: usize, len: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| (0..len).map(|k| (i * 31 + k * 7) as u8).collect())
        .collect()
}

/// Client-to-server frames (FIN set, masked with [`ws_mask_keys`]) of `opcode` (1 text,
/// 2 binary) carrying `payloads`, back to back. Written here by hand, independently of the
/// codecs under test.
pub fn ws_masked_frames<P: AsRef<[u8]>>(opcode: u8, payloads: &[P]) -> Vec<u8> {
    let keys = ws_mask_keys(payloads.len());
    let mut out = Vec::new();
    for (p, key) in payloads.iter().zip(keys) {
        let p = p.as_ref();
        out.push(0x80 | opcode);
        match p.len() {
            n @ 0..=125 => out.push(0x80 | n as u8),
            n @ 126..=0xFFFF => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&key);
        out.extend(p.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    }
    out
}

/// What a decoder must report for `payloads`: (messages, payload bytes, checksum), where the
/// checksum is the wrapping sum of every message's first and last byte (so a wrong unmask
/// shows up).
pub fn ws_expected_count<P: AsRef<[u8]>>(payloads: &[P]) -> (usize, usize, u64) {
    let mut count = (0, 0, 0u64);
    for p in payloads {
        ws_count(&mut count, p.as_ref());
    }
    count
}

/// Adds one received message to a (messages, bytes, checksum) tally; see [`ws_expected_count`].
#[inline]
pub fn ws_count(count: &mut (usize, usize, u64), payload: &[u8]) {
    count.0 += 1;
    count.1 += payload.len();
    if let (Some(a), Some(b)) = (payload.first(), payload.last()) {
        count.2 = count.2.wrapping_add(u64::from(*a) + u64::from(*b));
    }
}

/// The `ws_deflate` payloads: `n` JSON texts of about 1 KiB (980–1,080 bytes), an order-book
/// update each: fixed keys, symbols from a short list, prices and sizes from an LCG (the
/// digits are what does not compress).
pub fn ws_json_messages(n: usize) -> Vec<String> {
    const SYMBOLS: [&str; 6] = [
        "BTC-USD", "ETH-USD", "SOL-USD", "ADA-EUR", "DOT-EUR", "XRP-GBP",
    ];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x >> 33
    };
    (0..n)
        .map(|i| {
            let mut s = format!(
                "{{\"type\":\"book_update\",\"seq\":{},\"ts\":{},\"symbol\":\"{}\",\"bids\":[",
                1_000_000 + i,
                1_763_769_600_000u64 + (i as u64) * 37,
                SYMBOLS[i % SYMBOLS.len()]
            );
            let mut side = |s: &mut String| {
                for k in 0..13 {
                    if k > 0 {
                        s.push(',');
                    }
                    let p = next() % 100_000;
                    let q = next() % 10_000;
                    s.push_str(&format!(
                        "{{\"price\":\"{}.{:02}\",\"size\":\"{}.{:03}\"}}",
                        p / 100,
                        p % 100,
                        q / 1000,
                        q % 1000
                    ));
                }
            };
            side(&mut s);
            s.push_str("],\"asks\":[");
            side(&mut s);
            s.push_str("],\"checksum\":");
            s.push_str(&(next() % 4_000_000_000).to_string());
            s.push('}');
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_messages_are_about_1k() {
        let m = super::ws_json_messages(1000);
        let total: usize = m.iter().map(String::len).sum();
        let min = m.iter().map(String::len).min().unwrap();
        let max = m.iter().map(String::len).max().unwrap();
        eprintln!("total {total} min {min} max {max}");
        assert!(min >= 980 && max <= 1080, "{min}..{max}");
    }
}

pub mod count;

/// CPU time of processes, for the end-to-end loopback benchmarks (`src/bin/*_loopback.rs`),
/// which report each side's CPU per message beside the wall time.
pub mod proc_time {
    use std::io::{BufRead as _, BufReader};
    use std::net::SocketAddr;
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    /// A server process: this benchmark binary run with `args` (it prints `port N` on its
    /// first line), killed when dropped.
    #[derive(Debug)]
    pub struct ChildServer {
        child: Child,
        /// Where it listens (127.0.0.1).
        pub addr: SocketAddr,
    }

    impl ChildServer {
        /// Runs `current_exe args…` and reads the port it listens on.
        ///
        /// # Errors
        /// The process could not start, or its first line was not `port N`.
        pub fn spawn(
            args: &[&str],
        ) -> Result<ChildServer, Box<dyn std::error::Error + Send + Sync>> {
            let mut child = Command::new(std::env::current_exe()?)
                .args(args)
                .stdout(Stdio::piped())
                .spawn()?;
            let stdout = child.stdout.take().ok_or("no stdout")?;
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line)?;
            let port: u16 = line
                .trim()
                .strip_prefix("port ")
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| format!("server said {line:?}"))?;
            Ok(ChildServer {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
            })
        }

        /// Its process id.
        pub fn pid(&self) -> u32 {
            self.child.id()
        }
    }

    impl Drop for ChildServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// The load averages (1, 5, 15 minutes) of `/proc/loadavg`, for the report.
    pub fn loadavg() -> String {
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split(' ').take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }

    /// CPU time (user + system, all threads) of process `pid`, from `/proc/<pid>/stat`.
    #[cfg(unix)]
    pub fn cpu_time(pid: u32) -> Duration {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return Duration::ZERO;
        };
        let Some(close) = stat.rfind(')') else {
            return Duration::ZERO;
        };
        // After the command name: state is field 3, utime field 14, stime field 15.
        let mut fields = stat[close + 2..].split(' ').skip(11);
        let utime: u64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
        let stime: u64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
        // SAFETY: `sysconf` reads a configuration value; it has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let ticks = u64::try_from(ticks).ok().filter(|&t| t > 0).unwrap_or(100);
        Duration::from_nanos((utime + stime) * 1_000_000_000 / ticks)
    }

    /// Not measured elsewhere.
    #[cfg(not(unix))]
    pub fn cpu_time(_pid: u32) -> Duration {
        Duration::ZERO
    }

    /// CPU time of this process, in microseconds' resolution (`getrusage`).
    #[cfg(unix)]
    pub fn self_cpu_time() -> Duration {
        // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `getrusage` writes one `rusage` through a pointer to a live, aligned local.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
            return Duration::ZERO;
        }
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        tv(ru.ru_utime) + tv(ru.ru_stime)
    }

    /// Not measured elsewhere.
    #[cfg(not(unix))]
    pub fn self_cpu_time() -> Duration {
        Duration::ZERO
    }
}
