//! What a [`Parser`](crate::Parser) is allowed to hold.

/// Size limits of a [`Parser`](crate::Parser). Every byte the parser holds is bounded by these.
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
    /// Most bytes of fed but unpolled input the parser accepts before [`Parser::feed`](crate::Parser::feed)
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
