//! Limits and switches of a [`Connection`](crate::Connection).

/// Limits and options of a [`Connection`]. Every limit is checked before memory is reserved
/// for what it bounds (a frame's length is checked as soon as its header is decoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Largest payload of one received frame. Default 16 MiB: large enough for every
    /// Autobahn|Testsuite case, small enough that a hostile length cannot make the connection
    /// wait for (and buffer) gigabytes. Exceeding it fails with close code 1009.
    pub max_frame_size: u64,
    /// Largest received message (sum of its fragments). Default 64 MiB (the common default of
    /// WebSocket libraries). Exceeding it fails with close code 1009.
    pub max_message_size: u64,
    /// Most frames in one received message. Default 65,536: fragments are copied into one
    /// buffer as they arrive, so a fragment costs only its header; the bound caps the work an
    /// endless stream of empty fragments can cause. Exceeding it fails with close code 1009.
    pub max_fragments: usize,
    /// Most bytes queued for writing before `send_*` refuses with [`SendError::OutputFull`].
    /// Default 64 MiB. Replies the protocol requires (pong, close) are queued regardless.
    pub max_buffered_output: usize,
    /// Reject lengths not encoded in the minimal number of bytes ("the minimal number of bytes
    /// MUST be used to encode the length"). Default `true`.
    pub require_minimal_length: bool,
    /// Answer every ping with a pong automatically ("Upon receipt of a Ping frame, an endpoint
    /// MUST send a Pong frame in response"). Default `true`; with `false` the application
    /// must call [`Connection::send_pong`] itself.
    pub auto_pong: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 65_536,
            max_buffered_output: 64 << 20,
            require_minimal_length: true,
            auto_pong: true,
        }
    }
}
