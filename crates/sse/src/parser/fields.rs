//! The field rules of "Interpreting an event stream", twice: for a whole line at once (the
//! fast path, taken for nearly every line) and for a line that arrives in pieces (the general
//! path). Both apply the same rules to the same per-stream buffers; they sit side by side here
//! so that one can be read against the other. Each check quotes the sentence it implements.
//!
//! * [`Fields::whole_line`]: a line seen whole and within the line limit. The usual lines
//!   (`data: `, `event: `, `id: `) are recognised from their first eight bytes, and a valid
//!   UTF-8 value is applied straight from the input.
//! * [`Fields::feed_line`] then [`Fields::finish_line`]: any line, piece by piece. The field
//!   name is recognised from its first five bytes, the value goes straight to where it belongs
//!   (the data buffer, or a scratch string for `event`/`id`/comments), an incomplete UTF-8
//!   sequence at the end of a piece is carried over, and the line limit fires at the exact
//!   byte whatever the split.
//! * [`Fields::finish_field`] and [`Fields::dispatch`], shared by both: a complete value and a
//!   blank line.

use alloc::string::String;
use bytes::Bytes;
use bytestring::ByteString;
use smol_str::SmolStr;

use super::fast::{is_ascii, same_bytes, small, to_str};
use super::utf8::{push_lossy, Carry};
use crate::config::Limits;
use crate::error::ParseError;
use crate::event::{Data, Event};

/// What `advance` found; an event's fields are in the buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Raw {
    Event,
    Retry(u64),
    Comment,
}

/// The per-stream buffers of the standard, and the state of the current line.
pub(super) struct Fields {
    /// "a data buffer", when `shared` is `None`.
    pub(super) data: String,
    /// When set, the data buffer is this value followed by one LF and `data` is empty: the
    /// value of the event's first `data` line, which arrived whole in an owned chunk and is
    /// kept as a slice of it instead of being copied.
    pub(super) shared: Option<ByteString>,
    /// "an event type buffer", when `event_type_set`; else the buffer is empty and this
    /// holds the previous value, so that the same type in the next event (the usual case)
    /// is recognised by comparing bytes, without decoding and copying it again.
    /// Kept as the `SmolStr` events carry, so that each event gets it by a copy.
    event_type: SmolStr,
    /// The event type buffer holds `event_type` (else it is empty).
    pub(super) event_type_set: bool,
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
    pub(super) dispatched: bool,
    /// "the event stream's reconnection time"
    pub(super) retry: Option<u64>,
    /// How far into the current line we are.
    pub(super) line: Line,
    /// Bytes of the current line seen so far.
    line_len: usize,
    /// The value of an `event` or `id` field or a comment, as it arrives.
    pub(super) scratch: String,
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
pub(super) enum Line {
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
pub(super) enum Field {
    Data,
    Event,
    Id,
    Retry,
    Comment,
    Ignored,
}

impl Fields {
    /// Empty buffers, at the start of a line. Allocates nothing.
    pub(super) fn new() -> Fields {
        Fields {
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
        }
    }

    /// Forgets the pending event and the current line (after an error or at the end).
    pub(super) fn reset_event(&mut self) {
        self.dispatched = false;
        self.data = String::new();
        self.shared = None;
        self.event_type_set = false;
        self.line = Line::Start;
        self.line_len = 0;
        self.scratch = String::new();
        self.carry = Carry::default();
    }

    /// A new stream of the same event source: the pending event and the current line are
    /// forgotten, and the last event ID buffer starts as the last event ID string (an `id`
    /// of the dead stream's unfinished event must not survive it).
    pub(super) fn restart(&mut self) {
        self.reset_event();
        self.id_buffer = self.last_id;
    }
}

// --- The fast path: a whole line at once ---------------------------------------------------

impl Fields {
    /// A whole line (within the line limit) seen at the start of a line: the common case,
    /// done without the piece-by-piece state machine. Same rules as `feed_line` followed by
    /// `finish_line`.
    /// `chunk`, when given, is the owned chunk `line` lies in: a data value can be kept as a
    /// slice of it.
    #[inline]
    pub(super) fn whole_line(
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
            // Only ASCII is shared: `ByteString` validates with std's `from_utf8`, which is
            // several times slower than simdutf8 on other text.
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

// --- The general path: a line piece by piece -----------------------------------------------

impl Fields {
    /// Consumes the next bytes of the current line (no line end among them).
    pub(super) fn feed_line(
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
    #[inline]
    pub(super) fn finish_line(
        &mut self,
        limits: &Limits,
        comments: bool,
    ) -> Result<Option<Raw>, ParseError> {
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
}

// --- Both paths: a complete value, a blank line, the buffers --------------------------------

impl Fields {
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

    /// Sets the last event ID string (and the buffer, which starts from it).
    pub(super) fn set_last_event_id(&mut self, id: &str) {
        self.ids[self.last_id].clear();
        self.ids[self.last_id].push_str(id);
        self.id_buffer = self.last_id;
    }

    /// The last event ID string.
    pub(super) fn last_event_id(&self) -> &str {
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
    pub(super) fn event_type(&self) -> &str {
        if self.event_type_set {
            &self.event_type
        } else {
            ""
        }
    }

    /// The dispatched event as an owned [`Event`]; the data is moved out.
    pub(super) fn take_event(&mut self) -> Event {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_word_is_the_prefix_as_low_bytes_and_its_mask() {
        assert_eq!(
            prefix_word(b"data: "),
            (u64::from_le_bytes(*b"data: \0\0"), 0x0000_FFFF_FFFF_FFFF)
        );
        assert_eq!(
            prefix_word(b"event: "),
            (u64::from_le_bytes(*b"event: \0"), 0x00FF_FFFF_FFFF_FFFF)
        );
        assert_eq!(
            prefix_word(b"id: "),
            (u64::from_le_bytes(*b"id: \0\0\0\0"), 0xFFFF_FFFF)
        );
    }

    #[test]
    fn known_prefix_recognises_the_three_usual_lines_and_nothing_else() {
        assert_eq!(known_prefix(b"data: 12"), Some((Field::Data, &b"12"[..])));
        assert_eq!(known_prefix(b"event: x"), Some((Field::Event, &b"x"[..])));
        assert_eq!(known_prefix(b"id: 1234"), Some((Field::Id, &b"1234"[..])));
        assert_eq!(
            known_prefix(b"data:  two spaces"),
            Some((Field::Data, &b" two spaces"[..]))
        );
        // Shorter than eight bytes: left to `split_field`.
        assert_eq!(known_prefix(b"data: 1"), None);
        // Other lines, including ones whose bytes are the prefixes with every bit flipped or
        // cut to their first byte, and NULs.
        let flipped = |p: &[u8]| -> [u8; 8] {
            let mut l = [0u8; 8];
            for (d, s) in l.iter_mut().zip(p) {
                *d = !s;
            }
            l
        };
        for line in [
            &b"data:xyz"[..],
            b"Data: xy",
            b"retry: 1",
            b"idx: 123",
            b": data: ",
            &flipped(b"data: "),
            &flipped(b"event: "),
            &flipped(b"id: "),
            b"d\0\0\0\0\0\0\0",
            b"e\0\0\0\0\0\0\0",
            b"i\0\0\0\0\0\0\0",
            &[0; 8],
            &[0xFF; 8],
        ] {
            assert_eq!(known_prefix(line), None, "{line:?}");
        }
    }

    #[test]
    fn split_field_ignores_comments_unless_wanted_and_long_names() {
        assert_eq!(split_field(b": hi", false), None);
        assert_eq!(
            split_field(b": hi", true),
            Some((Field::Comment, &b"hi"[..]))
        );
        assert_eq!(
            split_field(b"retry:1", false),
            Some((Field::Retry, &b"1"[..]))
        );
        assert_eq!(split_field(b"data", false), Some((Field::Data, &b""[..])));
        assert_eq!(
            split_field(b"xy: z", false),
            Some((Field::Ignored, &b"z"[..]))
        );
        // A name of six bytes or more is none of ours: the line is ignored.
        assert_eq!(split_field(b"retryx", false), None);
        assert_eq!(split_field(b"datadata: x", false), None);
    }
}
