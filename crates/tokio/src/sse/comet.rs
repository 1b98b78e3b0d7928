//! The Comet fallbacks (seed 002): the two ways servers pushed before `EventSource`, for
//! clients that have none — **long-polling** ([`long_poll`]: a request held until an event
//! or a timeout) and **iframe streaming**, the "forever frame" ([`ForeverFrame`]: an HTML
//! document that never ends, each event a `<script>` calling the parent page).
//!
//! Both take the same `Stream` of [`Event`](super::Event)s as [`Sse`] (a [`Channel`](super::Channel)
//! subscription, or your own), parse each back from its encoding with pushwire-sse's parser,
//! and hand the page `{"type", "id", "data"}` objects, so one source serves all three
//! transports. Resuming is the client's: it sends the last id it got as the `lastEventId`
//! query parameter of its next request, which [`LastEventId`](super::LastEventId) reads.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures_core::Stream;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Response};
use http_body::Frame;
use http_body_util::Full;
use pushwire_sse::{Config, Item, Parser};

use super::body::{IntoEvent, SseBody};
use super::Sse;

/// Bytes of padding after the forever frame's HTML head: browsers wait for some bytes of a
/// document before they run its scripts as they arrive (old IE for 256, some for 1 KiB; 2 KiB
/// covers them all, as for SSE polyfills).
const FRAME_PADDING: usize = 2048;

/// The default callback of a forever frame: `parent.pushwire(event)`.
const DEFAULT_CALLBACK: &str = "parent.pushwire";

/// A callback name that is not a dotted JavaScript identifier path (`a.b_c.$d`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a dotted JavaScript identifier: {0:?}")]
pub struct InvalidCallback(pub String);

/// An iframe streaming response ("forever frame"): an HTML document whose body is a
/// `<script>callback({...})</script>` per event, for pages without `EventSource`.
///
/// The page puts the URL in a hidden `<iframe>` and defines the callback (by default
/// `window.pushwire`, called from the frame as `parent.pushwire`); each call gets
/// `{"type": "...", "id": "...", "data": "..."}` (`id` is the event's last event ID, as
/// `MessageEvent.lastEventId`). When the frame's document ends (its `load` event), the page
/// reloads it with `?lastEventId=<the last id>` to resume.
///
/// The strings are JSON with `<`, `>`, `&`, U+2028 and U+2029 escaped, so no event data can
/// close the script element or inject markup. The callback name is checked
/// ([`ForeverFrame::callback`]): it may come from a query parameter.
#[must_use = "a ForeverFrame does nothing until it is turned into a response"]
pub struct ForeverFrame<S> {
    sse: Sse<S>,
    callback: String,
}

impl<S> std::fmt::Debug for ForeverFrame<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForeverFrame")
            .field("callback", &self.callback)
            .finish_non_exhaustive()
    }
}

impl<S> ForeverFrame<S> {
    /// A frame that sends what `stream` yields, with a keep-alive comment after 15 s idle.
    pub fn new(stream: S) -> ForeverFrame<S> {
        ForeverFrame {
            sse: Sse::new(stream),
            callback: DEFAULT_CALLBACK.to_string(),
        }
    }

    /// The function each event is passed to, e.g. `parent.onEvent`.
    ///
    /// # Errors
    /// [`InvalidCallback`] unless it is identifiers (`[A-Za-z_$][A-Za-z0-9_$]*`) joined by
    /// dots.
    pub fn callback(mut self, name: &str) -> Result<ForeverFrame<S>, InvalidCallback> {
        let ident = |p: &str| {
            let mut chars = p.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        };
        if name.len() > 128 || !name.split('.').all(ident) {
            return Err(InvalidCallback(name.chars().take(128).collect()));
        }
        self.callback = name.to_string();
        Ok(self)
    }

    /// A keep-alive comment after `interval` without an event (`None`: never). Default 15 s.
    pub fn keep_alive(mut self, interval: Option<Duration>) -> ForeverFrame<S> {
        self.sse = self.sse.keep_alive(interval);
        self
    }

    /// The response: 200, `Content-Type: text/html; charset=utf-8`, `Cache-Control:
    /// no-cache`, `X-Accel-Buffering: no`, and the never-ending document.
    pub fn into_http_response(self) -> Response<ForeverFrameBody<S>> {
        let (parts, inner) = self.sse.into_http_response().into_parts();
        let mut head = BytesMut::new();
        head.extend_from_slice(
            b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>pushwire</title></head><body>\n<!--",
        );
        head.put_bytes(b' ', FRAME_PADDING);
        head.extend_from_slice(b"-->\n");
        let body = ForeverFrameBody {
            inner,
            parser: Parser::with_config(Config::DEFAULT.with_comments(true)),
            head: Some(head.freeze()),
            callback: self.callback,
            ended: false,
        };
        let mut response = Response::from_parts(parts, body);
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        response
    }
}

/// The body of a [`ForeverFrame`]: the event stream's frames turned into script chunks.
pub struct ForeverFrameBody<S> {
    inner: SseBody<S>,
    parser: Parser,
    head: Option<Bytes>,
    callback: String,
    ended: bool,
}

impl<S> std::fmt::Debug for ForeverFrameBody<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForeverFrameBody")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<S> http_body::Body for ForeverFrameBody<S>
where
    S: Stream,
    S::Item: IntoEvent,
{
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(head) = this.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        if this.ended {
            return Poll::Ready(None);
        }
        loop {
            let data = match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.ended = true;
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                        b"</body></html>\n",
                    )))));
                }
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(d) => d,
                    Err(_) => continue,
                },
                Poll::Ready(Some(Err(never))) => match never {},
            };
            let mut out = BytesMut::new();
            // Our own encoder's bytes: they always parse, within the default limits of
            // what this process encoded.
            if this.parser.feed(&data).is_err() {
                this.ended = true;
                return Poll::Ready(None);
            }
            while let Ok(Some(item)) = this.parser.poll() {
                match item {
                    Item::Event(ev) => {
                        out.extend_from_slice(b"<script>");
                        out.extend_from_slice(this.callback.as_bytes());
                        out.put_u8(b'(');
                        event_json(ev.event_type(), ev.last_event_id(), ev.data(), &mut out);
                        out.extend_from_slice(b");</script>\n");
                    }
                    Item::Comment(_) => out.extend_from_slice(b"<!-- keep-alive -->\n"),
                    _ => {}
                }
            }
            if !out.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(out.freeze()))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.head.is_none()
    }
}

/// Answers a long-poll request: waits up to `wait` for the first event of `stream`, then
/// takes every event already ready after it (at most `max_events` in all), and answers 200
/// `application/json`: `{"events": [{"type", "id", "data"}, …], "ended": bool}` — an empty
/// list when `wait` passed without an event (poll again), `ended` when the stream ended
/// (stop). The client sends its last id as `lastEventId` on the next request.
///
/// ```
/// use pushwire_tokio::sse::{long_poll, Channel};
/// use pushwire_sse::EventBuilder;
/// use std::time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let ch = Channel::new(16);
/// ch.send(EventBuilder::new().data("a <b>"));
/// let resp = long_poll(ch.subscribe_at(0), Duration::from_secs(25), 100).await;
/// let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
/// assert_eq!(body, r#"{"events":[{"type":"message","id":"0","data":"a \u003cb\u003e"}],"ended":false}"#);
/// # });
/// ```
pub async fn long_poll<S>(mut stream: S, wait: Duration, max_events: usize) -> Response<Full<Bytes>>
where
    S: Stream + Unpin,
    S::Item: IntoEvent,
{
    let mut events = Vec::new();
    let mut ended = false;
    let next = |stream: &mut S, cx: &mut Context<'_>| {
        Pin::new(stream)
            .poll_next(cx)
            .map(|o| o.and_then(IntoEvent::into_event))
    };
    match tokio::time::timeout(wait, poll_fn(|cx| next(&mut stream, cx))).await {
        Err(_) => {}
        Ok(None) => ended = true,
        Ok(Some(first)) => {
            events.push(first);
            while events.len() < max_events.max(1) {
                match poll_fn(|cx| Poll::Ready(next(&mut stream, cx))).await {
                    Poll::Ready(Some(e)) => events.push(e),
                    Poll::Ready(None) => {
                        ended = true;
                        break;
                    }
                    Poll::Pending => break,
                }
            }
        }
    }
    let mut out = BytesMut::from(&b"{\"events\":["[..]);
    let mut parser = Parser::new();
    let mut first = true;
    for e in &events {
        if parser.feed(e.as_bytes()).is_err() {
            break;
        }
        while let Ok(Some(ev)) = parser.poll_event() {
            if !first {
                out.put_u8(b',');
            }
            first = false;
            event_json(ev.event_type(), ev.last_event_id(), ev.data(), &mut out);
        }
    }
    out.extend_from_slice(if ended {
        b"],\"ended\":true}"
    } else {
        b"],\"ended\":false}"
    });
    let mut response = Response::new(Full::new(out.freeze()));
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    response
}

/// `{"type":…,"id":…,"data":…}` with strings safe inside a `<script>` element.
fn event_json(event_type: &str, id: &str, data: &str, out: &mut BytesMut) {
    out.extend_from_slice(b"{\"type\":");
    json_string(event_type, out);
    out.extend_from_slice(b",\"id\":");
    json_string(id, out);
    out.extend_from_slice(b",\"data\":");
    json_string(data, out);
    out.put_u8(b'}');
}

/// A JSON string literal that is also safe in HTML: `<`, `>` and `&` as `\u003c`…, so that
/// `</script>` or `<!--` in the text cannot end or change the script element, and U+2028 /
/// U+2029 escaped (older JavaScript engines reject them raw in string literals).
fn json_string(s: &str, out: &mut BytesMut) {
    out.put_u8(b'"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&[u8]> = match c {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\t' => Some(b"\\t"),
            '<' => Some(b"\\u003c"),
            '>' => Some(b"\\u003e"),
            '&' => Some(b"\\u0026"),
            '\u{2028}' => Some(b"\\u2028"),
            '\u{2029}' => Some(b"\\u2029"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                let hex = b"0123456789abcdef";
                let v = c as usize;
                out.extend_from_slice(b"\\u00");
                out.put_u8(hex[v >> 4]);
                out.put_u8(hex[v & 15]);
            }
        }
        start = i + c.len_utf8();
    }
    out.extend_from_slice(&s.as_bytes()[start..]);
    out.put_u8(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::Event;

    fn js(s: &str) -> String {
        let mut out = BytesMut::new();
        json_string(s, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn strings_are_json_and_safe_in_a_script_element() {
        assert_eq!(js("plain é 😀"), "\"plain é 😀\"");
        assert_eq!(
            js("</script><!--&\"\\\n\r\t\u{1}\u{2028}\u{2029}"),
            r#""\u003c/script\u003e\u003c!--\u0026\"\\\n\r\t\u0001\u2028\u2029""#
        );
    }

    #[test]
    fn callbacks_are_dotted_identifiers() {
        let f = || ForeverFrame::new(futures_empty());
        assert!(f().callback("parent.on_event$1").is_ok());
        for bad in [
            "",
            "a.",
            ".a",
            "1a",
            "a(b)",
            "alert(1);x",
            "a b",
            "a-b",
            "a[0]",
        ] {
            assert!(f().callback(bad).is_err(), "{bad:?}");
        }
    }

    fn futures_empty() -> impl Stream<Item = Event> {
        struct Empty;
        impl Stream for Empty {
            type Item = Event;
            fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Event>> {
                Poll::Ready(None)
            }
        }
        Empty
    }
}
