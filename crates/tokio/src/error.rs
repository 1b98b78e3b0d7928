//! [`Error`]: everything a [`WebSocketStream`](crate::WebSocketStream) can fail with.

use std::time::Duration;

use pushwire_ws::handshake::{AcceptError, ClientRequestError, RequestError, ResponseError};
use pushwire_ws::{FeedError, ProtocolError, SendError};

/// Why an opening handshake failed.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The client's request was refused (the 400/426 response has been written).
    #[error("bad request: {0}")]
    Request(#[from] RequestError),
    /// The server's response was refused.
    #[error("bad response: {0}")]
    Response(#[from] ResponseError),
    /// The client request could not be built (host or path not visible ASCII).
    #[error("invalid client request: {0}")]
    ClientRequest(#[from] ClientRequestError),
    /// The server could not build its 101 response.
    #[error("cannot accept: {0}")]
    Accept(#[from] AcceptError),
    /// The peer closed the transport before the handshake completed.
    #[error("transport closed during the handshake")]
    Eof,
    /// The server's `accept_with` callback refused the request with this status (written).
    #[error("refused with status {0}")]
    Refused(u16),
}

/// An error of a [`WebSocketStream`](crate::WebSocketStream). Not `Clone`: it can hold a
/// [`std::io::Error`].
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The peer broke the protocol (the peer's fault; the Close frame with
    /// [`ProtocolError::close_code`] has been queued and written if the transport allowed).
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// The message could not be sent (the caller's fault, or the connection is closing).
    #[error("send: {0}")]
    Send(#[from] SendError),
    /// The input could not be buffered.
    #[error("input: {0}")]
    Feed(#[from] FeedError),
    /// The opening handshake failed.
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// Queuing the message would take the write buffer past
    /// [`Config::max_write_buffer_size`](crate::Config::max_write_buffer_size).
    #[error("write buffer full ({queued} + {len} > {limit})")]
    WriteBufferFull {
        /// Bytes queued.
        queued: usize,
        /// Bytes this message would add (payload plus the largest header).
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// hyper failed: the upgrade did not complete, or the HTTP/2 request could not be sent
    /// (feature `http`).
    #[cfg(feature = "http")]
    #[error("upgrade: {0}")]
    Upgrade(#[source] hyper::Error),
    /// The close handshake is over: nothing more can be sent.
    /// While only our Close was sent, sends fail with [`SendError::Closing`] instead.
    #[error("connection closed")]
    Closed,
    /// A timer of [`Config`](crate::Config) expired: the peer is considered dead. A Close
    /// 1001 (going away) has been queued and is written within a short bound, then the
    /// stream ends (`None`) and the transport is shut down.
    #[error("{kind} timeout: nothing received for {after:?}")]
    Timeout {
        /// Which timer.
        kind: TimeoutKind,
        /// The configured duration that passed.
        after: Duration,
    },
}

/// Which timer of [`Config`](crate::Config) expired ([`Error::Timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Nothing arrived within [`Config::pong_timeout`](crate::Config::pong_timeout) after
    /// an automatic Ping.
    Pong,
    /// Nothing arrived for [`Config::idle_timeout`](crate::Config::idle_timeout).
    Idle,
    /// Our Close was not answered within
    /// [`Config::close_timeout`](crate::Config::close_timeout).
    Close,
}

impl std::fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutKind::Pong => "pong",
            TimeoutKind::Idle => "idle",
            TimeoutKind::Close => "close",
        })
    }
}

/// An error of a [`FrameCodec`](crate::codec::FrameCodec) (feature `codec`). Not `Clone`: it
/// can hold a [`std::io::Error`]. The codec writes nothing itself: on a
/// [`Protocol`](Self::Protocol) error, send a Close with [`ProtocolError::close_code`] and
/// close the transport.
#[cfg(feature = "codec")]
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum CodecError {
    /// The transport failed (as `Framed` reports it).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Decoding: the peer broke the frame rules (sticky: every later decode returns it again).
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// Encoding: a control frame payload over 125 bytes ("All control frames MUST have a
    /// payload length of 125 bytes or less").
    #[error("control payload of {len} bytes (limit {limit})")]
    ControlTooLong {
        /// Payload length.
        len: usize,
        /// 125.
        limit: usize,
    },
    /// Encoding: a control frame without FIN ("Control frames themselves MUST NOT be
    /// fragmented").
    #[error("fragmented control frame")]
    FragmentedControl,
}
