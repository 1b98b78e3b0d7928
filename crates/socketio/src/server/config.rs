//! The server's settings: [`Config`].

use core::time::Duration;

use crate::config::Limits;

/// Settings of a server [`crate::server::Connection`]. Start from [`Config::DEFAULT`] and
/// change what you need with the `with_*` setters.
///
/// ```
/// use core::time::Duration;
/// use pushwire_socketio::server::Config;
///
/// let config = Config::DEFAULT.with_connect_timeout(Duration::from_secs(10));
/// assert_eq!(config.max_namespaces, 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Config {
    /// How long a connection may stay without any namespace joined before it asks to be
    /// closed. Default 45 s, socket.io 4's `connectTimeout` ("if (this.nsps.size === 0) {
    /// this.close() }", `client.js`). Checked once: the first accepted namespace cancels it.
    pub connect_timeout: Duration,
    /// The decoding limits. Default [`Limits::DEFAULT`] (see its fields).
    pub limits: Limits,
    /// Most namespaces one connection may hold at once: joined, waiting for the
    /// application's answer, and (revision 4) waiting for `/`. socket.io has no bound.
    /// Default 64: far more than a client opens (one manager per origin, one socket per
    /// namespace), while a client asking for more costs at most that many entries. A
    /// `CONNECT` beyond it closes the connection ([`crate::server::CloseReason::TooManyNamespaces`]).
    pub max_namespaces: usize,
    /// Most emits awaiting their ack per socket. socket.io has no bound (its `acks` map grows
    /// until the client answers). Default 1,024; [`crate::server::Connection::emit`] refuses
    /// beyond it ([`crate::server::SendError::TooManyAcks`]).
    pub max_pending_acks: usize,
    /// Most Engine.io messages waiting in [`crate::server::Connection::poll_transmit`]'s
    /// queue (a packet counts one message plus one per attachment). Default 10,000: the I/O
    /// layer drains the queue into the Engine.io session after every call, so the queue
    /// holds one call's output; an application that emits without draining is stopped there
    /// ([`crate::server::SendError::OutputFull`]) rather than growing without bound.
    pub max_queued_messages: usize,
}

impl Config {
    /// The defaults (see each field).
    pub const DEFAULT: Config = Config {
        connect_timeout: Duration::from_millis(45_000),
        limits: Limits::DEFAULT,
        max_namespaces: 64,
        max_pending_acks: 1_024,
        max_queued_messages: 10_000,
    };

    /// Returns this config with [`Config::connect_timeout`] set to `d`.
    #[must_use]
    pub const fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Returns this config with [`Config::limits`] set to `limits`.
    #[must_use]
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Returns this config with [`Config::max_namespaces`] set to `n`.
    #[must_use]
    pub const fn with_max_namespaces(mut self, n: usize) -> Self {
        self.max_namespaces = n;
        self
    }

    /// Returns this config with [`Config::max_pending_acks`] set to `n`.
    #[must_use]
    pub const fn with_max_pending_acks(mut self, n: usize) -> Self {
        self.max_pending_acks = n;
        self
    }

    /// Returns this config with [`Config::max_queued_messages`] set to `n`.
    #[must_use]
    pub const fn with_max_queued_messages(mut self, n: usize) -> Self {
        self.max_queued_messages = n;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}
