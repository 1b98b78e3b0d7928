//! The application's side of the sessions: [`Incoming`] and [`Socket`].

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::shared::Shared;
use pushwire_engineio::server;

use super::{CloseReason, PacketData, ProtocolVersion, SendError, TransportKind};

/// The new sessions of an [`EngineIo`](super::EngineIo), in the order they were opened.
#[derive(Debug)]
pub struct Incoming(pub(super) mpsc::Receiver<Socket>);

impl Incoming {
    /// The next new session; `None` once the endpoint is gone (every [`EngineIo`](super::EngineIo) and
    /// [`Socket`] dropped).
    pub async fn accept(&mut self) -> Option<Socket> {
        self.0.recv().await
    }
}

impl futures_core::Stream for Incoming {
    type Item = Socket;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Socket>> {
        self.0.poll_recv(cx)
    }
}

/// One Engine.io session, as the application sees it: receive its messages, send to it,
/// close it. Dropping it closes the session.
pub struct Socket {
    pub(super) sid: String,
    pub(super) query: String,
    pub(super) protocol: ProtocolVersion,
    pub(super) rx: mpsc::Receiver<PacketData>,
    pub(super) reason: Arc<OnceLock<CloseReason>>,
    pub(super) shared: Arc<Shared>,
    pub(super) close_on_drop: bool,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("sid", &self.sid)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl Socket {
    /// The session id.
    #[must_use]
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The query string of the request that opened the session (undecoded, without `?`):
    /// socket.io's `socket.handshake.query` before parsing.
    #[must_use]
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The protocol revision the client asked for (`EIO=3` or `EIO=4`).
    #[must_use]
    pub fn protocol(&self) -> ProtocolVersion {
        self.protocol
    }

    /// The transport in use now (`None` once the session is gone).
    #[must_use]
    pub fn transport(&self) -> Option<TransportKind> {
        let inner = self.shared.lock();
        inner
            .server
            .session(&self.sid)
            .map(server::Session::transport)
    }

    /// The next message; `None` once the session is closed (see [`Socket::close_reason`])
    /// and the messages received before have been taken. Cancel safe.
    pub async fn recv(&mut self) -> Option<PacketData> {
        self.rx.recv().await
    }

    /// Queues `data` for the client (without waiting).
    ///
    /// # Errors
    /// [`SendError::Closed`] once the session is closing or closed;
    /// [`SendError::OutputFull`] when `max_buffered_packets` packets already wait for the
    /// client (it is not fetching them), [`SendError::OutputBytesFull`] when `data` would take
    /// the waiting bytes past `max_buffered_bytes`: `data` is not queued.
    pub fn send(&self, data: PacketData) -> Result<(), SendError> {
        let mut inner = self.shared.lock();
        let r = inner.server.send(&self.sid, data);
        self.shared.pump_for(&mut inner, Some(&self.sid), false);
        r
    }

    /// [`Socket::send`] of a text message.
    ///
    /// # Errors
    /// As [`Socket::send`].
    pub fn send_text(&self, text: impl Into<String>) -> Result<(), SendError> {
        self.send(PacketData::Text(text.into()))
    }

    /// [`Socket::send`] of a binary message.
    ///
    /// # Errors
    /// As [`Socket::send`].
    pub fn send_binary(&self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send(PacketData::Binary(data.into()))
    }

    /// Closes the session (a `close` packet goes to the client after what is queued). For
    /// this `Socket` the session is closed at once: [`Socket::recv`] returns the messages
    /// already received, then `None`, and [`Socket::close_reason`] is
    /// [`CloseReason::ForcedClose`], without waiting for the client to fetch the `close`
    /// packet (a polling client between two requests, or gone: up to the server's
    /// `close_timeout`).
    pub fn close(&self) {
        let mut inner = self.shared.lock();
        inner.server.close(self.shared.now(), &self.sid);
        Shared::forget(&mut inner, &self.sid);
        self.shared.pump_for(&mut inner, Some(&self.sid), true);
    }

    /// Why the session closed, once it has.
    #[must_use]
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.reason.get().copied()
    }
}

impl futures_core::Stream for Socket {
    type Item = PacketData;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<PacketData>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.close_on_drop && self.reason.get().is_none() {
            self.close();
        }
    }
}
