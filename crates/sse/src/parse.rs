//! The event-stream parser: bytes in, events out.
//!
//! Implements WHATWG HTML §9.2.6 "Interpreting an event stream". The rule each piece of code
//! implements is quoted next to it.
//!
//! Design notes:
//! * Lines are found on bytes (memchr), and only field *values* are UTF-8 decoded. This is
//!   exactly equivalent to decoding the whole stream first: CR, LF and `:` are ASCII, and an
//!   ASCII byte is never part of a multi-byte sequence nor swallowed by a U+FFFD replacement,
//!   so splitting on bytes and then decoding each piece gives the same characters.
//! * No line is ever buffered. A line is consumed piece by piece as input arrives: the field
//!   name is recognised from its first five bytes, and the value goes straight to where it
//!   belongs (the data buffer, or a scratch string for `event`/`id`/comments), with an
//!   incomplete UTF-8 sequence at the end of a piece carried over (at most 3 bytes). So each
//!   input byte is looked at once, and data bytes are copied once, into the event's data.
//! * Unprocessed input lives in `buf` (borrowed feeds are copied there) followed by `owned`
//!   (an owned chunk, parsed where it lies without a copy).

use alloc::string::String;
use bytes::{Buf, Bytes, BytesMut};
use bytestring::ByteString;
use smol_str::SmolStr;

/// The UTF-8 byte order mark. "The UTF-8 decode algorithm strips one leading UTF-8 Byte Order
/// Mark (BOM), if any."
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Size limits of a [`Parser`]. Every byte the parser holds is bounded by these.
///
/// The parser holds at most `max_buffered` bytes of input fed but not yet polled, plus the
/// pending event: at most `max_event_size` bytes of data, and an event type, id and current
/// field value of at most `max_line_len` bytes of input each (up to 3 times that once
/// decoded, if every byte is invalid UTF-8 and becomes a 3-byte U+FFFD). Lines themselves
/// are never buffered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest line, in bytes, without its line end. Default 1 MiB: far above any real event
    /// line (LLM token streams and dashboards send lines of bytes to kilobytes), small enough
    /// that a peer that never sends a newline cannot make the parser grow without bound.
    pub max_line_len: usize,
    /// Largest data of one event (the data buffer: every `data` value plus one LF each), in
    /// bytes. Default 4 MiB: room for multi-line JSON snapshots, bounded against a peer that
    /// sends `data:` lines forever without a blank line.
    pub max_event_size: usize,
    /// Most bytes of fed but unpolled input the parser accepts before [`Parser::feed`]
    /// refuses more (poll first). Default 8 MiB: larger than any socket read, and bounds a
    /// caller that feeds without polling.
    pub max_buffered: usize,
}

impl Limits {
    /// The documented defaults: 1 MiB lines, 4 MiB events, 8 MiB buffered input.
    pub const DEFAULT: Limits = Limits {
        max_line_len: 1 << 20,
        max_event_size: 4 << 20,
        max_buffered: 8 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// An error in the stream: the peer sent more than the [`Limits`] allow. Sticky: every poll
/// returns it again until [`Parser::resync`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A line was longer than [`Limits::max_line_len`] bytes.
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// The data of one event grew beyond [`Limits::max_event_size`] bytes.
    #[error("event data larger than {limit} bytes")]
    EventTooLarge {
        /// The limit in force.
        limit: usize,
    },
}

/// The caller's mistake when feeding input: nothing was consumed, the parser is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// Accepting the bytes would hold more than [`Limits::max_buffered`] unprocessed bytes.
    /// Poll events first (which consumes input), then feed again; feed chunks no larger than
    /// the limit.
    #[error("{buffered} bytes are buffered and {len} more would exceed the limit of {limit}; poll first")]
    BufferFull {
        /// Bytes already buffered.
        buffered: usize,
        /// Bytes offered.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// Input was fed after [`Parser::feed_eof`].
    #[error("input fed after the end of the stream")]
    AfterEof,
}

/// A dispatched event, as a browser's `EventSource` would fire it.
///
/// The type and id are stored inline when short (up to 23 bytes; a longer one is shared by
/// reference count). The data of an event whose one `data` line is ASCII and arrived whole in
/// a chunk given to [`Parser::feed_bytes`] is that chunk's bytes (shared, not copied); other
/// data is one `String`. So the usual event (short type and id, one data line) costs no
/// allocation at all. A shared event keeps its whole chunk allocated while it lives: to keep
/// many events for long, copy the data out ([`Event::into_data`]) or feed with
/// [`Parser::feed`], which never shares.
#[derive(Clone)]
pub struct Event {
    /// Empty means `message`.
    event_type: SmolStr,
    data: Data,
    last_event_id: SmolStr,
}

/// An event's data: shared with the input, or built.
#[derive(Clone)]
enum Data {
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

/// Something the parser read, returned by [`Parser::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item {
    /// A dispatched event.
    Event(Event),
    /// A valid `retry` field: the new reconnection time in milliseconds (also kept in
    /// [`Parser::reconnection_time`]).
    Retry(u64),
    /// A comment line (`: text`), without the colon and one leading space. Only returned when
    /// enabled with [`Parser::with_comments`]; servers send them as keep-alives.
    Comment(String),
}

/// What `advance` found; an event's fields are in the buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raw {
    Event,
    Retry(u64),
    Comment,
}

/// A dispatched event borrowing the parser's buffers (see [`Parser::poll_event_ref`]).
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Parsing normally.
    Normal,
    /// A limit was exceeded; every poll returns this error until `resync`.
    Failed(ParseError),
    /// After `resync`: discarding lines up to and including the next blank line.
    /// `mid_line`: the next line end only finishes the line that was cut short.
    Skipping { mid_line: bool },
}

/// A streaming `text/event-stream` parser. See the crate docs for the call order.
///
/// The parser never panics, never scans a byte twice, never buffers a line (each byte is
/// consumed as soon as it is seen: data goes straight into the event's data), and holds no
/// more memory than its [`Limits`] allow.
pub struct Parser {
    limits: Limits,
    comments: bool,
    /// Unprocessed input from [`Parser::feed`], before `owned`.
    buf: BytesMut,
    /// Unprocessed input from [`Parser::feed_bytes`], logically after `buf`.
    owned: Bytes,
    /// Bytes of a leading BOM matched so far (0..=2), or `None` once decided.
    bom: Option<u8>,
    /// The previous line ended with a CR: an LF that comes next belongs to it.
    skip_lf: bool,
    eof: bool,
    mode: Mode,
    /// An error cut a line short: its rest is still to come.
    cut_line: bool,
    fields: Fields,
}

/// The per-stream buffers of the standard, and the state of the current line.
struct Fields {
    /// "a data buffer", when `shared` is `None`.
    data: String,
    /// When set, the data buffer is this value followed by one LF and `data` is empty: the
    /// value of the event's first `data` line, which arrived whole in an owned chunk and is
    /// kept as a slice of it instead of being copied.
    shared: Option<ByteString>,
    /// "an event type buffer", when `event_type_set`; else the buffer is empty and this
    /// holds the previous value, so that the same type in the next event (the usual case)
    /// is recognised by comparing bytes, without decoding and copying it again.
    /// Kept as the `SmolStr` events carry, so that each event gets it by a copy.
    event_type: SmolStr,
    /// The event type buffer holds `event_type` (else it is empty).
    event_type_set: bool,
    /// "a last event ID buffer" is `ids[id_buffer]`, and "the last event ID string of the
    /// event source" `ids[last_id]`. Dispatching makes them the same string (by index, no
    /// copy); an `id` field then writes into the other one.
    ids: [String; 2],
    /// Index in `ids` of the last event ID buffer.
    id_buffer: usize,
    /// Index in `ids` of the last event ID string.
    last_id: usize,
    /// The data and event type buffers hold a dispatched event; they are emptied ("7. Set
    /// the data buffer and the event type buffer to the empty string") when parsing resumes.
    dispatched: bool,
    /// "the event stream's reconnection time"
    retry: Option<u64>,
    /// How far into the current line we are.
    line: Line,
    /// Bytes of the current line seen so far.
    line_len: usize,
    /// The value of an `event` or `id` field or a comment, as it arrives.
    scratch: String,
    /// An incomplete UTF-8 sequence at the end of the last piece of a value.
    carry: Carry,
    /// The current `id` value contains NUL.
    id_nul: bool,
    /// The current `retry` value: its number so far, or `None` once a non-digit was seen.
    retry_acc: Option<u64>,
    /// The current `retry` value has at least one byte.
    retry_any: bool,
}

/// Where in the current line the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// Nothing of the line seen yet.
    Start,
    /// Inside the field name: its first bytes (enough to recognise the four known names)
    /// and its full length.
    Name { head: [u8; 5], len: usize },
    /// After the colon of a field (or of a comment line, as `Field::Comment`).
    Value { field: Field, space_checked: bool },
}

/// What a field name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Data,
    Event,
    Id,
    Retry,
    Comment,
    Ignored,
}

/// Up to three bytes of an incomplete UTF-8 sequence.
#[derive(Debug, Clone, Copy, Default)]
struct Carry {
    bytes: [u8; 3],
    len: u8,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl core::fmt::Debug for Parser {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Parser")
            .field("limits", &self.limits)
            .field("buffered", &self.buffered())
            .field("eof", &self.eof)
            .field("mode", &self.mode)
            .field("last_event_id", &self.last_event_id())
            .field("retry", &self.fields.retry)
            .finish_non_exhaustive()
    }
}

impl Parser {
    /// A parser with the default [`Limits`]. Allocates nothing until input arrives.
    pub fn new() -> Parser {
        Parser::with_limits(Limits::DEFAULT)
    }

    /// A parser with the given limits.
    pub fn with_limits(limits: Limits) -> Parser {
        Parser {
            limits,
            comments: false,
            buf: BytesMut::new(),
            owned: Bytes::new(),
            bom: Some(0),
            skip_lf: false,
            eof: false,
            mode: Mode::Normal,
            cut_line: false,
            fields: Fields {
                data: String::new(),
                shared: None,
                event_type: SmolStr::default(),
                event_type_set: false,
                ids: [String::new(), String::new()],
                id_buffer: 0,
                last_id: 0,
                dispatched: false,
                retry: None,
                line: Line::Start,
                line_len: 0,
                scratch: String::new(),
                carry: Carry::default(),
                id_nul: false,
                retry_acc: Some(0),
                retry_any: false,
            },
        }
    }

    /// Makes [`Parser::poll`] also return comment lines as [`Item::Comment`]. Off by default.
    pub fn with_comments(mut self, enabled: bool) -> Parser {
        self.comments = enabled;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The last event ID string of the event source: the id that was in force at the last
    /// blank line. Send it as `Last-Event-ID` when reconnecting (if not empty).
    pub fn last_event_id(&self) -> &str {
        self.fields.last_event_id()
    }

    /// The reconnection time in milliseconds set by the last valid `retry` field, if any.
    pub fn reconnection_time(&self) -> Option<u64> {
        self.fields.retry
    }

    /// Bytes of input fed but not yet processed by polling.
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.owned.len()
    }

    /// True once [`Parser::feed_eof`] was called and all input was processed: no further
    /// item will come.
    pub fn is_finished(&self) -> bool {
        self.eof && self.buffered() == 0
    }

    /// The sticky error, if the parser has failed and not been resynchronised.
    pub fn error(&self) -> Option<&ParseError> {
        match &self.mode {
            Mode::Failed(e) => Some(e),
            _ => None,
        }
    }

    fn check_feed(&self, len: usize) -> Result<(), FeedError> {
        if self.eof {
            return Err(FeedError::AfterEof);
        }
        let buffered = self.buffered();
        if len > self.limits.max_buffered.saturating_sub(buffered) {
            return Err(FeedError::BufferFull {
                buffered,
                len,
                limit: self.limits.max_buffered,
            });
        }
        Ok(())
    }

    /// Appends bytes that arrived (copied once into the parser's buffer). Then poll.
    ///
    /// Fails without consuming anything if more than [`Limits::max_buffered`] bytes would be
    /// waiting to be processed, or after [`Parser::feed_eof`].
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), FeedError> {
        self.check_feed(bytes.len())?;
        if bytes.is_empty() {
            return Ok(());
        }
        if !self.owned.is_empty() {
            // Keep the order: what is in `owned` comes before the new bytes.
            self.buf.extend_from_slice(&self.owned);
            self.owned = Bytes::new();
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Appends an owned chunk without copying it (unless an earlier owned chunk is still
    /// unprocessed: that one is then copied). The chunk is parsed where it lies. Then poll.
    /// Fails like [`Parser::feed`].
    pub fn feed_bytes(&mut self, bytes: Bytes) -> Result<(), FeedError> {
        self.check_feed(bytes.len())?;
        if bytes.is_empty() {
            return Ok(());
        }
        if !self.owned.is_empty() {
            self.buf.extend_from_slice(&self.owned);
        }
        self.owned = bytes;
        Ok(())
    }

    /// Marks the end of the stream. Then poll until `Ok(None)`: the input still buffered is
    /// processed, and an unterminated event is discarded ("Once the end of the file is
    /// reached, any pending data must be discarded").
    pub fn feed_eof(&mut self) {
        self.eof = true;
    }

    /// After an error: discards input up to and including the next blank line, forgets the
    /// pending event, and resumes parsing there. Does nothing if the parser has not failed.
    /// The last event ID and reconnection time are kept.
    pub fn resync(&mut self) {
        if let Mode::Failed(_) = self.mode {
            self.mode = Mode::Skipping {
                mid_line: self.cut_line,
            };
            self.cut_line = false;
        }
    }

    /// The next event, skipping `retry` and comment items. `Ok(None)`: feed more input (or,
    /// after [`Parser::feed_eof`], the stream is over).
    pub fn poll_event(&mut self) -> Result<Option<Event>, ParseError> {
        loop {
            match self.advance(true)? {
                Some(Raw::Event) => return Ok(Some(self.fields.take_event())),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// Like [`Parser::poll_event`], but the event borrows the parser's buffers instead of
    /// being allocated: nothing is allocated per event once the buffers have grown. The
    /// event is valid until the next call on the parser.
    pub fn poll_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ParseError> {
        loop {
            match self.advance(false)? {
                Some(Raw::Event) => {
                    let f = &self.fields;
                    return Ok(Some(EventRef {
                        event_type: match f.event_type() {
                            "" => "message",
                            t => t,
                        },
                        data: f.shared.as_deref().unwrap_or(&f.data),
                        last_event_id: f.last_event_id(),
                    }));
                }
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// The next item read from the stream. `Ok(None)`: feed more input (or, after
    /// [`Parser::feed_eof`], the stream is over). Calling it again after `Ok(None)` is
    /// harmless.
    pub fn poll(&mut self) -> Result<Option<Item>, ParseError> {
        Ok(match self.advance(true)? {
            None => None,
            Some(Raw::Event) => Some(Item::Event(self.fields.take_event())),
            Some(Raw::Retry(ms)) => Some(Item::Retry(ms)),
            Some(Raw::Comment) => Some(Item::Comment(core::mem::take(&mut self.fields.scratch))),
        })
    }

    /// Parses until something can be returned; an event is left in the buffers. `share`:
    /// the event will be handed out owned, so a data value may be kept as a slice of an owned
    /// chunk (a lent event is cheaper copied into the data buffer, which is reused).
    fn advance(&mut self, share: bool) -> Result<Option<Raw>, ParseError> {
        if self.fields.dispatched {
            self.fields.dispatched = false;
            self.fields.data.clear();
            self.fields.shared = None;
            self.fields.event_type_set = false;
        }
        loop {
            if let Mode::Failed(e) = self.mode {
                return Err(e);
            }
            // The input is `buf` then `owned`; work on whichever comes first.
            let in_buf = !self.buf.is_empty();
            let src: &[u8] = if in_buf { &self.buf } else { &self.owned };
            let Some(&first) = src.first() else {
                return Ok(self.end_of_input());
            };
            if self.skip_lf {
                self.skip_lf = false;
                // "a single U+000D CARRIAGE RETURN (CR) character not followed by a U+000A
                // LINE FEED (LF) character" ends a line; CRLF is one line end.
                if first == b'\n' {
                    self.consume(in_buf, 1);
                    continue;
                }
            }
            if let Some(matched) = self.bom {
                // "The UTF-8 decode algorithm strips one leading UTF-8 Byte Order Mark (BOM)"
                if first == BOM[usize::from(matched)] {
                    self.consume(in_buf, 1);
                    self.bom = if matched == 2 {
                        None
                    } else {
                        Some(matched + 1)
                    };
                    continue;
                }
                // Not a BOM after all: the bytes matched so far are the line's first bytes
                // (they contain no line end, and cannot exceed any limit).
                self.bom = None;
                let held = &BOM[..usize::from(matched)];
                if let Err(e) = self.fields.feed_line(held, &self.limits, self.comments) {
                    return Err(self.fail(e, true));
                }
                continue;
            }
            if let Mode::Skipping { mid_line } = self.mode {
                match memchr::memchr2(b'\n', b'\r', src) {
                    None => {
                        let n = src.len();
                        self.consume(in_buf, n);
                        self.mode = Mode::Skipping { mid_line: true };
                    }
                    Some(i) => {
                        self.consume_line(in_buf, i);
                        self.mode = if i == 0 && !mid_line {
                            Mode::Normal
                        } else {
                            Mode::Skipping { mid_line: false }
                        };
                    }
                }
                continue;
            }
            // Normal parsing: run through the lines of `src` until an item, an error or the
            // end of `src`, then drop what was consumed in one step.
            let mut pos = 0;
            // Where an owned event's data value may be kept as a slice (see `whole_line`).
            let chunk = (share && !in_buf).then_some(&self.owned);
            let outcome = loop {
                let rest = &src[pos..];
                let Some(i) = find_line_end(rest) else {
                    // An incomplete line: consume it into the line state.
                    let r = self.fields.feed_line(rest, &self.limits, self.comments);
                    pos = src.len();
                    break r.map(|()| None).map_err(|e| (e, true));
                };
                let line = &rest[..i];
                let r = if self.fields.line == Line::Start && line.len() <= self.limits.max_line_len
                {
                    self.fields
                        .whole_line(line, chunk, &self.limits, self.comments)
                } else {
                    self.fields
                        .feed_line(line, &self.limits, self.comments)
                        .and_then(|()| self.fields.finish_line(&self.limits, self.comments))
                };
                pos += i + 1;
                if rest[i] == b'\r' {
                    match src.get(pos) {
                        Some(b'\n') => pos += 1,
                        Some(_) => {}
                        // The LF of a CRLF may come in the next input.
                        None => self.skip_lf = true,
                    }
                }
                match r {
                    Ok(None) => continue,
                    Ok(Some(item)) => break Ok(Some(item)),
                    Err(e) => break Err((e, false)),
                }
            };
            self.consume(in_buf, pos);
            match outcome {
                Ok(Some(item)) => return Ok(Some(item)),
                Ok(None) => continue,
                Err((e, mid_line)) => return Err(self.fail(e, mid_line)),
            }
        }
    }

    /// Enters the failed state, forgetting the pending event.
    fn fail(&mut self, e: ParseError, mid_line: bool) -> ParseError {
        self.fields.reset_event();
        self.mode = Mode::Failed(e);
        self.cut_line = mid_line;
        e
    }

    /// All input is processed.
    fn end_of_input(&mut self) -> Option<Raw> {
        if self.eof {
            // "Once the end of the file is reached, any pending data must be discarded.
            // (If the file ends in the middle of an event, before the final empty line, the
            // incomplete event is not dispatched.)"
            self.fields.reset_event();
            self.buf = BytesMut::new();
            self.owned = Bytes::new();
        }
        None
    }

    fn consume(&mut self, in_buf: bool, n: usize) {
        if in_buf {
            self.buf.advance(n);
        } else {
            self.owned.advance(n);
        }
    }

    /// Drops a line's bytes before position `i` and the line end at `i`, remembering a CR
    /// that is the last byte available (the LF of its CRLF may come next).
    fn consume_line(&mut self, in_buf: bool, i: usize) {
        let src: &[u8] = if in_buf { &self.buf } else { &self.owned };
        let n = match (src[i], src.get(i + 1)) {
            (b'\r', Some(b'\n')) => i + 2,
            (b'\r', None) => {
                self.skip_lf = true;
                i + 1
            }
            _ => i + 1,
        };
        self.consume(in_buf, n);
    }
}

impl Fields {
    /// Forgets the pending event and the current line (after an error or at the end).
    fn reset_event(&mut self) {
        self.dispatched = false;
        self.data = String::new();
        self.shared = None;
        self.event_type_set = false;
        self.line = Line::Start;
        self.line_len = 0;
        self.scratch = String::new();
        self.carry = Carry::default();
    }

    /// Consumes the next bytes of the current line (no line end among them).
    fn feed_line(
        &mut self,
        bytes: &[u8],
        limits: &Limits,
        comments: bool,
    ) -> Result<(), ParseError> {
        // The line limit is checked first, at the exact byte where it is crossed, so that the
        // outcome does not depend on how the line was split into pieces.
        let allowed = limits.max_line_len - self.line_len;
        let (bytes, too_long) = if bytes.len() > allowed {
            (&bytes[..allowed], true)
        } else {
            (bytes, false)
        };
        self.line_len += bytes.len();
        self.feed_value_bytes(bytes, limits, comments)?;
        if too_long {
            return Err(ParseError::LineTooLong {
                limit: limits.max_line_len,
            });
        }
        Ok(())
    }

    fn feed_value_bytes(
        &mut self,
        mut bytes: &[u8],
        limits: &Limits,
        comments: bool,
    ) -> Result<(), ParseError> {
        loop {
            match self.line {
                Line::Start => {
                    let Some(&first) = bytes.first() else {
                        return Ok(());
                    };
                    // "If the line starts with a U+003A COLON character (:) — Ignore the line."
                    if first == b':' {
                        let field = if comments {
                            Field::Comment
                        } else {
                            Field::Ignored
                        };
                        self.begin_value(field);
                        bytes = &bytes[1..];
                    } else {
                        self.line = Line::Name {
                            head: [0; 5],
                            len: 0,
                        };
                    }
                }
                Line::Name { mut head, len } => {
                    // "Collect the characters on the line before the first U+003A COLON
                    // character (:), and let field be that string."
                    let colon = memchr::memchr(b':', bytes);
                    let name = &bytes[..colon.unwrap_or(bytes.len())];
                    for (k, &b) in name.iter().enumerate() {
                        if let Some(slot) = head.get_mut(len + k) {
                            *slot = b;
                        } else {
                            break;
                        }
                    }
                    let len = len + name.len();
                    self.line = Line::Name { head, len };
                    let Some(c) = colon else {
                        return Ok(());
                    };
                    self.begin_value(classify(head.get(..len).unwrap_or(&[])));
                    bytes = &bytes[c + 1..];
                }
                Line::Value {
                    field,
                    space_checked,
                } => {
                    if !space_checked {
                        let Some(&first) = bytes.first() else {
                            return Ok(());
                        };
                        // "If value starts with a U+0020 SPACE character, remove it from value."
                        if first == b' ' {
                            bytes = &bytes[1..];
                        }
                        self.line = Line::Value {
                            field,
                            space_checked: true,
                        };
                    }
                    return self.sink(field, bytes, limits);
                }
            }
        }
    }

    fn begin_value(&mut self, field: Field) {
        self.line = Line::Value {
            field,
            space_checked: false,
        };
        self.reset_value(field);
    }

    /// Clears what a previous value of the same kind left.
    fn reset_value(&mut self, field: Field) {
        match field {
            Field::Event | Field::Id | Field::Comment => self.scratch.clear(),
            Field::Retry => {
                self.retry_acc = Some(0);
                self.retry_any = false;
            }
            Field::Data | Field::Ignored => {}
        }
        self.id_nul = false;
    }

    /// A whole line (within the line limit) seen at the start of a line: the common case,
    /// done without the piece-by-piece state machine. Same rules as `feed_line` followed by
    /// `finish_line`.
    /// `chunk`, when given, is the owned chunk `line` lies in: a data value can be kept as a
    /// slice of it.
    fn whole_line(
        &mut self,
        line: &[u8],
        chunk: Option<&Bytes>,
        limits: &Limits,
        comments: bool,
    ) -> Result<Option<Raw>, ParseError> {
        if line.is_empty() {
            // "If the line is empty (a blank line) — Dispatch the event"
            return Ok(self.dispatch().then_some(Raw::Event));
        }
        // The usual lines (`data: `, `event: `, `id: ` followed by a value) are recognised
        // from their first eight bytes read as one word; the general split follows.
        let (field, value) = match known_prefix(line) {
            Some(known) => known,
            None => match split_field(line, comments) {
                Some(split) => split,
                None => return Ok(None),
            },
        };
        if field == Field::Ignored {
            return Ok(None);
        }
        // "Set the event type buffer to field value": the same type as the last one set (the
        // usual case) is recognised without decoding and copying it again.
        if field == Field::Event && same_bytes(value, self.event_type.as_bytes()) {
            self.event_type_set = true;
            return Ok(None);
        }
        // "If the field value does not contain U+0000 NULL, then set the last event ID buffer
        // to the field value." A short ASCII id (a counter, the usual case) is copied a byte
        // at a time: cheaper than a call to the UTF-8 validator, whose fixed cost dominates
        // for a few bytes.
        if field == Field::Id && value.len() <= 8 && value.iter().all(|&b| b != 0 && b < 0x80) {
            let id = self.id_buffer_mut();
            id.clear();
            for &b in value {
                id.push(char::from(b));
            }
            return Ok(None);
        }
        if field == Field::Data && self.data.is_empty() && self.shared.is_none() {
            // Only ASCII is shared: `ByteString` validates with std's `from_utf8`, which on
            // other text is several times slower than simdutf8 (measured: 240-byte CJK values
            // took 2.3 times as long shared as copied); on ASCII it costs about what the
            // allocation and copy it saves did.
            if let Some(chunk) = chunk.filter(|_| is_ascii(value)) {
                // The event's first data line, whole in an owned chunk: "Append the field
                // value to the data buffer, then append a single U+000A LINE FEED (LF)
                // character" is done by keeping the value where it lies (its LF is implied).
                let limit = limits.max_event_size;
                if value.len() + 1 > limit {
                    return Err(ParseError::EventTooLarge { limit });
                }
                if let Ok(text) = ByteString::try_from(chunk.slice_ref(value)) {
                    self.shared = Some(text);
                    return Ok(None);
                }
            }
        }
        // Valid UTF-8 (nearly always): apply the value directly; the same rules as
        // `finish_field`, without the scratch buffer.
        if let Ok(text) = to_str(value) {
            match field {
                Field::Data => {
                    let limit = limits.max_event_size;
                    let data = self.data_mut();
                    if data.len() + text.len() + 1 > limit {
                        return Err(ParseError::EventTooLarge { limit });
                    }
                    data.reserve(text.len() + 1);
                    data.push_str(text);
                    data.push('\n');
                    return Ok(None);
                }
                Field::Event => {
                    self.event_type = small(text);
                    self.event_type_set = true;
                    return Ok(None);
                }
                Field::Id => {
                    if !value.contains(&0) {
                        let id = self.id_buffer_mut();
                        id.clear();
                        id.push_str(text);
                    }
                    return Ok(None);
                }
                _ => {}
            }
        }
        self.reset_value(field);
        self.sink(field, value, limits)?;
        self.finish_field(field, limits, comments)
    }

    /// Takes the next bytes of a field value.
    fn sink(&mut self, field: Field, bytes: &[u8], limits: &Limits) -> Result<(), ParseError> {
        if bytes.is_empty() {
            return Ok(());
        }
        match field {
            Field::Data => {
                // Decoding cannot make the value shorter than its bytes less an incomplete
                // sequence held back (at most 3): refuse before allocating when even that
                // would not fit, and check exactly while decoding.
                let limit = limits.max_event_size;
                self.data_mut();
                if self.data.len() + bytes.len() > limit.saturating_add(3)
                    || !push_lossy(&mut self.data, &mut self.carry, bytes, limit)
                {
                    return Err(ParseError::EventTooLarge { limit });
                }
            }
            Field::Event | Field::Comment => {
                push_lossy(&mut self.scratch, &mut self.carry, bytes, usize::MAX);
            }
            Field::Id => {
                self.id_nul |= memchr::memchr(0, bytes).is_some();
                push_lossy(&mut self.scratch, &mut self.carry, bytes, usize::MAX);
            }
            Field::Retry => {
                self.retry_any = true;
                for &b in bytes {
                    self.retry_acc = match (self.retry_acc, b) {
                        (Some(acc), b'0'..=b'9') => {
                            Some(acc.saturating_mul(10).saturating_add(u64::from(b - b'0')))
                        }
                        _ => None,
                    };
                }
            }
            Field::Ignored => {}
        }
        Ok(())
    }

    /// The current line ended.
    fn finish_line(&mut self, limits: &Limits, comments: bool) -> Result<Option<Raw>, ParseError> {
        let line = core::mem::replace(&mut self.line, Line::Start);
        self.line_len = 0;
        let field = match line {
            // "If the line is empty (a blank line) — Dispatch the event"
            Line::Start => return Ok(self.dispatch().then_some(Raw::Event)),
            // "Otherwise, the string is not empty but does not contain a U+003A COLON
            // character (:) — Process the field using the steps described below, using the
            // whole line as the field name, and the empty string as the field value."
            Line::Name { head, len } => {
                let field = classify(head.get(..len).unwrap_or(&[]));
                self.reset_value(field);
                field
            }
            Line::Value { field, .. } => field,
        };
        self.finish_field(field, limits, comments)
    }

    /// The value of `field` is complete: apply it.
    fn finish_field(
        &mut self,
        field: Field,
        limits: &Limits,
        comments: bool,
    ) -> Result<Option<Raw>, ParseError> {
        // An incomplete UTF-8 sequence at the end of the value is one U+FFFD.
        if self.carry.len > 0 {
            self.carry = Carry::default();
            let target = if field == Field::Data {
                self.data_mut()
            } else {
                &mut self.scratch
            };
            target.push(char::REPLACEMENT_CHARACTER);
        }
        // "The steps to process the field given a field name and a field value depend on the
        // field name [...] Field names must be compared literally, with no case folding
        // performed."
        match field {
            Field::Data => {
                // "Append the field value to the data buffer, then append a single U+000A
                // LINE FEED (LF) character to the data buffer."
                let data = self.data_mut();
                data.push('\n');
                if data.len() > limits.max_event_size {
                    return Err(ParseError::EventTooLarge {
                        limit: limits.max_event_size,
                    });
                }
            }
            // "Set the event type buffer to field value."
            Field::Event => {
                self.event_type = small(&self.scratch);
                self.event_type_set = true;
            }
            Field::Id => {
                // "If the field value does not contain U+0000 NULL, then set the last event
                // ID buffer to the field value. Otherwise, ignore the field."
                if !self.id_nul {
                    let mut value = core::mem::take(&mut self.scratch);
                    core::mem::swap(self.id_buffer_mut(), &mut value);
                    self.scratch = value;
                }
            }
            Field::Retry => {
                // "If the field value consists of only ASCII digits, then interpret the field
                // value as an integer in base ten, and set the event stream's reconnection
                // time to that integer. Otherwise, ignore the field." An empty value has no
                // digits and is ignored; values beyond u64 saturate.
                if let (true, Some(ms)) = (self.retry_any, self.retry_acc) {
                    self.retry = Some(ms);
                    return Ok(Some(Raw::Retry(ms)));
                }
            }
            Field::Comment if comments => {
                return Ok(Some(Raw::Comment));
            }
            // "Otherwise — The field is ignored."
            Field::Comment | Field::Ignored => {}
        }
        Ok(None)
    }

    /// "When the user agent is required to dispatch the event [...]". True when an event is
    /// dispatched: its data and type are then in the buffers, and step 7 (emptying them)
    /// happens when parsing resumes.
    fn dispatch(&mut self) -> bool {
        // "1. Set the last event ID string of the event source to the value of the last event
        // ID buffer. The buffer does not get reset"
        self.last_id = self.id_buffer;
        // "2. If the data buffer is an empty string, set the data buffer and the event type
        // buffer to the empty string and return."
        if self.shared.is_some() {
            // "3. If the data buffer's last character is a U+000A LINE FEED (LF) character,
            // then remove the last character from the data buffer": the implied LF.
            self.dispatched = true;
            return true;
        }
        if self.data.is_empty() {
            self.event_type_set = false;
            return false;
        }
        // "3. If the data buffer's last character is a U+000A LINE FEED (LF) character, then
        // remove the last character from the data buffer."
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        self.dispatched = true;
        true
    }

    /// The data buffer, to be changed: a shared value is copied into `data` first.
    #[inline(always)]
    fn data_mut(&mut self) -> &mut String {
        if self.shared.is_some() {
            self.unshare();
        }
        &mut self.data
    }

    /// Copies the shared value and its LF into `data`.
    #[cold]
    fn unshare(&mut self) {
        if let Some(shared) = self.shared.take() {
            self.data.reserve(shared.len() + 1);
            self.data.push_str(&shared);
            self.data.push('\n');
        }
    }

    /// The last event ID string.
    fn last_event_id(&self) -> &str {
        &self.ids[self.last_id]
    }

    /// The last event ID buffer, to be set: not the string that holds the last event ID.
    fn id_buffer_mut(&mut self) -> &mut String {
        if self.id_buffer == self.last_id {
            self.id_buffer = 1 - self.last_id;
        }
        &mut self.ids[self.id_buffer]
    }

    /// The event type buffer.
    fn event_type(&self) -> &str {
        if self.event_type_set {
            &self.event_type
        } else {
            ""
        }
    }

    /// The dispatched event as an owned [`Event`]; the data is moved out.
    fn take_event(&mut self) -> Event {
        // "5. Initialize event's type attribute to message [...] 6. If the event type buffer
        // has a value other than the empty string, change the type of the newly created event
        // to equal the value of the event type buffer." (An empty type reads as `message`.)
        Event {
            event_type: if self.event_type_set {
                self.event_type.clone()
            } else {
                SmolStr::default()
            },
            data: match self.shared.take() {
                Some(shared) => Data::Shared(shared),
                None => Data::Owned(core::mem::take(&mut self.data)),
            },
            last_event_id: small(&self.ids[self.last_id]),
        }
    }
}

/// Whether every byte is ASCII: eight bytes at a time, stopping at the first 32-byte block
/// with another byte.
#[inline]
fn is_ascii(bytes: &[u8]) -> bool {
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        let mut any = 0u64;
        for word in block.chunks_exact(8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            any |= u64::from_ne_bytes(w);
        }
        if any & 0x8080_8080_8080_8080 != 0 {
            return false;
        }
    }
    blocks.remainder().iter().fold(0, |any, &b| any | b) < 0x80
}

/// `s` as a [`SmolStr`]; a short one copied a byte at a time (cheaper than `memcpy` for the
/// few bytes of an id or event type).
#[inline]
fn small(s: &str) -> SmolStr {
    if s.len() <= SmolStr::INLINE_CAP {
        SmolStr::new_inline(s)
    } else {
        SmolStr::new(s)
    }
}

/// The position of the first CR or LF in `rest`. A blank line (one line in every few) is
/// recognised from its first byte, without paying `memchr2`'s fixed cost per call (about 60
/// instructions). (Tried and slower: checking the first 16 bytes of every line a 64-bit word
/// at a time before calling `memchr2`, because data lines are long; and a byte loop over the
/// first 24 bytes of `id: ` and `event: ` lines, +110 instructions per event.)
#[inline(always)]
fn find_line_end(rest: &[u8]) -> Option<usize> {
    match rest.first()? {
        b'\n' | b'\r' => Some(0),
        _ => memchr::memchr2(b'\n', b'\r', rest),
    }
}

/// `a == b`, inline: for the few bytes of an event type, cheaper than a call to `memcmp`.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A line that starts with `data: `, `event: ` or `id: ` and has at least eight bytes: the
/// field and its value with the one leading space removed. `None` for anything else.
#[inline(always)]
fn known_prefix(line: &[u8]) -> Option<(Field, &[u8])> {
    let head = u64::from_le_bytes(*line.first_chunk::<8>()?);
    if head & DATA.1 == DATA.0 {
        Some((Field::Data, &line[6..]))
    } else if head & EVENT.1 == EVENT.0 {
        Some((Field::Event, &line[7..]))
    } else if head & ID.1 == ID.0 {
        Some((Field::Id, &line[4..]))
    } else {
        None
    }
}

/// `prefix` as the low bytes of a little-endian word, and the mask that keeps them.
const fn prefix_word(prefix: &[u8]) -> (u64, u64) {
    let mut w = 0u64;
    let mut i = 0;
    while i < prefix.len() {
        w |= (prefix[i] as u64) << (8 * i);
        i += 1;
    }
    (w, (1u64 << (8 * prefix.len())) - 1)
}
const DATA: (u64, u64) = prefix_word(b"data: ");
const EVENT: (u64, u64) = prefix_word(b"event: ");
const ID: (u64, u64) = prefix_word(b"id: ");

/// Splits a non-empty line into field and value: "If the line starts with a U+003A COLON
/// character (:) — Ignore the line. If the line contains a U+003A COLON character (:) —
/// Collect the characters on the line before the first U+003A COLON character (:), and let
/// field be that string. Collect the characters on the line after the first U+003A COLON
/// character (:), and let value be that string. If value starts with a U+0020 SPACE
/// character, remove it from value. Otherwise, the string is not empty but does not contain
/// a U+003A COLON character (:) — [...] using the whole line as the field name, and the empty
/// string as the field value." `None` for a line to ignore (a comment, unless comments are
/// wanted, or a field name too long to be one of ours).
#[inline(always)]
fn split_field(line: &[u8], comments: bool) -> Option<(Field, &[u8])> {
    // A known field name has at most 5 bytes, so only the first 6 bytes are searched for the
    // colon: a longer name is none of ours whatever follows.
    let head = &line[..line.len().min(6)];
    let (field, value) = match head.iter().position(|&b| b == b':') {
        Some(0) if comments => (Field::Comment, &line[1..]),
        Some(0) => return None,
        Some(i) => (classify(&line[..i]), &line[i + 1..]),
        None if line.len() <= 5 => (classify(line), &[][..]),
        None => return None,
    };
    let value = match value.first() {
        Some(b' ') => &value[1..],
        _ => value,
    };
    Some((field, value))
}

/// Which field a name is.
fn classify(name: &[u8]) -> Field {
    match name {
        b"data" => Field::Data,
        b"event" => Field::Event,
        b"id" => Field::Id,
        b"retry" => Field::Retry,
        _ => Field::Ignored,
    }
}

/// Appends `bytes` decoded as UTF-8, each maximal invalid subsequence replaced by U+FFFD as
/// the WHATWG "UTF-8 decode" does, continuing a sequence left incomplete in `carry` by the
/// previous piece and leaving an incomplete sequence at the end in `carry`. Returns false
/// (and stops) as soon as `dst` is longer than `limit`.
fn push_lossy(dst: &mut String, carry: &mut Carry, mut bytes: &[u8], limit: usize) -> bool {
    if carry.len > 0 {
        // Complete (or refute) the held sequence with at most 3 more bytes.
        let held = usize::from(carry.len);
        let take = bytes.len().min(4 - held);
        let mut tmp = [0u8; 6];
        tmp[..held].copy_from_slice(&carry.bytes[..held]);
        tmp[held..held + take].copy_from_slice(&bytes[..take]);
        let tmp = &tmp[..held + take];
        let used = match core::str::from_utf8(tmp) {
            Ok(s) => {
                dst.push_str(s);
                tmp.len()
            }
            Err(e) if e.valid_up_to() > 0 => {
                let v = e.valid_up_to();
                dst.push_str(core::str::from_utf8(&tmp[..v]).unwrap_or_default());
                v
            }
            Err(e) => match e.error_len() {
                Some(n) => {
                    dst.push(char::REPLACEMENT_CHARACTER);
                    n
                }
                None => {
                    // Still incomplete: everything was absorbed.
                    carry.bytes[..tmp.len()].copy_from_slice(tmp);
                    carry.len = tmp.len() as u8;
                    return dst.len() <= limit;
                }
            },
        };
        *carry = Carry::default();
        bytes = &bytes[used.saturating_sub(held)..];
    }
    if bytes.is_empty() {
        return dst.len() <= limit;
    }
    // Reserve once for the common case of one valid piece and the LF after it.
    dst.reserve(bytes.len() + 1);
    if let Ok(s) = to_str(bytes) {
        dst.push_str(s);
        return dst.len() <= limit;
    }
    // Invalid or incomplete UTF-8: one pass over the chunks, each valid run pushed as is.
    let mut chunks = bytes.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        dst.push_str(chunk.valid());
        let bad = chunk.invalid();
        if bad.is_empty() {
            continue;
        }
        let incomplete_at_end = chunks.peek().is_none()
            && core::str::from_utf8(bad).is_err_and(|e| e.error_len().is_none());
        if incomplete_at_end {
            // A sequence cut by the end of the piece: hold it for the next piece.
            carry.bytes[..bad.len()].copy_from_slice(bad);
            carry.len = bad.len() as u8;
        } else {
            dst.push(char::REPLACEMENT_CHARACTER);
            if dst.len() > limit {
                return false;
            }
        }
    }
    dst.len() <= limit
}

/// `value` as `&str` if it is valid UTF-8: std's validator for short values (lower fixed
/// cost), simdutf8 for longer ones (higher throughput).
fn to_str(value: &[u8]) -> Result<&str, ()> {
    if value.len() < 64 {
        core::str::from_utf8(value).map_err(|_| ())
    } else {
        simdutf8::basic::from_utf8(value).map_err(|_| ())
    }
}
