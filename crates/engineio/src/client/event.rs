//! What a client session reports to the application: [`Event`], and why it closed:
//! [`CloseReason`].

use crate::open::OpenPacket;
use crate::packet::PacketData;

/// Why the client session closed (engine.io-client's reason strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// `"transport close"`: the server sent `close` or the transport ended.
    TransportClose,
    /// `"forced close"`: [`crate::client::Session::close`] was called.
    ForcedClose,
    /// `"ping timeout"`: no packet from the server in time.
    PingTimeout,
    /// `"transport error"`: an HTTP error status, a bad handshake or a malformed payload.
    TransportError,
}

/// What the client session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake succeeded.
    Open(OpenPacket),
    /// A `message` packet's data.
    Message(PacketData),
    /// The session moved to websocket.
    Upgraded,
    /// The websocket probe failed; polling goes on.
    UpgradeFailed,
    /// Closed; nothing is reported after this.
    Closed(CloseReason),
}
