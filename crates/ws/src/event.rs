//! What a connection receives: [`Event`] (owned) and [`EventRef`] (borrowed), and their
//! text types [`Utf8Bytes`] and [`Utf8Ref`].

use alloc::string::String;
use core::fmt;

use bytes::Bytes;

use crate::close::CloseFrame;
use crate::utf8::Utf8Error;

/// Text (valid UTF-8) held as [`Bytes`], so received text is not copied.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Utf8Bytes(pub(crate) Bytes);

impl Utf8Bytes {
    /// Wraps bytes after checking they are UTF-8.
    pub fn from_bytes(b: Bytes) -> Result<Self, Utf8Error> {
        if crate::utf8::is_utf8(&b) {
            Ok(Utf8Bytes(b))
        } else {
            Err(Utf8Error)
        }
    }

    /// Wraps a static string (no copy).
    pub const fn from_static(s: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }

    /// The text. The crate allows no `unsafe` outside masking, so this re-checks UTF-8 (one SIMD
    /// pass); keep the `&str` rather than calling it in a loop.
    pub fn as_str(&self) -> &str {
        // Always valid: every constructor checked it.
        crate::utf8::to_str(&self.0).unwrap_or("")
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying [`Bytes`].
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(Bytes::from(s.into_bytes()))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

/// Something received from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete text message (reassembled if it was fragmented).
    Text(Utf8Bytes),
    /// A complete binary message (reassembled if it was fragmented).
    Binary(Bytes),
    /// A ping. With [`Config::auto_pong`](crate::Config::auto_pong) the pong is already queued.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The peer's Close frame (`None`: no status code, i.e. 1005). If we had not sent a close
    /// yet, the echo is already queued. The connection is now closed: drain the output, then
    /// see [`Connection::should_close_transport`](crate::Connection::should_close_transport).
    Close(Option<CloseFrame>),
}

/// Text (valid UTF-8) borrowed from a connection's buffers: the text of an [`EventRef`].
///
/// Like [`Utf8Bytes`], it was validated when received, and [`as_str`](Self::as_str) checks
/// again (the crate allows no `unsafe` outside masking, so `&str` can only be made by a
/// validator): code that works on the bytes (a JSON parser over `&[u8]`, a proxy forwarding
/// the text) pays for one validation only.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Utf8Ref<'a>(pub(crate) &'a [u8]);

impl<'a> Utf8Ref<'a> {
    /// The text (re-checked, a SIMD pass for long text; see the type's docs).
    pub fn as_str(&self) -> &'a str {
        // Always valid: the connection checked it.
        crate::utf8::to_str(self.0).unwrap_or_default()
    }

    /// The raw bytes (no check).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Utf8Ref<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Utf8Ref<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Utf8Ref<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// A received event borrowing the connection's buffers, returned by
/// [`Connection::poll_event_ref`](crate::Connection::poll_event_ref): valid until the next call on the connection. Nothing is
/// allocated or reference-counted for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRef<'a> {
    /// A complete text message.
    Text(Utf8Ref<'a>),
    /// A complete binary message.
    Binary(&'a [u8]),
    /// A ping. With [`Config::auto_pong`](crate::Config::auto_pong) the pong is already queued.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's Close frame; see [`Event::Close`].
    Close(Option<&'a CloseFrame>),
}

impl EventRef<'_> {
    /// An owned copy.
    pub fn to_event(&self) -> Event {
        match *self {
            EventRef::Text(t) => Event::Text(Utf8Bytes(Bytes::copy_from_slice(t.as_bytes()))),
            EventRef::Binary(b) => Event::Binary(Bytes::copy_from_slice(b)),
            EventRef::Ping(b) => Event::Ping(Bytes::copy_from_slice(b)),
            EventRef::Pong(b) => Event::Pong(Bytes::copy_from_slice(b)),
            EventRef::Close(f) => Event::Close(f.cloned()),
        }
    }
}

impl<'a> From<&'a Event> for EventRef<'a> {
    fn from(ev: &'a Event) -> Self {
        match ev {
            Event::Text(t) => EventRef::Text(Utf8Ref(t.as_bytes())),
            Event::Binary(b) => EventRef::Binary(b),
            Event::Ping(b) => EventRef::Ping(b),
            Event::Pong(b) => EventRef::Pong(b),
            Event::Close(f) => EventRef::Close(f.as_ref()),
        }
    }
}
