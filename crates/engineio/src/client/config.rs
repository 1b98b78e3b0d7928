//! The client's settings: [`Config`].

use core::time::Duration;

use crate::config::Limits;
use crate::version::ProtocolVersion;

/// Client settings: the decoding [`Limits`], the bound on packets waiting to be sent, and
/// how to pick transports. Start from [`Config::DEFAULT`] and change what you need with
/// the `with_*` setters.
///
/// ```
/// use pushwire_engineio::client::Config;
///
/// let config = Config::DEFAULT.with_supports_binary(false).with_upgrade(false);
/// assert!(!config.websocket_only);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Config {
    /// Limits for decoding poll responses. Default [`Limits::DEFAULT`] (see its fields).
    pub limits: Limits,
    /// Maximum packets waiting to be sent (while a POST is in flight, or during the
    /// upgrade pause). Default 100,000: far more than an application queues between two
    /// POSTs, while a server that stopped answering costs at most that many packets.
    /// [`crate::client::Session::send`] refuses beyond it.
    pub max_buffered_packets: usize,
    /// Whether binary travels as binary (XHR2 payloads, binary WebSocket messages). When
    /// false, requests carry `b64=1` and binary goes base64. Default true.
    pub supports_binary: bool,
    /// Probe and upgrade to websocket when the server offers it. Default true.
    pub upgrade: bool,
    /// Skip polling: open the session directly on a websocket. Default false.
    pub websocket_only: bool,
    /// How long the websocket probe may take, from the handshake until the server answers
    /// `probe`: past it the probe is given up ([`crate::client::WsAction::Close`],
    /// [`crate::client::Event::UpgradeFailed`]) and polling goes on. Default 10 s, the
    /// server's own `upgradeTimeout` (engine.io drops a probe it has not seen completed by
    /// then, so a client waiting longer gains nothing). engine.io-client has no such bound:
    /// on a path that goes silent its probe socket waits as long as the session lives.
    pub upgrade_timeout: Duration,
    /// The protocol revision to speak (`EIO`). Default [`ProtocolVersion::V3`]
    /// (engine.io-client 3.x, socket.io 2.x servers); [`ProtocolVersion::V4`] for engine.io
    /// 4+ servers (socket.io 3+): the server pings and the client answers, POSTs are batched
    /// under the handshake's `maxPayload`.
    pub protocol: ProtocolVersion,
}

impl Config {
    /// The defaults of engine.io-client 3.x (see each field).
    pub const DEFAULT: Config = Config {
        limits: Limits::DEFAULT,
        max_buffered_packets: 100_000,
        supports_binary: true,
        upgrade: true,
        websocket_only: false,
        upgrade_timeout: Duration::from_secs(10),
        protocol: ProtocolVersion::V3,
    };

    /// Returns this config with [`Config::protocol`] set to `protocol`.
    #[must_use]
    pub const fn with_protocol(mut self, protocol: ProtocolVersion) -> Self {
        self.protocol = protocol;
        self
    }

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

    /// Returns this config with [`Config::supports_binary`] set to `on`.
    #[must_use]
    pub const fn with_supports_binary(mut self, on: bool) -> Self {
        self.supports_binary = on;
        self
    }

    /// Returns this config with [`Config::upgrade`] set to `on`.
    #[must_use]
    pub const fn with_upgrade(mut self, on: bool) -> Self {
        self.upgrade = on;
        self
    }

    /// Returns this config with [`Config::upgrade_timeout`] set to `d`.
    #[must_use]
    pub const fn with_upgrade_timeout(mut self, d: Duration) -> Self {
        self.upgrade_timeout = d;
        self
    }

    /// Returns this config with [`Config::websocket_only`] set to `on`.
    #[must_use]
    pub const fn with_websocket_only(mut self, on: bool) -> Self {
        self.websocket_only = on;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}
