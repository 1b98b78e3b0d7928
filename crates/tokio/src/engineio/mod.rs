//! An Engine.io server on hyper (feature `engineio`): pushwire-engineio's sans-IO
//! [`Server`] with its I/O — long-polling, the websocket transport (this crate's
//! [`WebSocketStream`](crate::WebSocketStream) through [`Upgrade`]), the polling → websocket
//! upgrade, heartbeats on tokio timers, CORS — serving protocol revisions 3 and 4 at once.
//!
//! # Call order
//!
//! 1. [`EngineIo::new`] with a [`Config`] (start from [`Config::DEFAULT`]): returns the
//!    endpoint (cheap to clone) and the [`Incoming`] queue of new sessions.
//! 2. Route every request under your Engine.io path (`/engine.io/` by convention) to
//!    [`EngineIo::handle`], from a hyper service (served with upgrades:
//!    `serve_connection_with_upgrades`) or an axum `any()` route. `handle` does not look at
//!    the path.
//! 3. [`Incoming::accept`] each new [`Socket`]; [`Socket::recv`] its messages until `None`
//!    (the session closed), [`Socket::send`] to it, [`Socket::close`] it. Or
//!    [`EngineIo::broadcast`] to every session.
//! 4. [`EngineIo::close_all`] at shutdown.
//!
//! # What runs where
//!
//! One mutex guards the sans-IO server (never held across an `.await`). A held long-poll
//! GET waits in its `handle` call until its session has something to send; a websocket
//! runs in a spawned task; one timer task sleeps until the server's `poll_timeout` (the
//! heartbeats: in revision 4 the server pings, in revision 3 it answers pings and closes a
//! session silent for `pingInterval + pingTimeout`). The timer task is spawned by the first
//! `handle` call and ends when the last handle to the endpoint is dropped.
//!
//! # Bounds, and what happens when one is reached
//!
//! - **POST bodies**: at most `limits.max_payload_bytes` (the `maxPayload` of the v4
//!   handshake); a longer body gets `413 Payload Too Large` and the session is closed, a body
//!   that takes longer than [`Config::body_timeout`] gets 408.
//! - **WebSocket messages**: at most `max_payload_bytes` too ([`Config::ws`]); a longer one
//!   closes the websocket with 1009 and so the session.
//! - **Outgoing, per session**: at most `max_buffered_packets` packets and
//!   `max_buffered_bytes` bytes of packet data wait for a client that does not fetch them;
//!   beyond either [`Socket::send`] returns [`SendError::OutputFull`] or
//!   [`SendError::OutputBytesFull`] and the packet is not queued (the caller decides: drop, retry
//!   later, or close). On websocket, this crate's write buffer limit applies as well: a
//!   client that does not read is closed with 1008.
//! - **Incoming, per session**: at most [`Config::recv_queue`] messages wait for
//!   [`Socket::recv`]; a session whose application falls that far behind is closed (forced
//!   close) rather than buffered without bound.
//! - **New sessions**: at most [`Config::accept_queue`] wait for [`Incoming::accept`]; a
//!   session that finds the queue full is closed at once.
//!
//! The client role is [`client`]: [`client::connect`], polling → websocket upgrade, both
//! revisions.
//!
//! ```no_run
//! use pushwire_tokio::engineio::{Config, EngineIo};
//!
//! # async fn run() {
//! let (eio, mut incoming) = EngineIo::new(Config::DEFAULT);
//! // In the hyper service: `eio.handle(req).await` for paths under /engine.io/.
//! # let _ = eio;
//! while let Some(mut socket) = incoming.accept().await {
//!     tokio::spawn(async move {
//!         while let Some(data) = socket.recv().await {
//!             let _ = socket.send(data); // echo
//!         }
//!     });
//! }
//! # }
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, LengthLimitError, Limited};
/// The sans-IO crate this module drives (its `server::Config` is [`Config::engine`]).
pub use pushwire_engineio;
use pushwire_engineio::http::{HttpRequest, HttpResponse, Method};
use pushwire_engineio::server::{self, Outcome, Server};
/// Types of the sans-IO crate in this module's API.
pub use pushwire_engineio::{
    server::CloseReason, PacketData, ProtocolVersion, SendError, TransportKind,
};
use tokio::sync::{mpsc, Notify};

pub mod client;
mod config;
mod shared;
mod socket;
mod transport;

pub use config::{Config, Cors, CorsOrigin};
pub use shared::{Handler, Sessions};
pub use socket::{Incoming, Socket};

use crate::upgrade::{is_websocket_request, Upgrade};
use shared::{sid_source, timer, Inner, Shared};
use transport::websocket;

/// The body of the responses of [`EngineIo::handle`]: the whole body at once.
#[derive(Debug, Default, Clone)]
pub struct Body(Option<Bytes>);

impl Body {
    /// The bytes of the body.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.0.unwrap_or_default()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().0.take().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(Bytes::is_empty)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.as_ref().map_or(0, |b| b.len() as u64))
    }
}

/// An Engine.io endpoint (cheap to clone: all clones are the same endpoint).
#[derive(Clone)]
pub struct EngineIo {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EngineIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineIo")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// Answers `status` with a short text body.
fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(Body(Some(Bytes::from_static(text.as_bytes()))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

impl EngineIo {
    /// A new endpoint with `config`, and the queue of its new sessions. Serves nothing until
    /// requests are passed to [`EngineIo::handle`].
    #[must_use]
    pub fn new(config: Config) -> (EngineIo, Incoming) {
        Self::build(config, None)
    }

    /// As [`EngineIo::new`], with `handler` seeing every message first (see [`Handler`]).
    #[must_use]
    pub fn with_handler(config: Config, handler: impl Handler) -> (EngineIo, Incoming) {
        Self::build(config, Some(Box::new(handler)))
    }

    fn build(config: Config, handler: Option<Box<dyn Handler>>) -> (EngineIo, Incoming) {
        let (accept, incoming) = mpsc::channel(config.accept_queue.max(1));
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                server: Server::new(config.engine, sid_source()),
                handler,
                members: HashMap::new(),
                ws: HashMap::new(),
                polls: HashMap::new(),
                accept,
                query: None,
            }),
            timer: Arc::new(Notify::new()),
            timer_started: AtomicBool::new(false),
            clock: crate::clock::Clock::new(),
            config,
        });
        (EngineIo { shared }, Incoming(incoming))
    }

    /// The endpoint's settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Sessions open (or closing) now.
    #[must_use]
    pub fn session_count(&self) -> usize {
        self.shared.lock().server.sids().count()
    }

    /// Sends `data` to every open session; returns how many queued it (a session whose
    /// outgoing queue is full is skipped, see [`Socket::send`]).
    pub fn broadcast(&self, data: &PacketData) -> usize {
        let mut inner = self.shared.lock();
        let n = inner.server.broadcast(data);
        self.shared.pump(&mut inner);
        n
    }

    /// Closes every session (held polls get the `close` packet, websockets a Close);
    /// returns how many there were.
    pub fn close_all(&self) -> usize {
        let mut inner = self.shared.lock();
        let sids: Vec<String> = inner.server.sids().map(String::from).collect();
        let now = self.shared.now();
        for sid in &sids {
            inner.server.close(now, sid);
            Shared::forget(&mut inner, sid);
        }
        self.shared.pump(&mut inner);
        sids.len()
    }

    fn start_timer(&self) {
        if !self.shared.timer_started.swap(true, Ordering::AcqRel) {
            tokio::spawn(timer(
                Arc::downgrade(&self.shared),
                Arc::clone(&self.shared.timer),
            ));
        }
    }

    /// Sets the CORS headers of `resp` (only where the sans-IO server put them, and on
    /// preflights) according to [`Config::cors`].
    fn cors(&self, headers: &mut http::HeaderMap, origin: Option<&HeaderValue>, force: bool) {
        let had = headers
            .remove(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_some();
        headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        if !had && !force {
            return;
        }
        let cors = &self.shared.config.cors;
        let value = match &cors.origin {
            CorsOrigin::Mirror => origin
                .cloned()
                .unwrap_or_else(|| HeaderValue::from_static("*")),
            CorsOrigin::Any => HeaderValue::from_static("*"),
            CorsOrigin::Exact(o) => match HeaderValue::from_str(o) {
                Ok(v) => v,
                Err(_) => return,
            },
        };
        let any = value.as_bytes() == b"*";
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if cors.credentials && !any {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if !any {
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }

    /// An engine.io response for hyper, with the configured CORS headers.
    fn response(&self, r: HttpResponse, origin: Option<&HeaderValue>) -> Response<Body> {
        let mut resp = Response::new(Body(Some(Bytes::from(r.body))));
        *resp.status_mut() =
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (k, v) in &r.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                resp.headers_mut().append(k, v);
            }
        }
        self.cors(resp.headers_mut(), origin, false);
        resp
    }

    /// Closes session `sid` after a refused request.
    fn close_session(&self, query: &str) {
        if let Some(sid) = server::request_sid(query) {
            let mut inner = self.shared.lock();
            inner.server.close(self.shared.now(), &sid);
            self.shared.pump_for(&mut inner, Some(&sid), true);
        }
    }

    /// Answers one request under the Engine.io path: a handshake, a long-poll GET (held
    /// until the session has something to send), a POST, a preflight, or a websocket
    /// (accepted here, then run in a spawned task). Call it from inside a tokio runtime.
    pub async fn handle<B>(&self, mut req: Request<B>) -> Response<Body>
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.start_timer();
        let shared = &self.shared;
        let method = match *req.method() {
            http::Method::GET => Method::Get,
            http::Method::POST => Method::Post,
            http::Method::OPTIONS => Method::Options,
            _ => Method::Other,
        };
        let origin = req.headers().get(header::ORIGIN).cloned();
        if method == Method::Options
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            // A CORS preflight: answered here, as engine.io's `cors` middleware does.
            let mut r = Response::new(Body::default());
            *r.status_mut() = StatusCode::NO_CONTENT;
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Content-Type"),
            );
            self.cors(h, origin.as_ref(), true);
            return r;
        }
        // A websocket request is checked by pushwire-ws before the session sees it.
        let mut upgrade = None;
        if is_websocket_request(&req) {
            match Upgrade::from_request(&mut req) {
                Ok(up) => upgrade = Some(up),
                Err(e) => return e.response(),
            }
        }
        let (parts, incoming) = req.into_parts();
        let query = parts.uri.query().unwrap_or("");
        let header =
            |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
        // The body of a POST, bounded in size and time.
        let mut body = Bytes::new();
        if method == Method::Post {
            let max = shared.config.engine.limits.max_payload_bytes;
            let declared = header(header::CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok());
            let too_large = if declared.is_some_and(|len| len > max as u64) {
                true
            } else {
                let collected = tokio::time::timeout(
                    shared.config.body_timeout,
                    Limited::new(incoming, max).collect(),
                )
                .await;
                match collected {
                    Ok(Ok(c)) => {
                        body = c.to_bytes();
                        false
                    }
                    Ok(Err(e)) if e.is::<LengthLimitError>() => true,
                    Ok(Err(_)) => return plain(StatusCode::BAD_REQUEST, "body not read\n"),
                    Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "body too slow\n"),
                }
            };
            if too_large {
                // engine.io: a POST over `maxHttpBufferSize` is refused (413) and its session
                // closed; the client then reports a transport error.
                self.close_session(query);
                let mut r = plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
                self.cors(r.headers_mut(), origin.as_ref(), true);
                return r;
            }
        }
        let http_req = HttpRequest {
            method,
            query,
            origin: header(header::ORIGIN),
            content_type: header(header::CONTENT_TYPE),
            websocket_upgrade: upgrade.is_some(),
            body: &body,
        };
        let outcome = {
            let mut inner = shared.lock();
            inner.query = Some(query.to_owned());
            let outcome = inner.server.handle_request(shared.now(), &http_req);
            // The session the server routed the request to (its sid decoded), not the raw
            // query text: a percent-encoded sid would otherwise wake nobody.
            let sid = server::request_sid(query);
            shared.pump_for(&mut inner, sid.as_deref(), true);
            inner.query = None;
            outcome
        };
        match outcome {
            Outcome::Respond(r) => self.response(r, origin.as_ref()),
            Outcome::Hold { sid } => self.hold(sid, origin.as_ref()).await,
            Outcome::AcceptWebSocket { sid } => {
                let Some(up) = upgrade else {
                    return plain(StatusCode::BAD_REQUEST, "not a websocket\n");
                };
                match up.accept(None, shared.config.ws) {
                    Ok((resp, pending)) => {
                        let shared = Arc::clone(shared);
                        tokio::spawn(async move {
                            match pending.await {
                                Ok(ws) => websocket(ws, shared, sid).await,
                                Err(_) => {
                                    let mut inner = shared.lock();
                                    inner.server.handle_ws_closed(shared.now(), &sid);
                                    shared.pump_for(&mut inner, Some(&sid), true);
                                }
                            }
                        });
                        resp
                    }
                    Err(_) => {
                        let mut inner = shared.lock();
                        inner.server.handle_ws_closed(shared.now(), &sid);
                        shared.pump_for(&mut inner, Some(&sid), true);
                        plain(StatusCode::BAD_REQUEST, "cannot accept\n")
                    }
                }
            }
        }
    }
}
