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
//! * Unprocessed input lives in `buf` (borrowed feeds are copied there once) followed by
//!   `owned` (an owned chunk kept without a copy). A line that lies wholly inside either is
//!   processed where it lies; only a line straddling the two is copied. `scan` remembers how
//!   far `buf` has been searched, so buffered bytes are never scanned twice.

use alloc::string::String;
use alloc::sync::Arc;
use bytes::{Buf, Bytes, BytesMut};

/// The UTF-8 byte order mark. "The UTF-8 decode algorithm strips one leading UTF-8 Byte Order
/// Mark (BOM), if any."
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Size limits of a [`Parser`]. Every byte the parser holds is bounded by these.
///
/// The parser holds at most `max_buffered` bytes of unprocessed input (which includes the
/// current incomplete line), plus the pending event: at most `max_event_size` bytes of data
/// and an event type and id of at most `max_line_len` bytes each.
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
    /// Most bytes of unprocessed input the parser accepts before [`Parser::feed`] refuses
    /// more (poll first). Default 8 MiB: larger than any socket read, and bounds a caller
    /// that feeds without polling.
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
#[derive(Clone)]
pub struct Event {
    event_type: Option<Arc<str>>,
    data: String,
    last_event_id: Arc<str>,
}

impl Event {
    /// Makes an event. An empty `event_type` means `message`, as in the stream format.
    pub fn new(event_type: &str, data: impl Into<String>, last_event_id: &str) -> Event {
        Event {
            event_type: if event_type.is_empty() || event_type == "message" {
                None
            } else {
                Some(Arc::from(event_type))
            },
            data: data.into(),
            last_event_id: Arc::from(last_event_id),
        }
    }

    /// The event type: the last `event` field's value, or `message` when there was none or it
    /// was empty.
    pub fn event_type(&self) -> &str {
        self.event_type.as_deref().unwrap_or("message")
    }

    /// The data: the `data` values joined with LF.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// Takes the data without copying it.
    pub fn into_data(self) -> String {
        self.data
    }

    /// The last event ID in force when the event was dispatched (the empty string if none).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.event_type() == other.event_type()
            && self.data == other.data
            && self.last_event_id == other.last_event_id
    }
}

impl Eq for Event {}

impl core::fmt::Debug for Event {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Event")
            .field("event_type", &self.event_type())
            .field("data", &self.data)
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Parsing normally.
    Normal,
    /// A limit was exceeded; every poll returns this error until `resync`.
    Failed(ParseError),
    /// After `resync`: discarding lines up to and including the next blank line.
    /// `mid_line`: the next line end only finishes the over-long line that was cut short.
    Skipping { mid_line: bool },
}

/// A streaming `text/event-stream` parser. See the crate docs for the call order.
///
/// The parser never panics, never scans a buffered byte twice, and holds no more memory than
/// its [`Limits`] allow.
pub struct Parser {
    limits: Limits,
    comments: bool,
    /// Unprocessed input before `owned`; may end with an incomplete line.
    buf: BytesMut,
    /// Bytes at the start of `buf` known to contain no line end.
    scan: usize,
    /// Unprocessed owned input, logically after `buf`.
    owned: Bytes,
    /// A leading BOM may still arrive.
    bom_pending: bool,
    /// The previous line ended with a CR: an LF that comes next belongs to it.
    skip_lf: bool,
    eof: bool,
    mode: Mode,
    /// A LineTooLong error dropped an incomplete line whose rest is still to come.
    cut_line: bool,
    fields: Fields,
}

/// The per-stream buffers of the standard.
struct Fields {
    /// "a data buffer"
    data: String,
    /// "an event type buffer"
    event_type: String,
    /// "a last event ID buffer"
    id_buffer: String,
    /// "the last event ID string of the event source"
    last_event_id: Arc<str>,
    /// The previous dispatched event type, reused when the next is the same.
    last_type: Option<Arc<str>>,
    /// "the event stream's reconnection time"
    retry: Option<u64>,
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
            scan: 0,
            owned: Bytes::new(),
            bom_pending: true,
            skip_lf: false,
            eof: false,
            mode: Mode::Normal,
            cut_line: false,
            fields: Fields {
                data: String::new(),
                event_type: String::new(),
                id_buffer: String::new(),
                last_event_id: Arc::from(""),
                last_type: None,
                retry: None,
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
        &self.fields.last_event_id
    }

    /// The reconnection time in milliseconds set by the last valid `retry` field, if any.
    pub fn reconnection_time(&self) -> Option<u64> {
        self.fields.retry
    }

    /// Bytes of unprocessed input held (including an incomplete line).
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.owned.len()
    }

    /// True once [`Parser::feed_eof`] was called and every complete line was processed: no
    /// further item will come.
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
    /// Fails without consuming anything if the parser would hold more than
    /// [`Limits::max_buffered`] bytes, or after [`Parser::feed_eof`].
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
    /// unprocessed, which is then copied). Lines lying wholly inside the chunk are parsed in
    /// place. Then poll. Fails like [`Parser::feed`].
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

    /// Marks the end of the stream. Then poll until `Ok(None)`: complete lines still buffered
    /// are processed, and an unterminated event is discarded ("Once the end of the file is
    /// reached, any pending data must be discarded").
    pub fn feed_eof(&mut self) {
        self.eof = true;
    }

    /// After an error: discards input up to and including the next blank line, forgets the
    /// pending event, and resumes parsing there. Does nothing if the parser has not failed.
    /// The last event ID and reconnection time are kept.
    pub fn resync(&mut self) {
        if let Mode::Failed(_) = self.mode {
            // A LineTooLong on an incomplete line already dropped that line's bytes and
            // left `buf` empty with the rest of the line still to come.
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
            match self.poll()? {
                Some(Item::Event(e)) => return Ok(Some(e)),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// The next item read from the stream. `Ok(None)`: feed more input (or, after
    /// [`Parser::feed_eof`], the stream is over). Calling it again after `Ok(None)` is
    /// harmless.
    pub fn poll(&mut self) -> Result<Option<Item>, ParseError> {
        loop {
            if let Mode::Failed(e) = self.mode {
                return Err(e);
            }
            if self.bom_pending && !self.strip_bom() {
                return Ok(None);
            }
            if self.skip_lf {
                match self.first_byte() {
                    None => {
                        if self.eof {
                            self.skip_lf = false;
                        }
                        return self.end_of_input();
                    }
                    Some(b) => {
                        // "a single U+000D CARRIAGE RETURN (CR) character not followed by a
                        // U+000A LINE FEED (LF) character" ends a line; CRLF is one line end.
                        if b == b'\n' {
                            self.consume(1);
                        }
                        self.skip_lf = false;
                    }
                }
            }
            if let Mode::Skipping { .. } = self.mode {
                match self.next_line_len_discarding() {
                    None => return self.end_of_input(),
                    Some(len) => {
                        let mid_line = matches!(self.mode, Mode::Skipping { mid_line: true });
                        let was_blank = len == 0 && !mid_line;
                        self.consume_line(len);
                        self.mode = if was_blank {
                            self.fields.data.clear();
                            self.fields.event_type.clear();
                            Mode::Normal
                        } else {
                            Mode::Skipping { mid_line: false }
                        };
                        continue;
                    }
                }
            }
            let item = match self.next_line() {
                Err(e) => {
                    self.mode = Mode::Failed(e);
                    return Err(e);
                }
                Ok(None) => return self.end_of_input(),
                Ok(Some(Where::Buf(len))) => {
                    let r = self
                        .fields
                        .process_line(&self.buf[..len], &self.limits, self.comments);
                    self.consume_line(len);
                    r
                }
                Ok(Some(Where::Owned(len))) => {
                    let r =
                        self.fields
                            .process_line(&self.owned[..len], &self.limits, self.comments);
                    self.consume_line(len);
                    r
                }
            };
            match item {
                Ok(Some(item)) => return Ok(Some(item)),
                Ok(None) => {}
                Err(e) => {
                    self.fields.data = String::new();
                    self.fields.event_type.clear();
                    self.mode = Mode::Failed(e);
                    return Err(e);
                }
            }
        }
    }

    /// No complete line is available.
    fn end_of_input(&mut self) -> Result<Option<Item>, ParseError> {
        if self.eof {
            // "Once the end of the file is reached, any pending data must be discarded.
            // (If the file ends in the middle of an event, before the final empty line, the
            // incomplete event is not dispatched.)"
            self.buf = BytesMut::new();
            self.owned = Bytes::new();
            self.scan = 0;
            self.fields.data = String::new();
            self.fields.event_type = String::new();
        }
        Ok(None)
    }

    /// Removes one leading BOM once enough bytes are known. False: wait for more input.
    fn strip_bom(&mut self) -> bool {
        let mut head = [0u8; 3];
        let n = self.peek(&mut head);
        if n == 3 && head == BOM {
            self.consume(3);
        } else if n < 3 && head[..n] == BOM[..n] && !self.eof {
            return false;
        }
        self.bom_pending = false;
        true
    }

    fn peek(&self, out: &mut [u8; 3]) -> usize {
        let mut n = 0;
        for &b in self.buf.iter().chain(self.owned.iter()).take(3) {
            out[n] = b;
            n += 1;
        }
        n
    }

    fn first_byte(&self) -> Option<u8> {
        self.buf.first().or_else(|| self.owned.first()).copied()
    }

    /// Drops `n` bytes from the front of the unprocessed input.
    fn consume(&mut self, n: usize) {
        let from_buf = n.min(self.buf.len());
        self.buf.advance(from_buf);
        self.scan = self.scan.saturating_sub(from_buf);
        self.owned.advance(n - from_buf);
    }

    /// Drops a line of `len` bytes and its line end from the front of whichever buffer held
    /// it, remembering a CR at the very end of the input.
    fn consume_line(&mut self, len: usize) {
        let src: &[u8] = if self.buf.is_empty() {
            &self.owned
        } else {
            &self.buf
        };
        let mut n = len + 1;
        if src[len] == b'\r' {
            match src.get(len + 1) {
                Some(b'\n') => n += 1,
                Some(_) => {}
                // The LF of a CRLF may be in `owned` or in a later feed.
                None => self.skip_lf = true,
            }
        }
        if self.buf.is_empty() {
            self.owned.advance(n);
        } else {
            self.buf.advance(n);
            if self.skip_lf && self.buf.is_empty() && self.owned.first() == Some(&b'\n') {
                self.owned.advance(1);
                self.skip_lf = false;
            }
        }
        self.scan = 0;
    }

    /// Finds the next complete line. `Where` says which buffer holds it (a line straddling
    /// `buf` and `owned` is first moved into `buf`).
    fn next_line(&mut self) -> Result<Option<Where>, ParseError> {
        if let Some(i) = memchr::memchr2(b'\n', b'\r', &self.buf[self.scan..]) {
            let len = self.scan + i;
            return self.check_line(len).map(|()| Some(Where::Buf(len)));
        }
        self.scan = self.buf.len();
        if !self.owned.is_empty() {
            match memchr::memchr2(b'\n', b'\r', &self.owned) {
                Some(i) if self.buf.is_empty() => {
                    return self.check_line(i).map(|()| Some(Where::Owned(i)));
                }
                Some(i) => {
                    // The line straddles the two: check before copying.
                    self.check_line(self.buf.len() + i)?;
                    // Copy the tail of the line and its line end (and an LF after a CR).
                    let mut end = i + 1;
                    if self.owned[i] == b'\r' && self.owned.get(i + 1) == Some(&b'\n') {
                        end += 1;
                    }
                    self.buf.extend_from_slice(&self.owned[..end]);
                    self.owned.advance(end);
                    let len = self.buf.len() - end + i;
                    return Ok(Some(Where::Buf(len)));
                }
                None => {
                    self.buf.extend_from_slice(&self.owned);
                    self.owned = Bytes::new();
                    self.scan = self.buf.len();
                }
            }
        }
        // No line end anywhere: what is buffered is an incomplete line.
        if self.buf.len() > self.limits.max_line_len {
            // Drop it now (it can never be processed) and remember to skip the rest of it.
            self.buf = BytesMut::new();
            self.scan = 0;
            self.cut_line = true;
            return Err(ParseError::LineTooLong {
                limit: self.limits.max_line_len,
            });
        }
        Ok(None)
    }

    fn check_line(&mut self, len: usize) -> Result<(), ParseError> {
        if len > self.limits.max_line_len {
            // Consume the whole line so that a resync starts after it.
            self.consume_line_anywhere(len);
            return Err(ParseError::LineTooLong {
                limit: self.limits.max_line_len,
            });
        }
        Ok(())
    }

    /// Consumes a line of `len` bytes whose line end lies in `buf` or, when `buf` has no
    /// line end, in `owned` at `len - buf.len()`.
    fn consume_line_anywhere(&mut self, len: usize) {
        if len < self.buf.len() || self.buf.is_empty() {
            self.consume_line(len);
        } else {
            let in_owned = len - self.buf.len();
            self.buf = BytesMut::new();
            self.scan = 0;
            self.consume_line(in_owned);
        }
    }

    /// In skipping mode: the length of the next complete line, which is not kept. Bytes of an
    /// incomplete line are dropped at once (they are never needed), so skipping holds no
    /// memory; `mid_line` records that the next line end finishes a dropped line.
    fn next_line_len_discarding(&mut self) -> Option<usize> {
        if let Some(i) = memchr::memchr2(b'\n', b'\r', &self.buf[self.scan..]) {
            return Some(self.scan + i);
        }
        let dropped = !self.buf.is_empty();
        self.buf = BytesMut::new();
        self.scan = 0;
        if let Some(i) = memchr::memchr2(b'\n', b'\r', &self.owned) {
            if dropped {
                self.mode = Mode::Skipping { mid_line: true };
            }
            return Some(i);
        }
        let dropped = dropped || !self.owned.is_empty();
        self.owned = Bytes::new();
        if dropped {
            self.mode = Mode::Skipping { mid_line: true };
        }
        None
    }
}

/// Where a complete line starts: at the front of `buf` or of `owned`, with its length.
enum Where {
    Buf(usize),
    Owned(usize),
}

impl Fields {
    /// Processes one line (without its line end).
    fn process_line(
        &mut self,
        line: &[u8],
        limits: &Limits,
        comments: bool,
    ) -> Result<Option<Item>, ParseError> {
        // "If the line is empty (a blank line): Dispatch the event"
        if line.is_empty() {
            return Ok(self.dispatch().map(Item::Event));
        }
        // "If the line starts with a U+003A COLON character (:): Ignore the line."
        if line[0] == b':' {
            if comments {
                let mut text = String::new();
                push_lossy(&mut text, strip_space(&line[1..]));
                return Ok(Some(Item::Comment(text)));
            }
            return Ok(None);
        }
        // "If the line contains a U+003A COLON character (:): Collect the characters on the
        // line before the first U+003A COLON character (:), and let field be that string.
        // [...] If value starts with a U+0020 SPACE character, remove it from value."
        // "Otherwise [...] using the whole line as the field name, and the empty string as
        // the field value."
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => (&line[..i], strip_space(&line[i + 1..])),
            None => (line, &[][..]),
        };
        // "Field names must be compared literally, with no case folding performed."
        match field {
            b"data" => {
                // "Append the field value to the data buffer, then append a single U+000A
                // LINE FEED (LF) character to the data buffer."
                // Decoding never shortens a value (U+FFFD takes 3 bytes and replaces 1 to 3),
                // so its byte length is a lower bound: refuse before allocating, and check
                // the decoded length after.
                let room = limits.max_event_size.saturating_sub(self.data.len());
                if value.len() >= room {
                    return Err(ParseError::EventTooLarge {
                        limit: limits.max_event_size,
                    });
                }
                push_lossy(&mut self.data, value);
                self.data.push('\n');
                if self.data.len() > limits.max_event_size {
                    return Err(ParseError::EventTooLarge {
                        limit: limits.max_event_size,
                    });
                }
            }
            b"event" => {
                // "Set the event type buffer to field value."
                self.event_type.clear();
                push_lossy(&mut self.event_type, value);
            }
            // "If the field value does not contain U+0000 NULL, then set the last event ID
            // buffer to the field value. Otherwise, ignore the field."
            b"id" if memchr::memchr(0, value).is_none() => {
                self.id_buffer.clear();
                push_lossy(&mut self.id_buffer, value);
            }
            // "If the field value consists of only ASCII digits, then interpret the field
            // value as an integer in base ten, and set the event stream's reconnection time
            // to that integer. Otherwise, ignore the field." An empty value has no digits and
            // is ignored. Values beyond u64 saturate.
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value.iter().fold(0u64, |acc, &d| {
                    acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
                self.retry = Some(ms);
                return Ok(Some(Item::Retry(ms)));
            }
            // "Otherwise: The field is ignored."
            _ => {}
        }
        Ok(None)
    }

    /// "When the user agent is required to dispatch the event [...]"
    fn dispatch(&mut self) -> Option<Event> {
        // "1. Set the last event ID string of the event source to the value of the last event
        // ID buffer. The buffer does not get reset"
        if *self.last_event_id != *self.id_buffer {
            self.last_event_id = Arc::from(self.id_buffer.as_str());
        }
        // "2. If the data buffer is an empty string, set the data buffer and the event type
        // buffer to the empty string and return."
        if self.data.is_empty() {
            self.event_type.clear();
            return None;
        }
        // "3. If the data buffer's last character is a U+000A LINE FEED (LF) character, then
        // remove the last character from the data buffer."
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        // "5. Initialize event's type attribute to message [...] 6. If the event type buffer
        // has a value other than the empty string, change the type of the newly created event
        // to equal the value of the event type buffer."
        let event_type = if self.event_type.is_empty() {
            None
        } else {
            match &self.last_type {
                Some(t) if **t == *self.event_type => Some(t.clone()),
                _ => {
                    let t: Arc<str> = Arc::from(self.event_type.as_str());
                    self.last_type = Some(t.clone());
                    Some(t)
                }
            }
        };
        // "7. Set the data buffer and the event type buffer to the empty string."
        self.event_type.clear();
        Some(Event {
            event_type,
            data: core::mem::take(&mut self.data),
            last_event_id: self.last_event_id.clone(),
        })
    }
}

/// "If value starts with a U+0020 SPACE character, remove it from value."
fn strip_space(value: &[u8]) -> &[u8] {
    match value.first() {
        Some(b' ') => &value[1..],
        _ => value,
    }
}

/// Appends `bytes` decoded as UTF-8, each maximal invalid subsequence replaced by U+FFFD, as
/// the WHATWG "UTF-8 decode" does.
fn push_lossy(dst: &mut String, bytes: &[u8]) {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(s) => dst.push_str(s),
        Err(_) => {
            for chunk in bytes.utf8_chunks() {
                dst.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    dst.push(char::REPLACEMENT_CHARACTER);
                }
            }
        }
    }
}
