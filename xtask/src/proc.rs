//! Child processes for the conformance steps: servers that die with the step, free ports,
//! and waiting until a server listens.

use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Kills the child when dropped, so no server outlives the step that started it.
pub(crate) struct Guard(pub(crate) Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub(crate) fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Waits (up to 60 s) until something accepts connections on 127.0.0.1:`port`; fails early
/// if `child` exits first.
pub(crate) fn wait_for_port(port: u16, child: &mut Child, what: &str) -> Result<(), String> {
    wait_for_addr(&format!("127.0.0.1:{port}"), child, what)
}

/// [`wait_for_port`] at any `host:port` (a server in a network namespace, say).
pub(crate) fn wait_for_addr(addr: &str, child: &mut Child, what: &str) -> Result<(), String> {
    let port = addr.rsplit(':').next().unwrap_or(addr);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited early with {status}"));
        }
        sleep(Duration::from_millis(100));
    }
    Err(format!("{what} did not listen on port {port} within 60 s"))
}
