//! What `serve` and `loadtest` ask of the OS beyond sockets: the open-file limit (both hold
//! one descriptor per connection, so both raise their soft `RLIMIT_NOFILE` to the hard limit
//! at start), the CPU time a process has used (the load check reports it), a socket's
//! maximum segment size (the hostile check's small-window clients), and giving freed heap
//! memory back (`serve`, every 10 s).

/// Returns the heap's free memory to the OS (glibc's `malloc_trim(0)`: every arena, not
/// only the top of the main heap); nothing where the C library has no such call.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn trim_heap() {
    // SAFETY: `malloc_trim` takes the allocator's own locks and has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Returns the heap's free memory to the OS (nothing here: not glibc).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn trim_heap() {}

/// Sets `TCP_MAXSEG` on a socket not yet connected (best effort; nothing where it cannot).
///
/// Why the hostile check's non-reading clients need it: loopback's MSS is about 64 KiB, and
/// a receiver whose buffer is a few KiB never has an MSS of free space, so Linux's receiver
/// silly-window avoidance sends it no window update when it reads again. The sender then
/// learns of the open window only from its zero-window probes, whose interval has backed
/// off to most of a minute after 40 s of a closed window: the stream looks stalled for that
/// long although the server holds the data and has done nothing wrong. With an Ethernet-
/// sized MSS the window update goes out as on a real network.
#[cfg(unix)]
pub(crate) fn set_mss<S: std::os::fd::AsRawFd>(socket: &S, mss: u32) {
    let v: libc::c_int = libc::c_int::try_from(mss).unwrap_or(libc::c_int::MAX);
    // SAFETY: `setsockopt` reads `size_of::<c_int>()` bytes through a pointer to a live,
    // aligned local `c_int`; an invalid descriptor or option only makes it fail.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MAXSEG,
            std::ptr::from_ref(&v).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Sets `TCP_MAXSEG` (a no-op where there is no such option here).
#[cfg(not(unix))]
pub(crate) fn set_mss<S>(_socket: &S, _mss: u32) {}

/// Raises the soft open-file limit to the hard limit and returns the soft limit now in
/// force (`None` where it cannot be read: not a Unix, or the call failed).
#[cfg(unix)]
pub(crate) fn raise_nofile() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through a pointer to a live, properly aligned
    // local; `setrlimit` only reads one. Neither has other preconditions.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    // `rlim_t` is `u64` on 64-bit Linux, narrower on some other targets.
    #[allow(clippy::unnecessary_cast)]
    Some(lim.rlim_cur as u64)
}

/// Raises the soft open-file limit to the hard limit and returns the soft limit now in
/// force (`None` where it cannot be read: not a Unix, or the call failed).
#[cfg(not(unix))]
pub(crate) fn raise_nofile() -> Option<u64> {
    None
}

/// CPU time (user + system, all threads) process `pid` has used so far, from
/// `/proc/<pid>/stat`; `None` where that cannot be read.
#[cfg(unix)]
pub(crate) fn cpu_time(pid: u32) -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces, and ends with ')'):
    // state is field 3, utime field 14, stime field 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // SAFETY: `sysconf` reads a configuration value; it has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let ticks = u64::try_from(ticks).ok().filter(|&t| t > 0)?;
    Some(std::time::Duration::from_nanos(
        (utime + stime) * 1_000_000_000 / ticks,
    ))
}

/// CPU time (user + system, all threads) process `pid` has used so far, from
/// `/proc/<pid>/stat`; `None` where that cannot be read.
#[cfg(not(unix))]
pub(crate) fn cpu_time(_pid: u32) -> Option<std::time::Duration> {
    None
}
