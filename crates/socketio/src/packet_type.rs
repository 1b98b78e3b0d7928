//! The seven packet types: [`PacketType`]. A leaf module.

/// A Socket.IO packet type, the first character of every packet.
///
/// "Here is the list of available packet types" (v5 spec, Exchange protocol): the numbers are
/// the same in both revisions; type 4 is named `ERROR` in revision 4 and `CONNECT_ERROR` in
/// revision 5 ("The meaning and the code number (4) are not modified").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PacketType {
    /// `0`: the client asks to join a namespace; the server accepts.
    Connect = 0,
    /// `1`: one side leaves a namespace.
    Disconnect = 1,
    /// `2`: an event: a non-empty array, the event name first.
    Event = 2,
    /// `3`: the answer to an event that carried an ack id: an array.
    Ack = 3,
    /// `4`: the server refuses a namespace (`CONNECT_ERROR`; revision 4: `ERROR`).
    ConnectError = 4,
    /// `5`: an event with binary attachments.
    BinaryEvent = 5,
    /// `6`: an ack with binary attachments.
    BinaryAck = 6,
}

impl PacketType {
    /// All seven, in number order.
    pub const ALL: [PacketType; 7] = [
        Self::Connect,
        Self::Disconnect,
        Self::Event,
        Self::Ack,
        Self::ConnectError,
        Self::BinaryEvent,
        Self::BinaryAck,
    ];

    /// The type for a digit character `0`–`6`.
    #[must_use]
    pub const fn from_char(c: u8) -> Option<Self> {
        match c {
            b'0' => Some(Self::Connect),
            b'1' => Some(Self::Disconnect),
            b'2' => Some(Self::Event),
            b'3' => Some(Self::Ack),
            b'4' => Some(Self::ConnectError),
            b'5' => Some(Self::BinaryEvent),
            b'6' => Some(Self::BinaryAck),
            _ => None,
        }
    }

    /// The digit character.
    #[must_use]
    pub const fn as_char(self) -> u8 {
        b'0' + self as u8
    }

    /// The name socket.io-parser 4.x gives the type (`CONNECT_ERROR` for 4), as the CLI's JSON
    /// prints it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Disconnect => "DISCONNECT",
            Self::Event => "EVENT",
            Self::Ack => "ACK",
            Self::ConnectError => "CONNECT_ERROR",
            Self::BinaryEvent => "BINARY_EVENT",
            Self::BinaryAck => "BINARY_ACK",
        }
    }

    /// The type for a name from [`PacketType::name`] (also `ERROR`, revision 4's name for 4).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ERROR" => Some(Self::ConnectError),
            _ => Self::ALL.into_iter().find(|t| t.name() == name),
        }
    }

    /// Whether packets of this type carry binary attachments (`5`, `6`).
    #[must_use]
    pub const fn is_binary(self) -> bool {
        matches!(self, Self::BinaryEvent | Self::BinaryAck)
    }

    /// Whether this is an event (`2` or `5`).
    #[must_use]
    pub const fn is_event(self) -> bool {
        matches!(self, Self::Event | Self::BinaryEvent)
    }

    /// Whether this is an ack (`3` or `6`).
    #[must_use]
    pub const fn is_ack(self) -> bool {
        matches!(self, Self::Ack | Self::BinaryAck)
    }
}
