//! The Socket.IO endpoint's settings.

use super::*;

/// The message of the `CONNECT_ERROR` sent when [`Config::accept_queue`] is full.
pub const SERVER_BUSY: &str = "Server busy";

/// The message of the `CONNECT_ERROR` sent for a [`ConnectRequest`] dropped unanswered.
pub const REQUEST_DROPPED: &str = "Connection refused";

/// Decides whether a namespace not listed in [`Config`] exists (socket.io's
/// `io.of(/^\/dyn-\d+$/)` or `io.of((name, auth, next) => …)`).
pub type NamespacePredicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Settings of a [`SocketIo`] endpoint. Start from [`Config::new`].
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The Engine.io endpoint's settings. Default [`engineio::Config::DEFAULT`] (revisions 3
    /// and 4 both served).
    pub engineio: engineio::Config,
    /// The sans-IO connection's settings: connect timeout, decoding limits, namespaces per
    /// connection, pending acks, output queue. Default [`server::Config::DEFAULT`].
    pub server: server::Config,
    /// The namespaces that exist. Default `/` only (socket.io's main namespace).
    pub namespaces: BTreeSet<String>,
    /// Decides for namespaces not in [`Config::namespaces`]. Default none.
    pub dynamic: Option<NamespacePredicate>,
    /// Connect requests that may wait for [`Incoming::accept`]. Default 1,024; a request
    /// that finds the queue full is refused with [`SERVER_BUSY`].
    pub accept_queue: usize,
    /// Events that may wait for [`Socket::recv`], per socket. Default 1,024; a socket whose
    /// application lets more pile up is disconnected.
    pub event_queue: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("engineio", &self.engineio)
            .field("server", &self.server)
            .field("namespaces", &self.namespaces)
            .field("dynamic", &self.dynamic.is_some())
            .field("accept_queue", &self.accept_queue)
            .field("event_queue", &self.event_queue)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The defaults (see each field).
    #[must_use]
    pub fn new() -> Self {
        Self {
            engineio: engineio::Config::DEFAULT,
            server: server::Config::DEFAULT,
            namespaces: BTreeSet::from(["/".to_owned()]),
            dynamic: None,
            accept_queue: 1_024,
            event_queue: 1_024,
        }
    }

    /// Returns this config with [`Config::engineio`] set to `c`.
    #[must_use]
    pub fn with_engineio(mut self, c: engineio::Config) -> Self {
        self.engineio = c;
        self
    }

    /// Returns this config with [`Config::server`] set to `c`.
    #[must_use]
    pub fn with_server(mut self, c: server::Config) -> Self {
        self.server = c;
        self
    }

    /// Returns this config with namespace `nsp` added (socket.io's `io.of(nsp)`).
    #[must_use]
    pub fn with_namespace(mut self, nsp: impl Into<String>) -> Self {
        self.namespaces.insert(nsp.into());
        self
    }

    /// Returns this config with `f` deciding which other namespaces exist (socket.io's
    /// dynamic namespaces: `io.of(/^\/dyn-\d+$/)`).
    #[must_use]
    pub fn with_dynamic_namespaces(
        mut self,
        f: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.dynamic = Some(Arc::new(f));
        self
    }

    /// Returns this config with [`Config::accept_queue`] set to `n` (at least 1).
    #[must_use]
    pub fn with_accept_queue(mut self, n: usize) -> Self {
        self.accept_queue = n;
        self
    }

    /// Returns this config with [`Config::event_queue`] set to `n` (at least 1).
    #[must_use]
    pub fn with_event_queue(mut self, n: usize) -> Self {
        self.event_queue = n;
        self
    }

    /// Whether namespace `nsp` exists.
    #[must_use]
    pub fn has_namespace(&self, nsp: &str) -> bool {
        self.namespaces.contains(nsp) || self.dynamic.as_ref().is_some_and(|f| f(nsp))
    }
}

// ---- shared state ------------------------------------------------------------------------
