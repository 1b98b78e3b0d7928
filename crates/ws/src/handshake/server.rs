//! Server side of the opening handshake: validating the client's request, the 101 response
//! and rejections.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use bytes::{BufMut, Bytes, BytesMut};

use super::http::{ext_name, is_tchar, split_list, Headers, Request, RequestParser};
use super::key::{accept_key, is_valid_key};
use crate::config::{Config, HandshakeLimits};
use crate::connection::Connection;
use crate::deflate::DeflateConfig;
use crate::error::{AcceptError, RequestError};

impl RequestError {
    /// The HTTP status to answer with: 426 for an unsupported version, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::UnsupportedVersion => 426,
            _ => 400,
        }
    }

    /// The full HTTP response to write before closing the connection.
    pub fn response(&self) -> Bytes {
        rejection_response(self.status())
    }
}

/// A minimal rejection response for `status` (e.g. 400, 403, 426), with `Connection: close`
/// and an empty body. 426 carries `Sec-WebSocket-Version: 13`: "The server MUST return a 426
/// (Upgrade Required) [...] with the |Sec-WebSocket-Version| header field".
pub fn rejection_response(status: u16) -> Bytes {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let status = status.clamp(100, 999);
    let mut b = BytesMut::with_capacity(128);
    b.put_slice(b"HTTP/1.1 ");
    put_u16_dec(&mut b, status);
    b.put_u8(b' ');
    b.put_slice(reason.as_bytes());
    b.put_slice(b"\r\n");
    if status == 426 {
        b.put_slice(b"Sec-WebSocket-Version: 13\r\n");
    }
    b.put_slice(b"Connection: close\r\nContent-Length: 0\r\n\r\n");
    b.freeze()
}

fn put_u16_dec(b: &mut BytesMut, v: u16) {
    let mut digits = [0u8; 5];
    let mut n = 0;
    let mut v = v;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        b.put_u8(digits[i]);
    }
}

/// A valid client handshake, for the application to accept or reject: an RFC 6455 GET
/// upgrade over HTTP/1.1, or an RFC 8441 extended CONNECT over HTTP/2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOffer {
    host: String,
    origin: Option<String>,
    path: String,
    /// `None` for an extended CONNECT: "do not do the processing of the Sec-WebSocket-Key
    /// and Sec-WebSocket-Accept header fields" (RFC 8441 §5).
    key: Option<String>,
    protocols: Vec<String>,
    extensions: Vec<String>,
}

fn header_str<'a>(h: &'a Headers, name: &'static str) -> Result<Option<&'a str>, RequestError> {
    match h.single(name) {
        Err(()) => Err(RequestError::MalformedHeader(name)),
        Ok(None) => Ok(None),
        Ok(Some(v)) => core::str::from_utf8(v)
            .map(Some)
            .map_err(|_| RequestError::MalformedHeader(name)),
    }
}

/// The response fields of an accepted offer: (lowercase name, value) pairs.
pub type ResponseFields = Vec<(&'static str, String)>;

impl ClientOffer {
    /// Validates a parsed request as a WebSocket opening handshake (RFC 6455 §4.2.1).
    pub fn from_request(req: &Request) -> Result<ClientOffer, RequestError> {
        Self::from_parts(req.method(), req.version(), req.target(), req.headers())
    }

    /// As [`from_request`](Self::from_request), for a request head parsed by another HTTP
    /// stack (hyper, say): the method, the version as (major, minor), the request target
    /// (path and query) and the header fields ([`Headers::from_pairs`]).
    pub fn from_parts(
        method: &str,
        version: (u8, u8),
        target: &str,
        h: &Headers,
    ) -> Result<ClientOffer, RequestError> {
        // "The method of the request MUST be GET"
        if method != "GET" {
            return Err(RequestError::MethodNotGet);
        }
        // "the HTTP version MUST be at least 1.1"
        let (maj, min) = version;
        if maj != 1 || min < 1 {
            return Err(RequestError::HttpVersion);
        }
        // "The request MUST contain a |Host| header field"
        let host = match header_str(h, "host") {
            Ok(Some(v)) if !v.is_empty() => v.to_string(),
            _ => return Err(RequestError::Host),
        };
        // "an |Upgrade| header field whose value MUST include the "websocket" keyword"
        if !h.has_token("upgrade", "websocket") {
            return Err(RequestError::Upgrade);
        }
        // "a |Connection| header field whose value MUST include the "Upgrade" token"
        if !h.has_token("connection", "upgrade") {
            return Err(RequestError::Connection);
        }
        check_version(h)?;
        // "a nonce consisting of a randomly selected 16-byte value that has been
        // base64-encoded"; "MUST NOT appear more than once in an HTTP request".
        let key = match h.single("sec-websocket-key") {
            Ok(Some(k)) if is_valid_key(k) => {
                core::str::from_utf8(k).map_err(|_| RequestError::Key)?
            }
            _ => return Err(RequestError::Key),
        };
        Self::finish(host, target, Some(key.to_string()), h)
    }

    /// Validates an HTTP/2 extended CONNECT (RFC 8441 §5) as a WebSocket opening handshake:
    /// `method` and `protocol` are the request's method and `:protocol` pseudo-header,
    /// `authority` its `:authority`, `target` its `:path`, `h` the header fields.
    ///
    /// Accept it with [`response_fields`](Self::response_fields) on a `200` response (no
    /// `Sec-WebSocket-Accept`); the HTTP/2 stream is then the WebSocket's transport.
    pub fn from_extended_connect(
        method: &str,
        protocol: Option<&str>,
        authority: &str,
        target: &str,
        h: &Headers,
    ) -> Result<ClientOffer, RequestError> {
        // "The :protocol pseudo-header field MUST be included in the CONNECT request, and it
        // MUST have a value of "websocket" to initiate a WebSocket connection on an HTTP/2
        // stream."
        if method != "CONNECT" || protocol != Some("websocket") {
            return Err(RequestError::NotExtendedConnect);
        }
        // "The Host information is conveyed as part of the :authority pseudo-header field,
        // which is required on every HTTP/2 transaction."
        if authority.is_empty() {
            return Err(RequestError::Host);
        }
        // "[RFC6455] requires the use of Connection and Upgrade header fields that are not
        // part of HTTP/2. They MUST NOT be included in the CONNECT request defined here."
        if h.get("connection").is_some() {
            return Err(RequestError::MalformedHeader("Connection"));
        }
        if h.get("upgrade").is_some() {
            return Err(RequestError::MalformedHeader("Upgrade"));
        }
        // "The Origin [RFC6454], Sec-WebSocket-Version, Sec-WebSocket-Protocol, and
        // Sec-WebSocket-Extensions header fields are used in the CONNECT request and
        // response-header fields as defined in [RFC6455]."
        check_version(h)?;
        Self::finish(authority.to_string(), target, None, h)
    }

    /// The fields both kinds of request share: origin, subprotocols, extensions.
    fn finish(
        host: String,
        target: &str,
        key: Option<String>,
        h: &Headers,
    ) -> Result<ClientOffer, RequestError> {
        let origin = header_str(h, "origin")?.map(str::to_string);
        let mut protocols = Vec::new();
        for v in h.get_all("sec-websocket-protocol") {
            split_list(v, &mut protocols)
                .map_err(|()| RequestError::MalformedHeader("Sec-WebSocket-Protocol"))?;
        }
        // "MUST be non-empty strings with characters in the range U+0021 to U+007E not
        // including separator characters"
        // [...] "and MUST all be unique strings."
        if !protocols.iter().all(|p| p.bytes().all(is_tchar))
            || protocols
                .iter()
                .enumerate()
                .any(|(i, p)| protocols[..i].contains(p))
        {
            return Err(RequestError::MalformedHeader("Sec-WebSocket-Protocol"));
        }
        let mut extensions = Vec::new();
        for v in h.get_all("sec-websocket-extensions") {
            split_list(v, &mut extensions)
                .map_err(|()| RequestError::MalformedHeader("Sec-WebSocket-Extensions"))?;
        }
        Ok(ClientOffer {
            host,
            origin,
            path: target.to_string(),
            key,
            protocols,
            extensions,
        })
    }

    /// The `Host` header value (`:authority` for an extended CONNECT).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `Origin` header value, if any (browsers always send it).
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// The request target (path and query), e.g. `/chat`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `Sec-WebSocket-Key` value; `None` for an extended CONNECT (RFC 8441 has none).
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Whether the offer is an HTTP/2 extended CONNECT (RFC 8441): accept it with a `200`
    /// and [`response_fields`](Self::response_fields), not with [`accept`](Self::accept).
    pub fn is_extended_connect(&self) -> bool {
        self.key.is_none()
    }

    /// Offered subprotocols, in the client's order of preference.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// Offered extensions, one element per offer, parameters included
    /// (e.g. `permessage-deflate; client_max_window_bits`).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The checks both ways of answering make on the chosen subprotocol and extensions.
    fn check_agreement(
        &self,
        protocol: Option<&str>,
        extensions: Option<&str>,
    ) -> Result<(), AcceptError> {
        if let Some(p) = protocol {
            // "the value chosen MUST be derived from the client's handshake"
            if !self.protocols.iter().any(|o| o == p) {
                return Err(AcceptError::ProtocolNotOffered);
            }
        }
        if let Some(e) = extensions {
            // "Extensions not listed by the client MUST NOT be listed."
            if e.bytes().any(|b| b == b'\r' || b == b'\n') {
                return Err(AcceptError::ExtensionNotOffered);
            }
            let mut list = Vec::new();
            split_list(e.as_bytes(), &mut list).map_err(|()| AcceptError::ExtensionNotOffered)?;
            for ext in &list {
                if !self.extensions.iter().any(|o| ext_name(o) == ext_name(ext)) {
                    return Err(AcceptError::ExtensionNotOffered);
                }
            }
        }
        Ok(())
    }

    /// The header fields of the response that accepts this offer, for an HTTP stack that
    /// writes its own responses: with status 101 over HTTP/1.1 (`upgrade`, `connection`,
    /// `sec-websocket-accept`, then the agreed subprotocol and extensions), with status 200
    /// for an extended CONNECT (only the subprotocol and extensions). `protocol` and
    /// `extensions` as for [`accept`](Self::accept).
    pub fn response_fields(
        &self,
        protocol: Option<&str>,
        extensions: Option<&str>,
    ) -> Result<ResponseFields, AcceptError> {
        self.check_agreement(protocol, extensions)?;
        let mut fields = Vec::with_capacity(5);
        if let Some(key) = &self.key {
            fields.push(("upgrade", "websocket".to_string()));
            fields.push(("connection", "Upgrade".to_string()));
            fields.push(("sec-websocket-accept", accept_key(key.as_bytes())));
        }
        if let Some(p) = protocol {
            fields.push(("sec-websocket-protocol", p.to_string()));
        }
        if let Some(e) = extensions {
            fields.push(("sec-websocket-extensions", e.to_string()));
        }
        Ok(fields)
    }

    /// Builds the 101 response. `protocol` must be one of [`protocols`](Self::protocols);
    /// `extensions` is the negotiated `Sec-WebSocket-Extensions` value (each extension name in
    /// it must have been offered). After writing it, create a server [`Connection`].
    /// An extended CONNECT offer has no 101: [`AcceptError::ExtendedConnect`].
    ///
    /// [`Connection`]: crate::Connection
    pub fn accept(
        &self,
        protocol: Option<&str>,
        extensions: Option<&str>,
    ) -> Result<Bytes, AcceptError> {
        let Some(key) = &self.key else {
            return Err(AcceptError::ExtendedConnect);
        };
        self.check_agreement(protocol, extensions)?;
        let mut b = BytesMut::with_capacity(160);
        b.put_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
        b.put_slice(accept_key(key.as_bytes()).as_bytes());
        b.put_slice(b"\r\n");
        if let Some(p) = protocol {
            b.put_slice(b"Sec-WebSocket-Protocol: ");
            b.put_slice(p.as_bytes());
            b.put_slice(b"\r\n");
        }
        if let Some(e) = extensions {
            b.put_slice(b"Sec-WebSocket-Extensions: ");
            b.put_slice(e.as_bytes());
            b.put_slice(b"\r\n");
        }
        b.put_slice(b"\r\n");
        Ok(b.freeze())
    }

    /// Accepts the offer for an HTTP stack that writes its own response (see
    /// [`response_fields`](Self::response_fields)): agrees on permessage-deflate when
    /// `deflate` is `Some` and the client offered it acceptably (feature `deflate`), and
    /// creates the server [`Connection`](crate::Connection) with the extension installed.
    /// Send the fields with status 101 (HTTP/1.1) or 200 (extended CONNECT), then feed the
    /// connection what the transport delivers.
    pub fn negotiate(
        &self,
        protocol: Option<&str>,
        config: Config,
        deflate: Option<DeflateConfig>,
    ) -> Result<(ResponseFields, Connection), AcceptError> {
        let (header, conn) = self.agree(config, deflate);
        let fields = self.response_fields(protocol, header.as_deref())?;
        Ok((fields, conn))
    }

    /// The agreed `Sec-WebSocket-Extensions` value and the connection with it installed.
    fn agree(
        &self,
        config: Config,
        deflate: Option<DeflateConfig>,
    ) -> (Option<String>, Connection) {
        #[allow(unused_mut)]
        let mut conn = Connection::server(config);
        #[cfg(feature = "deflate")]
        {
            let policy = crate::deflate::negotiate::ServerPolicy::default();
            let agreed = deflate.and_then(|d| {
                crate::deflate::negotiate::server_accept(self.extensions(), &policy).map(|a| (a, d))
            });
            if let Some((a, d)) = agreed {
                let header = a.to_header();
                conn.set_extension(alloc::boxed::Box::new(
                    crate::deflate::PerMessageDeflate::new(crate::Role::Server, a, d),
                ));
                return (Some(header), conn);
            }
        }
        #[cfg(not(feature = "deflate"))]
        let _ = deflate;
        (None, conn)
    }
}

/// "The value of this header field MUST be 13." Otherwise "The server MUST return a 426
/// (Upgrade Required)".
fn check_version(h: &Headers) -> Result<(), RequestError> {
    match h.single("sec-websocket-version") {
        Ok(Some(b"13")) => Ok(()),
        Ok(Some(_)) => Err(RequestError::UnsupportedVersion),
        Ok(None) | Err(()) => Err(RequestError::MissingVersion),
    }
}

/// Server side of the opening handshake: a [`RequestParser`] plus validation.
#[derive(Debug)]
pub struct ServerHandshake {
    parser: RequestParser,
    failed: Option<RequestError>,
}

impl Default for ServerHandshake {
    fn default() -> Self {
        Self::new(HandshakeLimits::default())
    }
}

impl ServerHandshake {
    /// A server handshake with the given limits.
    pub fn new(limits: HandshakeLimits) -> Self {
        ServerHandshake {
            parser: RequestParser::new(limits),
            failed: None,
        }
    }

    /// Feeds bytes from the client. Returns the validated offer once the request head is
    /// complete; on error, write [`RequestError::response`] and close. Errors are sticky.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<ClientOffer>, RequestError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = match self.parser.feed(data) {
            Ok(None) => return Ok(None),
            Ok(Some(req)) => ClientOffer::from_request(&req).map(Some),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// Bytes the client sent after its request (early frames): give them to
    /// [`Connection::feed_bytes`](crate::Connection::feed_bytes).
    pub fn take_remaining(&mut self) -> BytesMut {
        self.parser.take_remaining()
    }
    /// Accepts `offer` (returned by [`feed`](Self::feed)) in one call: agrees on
    /// permessage-deflate when `deflate` is `Some` and the client offered it acceptably
    /// (feature `deflate`; without it no extension is agreed), builds the 101 response with
    /// the chosen subprotocol, creates the server [`Connection`] with the extension installed
    /// and hands it the bytes the client sent after its request.
    ///
    /// Write the returned response, then drive the connection. Errors as
    /// [`ClientOffer::accept`] (a `protocol` the client did not offer).
    pub fn into_connection(
        mut self,
        offer: &ClientOffer,
        protocol: Option<&str>,
        config: Config,
        deflate: Option<DeflateConfig>,
    ) -> Result<(Bytes, Connection), AcceptError> {
        let (header, mut conn) = offer.agree(config, deflate);
        let response = offer.accept(protocol, header.as_deref())?;
        conn.push_input(self.take_remaining().freeze());
        Ok((response, conn))
    }
}
