//! Opening handshakes over HTTP/1.1: [`WebSocketStream::accept`] and [`WebSocketStream::client`].

use pushwire_ws::deflate::negotiate::{ClientWindowBits, Offer};
use pushwire_ws::handshake::{
    rejection_response, Accepted, ClientHandshake, ClientOffer, ClientRequest, HandshakeLimits,
    ServerHandshake,
};
use pushwire_ws::StdRandom;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{Config, Error, HandshakeError, WebSocketStream};

/// Bytes read per call during the handshake (the head is bounded by [`HandshakeLimits`]).
const HEAD_CHUNK: usize = 4096;

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Server side: reads the client's HTTP/1.1 request (bounded by
    /// [`HandshakeLimits::DEFAULT`]), answers 400/426 and fails on a bad one, else writes
    /// the 101 (agreeing permessage-deflate when offered and `config.deflate` is `Some`) and
    /// returns the stream. Bytes the client sent after its request are kept.
    ///
    /// Not cancel safe (bytes of the request read so far are lost); wrap it in a timeout
    /// rather than a `select!` branch.
    pub async fn accept(stream: S, config: Config) -> Result<Self, Error> {
        Self::accept_with(stream, config, |_| Ok(None)).await
    }

    /// As [`accept`](Self::accept), with a say on the valid request: `decide` sees the
    /// [`ClientOffer`] (path, host, origin, subprotocols) and returns `Ok(protocol)` to accept
    /// — `protocol` one of the offered subprotocols, or `None` — or `Err(status)` to refuse
    /// with that HTTP status (403 for an origin it does not serve, say; the response is
    /// written and [`HandshakeError::Refused`] returned).
    pub async fn accept_with<F>(mut stream: S, config: Config, decide: F) -> Result<Self, Error>
    where
        F: FnOnce(&ClientOffer) -> Result<Option<String>, u16>,
    {
        let mut hs = ServerHandshake::new(HandshakeLimits::DEFAULT);
        let mut buf = vec![0u8; HEAD_CHUNK];
        let offer = loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err(HandshakeError::Eof.into());
            }
            match hs.feed(&buf[..n]) {
                Ok(None) => {}
                Ok(Some(offer)) => break offer,
                Err(e) => {
                    stream.write_all(&e.response()).await?;
                    stream.shutdown().await?;
                    return Err(HandshakeError::Request(e).into());
                }
            }
        };
        let protocol = match decide(&offer) {
            Ok(p) => p,
            Err(status) => {
                stream.write_all(&rejection_response(status)).await?;
                stream.shutdown().await?;
                return Err(HandshakeError::Refused(status).into());
            }
        };
        let (response, conn) = hs
            .into_connection(
                &offer,
                protocol.as_deref(),
                config.to_ws_config(),
                config.deflate,
            )
            .map_err(HandshakeError::Accept)?;
        stream.write_all(&response).await?;
        stream.flush().await?;
        Ok(WebSocketStream::from_connection(stream, conn, config))
    }

    /// Client side: writes a GET for `path` with `Host: host` (offering permessage-deflate
    /// when `config.deflate` is `Some`), reads and checks the 101, and returns the stream.
    /// Mask keys (and the handshake nonce) come from [`StdRandom`].
    ///
    /// Not cancel safe, like [`accept`](Self::accept).
    pub async fn client(stream: S, host: &str, path: &str, config: Config) -> Result<Self, Error> {
        let (ws, _) = Self::connect(stream, ClientRequest::new(host, path), config).await?;
        Ok(ws)
    }

    /// As [`client`](Self::client), with the whole request: origin, subprotocols and extra
    /// extension offers (`request.extensions`; permessage-deflate is added when
    /// `config.deflate` is `Some`). Returns the stream and what the server agreed to (its
    /// chosen subprotocol, the extensions).
    pub async fn connect(
        mut stream: S,
        mut request: ClientRequest,
        config: Config,
    ) -> Result<(Self, Accepted), Error> {
        let mut keys = StdRandom::new();
        if config.deflate.is_some() {
            let offer = Offer {
                client_max_window_bits: ClientWindowBits::Any,
                ..Offer::default()
            };
            request.extensions.push(offer.to_header());
        }
        let mut hs = ClientHandshake::new(&request, &mut keys, HandshakeLimits::DEFAULT)
            .map_err(HandshakeError::ClientRequest)?;
        stream.write_all(&hs.request()).await?;
        stream.flush().await?;
        let mut buf = vec![0u8; HEAD_CHUNK];
        let accepted = loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err(HandshakeError::Eof.into());
            }
            match hs.feed(&buf[..n]) {
                Ok(None) => {}
                Ok(Some(a)) => break a,
                Err(e) => return Err(HandshakeError::Response(e).into()),
            }
        };
        let conn = hs
            .into_connection(
                &accepted,
                config.to_ws_config(),
                Box::new(keys),
                config.deflate,
            )
            .map_err(HandshakeError::Response)?;
        Ok((
            WebSocketStream::from_connection(stream, conn, config),
            accepted,
        ))
    }
}
