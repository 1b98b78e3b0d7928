//! The opening handshake (RFC 6455 §4), both roles, as data in and bytes out.
//!
//! Server role: feed the bytes read from the socket to a [`ServerHandshake`] until it returns a
//! [`ClientOffer`] (or an error whose [`RequestError::response`] is the 400/426 reply to
//! write). Inspect the offer (host, origin, path, subprotocols, extensions), then write
//! [`ClientOffer::accept`] (the 101 response) or [`rejection_response`]`(403)`. Hand
//! [`ServerHandshake::take_remaining`] (frames the client sent right after its request) to
//! [`Connection::feed_bytes`].
//!
//! Client role: [`ClientHandshake::new`] builds the request with a fresh random key; write
//! [`ClientHandshake::request`], feed the response bytes until an [`Accepted`] comes out, then
//! hand [`ClientHandshake::take_remaining`] to the client [`Connection`].
//!
//! The HTTP/1.1 head parser ([`RequestParser`], [`ResponseParser`]) is incremental and bounded
//! ([`HandshakeLimits`]): each fed byte is scanned once (a scan offset is kept, nothing is
//! re-scanned from the start), and line length, header count and head size are checked as the
//! bytes arrive.
//!
//! [`Connection`]: crate::Connection
//! [`Connection::feed_bytes`]: crate::Connection::feed_bytes

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};
use sha1::{Digest, Sha1};

use crate::MaskKeySource;

/// The GUID appended to the key: "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Standard alphabet, padding required; trailing bits tolerated when decoding because the
/// RFC's own example key ("AQIDBAUGBwgJCgsMDQ4PEC==") has them.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Bounds for the HTTP head of a handshake. Checked as bytes arrive, before buffering more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeLimits {
    /// Longest line (request/status line or one header line, without CRLF). Default 8 KiB,
    /// the common default of HTTP servers; real handshakes stay far below it.
    pub max_line_len: usize,
    /// Most header fields. Default 64; a browser handshake sends about 15.
    pub max_headers: usize,
    /// Largest head, start line through the empty line. Default 16 KiB.
    pub max_head_len: usize,
}

impl Default for HandshakeLimits {
    fn default() -> Self {
        HandshakeLimits {
            max_line_len: 8 * 1024,
            max_headers: 64,
            max_head_len: 16 * 1024,
        }
    }
}

/// Why an HTTP head could not be parsed. Always the peer's fault (a server answers 400).
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// A line is longer than [`HandshakeLimits::max_line_len`].
    #[error("line longer than {0} bytes")]
    LineTooLong(usize),
    /// More header fields than [`HandshakeLimits::max_headers`].
    #[error("more than {0} header fields")]
    TooManyHeaders(usize),
    /// The head is larger than [`HandshakeLimits::max_head_len`].
    #[error("head larger than {0} bytes")]
    HeadTooLarge(usize),
    /// A line ends in a bare LF.
    #[error("line not terminated by CRLF")]
    BareLf,
    /// The request or status line is malformed.
    #[error("malformed start line")]
    MalformedStartLine,
    /// A header line is malformed (no colon, bad name, control characters in the value).
    #[error("malformed header field")]
    MalformedHeader,
    /// A header line starts with whitespace (obsolete line folding).
    #[error("obsolete line folding")]
    ObsoleteLineFolding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Request,
    Response,
}

#[derive(Debug, Clone)]
struct StartLine {
    // Request: method, target. Response: status code text, reason phrase.
    a: Range<usize>,
    b: Range<usize>,
    version: (u8, u8),
    status: u16,
}

/// Shared incremental head parser.
#[derive(Debug)]
struct HeadParser {
    kind: Kind,
    limits: HandshakeLimits,
    buf: BytesMut,
    /// Where the current (unterminated) line starts.
    line_start: usize,
    /// Bytes before this offset have been searched for LF already.
    scan: usize,
    start: Option<StartLine>,
    headers: Vec<(Range<usize>, Range<usize>)>,
    state: HeadState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HeadState {
    Parsing,
    Done,
    Failed(ParseError),
}

struct Head {
    bytes: Bytes,
    start: StartLine,
    headers: Vec<(Range<usize>, Range<usize>)>,
}

impl HeadParser {
    fn new(kind: Kind, limits: HandshakeLimits) -> Self {
        HeadParser {
            kind,
            limits,
            buf: BytesMut::new(),
            line_start: 0,
            scan: 0,
            start: None,
            headers: Vec::new(),
            state: HeadState::Parsing,
        }
    }

    fn feed(&mut self, data: &[u8]) -> Result<Option<Head>, ParseError> {
        match &self.state {
            HeadState::Failed(e) => return Err(*e),
            HeadState::Done => {
                self.buf.extend_from_slice(data);
                return Ok(None);
            }
            HeadState::Parsing => {}
        }
        // Never buffer more head than allowed: only copy what could still belong to it.
        let room = self.limits.max_head_len + 1 - self.buf.len().min(self.limits.max_head_len);
        let (now, _) = data.split_at(data.len().min(room));
        self.buf.extend_from_slice(now);
        match self.scan_lines() {
            Ok(Some(head)) => {
                // Bytes beyond what was copied are the start of the next protocol.
                self.buf.extend_from_slice(&data[now.len()..]);
                Ok(Some(head))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.state = HeadState::Failed(e);
                self.buf = BytesMut::new();
                Err(e)
            }
        }
    }

    /// The checks that apply while a line grows, given that the current line has `end` bytes
    /// in the buffer (before any LF). Whichever limit a byte-at-a-time feed would cross first
    /// is reported, so the result never depends on how the input was split.
    fn check_growth(&self, end: usize) -> Result<(), ParseError> {
        // The line may hold max_line_len bytes plus its CR.
        let line_limit_at = self.line_start + self.limits.max_line_len + 2;
        let head_limit_at = self.limits.max_head_len + 1;
        if end >= line_limit_at.min(head_limit_at) {
            return Err(if line_limit_at <= head_limit_at {
                ParseError::LineTooLong(self.limits.max_line_len)
            } else {
                ParseError::HeadTooLarge(self.limits.max_head_len)
            });
        }
        Ok(())
    }

    fn scan_lines(&mut self) -> Result<Option<Head>, ParseError> {
        loop {
            let Some(pos) = self.buf[self.scan..].iter().position(|&b| b == b'\n') else {
                // Only the new bytes were searched; remember where to resume.
                self.scan = self.buf.len();
                self.check_growth(self.buf.len())?;
                return Ok(None);
            };
            let lf = self.scan + pos;
            self.scan = lf + 1;
            self.check_growth(lf)?;
            if lf + 1 > self.limits.max_head_len {
                return Err(ParseError::HeadTooLarge(self.limits.max_head_len));
            }
            // HTTP/1.1: "HTTP-message = start-line *( header-field CRLF ) CRLF"
            if lf == self.line_start || self.buf[lf - 1] != b'\r' {
                return Err(ParseError::BareLf);
            }
            let line = self.line_start..lf - 1;
            self.line_start = lf + 1;
            if line.len() > self.limits.max_line_len {
                return Err(ParseError::LineTooLong(self.limits.max_line_len));
            }
            if self.start.is_none() {
                self.start = Some(self.parse_start(line)?);
            } else if line.is_empty() {
                self.state = HeadState::Done;
                let bytes = self.buf.split_to(lf + 1).freeze();
                return Ok(Some(Head {
                    bytes,
                    start: self.start.take().ok_or(ParseError::MalformedStartLine)?,
                    headers: core::mem::take(&mut self.headers),
                }));
            } else {
                if self.headers.len() == self.limits.max_headers {
                    return Err(ParseError::TooManyHeaders(self.limits.max_headers));
                }
                let h = self.parse_header(line)?;
                self.headers.push(h);
            }
        }
    }

    fn parse_start(&self, line: Range<usize>) -> Result<StartLine, ParseError> {
        let bad = ParseError::MalformedStartLine;
        let l = &self.buf[line.clone()];
        let off = line.start;
        let sp1 = l.iter().position(|&b| b == b' ').ok_or(bad)?;
        let rest = &l[sp1 + 1..];
        let sp2 = rest.iter().position(|&b| b == b' ');
        match self.kind {
            Kind::Request => {
                // "request-line = method SP request-target SP HTTP-version CRLF"
                let sp2 = sp2.ok_or(bad)? + sp1 + 1;
                let method = &l[..sp1];
                let target = &l[sp1 + 1..sp2];
                let version = parse_version(&l[sp2 + 1..]).ok_or(bad)?;
                if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
                    return Err(bad);
                }
                if target.is_empty() || !target.iter().all(|&b| (0x21..0x7F).contains(&b)) {
                    return Err(bad);
                }
                Ok(StartLine {
                    a: off..off + sp1,
                    b: off + sp1 + 1..off + sp2,
                    version,
                    status: 0,
                })
            }
            Kind::Response => {
                // "status-line = HTTP-version SP status-code SP reason-phrase CRLF"
                let version = parse_version(&l[..sp1]).ok_or(bad)?;
                let (code, reason) = match sp2 {
                    Some(p) => (&rest[..p], off + sp1 + 1 + p + 1..line.end),
                    // Tolerate a missing SP before an empty reason phrase.
                    None => (rest, line.end..line.end),
                };
                if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
                    return Err(bad);
                }
                let status = code.iter().fold(0u16, |a, &d| a * 10 + (d - b'0') as u16);
                if self.buf[reason.clone()]
                    .iter()
                    .any(|&b| b != b'\t' && (b < 0x20 || b == 0x7F))
                {
                    return Err(bad);
                }
                Ok(StartLine {
                    a: off + sp1 + 1..off + sp1 + 4,
                    b: reason,
                    version,
                    status,
                })
            }
        }
    }

    fn parse_header(&self, line: Range<usize>) -> Result<(Range<usize>, Range<usize>), ParseError> {
        let l = &self.buf[line.clone()];
        let off = line.start;
        if l[0] == b' ' || l[0] == b'\t' {
            return Err(ParseError::ObsoleteLineFolding);
        }
        // "header-field = field-name ":" OWS field-value OWS"; no whitespace before the colon.
        let colon = l
            .iter()
            .position(|&b| b == b':')
            .ok_or(ParseError::MalformedHeader)?;
        if colon == 0 || !l[..colon].iter().all(|&b| is_tchar(b)) {
            return Err(ParseError::MalformedHeader);
        }
        let mut s = colon + 1;
        let mut e = l.len();
        while s < e && (l[s] == b' ' || l[s] == b'\t') {
            s += 1;
        }
        while e > s && (l[e - 1] == b' ' || l[e - 1] == b'\t') {
            e -= 1;
        }
        if l[s..e]
            .iter()
            .any(|&b| b != b'\t' && (b < 0x20 || b == 0x7F))
        {
            return Err(ParseError::MalformedHeader);
        }
        Ok((off..off + colon, off + s..off + e))
    }

    fn take_remaining(&mut self) -> BytesMut {
        if self.state == HeadState::Done {
            core::mem::take(&mut self.buf)
        } else {
            BytesMut::new()
        }
    }
}

fn parse_version(v: &[u8]) -> Option<(u8, u8)> {
    match v {
        [b'H', b'T', b'T', b'P', b'/', maj, b'.', min]
            if maj.is_ascii_digit() && min.is_ascii_digit() =>
        {
            Some((maj - b'0', min - b'0'))
        }
        _ => None,
    }
}

/// RFC 7230 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Header fields of a parsed head, in order; names compare ASCII case-insensitively.
#[derive(Debug, Clone)]
pub struct Headers {
    bytes: Bytes,
    fields: Vec<(Range<usize>, Range<usize>)>,
}

impl Headers {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// All fields as (name, value) pairs; values are trimmed of surrounding whitespace.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.fields.iter().map(|(n, v)| {
            // Names were checked to be tchar (ASCII), so this never falls back.
            let name = core::str::from_utf8(&self.bytes[n.clone()]).unwrap_or("");
            (name, &self.bytes[v.clone()])
        })
    }

    /// All values of the fields called `name`.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The value of the field `name` if it appears exactly once; `Err(())` if it appears more
    /// than once.
    fn single(&self, name: &str) -> Result<Option<&[u8]>, ()> {
        let mut found = None;
        for (n, v) in self.iter() {
            if n.eq_ignore_ascii_case(name) {
                if found.is_some() {
                    return Err(());
                }
                found = Some(v);
            }
        }
        Ok(found)
    }

    /// The first value of the field `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether any `name` field holds a comma-separated list containing `token`
    /// (ASCII case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name).any(|v| {
            v.split(|&b| b == b',')
                .any(|t| trim_ows(t).eq_ignore_ascii_case(token.as_bytes()))
        })
    }
}

fn trim_ows(mut t: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = t {
        t = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = t {
        t = rest;
    }
    t
}

/// Splits a header list on commas that are not inside a quoted string, trimming each element
/// and dropping empty ones ("#rule" lists allow empty elements).
fn split_list(v: &[u8], out: &mut Vec<String>) -> Result<(), ()> {
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    let s = core::str::from_utf8(v).map_err(|_| ())?;
    for (i, &b) in v.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == b',' && !quoted {
            push_trimmed(&s[start..i], out);
            start = i + 1;
        }
    }
    if quoted {
        return Err(());
    }
    push_trimmed(&s[start..], out);
    Ok(())
}

fn push_trimmed(s: &str, out: &mut Vec<String>) {
    let t = s.trim_matches([' ', '\t']);
    if !t.is_empty() {
        out.push(t.to_string());
    }
}

/// A parsed HTTP/1.1 request head.
#[derive(Debug, Clone)]
pub struct Request {
    start: StartLine,
    headers: Headers,
}

impl Request {
    /// The method (a token).
    pub fn method(&self) -> &str {
        core::str::from_utf8(&self.headers.bytes[self.start.a.clone()]).unwrap_or("")
    }

    /// The request target, e.g. `/chat?room=1` (visible ASCII).
    pub fn target(&self) -> &str {
        core::str::from_utf8(&self.headers.bytes[self.start.b.clone()]).unwrap_or("")
    }

    /// The HTTP version as (major, minor).
    pub fn version(&self) -> (u8, u8) {
        self.start.version
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
}

/// A parsed HTTP/1.1 response head.
#[derive(Debug, Clone)]
pub struct Response {
    start: StartLine,
    headers: Headers,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.start.status
    }

    /// The reason phrase (raw bytes).
    pub fn reason(&self) -> &[u8] {
        &self.headers.bytes[self.start.b.clone()]
    }

    /// The HTTP version as (major, minor).
    pub fn version(&self) -> (u8, u8) {
        self.start.version
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
}

/// Incremental, bounded HTTP/1.1 request head parser.
#[derive(Debug)]
pub struct RequestParser {
    inner: HeadParser,
}

impl RequestParser {
    /// A parser with the given limits.
    pub fn new(limits: HandshakeLimits) -> Self {
        RequestParser {
            inner: HeadParser::new(Kind::Request, limits),
        }
    }

    /// Feeds bytes; returns the request once its head is complete (exactly once). Bytes after
    /// the head are kept for [`take_remaining`](Self::take_remaining). Errors are sticky.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<Request>, ParseError> {
        Ok(self.inner.feed(data)?.map(|h| Request {
            start: h.start,
            headers: Headers {
                bytes: h.bytes,
                fields: h.headers,
            },
        }))
    }

    /// The bytes received after the end of the head (empty before it).
    pub fn take_remaining(&mut self) -> BytesMut {
        self.inner.take_remaining()
    }
}

/// Incremental, bounded HTTP/1.1 response head parser.
#[derive(Debug)]
pub struct ResponseParser {
    inner: HeadParser,
}

impl ResponseParser {
    /// A parser with the given limits.
    pub fn new(limits: HandshakeLimits) -> Self {
        ResponseParser {
            inner: HeadParser::new(Kind::Response, limits),
        }
    }

    /// Feeds bytes; returns the response once its head is complete (exactly once). Bytes after
    /// the head are kept for [`take_remaining`](Self::take_remaining). Errors are sticky.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<Response>, ParseError> {
        Ok(self.inner.feed(data)?.map(|h| Response {
            start: h.start,
            headers: Headers {
                bytes: h.bytes,
                fields: h.headers,
            },
        }))
    }

    /// The bytes received after the end of the head (empty before it).
    pub fn take_remaining(&mut self) -> BytesMut {
        self.inner.take_remaining()
    }
}

/// Computes `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: "the base64-encoded SHA-1 of
/// the concatenation of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the
/// string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"".
///
/// ```
/// assert_eq!(
///     pushwire_ws::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(key);
    h.update(WEBSOCKET_GUID.as_bytes());
    B64.encode(h.finalize())
}

/// Why a server rejects a handshake request. The peer's fault; [`status`](Self::status) is
/// the HTTP status to answer with and [`response`](Self::response) the full response.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The head could not be parsed.
    #[error("malformed request: {0}")]
    Parse(#[from] ParseError),
    /// "The method of the request MUST be GET".
    #[error("method is not GET")]
    MethodNotGet,
    /// "the HTTP version MUST be at least 1.1".
    #[error("HTTP version below 1.1")]
    HttpVersion,
    /// "The request MUST contain a |Host| header field" (exactly one).
    #[error("missing or repeated Host")]
    Host,
    /// "The request MUST contain an |Upgrade| header field whose value MUST include the
    /// "websocket" keyword."
    #[error("missing Upgrade: websocket")]
    Upgrade,
    /// "The request MUST contain a |Connection| header field whose value MUST include the
    /// "Upgrade" token."
    #[error("missing Connection: upgrade")]
    Connection,
    /// Sec-WebSocket-Version missing or repeated.
    #[error("missing or repeated Sec-WebSocket-Version")]
    MissingVersion,
    /// Sec-WebSocket-Version is not 13 (answered with 426 and `Sec-WebSocket-Version: 13`).
    #[error("unsupported Sec-WebSocket-Version")]
    UnsupportedVersion,
    /// Sec-WebSocket-Key missing, repeated, or not 16 bytes of base64.
    #[error("invalid Sec-WebSocket-Key")]
    Key,
    /// A header the server reads (Origin, Sec-WebSocket-Protocol/Extensions) is malformed.
    #[error("malformed {0} header")]
    MalformedHeader(&'static str),
}

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

/// A valid client handshake, for the application to accept or reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOffer {
    host: String,
    origin: Option<String>,
    path: String,
    key: String,
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

impl ClientOffer {
    /// Validates a parsed request as a WebSocket opening handshake (RFC 6455 §4.2.1).
    pub fn from_request(req: &Request) -> Result<ClientOffer, RequestError> {
        // "The method of the request MUST be GET"
        if req.method() != "GET" {
            return Err(RequestError::MethodNotGet);
        }
        // "the HTTP version MUST be at least 1.1"
        let (maj, min) = req.version();
        if maj != 1 || min < 1 {
            return Err(RequestError::HttpVersion);
        }
        let h = req.headers();
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
        // "The value of this header field MUST be 13." Otherwise "The server MUST return a
        // 426 (Upgrade Required)".
        match h.single("sec-websocket-version") {
            Ok(Some(b"13")) => {}
            Ok(Some(_)) => return Err(RequestError::UnsupportedVersion),
            Ok(None) | Err(()) => return Err(RequestError::MissingVersion),
        }
        // "a nonce consisting of a randomly selected 16-byte value that has been
        // base64-encoded"; "MUST NOT appear more than once in an HTTP request".
        let key = match h.single("sec-websocket-key") {
            Ok(Some(k)) if is_valid_key(k) => {
                core::str::from_utf8(k).map_err(|_| RequestError::Key)?
            }
            _ => return Err(RequestError::Key),
        };
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
            path: req.target().to_string(),
            key: key.to_string(),
            protocols,
            extensions,
        })
    }

    /// The `Host` header value.
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

    /// The `Sec-WebSocket-Key` value.
    pub fn key(&self) -> &str {
        &self.key
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

    /// Builds the 101 response. `protocol` must be one of [`protocols`](Self::protocols);
    /// `extensions` is the negotiated `Sec-WebSocket-Extensions` value (each extension name in
    /// it must have been offered). After writing it, create a server [`Connection`].
    ///
    /// [`Connection`]: crate::Connection
    pub fn accept(
        &self,
        protocol: Option<&str>,
        extensions: Option<&str>,
    ) -> Result<Bytes, AcceptError> {
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
        let mut b = BytesMut::with_capacity(160);
        b.put_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
        b.put_slice(accept_key(self.key.as_bytes()).as_bytes());
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
}

fn ext_name(ext: &str) -> &str {
    ext.split(';')
        .next()
        .unwrap_or("")
        .trim_matches([' ', '\t'])
}

fn is_valid_key(k: &[u8]) -> bool {
    let mut out = [0u8; 18];
    k.len() == 24 && matches!(B64.decode_slice(k, &mut out), Ok(16))
}

/// Caller misuse when building a 101 response.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptError {
    /// The chosen subprotocol was not offered by the client.
    #[error("subprotocol not offered by the client")]
    ProtocolNotOffered,
    /// An extension in the response was not offered by the client (or the value is malformed).
    #[error("extension not offered by the client")]
    ExtensionNotOffered,
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
}

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

/// Caller misuse when building a client request.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientRequestError {
    /// A field is empty where a value is required, or contains characters not allowed there
    /// (spaces or controls in host/path, separators in a subprotocol, CR/LF anywhere).
    #[error("invalid {0} in client request")]
    Invalid(&'static str),
}

/// Why a client fails the handshake response (RFC 6455 §4.1, "the client MUST _Fail the
/// WebSocket Connection_"). The peer's fault.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// The head could not be parsed.
    #[error("malformed response: {0}")]
    Parse(#[from] ParseError),
    /// The status is not 101 (a redirect or an error page, for the application to handle).
    #[error("status {0} instead of 101")]
    Status(u16),
    /// HTTP version other than 1.x with x ≥ 1.
    #[error("HTTP version below 1.1")]
    HttpVersion,
    /// Missing `Upgrade: websocket`.
    #[error("missing Upgrade: websocket")]
    Upgrade,
    /// Missing `Connection: upgrade`.
    #[error("missing Connection: upgrade")]
    Connection,
    /// `Sec-WebSocket-Accept` missing, repeated or wrong.
    #[error("invalid Sec-WebSocket-Accept")]
    Accept,
    /// A subprotocol that was not offered (or more than one).
    #[error("subprotocol not offered")]
    Protocol,
    /// An extension that was not offered.
    #[error("extension not offered")]
    Extension,
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
}

impl ClientHandshake {
    /// Builds the handshake request with a fresh `Sec-WebSocket-Key` from `keys` ("The nonce
    /// MUST be selected randomly for each connection").
    pub fn new(
        req: &ClientRequest,
        keys: &mut dyn MaskKeySource,
        limits: HandshakeLimits,
    ) -> Result<ClientHandshake, ClientRequestError> {
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
        if !req.extensions.iter().all(|e| {
            !e.trim().is_empty() && e.bytes().all(|b| b == b'\t' || (0x20..0x7F).contains(&b))
        }) {
            return Err(ClientRequestError::Invalid("extension"));
        }
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
        })
    }

    /// The request bytes to write.
    pub fn request(&self) -> Bytes {
        self.request.clone()
    }

    /// The `Sec-WebSocket-Accept` value the server must answer with.
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FixedMaskKey;
    use alloc::vec;

    const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

    fn offer(req: &[u8]) -> Result<Option<ClientOffer>, RequestError> {
        ServerHandshake::default().feed(req)
    }

    fn with_header(name: &str, value: Option<&str>) -> Vec<u8> {
        // Replace (or drop, with None) one header of the RFC request.
        let text = core::str::from_utf8(RFC_REQUEST).unwrap();
        let mut out = String::new();
        let mut found = false;
        for line in text.split_inclusive("\r\n") {
            if line == "\r\n" && !found {
                if let Some(v) = value {
                    out.push_str(&alloc::format!("{name}: {v}\r\n"));
                }
            }
            if line
                .to_ascii_lowercase()
                .starts_with(&alloc::format!("{}:", name.to_ascii_lowercase()))
            {
                found = true;
                if let Some(v) = value {
                    out.push_str(&alloc::format!("{name}: {v}\r\n"));
                }
            } else {
                out.push_str(line);
            }
        }
        out.into_bytes()
    }

    #[test]
    fn rfc_accept_vector() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn server_parses_rfc_request_and_accepts() {
        let o = offer(RFC_REQUEST).unwrap().unwrap();
        assert_eq!(o.host(), "server.example.com");
        assert_eq!(o.origin(), Some("http://example.com"));
        assert_eq!(o.path(), "/chat");
        assert_eq!(o.protocols(), ["chat", "superchat"]);
        assert!(o.extensions().is_empty());
        let resp = o.accept(Some("chat"), None).unwrap();
        assert_eq!(
            &resp[..],
            &b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"[..]
        );
        assert_eq!(
            o.accept(Some("other"), None),
            Err(AcceptError::ProtocolNotOffered)
        );
        assert_eq!(
            o.accept(None, Some("permessage-deflate")),
            Err(AcceptError::ExtensionNotOffered)
        );
    }

    #[test]
    fn request_parser_chunk_invariant() {
        let whole = offer(RFC_REQUEST).unwrap().unwrap();
        let mut hs = ServerHandshake::default();
        let mut got = None;
        for b in RFC_REQUEST {
            if let Some(o) = hs.feed(core::slice::from_ref(b)).unwrap() {
                assert!(got.is_none());
                got = Some(o);
            }
        }
        assert_eq!(got.unwrap(), whole);
    }

    #[test]
    fn server_keeps_bytes_after_request() {
        let mut data = RFC_REQUEST.to_vec();
        data.extend_from_slice(&[0x81, 0x85, 1, 2, 3, 4]);
        let mut hs = ServerHandshake::default();
        let (a, b) = data.split_at(10);
        assert!(hs.feed(a).unwrap().is_none());
        assert!(hs.feed(b).unwrap().is_some());
        hs.feed(b"xyz").unwrap();
        assert_eq!(
            &hs.take_remaining()[..],
            &[0x81, 0x85, 1, 2, 3, 4, b'x', b'y', b'z']
        );
    }

    #[test]
    fn server_rejects_non_get() {
        let req = [b"POST".as_slice(), &RFC_REQUEST[3..]].concat();
        let e = offer(&req).unwrap_err();
        assert_eq!(e, RequestError::MethodNotGet);
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn server_rejects_http_1_0() {
        let text = core::str::from_utf8(RFC_REQUEST)
            .unwrap()
            .replace("HTTP/1.1", "HTTP/1.0");
        assert_eq!(offer(text.as_bytes()), Err(RequestError::HttpVersion));
    }

    #[test]
    fn server_requires_host() {
        assert_eq!(offer(&with_header("Host", None)), Err(RequestError::Host));
    }

    #[test]
    fn server_requires_upgrade_websocket() {
        assert_eq!(
            offer(&with_header("Upgrade", None)),
            Err(RequestError::Upgrade)
        );
        assert_eq!(
            offer(&with_header("Upgrade", Some("h2c"))),
            Err(RequestError::Upgrade)
        );
        assert!(offer(&with_header("Upgrade", Some("WebSocket")))
            .unwrap()
            .is_some());
    }

    #[test]
    fn server_connection_token_list_any_case() {
        assert!(
            offer(&with_header("Connection", Some("keep-alive, UPGRADE")))
                .unwrap()
                .is_some()
        );
        assert_eq!(
            offer(&with_header("Connection", Some("keep-alive"))),
            Err(RequestError::Connection)
        );
        assert_eq!(
            offer(&with_header("Connection", Some("upgraded"))),
            Err(RequestError::Connection)
        );
    }

    #[test]
    fn server_answers_426_to_other_versions() {
        let e = offer(&with_header("Sec-WebSocket-Version", Some("8"))).unwrap_err();
        assert_eq!(e, RequestError::UnsupportedVersion);
        assert_eq!(e.status(), 426);
        let r = e.response();
        assert!(r.starts_with(b"HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(r.windows(27).any(|w| w == b"Sec-WebSocket-Version: 13\r\n"));
        assert_eq!(
            offer(&with_header("Sec-WebSocket-Version", None)),
            Err(RequestError::MissingVersion)
        );
    }

    #[test]
    fn server_checks_key() {
        for bad in [
            None,
            Some("dGhlIHNhbXBsZSBub25jZQ"),
            Some("dGhlIHNhbXBsZSBub25j"),
            Some("dGhlIHNhbXBsZSBub25jZQ=!"),
            Some("AAAAAAAAAAAAAAAAAAAAAAAA"),
        ] {
            assert_eq!(
                offer(&with_header("Sec-WebSocket-Key", bad)),
                Err(RequestError::Key),
                "{bad:?}"
            );
        }
        // The RFC's own example key has non-zero trailing bits: accepted.
        assert!(offer(&with_header(
            "Sec-WebSocket-Key",
            Some("AQIDBAUGBwgJCgsMDQ4PEC==")
        ))
        .unwrap()
        .is_some());
        let mut dup = with_header("Sec-WebSocket-Key", None);
        let at = dup.len() - 2;
        dup.splice(
            at..at,
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                .iter()
                .copied(),
        );
        assert_eq!(offer(&dup), Err(RequestError::Key));
    }

    #[test]
    fn server_rejects_bad_subprotocol_lists() {
        for bad in ["chat, chat", "a b", "chat, \"x\""] {
            assert_eq!(
                offer(&with_header("Sec-WebSocket-Protocol", Some(bad))),
                Err(RequestError::MalformedHeader("Sec-WebSocket-Protocol")),
                "{bad}"
            );
        }
    }

    #[test]
    fn server_exposes_extensions() {
        let o = offer(&with_header(
            "Sec-WebSocket-Extensions",
            Some("permessage-deflate; client_max_window_bits, x-foo; a=\"1,2\""),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            o.extensions(),
            [
                "permessage-deflate; client_max_window_bits",
                "x-foo; a=\"1,2\""
            ]
        );
        assert!(o.accept(None, Some("permessage-deflate")).is_ok());
    }

    #[test]
    fn parser_limits() {
        let limits = HandshakeLimits {
            max_line_len: 40,
            max_headers: 3,
            max_head_len: 120,
        };
        let mut p = RequestParser::new(limits);
        assert_eq!(
            p.feed(&[b'a'; 50]).unwrap_err(),
            ParseError::LineTooLong(40)
        );
        // Sticky.
        assert_eq!(p.feed(b"\r\n").unwrap_err(), ParseError::LineTooLong(40));
        let mut p = RequestParser::new(limits);
        let mut req = b"GET / HTTP/1.1\r\n".to_vec();
        for _ in 0..4 {
            req.extend_from_slice(b"A: b\r\n");
        }
        assert_eq!(p.feed(&req).unwrap_err(), ParseError::TooManyHeaders(3));
        let mut p = RequestParser::new(HandshakeLimits {
            max_headers: 100,
            ..limits
        });
        let mut req = b"GET / HTTP/1.1\r\n".to_vec();
        for _ in 0..20 {
            req.extend_from_slice(b"A: b\r\n");
        }
        assert_eq!(p.feed(&req).unwrap_err(), ParseError::HeadTooLarge(120));
    }

    #[test]
    fn parser_rejects_malformed_lines() {
        let cases: [(&[u8], ParseError); 5] = [
            (b"GET / HTTP/1.1\nHost: a\r\n\r\n", ParseError::BareLf),
            (b"GET  / HTTP/1.1\r\n\r\n", ParseError::MalformedStartLine),
            (
                b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
                ParseError::MalformedHeader,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
                ParseError::ObsoleteLineFolding,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",
                ParseError::MalformedHeader,
            ),
        ];
        for (req, err) in cases {
            assert_eq!(
                RequestParser::new(HandshakeLimits::default())
                    .feed(req)
                    .unwrap_err(),
                err
            );
        }
    }

    #[test]
    fn rejection_responses() {
        assert_eq!(
            &rejection_response(403)[..],
            b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        );
        assert!(rejection_response(400).starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    }

    fn client() -> ClientHandshake {
        let mut req = ClientRequest::new("example.com:8080", "/chat?x=1");
        req.origin = Some("http://example.com".into());
        req.protocols = vec!["chat".into(), "superchat".into()];
        req.extensions = vec!["permessage-deflate".into()];
        ClientHandshake::new(
            &req,
            &mut FixedMaskKey([1, 2, 3, 4]),
            HandshakeLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn client_request_is_a_valid_offer() {
        let c = client();
        let o = offer(&c.request()).unwrap().unwrap();
        assert_eq!(o.host(), "example.com:8080");
        assert_eq!(o.path(), "/chat?x=1");
        assert_eq!(o.key(), "AQIDBAECAwQBAgMEAQIDBA==");
        assert_eq!(o.protocols(), ["chat", "superchat"]);
        assert_eq!(o.extensions(), ["permessage-deflate"]);
        assert_eq!(accept_key(o.key().as_bytes()), c.expected_accept());
    }

    #[test]
    fn client_verifies_101_and_keeps_early_frames() {
        let mut c = client();
        let o = offer(&c.request()).unwrap().unwrap();
        let mut resp = o.accept(Some("superchat"), None).unwrap().to_vec();
        resp.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
        for b in &resp[..resp.len() - 5] {
            assert_eq!(c.feed(core::slice::from_ref(b)), Ok(None));
        }
        let acc = c.feed(&resp[resp.len() - 5..]).unwrap().unwrap();
        assert_eq!(acc.protocol.as_deref(), Some("superchat"));
        assert_eq!(&c.take_remaining()[..], &[0x81, 0x02, b'h', b'i']);
    }

    fn response_with(c: &ClientHandshake, extra: &str, accept: Option<&str>) -> String {
        let mut s = String::from(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
        );
        if let Some(a) = accept.or(Some(c.expected_accept())) {
            if !a.is_empty() {
                s.push_str(&alloc::format!("Sec-WebSocket-Accept: {a}\r\n"));
            }
        }
        s.push_str(extra);
        s.push_str("\r\n");
        s
    }

    #[test]
    fn client_rejects_bad_responses() {
        let mut c = client();
        assert_eq!(
            c.feed(b"HTTP/1.1 403 Forbidden\r\n\r\n"),
            Err(ResponseError::Status(403))
        );
        let c = client();
        let cases = [
            (
                response_with(&c, "", Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")),
                ResponseError::Accept,
            ),
            (response_with(&c, "", Some("")), ResponseError::Accept),
            (
                response_with(&c, "Sec-WebSocket-Protocol: other\r\n", None),
                ResponseError::Protocol,
            ),
            (
                response_with(&c, "Sec-WebSocket-Extensions: x-foo\r\n", None),
                ResponseError::Extension,
            ),
            (
                response_with(&c, "", None).replace("Upgrade: websocket\r\n", ""),
                ResponseError::Upgrade,
            ),
            (
                response_with(&c, "", None).replace("Connection: Upgrade", "Connection: close"),
                ResponseError::Connection,
            ),
        ];
        for (resp, err) in cases {
            let mut c = client();
            assert_eq!(c.feed(resp.as_bytes()), Err(err.clone()), "{resp}");
        }
        let mut c = client();
        let ok = response_with(&c, "Sec-WebSocket-Extensions: permessage-deflate\r\n", None);
        assert_eq!(
            c.feed(ok.as_bytes()).unwrap().unwrap().extensions,
            ["permessage-deflate"]
        );
    }

    #[test]
    fn client_request_validation() {
        let bad = ClientRequest::new("exa mple.com", "/");
        assert_eq!(
            ClientHandshake::new(&bad, &mut FixedMaskKey([0; 4]), HandshakeLimits::default())
                .unwrap_err(),
            ClientRequestError::Invalid("host")
        );
        let bad = ClientRequest::new("a", "/\r\nX: y");
        assert!(
            ClientHandshake::new(&bad, &mut FixedMaskKey([0; 4]), HandshakeLimits::default())
                .is_err()
        );
    }
}

#[cfg(test)]
mod chunking_tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    fn small() -> HandshakeLimits {
        HandshakeLimits {
            max_line_len: 32,
            max_headers: 4,
            max_head_len: 96,
        }
    }

    fn outcome(data: &[u8], cuts: &[usize]) -> (Result<Option<Request>, ParseError>, Vec<u8>) {
        let mut p = RequestParser::new(small());
        let mut start = 0;
        let mut points: Vec<usize> = cuts.iter().map(|&c| c.min(data.len())).collect();
        points.sort_unstable();
        points.push(data.len());
        let mut result = Ok(None);
        for c in points {
            let c = c.max(start);
            match p.feed(&data[start..c]) {
                Ok(None) => {}
                r => {
                    if matches!(result, Ok(None)) {
                        result = r;
                    }
                }
            }
            start = c;
            if result.is_err() {
                break;
            }
        }
        (result, p.take_remaining().to_vec())
    }

    fn same(
        a: &(Result<Option<Request>, ParseError>, Vec<u8>),
        b: &(Result<Option<Request>, ParseError>, Vec<u8>),
    ) -> bool {
        let ra = a.0.as_ref().map(|o| {
            o.as_ref()
                .map(|r| (r.method(), r.target(), r.headers().len()))
        });
        let rb = b.0.as_ref().map(|o| {
            o.as_ref()
                .map(|r| (r.method(), r.target(), r.headers().len()))
        });
        ra == rb && a.1 == b.1
    }

    #[test]
    fn long_line_with_bare_lf_reports_the_same_error_whole_or_bytewise() {
        // Found by the ws_handshake_request fuzz target.
        let mut data = b"GET / HTTP/1.1\r\nA: ".to_vec();
        data.extend_from_slice(&[b'x'; 40]);
        data.push(b'\n');
        let whole = outcome(&data, &[]);
        let bytewise = outcome(&data, &(0..data.len()).collect::<Vec<_>>());
        assert_eq!(whole.0.as_ref().unwrap_err(), &ParseError::LineTooLong(32));
        assert!(same(&whole, &bytewise));
    }

    proptest! {
        #[test]
        fn prop_request_parser_chunk_invariant(
            prefix in proptest::sample::select(vec![
                &b""[..],
                b"GET / HTTP/1.1\r\n",
                b"GET /chat HTTP/1.1\r\nHost: a\r\n",
            ]),
            body in proptest::collection::vec(
                proptest::sample::select(b"ab: \r\n\t\x01GET/HTTP1.".to_vec()), 0..120),
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            let mut data = prefix.to_vec();
            data.extend_from_slice(&body);
            let whole = outcome(&data, &[]);
            let bytewise = outcome(&data, &(0..data.len()).collect::<Vec<_>>());
            let split = outcome(&data, &cuts);
            prop_assert!(same(&whole, &bytewise));
            prop_assert!(same(&whole, &split));
        }
    }
}
