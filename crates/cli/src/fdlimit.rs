//! The open-file limit: `serve` and `loadtest` hold one descriptor per connection, so both
//! raise their soft `RLIMIT_NOFILE` to the hard limit at start.

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
