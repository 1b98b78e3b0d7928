//! The protocol revision: [`ProtocolVersion`], the `EIO` query parameter. A leaf module: the
//! wire modules of both revisions and the sessions name it, it names none of them.

use core::fmt;

/// An Engine.io protocol revision this crate speaks, as the `EIO` query parameter names it.
///
/// Revision 3 is socket.io 1.x/2.x (engine.io-client 3.x); revision 4 is socket.io 3 and later
/// (engine.io-client 4+). The two share the packet types and the [`crate::Packet`] value; they
/// differ in the wire forms (the crate root's functions for 3, [`crate::v4`] for 4) and in the
/// heartbeat direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// Revision 3: length-prefixed payloads, `b<type><base64>`, XHR2 binary payloads, JSONP;
    /// the client pings.
    V3 = 3,
    /// Revision 4: payloads joined by `\x1e`, `b<base64>` (always a message), binary WebSocket
    /// frames without a type byte; the server pings.
    V4 = 4,
}

impl ProtocolVersion {
    /// Both revisions, oldest first.
    pub const ALL: [ProtocolVersion; 2] = [ProtocolVersion::V3, ProtocolVersion::V4];

    /// The revision number (3 or 4).
    #[must_use]
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The value of the `EIO` query parameter (`"3"` or `"4"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V3 => "3",
            Self::V4 => "4",
        }
    }

    /// The revision an `EIO` query value names, or `None` for any other value (engine.io
    /// answers those with error 5, `Unsupported protocol version`). Exactly `"3"` or `"4"`:
    /// no sign, space or leading zero.
    #[must_use]
    pub fn from_query_value(value: &str) -> Option<Self> {
        match value {
            "3" => Some(Self::V3),
            "4" => Some(Self::V4),
            _ => None,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_roundtrip_and_others_are_refused() {
        for v in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::from_query_value(v.as_str()), Some(v));
            assert_eq!(alloc::format!("{v}"), v.as_str());
            assert_eq!(v.as_str().parse::<u8>().unwrap(), v.number());
        }
        for bad in ["", "2", "5", "04", " 4", "4 ", "+4", "v4", "3.0"] {
            assert_eq!(ProtocolVersion::from_query_value(bad), None, "{bad:?}");
        }
    }
}
