//! The event-stream parser: bytes in, events out.
//!
//! Implements WHATWG HTML §9.2.6 "Interpreting an event stream". The rule each piece of code
//! implements is quoted next to it. This module finds lines and line ends and runs the state
//! (BOM, errors, resync, end of stream); the field rules are in `fields`, the input queue in
//! `input`, UTF-8 decoding in `utf8`.
//!
//! Design notes:
//! * Lines are found on bytes (memchr), and only field *values* are UTF-8 decoded. This is
//!   exactly equivalent to decoding the whole stream first: CR, LF and `:` are ASCII, and an
//!   ASCII byte is never part of a multi-byte sequence nor swallowed by a U+FFFD replacement,
//!   so splitting on bytes and then decoding each piece gives the same characters.
//! * No line is ever buffered: a line is consumed piece by piece as input arrives (see
//!   `fields`), so each input byte is looked at once, and data bytes are copied once, into the
//!   event's data.

mod fast;
mod fields;
mod input;
mod utf8;

use bytes::Bytes;

use crate::config::Config;
use crate::error::{FeedError, ParseError};
use crate::event::{Event, EventRef, Item};
use fast::find_line_end;
use fields::{Fields, Line, Raw};
use input::Input;

/// The UTF-8 byte order mark. "The UTF-8 decode algorithm strips one leading UTF-8 Byte Order
/// Mark (BOM), if any."
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

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
/// more memory than its [`Limits`](crate::Limits) allow.
pub struct Parser {
    config: Config,
    /// Input fed but not yet parsed.
    input: Input,
    /// Bytes of a leading BOM matched so far (0..=2), or `None` once decided.
    bom: Option<u8>,
    /// The previous line ended with a CR: an LF that comes next belongs to it.
    skip_lf: bool,
    mode: Mode,
    /// An error cut a line short: its rest is still to come.
    cut_line: bool,
    fields: Fields,
    /// The last call was a [`Parser::poll_event_ref`] that lent an event, whose buffers are
    /// still untouched ([`Parser::lent_event`]).
    lent: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl core::fmt::Debug for Parser {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Parser")
            .field("config", &self.config)
            .field("buffered", &self.buffered())
            .field("eof", &self.input.eof)
            .field("mode", &self.mode)
            .field("last_event_id", &self.last_event_id())
            .field("retry", &self.fields.retry)
            .finish_non_exhaustive()
    }
}

impl Parser {
    /// A parser with [`Config::DEFAULT`]: the default [`Limits`](crate::Limits), comments
    /// ignored. Allocates nothing until input arrives.
    pub fn new() -> Parser {
        Parser::with_config(Config::DEFAULT)
    }

    /// A parser with the given limits and switches. Allocates nothing until input arrives.
    pub fn with_config(config: Config) -> Parser {
        Parser {
            config,
            input: Input::new(),
            bom: Some(0),
            skip_lf: false,
            mode: Mode::Normal,
            cut_line: false,
            fields: Fields::new(),
            lent: false,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
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
        self.input.len()
    }

    /// True once [`Parser::feed_eof`] was called and all input was processed: no further
    /// item will come.
    pub fn is_finished(&self) -> bool {
        self.input.eof && self.buffered() == 0
    }

    /// The sticky error, if the parser has failed and not been resynchronised.
    pub fn error(&self) -> Option<&ParseError> {
        match &self.mode {
            Mode::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// Appends bytes that arrived (copied once into the parser's buffer). Only buffers:
    /// parsing happens when you poll, so poll next.
    ///
    /// Refused, taking nothing and changing nothing, with [`FeedError::BufferFull`] if more
    /// than [`Limits::max_buffered_input`](crate::Limits::max_buffered_input) bytes would then
    /// be waiting to be polled (poll until `Ok(None)`, which consumes all input, then feed
    /// again; the parser never holds a line back, so any limit works with any peer), or with
    /// [`FeedError::AfterEof`] after [`Parser::feed_eof`]. Everything accepted before a
    /// refusal is still parsed by polling. An empty feed is `Ok(())` (unless after the end of
    /// the stream).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), FeedError> {
        self.input
            .push_slice(bytes, self.config.limits.max_buffered_input)
    }

    /// Appends an owned chunk ([`Bytes`], `Vec<u8>`, `&'static [u8]`, ...) without copying
    /// it: it is parsed where it lies, and the one-line ASCII data of an event polled with
    /// [`Parser::poll_event`] or [`Parser::poll`] shares it. (An earlier owned chunk that is
    /// still not fully polled is copied first.) Only buffers: poll next.
    ///
    /// Refused like [`Parser::feed`], taking nothing: the chunk is dropped and the parser is
    /// unchanged (keep a clone, which for [`Bytes`] is cheap, to feed it again).
    pub fn feed_bytes(&mut self, bytes: impl Into<Bytes>) -> Result<(), FeedError> {
        self.input
            .push_bytes(bytes.into(), self.config.limits.max_buffered_input)
    }

    /// Marks the end of the stream. Then poll until `Ok(None)`: the input still buffered is
    /// processed, and an unterminated event is discarded ("Once the end of the file is
    /// reached, any pending data must be discarded"). Calling it again does nothing; feeding
    /// after it is refused with [`FeedError::AfterEof`].
    pub fn feed_eof(&mut self) {
        self.input.eof = true;
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

    /// Starts reading the next stream of the same event source, as after a reconnection:
    /// forgets the input not yet polled, the pending event, the end of the stream and any
    /// error, expects a BOM again, and keeps the last event ID and the reconnection time.
    ///
    /// The standard says each stream's "last event ID buffer" starts as the empty string,
    /// while browsers (Chromium's `EventSourceParser` is built with the source's last event
    /// ID) start it as the last event ID string; this does what browsers do, so an event
    /// without `id` on the new stream keeps the id in force instead of erasing it (which would
    /// make the next reconnection replay the whole stream). An `id: ` field with an empty
    /// value still resets it.
    pub fn restart(&mut self) {
        self.lent = false;
        self.input.clear();
        self.input.eof = false;
        self.bom = Some(0);
        self.skip_lf = false;
        self.mode = Mode::Normal;
        self.cut_line = false;
        self.fields.restart();
    }

    /// Sets the last event ID string and buffer, for a client that resumes a stream it read
    /// before (the caller validated `id`: no CR, LF or NUL).
    pub(crate) fn set_last_event_id(&mut self, id: &str) {
        self.lent = false;
        self.fields.set_last_event_id(id);
    }

    /// The next event, skipping `retry` and comment items. `Ok(None)`: feed more input (or,
    /// after [`Parser::feed_eof`], the stream is over). Calling it again after `Ok(None)` is
    /// harmless.
    #[must_use = "an event or an error may be lost"]
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
    /// event is valid until the next call on the parser. `Ok(None)`: feed more input (or,
    /// after [`Parser::feed_eof`], the stream is over); calling it again is harmless.
    #[must_use = "an event or an error may be lost"]
    pub fn poll_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ParseError> {
        loop {
            match self.advance(false)? {
                Some(Raw::Event) => {
                    self.lent = true;
                    return Ok(Some(self.event_ref()));
                }
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// The event the last call, a [`Parser::poll_event_ref`], lent — again, from the same
    /// buffers (they are kept until the next call that parses). For a caller that polls in a
    /// loop and cannot keep the borrow across it (an I/O layer's `poll` function): poll with
    /// [`Parser::poll_event_ref`], let the borrow go, return, then lend it with this.
    /// `None` unless the last call that changed the parser was a
    /// [`Parser::poll_event_ref`] that returned an event.
    ///
    /// ```
    /// use pushwire_sse::Parser;
    ///
    /// let mut p = Parser::new();
    /// p.feed(b"id: 1\ndata: hi\n\n").unwrap();
    /// assert!(p.poll_event_ref().unwrap().is_some());
    /// assert_eq!(p.lent_event().unwrap().data, "hi");
    /// assert_eq!(p.poll_event_ref(), Ok(None));
    /// assert!(p.lent_event().is_none());
    /// ```
    pub fn lent_event(&self) -> Option<EventRef<'_>> {
        self.lent.then(|| self.event_ref())
    }

    /// The dispatched event in the buffers, lent.
    fn event_ref(&self) -> EventRef<'_> {
        let f = &self.fields;
        EventRef {
            event_type: match f.event_type() {
                "" => "message",
                t => t,
            },
            data: f.shared.as_deref().unwrap_or(&f.data),
            last_event_id: f.last_event_id(),
        }
    }

    /// The next item read from the stream. `Ok(None)`: feed more input (or, after
    /// [`Parser::feed_eof`], the stream is over). Calling it again after `Ok(None)` is
    /// harmless.
    #[must_use = "an item or an error may be lost"]
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
        self.lent = false;
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
            let in_buf = !self.input.buf.is_empty();
            let src: &[u8] = if in_buf {
                &self.input.buf
            } else {
                &self.input.owned
            };
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
                if let Err(e) =
                    self.fields
                        .feed_line(held, &self.config.limits, self.config.comments)
                {
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
            let chunk = (share && !in_buf).then_some(&self.input.owned);
            let outcome = loop {
                let rest = &src[pos..];
                let Some(i) = find_line_end(rest) else {
                    // An incomplete line: consume it into the line state.
                    let r = self
                        .fields
                        .feed_line(rest, &self.config.limits, self.config.comments);
                    pos = src.len();
                    break r.map(|()| None).map_err(|e| (e, true));
                };
                let line = &rest[..i];
                let r = if self.fields.line == Line::Start
                    && line.len() <= self.config.limits.max_line_len
                {
                    self.fields
                        .whole_line(line, chunk, &self.config.limits, self.config.comments)
                } else {
                    self.fields
                        .feed_line(line, &self.config.limits, self.config.comments)
                        .and_then(|()| {
                            self.fields
                                .finish_line(&self.config.limits, self.config.comments)
                        })
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
        if self.input.eof {
            // "Once the end of the file is reached, any pending data must be discarded.
            // (If the file ends in the middle of an event, before the final empty line, the
            // incomplete event is not dispatched.)"
            self.fields.reset_event();
            self.input.clear();
        }
        None
    }

    fn consume(&mut self, in_buf: bool, n: usize) {
        self.input.consume(in_buf, n);
    }

    /// Drops a line's bytes before position `i` and the line end at `i`, remembering a CR
    /// that is the last byte available (the LF of its CRLF may come next).
    fn consume_line(&mut self, in_buf: bool, i: usize) {
        let src: &[u8] = if in_buf {
            &self.input.buf
        } else {
            &self.input.owned
        };
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
