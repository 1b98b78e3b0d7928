//! The server's settings: [`Config`].

use core::time::Duration;

use crate::config::Limits;

/// Server settings. `#[non_exhaustive]`: start from [`crate::server::Config::default`] and set fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// `pingInterval` announced in the handshake. Default 25 s (engine.io 3.x).
    pub ping_interval: Duration,
    /// `pingTimeout` announced in the handshake. Default 5 s (engine.io 3.x). A session that
    /// receives no packet within `ping_interval + ping_timeout` closes with
    /// [`CloseReason::PingTimeout`](crate::server::CloseReason::PingTimeout).
    pub ping_timeout: Duration,
    /// How long a client may take from opening the probe websocket to sending `5` (upgrade).
    /// Default 10 s (engine.io 3.x `upgradeTimeout`).
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
    /// Limits for decoding POST bodies. Default [`Limits::DEFAULT`].
    pub limits: Limits,
    /// Maximum packets buffered for a client that does not fetch them (engine.io has no
    /// bound). Default 100,000; [`crate::server::Session::send`] fails beyond it.
    pub max_buffered_packets: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(5_000),
            upgrade_timeout: Duration::from_millis(10_000),
            close_timeout: Duration::from_millis(30_000),
            polling: true,
            websocket: true,
            allow_upgrades: true,
            limits: Limits::DEFAULT,
            max_buffered_packets: 100_000,
        }
    }
}
