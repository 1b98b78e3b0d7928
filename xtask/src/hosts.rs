//! Separate hosts on one machine: network namespaces, each joined by a veth pair to a
//! bridge in the root namespace (Debian's iproute2, as root). A server in one can reach the
//! others only over its veth, so what two of them exchange really crosses a network.
//!
//! Addresses: the bridge (the root namespace, where the checks run) is 10.231.0.1/24, host
//! `i` is 10.231.0.(10 + i). Everything is deleted when the [`Hosts`] is dropped.

use std::process::{Command, Stdio};

/// The namespaces of one run, deleted on drop.
pub(crate) struct Hosts {
    tag: String,
    names: Vec<String>,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Whether namespaces can be made here (root, iproute2): tries one.
pub(crate) fn available() -> bool {
    let probe = format!("pwprobe{}", std::process::id());
    let ok = ip(&["netns", "add", &probe]).is_ok();
    if ok {
        let _ = ip(&["netns", "del", &probe]);
    }
    ok
}

/// Whether `name` is one this module makes: `pw`, five digits, then `suffix`-like rest.
fn ours(name: &str) -> bool {
    name.len() > 7 && name.starts_with("pw") && name.as_bytes()[2..7].iter().all(u8::is_ascii_digit)
}

/// Deletes what a run that was killed left behind (its bridge would hold 10.231.0.1/24,
/// and the new one would share the subnet with it).
fn remove_stale() {
    let out = |args: &[&str]| {
        Command::new("ip")
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    for line in out(&["netns", "list"]).lines() {
        if let Some(ns) = line.split_whitespace().next().filter(|n| ours(n)) {
            let _ = ip(&["netns", "del", ns]);
        }
    }
    for line in out(&["-o", "link", "show", "type", "bridge"]).lines() {
        // "7: pw12345br: <BROADCAST,…"
        if let Some(name) = line
            .split(": ")
            .nth(1)
            .filter(|n| ours(n) && n.ends_with("br"))
        {
            let _ = ip(&["link", "del", name]);
        }
    }
}

impl Hosts {
    /// Makes one namespace per name in `hosts` (at most 9), all on one bridge, after
    /// removing what an earlier run left behind (one run at a time on a machine).
    pub(crate) fn create(hosts: &[&str]) -> Result<Hosts, String> {
        remove_stale();
        // Interface names are at most 15 bytes: "pw" + 5 digits + a suffix.
        let tag = format!("pw{:05}", std::process::id() % 100_000);
        let mut h = Hosts {
            tag: tag.clone(),
            names: Vec::new(),
        };
        let bridge = format!("{tag}br");
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        ip(&["addr", "add", "10.231.0.1/24", "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        for (i, name) in hosts.iter().enumerate() {
            let ns = format!("{tag}{name}");
            ip(&["netns", "add", &ns])?;
            h.names.push(ns.clone());
            let outside = format!("{tag}v{i}");
            ip(&[
                "link", "add", &outside, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ])?;
            ip(&["link", "set", &outside, "master", &bridge])?;
            ip(&["link", "set", &outside, "up"])?;
            let addr = format!("{}/24", h.ip(i));
            for args in [
                &["addr", "add", addr.as_str(), "dev", "eth0"][..],
                &["link", "set", "eth0", "up"],
                &["link", "set", "lo", "up"],
            ] {
                let mut full = vec!["netns", "exec", ns.as_str(), "ip"];
                full.extend_from_slice(args);
                ip(&full)?;
            }
        }
        Ok(h)
    }

    /// The address of host `i`.
    pub(crate) fn ip(&self, i: usize) -> String {
        format!("10.231.0.{}", 10 + i)
    }

    /// `ip netns exec <host i>`: put a command after it to run it on that host.
    pub(crate) fn exec(&self, i: usize) -> Vec<String> {
        ["ip", "netns", "exec", &self.names[i]]
            .map(String::from)
            .to_vec()
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in &self.names {
            let _ = ip(&["netns", "del", ns]);
        }
        let _ = ip(&["link", "del", &format!("{}br", self.tag)]);
    }
}
