//! [`Config`]: buffer sizes and limits, named as in tungstenite where the meaning is the same,
//! and the optional timers (which tungstenite has not).

use std::time::Duration;

use pushwire_ws::deflate::DeflateConfig;
use pushwire_ws::Limits;

/// Settings of a [`WebSocketStream`](crate::WebSocketStream).
///
/// Field names follow tungstenite's `WebSocketConfig` where the meaning is the same, so a
/// migration is mechanical; the limits are plain numbers rather than `Option`s (use a large
/// value for "no limit").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Most bytes asked of the transport in one read (default 64 KiB). The read buffer is
    /// allocated only while a read is in progress and released when the transport has
    /// nothing more to give, so an idle connection holds none.
    pub read_buffer_size: usize,
    /// Queued output (bytes) above which `send`/`poll_ready` write to the transport before
    /// accepting another message (default 128 KiB, as tungstenite).
    pub write_buffer_size: usize,
    /// Hard bound on queued output: a message that would take the queue past it is refused
    /// with [`Error::WriteBufferFull`](crate::Error::WriteBufferFull) (default 64 MiB). Must
    /// be above `write_buffer_size` plus the largest message sent.
    pub max_write_buffer_size: usize,
    /// Largest message accepted from the peer, reassembled (default 64 MiB).
    pub max_message_size: u64,
    /// Largest frame payload accepted from the peer (default 16 MiB).
    pub max_frame_size: u64,
    /// Most frames one message may arrive in (default 65,536; not in tungstenite, which
    /// has no such bound).
    pub max_fragments: u32,
    /// permessage-deflate settings; `None` never negotiates it. Default: `Some` with
    /// [`DeflateConfig::DEFAULT`] (used only when the peer agrees).
    pub deflate: Option<DeflateConfig>,
    /// Auto-ping: when nothing at all has been received for this long, send a Ping (empty
    /// payload). Pings go out only while the peer is silent, so a busy connection sends
    /// none; without [`pong_timeout`](Self::pong_timeout) they repeat every interval while
    /// the silence lasts (a keepalive for NATs and proxies). Default `None` (no pings).
    /// Values below 1 ms count as 1 ms. See [Timers](crate#timers).
    pub ping_interval: Option<Duration>,
    /// With [`ping_interval`](Self::ping_interval): a peer from which nothing arrives within
    /// this long after our Ping is dead — the connection fails with
    /// [`Error::Timeout`](crate::Error::Timeout) ([`TimeoutKind::Pong`](crate::TimeoutKind::Pong))
    /// and a Close 1001. Any bytes count as the answer, not only the Pong: a Pong may queue
    /// behind a large message, and a peer whose data arrives is alive. Ignored without
    /// `ping_interval`. Default `None` (a silent peer is never declared dead by pings).
    pub pong_timeout: Option<Duration>,
    /// When nothing at all has been received for this long (no byte of any frame, pongs
    /// included), the connection fails with [`Error::Timeout`](crate::Error::Timeout)
    /// ([`TimeoutKind::Idle`](crate::TimeoutKind::Idle)) and a Close 1001. Independent of the
    /// pings (which reset it only through the peer's answers). Default `None`.
    pub idle_timeout: Option<Duration>,
    /// Once our Close has been sent, how long to wait for the peer's: past it the
    /// connection fails with [`Error::Timeout`](crate::Error::Timeout)
    /// ([`TimeoutKind::Close`](crate::TimeoutKind::Close)) and the transport is shut down
    /// without the handshake finishing (RFC 6455 §7.1.1: "the underlying TCP connection,
    /// in most normal cases, SHOULD be closed first by the server"; a peer that never
    /// answers must not hold it). python-websockets calls it `close_timeout`; tungstenite
    /// has none. Default `None` (wait as long as the other timers allow).
    pub close_timeout: Option<Duration>,
}

impl Config {
    /// The defaults listed on each field.
    pub const DEFAULT: Config = Config {
        read_buffer_size: 64 << 10,
        write_buffer_size: 128 << 10,
        max_write_buffer_size: 64 << 20,
        max_message_size: 64 << 20,
        max_frame_size: 16 << 20,
        max_fragments: 65_536,
        deflate: Some(DeflateConfig::DEFAULT),
        ping_interval: None,
        pong_timeout: None,
        idle_timeout: None,
        close_timeout: None,
    };

    /// Sets [`read_buffer_size`](Self::read_buffer_size) (at least 1).
    #[must_use]
    pub const fn with_read_buffer_size(mut self, v: usize) -> Self {
        self.read_buffer_size = if v == 0 { 1 } else { v };
        self
    }

    /// Sets [`write_buffer_size`](Self::write_buffer_size).
    #[must_use]
    pub const fn with_write_buffer_size(mut self, v: usize) -> Self {
        self.write_buffer_size = v;
        self
    }

    /// Sets [`max_write_buffer_size`](Self::max_write_buffer_size).
    #[must_use]
    pub const fn with_max_write_buffer_size(mut self, v: usize) -> Self {
        self.max_write_buffer_size = v;
        self
    }

    /// Sets [`max_message_size`](Self::max_message_size).
    #[must_use]
    pub const fn with_max_message_size(mut self, v: u64) -> Self {
        self.max_message_size = v;
        self
    }

    /// Sets [`max_frame_size`](Self::max_frame_size).
    #[must_use]
    pub const fn with_max_frame_size(mut self, v: u64) -> Self {
        self.max_frame_size = v;
        self
    }

    /// Sets [`max_fragments`](Self::max_fragments).
    #[must_use]
    pub const fn with_max_fragments(mut self, v: u32) -> Self {
        self.max_fragments = v;
        self
    }

    /// Sets [`deflate`](Self::deflate).
    #[must_use]
    pub const fn with_deflate(mut self, v: Option<DeflateConfig>) -> Self {
        self.deflate = v;
        self
    }

    /// Sets [`ping_interval`](Self::ping_interval).
    #[must_use]
    pub const fn with_ping_interval(mut self, v: Option<Duration>) -> Self {
        self.ping_interval = v;
        self
    }

    /// Sets [`pong_timeout`](Self::pong_timeout).
    #[must_use]
    pub const fn with_pong_timeout(mut self, v: Option<Duration>) -> Self {
        self.pong_timeout = v;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    #[must_use]
    pub const fn with_idle_timeout(mut self, v: Option<Duration>) -> Self {
        self.idle_timeout = v;
        self
    }

    /// Sets [`close_timeout`](Self::close_timeout).
    #[must_use]
    pub const fn with_close_timeout(mut self, v: Option<Duration>) -> Self {
        self.close_timeout = v;
        self
    }

    /// Whether any timer is configured (a [`WebSocketStream`](crate::WebSocketStream)
    /// allocates its timer state only then).
    pub const fn has_timers(&self) -> bool {
        self.ping_interval.is_some() || self.idle_timeout.is_some() || self.close_timeout.is_some()
    }

    /// The codec configuration this maps onto.
    pub fn to_ws_config(&self) -> pushwire_ws::Config {
        pushwire_ws::Config::DEFAULT.with_limits(
            Limits::DEFAULT
                .with_max_frame_size(self.max_frame_size)
                .with_max_message_size(self.max_message_size)
                .with_max_fragments(self.max_fragments)
                .with_max_buffered_output(self.max_write_buffer_size),
        )
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// Settings of a [`FrameCodec`](crate::codec::FrameCodec) (feature `codec`).
#[cfg(feature = "codec")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodecConfig {
    /// Largest frame payload accepted from the peer (default 16 MiB, as
    /// [`Config::max_frame_size`]). A larger declared length is refused as soon as the header
    /// is read, before anything is allocated for the payload.
    pub max_frame_size: u64,
    /// Refuse a length not encoded with the fewest bytes (default `true`, as pushwire-ws):
    /// "the minimal number of bytes MUST be used to encode the length".
    pub require_minimal_length: bool,
    /// Pass RSV1–3 through in [`Frame::rsv`](crate::codec::Frame::rsv) instead of refusing
    /// them (default `false`): set it only if you negotiated an extension that gives them a
    /// meaning and implement that extension yourself.
    pub allow_reserved_bits: bool,
}

#[cfg(feature = "codec")]
impl CodecConfig {
    /// The defaults listed on each field.
    pub const DEFAULT: CodecConfig = CodecConfig {
        max_frame_size: 16 << 20,
        require_minimal_length: true,
        allow_reserved_bits: false,
    };

    /// Sets [`max_frame_size`](Self::max_frame_size).
    #[must_use]
    pub const fn with_max_frame_size(mut self, v: u64) -> Self {
        self.max_frame_size = v;
        self
    }

    /// Sets [`require_minimal_length`](Self::require_minimal_length).
    #[must_use]
    pub const fn with_require_minimal_length(mut self, v: bool) -> Self {
        self.require_minimal_length = v;
        self
    }

    /// Sets [`allow_reserved_bits`](Self::allow_reserved_bits).
    #[must_use]
    pub const fn with_allow_reserved_bits(mut self, v: bool) -> Self {
        self.allow_reserved_bits = v;
        self
    }
}

#[cfg(feature = "codec")]
impl Default for CodecConfig {
    fn default() -> Self {
        CodecConfig::DEFAULT
    }
}
