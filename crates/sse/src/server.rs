//! Helpers for the server side of an event stream: what to send before the first event, how
//! to keep the connection alive, and where a reconnecting client wants to resume.

use alloc::string::String;
use alloc::vec::Vec;

/// The response headers of an event stream.
///
/// * `Content-Type: text/event-stream; charset=utf-8` — "This event stream format's MIME type
///   is `text/event-stream`", and "Event streams in this format must always be encoded as
///   UTF-8".
/// * `Cache-Control: no-cache` — no cache may replay a live stream.
/// * `X-Accel-Buffering: no` — tells nginx-style reverse proxies not to buffer the response,
///   which would delay every event.
pub const RESPONSE_HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "text/event-stream; charset=utf-8"),
    ("Cache-Control", "no-cache"),
    ("X-Accel-Buffering", "no"),
];

/// A comment line to send on an idle stream, so that proxies do not drop the connection
/// ("authors can include a comment line (one starting with a ':' character) every 15 seconds
/// or so"). Parsers ignore it; send it between events.
pub const KEEP_ALIVE: &[u8] = b": keep-alive\n";

/// Length of [`PADDING`]: 2 KiB.
pub const PADDING_LEN: usize = 2048;

/// A 2 KiB comment (a colon, spaces, LF) to send once at the start of a stream for legacy
/// polyfills (XDomainRequest / old IE `EventSource` shims), which deliver nothing until the
/// first 2 KiB of the response have arrived. Parsers ignore it.
pub const PADDING: &[u8; PADDING_LEN] = &{
    let mut p = [b' '; PADDING_LEN];
    p[0] = b':';
    p[PADDING_LEN - 1] = b'\n';
    p
};

/// The resume point sent by a reconnecting browser in its `Last-Event-ID` header, given the
/// header's raw value. Browsers send the id as raw UTF-8; invalid UTF-8 is replaced by U+FFFD
/// as the parser would. Surrounding spaces and tabs (HTTP optional whitespace) are removed.
/// `None` when the value is empty.
pub fn last_event_id_from_header(value: &[u8]) -> Option<String> {
    let start = value.iter().position(|&b| b != b' ' && b != b'\t')?;
    let end = value.iter().rposition(|&b| b != b' ' && b != b'\t')? + 1;
    Some(String::from_utf8_lossy(&value[start..end]).into_owned())
}

/// The resume point in a `lastEventId` query parameter (sent by polyfills that cannot set
/// headers), given the query string without the leading `?`. The value is
/// `application/x-www-form-urlencoded` decoded (`+` is a space, `%XX` a byte; a malformed `%`
/// escape is kept literally). The first `lastEventId` parameter wins. `None` when absent or
/// empty.
pub fn last_event_id_from_query(query: &str) -> Option<String> {
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if form_decode(name.as_bytes()) == b"lastEventId" {
            let v = form_decode(value.as_bytes());
            if v.is_empty() {
                return None;
            }
            return Some(String::from_utf8_lossy(&v).into_owned());
        }
    }
    None
}

/// The resume point of a request: the `Last-Event-ID` header if present and not empty, else
/// the `lastEventId` query parameter.
pub fn resume_point(header: Option<&[u8]>, query: Option<&str>) -> Option<String> {
    header
        .and_then(last_event_id_from_header)
        .or_else(|| query.and_then(last_event_id_from_query))
}

fn form_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                s.get(i + 1).copied().and_then(hex),
                s.get(i + 2).copied().and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Parser;

    #[test]
    fn padding_is_a_2k_comment_the_parser_ignores() {
        assert_eq!(PADDING.len(), 2048);
        assert_eq!(PADDING[0], b':');
        assert_eq!(PADDING[2047], b'\n');
        let mut p = Parser::new();
        p.feed(PADDING).unwrap();
        p.feed(KEEP_ALIVE).unwrap();
        p.feed(b"data: x\n\n").unwrap();
        assert_eq!(p.poll_event().unwrap().unwrap().data(), "x");
        assert_eq!(p.poll_event(), Ok(None));
    }

    #[test]
    fn header_resume_point() {
        assert_eq!(last_event_id_from_header(b" 12,7 "), Some("12,7".into()));
        assert_eq!(last_event_id_from_header(b""), None);
        assert_eq!(last_event_id_from_header(b" \t"), None);
        assert_eq!(last_event_id_from_header("é".as_bytes()), Some("é".into()));
        assert_eq!(
            last_event_id_from_header(b"a\xffb"),
            Some("a\u{FFFD}b".into())
        );
    }

    #[test]
    fn query_resume_point() {
        assert_eq!(
            last_event_id_from_query("padding=1&lastEventId=40%2C5"),
            Some("40,5".into())
        );
        assert_eq!(
            last_event_id_from_query("lastEventId=a+b%zz"),
            Some("a b%zz".into())
        );
        assert_eq!(last_event_id_from_query("lastEventId="), None);
        assert_eq!(last_event_id_from_query("lasteventid=3"), None);
        assert_eq!(
            last_event_id_from_query("x=1&lastEventId=%C3%A9&lastEventId=2"),
            Some("é".into())
        );
        assert_eq!(last_event_id_from_query("lastEventId=%"), Some("%".into()));
        assert_eq!(
            last_event_id_from_query("lastEventId=%4"),
            Some("%4".into())
        );
    }

    #[test]
    fn query_escapes_take_lower_case_hex_digits() {
        // A percent-encoded byte is `%` and two ASCII hex digits, either case (URL standard).
        assert_eq!(
            last_event_id_from_query("lastEventId=%c3%a9%2c%6a%6B%6c%6D%6e%6F%7a"),
            Some("é,jklmnoz".into())
        );
        assert_eq!(
            last_event_id_from_query("lastEventId=%af%AF%Fa%bc"),
            Some("\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}".into())
        );
        assert_eq!(
            last_event_id_from_query("lastEventId=%g1%1g"),
            Some("%g1%1g".into())
        );
    }

    #[test]
    fn header_wins_over_query() {
        assert_eq!(
            resume_point(Some(b"7"), Some("lastEventId=3")),
            Some("7".into())
        );
        assert_eq!(
            resume_point(Some(b""), Some("lastEventId=3")),
            Some("3".into())
        );
        assert_eq!(resume_point(None, None), None);
    }
}
