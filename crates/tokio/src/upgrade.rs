//! WebSocket over hyper (feature `http`): the server accepts from an [`http::Request`] —
//! an HTTP/1.1 upgrade (RFC 6455) or an HTTP/2 extended CONNECT (RFC 8441) — and answers
//! with an [`http::Response`]; the client opens a WebSocket on an HTTP/2 connection.
//!
//! # Server call order
//!
//! 1. In the service, [`Upgrade::from_request`] takes the request (by `&mut`, to take hyper's
//!    upgrade handle out of it). A request that is not a valid handshake gets
//!    [`UpgradeError::response`] (400, or 426 with `Sec-WebSocket-Version: 13`).
//! 2. Look at [`Upgrade::offer`] (path, origin, subprotocols) and call [`Upgrade::accept`]:
//!    it returns the response to send (101 over HTTP/1.1, 200 over HTTP/2, with
//!    permessage-deflate agreed when [`Config::deflate`] is `Some` and the client offered it)
//!    and a [`PendingUpgrade`].
//! 3. Return the response from the service, and await the [`PendingUpgrade`] in a spawned
//!    task: it resolves once hyper hands the connection (or the HTTP/2 stream) over, to a
//!    [`WebSocketStream`].
//!
//! hyper must serve the connection with upgrades (`serve_connection_with_upgrades`, or
//! `http1::Builder::serve_connection(..).with_upgrades()`), and for RFC 8441 its HTTP/2
//! server must announce `SETTINGS_ENABLE_CONNECT_PROTOCOL`
//! (`http2::Builder::enable_connect_protocol`).
//!
//! # Client over HTTP/2
//!
//! [`connect_http2`] sends the extended CONNECT on a hyper HTTP/2 connection
//! (`hyper::client::conn::http2`) and returns the stream once the server answered 200. Over
//! HTTP/1.1 use [`WebSocketStream::client`] on the transport itself.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use http::{HeaderValue, Method, Request, Response, StatusCode, Version};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use pushwire_ws::deflate::negotiate::{ClientWindowBits, Offer};
use pushwire_ws::handshake::{
    AcceptError, ClientHandshake, ClientOffer, ClientRequest, HandshakeLimits, Headers,
    RequestError,
};
use pushwire_ws::{Connection, StdRandom};

use crate::{Config, Error, HandshakeError, WebSocketStream};

/// The transport of a WebSocket accepted or opened through hyper.
pub type UpgradedIo = TokioIo<Upgraded>;

/// A WebSocket stream over an upgraded hyper connection (or HTTP/2 stream).
pub type HyperWebSocket = WebSocketStream<UpgradedIo>;

/// Why a request cannot be upgraded.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpgradeError {
    /// Not a valid WebSocket handshake (RFC 6455 §4.2.1, or RFC 8441 §5 over HTTP/2).
    #[error("not a WebSocket handshake: {0}")]
    Request(#[from] RequestError),
    /// The request carries no upgrade handle: hyper was not serving this connection with
    /// upgrades (or the request was already taken apart).
    #[error("the connection was not served with upgrades enabled")]
    NoUpgrade,
}

impl UpgradeError {
    /// The HTTP status to answer with: 426 for an unsupported WebSocket version, 500 for
    /// [`NoUpgrade`](Self::NoUpgrade), 400 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            UpgradeError::Request(e) => {
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            UpgradeError::NoUpgrade => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The response to send: [`status`](Self::status) with an empty body; a 426 carries
    /// `Sec-WebSocket-Version: 13` ("The server MUST return a 426 (Upgrade Required) [...]
    /// with the |Sec-WebSocket-Version| header field").
    pub fn response<B: Default>(&self) -> Response<B> {
        let mut resp = Response::new(B::default());
        *resp.status_mut() = self.status();
        if resp.status() == StatusCode::UPGRADE_REQUIRED {
            resp.headers_mut()
                .insert("sec-websocket-version", HeaderValue::from_static("13"));
        }
        resp
    }
}

/// Whether `req` asks for a WebSocket: an HTTP/1.1 GET with `Upgrade: websocket`, or an
/// HTTP/2 CONNECT with `:protocol` `websocket`. Cheap; [`Upgrade::from_request`] does the
/// full check.
pub fn is_websocket_request<B>(req: &Request<B>) -> bool {
    if req.method() == Method::CONNECT {
        return protocol(req.extensions()) == Some("websocket");
    }
    req.method() == Method::GET
        && req
            .headers()
            .get_all(http::header::UPGRADE)
            .iter()
            .any(|v| {
                v.as_bytes()
                    .split(|&b| b == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"websocket"))
            })
}

/// The `:protocol` pseudo-header of an HTTP/2 extended CONNECT, if any.
fn protocol(extensions: &http::Extensions) -> Option<&str> {
    extensions
        .get::<hyper::ext::Protocol>()
        .map(hyper::ext::Protocol::as_str)
}

/// Validates a request head as an opening handshake: RFC 8441 when it came over HTTP/2,
/// RFC 6455 otherwise.
fn offer(
    method: &Method,
    uri: &http::Uri,
    version: Version,
    headers: &http::HeaderMap,
    extensions: &http::Extensions,
) -> Result<ClientOffer, RequestError> {
    let h = fields(headers);
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    if version == Version::HTTP_2 {
        let authority = uri.authority().map_or("", |a| a.as_str());
        return ClientOffer::from_extended_connect(
            method.as_str(),
            protocol(extensions),
            authority,
            target,
            &h,
        );
    }
    let version = match version {
        Version::HTTP_09 => (0, 9),
        Version::HTTP_10 => (1, 0),
        Version::HTTP_11 => (1, 1),
        _ => (3, 0),
    };
    ClientOffer::from_parts(method.as_str(), version, target, &h)
}

fn fields(h: &http::HeaderMap) -> Headers {
    Headers::from_pairs(h.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
}

/// A validated WebSocket handshake request, with hyper's handle to the connection.
#[derive(Debug)]
pub struct Upgrade {
    offer: ClientOffer,
    on_upgrade: OnUpgrade,
}

impl Upgrade {
    /// Validates `req` as an opening handshake — RFC 6455 over HTTP/1.1, RFC 8441 over
    /// HTTP/2 — and takes hyper's upgrade handle out of it (the rest of the request is left
    /// as it was).
    pub fn from_request<B>(req: &mut Request<B>) -> Result<Upgrade, UpgradeError> {
        let offer = offer(
            req.method(),
            req.uri(),
            req.version(),
            req.headers(),
            req.extensions(),
        )?;
        Self::with_handle(offer, req.extensions_mut())
    }

    /// As [`from_request`](Self::from_request), from the head of a request taken apart
    /// (`http::request::Parts`, what axum's extractors get).
    pub fn from_request_parts(parts: &mut http::request::Parts) -> Result<Upgrade, UpgradeError> {
        let offer = offer(
            &parts.method,
            &parts.uri,
            parts.version,
            &parts.headers,
            &parts.extensions,
        )?;
        Self::with_handle(offer, &mut parts.extensions)
    }

    /// Takes hyper's upgrade handle out of the request's extensions.
    fn with_handle(
        offer: ClientOffer,
        extensions: &mut http::Extensions,
    ) -> Result<Upgrade, UpgradeError> {
        let on_upgrade = extensions
            .remove::<OnUpgrade>()
            .ok_or(UpgradeError::NoUpgrade)?;
        Ok(Upgrade { offer, on_upgrade })
    }

    /// The validated offer: path, host, origin, subprotocols, extensions.
    pub fn offer(&self) -> &ClientOffer {
        &self.offer
    }

    /// Accepts with subprotocol `protocol` (one of the offered ones, or `None`): returns the
    /// response to send from the service — 101 Switching Protocols over HTTP/1.1, 200 over
    /// HTTP/2 — with permessage-deflate agreed when `config.deflate` is `Some` and the client
    /// offered it, and the [`PendingUpgrade`] to await once the response is on its way.
    pub fn accept<B: Default>(
        self,
        protocol: Option<&str>,
        config: Config,
    ) -> Result<(Response<B>, PendingUpgrade), AcceptError> {
        let (fields, conn) =
            self.offer
                .negotiate(protocol, config.to_ws_config(), config.deflate)?;
        let mut resp = Response::new(B::default());
        *resp.status_mut() = if self.offer.is_extended_connect() {
            StatusCode::OK
        } else {
            StatusCode::SWITCHING_PROTOCOLS
        };
        for (name, value) in fields {
            // The values are a base64 accept key, an offered token and a negotiated
            // extension: always valid header values.
            if let Ok(v) = HeaderValue::try_from(value) {
                resp.headers_mut().append(name, v);
            }
        }
        let pending = PendingUpgrade {
            on_upgrade: self.on_upgrade,
            conn,
            config,
        };
        Ok((resp, pending))
    }
}

/// The connection of an accepted handshake, once hyper hands it over: `.await` it (after the
/// response has been returned to hyper, typically in a spawned task).
#[derive(Debug)]
pub struct PendingUpgrade {
    on_upgrade: OnUpgrade,
    conn: Connection,
    config: Config,
}

impl IntoFuture for PendingUpgrade {
    type Output = Result<HyperWebSocket, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let upgraded = self.on_upgrade.await.map_err(Error::Upgrade)?;
            Ok(WebSocketStream::from_connection(
                TokioIo::new(upgraded),
                self.conn,
                self.config,
            ))
        })
    }
}

/// Opens a WebSocket on an HTTP/2 connection with an extended CONNECT (RFC 8441): `uri` is
/// the `https://` (for `wss`) or `http://` (for `ws`) URI of the endpoint — "The scheme of
/// the target URI MUST be "https" for "wss"-schemed WebSockets and "http" for "ws"-schemed
/// WebSockets". Offers permessage-deflate when `config.deflate` is `Some`; `protocols` are
/// the subprotocols offered, by preference. The server must have announced
/// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (hyper's client waits for the server's settings).
///
/// Returns the stream and the subprotocol the server chose.
pub async fn connect_http2<B>(
    sender: &mut hyper::client::conn::http2::SendRequest<B>,
    uri: http::Uri,
    protocols: &[&str],
    config: Config,
) -> Result<(HyperWebSocket, Option<String>), Error>
where
    B: hyper::body::Body + Default + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let host = uri.authority().map_or("", |a| a.as_str());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut creq = ClientRequest::new(host, path);
    creq.protocols = protocols.iter().map(|p| p.to_string()).collect();
    if config.deflate.is_some() {
        let offer = Offer {
            client_max_window_bits: ClientWindowBits::Any,
            ..Offer::default()
        };
        creq.extensions = vec![offer.to_header()];
    }
    let hs = ClientHandshake::extended_connect(&creq, HandshakeLimits::DEFAULT)
        .map_err(HandshakeError::ClientRequest)?;
    let mut builder = Request::builder()
        .method(Method::CONNECT)
        .version(Version::HTTP_2)
        .uri(uri)
        .extension(hyper::ext::Protocol::from_static("websocket"));
    for (name, value) in hs.request_fields() {
        builder = builder.header(*name, value.as_str());
    }
    let req = builder.body(B::default()).map_err(|_| {
        HandshakeError::ClientRequest(pushwire_ws::handshake::ClientRequestError::Invalid("uri"))
    })?;
    sender.ready().await.map_err(Error::Upgrade)?;
    let mut resp = sender.send_request(req).await.map_err(Error::Upgrade)?;
    let accepted = hs
        .verify_fields(resp.status().as_u16(), &fields(resp.headers()))
        .map_err(HandshakeError::Response)?;
    let upgraded = hyper::upgrade::on(&mut resp)
        .await
        .map_err(Error::Upgrade)?;
    let conn = hs
        .into_connection(
            &accepted,
            config.to_ws_config(),
            Box::new(StdRandom::new()),
            config.deflate,
        )
        .map_err(HandshakeError::Response)?;
    Ok((
        WebSocketStream::from_connection(TokioIo::new(upgraded), conn, config),
        accepted.protocol,
    ))
}
