//! The demo server's HTTP vocabulary on hyper: the response [`Body`] (a whole body, or a
//! stream fed through a bounded channel), short responses, the event-stream response, and
//! request helpers. A leaf module: the handlers (`serve`, `demo`, `eio`, `wslink`) use it; it
//! uses none of them.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::{Request, Response, StatusCode};

/// A request as hyper hands it over.
pub(crate) type Req = Request<Incoming>;

/// A write that makes no progress for this long ends the connection (a WebSocket flush, a
/// streamed body whose channel stays full).
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle event stream gets a keep-alive comment.
pub(crate) const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);
/// A response body: all of it at once, or an event stream.
pub(crate) enum Body {
    /// A whole body (taken on the first poll).
    Full(Option<Bytes>),
    /// Another body: an event stream of pushwire-tokio's `Sse`, which pulls its events
    /// only when hyper can write (no queue of its own).
    Dyn(Pin<Box<dyn hyper::body::Body<Data = Bytes, Error = Infallible> + Send>>),
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Dyn(b) => b.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(b) => b.is_none(),
            Body::Dyn(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Dyn(b) => b.size_hint(),
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::Full(None)
    }
}

/// A complete short response.
pub(crate) fn respond(
    status: StatusCode,
    ctype: &'static str,
    body: &'static [u8],
) -> Response<Body> {
    let mut r = Response::new(Body::Full(Some(Bytes::from_static(body))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(ctype),
    );
    r
}

/// The query string, if any.
pub(crate) fn query<B>(req: &Request<B>) -> Option<&str> {
    req.uri().query()
}

/// The request line for the log: method, target and, over HTTP/2, the version.
pub(crate) fn describe<B>(req: &Request<B>) -> String {
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    match req.version() {
        hyper::Version::HTTP_2 => format!("{} {target} (HTTP/2)", req.method()),
        _ => format!("{} {target}", req.method()),
    }
}

/// A connection's byte stream that fails a write making no progress for [`WRITE_TIMEOUT`].
///
/// Every connection of `pushwire serve` runs over one, so that a client that stops reading
/// cannot hold a connection (its buffers, its task) for ever: an event stream to it leaves
/// hyper with bytes it cannot write, and hyper has no write timeout of its own. The WebSockets upgraded from the connection keep it (hyper hands the
/// same stream over), under their own, equal flush timeout.
///
/// A connection given up on is **reset** when closed (RST, `SO_LINGER` 0): one whose writes
/// stalled, or one a handler marked with [`ResetOnClose::request`] (a WebSocket dropped for
/// not keeping up). A plain close would leave the socket in FIN-WAIT-1 holding up to
/// `tcp_wmem`'s maximum (4 MiB here) of unsent bytes for minutes, probing a peer that reads
/// nothing; nginx's `reset_timedout_connection` does the same for the same reason. The peer
/// learns at once (a reset, not a stream that goes quiet).
pub(crate) struct StallGuard<S: Linger> {
    inner: S,
    /// Set: reset the socket when this guard is dropped.
    reset: ResetOnClose,
    /// Running while a write (or flush, or shutdown) waits for the socket.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The last flush or shutdown was pending: its completion moved bytes (progress). A
    /// flush that is ready at once (TCP's always is) moved none and resets nothing.
    flush_pending: bool,
}

/// A transport that can be told to reset instead of closing gracefully.
pub(crate) trait Linger {
    /// Makes the coming close a reset (`SO_LINGER` 0); best effort.
    fn zero_linger(&self);
}

impl Linger for tokio::net::TcpStream {
    fn zero_linger(&self) {
        // Zero linger does not block on drop (a non-zero one would).
        let _ = self.set_zero_linger();
    }
}

#[cfg(test)]
impl Linger for tokio::io::DuplexStream {
    fn zero_linger(&self) {}
}

/// A stream that notes when the HTTP version of its connection is known from the bytes read
/// from it: [`crate::serve`] ends a connection whose version is not known within its head
/// timeout. A plain TCP connection is checked before (by peeking); over TLS the first bytes
/// are the handshake's, so a client that completes it and then sends nothing, or only the
/// start of the HTTP/2 preface, is only seen here. hyper's version detection reads without a
/// bound while the bytes match the preface, and its header timeout starts only after it.
pub(crate) struct FirstRead<S> {
    inner: S,
    known: Arc<AtomicBool>,
    /// The first bytes read, up to the preface's length.
    start: [u8; H2_PREFACE.len()],
    len: usize,
}

/// The HTTP/2 connection preface (RFC 9113 §3.4).
pub(crate) const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether `start`, the first bytes of a connection, tell its HTTP version: the whole HTTP/2
/// preface, or a byte that differs from it (HTTP/1.x, or garbage for hyper to refuse).
pub(crate) fn version_told(start: &[u8]) -> bool {
    let n = start.len().min(H2_PREFACE.len());
    n == H2_PREFACE.len() || start[..n] != H2_PREFACE[..n]
}

impl<S> FirstRead<S> {
    /// Wraps `inner`; the flag is set once the bytes read tell the HTTP version.
    pub(crate) fn new(inner: S) -> (Self, Arc<AtomicBool>) {
        let known = Arc::new(AtomicBool::new(false));
        (
            FirstRead {
                inner,
                known: known.clone(),
                start: [0; H2_PREFACE.len()],
                len: 0,
            },
            known,
        )
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for FirstRead<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let this = &mut *self;
        if this.len < this.start.len() && buf.filled().len() > before {
            let new = &buf.filled()[before..];
            let take = new.len().min(this.start.len() - this.len);
            this.start[this.len..this.len + take].copy_from_slice(&new[..take]);
            this.len += take;
            if version_told(&this.start[..this.len]) {
                this.known.store(true, Ordering::Relaxed);
                // Nothing more to look at.
                this.len = this.start.len();
            }
        }
        r
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for FirstRead<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Shared between a connection's [`StallGuard`] and the handlers of its requests (it is in
/// every request's extensions): once requested, the connection is reset when closed.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResetOnClose(Arc<AtomicBool>);

impl ResetOnClose {
    /// Reset the connection when it closes (it was given up on).
    pub(crate) fn request(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether a reset was requested.
    pub(crate) fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl<S: Linger> Drop for StallGuard<S> {
    fn drop(&mut self) {
        if self.reset.requested() {
            self.inner.zero_linger();
        }
    }
}

impl<S: Linger> StallGuard<S> {
    /// Guards `inner`.
    pub(crate) fn new(inner: S) -> Self {
        StallGuard {
            inner,
            reset: ResetOnClose::default(),
            stalled: None,
            flush_pending: false,
        }
    }

    /// The handle that makes this connection's close a reset.
    pub(crate) fn reset_handle(&self) -> ResetOnClose {
        self.reset.clone()
    }

    /// Turns a pending write into an error once it has been pending for [`WRITE_TIMEOUT`].
    /// Only progress resets the clock (`progress`): bytes written, or a flush that had to
    /// wait completing; a flush ready at once moved nothing.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<std::io::Result<T>>,
        progress: impl Fn(&T) -> bool,
    ) -> Poll<std::io::Result<T>> {
        match r {
            Poll::Ready(r) => {
                if r.as_ref().is_ok_and(progress) {
                    self.stalled = None;
                }
                Poll::Ready(r)
            }
            Poll::Pending => {
                let timer = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(WRITE_TIMEOUT)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        // Given up on: what it did not read is discarded with the socket.
                        self.reset.request();
                        Poll::Ready(Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "the peer took nothing for 10 s",
                        )))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: tokio::io::AsyncRead + Linger + Unpin> tokio::io::AsyncRead for StallGuard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Linger + Unpin> tokio::io::AsyncWrite for StallGuard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, r, |&n| n > 0)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.watch(cx, r, |&n| n > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_flush(cx);
        let moved = r.is_ready() && this.flush_pending;
        this.flush_pending = r.is_pending();
        this.watch(cx, r, |_| moved)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_shutdown(cx);
        let moved = r.is_ready() && this.flush_pending;
        this.flush_pending = r.is_pending();
        this.watch(cx, r, |_| moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_write_without_progress_fails_after_the_write_timeout() {
        // A 64-byte pipe whose reader reads nothing: the second write can never complete.
        let (a, _reader) = tokio::io::duplex(64);
        let mut guarded = StallGuard::new(a);
        guarded.write_all(&[0; 64]).await.unwrap();
        // (Bounded, so that a guard that never fires fails the test instead of hanging it.)
        let err = tokio::time::timeout(Duration::from_secs(60), guarded.write_all(&[1]))
            .await
            .expect("the guard ends the write")
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        // Given up on: its close will be a reset.
        assert!(guarded.reset_handle().requested());
    }

    #[tokio::test]
    async fn a_connection_given_up_on_is_reset_and_others_close_cleanly() {
        for reset in [false, true] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let mut guarded = StallGuard::new(server);
            guarded.write_all(b"unread").await.unwrap();
            if reset {
                guarded.reset_handle().request();
            }
            drop(guarded);
            let mut got = Vec::new();
            let end = client.read_to_end(&mut got).await;
            if reset {
                assert_eq!(end.unwrap_err().kind(), std::io::ErrorKind::ConnectionReset);
            } else {
                assert_eq!(end.unwrap(), 6);
                assert_eq!(got, b"unread");
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn progress_restarts_the_clock() {
        // The reader takes 64 bytes every 6 s (less than WRITE_TIMEOUT apart): 640 bytes take
        // 60 s in all, far past the timeout, yet every write makes progress in time.
        let (a, mut reader) = tokio::io::duplex(64);
        let mut guarded = StallGuard::new(a);
        let slow = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let mut total = 0;
            while total < 640 {
                tokio::time::sleep(Duration::from_secs(6)).await;
                total += reader.read(&mut buf).await.unwrap();
            }
            total
        });
        guarded.write_all(&[7; 640]).await.unwrap();
        assert!(!guarded.reset_handle().requested());
        drop(guarded);
        assert_eq!(slow.await.unwrap(), 640);
    }
}
