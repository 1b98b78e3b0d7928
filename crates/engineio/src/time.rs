//! Time as the caller supplies it: [`Instant`]. The crate never reads a clock; every
//! `handle_*` call takes `now` and every deadline is an [`Instant`], while intervals (the
//! ping interval, the timeouts) stay [`Duration`]s, so the two cannot be mixed up.

use core::ops::Add;
use core::time::Duration;

/// A point in time supplied by the caller, measured from an origin the caller picks: the
/// process start, the server start, [`Instant::ZERO`] in a test.
///
/// Give one server (with all its sessions) or one client times from the same origin and
/// never going backwards. Adding a [`Duration`] saturates at the largest instant instead of
/// panicking, so a huge configured timeout means "never".
///
/// ```
/// use core::time::Duration;
/// use pushwire_engineio::Instant;
///
/// let t0 = Instant::from_duration(Duration::from_secs(10));
/// let deadline = t0 + Duration::from_millis(25_000);
/// assert_eq!(deadline.saturating_duration_since(t0), Duration::from_millis(25_000));
/// assert!(deadline > t0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(Duration);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(Duration::ZERO);

    /// The latest representable instant (what a saturating addition reaches).
    pub const MAX: Instant = Instant(Duration::MAX);

    /// The instant `since_origin` after the origin.
    #[must_use]
    pub const fn from_duration(since_origin: Duration) -> Instant {
        Instant(since_origin)
    }

    /// The time since the origin.
    #[must_use]
    pub const fn as_duration(self) -> Duration {
        self.0
    }

    /// `self + d`, or `None` if it does not fit.
    #[must_use]
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    #[must_use]
    pub fn checked_duration_since(self, earlier: Instant) -> Option<Duration> {
        self.0.checked_sub(earlier.0)
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturating: never panics, stops at [`Instant::MAX`].
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addition_saturates_instead_of_panicking() {
        let late = Instant::from_duration(Duration::MAX - Duration::from_secs(1));
        assert_eq!(late + Duration::from_secs(5), Instant::MAX);
        assert_eq!(late.checked_add(Duration::from_secs(5)), None);
        assert_eq!(late.checked_add(Duration::from_secs(1)), Some(Instant::MAX));
        assert_eq!(
            Instant::ZERO + Duration::from_millis(7),
            Instant::from_duration(Duration::from_millis(7))
        );
    }

    #[test]
    fn ordering_follows_the_time_since_the_origin() {
        let a = Instant::from_duration(Duration::from_millis(1));
        let b = Instant::from_duration(Duration::from_millis(2));
        assert!(Instant::ZERO < a && a < b);
        assert_eq!(a.max(b), b);
        assert_eq!(Instant::default(), Instant::ZERO);
        assert_eq!(b.as_duration(), Duration::from_millis(2));
    }

    #[test]
    fn duration_since_in_both_directions() {
        let a = Instant::from_duration(Duration::from_millis(1));
        let b = Instant::from_duration(Duration::from_millis(3));
        assert_eq!(b.saturating_duration_since(a), Duration::from_millis(2));
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
        assert_eq!(b.checked_duration_since(a), Some(Duration::from_millis(2)));
        assert_eq!(a.checked_duration_since(b), None);
    }
}
