//! The endpoint's settings: [`Config`] and its CORS policy.

use std::time::Duration;

use pushwire_engineio::server;

/// Which origin the CORS headers allow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CorsOrigin {
    /// Echo the request's `Origin` (`*` when it has none): engine.io 3.x's own behaviour.
    Mirror,
    /// `*`: any origin, never with credentials (the Fetch standard forbids the pair).
    Any,
    /// This origin only (for example `https://app.example`).
    Exact(String),
}

/// The CORS headers of polling responses (`Access-Control-Allow-Origin`,
/// `Access-Control-Allow-Credentials`) and the answer to preflight `OPTIONS` requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Cors {
    /// The allowed origin. Default [`CorsOrigin::Mirror`].
    pub origin: CorsOrigin,
    /// Send `Access-Control-Allow-Credentials: true` (never with `*`). Default true.
    pub credentials: bool,
}

impl Cors {
    /// engine.io 3.x: the request's origin echoed, credentials allowed.
    pub const MIRROR: Cors = Cors {
        origin: CorsOrigin::Mirror,
        credentials: true,
    };
    /// `*`, no credentials (the v4 spec's test server: `cors: { origin: "*" }`).
    pub const ANY: Cors = Cors {
        origin: CorsOrigin::Any,
        credentials: false,
    };

    /// Only `origin`, with credentials when `credentials`.
    #[must_use]
    pub fn exact(origin: impl Into<String>, credentials: bool) -> Cors {
        Cors {
            origin: CorsOrigin::Exact(origin.into()),
            credentials,
        }
    }
}

impl Default for Cors {
    fn default() -> Self {
        Self::MIRROR
    }
}

/// Settings of an [`EngineIo`](super::EngineIo) endpoint. Start from [`Config::DEFAULT`] and change what you
/// need with the `with_*` setters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The sans-IO server's settings: timings, limits, transports, revisions. Default
    /// pushwire-engineio's `server::Config::DEFAULT` with **`allow_eio4` on**, so that
    /// revision 3 and 4 clients are both served (engine.io 6 with `allowEIO3`).
    /// `limits.max_payload_bytes` is also the POST body limit and the websocket message
    /// limit.
    pub engine: server::Config,
    /// CORS. Default [`Cors::MIRROR`].
    pub cors: Cors,
    /// The websocket transport's settings. Default [`crate::Config::DEFAULT`] with the
    /// message and frame limits set to the default `max_payload_bytes` (1,000,000; keep
    /// them equal to it when you change it: [`Config::with_engine`] does) and
    /// permessage-deflate agreed when the client offers it, as engine.io does, and a close
    /// timeout of 5 s: a websocket the server closes (a heartbeat missed, a forced close)
    /// waits at most that long for the client's Close, so a path that went silent cannot
    /// keep a closing session for ever (it did: crates/tokio/tests/engineio_bad_network.rs).
    pub ws: crate::Config,
    /// Messages received for one session that may wait for [`Socket::recv`](super::Socket::recv). Default 1,024.
    /// A session whose application lets more pile up is closed (forced close).
    pub recv_queue: usize,
    /// New sessions that may wait for [`Incoming::accept`](super::Incoming::accept). Default 1,024; a session that
    /// finds the queue full is closed at once.
    pub accept_queue: usize,
    /// Time allowed for a POST body to arrive. Default 30 s; slower bodies get 408.
    pub body_timeout: Duration,
    /// Time a websocket write may make no progress before the websocket is dropped. Default
    /// 10 s.
    pub write_timeout: Duration,
}

impl Config {
    /// The defaults (see each field).
    pub const DEFAULT: Config = Config {
        engine: server::Config::DEFAULT.with_allow_eio4(true),
        cors: Cors::MIRROR,
        ws: crate::Config::DEFAULT
            .with_max_message_size(1_000_000)
            .with_max_frame_size(1_000_000)
            .with_close_timeout(Some(Duration::from_secs(5))),
        recv_queue: 1_024,
        accept_queue: 1_024,
        body_timeout: Duration::from_secs(30),
        write_timeout: Duration::from_secs(10),
    };

    /// Returns this config with [`Config::engine`] set to `engine`, and the websocket
    /// message and frame limits set to its `max_payload_bytes`.
    #[must_use]
    pub const fn with_engine(mut self, engine: server::Config) -> Self {
        let max = engine.limits.max_payload_bytes as u64;
        self.engine = engine;
        self.ws = self.ws.with_max_message_size(max).with_max_frame_size(max);
        self
    }

    /// Returns this config with [`Config::cors`] set to `cors` (not `const`: a
    /// [`CorsOrigin::Exact`] owns its string).
    #[must_use]
    pub fn with_cors(mut self, cors: Cors) -> Self {
        self.cors = cors;
        self
    }

    /// Returns this config with [`Config::ws`] set to `ws`.
    #[must_use]
    pub const fn with_ws(mut self, ws: crate::Config) -> Self {
        self.ws = ws;
        self
    }

    /// Returns this config with [`Config::recv_queue`] set to `n` (at least 1).
    #[must_use]
    pub const fn with_recv_queue(mut self, n: usize) -> Self {
        self.recv_queue = n;
        self
    }

    /// Returns this config with [`Config::accept_queue`] set to `n` (at least 1).
    #[must_use]
    pub const fn with_accept_queue(mut self, n: usize) -> Self {
        self.accept_queue = n;
        self
    }

    /// Returns this config with [`Config::body_timeout`] set to `d`.
    #[must_use]
    pub const fn with_body_timeout(mut self, d: Duration) -> Self {
        self.body_timeout = d;
        self
    }

    /// Returns this config with [`Config::write_timeout`] set to `d`.
    #[must_use]
    pub const fn with_write_timeout(mut self, d: Duration) -> Self {
        self.write_timeout = d;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}
