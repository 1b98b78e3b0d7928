//! Client side of the opening handshake: the request and the checks on the server's response.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};

use super::http::{ext_name, is_tchar, split_list, Headers, Response, ResponseParser};
use super::key::{accept_key, B64};
use crate::config::{Config, HandshakeLimits};
use crate::connection::{Connection, Role};
use crate::deflate::DeflateConfig;
use crate::error::{ClientRequestError, ResponseError};
use crate::MaskKeySource;

/// What a client asks for in its handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientRequest {
    /// `Host` value (host, plus `:port` when not the default).
    pub host: String,
    /// Request target, e.g. `/chat`.
    pub path: String,
    /// Optional `Origin`.
    pub origin: Option<String>,
    /// Subprotocols to offer, by preference.
    pub protocols: Vec<String>,
    /// Extension offers (e.g. `permessage-deflate`), sent as one `Sec-WebSocket-Extensions`.
    pub extensions: Vec<String>,
}

impl ClientRequest {
    /// A request for `path` on `host`, with no origin, subprotocols or extensions.
    pub fn new(host: &str, path: &str) -> Self {
        ClientRequest {
            host: host.to_string(),
            path: path.to_string(),
            origin: None,
            protocols: Vec::new(),
            extensions: Vec::new(),
        }
    }
}

/// The checks on a [`ClientRequest`] both kinds of handshake make.
fn check_request(req: &ClientRequest) -> Result<(), ClientRequestError> {
    let visible = |s: &str| !s.is_empty() && s.bytes().all(|b| (0x21..0x7F).contains(&b));
    if !visible(&req.host) {
        return Err(ClientRequestError::Invalid("host"));
    }
    if !visible(&req.path) {
        return Err(ClientRequestError::Invalid("path"));
    }
    if let Some(o) = &req.origin {
        if !visible(o) {
            return Err(ClientRequestError::Invalid("origin"));
        }
    }
    if !req
        .protocols
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(is_tchar))
    {
        return Err(ClientRequestError::Invalid("subprotocol"));
    }
    if !req
        .extensions
        .iter()
        .all(|e| !e.trim().is_empty() && e.bytes().all(|b| b == b'\t' || (0x20..0x7F).contains(&b)))
    {
        return Err(ClientRequestError::Invalid("extension"));
    }
    Ok(())
}

/// The fields of an extended CONNECT request besides the pseudo-headers.
fn request_fields(req: &ClientRequest) -> Vec<(&'static str, String)> {
    let mut f = alloc::vec![("sec-websocket-version", "13".to_string())];
    if let Some(o) = &req.origin {
        f.push(("origin", o.clone()));
    }
    if !req.protocols.is_empty() {
        f.push(("sec-websocket-protocol", req.protocols.join(", ")));
    }
    if !req.extensions.is_empty() {
        f.push(("sec-websocket-extensions", req.extensions.join(", ")));
    }
    f
}

/// What the server agreed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The chosen subprotocol, if any.
    pub protocol: Option<String>,
    /// The accepted extensions, one element per extension, parameters included.
    pub extensions: Vec<String>,
}

/// Client side of the opening handshake.
#[derive(Debug)]
pub struct ClientHandshake {
    request: Bytes,
    expected_accept: String,
    offered_protocols: Vec<String>,
    offered_extensions: Vec<String>,
    parser: ResponseParser,
    failed: Option<ResponseError>,
    /// The request's fields besides the pseudo-headers (extended CONNECT).
    fields: Vec<(&'static str, String)>,
}

impl ClientHandshake {
    /// Builds the handshake request with a fresh `Sec-WebSocket-Key` from `keys` ("The nonce
    /// MUST be selected randomly for each connection").
    pub fn new(
        req: &ClientRequest,
        keys: &mut dyn MaskKeySource,
        limits: HandshakeLimits,
    ) -> Result<ClientHandshake, ClientRequestError> {
        check_request(req)?;
        let mut nonce = [0u8; 16];
        for c in nonce.chunks_exact_mut(4) {
            c.copy_from_slice(&keys.mask_key());
        }
        let key = B64.encode(nonce);
        let mut b = BytesMut::with_capacity(256);
        b.put_slice(b"GET ");
        b.put_slice(req.path.as_bytes());
        b.put_slice(b" HTTP/1.1\r\nHost: ");
        b.put_slice(req.host.as_bytes());
        b.put_slice(b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
        b.put_slice(key.as_bytes());
        b.put_slice(b"\r\nSec-WebSocket-Version: 13\r\n");
        if let Some(o) = &req.origin {
            b.put_slice(b"Origin: ");
            b.put_slice(o.as_bytes());
            b.put_slice(b"\r\n");
        }
        if !req.protocols.is_empty() {
            b.put_slice(b"Sec-WebSocket-Protocol: ");
            b.put_slice(req.protocols.join(", ").as_bytes());
            b.put_slice(b"\r\n");
        }
        if !req.extensions.is_empty() {
            b.put_slice(b"Sec-WebSocket-Extensions: ");
            b.put_slice(req.extensions.join(", ").as_bytes());
            b.put_slice(b"\r\n");
        }
        b.put_slice(b"\r\n");
        Ok(ClientHandshake {
            request: b.freeze(),
            expected_accept: accept_key(key.as_bytes()),
            offered_protocols: req.protocols.clone(),
            offered_extensions: req.extensions.clone(),
            parser: ResponseParser::new(limits),
            failed: None,
            // The HTTP/1.1 request carries its fields in `request`.
            fields: Vec::new(),
        })
    }

    /// RFC 8441 client: a WebSocket over an HTTP/2 stream. The HTTP/2 stack sends a
    /// request with method `CONNECT`, `:protocol` `websocket`, `:scheme`, `:path` `req.path`
    /// and `:authority` `req.host`, carrying [`request_fields`](Self::request_fields);
    /// check its response with [`verify_fields`](Self::verify_fields). There is no key:
    /// "Implementations using this extended CONNECT to bootstrap WebSockets do not do the
    /// processing of the Sec-WebSocket-Key and Sec-WebSocket-Accept header fields".
    pub fn extended_connect(
        req: &ClientRequest,
        limits: HandshakeLimits,
    ) -> Result<ClientHandshake, ClientRequestError> {
        check_request(req)?;
        Ok(ClientHandshake {
            request: Bytes::new(),
            expected_accept: String::new(),
            offered_protocols: req.protocols.clone(),
            offered_extensions: req.extensions.clone(),
            parser: ResponseParser::new(limits),
            failed: None,
            fields: request_fields(req),
        })
    }

    /// The request bytes to write (empty for an [extended CONNECT](Self::extended_connect)).
    pub fn request(&self) -> Bytes {
        self.request.clone()
    }

    /// The header fields of an [extended CONNECT](Self::extended_connect) besides the
    /// pseudo-headers (empty for an HTTP/1.1 handshake, whose fields are in
    /// [`request`](Self::request)), as (lowercase name, value) pairs, for the HTTP/2 stack: `sec-websocket-version`,
    /// then `origin`, `sec-websocket-protocol` and `sec-websocket-extensions` when set. "The
    /// Origin, Sec-WebSocket-Version, Sec-WebSocket-Protocol, and Sec-WebSocket-Extensions
    /// header fields are used in the CONNECT request [...] as defined in \[RFC6455\]".
    pub fn request_fields(&self) -> &[(&'static str, String)] {
        &self.fields
    }

    /// Checks the response to an [extended CONNECT](Self::extended_connect): a 2xx status
    /// (RFC 7540 §8.3: the CONNECT succeeded), then the subprotocol and extensions as for
    /// [`verify`](Self::verify). `headers` from [`Headers::from_pairs`].
    pub fn verify_fields(&self, status: u16, headers: &Headers) -> Result<Accepted, ResponseError> {
        if !(200..300).contains(&status) {
            return Err(ResponseError::Status(status));
        }
        self.agreement(headers)
    }

    /// The `Sec-WebSocket-Accept` value the server must answer with (empty for an
    /// [extended CONNECT](Self::extended_connect), which has none).
    pub fn expected_accept(&self) -> &str {
        &self.expected_accept
    }

    /// Feeds bytes from the server. Returns what the server accepted once a valid 101
    /// response is complete; then create a client [`Connection`](crate::Connection) and feed it
    /// [`take_remaining`](Self::take_remaining). Errors are sticky.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<Accepted>, ResponseError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = match self.parser.feed(data) {
            Ok(None) => return Ok(None),
            Ok(Some(resp)) => self.verify(&resp).map(Some),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// Checks a parsed response against this request (RFC 6455 §4.1, "The client MUST
    /// validate the server's response as follows").
    pub fn verify(&self, resp: &Response) -> Result<Accepted, ResponseError> {
        // "If the status code received from the server is not 101, the client handles the
        // response per HTTP [RFC2616] procedures."
        if resp.status() != 101 {
            return Err(ResponseError::Status(resp.status()));
        }
        let (maj, min) = resp.version();
        if maj != 1 || min < 1 {
            return Err(ResponseError::HttpVersion);
        }
        let h = resp.headers();
        // "If the response lacks an |Upgrade| header field or the |Upgrade| header field
        // contains a value that is not an ASCII case-insensitive match for the value
        // "websocket", the client MUST _Fail the WebSocket Connection_."
        match h.single("upgrade") {
            Ok(Some(v)) if v.eq_ignore_ascii_case(b"websocket") => {}
            _ => return Err(ResponseError::Upgrade),
        }
        // "If the response lacks a |Connection| header field or the |Connection| header field
        // doesn't contain a token that is an ASCII case-insensitive match for the value
        // "Upgrade", the client MUST _Fail the WebSocket Connection_."
        if !h.has_token("connection", "upgrade") {
            return Err(ResponseError::Connection);
        }
        // "If the response lacks a |Sec-WebSocket-Accept| header field or the
        // |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of [...]"
        match h.single("sec-websocket-accept") {
            Ok(Some(v)) if v == self.expected_accept.as_bytes() => {}
            _ => return Err(ResponseError::Accept),
        }
        self.agreement(h)
    }

    /// The subprotocol and extensions the server chose, checked against the offer.
    fn agreement(&self, h: &Headers) -> Result<Accepted, ResponseError> {
        // "If the response includes a |Sec-WebSocket-Protocol| header field and this header
        // field indicates the use of a subprotocol that was not present in the client's
        // handshake [...] the client MUST _Fail the WebSocket Connection_."
        let protocol = match h.single("sec-websocket-protocol") {
            Err(()) => return Err(ResponseError::Protocol),
            Ok(None) => None,
            Ok(Some(v)) => {
                let p = core::str::from_utf8(v).map_err(|_| ResponseError::Protocol)?;
                if !self.offered_protocols.iter().any(|o| o == p) {
                    return Err(ResponseError::Protocol);
                }
                Some(p.to_string())
            }
        };
        // "If the response includes a |Sec-WebSocket-Extensions| header field and this header
        // field indicates the use of an extension that was not present in the client's
        // handshake [...] the client MUST _Fail the WebSocket Connection_."
        let mut extensions = Vec::new();
        for v in h.get_all("sec-websocket-extensions") {
            split_list(v, &mut extensions).map_err(|()| ResponseError::Extension)?;
        }
        for e in &extensions {
            if !self
                .offered_extensions
                .iter()
                .any(|o| ext_name(o) == ext_name(e))
            {
                return Err(ResponseError::Extension);
            }
        }
        Ok(Accepted {
            protocol,
            extensions,
        })
    }

    /// Bytes the server sent after its response (early frames): give them to
    /// [`Connection::feed_bytes`](crate::Connection::feed_bytes).
    pub fn take_remaining(&mut self) -> BytesMut {
        self.parser.take_remaining()
    }

    /// Turns the completed handshake into the client [`Connection`] in one call: installs
    /// permessage-deflate when the server accepted it (feature `deflate`, with `deflate`'s
    /// settings) and hands the connection the bytes the server sent after its response.
    /// `accepted` is what [`feed`](Self::feed) returned; `keys` masks the frames sent.
    ///
    /// Fails with [`ResponseError::Extension`] when the server accepted an extension this
    /// connection cannot run: one other than permessage-deflate, permessage-deflate with
    /// `deflate` `None` (or without the feature), or parameters that do not match the offer
    /// ("If a client receives an extension negotiation response [...] not acceptable, the
    /// client MUST _Fail the WebSocket Connection_", RFC 7692 §5).
    pub fn into_connection(
        mut self,
        accepted: &Accepted,
        config: Config,
        keys: Box<dyn MaskKeySource + Send>,
        deflate: Option<DeflateConfig>,
    ) -> Result<Connection, ResponseError> {
        let mut conn = Connection::with_mask_keys(Role::Client, config, keys);
        let mut installed = false;
        for element in &accepted.extensions {
            if installed || ext_name(element) != crate::deflate::negotiate::NAME {
                return Err(ResponseError::Extension);
            }
            let Some(d) = deflate else {
                return Err(ResponseError::Extension);
            };
            self.install_deflate(&mut conn, element, d)?;
            installed = true;
        }
        conn.push_input(self.take_remaining().freeze());
        Ok(conn)
    }

    #[cfg(feature = "deflate")]
    fn install_deflate(
        &self,
        conn: &mut Connection,
        element: &str,
        config: DeflateConfig,
    ) -> Result<(), ResponseError> {
        use crate::deflate::negotiate::{client_accept, Offer};
        let offers: Vec<Offer> = self
            .offered_extensions
            .iter()
            .filter_map(|o| Offer::parse(o).ok())
            .collect();
        let agreed = client_accept(&offers, element).map_err(|_| ResponseError::Extension)?;
        conn.set_extension(Box::new(crate::deflate::PerMessageDeflate::new(
            Role::Client,
            agreed,
            config,
        )));
        Ok(())
    }

    #[cfg(not(feature = "deflate"))]
    fn install_deflate(
        &self,
        _: &mut Connection,
        _: &str,
        _: DeflateConfig,
    ) -> Result<(), ResponseError> {
        Err(ResponseError::Extension)
    }
}
