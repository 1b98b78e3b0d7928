//! The errors: the peer's ([`ParseError`], and why a client session failed:
//! [`FailReason`]) apart from the caller's ([`FeedError`], [`EncodeError`]).

use alloc::string::String;

/// An error in the stream: the peer sent more than the [`Limits`](crate::Limits) allow.
/// Sticky: every poll returns it again until [`Parser::resync`](crate::Parser::resync).
///
/// Both limits are crossed by a size the parser never learns (it stops reading at the limit),
/// so each carries only the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A line was longer than [`Limits::max_line_len`](crate::Limits::max_line_len) bytes.
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// The data of one event grew beyond
    /// [`Limits::max_event_size`](crate::Limits::max_event_size) bytes.
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
    /// Accepting the bytes would hold more than
    /// [`Limits::max_buffered_input`](crate::Limits::max_buffered_input) bytes not yet
    /// polled. Poll events first (which consumes input), then feed again; feed chunks no
    /// larger than the limit.
    #[error("{buffered} bytes are buffered and {len} more would exceed the limit of {limit}; poll first")]
    BufferFull {
        /// Bytes already buffered.
        buffered: usize,
        /// Bytes offered.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// Input was fed after [`Parser::feed_eof`](crate::Parser::feed_eof).
    #[error("input fed after the end of the stream")]
    AfterEof,
}

/// Why a value cannot be written without changing the stream's meaning: the caller's mistake,
/// reported when an [`EventBuilder`](crate::EventBuilder) is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// An `event` type contained CR or LF, which would end the field and inject another line.
    #[error("event type contains CR or LF")]
    EventTypeHasNewline,
    /// An `id` contained CR or LF, which would end the field and inject another line.
    #[error("id contains CR or LF")]
    IdHasNewline,
    /// An `id` contained NUL: a browser ignores such an `id` field ("If the field value does
    /// not contain U+0000 NULL, then set the last event ID buffer").
    #[error("id contains NUL")]
    IdHasNul,
}

/// Why a client [`Session`](crate::client::Session) failed the connection and will not
/// reconnect ("Once the user agent has failed the connection, it does not attempt to
/// reconnect."). The server's fault, or a server that stays unreachable. Sticky: the session
/// reports it on every later [`poll_action`](crate::client::Session::poll_action).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FailReason {
    /// The response status was neither 200 nor 204 ("if res's status is not 200 [...] then
    /// fail the connection"). Redirects are followed by the HTTP layer; one that reaches the
    /// session is a status like any other.
    #[error("the server answered status {status}, not 200")]
    Status {
        /// The status code.
        status: u16,
    },
    /// The response's `Content-Type` was not `text/event-stream` ("or if res's
    /// `Content-Type` is not `text/event-stream`, then fail the connection").
    #[error(
        "the server answered content type {:?}, not text/event-stream",
        .content_type.as_deref().unwrap_or("(none)")
    )]
    ContentType {
        /// The first 128 bytes of the header value (lossy UTF-8), `None` when absent.
        content_type: Option<String>,
    },
    /// The body crossed the parser's [`Limits`](crate::Limits). Reconnecting would resume
    /// before the same oversized event, so the session does not retry.
    #[error("the event stream broke the parser's limits: {0}")]
    Parse(#[from] ParseError),
    /// [`Config::max_attempts`](crate::client::Config::max_attempts) consecutive attempts
    /// failed.
    #[error("{attempts} consecutive attempts failed")]
    TooManyAttempts {
        /// The consecutive failed attempts.
        attempts: u32,
    },
}
