//! The incremental, bounded HTTP/1.1 head parser both roles share, and the parsed
//! [`Request`] / [`Response`] heads with their [`Headers`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;

use bytes::{Bytes, BytesMut};

use crate::config::HandshakeLimits;
use crate::error::ParseError;

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
                ParseError::LineTooLong {
                    limit: self.limits.max_line_len,
                }
            } else {
                ParseError::HeadTooLarge {
                    limit: self.limits.max_head_len,
                }
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
                return Err(ParseError::HeadTooLarge {
                    limit: self.limits.max_head_len,
                });
            }
            // HTTP/1.1: "HTTP-message = start-line *( header-field CRLF ) CRLF"
            if lf == self.line_start || self.buf[lf - 1] != b'\r' {
                return Err(ParseError::BareLf);
            }
            let line = self.line_start..lf - 1;
            self.line_start = lf + 1;
            if line.len() > self.limits.max_line_len {
                return Err(ParseError::LineTooLong {
                    limit: self.limits.max_line_len,
                });
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
                    return Err(ParseError::TooManyHeaders {
                        limit: self.limits.max_headers,
                    });
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
pub(super) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Header fields of a parsed head, in order; names compare ASCII case-insensitively.
#[derive(Debug, Clone)]
pub struct Headers {
    bytes: Bytes,
    fields: Vec<(Range<usize>, Range<usize>)>,
}

impl Headers {
    /// Header fields parsed by another HTTP stack (an `http::HeaderMap`, HTTP/2's HPACK
    /// decoder), for [`ClientOffer::from_parts`](super::ClientOffer::from_parts) and
    /// [`ClientOffer::from_extended_connect`](super::ClientOffer::from_extended_connect).
    /// Values are trimmed of surrounding spaces and tabs, as the parser does; nothing else is
    /// checked (the stack that parsed them did).
    pub fn from_pairs<'a, I>(pairs: I) -> Headers
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let mut bytes = BytesMut::new();
        let mut fields = Vec::new();
        for (name, value) in pairs {
            let value = trim_ows(value);
            let n = bytes.len()..bytes.len() + name.len();
            bytes.extend_from_slice(name.as_bytes());
            let v = bytes.len()..bytes.len() + value.len();
            bytes.extend_from_slice(value);
            fields.push((n, v));
        }
        Headers {
            bytes: bytes.freeze(),
            fields,
        }
    }

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
    pub(super) fn single(&self, name: &str) -> Result<Option<&[u8]>, ()> {
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
pub(super) fn split_list(v: &[u8], out: &mut Vec<String>) -> Result<(), ()> {
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

pub(super) fn ext_name(ext: &str) -> &str {
    ext.split(';')
        .next()
        .unwrap_or("")
        .trim_matches([' ', '\t'])
}
