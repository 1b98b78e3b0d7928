//! What the parser hands out: owned [`Event`]s, lent [`EventRef`]s, and the [`Item`]s of
//! [`Parser::poll`](crate::Parser::poll).

use alloc::string::String;
use bytes::Bytes;
use bytestring::ByteString;
use smol_str::SmolStr;

/// A dispatched event, as a browser's `EventSource` would fire it.
///
/// The type and id are stored inline when short (up to 23 bytes; a longer one is shared by
/// reference count). The data of an event whose one `data` line is ASCII and arrived whole in
/// a chunk given to [`Parser::feed_bytes`](crate::Parser::feed_bytes) is that chunk's bytes
/// (shared, not copied); other data is one `String`. So the usual event (short type and id,
/// one data line) costs no allocation at all. A shared event keeps its whole chunk allocated
/// while it lives: to keep many events for long, copy the data out ([`Event::into_data`]) or
/// feed with [`Parser::feed`](crate::Parser::feed), which never shares.
#[derive(Clone)]
pub struct Event {
    /// Empty means `message`.
    pub(crate) event_type: SmolStr,
    pub(crate) data: Data,
    pub(crate) last_event_id: SmolStr,
}

/// An event's data: shared with the input, or built.
#[derive(Clone)]
pub(crate) enum Data {
    Owned(String),
    Shared(ByteString),
}

impl Data {
    fn as_str(&self) -> &str {
        match self {
            Data::Owned(s) => s,
            Data::Shared(s) => s,
        }
    }
}

impl Event {
    /// Makes an event. An empty `event_type` means `message`, as in the stream format.
    pub fn new(event_type: &str, data: impl Into<String>, last_event_id: &str) -> Event {
        Event {
            event_type: SmolStr::new(if event_type == "message" {
                ""
            } else {
                event_type
            }),
            data: Data::Owned(data.into()),
            last_event_id: SmolStr::new(last_event_id),
        }
    }

    /// The event type: the last `event` field's value, or `message` when there was none or it
    /// was empty.
    pub fn event_type(&self) -> &str {
        match self.event_type.as_str() {
            "" => "message",
            t => t,
        }
    }

    /// The data: the `data` values joined with LF.
    pub fn data(&self) -> &str {
        self.data.as_str()
    }

    /// Takes the data as a `String`: moved when it was built, copied when it was shared with
    /// the input (see [`Event::into_data_bytes`] for no copy either way).
    pub fn into_data(self) -> String {
        match self.data {
            Data::Owned(s) => s,
            Data::Shared(s) => String::from(&*s),
        }
    }

    /// Takes the data as [`Bytes`] (UTF-8) without copying it.
    pub fn into_data_bytes(self) -> Bytes {
        match self.data {
            Data::Owned(s) => Bytes::from(s),
            Data::Shared(s) => s.into_bytes(),
        }
    }

    /// The last event ID in force when the event was dispatched (the empty string if none).
    pub fn last_event_id(&self) -> &str {
        self.last_event_id.as_str()
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.event_type() == other.event_type()
            && self.data() == other.data()
            && self.last_event_id() == other.last_event_id()
    }
}

impl Eq for Event {}

impl core::fmt::Debug for Event {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Event")
            .field("event_type", &self.event_type())
            .field("data", &self.data())
            .field("last_event_id", &self.last_event_id())
            .finish()
    }
}

/// Something the parser read, returned by [`Parser::poll`](crate::Parser::poll).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item {
    /// A dispatched event.
    Event(Event),
    /// A valid `retry` field: the new reconnection time in milliseconds (also kept in
    /// [`Parser::reconnection_time`](crate::Parser::reconnection_time)).
    Retry(u64),
    /// A comment line (`: text`), without the colon and one leading space. Only returned when
    /// enabled with [`Config::comments`](crate::Config::comments); servers send them as
    /// keep-alives.
    Comment(String),
}

/// A dispatched event borrowing the parser's buffers (see
/// [`Parser::poll_event_ref`](crate::Parser::poll_event_ref)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventRef<'a> {
    /// The event type (`message` when none was set).
    pub event_type: &'a str,
    /// The data: the `data` values joined with LF.
    pub data: &'a str,
    /// The last event ID in force when the event was dispatched.
    pub last_event_id: &'a str,
}

impl EventRef<'_> {
    /// An owned copy.
    pub fn to_event(&self) -> Event {
        Event::new(self.event_type, self.data, self.last_event_id)
    }
}
