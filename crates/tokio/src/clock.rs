//! The drivers' clock: the sans-IO Engine.io and Socket.IO state machines take time as a
//! `pushwire_engineio::Instant` measured from an origin the caller picks; [`Clock`] is that
//! origin on tokio's clock, and the way back for their deadlines. One place for the
//! conversion, so that a deadline too far to represent (a huge configured interval) means
//! "never" for every driver instead of an overflow panic.

use pushwire_engineio::Instant as EioInstant;
use tokio::time::Instant;

/// An origin on tokio's clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
}

impl Clock {
    /// A clock whose origin is now.
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    /// Now, as the sans-IO crates count time.
    pub(crate) fn now(&self) -> EioInstant {
        EioInstant::from_duration(self.start.elapsed())
    }

    /// A sans-IO deadline on tokio's clock; `None` when there is none or it is too far to
    /// represent (it is never reached).
    pub(crate) fn deadline(&self, t: Option<EioInstant>) -> Option<Instant> {
        t.and_then(|t| self.start.checked_add(t.as_duration()))
    }
}

/// Sleeps until `t`, or forever without one.
pub(crate) async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
