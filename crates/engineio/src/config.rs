//! Limits on decoding: [`Limits`], used by every payload decoder and by both sessions
//! (through [`crate::server::Config`] and [`crate::client::Config`]).

/// Size and count limits for decoding one payload.
///
/// Each limit is checked before the bytes it guards are buffered or allocated: a packet's
/// declared length is compared with [`Limits::max_packet_bytes`] as soon as its digits are
/// read, and input beyond [`Limits::max_payload_bytes`] is never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum bytes of one payload (one HTTP body), counted over the whole body as fed.
    /// Default 1,000,000, the `maxHttpBufferSize` default of the engine.io 3.6.2 server
    /// (`opts.maxHttpBufferSize || 1e6`), so nothing that server accepts is refused; it is
    /// also what bounds the memory one body can take in a decoder. Raise it if your
    /// application sends larger polling bodies.
    pub max_payload_bytes: usize,
    /// Maximum packets in one payload. Default 100,000: generous on purpose — an engine.io
    /// server flushes everything buffered since the last poll in one payload, so bursts of
    /// thousands of small packets are legitimate (python-engineio's fixed 16 rejects them).
    /// At the default byte limit a payload cannot hold more than ~333,000 packets (`1:6` is 3
    /// bytes); this caps the per-packet work and allocations at a third of that.
    pub max_packets: usize,
    /// Maximum bytes of one packet's encoded form inside a payload (for a text payload,
    /// UTF-8 bytes of the string form). Default 1,000,000, the same as the payload limit: a
    /// packet cannot outgrow its payload, so the default refuses nothing the payload limit
    /// admits, and a declared length above it is refused before any of its bytes are read.
    /// Lower it to bound single messages.
    pub max_packet_bytes: usize,
}

impl Limits {
    /// The defaults (see each field).
    pub const DEFAULT: Limits = Limits {
        max_payload_bytes: 1_000_000,
        max_packets: 100_000,
        max_packet_bytes: 1_000_000,
    };

    /// No limits at all (every field `usize::MAX`). Only for input you trust.
    pub const UNLIMITED: Limits = Limits {
        max_payload_bytes: usize::MAX,
        max_packets: usize::MAX,
        max_packet_bytes: usize::MAX,
    };

    /// Returns these limits with [`Limits::max_payload_bytes`] set to `n`.
    #[must_use]
    pub const fn with_max_payload_bytes(mut self, n: usize) -> Self {
        self.max_payload_bytes = n;
        self
    }

    /// Returns these limits with [`Limits::max_packets`] set to `n`.
    #[must_use]
    pub const fn with_max_packets(mut self, n: usize) -> Self {
        self.max_packets = n;
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
