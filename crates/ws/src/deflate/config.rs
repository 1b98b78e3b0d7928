//! [`DeflateConfig`]: the tuning and limits of permessage-deflate.

/// Tuning and limits of permessage-deflate (`PerMessageDeflate`, feature `deflate`).
/// Always compiled, so that the signatures taking it do not change with the feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Messages shorter than this many bytes are sent uncompressed (RSV1 clear). Default 64:
    /// below that, compression rarely saves more than its own cost.
    pub threshold: usize,
    /// Compression level 1..=10 (miniz_oxide's scale; 0 is treated as 1; zlib-rs stops at 9,
    /// so 10 is 9 there). Default 6.
    pub level: u8,
    /// A received message may not inflate to more than `max_ratio` times its compressed size
    /// once it exceeds [`ratio_floor`](Self::ratio_floor) bytes (close 1009). 0 disables.
    /// Default 200.
    pub max_ratio: u32,
    /// Decompressed size below which the ratio is not checked. Default 1 MiB: the connection's
    /// `max_message_size` bounds what a message may inflate to anyway; the ratio stops a
    /// small message that inflates hugely from costing that much.
    pub ratio_floor: usize,
    /// Where a direction has no context takeover (or a window under 15 bits), borrow the
    /// compressor / inflater for each message from one spare kept per thread, shared by all
    /// connections of that thread, instead of allocating one per message (as uWS does).
    /// Needs the `std` feature (ignored without it). Default `true` (since issue 18: a fresh
    /// zlib-rs compressor per message — 370 KiB allocated, its hash table zeroed, the pages
    /// faulted in — cost ≈16 µs per small message on top of ≈8.5 µs of compressing it); a
    /// thread that ever compressed then keeps at most one compressor and one inflater.
    pub share_per_thread: bool,
    /// Which DEFLATE implementation compresses and inflates. Default [`Engine::Auto`].
    pub engine: Engine,
}

/// The DEFLATE implementation behind permessage-deflate. Both produce and accept the same
/// wire format; they differ in speed (docs/performance.md, "permessage-deflate engines").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Engine {
    /// zlib-rs when the `zlib-rs` feature is built (the default features), else miniz_oxide.
    #[default]
    Auto,
    /// miniz_oxide: always built with the `deflate` feature; no `unsafe` in it.
    Miniz,
    /// zlib-rs (feature `zlib-rs`): a port of zlib-ng to Rust, several times faster at
    /// compressing. Without the feature, this means miniz_oxide.
    ZlibRs,
}

impl DeflateConfig {
    /// The defaults (each field documents its own).
    pub const DEFAULT: DeflateConfig = DeflateConfig {
        threshold: 64,
        level: 6,
        max_ratio: 200,
        ratio_floor: 1 << 20,
        share_per_thread: true,
        engine: Engine::Auto,
    };

    /// Sets [`threshold`](Self::threshold).
    #[must_use]
    pub const fn with_threshold(mut self, v: usize) -> Self {
        self.threshold = v;
        self
    }

    /// Sets [`level`](Self::level).
    #[must_use]
    pub const fn with_level(mut self, v: u8) -> Self {
        self.level = v;
        self
    }

    /// Sets [`max_ratio`](Self::max_ratio).
    #[must_use]
    pub const fn with_max_ratio(mut self, v: u32) -> Self {
        self.max_ratio = v;
        self
    }

    /// Sets [`ratio_floor`](Self::ratio_floor).
    #[must_use]
    pub const fn with_ratio_floor(mut self, v: usize) -> Self {
        self.ratio_floor = v;
        self
    }

    /// Sets [`engine`](Self::engine).
    #[must_use]
    pub const fn with_engine(mut self, v: Engine) -> Self {
        self.engine = v;
        self
    }

    /// Sets [`share_per_thread`](Self::share_per_thread).
    #[must_use]
    pub const fn with_share_per_thread(mut self, v: bool) -> Self {
        self.share_per_thread = v;
        self
    }
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig::DEFAULT
    }
}
