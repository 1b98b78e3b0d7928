//! pushwire-ws: sans-IO WebSocket (RFC 6455).
//!
//! This crate contains no networking code and takes no time from the OS: bytes go in,
//! events come out, bytes to write come out. It runs on any transport (tokio, std::net, an
//! embedded stack, a fuzzer) and with `no_std` + `alloc` (disable the default `std` feature).
//!
//! # Call order
//!
//! **Handshake.** Server: feed request bytes to [`handshake::ServerHandshake::feed`] until it
//! returns a [`handshake::ClientOffer`] (or an error whose
//! [`response`](handshake::RequestError::response) is the 400/426 to write); inspect it, then
//! [`handshake::ServerHandshake::into_connection`] gives the 101 response to write and the
//! [`Connection`] (permessage-deflate agreed and installed, the bytes after the request fed).
//! Client: write [`handshake::ClientHandshake::request`], feed the response to
//! [`handshake::ClientHandshake::feed`] until it returns [`handshake::Accepted`], then
//! [`handshake::ClientHandshake::into_connection`].
//!
//! **Connection.** Repeat:
//! 1. bytes read → [`Connection::feed`] / [`Connection::feed_bytes`], or read straight into
//!    the input buffer: [`Connection::read_room`], then [`Connection::commit_read`] (end of
//!    stream → [`Connection::feed_eof`]); a feed past [`Limits::max_buffered_input`] is
//!    refused with [`FeedError::BufferFull`] and takes nothing: poll first;
//! 2. [`Connection::poll_event`] until `Ok(None)` ("need more bytes") or an error — errors are
//!    sticky and a peer error has already queued the Close frame to send. Or
//!    [`Connection::poll_event_ref`], whose [`EventRef`] borrows the payload from the
//!    connection's input buffer (nothing allocated or reference-counted per message; valid
//!    until the next call on the connection);
//! 3. queue with `send_*`, e.g. [`Connection::send_text`], [`Connection::send_close`] (these
//!    validate and only queue);
//! 4. write every chunk from [`Connection::poll_transmit`], in order, or all of it at once
//!    with [`Connection::take_transmit`] (a [`bytes::Buf`] for vectored writes);
//! 5. close the transport when [`Connection::should_close_transport`] is true.
//!
//! ```
//! use pushwire_ws::{Connection, Config, Event, FixedMaskKey, Role};
//!
//! let mut client = Connection::with_mask_keys(Role::Client, Config::default(),
//!     Box::new(FixedMaskKey([1, 2, 3, 4])));
//! let mut server = Connection::server(Config::default());
//! client.send_text("hello").unwrap();
//! while let Some(chunk) = client.poll_transmit() {
//!     server.feed(&chunk).unwrap();
//! }
//! assert_eq!(server.poll_event().unwrap(), Some(Event::Text("hello".into())));
//! assert_eq!(server.poll_event().unwrap(), None);
//! ```
//!
//! **Two owners.** To receive in one task or thread and send in another, split the
//! connection: `Connection::split` gives a `Receiver` (steps 1, 2 and 5, and the pongs and
//! Close replies the protocol owes, in its own `take_transmit`) and a `Sender` (step 3 and its
//! own `take_transmit`). No lock between them: one shared atomic decides which half sends our
//! one Close and tells the sender that the receiver failed. Write each half's `Transmit` whole
//! (never interleave two halves' bytes inside one), and close the transport once the
//! receiver says so and the sender's output is written. `Connection::reunite` puts them back
//! together. (Needs a target with pointer-sized atomics.)
//!
//! # Building blocks
//!
//! The stateless pieces are public: [`frame`] (header decode/encode into a `[u8; 14]`),
//! [`mask`] (masking at any offset), [`close`] (close codes and reasons), [`utf8`]
//! (incremental validation), [`handshake`] (HTTP head parsers, key/accept, responses),
//! [`deflate`] (permessage-deflate negotiation and codec).
#![cfg_attr(not(feature = "std"), no_std)]
// `unsafe` is denied everywhere but one block in `mask` (the call of the AVX2 copy of the
// masking loop, after run-time detection).
#![deny(unsafe_code)]

extern crate alloc;

pub mod close;
mod config;
mod connection;
pub mod deflate;
mod error;
mod event;
mod extension;
pub mod frame;
pub mod handshake;
mod keys;
pub mod mask;
mod transmit;
pub mod utf8;

pub use close::CloseFrame;
pub use config::{Config, Limits};
pub use connection::{Connection, ConnectionState, ReadRoom, Role};
#[cfg(target_has_atomic = "ptr")]
pub use connection::{Receiver, ReuniteError, Sender, SplitError};
pub use error::{FeedError, ProtocolError, SendError};
pub use event::{Event, EventRef, Utf8Bytes, Utf8Ref};
pub use extension::{Extension, ExtensionError, MessageKind};
#[cfg(feature = "std")]
pub use keys::StdRandom;
pub use keys::{FixedMaskKey, MaskKeySource};
pub use transmit::Transmit;
