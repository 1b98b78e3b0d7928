//! The hook a negotiated extension (RFC 6455 §9) plugs into: [`Extension`].

use alloc::boxed::Box;

use bytes::Bytes;

use crate::frame::OpCode;

/// Kind of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl MessageKind {
    pub(crate) fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

/// An error from an [`Extension`]: the close code to fail the connection with, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionError {
    /// Close code to send (e.g. 1007 for corrupt compressed data, 1009 for too big).
    pub code: u16,
    /// What went wrong.
    pub reason: &'static str,
}

/// A negotiated extension (RFC 6455 §9), such as permessage-deflate: it claims RSV bits and
/// transforms whole messages.
///
/// Hook rules: RSV bits in [`rsv_bits`](Self::rsv_bits) are accepted on the *first* frame of a
/// data message only (continuation and control frames must have them clear, as RFC 7692
/// requires). [`decode`](Self::decode) is called for each received message whose first frame
/// had any of them set; UTF-8 of such text is checked after decoding. Whole messages sent with
/// `send_text`/`send_binary`/`send_fragmented` go through [`encode`](Self::encode) (a fragmented
/// one is split after encoding); fragments streamed with `send_fragment` go through
/// [`encode_fragment`](Self::encode_fragment).
pub trait Extension: Send {
    /// RSV bits (wire positions, see [`RSV1`](crate::frame::RSV1)) this extension claims.
    fn rsv_bits(&self) -> u8;
    /// Transforms a received message. `max_len` is [`Limits::max_message_size`](crate::Limits::max_message_size); the output
    /// must not exceed it.
    fn decode(
        &mut self,
        kind: MessageKind,
        rsv: u8,
        payload: Bytes,
        max_len: u64,
    ) -> Result<Bytes, ExtensionError>;
    /// Transforms an outgoing message, returning the RSV bits for its first frame.
    fn encode(&mut self, kind: MessageKind, payload: Bytes) -> Result<(u8, Bytes), ExtensionError>;
    /// Transforms one fragment of an outgoing message streamed with `send_fragment`: `first`
    /// and `fin` say where it sits in the message (the connection calls this in order, one
    /// message at a time). The RSV bits returned for the first fragment go on its frame; those
    /// returned for later fragments are ignored (continuation frames go out with RSV clear).
    /// The default passes fragments through untransformed with RSV clear.
    fn encode_fragment(
        &mut self,
        kind: MessageKind,
        payload: Bytes,
        first: bool,
        fin: bool,
    ) -> Result<(u8, Bytes), ExtensionError> {
        let _ = (kind, first, fin);
        Ok((0, payload))
    }

    /// Moves the receiving half out, for [`Connection::split`](crate::Connection::split):
    /// returns an extension that decodes received messages as this one would have (same
    /// [`rsv_bits`](Self::rsv_bits)), after which this one is only asked to encode. An
    /// extension whose two directions share state cannot be split: the default returns
    /// `None`, and the connection then refuses to split.
    fn split_inbound(&mut self) -> Option<Box<dyn Extension>> {
        None
    }
}
