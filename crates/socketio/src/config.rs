//! Limits on decoding: [`Limits`].

/// Size and count limits of the [`crate::Decoder`].
///
/// Engine.io already bounds each message (its `maxPayload` / `maxHttpBufferSize`); these bound
/// what a binary packet gathers over several messages. Each is checked before the bytes it
/// guards are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Most attachments one packet may announce. Default 10, socket.io-parser 4.2's
    /// `maxAttachments` default (3.x has none): a header announcing more is refused before
    /// any attachment is kept.
    pub max_attachments: usize,
    /// Most bytes of one packet: its text plus all its attachments. Default 11,000,000: the
    /// text and ten attachments each at engine.io's default 1,000,000-byte message limit, so
    /// nothing the reference accepts at its defaults is refused, and one half-received binary
    /// packet never holds more than this.
    pub max_packet_bytes: usize,
}

impl Limits {
    /// The defaults (see each field).
    pub const DEFAULT: Limits = Limits {
        max_attachments: 10,
        max_packet_bytes: 11_000_000,
    };

    /// No limits (every field `usize::MAX`). Only for input you trust.
    pub const UNLIMITED: Limits = Limits {
        max_attachments: usize::MAX,
        max_packet_bytes: usize::MAX,
    };

    /// Returns these limits with [`Limits::max_attachments`] set to `n`.
    #[must_use]
    pub const fn with_max_attachments(mut self, n: usize) -> Self {
        self.max_attachments = n;
        self
    }

    /// Returns these limits with [`Limits::max_packet_bytes`] set to `n`.
    #[must_use]
    pub const fn with_max_packet_bytes(mut self, n: usize) -> Self {
        self.max_packet_bytes = n;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
