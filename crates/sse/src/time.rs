//! Time as the caller supplies it: [`Instant`]. The crate never reads a clock: the client
//! [`Session`](crate::client::Session) takes `now` in every call and gives deadlines as
//! [`Instant`]s, while intervals (delays, timeouts) stay [`Duration`]s, so the two cannot be
//! mixed up. (pushwire-engineio has the same type; the codec crates do not depend on each
//! other.)

use core::ops::Add;
use core::time::Duration;

/// A point in time supplied by the caller, measured from an origin the caller picks (the
/// process start, [`Instant::ZERO`] in a test). Give one session times from one origin that
/// never go backwards. Adding a [`Duration`] saturates at [`Instant::MAX`] instead of
/// panicking, so a huge delay means "never".
///
/// ```
/// use core::time::Duration;
/// use pushwire_sse::Instant;
///
/// let t0 = Instant::from_duration(Duration::from_secs(10));
/// let deadline = t0 + Duration::from_millis(3_000);
/// assert_eq!(deadline.saturating_duration_since(t0), Duration::from_millis(3_000));
/// assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(Duration);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(Duration::ZERO);

    /// The latest representable instant (where a saturating addition stops).
    pub const MAX: Instant = Instant(Duration::MAX);

    /// The instant `since_origin` after the origin.
    #[must_use]
    pub const fn from_duration(since_origin: Duration) -> Instant {
        Instant(since_origin)
    }

    /// The instant `ms` milliseconds after the origin.
    #[must_use]
    pub const fn from_millis(ms: u64) -> Instant {
        Instant(Duration::from_millis(ms))
    }

    /// The time since the origin.
    #[must_use]
    pub const fn as_duration(self) -> Duration {
        self.0
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
