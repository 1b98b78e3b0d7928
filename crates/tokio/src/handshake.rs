//! Opening handshakes over HTTP/1.1: [`WebSocketStream::accept`] and [`WebSocketStream::client`].

use pushwire_ws::deflate::negotiate::{ClientWindowBits, Offer};
use pushwire_ws::handshake::{ClientHandshake, ClientRequest, HandshakeLimits, ServerHandshake};
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
    pub async fn accept(mut stream: S, config: Config) -> Result<Self, Error> {
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
        let (response, conn) = hs
            .into_connection(&offer, None, config.to_ws_config(), config.deflate)
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
    pub async fn client(
        mut stream: S,
        host: &str,
        path: &str,
        config: Config,
    ) -> Result<Self, Error> {
        let mut keys = StdRandom::new();
        let mut req = ClientRequest::new(host, path);
        if config.deflate.is_some() {
            let offer = Offer {
                client_max_window_bits: ClientWindowBits::Any,
                ..Offer::default()
            };
            req.extensions = vec![offer.to_header()];
        }
        let mut hs = ClientHandshake::new(&req, &mut keys, HandshakeLimits::DEFAULT)
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
        Ok(WebSocketStream::from_connection(stream, conn, config))
    }
}
