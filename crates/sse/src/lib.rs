//! pushwire-sse: Server-Sent Events, sans-IO.
//!
//! This crate contains no networking code and takes no time from the OS. It turns the bytes
//! of a `text/event-stream` body into events exactly as the WHATWG HTML standard's
//! "interpreting an event stream" rules say a browser does, and turns events into bytes that
//! a browser reads back as exactly those events.
//!
//! # Reading a stream: the call order
//!
//! 1. Make a [`Parser`]: [`Parser::new`], or [`Parser::with_config`] to set the [`Limits`] or
//!    have comments returned ([`Config`]).
//! 2. [`Parser::feed`] (borrowed bytes, copied once) or [`Parser::feed_bytes`] (an owned
//!    chunk such as [`bytes::Bytes`], kept without a copy) whatever arrived from the network.
//!    Feeding only buffers.
//! 3. Call [`Parser::poll_event`] (events only) or [`Parser::poll`] (events, `retry` values
//!    and, if enabled, comments) until it returns `Ok(None)`, which means "feed me more". For
//!    throughput, [`Parser::poll_event_ref`] lends each event from the parser's buffers
//!    (valid until the next call; nothing allocated per event). An owned [`Event`] whose one
//!    data line is ASCII and arrived whole in a [`Parser::feed_bytes`] chunk shares that
//!    chunk's bytes.
//! 4. When the body ends, call [`Parser::feed_eof`] and poll once more; an event that was not
//!    terminated by a blank line is discarded, as the standard requires.
//! 5. To reconnect, send [`Parser::last_event_id`] as the `Last-Event-ID` header and wait
//!    [`Parser::reconnection_time`] (or your default), then [`Parser::restart`] for the new
//!    stream. Or let a [`client::Session`] do all of this (next section).
//!
//! ```
//! use pushwire_sse::Parser;
//!
//! let mut parser = Parser::new();
//! parser.feed(b"id: 7\nevent: tick\ndata: hello\ndata: wor").unwrap();
//! assert_eq!(parser.poll_event(), Ok(None)); // the event is not complete yet
//! parser.feed(b"ld\n\n").unwrap();
//! let ev = parser.poll_event().unwrap().unwrap();
//! assert_eq!((ev.event_type(), ev.data(), ev.last_event_id()), ("tick", "hello\nworld", "7"));
//! assert_eq!(parser.poll_event(), Ok(None));
//! ```
//!
//! Errors ([`ParseError`]) are sticky: a line or an event larger than the configured
//! [`Limits`] fails the parser until [`Parser::resync`] skips to the next blank line. Events
//! dispatched before the error are never lost. [`Parser::feed`] refuses input beyond
//! [`Limits::max_buffered_input`] with a [`FeedError`] (poll first, then feed again).
//!
//! # A reconnecting client: the call order
//!
//! [`client::Session`] is an `EventSource` without I/O: it owns a [`Parser`] and decides,
//! by the standard's rules and a backoff policy ([`client::Config`]), when to connect, with
//! which `Last-Event-ID`, and when to stop. Time is an [`Instant`] argument, randomness a
//! seed.
//!
//! 1. [`client::Session::new`]`(config, seed)`.
//! 2. [`client::Session::poll_action`]`(now)` and do what it says:
//!    [`client::Action::Connect`] (send the request; report the response with
//!    [`client::Session::handle_response`]`(now, status, content_type)` or a network error
//!    with [`client::Session::handle_error`]), [`client::Action::Wait`] (until something
//!    happens or `until`), [`client::Action::Disconnect`] (a timeout: drop the connection),
//!    [`client::Action::Closed`] or [`client::Action::Failed`] (stop).
//! 3. While the stream is open: [`client::Session::feed`]`(now, bytes)` what arrives, then
//!    [`client::Session::poll_event`] until `Ok(None)`; at the end of the body
//!    [`client::Session::feed_eof`]`(now)` (or [`client::Session::handle_error`]), poll the
//!    last events, and go back to 2.
//!
//! ```
//! use pushwire_sse::client::{Action, Config, Session};
//! use pushwire_sse::Instant;
//!
//! let mut s = Session::new(Config::DEFAULT, 1);
//! let now = Instant::ZERO;
//! assert_eq!(s.poll_action(now), Action::Connect { last_event_id: None });
//! s.handle_response(now, 500, Some(b"text/event-stream"));
//! assert!(matches!(s.poll_action(now), Action::Failed(_))); // never retried
//! ```
//!
//! # Writing a stream
//!
//! Build an [`EventBuilder`] (validation happens here: an `event` or `id` containing CR or
//! LF, or an `id` containing NUL, is refused with an [`EncodeError`]), then encode it into
//! your buffer (any [`bytes::BufMut`]), which cannot fail. [`server`] has the response
//! headers, keep-alive and padding comments, and the resume point of a reconnecting client.
//!
//! ```
//! use pushwire_sse::EventBuilder;
//!
//! let ev = EventBuilder::new().event("tick")?.id("7")?.data("line one\r\nline two");
//! let mut out = bytes::BytesMut::new();
//! ev.encode(&mut out);
//! assert_eq!(out, &b"event: tick\nid: 7\ndata: line one\ndata: line two\n\n"[..]);
//! assert!(EventBuilder::new().id("bad\nid").is_err());
//! # Ok::<(), pushwire_sse::EncodeError>(())
//! ```
//!
//! # Modules
//!
//! * [`Parser`] (`parser/`): the state machine; `fields.rs` holds the field rules, as a
//!   fast whole-line path and a piece-by-piece path side by side.
//! * [`Config`] and [`Limits`]; the errors [`ParseError`] (the peer's), [`FeedError`] and
//!   [`EncodeError`] (the caller's); the received [`Event`], [`EventRef`] and [`Item`].
//! * [`encode`]: events to send; [`server`]: the server side of a stream.
//! * [`client`]: the reconnecting client ([`client::Session`], its [`client::Config`], the
//!   [`client::Action`]s, the backoff, the response checks); [`Instant`] (`time.rs`), and
//!   [`FailReason`], why a client failed (the peer's).
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod client;
mod config;
pub mod encode;
mod error;
mod event;
mod parser;
pub mod server;
mod time;

pub use config::{Config, Limits};
pub use encode::EventBuilder;
pub use error::{EncodeError, FailReason, FeedError, ParseError};
pub use event::{Event, EventRef, Item};
pub use parser::Parser;
pub use time::Instant;
