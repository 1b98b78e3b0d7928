//! The server's settings: [`Config`].

use core::time::Duration;

use crate::config::Limits;

/// Server settings: the decoding [`Limits`], the heartbeat and transport timings engine.io
/// 3.x uses, and which transports to accept. Start from [`Config::DEFAULT`] and change what
/// you need with the `with_*` setters.
///
/// ```
/// use core::time::Duration;
/// use pushwire_engineio::{server::Config, Limits};
///
/// let config = Config::DEFAULT
///     .with_ping_interval(Duration::from_secs(10))
///     .with_limits(Limits::DEFAULT.with_max_payload_bytes(64 * 1024));
/// assert_eq!(config.ping_timeout, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Config {
    /// Limits for decoding POST bodies. Default [`Limits::DEFAULT`] (see its fields).
    pub limits: Limits,
    /// Maximum packets buffered for a client that does not fetch them; engine.io has no
    /// bound. Default 100,000: far more than a live client leaves unfetched between two
    /// polls, while a client that stopped fetching costs at most that many packets until
    /// its heartbeat closes it. [`crate::server::Session::send_packet`] refuses beyond it.
    pub max_buffered_packets: usize,
    /// Maximum bytes of packet data buffered for a client that does not fetch them (the
    /// packets' data lengths; engine.io has no bound). Default 16 MiB. Beside
    /// `max_buffered_packets` because a broadcast copies a text packet into every session's
    /// buffer: with engine.io's 1 MB `maxPayload`, even 1,000 packets (the demo's count; the
    /// default is 100,000) would be 1 GB per session. Refused while anything waits: a
    /// packet that alone is over the limit goes only into an empty buffer.
    /// [`crate::server::Session::send_packet`] refuses a packet that would pass it, unless
    /// nothing is waiting (a packet is never refused for its size alone).
    pub max_buffered_bytes: usize,
    /// `pingInterval` announced in the handshake. Default 25 s (engine.io 3.x).
    pub ping_interval: Duration,
    /// `pingTimeout` announced in the handshake. Default 5 s (engine.io 3.x). A session that
    /// receives no packet within `ping_interval + ping_timeout` closes with
    /// [`CloseReason::PingTimeout`](crate::server::CloseReason::PingTimeout), so a silent
    /// client holds its session for 30 s at most by default.
    pub ping_timeout: Duration,
    /// How long a client may take from opening the probe websocket to sending `5` (upgrade).
    /// Default 10 s (engine.io 3.x `upgradeTimeout`); a probe that stalls is closed then.
    pub upgrade_timeout: Duration,
    /// How long a polling session being closed waits for a GET to carry the `close` packet.
    /// Default 30 s (engine.io 3.x polling `closeTimeout`).
    pub close_timeout: Duration,
    /// Accept the `polling` transport. Default true.
    pub polling: bool,
    /// Accept the `websocket` transport. Default true.
    pub websocket: bool,
    /// Offer and allow the upgrade from polling to websocket. Default true.
    pub allow_upgrades: bool,
    /// Serve protocol revision 3 (`EIO=3`, or no `EIO`: engine.io's default revision).
    /// Default true. Off, such requests get error 5, `Unsupported protocol version` (engine.io
    /// 4+ with `allowEIO3: false`); only read when [`Config::allow_eio4`] is on.
    pub allow_eio3: bool,
    /// Serve protocol revision 4 (`EIO=4`, socket.io 3+) beside revision 3. Default false,
    /// so that the default server is exactly the engine.io 3.x server it was (any `EIO` but
    /// 3 is `Bad request`). On, each session speaks the revision of its handshake's `EIO`,
    /// and an `EIO` that is neither served revision gets error 5, `Unsupported protocol
    /// version`, as engine.io 6 answers it.
    pub allow_eio4: bool,
}

impl Config {
    /// The defaults of the engine.io 3.x server (see each field).
    pub const DEFAULT: Config = Config {
        limits: Limits::DEFAULT,
        max_buffered_packets: 100_000,
        max_buffered_bytes: 16 << 20,
        ping_interval: Duration::from_millis(25_000),
        ping_timeout: Duration::from_millis(5_000),
        upgrade_timeout: Duration::from_millis(10_000),
        close_timeout: Duration::from_millis(30_000),
        polling: true,
        websocket: true,
        allow_upgrades: true,
        allow_eio3: true,
        allow_eio4: false,
    };

    /// Returns this config with [`Config::limits`] set to `limits`.
    #[must_use]
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Returns this config with [`Config::max_buffered_packets`] set to `n`.
    #[must_use]
    pub const fn with_max_buffered_packets(mut self, n: usize) -> Self {
        self.max_buffered_packets = n;
        self
    }

    /// Returns this config with [`Config::max_buffered_bytes`] set to `n`.
    #[must_use]
    pub const fn with_max_buffered_bytes(mut self, n: usize) -> Self {
        self.max_buffered_bytes = n;
        self
    }

    /// Returns this config with [`Config::ping_interval`] set to `d`.
    #[must_use]
    pub const fn with_ping_interval(mut self, d: Duration) -> Self {
        self.ping_interval = d;
        self
    }

    /// Returns this config with [`Config::ping_timeout`] set to `d`.
    #[must_use]
    pub const fn with_ping_timeout(mut self, d: Duration) -> Self {
        self.ping_timeout = d;
        self
    }

    /// Returns this config with [`Config::upgrade_timeout`] set to `d`.
    #[must_use]
    pub const fn with_upgrade_timeout(mut self, d: Duration) -> Self {
        self.upgrade_timeout = d;
        self
    }

    /// Returns this config with [`Config::close_timeout`] set to `d`.
    #[must_use]
    pub const fn with_close_timeout(mut self, d: Duration) -> Self {
        self.close_timeout = d;
        self
    }

    /// Returns this config with [`Config::polling`] set to `on`.
    #[must_use]
    pub const fn with_polling(mut self, on: bool) -> Self {
        self.polling = on;
        self
    }

    /// Returns this config with [`Config::websocket`] set to `on`.
    #[must_use]
    pub const fn with_websocket(mut self, on: bool) -> Self {
        self.websocket = on;
        self
    }

    /// Returns this config with [`Config::allow_upgrades`] set to `on`.
    #[must_use]
    pub const fn with_allow_upgrades(mut self, on: bool) -> Self {
        self.allow_upgrades = on;
        self
    }

    /// Returns this config with [`Config::allow_eio3`] set to `on`.
    #[must_use]
    pub const fn with_allow_eio3(mut self, on: bool) -> Self {
        self.allow_eio3 = on;
        self
    }

    /// Returns this config with [`Config::allow_eio4`] set to `on`.
    #[must_use]
    pub const fn with_allow_eio4(mut self, on: bool) -> Self {
        self.allow_eio4 = on;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}
