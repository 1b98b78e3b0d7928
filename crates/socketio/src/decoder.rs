//! [`Decoder`]: Engine.io messages in, Socket.IO packets out, binary attachments gathered.

use pushwire_engineio::PacketData;

use crate::config::Limits;
use crate::error::DecodeError;
use crate::packet::{decode_text, Packet};
use crate::version::ProtocolVersion;

/// Turns the Engine.io messages of one connection into packets (socket.io-parser's
/// `Decoder`).
///
/// A text message is a packet; a binary packet (`BINARY_EVENT`, `BINARY_ACK`) announces `n`
/// attachments, which are the next `n` binary messages. The input unit is a whole message,
/// already framed by Engine.io, so there is nothing to buffer between calls but those
/// attachments: [`Decoder::push`] takes one message and returns the packet it completes, if
/// any. Errors are sticky: socket.io closes the connection on the first one.
///
/// ```
/// use bytes::Bytes;
/// use pushwire_engineio::PacketData;
/// use pushwire_socketio::{Decoder, Limits, ProtocolVersion, Value};
///
/// let mut dec = Decoder::new(ProtocolVersion::V5, Limits::DEFAULT);
/// let text = PacketData::Text(r#"51-["baz",{"_placeholder":true,"num":0}]"#.into());
/// assert_eq!(dec.push(text)?, None); // waits for its attachment
/// let packet = dec.push(PacketData::Binary(Bytes::from_static(&[1, 2, 3, 4])))?.unwrap();
/// assert_eq!(packet.event_name(), Some("baz"));
/// assert_eq!(packet.args()?, vec![Value::Binary(Bytes::from_static(&[1, 2, 3, 4]))]);
/// # Ok::<(), pushwire_socketio::DecodeError>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    version: ProtocolVersion,
    limits: Limits,
    pending: Option<Pending>,
    error: Option<DecodeError>,
}

#[derive(Debug)]
struct Pending {
    packet: Packet,
    expected: usize,
    bytes: usize,
}

impl Decoder {
    /// A decoder for one connection speaking `version`.
    #[must_use]
    pub fn new(version: ProtocolVersion, limits: Limits) -> Self {
        Self {
            version,
            limits,
            pending: None,
            error: None,
        }
    }

    /// The revision this decoder reads.
    #[must_use]
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Whether a binary packet is waiting for attachments.
    #[must_use]
    pub fn is_reconstructing(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes one Engine.io message; returns the packet it completes (`Ok(None)`: a binary
    /// packet's header or one of its attachments, more to come).
    ///
    /// # Errors
    /// The first [`DecodeError`], then the same error on every call: close the connection.
    pub fn push(&mut self, message: PacketData) -> Result<Option<Packet>, DecodeError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let r = self.push_inner(message);
        if let Err(e) = &r {
            self.pending = None;
            self.error = Some(e.clone());
        }
        r
    }

    fn push_inner(&mut self, message: PacketData) -> Result<Option<Packet>, DecodeError> {
        match message {
            PacketData::Text(text) => {
                // "got plaintext data when reconstructing a packet".
                if self.pending.is_some() {
                    return Err(DecodeError::UnexpectedText);
                }
                let header = decode_text(text, self.version, &self.limits)?;
                // A revision 4 binary packet announcing 0 attachments is complete at once.
                // (socket.io-parser 3.4 emits it too, "if (attachments === 0)
                // this.emit('decoded', packet)", but keeps its reconstructor, so it then
                // refuses every text message, "got plaintext data when reconstructing a
                // packet"; the decoder here goes on. tests/differential.rs,
                // `V4ZeroAttachmentsStuck`.)
                if header.attachments == 0 {
                    return Ok(Some(header.packet));
                }
                let bytes = header.packet.text_len();
                self.pending = Some(Pending {
                    packet: header.packet,
                    expected: header.attachments,
                    bytes,
                });
                Ok(None)
            }
            PacketData::Binary(b) => {
                // "got binary data when not reconstructing a packet".
                let Some(p) = &mut self.pending else {
                    return Err(DecodeError::UnexpectedBinary);
                };
                p.bytes = p.bytes.saturating_add(b.len());
                if p.bytes > self.limits.max_packet_bytes {
                    return Err(DecodeError::PacketTooLarge {
                        limit: self.limits.max_packet_bytes,
                    });
                }
                p.packet.push_attachment(b);
                if p.packet.attachments().len() < p.expected {
                    return Ok(None);
                }
                Ok(self.pending.take().map(|p| p.packet))
            }
        }
    }
}
