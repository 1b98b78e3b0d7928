//! An axum extractor (feature `axum`): [`WebSocketUpgrade`], for `any()` routes, which takes
//! HTTP/1.1 upgrades and HTTP/2 extended CONNECTs (RFC 8441) alike and agrees on
//! permessage-deflate (axum's own extractor is tied to tokio-tungstenite and compresses
//! nothing).
//!
//! # Call order
//!
//! 1. Take [`WebSocketUpgrade`] as a handler argument on an `any(..)` route (HTTP/2 WebSockets
//!    arrive as CONNECT, not GET). A request that is not a handshake is refused with
//!    [`UpgradeRejection`] (400, or 426 with `Sec-WebSocket-Version: 13`).
//! 2. Optionally [`WebSocketUpgrade::config`] and [`WebSocketUpgrade::protocols`].
//! 3. Return [`WebSocketUpgrade::on_upgrade`]`(|ws| async move { .. })`: the response goes
//!    back through axum, and the callback runs in its own task with the
//!    [`HyperWebSocket`] once hyper hands the connection over.
//!
//! `axum::serve` announces `SETTINGS_ENABLE_CONNECT_PROTOCOL` on HTTP/2, so browsers that
//! speak HTTP/2 to the server can open their WebSockets on it.
//!
//! ```no_run
//! use axum::{routing::any, Router};
//! use pushwire_tokio::axum::WebSocketUpgrade;
//! use pushwire_tokio::Message;
//!
//! async fn echo(ws: WebSocketUpgrade) -> axum::response::Response {
//!     ws.on_upgrade(|mut ws| async move {
//!         while let Some(Ok(msg)) = ws.recv().await {
//!             if matches!(msg, Message::Text(_) | Message::Binary(_)) && ws.send(msg).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//! }
//!
//! # async fn run() {
//! let app: Router = Router::new().route("/ws", any(echo));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```

use std::future::Future;

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;
use pushwire_ws::handshake::ClientOffer;

use crate::upgrade::{HyperWebSocket, Upgrade, UpgradeError};
use crate::Config;

/// Extractor for a WebSocket handshake (HTTP/1.1 upgrade or HTTP/2 extended CONNECT).
#[derive(Debug)]
pub struct WebSocketUpgrade {
    upgrade: Upgrade,
    config: Config,
    protocol: Option<String>,
}

/// Why [`WebSocketUpgrade`] refused a request; its response is the status to send.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct UpgradeRejection(pub UpgradeError);

impl IntoResponse for UpgradeRejection {
    fn into_response(self) -> Response {
        self.0.response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = UpgradeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let upgrade = Upgrade::from_request_parts(parts).map_err(UpgradeRejection)?;
        Ok(WebSocketUpgrade {
            upgrade,
            config: Config::DEFAULT,
            protocol: None,
        })
    }
}

impl WebSocketUpgrade {
    /// The validated offer: path, origin, offered subprotocols and extensions.
    pub fn offer(&self) -> &ClientOffer {
        self.upgrade.offer()
    }

    /// Uses `config` for the connection (default [`Config::DEFAULT`]: permessage-deflate
    /// agreed when offered).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Chooses the first subprotocol the client offered that is in `supported` (the client's
    /// order of preference wins); none when there is no common one.
    #[must_use]
    pub fn protocols<I, P>(mut self, supported: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        let supported: Vec<P> = supported.into_iter().collect();
        self.protocol = self
            .upgrade
            .offer()
            .protocols()
            .iter()
            .find(|o| supported.iter().any(|s| s.as_ref() == o.as_str()))
            .cloned();
        self
    }

    /// The subprotocol chosen by [`protocols`](Self::protocols), if any.
    pub fn selected_protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Accepts: returns the response (101, or 200 over HTTP/2) and runs `callback` with the
    /// WebSocket in a spawned task once hyper hands the connection over. An upgrade that
    /// fails after the response (the client went away) never calls `callback`.
    pub fn on_upgrade<F, Fut>(self, callback: F) -> Response
    where
        F: FnOnce(HyperWebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        match self
            .upgrade
            .accept::<axum_core::body::Body>(self.protocol.as_deref(), self.config)
        {
            Ok((response, pending)) => {
                tokio::spawn(async move {
                    if let Ok(ws) = pending.await {
                        callback(ws).await;
                    }
                });
                response
            }
            // Only a subprotocol the client did not offer fails here, and `protocols`
            // chooses among the offered ones.
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}
