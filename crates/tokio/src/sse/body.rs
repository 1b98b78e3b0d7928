//! The server's response: [`Sse`] (headers and options) around a `Stream` of [`Event`]s, and
//! [`SseBody`], the `http_body::Body` that writes them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http::{HeaderMap, HeaderName, HeaderValue, Response};
use http_body::Frame;
use pushwire_sse::{encode, server, EventBuilder};
use tokio::time::Sleep;

use super::request::Cors;

/// An event ready to send: already encoded, so sending it to many clients costs a reference
/// count each, not an encoding each. Made from a pushwire-sse [`EventBuilder`] (which refuses
/// an `event` or `id` with a line break, where axum's `Event` panics) or as a shortcut.
#[derive(Clone, PartialEq, Eq)]
pub struct Event {
    bytes: Bytes,
}

impl Event {
    /// An event with only `data` (a `message` event, no id). Any line break in `data` (LF,
    /// CR or CRLF) starts a new `data:` line, so the client reads the same text back with
    /// LF line breaks.
    pub fn data(data: &str) -> Event {
        Event::from(EventBuilder::new().data(data))
    }

    /// A comment line (`: text`), which clients ignore: a keep-alive, or a note for someone
    /// reading the stream by hand. A line break in `text` starts another comment line.
    pub fn comment(text: &str) -> Event {
        let mut out = BytesMut::new();
        encode::encode_comment(text, &mut out);
        Event {
            bytes: out.freeze(),
        }
    }

    /// The encoded bytes, exactly as they go on the wire.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }
}

impl From<EventBuilder<'_>> for Event {
    fn from(builder: EventBuilder<'_>) -> Event {
        Event::from(&builder)
    }
}

impl From<&EventBuilder<'_>> for Event {
    fn from(builder: &EventBuilder<'_>) -> Event {
        Event {
            bytes: builder.to_bytes(),
        }
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Event")
            .field(&String::from_utf8_lossy(&self.bytes))
            .finish()
    }
}

/// What an [`Sse`] stream may yield: an [`Event`], or a `Result` whose error ends the
/// response.
///
/// The error ends the body **cleanly**, after the events before it: aborting the connection
/// instead (as a body error makes hyper do) can discard events already taken but not yet
/// written, and the client reconnects after either. The error value itself is dropped; log
/// it in the stream if you need it.
pub trait IntoEvent {
    /// The event, or `None` to end the stream.
    fn into_event(self) -> Option<Event>;
}

impl IntoEvent for Event {
    fn into_event(self) -> Option<Event> {
        Some(self)
    }
}

impl<E> IntoEvent for Result<Event, E> {
    fn into_event(self) -> Option<Event> {
        self.ok()
    }
}

/// Keep-alive interval by default: "authors can include a comment line (one starting with
/// a ':' character) every 15 seconds or so".
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Events that are ready together are written as one body frame up to this size (a larger
/// event goes alone, not copied).
const DEFAULT_MAX_FRAME: usize = 16 * 1024;

/// An event stream response: a `Stream` of [`Event`]s (or `Result<Event, E>`) and how to
/// send it. [`Sse::into_http_response`] makes the `http::Response`; with feature `axum` it is
/// also `IntoResponse`.
///
/// Defaults: a keep-alive comment after 15 s without an event, no `retry`, no padding, no
/// CORS headers.
#[must_use = "an Sse does nothing until it is turned into a response"]
pub struct Sse<S> {
    stream: S,
    keep_alive: Option<Duration>,
    retry: Option<Duration>,
    padding: bool,
    max_frame: usize,
    headers: HeaderMap,
}

impl<S> Sse<S> {
    /// A response that sends what `stream` yields.
    pub fn new(stream: S) -> Sse<S> {
        Sse {
            stream,
            keep_alive: Some(DEFAULT_KEEP_ALIVE),
            retry: None,
            padding: false,
            max_frame: DEFAULT_MAX_FRAME,
            headers: HeaderMap::new(),
        }
    }

    /// Sends a keep-alive comment whenever the stream has yielded nothing for `interval`
    /// (`None`: never), so that proxies and load balancers do not drop an idle connection,
    /// and a client's read timeout sees the server is alive. Default 15 s.
    pub fn keep_alive(mut self, interval: Option<Duration>) -> Sse<S> {
        self.keep_alive = interval.filter(|d| !d.is_zero());
        self
    }

    /// Sends `retry: <ms>` first, setting the client's reconnection time ("If the field
    /// value consists of only ASCII digits, then interpret the field value as an integer in
    /// base ten, and set the event stream's reconnection time to that integer").
    pub fn retry(mut self, delay: Duration) -> Sse<S> {
        self.retry = Some(delay);
        self
    }

    /// Sends 2 KiB of comment first ([`pushwire_sse::server::PADDING`]), which old
    /// polyfills (XDomainRequest, IE shims) need before they deliver anything.
    pub fn padding(mut self, on: bool) -> Sse<S> {
        self.padding = on;
        self
    }

    /// Adds the CORS headers `cors` gives for a request with these headers (its `Origin`),
    /// so that pages of other origins can read the stream.
    pub fn cors(mut self, cors: &Cors, request: &HeaderMap) -> Sse<S> {
        cors.apply(request, &mut self.headers);
        self
    }

    /// Adds a response header (e.g. `Set-Cookie`); it replaces one of the same name,
    /// including the defaults.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Sse<S> {
        self.headers.insert(name, value);
        self
    }

    /// Coalesces events that are ready together into body frames of up to `bytes` (default
    /// 16 KiB; 0 sends each event as its own frame).
    pub fn max_frame(mut self, bytes: usize) -> Sse<S> {
        self.max_frame = bytes;
        self
    }

    /// The response: status 200, `Content-Type: text/event-stream; charset=utf-8`,
    /// `Cache-Control: no-cache`, `X-Accel-Buffering: no` (see
    /// [`pushwire_sse::server::RESPONSE_HEADERS`]), the headers added, and the body.
    pub fn into_http_response(self) -> Response<SseBody<S>> {
        let mut prelude = BytesMut::new();
        if self.padding {
            prelude.extend_from_slice(server::PADDING);
        }
        if let Some(retry) = self.retry {
            let ms = u64::try_from(retry.as_millis()).unwrap_or(u64::MAX);
            EventBuilder::new().retry(ms).encode(&mut prelude);
        }
        let keep_alive = self
            .keep_alive
            .map(|every| KeepAlive { every, timer: None });
        let body = SseBody {
            stream: Some(Box::pin(self.stream)),
            prelude: (!prelude.is_empty()).then(|| prelude.freeze()),
            buf: BytesMut::new(),
            held: None,
            keep_alive,
            max_frame: self.max_frame,
        };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        for (name, value) in server::RESPONSE_HEADERS {
            // Spelled in title case there; `from_bytes` lower-cases.
            if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                headers.insert(name, HeaderValue::from_static(value));
            }
        }
        // The added headers replace the defaults of their names, and keep every value of
        // a name added twice (e.g. `Vary`).
        for name in self.headers.keys() {
            headers.remove(name);
        }
        for (name, value) in &self.headers {
            headers.append(name, value.clone());
        }
        response
    }
}

impl<S> std::fmt::Debug for Sse<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sse")
            .field("keep_alive", &self.keep_alive)
            .field("retry", &self.retry)
            .field("padding", &self.padding)
            .finish_non_exhaustive()
    }
}

struct KeepAlive {
    every: Duration,
    /// Made at the first poll, inside the runtime (making the response needs none).
    timer: Option<Pin<Box<Sleep>>>,
}

impl KeepAlive {
    /// Starts the interval again from now.
    fn restart(&mut self) {
        let at = tokio::time::Instant::now() + self.every;
        match &mut self.timer {
            Some(t) => t.as_mut().reset(at),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }

    /// Whether the interval has passed (registering the waker when not).
    fn poll_due(&mut self, cx: &mut Context<'_>) -> bool {
        if self.timer.is_none() {
            self.restart();
        }
        self.timer
            .as_mut()
            .is_some_and(|t| t.as_mut().poll(cx).is_ready())
    }
}

/// The body of an [`Sse`] response: an `http_body::Body` of `Bytes` frames.
///
/// Each poll takes every event the stream has ready (up to the frame size) and returns them
/// as one frame; when the stream has nothing ready, what was taken goes out at once, so no
/// event waits for another. A stream error ends the body cleanly after the events before it
/// (see [`IntoEvent`]). When the client goes away hyper drops the body, and with it the
/// stream.
pub struct SseBody<S> {
    stream: Option<Pin<Box<S>>>,
    prelude: Option<Bytes>,
    /// Events taken and not yet returned, when more than one.
    buf: BytesMut,
    /// The one event taken, not copied (most polls take one).
    held: Option<Bytes>,
    keep_alive: Option<KeepAlive>,
    max_frame: usize,
}

impl<S> std::fmt::Debug for SseBody<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseBody")
            .field("ended", &self.stream.is_none())
            .field("buffered", &self.taken())
            .finish_non_exhaustive()
    }
}

impl<S> SseBody<S> {
    fn taken(&self) -> usize {
        self.buf.len() + self.held.as_ref().map_or(0, Bytes::len)
    }

    /// Adds an event to what goes out next.
    fn take(&mut self, event: Bytes) {
        match self.held.take() {
            None if self.buf.is_empty() => self.held = Some(event),
            held => {
                if let Some(h) = held {
                    self.buf.extend_from_slice(&h);
                }
                self.buf.extend_from_slice(&event);
            }
        }
    }

    /// What was taken, as one frame; the keep-alive restarts.
    fn flush(&mut self) -> Option<Frame<Bytes>> {
        let data = match self.held.take() {
            Some(h) => h,
            None if self.buf.is_empty() => return None,
            None => self.buf.split().freeze(),
        };
        if let Some(k) = &mut self.keep_alive {
            k.restart();
        }
        Some(Frame::data(data))
    }
}

impl<S> http_body::Body for SseBody<S>
where
    S: Stream,
    S::Item: IntoEvent,
{
    type Data = Bytes;
    /// The body never fails: a stream error ends it cleanly (see [`IntoEvent`]).
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // Every field is Unpin (the stream and the timer are boxed).
        let this = self.get_mut();
        if let Some(p) = this.prelude.take() {
            this.take(p);
        }
        while this.taken() < this.max_frame.max(1) {
            let Some(stream) = &mut this.stream else {
                break;
            };
            match stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => match item.into_event() {
                    Some(event) => this.take(event.bytes),
                    None => this.stream = None,
                },
                Poll::Ready(None) => this.stream = None,
                Poll::Pending => break,
            }
        }
        if let Some(frame) = this.flush() {
            return Poll::Ready(Some(Ok(frame)));
        }
        if this.stream.is_none() {
            return Poll::Ready(None);
        }
        // Idle: the stream is pending and nothing is taken.
        let due = this.keep_alive.as_mut().is_some_and(|k| k.poll_due(cx));
        if due {
            this.take(Bytes::from_static(server::KEEP_ALIVE));
            // The timer restarts in `flush`; the next poll (hyper polls again once the
            // frame is written) registers its waker.
            return Poll::Ready(this.flush().map(Ok));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.stream.is_none() && self.prelude.is_none() && self.taken() == 0
    }
}

#[cfg(feature = "axum")]
impl<S> axum_core::response::IntoResponse for Sse<S>
where
    S: Stream + Send + 'static,
    S::Item: IntoEvent,
{
    fn into_response(self) -> axum_core::response::Response {
        Sse::into_http_response(self).map(axum_core::body::Body::new)
    }
}
