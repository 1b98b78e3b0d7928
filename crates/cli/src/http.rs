//! The demo server's HTTP/1.1 vocabulary: the request head (read with limits on size,
//! header count and time), writes that give up when the peer stops reading, short
//! responses and the event-stream response head. A leaf module: the handlers (`serve`,
//! `demo`, `eio`, `wslink`) use it; it uses none of them.

use std::io;
use std::time::Duration;

use pushwire_sse::server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most bytes of request head read before answering 431.
const MAX_HEAD: usize = 16 * 1024;
/// Most header lines in a request head.
const MAX_HEADERS: usize = 100;
/// A write that makes no progress for this long ends the connection.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a request head to arrive.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle event stream gets a keep-alive comment.
pub(crate) const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

/// A parsed request head, with the raw bytes kept for the WebSocket handshake parser.
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    /// Header names lowercased, values trimmed.
    pub(crate) headers: Vec<(String, String)>,
    /// The head exactly as received (request line to blank line).
    pub(crate) raw_head: Vec<u8>,
    /// Bytes that arrived after the head in the same reads.
    pub(crate) leftover: Vec<u8>,
    /// Raw value of the `Last-Event-ID` header, if any.
    pub(crate) last_event_id: Option<Vec<u8>>,
}

impl Request {
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }

    pub(crate) fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The first value of header `name` (lowercase).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) enum Head {
    Closed,
    Bad(&'static str, &'static str),
    Ok(Request),
}

/// Position just after the blank line ending a head, if `buf` holds one.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        let rest = &buf[nl + 1..];
        if rest.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        if rest.starts_with(b"\n") {
            return Some(nl + 2);
        }
        i = nl + 1;
    }
    None
}

pub(crate) async fn read_head(stream: &mut TcpStream) -> io::Result<Head> {
    // The whole head must arrive within HEAD_TIMEOUT, not each read (slow-loris).
    let deadline = tokio::time::Instant::now() + HEAD_TIMEOUT;
    // Read straight into `buf` (no array in the future: it would live as long as the
    // connection's task).
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let end = loop {
        if let Some(end) = head_end(&buf) {
            break end;
        }
        if buf.len() >= MAX_HEAD {
            return Ok(Head::Bad(
                "431 Request Header Fields Too Large",
                "request head too large\n",
            ));
        }
        buf.reserve(1024);
        let n = match tokio::time::timeout_at(deadline, stream.read_buf(&mut buf)).await {
            Ok(r) => r?,
            Err(_) => {
                return Ok(if buf.is_empty() {
                    Head::Closed
                } else {
                    Head::Bad("408 Request Timeout", "request head too slow\n")
                })
            }
        };
        if n == 0 {
            return Ok(if buf.is_empty() {
                Head::Closed
            } else {
                Head::Bad("400 Bad Request", "truncated request head\n")
            });
        }
    };
    let leftover = buf.split_off(end);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(Head::Bad("400 Bad Request", "bad request line\n"));
    };
    if !version.starts_with("HTTP/1.") {
        return Ok(Head::Bad(
            "505 HTTP Version Not Supported",
            "HTTP/1.x only\n",
        ));
    }
    if !target.starts_with('/') {
        return Ok(Head::Bad("400 Bad Request", "bad request target\n"));
    }
    let mut req = Request {
        method: method.to_string(),
        target: target.to_string(),
        headers: Vec::new(),
        raw_head: Vec::new(),
        leftover,
        last_event_id: None,
    };
    for l in lines.filter(|l| !l.is_empty()) {
        let Some((k, v)) = l.split_once(':') else {
            return Ok(Head::Bad("400 Bad Request", "malformed header\n"));
        };
        if k.is_empty() || k.ends_with([' ', '\t']) {
            return Ok(Head::Bad("400 Bad Request", "malformed header\n"));
        }
        if req.headers.len() >= MAX_HEADERS {
            return Ok(Head::Bad(
                "431 Request Header Fields Too Large",
                "too many headers\n",
            ));
        }
        req.headers.push((
            k.to_ascii_lowercase(),
            v.trim_matches([' ', '\t']).to_string(),
        ));
    }
    // The raw value, as pushwire-sse's resume helpers expect it.
    if let Some(colon) = buf
        .windows(15)
        .position(|w| w.eq_ignore_ascii_case(b"\nlast-event-id:"))
    {
        let start = colon + 15;
        let len = buf[start..].iter().position(|&b| b == b'\n').unwrap_or(0);
        let v = &buf[start..start + len];
        req.last_event_id = Some(v.strip_suffix(b"\r").unwrap_or(v).to_vec());
    }
    req.raw_head = buf;
    Ok(Head::Ok(req))
}

/// Writes all of `bytes`, failing when a write makes no progress for [`WRITE_TIMEOUT`].
pub(crate) async fn write_all(stream: &mut TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match tokio::time::timeout(WRITE_TIMEOUT, stream.write(bytes)).await {
            Ok(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(Ok(n)) => bytes = &bytes[n..],
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
        }
    }
    Ok(())
}

/// Writes a complete response with `Connection: close`.
pub(crate) async fn respond(
    stream: &mut TcpStream,
    status: &str,
    ctype: &str,
    body: &[u8],
) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    write_all(stream, &out).await
}

/// The response head of an event stream (pushwire-sse's headers, `Connection: close`).
pub(crate) fn sse_head() -> Vec<u8> {
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    for (k, v) in server::RESPONSE_HEADERS {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    head.into_bytes()
}
