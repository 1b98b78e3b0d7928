//! The protocol revision: [`ProtocolVersion`]. A leaf module.

use pushwire_engineio::ProtocolVersion as EioVersion;

/// A Socket.IO protocol revision this crate speaks.
///
/// The two share the packet format (`<type>[<n>-][<nsp>,][<id>][JSON]`) and differ in what a
/// packet may carry and in the session rules (see each variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// Revision 4: socket.io 1.x/2.x (socket.io-parser 3.x), over Engine.io revision 3. Packet
    /// type 4 is `ERROR` with a string; the client is connected to `/` implicitly; auth data
    /// travels as a query string inside the namespace (`0/admin?token=1,`).
    V4 = 4,
    /// Revision 5: socket.io 3/4 (socket.io-parser 4.x), over Engine.io revision 4. Packet type
    /// 4 is `CONNECT_ERROR` with an object; every namespace, `/` too, needs a `CONNECT`, which
    /// may carry an auth object; reserved event names are refused.
    V5 = 5,
}

impl ProtocolVersion {
    /// Both revisions, oldest first.
    pub const ALL: [ProtocolVersion; 2] = [ProtocolVersion::V4, ProtocolVersion::V5];

    /// The revision number (4 or 5).
    #[must_use]
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The Engine.io revision this one runs on ("It is built on top of the 4th revision of the
    /// Engine.IO protocol (hence the `EIO=4` query parameter)", v5 spec, History).
    #[must_use]
    pub const fn engineio(self) -> EioVersion {
        match self {
            Self::V4 => EioVersion::V3,
            Self::V5 => EioVersion::V4,
        }
    }

    /// The Socket.IO revision spoken over an Engine.io revision.
    #[must_use]
    pub const fn from_engineio(eio: EioVersion) -> Self {
        match eio {
            EioVersion::V3 => Self::V4,
            EioVersion::V4 => Self::V5,
        }
    }
}
