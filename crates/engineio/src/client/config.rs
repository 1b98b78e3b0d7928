//! The client's settings: [`Config`].

use crate::config::Limits;

/// Client settings. `#[non_exhaustive]`: start from [`Config::default`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Whether binary travels as binary (XHR2 payloads, binary WebSocket messages). When
    /// false, requests carry `b64=1` and binary goes base64. Default true.
    pub supports_binary: bool,
    /// Probe and upgrade to websocket when the server offers it. Default true.
    pub upgrade: bool,
    /// Skip polling: open the session directly on a websocket. Default false.
    pub websocket_only: bool,
    /// Limits for decoding poll responses. Default [`Limits::DEFAULT`].
    pub limits: Limits,
    /// Maximum packets waiting to be sent. Default 100,000.
    pub max_buffered_packets: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            supports_binary: true,
            upgrade: true,
            websocket_only: false,
            limits: Limits::DEFAULT,
            max_buffered_packets: 100_000,
        }
    }
}
