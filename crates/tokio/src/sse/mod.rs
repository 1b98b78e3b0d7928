//! Server-Sent Events on hyper and axum (feature `sse`): the server's response body, a
//! broadcast channel that resumes from `Last-Event-ID`, and a reconnecting `EventSource`
//! client. The event stream format (parsing, encoding, the reconnection rules) is
//! pushwire-sse's; this module moves bytes, runs the timers and maps types.
//!
//! # Serving a stream: the call order
//!
//! 1. Read where a reconnecting client wants to resume: [`LastEventId`] (the `Last-Event-ID`
//!    header, else the `lastEventId` query parameter old polyfills send; an axum extractor
//!    with feature `axum`).
//! 2. Make a `Stream` of [`Event`]s (or of `Result<Event, E>`): your own, or a
//!    [`Subscription`] of a [`Channel`] (`channel.subscribe(last_event_id)`).
//! 3. Wrap it: [`Sse::new`]`(stream)`, optionally [`Sse::keep_alive`], [`Sse::retry`],
//!    [`Sse::padding`], [`Sse::cors`]; then [`Sse::into_http_response`] gives an
//!    `http::Response<`[`SseBody`]`>` for hyper (with feature `axum`, `Sse` is also
//!    `IntoResponse`). Answer `OPTIONS` with [`Cors::preflight`] if browsers on other
//!    origins send `Last-Event-ID` themselves (polyfills do).
//!
//! The body sends the prelude (padding, `retry`) at once, then each event as soon as the
//! stream yields it (events that are ready together go out as one frame), and a keep-alive
//! comment when the stream has been idle for the interval. It pulls from the stream only
//! when hyper can write, so a client that reads slowly slows its own stream and nothing else;
//! a [`Channel`] keeps a bounded history for every subscriber together, and ends the stream
//! of a subscriber that falls further behind than that history (see [`Channel`]).
//!
//! ```
//! use pushwire_tokio::sse::{Channel, Sse};
//! use pushwire_sse::EventBuilder;
//!
//! # async fn demo() {
//! let chat = Channel::new(1024); // keeps the last 1,024 events for resuming clients
//! chat.send(EventBuilder::new().event("chat").unwrap().data("hello"));
//! // In a handler, with the request's Last-Event-ID (here: "0", the first event's id):
//! let response = Sse::new(chat.subscribe(Some("0"))).into_http_response();
//! assert_eq!(response.headers()["content-type"], "text/event-stream; charset=utf-8");
//! # }
//! ```
//!
//! # Reading a stream: the call order
//!
//! 1. [`EventSource::builder`]`(url)`, optionally with headers, a [`ClientConfig`]
//!    (reconnection policy, timeouts, limits), HTTP/2, or TLS (feature `sse-rustls`).
//! 2. [`EventSourceBuilder::build`] gives an [`EventSource`]: a `Stream` of
//!    `Result<Event, Error>`. It connects on the first poll, reconnects by the WHATWG rules
//!    with `Last-Event-ID`, and ends (`None`) after a 204 or [`EventSource::close`]; an
//!    [`Error`] is yielded once when the source fails for good (a status other than 200, a
//!    content type other than `text/event-stream`, too many failed attempts, a body over
//!    the limits), then it ends.
//!
//! # The Comet fallbacks
//!
//! For clients without `EventSource` (seed 002's models that came before SSE), the same
//! stream of [`Event`]s can be sent as a long-poll answer ([`long_poll`]: a request held until
//! an event or a timeout, answered with JSON) or as iframe streaming ([`ForeverFrame`]: an
//! HTML document of `<script>` chunks). The client resumes with `?lastEventId=`.
//!
//! Files: `body.rs` ([`Sse`], [`SseBody`], [`Event`]), `channel.rs` ([`Channel`],
//! [`Subscription`]), `request.rs` ([`LastEventId`], [`Cors`]), `client.rs`
//! ([`EventSource`]), `comet.rs` ([`long_poll`], [`ForeverFrame`]).

mod body;
mod channel;
mod client;
mod comet;
mod request;

pub use body::{Event, IntoEvent, Sse, SseBody};
pub use channel::{Channel, Subscription};
pub use client::{Error, EventSource, EventSourceBuilder, HttpVersion};
pub use comet::{long_poll, ForeverFrame, ForeverFrameBody, InvalidCallback};
pub use request::{Cors, LastEventId};

/// The reconnection policy and limits of an [`EventSource`] (pushwire-sse's).
pub use pushwire_sse::client::Config as ClientConfig;
pub use pushwire_sse::client::{FailReason, Jitter, ReadyState};
/// A received event (pushwire-sse's).
pub use pushwire_sse::Event as ReceivedEvent;
pub use pushwire_sse::EventBuilder;

/// The error of a failed connection attempt (internal to [`EventSource`]).
type BoxError = Box<dyn std::error::Error + Send + Sync>;
