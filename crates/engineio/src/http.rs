//! The HTTP vocabulary of the polling transport, shared by both roles: requests and
//! responses as the sessions see them, and engine.io's error responses and CORS headers.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`: handshake, long-poll, or websocket upgrade.
    Get,
    /// `POST`: a payload from the client.
    Post,
    /// `OPTIONS`: CORS preflight.
    Options,
    /// Anything else.
    Other,
}

/// What the server needs from an HTTP request. The I/O layer matches the path
/// (`/engine.io/` by default) before calling
/// [`Server::handle_request`](crate::server::Server::handle_request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpRequest<'a> {
    /// The method.
    pub method: Method,
    /// The query string, without the `?` (`EIO=3&transport=polling&t=…`).
    pub query: &'a str,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// Whether this is a WebSocket upgrade request (`Upgrade: websocket`).
    pub websocket_upgrade: bool,
    /// The whole body (POST).
    pub body: &'a [u8],
}

/// engine.io's error codes, answered as HTTP 400 with
/// `{"code":<n>,"message":"<text>"}` (`Content-Type: application/json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 0, `Transport unknown`.
    UnknownTransport = 0,
    /// 1, `Session ID unknown`.
    UnknownSid = 1,
    /// 2, `Bad handshake method`.
    BadHandshakeMethod = 2,
    /// 3, `Bad request`.
    BadRequest = 3,
    /// 5, `Unsupported protocol version`: an `EIO` the server does not serve (engine.io
    /// 4+; only when [`crate::server::Config::allow_eio4`] is on, see there).
    UnsupportedProtocolVersion = 5,
}

impl ErrorCode {
    /// engine.io's message for the code.
    #[must_use]
    pub fn message(self) -> &'static str {
        match self {
            Self::UnknownTransport => "Transport unknown",
            Self::UnknownSid => "Session ID unknown",
            Self::BadHandshakeMethod => "Bad handshake method",
            Self::BadRequest => "Bad request",
            Self::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }
}

/// The 400 response engine.io sends for `code`.
#[must_use]
pub fn error_response(code: ErrorCode, req: &RequestInfo) -> HttpResponse {
    use core::fmt::Write as _;
    let mut body = String::new();
    // engine.io: `JSON.stringify({ code: code, message: Server.errorMessages[code] })`
    let _ = write!(
        body,
        r#"{{"code":{},"message":"{}"}}"#,
        code as u8,
        code.message()
    );
    let mut r = HttpResponse {
        status: 400,
        headers: vec![("Content-Type", String::from("application/json"))],
        body: body.into_bytes(),
    };
    cors(&mut r, req);
    r
}

/// An HTTP response to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (the I/O layer adds `Content-Length` and the like).
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The header `name` (ASCII case-insensitive), if present.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Request details a response depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// The `Origin` header: echoed in `Access-Control-Allow-Origin` (with credentials) by the
    /// XHR transport, as engine.io does; `*` when absent.
    pub origin: Option<String>,
}

/// engine.io's XHR transport headers: `Access-Control-Allow-Origin` echoes the `Origin`
/// with credentials allowed, or `*`.
pub(crate) fn cors(r: &mut HttpResponse, req: &RequestInfo) {
    match &req.origin {
        Some(o) => {
            r.headers
                .push(("Access-Control-Allow-Credentials", String::from("true")));
            r.headers.push(("Access-Control-Allow-Origin", o.clone()));
        }
        None => r
            .headers
            .push(("Access-Control-Allow-Origin", String::from("*"))),
    }
}

/// engine.io's `Bad request` (code 3) without CORS details.
pub(crate) fn bad_request() -> HttpResponse {
    error_response(ErrorCode::BadRequest, &RequestInfo::default())
}
