//! [`EventSource`]: a reconnecting event stream client on hyper, driven by pushwire-sse's
//! sans-IO [`Session`] (which decides when to connect, with which `Last-Event-ID`, and when
//! to stop); this file does the HTTP and the timers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::{FusedStream, Stream};
use http::header::{
    ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, HOST, LOCATION, PROXY_AUTHORIZATION,
};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body::Body as _;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pushwire_sse::client::{Action, Session};
use pushwire_sse::{Event as Received, EventRef, Instant as SseInstant};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::{BoxError, ClientConfig, FailReason, ReadyState};

/// Which HTTP an [`EventSource`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum HttpVersion {
    /// HTTP/1.1 (one connection per stream).
    #[default]
    Http1,
    /// HTTP/2: over `https://`, offered by ALPN (the server may still choose HTTP/1.1);
    /// over `http://`, with prior knowledge (h2c), for servers known to speak it.
    Http2,
}

/// Why an [`EventSource`] could not be made, or failed for good.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not an absolute `http://` or `https://` URL (`https://` needs feature
    /// `sse-rustls` and `EventSourceBuilder::tls`).
    #[error("not a usable event stream URL: {0:?}")]
    InvalidUrl(String),
    /// The `Last-Event-ID` to resume from contains CR, LF or NUL.
    #[error("a Last-Event-ID cannot contain CR, LF or NUL")]
    InvalidLastEventId,
    /// The source failed and will not reconnect: the server's answer or stream broke the
    /// rules, or too many attempts failed in a row.
    #[error(transparent)]
    Failed(FailReason),
}

/// Redirects followed per connection attempt by default (fetch's limit is 20).
const DEFAULT_MAX_REDIRECTS: usize = 10;

/// How to make an [`EventSource`]; from [`EventSource::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct EventSourceBuilder {
    url: String,
    headers: HeaderMap,
    config: ClientConfig,
    seed: Option<u64>,
    version: HttpVersion,
    last_event_id: Option<String>,
    max_redirects: usize,
    #[cfg(feature = "sse-rustls")]
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl EventSourceBuilder {
    /// Adds a request header sent on every connection (e.g. `Authorization`); a second one
    /// of the same name is added beside it. `Accept`, `Cache-Control` and `Last-Event-ID`
    /// are the source's own, and `Authorization`, `Proxy-Authorization` and `Cookie` are not
    /// sent after a redirect to another origin.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The reconnection policy, timeouts and limits. Default [`ClientConfig::DEFAULT`].
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The seed of the backoff's jitter, for reproducible delays (default: random).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// HTTP/1.1 (default) or HTTP/2.
    pub fn http_version(mut self, version: HttpVersion) -> Self {
        self.version = version;
        self
    }

    /// Resumes after `id`: the first request sends it as `Last-Event-ID` (an id the
    /// application kept, e.g. across a restart).
    pub fn last_event_id(mut self, id: &str) -> Self {
        self.last_event_id = Some(id.to_string());
        self
    }

    /// Redirects (301, 302, 303, 307, 308) followed per attempt; a response still
    /// redirecting after them fails the source. Default 10.
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = n;
        self
    }

    /// The TLS configuration for `https://` URLs (roots, client certificates). Its ALPN
    /// protocols are replaced by those of the [`HttpVersion`].
    #[cfg(feature = "sse-rustls")]
    pub fn tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// The source. It connects when first polled.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], [`Error::InvalidLastEventId`].
    pub fn build(self) -> Result<EventSource, Error> {
        let target = Target::parse(&self.url).ok_or_else(|| Error::InvalidUrl(self.url.clone()))?;
        #[cfg(not(feature = "sse-rustls"))]
        if target.https {
            return Err(Error::InvalidUrl(self.url));
        }
        #[cfg(feature = "sse-rustls")]
        let tls = match (&self.tls, target.https) {
            (None, true) => return Err(Error::InvalidUrl(self.url)),
            (Some(c), _) => {
                let mut c = rustls::ClientConfig::clone(c);
                c.alpn_protocols = match self.version {
                    HttpVersion::Http2 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
                    HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
                };
                Some(tokio_rustls::TlsConnector::from(Arc::new(c)))
            }
            (None, false) => None,
        };
        let seed = self.seed.unwrap_or_else(pushwire_sse::client::random_seed);
        let mut session = Session::new(self.config, seed);
        if let Some(id) = &self.last_event_id {
            session = session
                .with_last_event_id(id)
                .map_err(|_| Error::InvalidLastEventId)?;
        }
        Ok(EventSource {
            session,
            origin: tokio::time::Instant::now(),
            shared: Arc::new(Params {
                target,
                headers: self.headers,
                version: self.version,
                max_redirects: self.max_redirects,
                #[cfg(feature = "sse-rustls")]
                tls,
            }),
            conn: Conn::Idle,
            timer: None,
            pending: None,
            failed_reported: false,
            ended: false,
            opened: 0,
        })
    }
}

/// What every connection attempt needs.
struct Params {
    target: Target,
    headers: HeaderMap,
    version: HttpVersion,
    max_redirects: usize,
    #[cfg(feature = "sse-rustls")]
    tls: Option<tokio_rustls::TlsConnector>,
}

/// A reconnecting event stream client: the WHATWG `EventSource` processing model
/// (pushwire-sse's [`Session`]) on hyper, as a `Stream` of
/// `Result<`[`ReceivedEvent`](super::ReceivedEvent)`, `[`Error`]`>`.
///
/// * It connects when first polled, with `Accept: text/event-stream`, `Cache-Control:
///   no-cache`, your headers, and `Last-Event-ID` once it has seen an id.
/// * A stream that ends or breaks, or a network error, is retried after the reconnection
///   time (the server's `retry`, else the config's), plus a jittered backoff while attempts
///   keep failing; a timeout of the config ends the connection and retries.
/// * A 204 ends the stream (`None`). Any other status than 200, a content type other than
///   `text/event-stream`, a body over the limits, or `max_attempts` failed attempts yield
///   [`Error::Failed`] once, then `None`.
///
/// Events are only read while the stream is polled: a consumer that stops polling stops
/// reading the socket (TCP then slows the server), nothing is buffered beyond the parser's
/// limits and one body frame. Dropping the source closes its connection.
///
/// Cancel safety: `next()` may be dropped at any point (e.g. in `tokio::select!`) without
/// losing an event; all state is in the source.
pub struct EventSource {
    session: Session,
    origin: tokio::time::Instant,
    shared: Arc<Params>,
    conn: Conn,
    /// Made at the first wait, inside the runtime (building needs none).
    timer: Option<Pin<Box<Sleep>>>,
    /// The part of a body frame not fed yet (a frame larger than the parser's buffer limit).
    pending: Option<Bytes>,
    failed_reported: bool,
    ended: bool,
    opened: u64,
}

enum Conn {
    Idle,
    Connecting(Opening),
    Open { body: Incoming, _conn: AbortOnDrop },
}

type Opening = Pin<Box<dyn Future<Output = Result<Opened, BoxError>> + Send>>;

struct Opened {
    response: Response<Incoming>,
    conn: AbortOnDrop,
}

/// The task driving a hyper connection, stopped when the source is done with it.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for EventSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSource")
            .field("url", &self.shared.target)
            .field("ready_state", &self.session.ready_state())
            .field("last_event_id", &self.session.last_event_id())
            .finish_non_exhaustive()
    }
}

impl EventSource {
    /// A builder for the source at `url` (`http://…` or `https://…`).
    pub fn builder(url: &str) -> EventSourceBuilder {
        EventSourceBuilder {
            url: url.to_string(),
            headers: HeaderMap::new(),
            config: ClientConfig::DEFAULT,
            seed: None,
            version: HttpVersion::Http1,
            last_event_id: None,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            #[cfg(feature = "sse-rustls")]
            tls: None,
        }
    }

    /// The source at `url` with the default configuration.
    ///
    /// # Errors
    /// See [`EventSourceBuilder::build`].
    pub fn new(url: &str) -> Result<EventSource, Error> {
        EventSource::builder(url).build()
    }

    /// What `EventSource.readyState` would be.
    pub fn ready_state(&self) -> ReadyState {
        self.session.ready_state()
    }

    /// The last event ID string: what the next connection sends as `Last-Event-ID`.
    pub fn last_event_id(&self) -> &str {
        self.session.last_event_id()
    }

    /// Consecutive failed attempts since the last healthy stream.
    pub fn failed_attempts(&self) -> u32 {
        self.session.failed_attempts()
    }

    /// How many streams were opened (200 `text/event-stream` responses) so far.
    pub fn streams_opened(&self) -> u64 {
        self.opened
    }

    /// Closes the source (`EventSource.close()`): the connection is dropped, and the stream
    /// ends after the events already received.
    pub fn close(&mut self) {
        self.session.close();
        self.conn = Conn::Idle;
    }

    fn now(&self) -> SseInstant {
        SseInstant::from_duration(self.origin.elapsed())
    }

    fn connect(&mut self, last_event_id: Option<String>) {
        let params = Arc::clone(&self.shared);
        self.conn = Conn::Connecting(Box::pin(open(params, last_event_id)));
    }

    /// Feeds the held part of a body frame, as much as the parser takes.
    fn feed_pending(&mut self, now: SseInstant) {
        let Some(mut data) = self.pending.take() else {
            return;
        };
        let limit = self
            .session
            .config()
            .parser
            .limits
            .max_buffered_input
            .max(1);
        let piece = if data.len() > limit {
            let rest = data.split_off(limit);
            self.pending = Some(rest);
            data
        } else {
            data
        };
        // The parser is polled empty before every feed, so a piece within the limit is
        // always taken.
        if self.session.feed_bytes(now, piece).is_err() {
            self.session.handle_error(now);
            self.conn = Conn::Idle;
            self.pending = None;
        }
    }

    /// Drives the connection until something changed (`Ready`) or nothing can (`Pending`).
    fn poll_io(&mut self, cx: &mut Context<'_>, now: SseInstant) -> Poll<()> {
        match &mut self.conn {
            Conn::Idle => Poll::Pending,
            Conn::Connecting(opening) => match opening.as_mut().poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(_)) => {
                    self.conn = Conn::Idle;
                    self.session.handle_error(now);
                    Poll::Ready(())
                }
                Poll::Ready(Ok(Opened { response, conn })) => {
                    let status = response.status().as_u16();
                    let content_type = response.headers().get(CONTENT_TYPE);
                    self.session.handle_response(
                        now,
                        status,
                        content_type.map(HeaderValue::as_bytes),
                    );
                    self.conn = if self.session.ready_state() == ReadyState::Open {
                        self.opened += 1;
                        Conn::Open {
                            body: response.into_body(),
                            _conn: conn,
                        }
                    } else {
                        Conn::Idle
                    };
                    Poll::Ready(())
                }
            },
            Conn::Open { body, .. } => match Pin::new(body).poll_frame(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.pending = Some(data);
                        self.feed_pending(now);
                    }
                    Poll::Ready(())
                }
                Poll::Ready(Some(Err(_))) => {
                    self.conn = Conn::Idle;
                    self.session.handle_error(now);
                    Poll::Ready(())
                }
                Poll::Ready(None) => {
                    self.conn = Conn::Idle;
                    self.session.feed_eof(now);
                    Poll::Ready(())
                }
            },
        }
    }
}

/// What [`EventSource::poll_inner`] found.
enum Got {
    /// An owned event.
    Owned(Received),
    /// An event lent by the parser: read it with `Parser::lent_event`.
    Lent,
}

impl EventSource {
    /// Drives the source until an event (owned, or lent when `lend`), its end or its
    /// failure.
    fn poll_inner(&mut self, cx: &mut Context<'_>, lend: bool) -> Poll<Option<Result<Got, Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        loop {
            // Events already parsed come first (a parse error fails the session, which the
            // action below reports).
            if lend {
                if let Ok(Some(_)) = self.session.poll_event_ref() {
                    return Poll::Ready(Some(Ok(Got::Lent)));
                }
            } else if let Ok(Some(event)) = self.session.poll_event() {
                return Poll::Ready(Some(Ok(Got::Owned(event))));
            }
            let now = self.now();
            if self.pending.is_some() && matches!(self.conn, Conn::Open { .. }) {
                self.feed_pending(now);
                continue;
            }
            match self.session.poll_action(now) {
                Action::Connect { last_event_id } => self.connect(last_event_id),
                Action::Disconnect(_) => {
                    self.conn = Conn::Idle;
                    self.pending = None;
                }
                Action::Closed(_) => {
                    self.conn = Conn::Idle;
                    self.ended = true;
                    return Poll::Ready(None);
                }
                Action::Failed(reason) => {
                    self.conn = Conn::Idle;
                    if self.failed_reported {
                        self.ended = true;
                        return Poll::Ready(None);
                    }
                    self.failed_reported = true;
                    return Poll::Ready(Some(Err(Error::Failed(reason))));
                }
                Action::Wait { until } => {
                    if self.poll_io(cx, now).is_ready() {
                        continue;
                    }
                    let Some(until) = until else {
                        return Poll::Pending;
                    };
                    let Some(deadline) = self.origin.checked_add(until.as_duration()) else {
                        return Poll::Pending;
                    };
                    let timer = match &mut self.timer {
                        Some(t) => {
                            t.as_mut().reset(deadline);
                            t
                        }
                        None => self
                            .timer
                            .insert(Box::pin(tokio::time::sleep_until(deadline))),
                    };
                    if timer.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                // A future action this layer does not know: poll again later.
                _ => return Poll::Pending,
            }
        }
    }

    /// Like `poll_next`, but the event is lent from the parser's buffers instead of
    /// allocated (valid until the next call on the source): the fastest way to read, for a
    /// consumer that does not keep the event. Same rules as the `Stream`.
    pub fn poll_next_ref(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<EventRef<'_>, Error>>> {
        match self.poll_inner(cx, true) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Some(Ok(_))) => Poll::Ready(self.session.parser().lent_event().map(Ok)),
        }
    }

    /// The next event, lent from the parser's buffers (see [`EventSource::poll_next_ref`]).
    /// Cancel safe, like `next()`.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), pushwire_tokio::sse::Error> {
    /// let mut source = pushwire_tokio::sse::EventSource::new("http://127.0.0.1:8080/sse/chat")?;
    /// while let Some(event) = source.next_ref().await {
    ///     let event = event?;
    ///     println!("{} {}", event.last_event_id, event.data);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_ref(&mut self) -> Option<Result<EventRef<'_>, Error>> {
        match std::future::poll_fn(|cx| self.poll_inner(cx, true)).await {
            None => None,
            Some(Err(e)) => Some(Err(e)),
            Some(Ok(_)) => self.session.parser().lent_event().map(Ok),
        }
    }
}

impl Stream for EventSource {
    type Item = Result<Received, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Every field is Unpin (futures and timers are boxed).
        let this = self.get_mut();
        match this.poll_inner(cx, false) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Some(Ok(Got::Owned(event)))) => Poll::Ready(Some(Ok(event))),
            // Only when asked for (`lend`); an owned copy would do.
            Poll::Ready(Some(Ok(Got::Lent))) => {
                Poll::Ready(this.session.parser().lent_event().map(|e| Ok(e.to_event())))
            }
        }
    }
}

impl FusedStream for EventSource {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

/// Where the source connects.
#[derive(Debug, Clone)]
struct Target {
    https: bool,
    host: String,
    port: u16,
    /// `host[:port]` as in the URL.
    authority: String,
    path_and_query: String,
}

impl Target {
    fn parse(url: &str) -> Option<Target> {
        let uri: http::Uri = url.parse().ok()?;
        let https = match uri.scheme_str()? {
            "http" => false,
            "https" => true,
            _ => return None,
        };
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
        Some(Target {
            https,
            host: host.to_string(),
            port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
            authority: uri.authority()?.as_str().to_string(),
            path_and_query: uri.path_and_query().map_or("/", |p| p.as_str()).to_string(),
        })
    }

    /// The target a `Location` points to: an absolute URL, an absolute path, or a path
    /// relative to this one's directory.
    fn redirect(&self, location: &str) -> Option<Target> {
        if location.contains("://") {
            return Target::parse(location);
        }
        let path = if location.starts_with('/') {
            location.to_string()
        } else {
            let path = self.path_and_query.split('?').next().unwrap_or("/");
            let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{location}")
        };
        Some(Target {
            path_and_query: path,
            ..self.clone()
        })
    }

    fn same_origin(&self, other: &Target) -> bool {
        self.https == other.https && self.host == other.host && self.port == other.port
    }
}

/// One connection attempt: connect, send the request, follow redirects; the final response.
async fn open(params: Arc<Params>, last_event_id: Option<String>) -> Result<Opened, BoxError> {
    let mut target = params.target.clone();
    // Credentials stay with the origin they were given for.
    let mut credentials = true;
    let mut redirects = 0;
    loop {
        let opened = request(&params, &target, credentials, last_event_id.as_deref()).await?;
        let redirect = matches!(
            opened.response.status(),
            StatusCode::MOVED_PERMANENTLY
                | StatusCode::FOUND
                | StatusCode::SEE_OTHER
                | StatusCode::TEMPORARY_REDIRECT
                | StatusCode::PERMANENT_REDIRECT
        );
        let next = opened
            .response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| target.redirect(l))
            .filter(|_| redirect && redirects < params.max_redirects);
        let Some(next) = next else {
            return Ok(opened);
        };
        redirects += 1;
        credentials &= next.same_origin(&params.target);
        target = next;
    }
}

/// One request on a new connection.
async fn request(
    params: &Params,
    target: &Target,
    credentials: bool,
    last_event_id: Option<&str>,
) -> Result<Opened, BoxError> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
    tcp.set_nodelay(true)?;
    if target.https {
        #[cfg(feature = "sse-rustls")]
        if let Some(tls) = &params.tls {
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())?;
            let stream = tls.connect(name, tcp).await?;
            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            let io = TokioIo::new(stream);
            return send(io, h2, params, target, credentials, last_event_id).await;
        }
        return Err("https:// needs a TLS configuration".into());
    }
    let h2 = params.version == HttpVersion::Http2;
    send(
        TokioIo::new(tcp),
        h2,
        params,
        target,
        credentials,
        last_event_id,
    )
    .await
}

async fn send<I>(
    io: I,
    h2: bool,
    params: &Params,
    target: &Target,
    credentials: bool,
    last_event_id: Option<&str>,
) -> Result<Opened, BoxError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let scheme = if target.https { "https" } else { "http" };
    let mut builder = if h2 {
        Request::get(format!(
            "{scheme}://{}{}",
            target.authority, target.path_and_query
        ))
    } else {
        Request::get(target.path_and_query.as_str()).header(HOST, target.authority.as_str())
    };
    if let Some(h) = builder.headers_mut() {
        for (name, value) in &params.headers {
            let secret = [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE].contains(name);
            if credentials || !secret {
                h.append(name, value.clone());
            }
        }
        h.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // An id with a control character HTTP refuses in a header (other than CR, LF and
        // NUL, which cannot occur) is not sent: the stream then starts afresh.
        if let Some(v) = last_event_id.and_then(|id| HeaderValue::from_str(id).ok()) {
            h.insert("last-event-id", v);
        }
    }
    let req = builder.body(Empty::<Bytes>::new())?;
    if h2 {
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        let task = AbortOnDrop(tokio::spawn(conn).abort_handle());
        let response = sender.send_request(req).await?;
        Ok(Opened {
            response,
            conn: task,
        })
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        let task = AbortOnDrop(tokio::spawn(conn).abort_handle());
        let response = sender.send_request(req).await?;
        Ok(Opened {
            response,
            conn: task,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_redirects() {
        let t = Target::parse("http://example.com:8080/a/b?x=1").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("example.com", 8080));
        assert_eq!(t.path_and_query, "/a/b?x=1");
        assert_eq!(t.redirect("c").unwrap().path_and_query, "/a/c");
        assert_eq!(t.redirect("/d?y").unwrap().path_and_query, "/d?y");
        let other = t.redirect("https://other.example/e").unwrap();
        assert!(other.https && !other.same_origin(&t));
        assert_eq!(other.port, 443);
        assert!(Target::parse("ftp://x/").is_none());
        assert!(Target::parse("/relative").is_none());
        let v6 = Target::parse("http://[::1]:9/").unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.authority.as_str()),
            ("::1", "[::1]:9")
        );
    }
}
