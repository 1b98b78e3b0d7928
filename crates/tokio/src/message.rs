//! [`Message`]: a received or sent WebSocket message, as tungstenite names them.

use bytes::Bytes;
use pushwire_ws::{CloseFrame, Event, Utf8Bytes};

/// A WebSocket message (variants as tungstenite's `Message`, without `Frame`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (valid UTF-8).
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping. Received pings are answered by the stream itself.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// A Close frame. Sent, `None` means code 1000 with no reason. Received, `None` means
    /// the peer sent no status code (1005); the stream ends after it.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(s: impl Into<Utf8Bytes>) -> Message {
        Message::Text(s.into())
    }

    /// A binary message.
    pub fn binary(b: impl Into<Bytes>) -> Message {
        Message::Binary(b.into())
    }

    /// Payload length in bytes (for a Close, code and reason).
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Message::Text(t) => t.len(),
            Message::Binary(b) | Message::Ping(b) | Message::Pong(b) => b.len(),
            Message::Close(c) => c.as_ref().map_or(0, |c| 2 + c.reason_bytes().len()),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Event> for Message {
    fn from(e: Event) -> Message {
        match e {
            Event::Text(t) => Message::Text(t),
            Event::Binary(b) => Message::Binary(b),
            Event::Ping(b) => Message::Ping(b),
            Event::Pong(b) => Message::Pong(b),
            Event::Close(c) => Message::Close(c),
        }
    }
}
