//! What a response means for the session: announce the connection, stop, or fail it
//! (processing model step 15 of the `EventSource` constructor).

use alloc::string::String;

use super::action::CloseReason;
use crate::error::FailReason;

/// The essence of `text/event-stream`.
const EVENT_STREAM: &[u8] = b"text/event-stream";

/// Longest `Content-Type` value kept in [`FailReason::ContentType`].
const MAX_REPORTED: usize = 128;

/// Whether a `Content-Type` header value is `text/event-stream`: its MIME type essence (the
/// part before any `;`, without surrounding HTTP whitespace) compared ASCII
/// case-insensitively, as the MIME Sniffing Standard's "parse a MIME type" does (type and
/// subtype are lowercased; parameters such as `charset=utf-8` do not change the type). The
/// HTTP layer gives the one value (or the last, if the header was sent several times).
///
/// ```
/// use pushwire_sse::client::is_event_stream;
///
/// assert!(is_event_stream(b"text/event-stream"));
/// assert!(is_event_stream(b"TEXT/Event-Stream; charset=utf-8"));
/// assert!(!is_event_stream(b"text/plain"));
/// assert!(!is_event_stream(b"text/event-streams"));
/// ```
pub fn is_event_stream(content_type: &[u8]) -> bool {
    let essence = match content_type.iter().position(|&b| b == b';') {
        Some(i) => &content_type[..i],
        None => content_type,
    };
    trim_http_whitespace(essence).eq_ignore_ascii_case(EVENT_STREAM)
}

/// Without leading and trailing HTTP whitespace (tab, LF, CR, space).
fn trim_http_whitespace(mut s: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b'\t' | b'\n' | b'\r' | b' ');
    while let [first, rest @ ..] = s {
        if !ws(first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !ws(last) {
            break;
        }
        s = rest;
    }
    s
}

/// What a response does to the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// "announce the connection and interpret res's body line by line"
    Announce,
    /// The server asked the client to stop.
    Close(CloseReason),
    /// "fail the connection"
    Fail(FailReason),
}

/// Steps 15.3 and 15.4 of the `EventSource` constructor for a response that is not a network
/// error.
pub(super) fn verdict(status: u16, content_type: Option<&[u8]>) -> Verdict {
    // "a client can be told to stop reconnecting using the HTTP 204 No Content response
    // code." (The processing model fails the connection for every status but 200; 204 is the
    // server's normal way to say "no more", so it is a close, not a failure.)
    if status == 204 {
        return Verdict::Close(CloseReason::NoContent);
    }
    // "3. Otherwise, if res's status is not 200, or if res's `Content-Type` is not
    // `text/event-stream`, then fail the connection."
    if status != 200 {
        return Verdict::Fail(FailReason::Status { status });
    }
    match content_type {
        Some(ct) if is_event_stream(ct) => Verdict::Announce,
        _ => Verdict::Fail(FailReason::ContentType {
            // The first bytes only: the report stays small whatever the server sent.
            content_type: content_type
                .map(|ct| String::from_utf8_lossy(&ct[..ct.len().min(MAX_REPORTED)]).into_owned()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_stream_with_parameters_and_any_case_is_accepted() {
        for ct in [
            &b"text/event-stream"[..],
            b"text/event-stream; charset=utf-8",
            b"text/event-stream;charset=UTF-8",
            b"TEXT/Event-Stream",
            b" text/event-stream \t",
            b"text/event-stream ; foo",
            b"text/event-stream;",
        ] {
            assert!(is_event_stream(ct), "{:?}", String::from_utf8_lossy(ct));
            assert_eq!(verdict(200, Some(ct)), Verdict::Announce);
        }
    }

    #[test]
    fn other_types_are_refused() {
        for ct in [
            &b""[..],
            b"text/plain",
            b"text/event-stream2",
            b"text/ event-stream",
            b"text /event-stream",
            b"application/json; type=text/event-stream",
            b"text/event-stream, text/html",
            b"event-stream",
        ] {
            assert!(!is_event_stream(ct), "{:?}", String::from_utf8_lossy(ct));
        }
    }

    #[test]
    fn status_and_type_give_the_verdict() {
        let es = Some(&b"text/event-stream"[..]);
        assert_eq!(verdict(204, None), Verdict::Close(CloseReason::NoContent));
        assert_eq!(verdict(204, es), Verdict::Close(CloseReason::NoContent));
        assert_eq!(
            verdict(500, es),
            Verdict::Fail(FailReason::Status { status: 500 })
        );
        assert_eq!(
            verdict(301, es),
            Verdict::Fail(FailReason::Status { status: 301 })
        );
        assert_eq!(
            verdict(200, None),
            Verdict::Fail(FailReason::ContentType { content_type: None })
        );
        assert_eq!(
            verdict(200, Some(b"text/html")),
            Verdict::Fail(FailReason::ContentType {
                content_type: Some("text/html".into())
            })
        );
        let long = [b'x'; 1000];
        match verdict(200, Some(&long)) {
            Verdict::Fail(FailReason::ContentType {
                content_type: Some(s),
            }) => assert_eq!(s.len(), MAX_REPORTED),
            v => panic!("{v:?}"),
        }
    }
}
