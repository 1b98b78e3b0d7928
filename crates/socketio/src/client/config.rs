//! The client's settings: [`Config`].

use core::time::Duration;

use crate::config::Limits;

/// The settings of a client [`Connection`](super::Connection): the reconnection policy of
/// socket.io-client's `Manager` (same names, same defaults), the decoder's [`Limits`], and
/// the bounds on what the client holds for the application. Start from [`Config::DEFAULT`]
/// and change what you need with the `with_*` setters.
///
/// ```
/// use core::time::Duration;
/// use pushwire_socketio::client::Config;
///
/// let config = Config::DEFAULT
///     .with_reconnection_attempts(Some(5))
///     .with_ack_timeout(Some(Duration::from_secs(10)));
/// assert_eq!(config.reconnection_delay, Duration::from_millis(1000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// Reconnect when the Engine.io connection is lost. Default true (`reconnection`:
    /// "opts.reconnection !== false").
    pub reconnection: bool,
    /// Give up after this many consecutive failed attempts. Default `None`, infinite
    /// (`reconnectionAttempts`: "opts.reconnectionAttempts || Infinity"); the backoff bounds
    /// the load a lost server sees.
    pub reconnection_attempts: Option<u32>,
    /// The first delay before a reconnection, doubled after each failed attempt. Default
    /// 1000 ms (`reconnectionDelay`).
    pub reconnection_delay: Duration,
    /// The cap on the delay. Default 5000 ms (`reconnectionDelayMax`).
    pub reconnection_delay_max: Duration,
    /// How far the delay is randomised, as a fraction of it: `0.5` spreads a delay `d`
    /// over `[d/2, 3d/2]`. Default 0.5 (`randomizationFactor`); values outside `(0, 1]`
    /// mean no jitter, as in backo2.
    pub randomization_factor: f64,
    /// How long an Engine.io connection may take to open before the attempt counts as
    /// failed. Default `Some(20 s)` (`timeout`: "null == opts.timeout ? 20000").
    pub timeout: Option<Duration>,
    /// The ack timeout of [`Connection::emit_with_ack`](super::Connection::emit_with_ack)
    /// when it is not given. Default `None`, wait for ever (socket.io-client 4's `ackTimeout`
    /// is unset by default); the acks still pending are bounded by
    /// [`Config::max_pending_acks`], and a lost connection ends them.
    pub ack_timeout: Option<Duration>,
    /// The decoder's limits. Default [`Limits::DEFAULT`].
    pub limits: Limits,
    /// Most acks waited for at once, over all namespaces. Default 10,000: far more than an
    /// application has in flight, while a server that never answers costs at most that many
    /// entries. Beyond it, [`Connection::emit_with_ack`](super::Connection::emit_with_ack)
    /// refuses.
    pub max_pending_acks: usize,
    /// Most emits held while their namespace is not connected (socket.io-client's
    /// `sendBuffer`, unbounded there), over all namespaces. Default 1,000: a burst while a
    /// reconnection is under way, not an unbounded backlog. Beyond it, emits are refused.
    pub max_send_buffer: usize,
    /// Most Engine.io messages waiting in [`Connection::poll_transmit`](super::Connection::poll_transmit).
    /// Default 10,000. An emit or ack that would pass it is refused, and so is a
    /// [`Connection::connect`](super::Connection::connect) of a new namespace while the
    /// Engine.io connection is open and the queue is full. What the protocol itself queues
    /// may pass it, by a bounded amount per Engine.io connection: the `CONNECT` of each
    /// namespace joined when it opens, a `DISCONNECT` per connected namespace left, and the
    /// send buffer flushed as namespaces connect. Messages still queued for an earlier
    /// Engine.io connection are dropped when a new one opens.
    pub max_transmit_queue: usize,
}

impl Config {
    /// socket.io-client's defaults (see each field).
    pub const DEFAULT: Config = Config {
        reconnection: true,
        reconnection_attempts: None,
        reconnection_delay: Duration::from_millis(1000),
        reconnection_delay_max: Duration::from_millis(5000),
        randomization_factor: 0.5,
        timeout: Some(Duration::from_millis(20_000)),
        ack_timeout: None,
        limits: Limits::DEFAULT,
        max_pending_acks: 10_000,
        max_send_buffer: 1_000,
        max_transmit_queue: 10_000,
    };

    /// Sets [`Config::reconnection`].
    #[must_use]
    pub const fn with_reconnection(mut self, on: bool) -> Self {
        self.reconnection = on;
        self
    }

    /// Sets [`Config::reconnection_attempts`].
    #[must_use]
    pub const fn with_reconnection_attempts(mut self, attempts: Option<u32>) -> Self {
        self.reconnection_attempts = attempts;
        self
    }

    /// Sets [`Config::reconnection_delay`].
    #[must_use]
    pub const fn with_reconnection_delay(mut self, delay: Duration) -> Self {
        self.reconnection_delay = delay;
        self
    }

    /// Sets [`Config::reconnection_delay_max`].
    #[must_use]
    pub const fn with_reconnection_delay_max(mut self, delay: Duration) -> Self {
        self.reconnection_delay_max = delay;
        self
    }

    /// Sets [`Config::randomization_factor`].
    #[must_use]
    pub const fn with_randomization_factor(mut self, factor: f64) -> Self {
        self.randomization_factor = factor;
        self
    }

    /// Sets [`Config::timeout`].
    #[must_use]
    pub const fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`Config::ack_timeout`].
    #[must_use]
    pub const fn with_ack_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// Sets [`Config::limits`].
    #[must_use]
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets [`Config::max_pending_acks`].
    #[must_use]
    pub const fn with_max_pending_acks(mut self, n: usize) -> Self {
        self.max_pending_acks = n;
        self
    }

    /// Sets [`Config::max_send_buffer`].
    #[must_use]
    pub const fn with_max_send_buffer(mut self, n: usize) -> Self {
        self.max_send_buffer = n;
        self
    }

    /// Sets [`Config::max_transmit_queue`].
    #[must_use]
    pub const fn with_max_transmit_queue(mut self, n: usize) -> Self {
        self.max_transmit_queue = n;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}
