//! The client role: a reconnecting `EventSource`, sans-IO. A [`Session`] implements the
//! WHATWG HTML standard's `EventSource` processing model (§9.2.3: announce, reestablish,
//! fail the connection; the `Last-Event-ID` header) plus what production clients add:
//! exponential backoff with jitter and a cap, a limit on consecutive failed attempts, a reset
//! of the backoff after a healthy stream, and connect and read timeouts. It takes `now` in
//! every call and randomness from a seed; the HTTP layer (pushwire-tokio's `EventSource`, or
//! yours) does the I/O, including redirects and TLS.
//!
//! # The call order
//!
//! 1. [`Session::new`] with a [`Config`] and a seed.
//! 2. Loop on [`Session::poll_action`]`(now)`:
//!    * [`Action::Connect`]: drop any connection, send the request (with `Last-Event-ID`
//!      when given), and report the response with [`Session::handle_response`] or a network
//!      error with [`Session::handle_error`].
//!    * [`Action::Wait`]: carry on (wait for the response, read the body, or sleep) until
//!      something happens or `until`, then poll again. Body bytes go to [`Session::feed`] (or
//!      [`Session::feed_bytes`]); then call [`Session::poll_event`] (or
//!      [`Session::poll_event_ref`], [`Session::poll`]) until `Ok(None)`. The end of the
//!      body is [`Session::feed_eof`], a broken connection [`Session::handle_error`]; poll
//!      the events once more after either.
//!    * [`Action::Disconnect`]: drop the connection (a timeout fired), then poll again.
//!    * [`Action::Closed`] (the server sent 204, or you called [`Session::close`]) or
//!      [`Action::Failed`] (a status other than 200, a content type other than
//!      `text/event-stream`, a body over the limits, too many failed attempts): stop.
//!
//! ```
//! use core::time::Duration;
//! use pushwire_sse::client::{Action, Config, Session};
//! use pushwire_sse::Instant;
//!
//! let mut s = Session::new(Config::DEFAULT, 7);
//! let t0 = Instant::ZERO;
//! assert_eq!(s.poll_action(t0), Action::Connect { last_event_id: None });
//! s.handle_response(t0, 200, Some(b"text/event-stream; charset=utf-8"));
//! s.feed(t0, b"retry: 500\nid: 41\ndata: hello\n\n").unwrap();
//! assert_eq!(s.poll_event().unwrap().unwrap().data(), "hello");
//! assert_eq!(s.poll_event(), Ok(None));
//! let t1 = t0 + Duration::from_secs(90);
//! s.handle_error(t1); // the connection broke after a healthy 90 s
//! // "Wait a delay equal to the reconnection time": the server's 500 ms. (Had the stream
//! // lived less than `Config::backoff_reset_after`, a jittered backoff would be added.)
//! let at = t1 + Duration::from_millis(500);
//! assert_eq!(s.poll_action(t1), Action::Wait { until: Some(at) });
//! assert_eq!(s.poll_action(at), Action::Connect { last_event_id: Some("41".into()) });
//! s.handle_response(at, 204, None);
//! assert!(matches!(s.poll_action(at), Action::Closed(_)));
//! ```
//!
//! Files: `config.rs` ([`Config`], [`Jitter`]), `action.rs` ([`Action`], [`CloseReason`],
//! [`DisconnectReason`], [`ReadyState`]), `response.rs` (what a status and content type
//! mean), `backoff.rs` (the delays) and `session.rs` ([`Session`]).

mod action;
mod backoff;
mod config;
mod response;
mod session;

pub use action::{Action, CloseReason, DisconnectReason, ReadyState};
pub use config::{Config, Jitter};
pub use response::is_event_stream;
pub use session::Session;

/// Why the session failed (also at the crate root).
pub use crate::error::FailReason;

/// A seed for [`Session::new`] from std's per-process random hash keys, different for each
/// call.
#[cfg(feature = "std")]
pub fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish()
}
