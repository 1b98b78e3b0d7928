//! The client's settings: [`Config`] and the [`Jitter`] of its backoff.

use core::time::Duration;

/// How the extra wait after a failed attempt is randomised.
///
/// The delay before a reconnection is never shorter than the reconnection time (the server's
/// `retry` or [`Config::reconnection_time`]): the standard's step "Wait a delay equal to the
/// reconnection time of the event source" is a floor. After `n ≥ 1` consecutive failed
/// attempts the standard allows more ("Optionally, wait some more. In particular, if the
/// previous attempt failed, then user agents might introduce an exponential backoff delay"),
/// up to the envelope `E(n) = min(max_backoff, B · 2^n)` where `B` is the reconnection time
/// but at least [`Config::min_backoff`]. With `b` the reconnection time, the delay is:
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Jitter {
    /// `max(b, E(n))`: plain exponential backoff, the same for every client.
    None,
    /// Uniform in `[b, max(b, E(n))]`: AWS's "full jitter" with the standard's floor (AWS
    /// draws from `[0, E(n)]`; the floor keeps a server's `retry` honoured). Spreads a crowd
    /// of clients whose server went away over the whole window.
    Full,
    /// AWS's "decorrelated jitter": uniform in `[B, 3 · previous delay]`, then kept within
    /// `[b, max(b, max_backoff)]`; the previous delay starts at `B` and returns to it after a
    /// healthy stream.
    Decorrelated,
}

/// The settings of a client [`Session`](crate::client::Session): how the body is parsed, how
/// long to wait before reconnecting, when to give up, and when a connection is dead. Start
/// from [`Config::DEFAULT`] and change what you need with the `with_*` setters.
///
/// All durations are used with millisecond resolution (the unit of `retry`).
///
/// ```
/// use core::time::Duration;
/// use pushwire_sse::client::{Config, Jitter};
///
/// let config = Config::DEFAULT
///     .with_jitter(Jitter::Decorrelated)
///     .with_max_attempts(Some(10))
///     .with_read_timeout(Some(Duration::from_secs(45)));
/// assert_eq!(config.reconnection_time, Duration::from_secs(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Config {
    /// The parser's limits and switches. Default [`crate::Config::DEFAULT`].
    pub parser: crate::Config,
    /// The reconnection time until the server sends `retry`: "This must initially be an
    /// implementation-defined value, probably in the region of a few seconds." Default 3 s,
    /// Chromium's value.
    pub reconnection_time: Duration,
    /// The smallest base of the exponential backoff. Default 1 s: a server that sends
    /// `retry: 0` and then ends every stream at once would otherwise be reconnected to in a
    /// tight loop. It only lengthens waits after a failed attempt, where the standard allows
    /// waiting more.
    pub min_backoff: Duration,
    /// The cap of the exponential backoff. Default 60 s: a server back from an outage is
    /// found within a minute, and a crowd of clients retries at most once a minute each. It
    /// never shortens the server's `retry` (the reconnection time is a floor).
    pub max_backoff: Duration,
    /// How the backoff is randomised. Default [`Jitter::Full`]: clients that lost the same
    /// server come back spread out instead of all at once.
    pub jitter: Jitter,
    /// Give up ([`FailReason::TooManyAttempts`](crate::client::FailReason::TooManyAttempts))
    /// after this many consecutive failed attempts (`Some(0)` acts as `Some(1)`). Default
    /// `None`: retry for ever, as a browser does (the backoff bounds the load).
    pub max_attempts: Option<u32>,
    /// A stream that stayed open this long was healthy: its end is not a failed attempt, and
    /// the backoff starts again from the reconnection time. A shorter stream counts as a
    /// failed attempt, so a server that accepts and closes at once is backed off from.
    /// Default 60 s.
    pub backoff_reset_after: Duration,
    /// A response that has not arrived this long after [`Action::Connect`] is given up on
    /// ([`DisconnectReason::ConnectTimeout`]), a failed attempt. Default 30 s: far above any
    /// working server's answer time. `None`: wait for ever.
    ///
    /// [`Action::Connect`]: crate::client::Action::Connect
    /// [`DisconnectReason::ConnectTimeout`]: crate::client::DisconnectReason::ConnectTimeout
    pub connect_timeout: Option<Duration>,
    /// An open stream on which no byte arrived this long is treated as dropped
    /// ([`DisconnectReason::ReadTimeout`](crate::client::DisconnectReason::ReadTimeout)) and
    /// reconnected. Default 5 min: far above the 15 s keep-alive comments the standard
    /// suggests to servers, and it notices within minutes a half-open TCP connection that
    /// reports no error. `None`: no read timeout.
    pub read_timeout: Option<Duration>,
}

impl Config {
    /// The documented defaults (see each field).
    pub const DEFAULT: Config = Config {
        parser: crate::Config::DEFAULT,
        reconnection_time: Duration::from_secs(3),
        min_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(60),
        jitter: Jitter::Full,
        max_attempts: None,
        backoff_reset_after: Duration::from_secs(60),
        connect_timeout: Some(Duration::from_secs(30)),
        read_timeout: Some(Duration::from_secs(300)),
    };

    /// Sets [`Config::parser`].
    #[must_use]
    pub const fn with_parser(mut self, parser: crate::Config) -> Self {
        self.parser = parser;
        self
    }

    /// Sets [`Config::reconnection_time`].
    #[must_use]
    pub const fn with_reconnection_time(mut self, time: Duration) -> Self {
        self.reconnection_time = time;
        self
    }

    /// Sets [`Config::min_backoff`].
    #[must_use]
    pub const fn with_min_backoff(mut self, time: Duration) -> Self {
        self.min_backoff = time;
        self
    }

    /// Sets [`Config::max_backoff`].
    #[must_use]
    pub const fn with_max_backoff(mut self, time: Duration) -> Self {
        self.max_backoff = time;
        self
    }

    /// Sets [`Config::jitter`].
    #[must_use]
    pub const fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets [`Config::max_attempts`].
    #[must_use]
    pub const fn with_max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`Config::backoff_reset_after`].
    #[must_use]
    pub const fn with_backoff_reset_after(mut self, time: Duration) -> Self {
        self.backoff_reset_after = time;
        self
    }

    /// Sets [`Config::connect_timeout`].
    #[must_use]
    pub const fn with_connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`Config::read_timeout`].
    #[must_use]
    pub const fn with_read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}
