//! The packet type: [`PacketType`], the first character (string form) or byte (binary
//! form) of every packet.

use core::fmt;

/// The seven Engine.io v3 packet types.
///
/// > The packet type id is an integer. The following are the accepted packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum PacketType {
    /// `0` — sent by the server when a new transport is opened; carries the handshake JSON.
    Open = 0,
    /// `1` — requests the close of this transport.
    Close = 1,
    /// `2` — sent by the client; the server answers with a pong carrying the same data.
    Ping = 2,
    /// `3` — the answer to a ping (`3probe` answers the upgrade probe `2probe`).
    Pong = 3,
    /// `4` — an application message.
    Message = 4,
    /// `5` — the client switches to the new transport after a successful probe.
    Upgrade = 5,
    /// `6` — does nothing; used to release a pending poll during an upgrade.
    Noop = 6,
}

impl PacketType {
    /// All types, in numeric order.
    pub const ALL: [PacketType; 7] = [
        PacketType::Open,
        PacketType::Close,
        PacketType::Ping,
        PacketType::Pong,
        PacketType::Message,
        PacketType::Upgrade,
        PacketType::Noop,
    ];

    /// The type with number `n` (0–6), or `None`.
    #[must_use]
    pub const fn from_number(n: u8) -> Option<Self> {
        match n {
            0 => Some(Self::Open),
            1 => Some(Self::Close),
            2 => Some(Self::Ping),
            3 => Some(Self::Pong),
            4 => Some(Self::Message),
            5 => Some(Self::Upgrade),
            6 => Some(Self::Noop),
            _ => None,
        }
    }

    /// The type whose ASCII digit is `c` (`b'0'`–`b'6'`), or `None`.
    #[must_use]
    pub const fn from_digit(c: u8) -> Option<Self> {
        if c.is_ascii_digit() {
            Self::from_number(c - b'0')
        } else {
            None
        }
    }

    /// The type number (0–6), the first byte of the binary form.
    #[must_use]
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The ASCII digit (`b'0'`–`b'6'`), the first byte of the string form.
    #[must_use]
    pub const fn digit(self) -> u8 {
        b'0' + self as u8
    }

    /// The name engine.io-parser uses (`"open"`, `"close"`, … `"noop"`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Close => "close",
            Self::Ping => "ping",
            Self::Pong => "pong",
            Self::Message => "message",
            Self::Upgrade => "upgrade",
            Self::Noop => "noop",
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn displays_the_protocol_names() {
        // The names of the protocol's packet types, in type-number order 0–6.
        let names = [
            PacketType::Open,
            PacketType::Close,
            PacketType::Ping,
            PacketType::Pong,
            PacketType::Message,
            PacketType::Upgrade,
            PacketType::Noop,
        ]
        .map(|t| format!("{t}"));
        assert_eq!(
            names,
            ["open", "close", "ping", "pong", "message", "upgrade", "noop"]
        );
    }
}
