//! Limits and switches: [`Limits`] and [`Config`] of a [`Connection`](crate::Connection), and
//! [`HandshakeLimits`] of the opening handshake's HTTP head parser.
//!
//! The handshake has limits of its own rather than fields in [`Limits`]: the head parser runs
//! before a connection exists and bounds a different thing (one HTTP head), and a
//! [`Connection`](crate::Connection) keeps its `Config` inline, so fields it never reads would
//! make every connection larger.

/// Bounds on what a [`Connection`](crate::Connection) buffers and accepts. Every limit is
/// checked before memory is reserved for what it bounds (a frame's length is checked as soon
/// as its header is decoded, a fed chunk before it is copied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Largest payload of one received frame. Default 16 MiB: large enough for every
    /// Autobahn|Testsuite case, small enough that a hostile length cannot make the connection
    /// wait for (and buffer) gigabytes. Exceeding it fails with close code 1009.
    pub max_frame_size: u64,
    /// Largest received message (sum of its fragments, and after an extension decoded it).
    /// Default 64 MiB (the common default of WebSocket libraries): a message is held whole
    /// before it is handed out, so this is the most memory one message can take. Exceeding it
    /// fails with close code 1009.
    pub max_message_size: u64,
    /// Most frames in one received message. Default 65,536: fragments are copied into one
    /// buffer as they arrive, so a fragment costs only its header; the bound caps the work an
    /// endless stream of empty fragments can cause. Exceeding it fails with close code 1009.
    pub max_fragments: u32,
    /// Most bytes fed but not yet consumed by polling before `feed`/`feed_bytes` refuse with
    /// [`FeedError::BufferFull`](crate::FeedError::BufferFull). Default 32 MiB: twice the
    /// default frame limit, so a reader that polls after every read never meets it, while a
    /// peer that sends faster than the application polls cannot grow the buffer without end.
    /// The bound in force is never below `max_frame_size + 14` (one largest frame with its
    /// header), so that a conforming peer can always complete the frame being received.
    pub max_buffered_input: usize,
    /// Most bytes queued for writing before `send_*` refuses with
    /// [`SendError::OutputFull`](crate::SendError::OutputFull). Default 64 MiB, one largest
    /// message. Replies the protocol requires are bounded by construction: at most one
    /// automatic pong is pending (a newer ping replaces it) and at most one Close is sent.
    pub max_buffered_output: usize,
}

impl Limits {
    /// The defaults (each field documents its own).
    pub const DEFAULT: Limits = Limits {
        max_frame_size: 16 << 20,
        max_message_size: 64 << 20,
        max_fragments: 65_536,
        max_buffered_input: 32 << 20,
        max_buffered_output: 64 << 20,
    };

    /// Sets [`max_frame_size`](Self::max_frame_size).
    #[must_use]
    pub const fn with_max_frame_size(mut self, v: u64) -> Self {
        self.max_frame_size = v;
        self
    }

    /// Sets [`max_message_size`](Self::max_message_size).
    #[must_use]
    pub const fn with_max_message_size(mut self, v: u64) -> Self {
        self.max_message_size = v;
        self
    }

    /// Sets [`max_fragments`](Self::max_fragments).
    #[must_use]
    pub const fn with_max_fragments(mut self, v: u32) -> Self {
        self.max_fragments = v;
        self
    }

    /// Sets [`max_buffered_input`](Self::max_buffered_input).
    #[must_use]
    pub const fn with_max_buffered_input(mut self, v: usize) -> Self {
        self.max_buffered_input = v;
        self
    }

    /// Sets [`max_buffered_output`](Self::max_buffered_output).
    #[must_use]
    pub const fn with_max_buffered_output(mut self, v: usize) -> Self {
        self.max_buffered_output = v;
        self
    }

    /// The input bound in force: [`max_buffered_input`](Self::max_buffered_input), raised to
    /// `max_frame_size + 14` if lower (a largest frame must fit, or the connection would wait
    /// for bytes it refuses).
    #[inline]
    pub const fn effective_max_buffered_input(&self) -> usize {
        let frame = if self.max_frame_size > (usize::MAX - 14) as u64 {
            usize::MAX
        } else {
            self.max_frame_size as usize + crate::frame::MAX_HEADER_LEN
        };
        if self.max_buffered_input < frame {
            frame
        } else {
            self.max_buffered_input
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Limits and switches of a [`Connection`](crate::Connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Config {
    /// What the connection buffers and accepts.
    pub limits: Limits,
    /// Reject lengths not encoded in the minimal number of bytes ("the minimal number of bytes
    /// MUST be used to encode the length"). Default `true`.
    pub require_minimal_length: bool,
    /// Answer pings with a pong automatically ("Upon receipt of a Ping frame, an endpoint
    /// MUST send a Pong frame in response"). Default `true`; with `false` the application
    /// must call [`Connection::send_pong`](crate::Connection::send_pong) itself.
    pub auto_pong: bool,
}

impl Config {
    /// The defaults: [`Limits::DEFAULT`], minimal lengths required, automatic pongs.
    pub const DEFAULT: Config = Config {
        limits: Limits::DEFAULT,
        require_minimal_length: true,
        auto_pong: true,
    };

    /// Sets [`limits`](Self::limits).
    #[must_use]
    pub const fn with_limits(mut self, v: Limits) -> Self {
        self.limits = v;
        self
    }

    /// Sets [`require_minimal_length`](Self::require_minimal_length).
    #[must_use]
    pub const fn with_require_minimal_length(mut self, v: bool) -> Self {
        self.require_minimal_length = v;
        self
    }

    /// Sets [`auto_pong`](Self::auto_pong).
    #[must_use]
    pub const fn with_auto_pong(mut self, v: bool) -> Self {
        self.auto_pong = v;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// Bounds for the HTTP head of a handshake. Checked as bytes arrive, before buffering more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct HandshakeLimits {
    /// Longest line (request/status line or one header line, without CRLF). Default 8 KiB,
    /// the common default of HTTP servers; real handshakes stay far below it.
    pub max_line_len: usize,
    /// Most header fields. Default 64; a browser handshake sends about 15, and the parser
    /// keeps two ranges per field, so the bound also caps that bookkeeping.
    pub max_headers: usize,
    /// Largest head, start line through the empty line. Default 16 KiB: the parser buffers
    /// at most this much, whatever the peer sends.
    pub max_head_len: usize,
}

impl HandshakeLimits {
    /// The defaults (each field documents its own).
    pub const DEFAULT: HandshakeLimits = HandshakeLimits {
        max_line_len: 8 * 1024,
        max_headers: 64,
        max_head_len: 16 * 1024,
    };

    /// Sets [`max_line_len`](Self::max_line_len).
    #[must_use]
    pub const fn with_max_line_len(mut self, v: usize) -> Self {
        self.max_line_len = v;
        self
    }

    /// Sets [`max_headers`](Self::max_headers).
    #[must_use]
    pub const fn with_max_headers(mut self, v: usize) -> Self {
        self.max_headers = v;
        self
    }

    /// Sets [`max_head_len`](Self::max_head_len).
    #[must_use]
    pub const fn with_max_head_len(mut self, v: usize) -> Self {
        self.max_head_len = v;
        self
    }
}

impl Default for HandshakeLimits {
    fn default() -> Self {
        HandshakeLimits::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_bound_never_below_one_frame() {
        let l = Limits::DEFAULT.with_max_buffered_input(10);
        assert_eq!(l.effective_max_buffered_input(), (16 << 20) + 14);
        assert_eq!(Limits::DEFAULT.effective_max_buffered_input(), 32 << 20);
        let huge = Limits::DEFAULT.with_max_frame_size(u64::MAX);
        assert_eq!(huge.effective_max_buffered_input(), usize::MAX);
        // A frame size that still has room for a header is raised by exactly the header,
        // however large: only one within 14 bytes of `usize::MAX` saturates.
        let half = (usize::MAX / 2) as u64;
        let large = Limits::DEFAULT.with_max_frame_size(half);
        assert_eq!(
            large.effective_max_buffered_input(),
            usize::MAX / 2 + crate::frame::MAX_HEADER_LEN
        );
        let edge = Limits::DEFAULT.with_max_frame_size((usize::MAX - 14) as u64);
        assert_eq!(edge.effective_max_buffered_input(), usize::MAX);
    }
}
