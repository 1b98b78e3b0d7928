//! What a [`Parser`](crate::Parser) is allowed to hold ([`Limits`]) and how it reads a stream
//! ([`Config`]).

/// Size limits of a [`Parser`](crate::Parser). Every byte the parser holds is bounded by these.
///
/// The parser holds at most `max_buffered_input` bytes of input fed but not yet polled, plus
/// the pending event: at most `max_event_size` bytes of data, and an event type, id and
/// current field value of at most `max_line_len` bytes of input each (up to 3 times that once
/// decoded, if every byte is invalid UTF-8 and becomes a 3-byte U+FFFD). Lines themselves are
/// never buffered.
///
/// ```
/// use pushwire_sse::Limits;
///
/// let limits = Limits::DEFAULT.with_max_line_len(64 << 10).with_max_event_size(256 << 10);
/// assert_eq!(limits.max_buffered_input, Limits::DEFAULT.max_buffered_input);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Most bytes of input fed but not yet polled that the parser accepts before
    /// [`Parser::feed`](crate::Parser::feed) refuses more (poll first). Default 8 MiB: larger
    /// than any socket read, and bounds a caller that feeds without polling.
    ///
    /// Any value works with any peer: the parser never holds a line back (polling until
    /// `Ok(None)` consumes all input, an incomplete line included), so a chunk of at most this
    /// size is always accepted after polling. Feed reads no larger than this limit.
    pub max_buffered_input: usize,
}

impl Limits {
    /// The documented defaults: 1 MiB lines, 4 MiB events, 8 MiB buffered input.
    pub const DEFAULT: Limits = Limits {
        max_line_len: 1 << 20,
        max_event_size: 4 << 20,
        max_buffered_input: 8 << 20,
    };

    /// Sets [`Limits::max_line_len`].
    #[must_use]
    pub const fn with_max_line_len(mut self, bytes: usize) -> Self {
        self.max_line_len = bytes;
        self
    }

    /// Sets [`Limits::max_event_size`].
    #[must_use]
    pub const fn with_max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Sets [`Limits::max_buffered_input`].
    #[must_use]
    pub const fn with_max_buffered_input(mut self, bytes: usize) -> Self {
        self.max_buffered_input = bytes;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// How a [`Parser`](crate::Parser) reads a stream: its [`Limits`] and what it reports.
///
/// ```
/// use pushwire_sse::{Config, Item, Limits, Parser};
///
/// let config = Config::DEFAULT
///     .with_limits(Limits::DEFAULT.with_max_event_size(1 << 20))
///     .with_comments(true);
/// let mut parser = Parser::with_config(config);
/// parser.feed(b": keep-alive\n").unwrap();
/// assert_eq!(parser.poll(), Ok(Some(Item::Comment("keep-alive".into()))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Config {
    /// The size limits. Default [`Limits::DEFAULT`].
    pub limits: Limits,
    /// Whether [`Parser::poll`](crate::Parser::poll) also returns comment lines as
    /// [`Item::Comment`](crate::Item::Comment). Default `false`: comments are ignored, as a
    /// browser does (servers send them as keep-alives).
    pub comments: bool,
}

impl Config {
    /// The default limits, comments ignored.
    pub const DEFAULT: Config = Config {
        limits: Limits::DEFAULT,
        comments: false,
    };

    /// Sets [`Config::limits`].
    #[must_use]
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets [`Config::comments`].
    #[must_use]
    pub const fn with_comments(mut self, enabled: bool) -> Self {
        self.comments = enabled;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}
