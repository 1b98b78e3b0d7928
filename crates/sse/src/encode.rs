//! The encoder: events in, `text/event-stream` bytes out.
//!
//! Validation happens when an [`EventBuilder`] is built; encoding it into a buffer cannot fail.
//! Every event the builder accepts is read back by a conforming parser (this crate's, or a
//! browser's `EventSource`) as exactly that event: data split on CRLF, LF or CR arrives joined
//! with LF, and a value's own leading space survives.

use bytes::{BufMut, Bytes, BytesMut};

pub use crate::error::EncodeError;

/// An event to send. Build it with the methods below, then [`EventBuilder::encode`] it into
/// your buffer (any [`BufMut`]: `BytesMut`, `Vec<u8>`, ...) or take it as
/// [`EventBuilder::to_bytes`]. (Events *received* are [`crate::Event`].)
///
/// The fields are written in the order `: comment`, `retry`, `event`, `id`, `data`, then the
/// blank line that dispatches the event. An event without [`EventBuilder::data`] dispatches
/// nothing in a browser but still sets the id and retry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventBuilder<'a> {
    comment: Option<&'a str>,
    retry: Option<u64>,
    event: Option<&'a str>,
    id: Option<&'a str>,
    data: Option<&'a str>,
}

impl<'a> EventBuilder<'a> {
    /// An empty event (encodes to a lone blank line).
    #[must_use]
    pub const fn new() -> EventBuilder<'a> {
        EventBuilder {
            comment: None,
            retry: None,
            event: None,
            id: None,
            data: None,
        }
    }

    /// Sets the data. Any text is allowed: it is split at CRLF, LF and CR into `data:` lines,
    /// which a parser joins with LF.
    #[must_use]
    pub fn data(mut self, data: &'a str) -> EventBuilder<'a> {
        self.data = Some(data);
        self
    }

    /// Sets the event type. An empty type means `message`. Refused if it contains CR or LF.
    pub fn event(mut self, event_type: &'a str) -> Result<EventBuilder<'a>, EncodeError> {
        if has_newline(event_type) {
            return Err(EncodeError::EventTypeHasNewline);
        }
        self.event = Some(event_type);
        Ok(self)
    }

    /// Sets the id (the empty string resets the client's last event ID). Refused if it
    /// contains CR, LF or NUL.
    pub fn id(mut self, id: &'a str) -> Result<EventBuilder<'a>, EncodeError> {
        if has_newline(id) {
            return Err(EncodeError::IdHasNewline);
        }
        if id.as_bytes().contains(&0) {
            return Err(EncodeError::IdHasNul);
        }
        self.id = Some(id);
        Ok(self)
    }

    /// Sets the client's reconnection time in milliseconds.
    #[must_use]
    pub fn retry(mut self, millis: u64) -> EventBuilder<'a> {
        self.retry = Some(millis);
        self
    }

    /// Adds a comment before the fields (split into several comment lines at line ends).
    /// Parsers ignore comments.
    #[must_use]
    pub fn comment(mut self, text: &'a str) -> EventBuilder<'a> {
        self.comment = Some(text);
        self
    }

    /// The exact number of bytes [`EventBuilder::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        let mut n = 1; // the blank line
        if let Some(c) = self.comment {
            n += lines_len(c, 0);
        }
        if let Some(r) = self.retry {
            n += "retry: \n".len() + decimal_len(r);
        }
        if let Some(e) = self.event {
            n += field_len("event", e);
        }
        if let Some(i) = self.id {
            n += field_len("id", i);
        }
        if let Some(d) = self.data {
            n += lines_len(d, "data".len());
        }
        n
    }

    /// Appends the encoded event ([`EventBuilder::encoded_len`] bytes) to `out`. Cannot fail:
    /// the values were checked when the builder was built. `out` grows as needed (`BytesMut`,
    /// `Vec<u8>`); to grow it once, reserve [`EventBuilder::encoded_len`] first. A buffer that
    /// cannot grow (`&mut [u8]`) must have that much room, or `BufMut` panics.
    pub fn encode<B: BufMut>(&self, out: &mut B) {
        if let Some(c) = self.comment {
            put_lines(out, b"", c);
        }
        if let Some(r) = self.retry {
            out.put_slice(b"retry: ");
            put_decimal(out, r);
            out.put_u8(b'\n');
        }
        if let Some(e) = self.event {
            put_field(out, b"event", e.as_bytes());
        }
        if let Some(i) = self.id {
            put_field(out, b"id", i.as_bytes());
        }
        if let Some(d) = self.data {
            put_lines(out, b"data", d);
        }
        out.put_u8(b'\n');
    }

    /// The encoded event as one [`Bytes`].
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }
}

/// Appends comment lines (`: text`) for `text`, one per line of it. Parsers ignore them; a
/// comment between events keeps idle connections alive through proxies.
pub fn encode_comment<B: BufMut>(text: &str, out: &mut B) {
    put_lines(out, b"", text);
}

fn has_newline(s: &str) -> bool {
    memchr::memchr2(b'\r', b'\n', s.as_bytes()).is_some()
}

/// `name: value\n`, or `name:\n` for an empty value. A value starting with a space gets the
/// separator space too, since "If value starts with a U+0020 SPACE character, remove it from
/// value" removes exactly one.
fn put_field<B: BufMut>(out: &mut B, name: &[u8], value: &[u8]) {
    out.put_slice(name);
    if value.is_empty() {
        out.put_slice(b":\n");
    } else {
        out.put_slice(b": ");
        out.put_slice(value);
        out.put_u8(b'\n');
    }
}

fn field_len(name: &str, value: &str) -> usize {
    name.len() + if value.is_empty() { 2 } else { 3 + value.len() }
}

/// One `name: line` per line of `text`, split at CRLF, LF or CR ("Lines must be separated by
/// either a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair, a single U+000A
/// LINE FEED (LF) character, or a single U+000D CARRIAGE RETURN (CR) character.")
fn put_lines<B: BufMut>(out: &mut B, name: &[u8], text: &str) {
    for line in Lines(Some(text.as_bytes())) {
        put_field(out, name, line);
    }
}

fn lines_len(text: &str, name_len: usize) -> usize {
    Lines(Some(text.as_bytes()))
        .map(|l| name_len + if l.is_empty() { 2 } else { 3 + l.len() })
        .sum()
}

/// Splits at CRLF, LF and CR; always yields at least one (possibly empty) line, and an empty
/// last line after a trailing line end.
struct Lines<'a>(Option<&'a [u8]>);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.0?;
        match memchr::memchr2(b'\r', b'\n', rest) {
            Some(i) => {
                let crlf = rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n');
                self.0 = Some(&rest[i + if crlf { 2 } else { 1 }..]);
                Some(&rest[..i])
            }
            None => {
                self.0 = None;
                Some(rest)
            }
        }
    }
}

fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

fn put_decimal<B: BufMut>(out: &mut B, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(e: EventBuilder<'_>) -> Bytes {
        let b = e.to_bytes();
        assert_eq!(b.len(), e.encoded_len(), "encoded_len is exact");
        let mut v = b"before".to_vec();
        e.encode(&mut v);
        assert_eq!(v[6..], b[..], "any BufMut, appended");
        b
    }

    #[test]
    fn data_lines_split_on_every_line_end() {
        let b = enc(EventBuilder::new().data("a\r\nb\nc\rd"));
        assert_eq!(&b[..], b"data: a\ndata: b\ndata: c\ndata: d\n\n");
    }

    #[test]
    fn empty_and_trailing_lines_are_kept() {
        assert_eq!(&enc(EventBuilder::new().data(""))[..], b"data:\n\n");
        assert_eq!(
            &enc(EventBuilder::new().data("x\n"))[..],
            b"data: x\ndata:\n\n"
        );
        assert_eq!(
            &enc(EventBuilder::new().data("\r\n"))[..],
            b"data:\ndata:\n\n"
        );
    }

    #[test]
    fn leading_space_survives() {
        assert_eq!(&enc(EventBuilder::new().data(" x"))[..], b"data:  x\n\n");
        assert_eq!(
            &enc(EventBuilder::new().event(" t").unwrap().id(" 1").unwrap())[..],
            b"event:  t\nid:  1\n\n"
        );
    }

    #[test]
    fn injection_is_refused() {
        assert_eq!(
            EventBuilder::new().event("a\nb"),
            Err(EncodeError::EventTypeHasNewline)
        );
        assert_eq!(
            EventBuilder::new().event("a\rb"),
            Err(EncodeError::EventTypeHasNewline)
        );
        assert_eq!(
            EventBuilder::new().id("1\r\ndata: x"),
            Err(EncodeError::IdHasNewline)
        );
        assert_eq!(EventBuilder::new().id("1\0"), Err(EncodeError::IdHasNul));
    }

    #[test]
    fn all_fields_in_order() {
        let e = EventBuilder::new()
            .comment("hi\nthere")
            .retry(1500)
            .event("tick")
            .unwrap()
            .id("")
            .unwrap()
            .data("d");
        assert_eq!(
            &enc(e)[..],
            b": hi\n: there\nretry: 1500\nevent: tick\nid:\ndata: d\n\n"
        );
        assert_eq!(&enc(EventBuilder::new().retry(0))[..], b"retry: 0\n\n");
        assert_eq!(
            &enc(EventBuilder::new().retry(u64::MAX))[..],
            b"retry: 18446744073709551615\n\n"
        );
    }

    #[test]
    fn comment_helper() {
        let mut out = BytesMut::new();
        encode_comment("", &mut out);
        encode_comment("keep-alive", &mut out);
        assert_eq!(&out[..], b":\n: keep-alive\n");
    }
}
