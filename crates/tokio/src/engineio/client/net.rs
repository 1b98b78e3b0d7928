//! The client's connections: where the endpoint is ([`Target`]), how a connection is made
//! ([`Connector`]: plain TCP, or TLS with feature `engineio-rustls`), and the small pool of
//! idle HTTP/1.1 connections that polling requests reuse.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::ConnectError;

/// How the client reaches the server: plain TCP for `http://` URLs, and TLS for `https://`
/// ones once given a rustls configuration (`Connector::rustls`, feature `engineio-rustls`).
/// Cheap to clone.
#[derive(Clone, Default)]
pub struct Connector {
    #[cfg(feature = "engineio-rustls")]
    tls: Option<tokio_rustls::TlsConnector>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[cfg(feature = "engineio-rustls")]
        let tls = self.tls.is_some();
        #[cfg(not(feature = "engineio-rustls"))]
        let tls = false;
        f.debug_struct("Connector").field("tls", &tls).finish()
    }
}

impl Connector {
    /// Plain TCP only: `https://` URLs are refused ([`ConnectError::InvalidUrl`]).
    #[must_use]
    pub fn plain() -> Self {
        Self::default()
    }

    /// TLS for `https://` URLs with `config` (its roots, client certificates), plain TCP for
    /// `http://`. The ALPN protocols are set to `http/1.1`: polling runs on HTTP/1.1, and
    /// the websocket transport's upgrade needs it.
    #[cfg(feature = "engineio-rustls")]
    #[must_use]
    pub fn rustls(config: Arc<rustls::ClientConfig>) -> Self {
        let mut c = rustls::ClientConfig::clone(&config);
        c.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            tls: Some(tokio_rustls::TlsConnector::from(Arc::new(c))),
        }
    }

    /// Whether `https://` URLs can be reached.
    #[must_use]
    pub fn has_tls(&self) -> bool {
        #[cfg(feature = "engineio-rustls")]
        return self.tls.is_some();
        #[cfg(not(feature = "engineio-rustls"))]
        false
    }

    /// A new connection to `target`, over TLS when it is `https`.
    async fn open(&self, target: &Target) -> io::Result<Io> {
        let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
        tcp.set_nodelay(true)?;
        if !target.https {
            return Ok(Io::Plain(tcp));
        }
        #[cfg(feature = "engineio-rustls")]
        if let Some(tls) = &self.tls {
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            return Ok(Io::Tls(Box::new(tls.connect(name, tcp).await?)));
        }
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "https:// without a TLS configuration",
        ))
    }
}

/// A connection to the server: TCP, or TLS over TCP.
pub(super) enum Io {
    Plain(TcpStream),
    #[cfg(feature = "engineio-rustls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "engineio-rustls")]
            Io::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "engineio-rustls")]
            Io::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "engineio-rustls")]
            Io::Tls(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "engineio-rustls")]
            Io::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "engineio-rustls")]
            Io::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "engineio-rustls")]
            Io::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Idle connections kept for reuse: a polling session has at most one GET and one POST in
/// flight, so two cover it.
const POOL_SIZE: usize = 2;

/// An idle connection older than this is closed rather than reused: servers close
/// keep-alive connections idle for a few seconds (node's `keepAliveTimeout` 5 s, gunicorn's
/// `keepalive` 2 s), and a request written as the server closes its end would be lost in
/// between. A polling session's GETs follow each other at once; only a POST after a quiet
/// second opens a new connection.
const POOL_IDLE: Duration = Duration::from_secs(1);

type Sender = SendRequest<Full<Bytes>>;

/// Where the endpoint is, how to reach it, and its idle connections (shared by the clones
/// handed to request tasks).
#[derive(Clone)]
pub(super) struct Target {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) https: bool,
    pub(super) path: String,
    /// The URL's own query string with a trailing `&` (empty when it has none): sent
    /// before Engine.io's parameters on every request, as engine.io-client sends its
    /// `query` option (socket.io-client 2 puts the auth of `/` there).
    pub(super) query: String,
    pub(super) connector: Connector,
    idle: Arc<Mutex<Vec<(Sender, Instant)>>>,
}

impl Target {
    /// `http://host[:port]/path[?query]`, or `https://…` when `connector` has TLS.
    pub(super) fn parse(url: &str, connector: Connector) -> Result<Target, ConnectError> {
        let bad = || ConnectError::InvalidUrl(url.to_string());
        let uri: http::Uri = url.parse().map_err(|_| bad())?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") if connector.has_tls() => true,
            _ => return Err(bad()),
        };
        let host = uri.host().ok_or_else(bad)?.to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let mut path = uri.path().to_string();
        if !path.ends_with('/') {
            path.push('/');
        }
        let query = match uri.query() {
            Some(q) if !q.is_empty() => format!("{q}&"),
            _ => String::new(),
        };
        Ok(Target {
            host,
            port,
            https,
            path,
            query,
            connector,
            idle: Arc::default(),
        })
    }

    /// The request target: the path, the URL's query, then Engine.io's.
    pub(super) fn uri(&self, eio_query: &str) -> String {
        format!("{}?{}{eio_query}", self.path, self.query)
    }

    /// The `Host` header.
    pub(super) fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// A new connection (the websocket transport's).
    pub(super) async fn connect(&self) -> io::Result<Io> {
        self.connector.open(self).await
    }

    /// An idle pooled connection, if one is ready and fresh.
    fn take_idle(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((sender, since)) = idle.pop() {
            if sender.is_ready() && since.elapsed() < POOL_IDLE {
                return Some(sender);
            }
        }
        None
    }

    /// Gives back the connection of a response read in full, for the next request.
    pub(super) fn reuse(&self, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOL_SIZE {
            idle.push((sender, Instant::now()));
        }
    }

    /// A new HTTP/1.1 connection, its driver spawned.
    async fn open_http(&self) -> Option<Sender> {
        let io = self.connector.open(self).await.ok()?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .ok()?;
        tokio::spawn(conn);
        Some(sender)
    }

    /// Sends `request` on an idle connection, or a new one; and when a reused connection
    /// turns out closed before the request was written (hyper hands the request back), once
    /// more on a new one. Returns the response and its connection, to be given back with
    /// [`Target::reuse`] once the body is read.
    pub(super) async fn send(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Option<(http::Response<hyper::body::Incoming>, Sender)> {
        let mut request = request;
        if let Some(mut sender) = self.take_idle() {
            match sender.try_send_request(request).await {
                Ok(resp) => return Some((resp, sender)),
                Err(mut e) => request = e.take_message()?,
            }
        }
        let mut sender = self.open_http().await?;
        let resp = sender.send_request(request).await.ok()?;
        Some((resp, sender))
    }

    /// A request builder with the `Host` header.
    pub(super) fn request(&self, method: http::Method, eio_query: &str) -> http::request::Builder {
        http::Request::builder()
            .method(method)
            .uri(self.uri(eio_query))
            .header(header::HOST, self.authority())
    }
}
