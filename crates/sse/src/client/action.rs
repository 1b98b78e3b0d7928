//! What a [`Session`](super::Session) tells the caller: the next [`Action`], and the
//! [`ReadyState`] an `EventSource` would show.

use alloc::string::String;

use crate::error::FailReason;
use crate::time::Instant;

/// What to do next, from [`Session::poll_action`](super::Session::poll_action).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Open a new request now (after dropping any connection still held): `GET` the URL with
    /// `Accept: text/event-stream` and `Cache-Control: no-cache`, and `Last-Event-ID` set to
    /// `last_event_id` when it is `Some` (never empty). Follow redirects in the HTTP layer,
    /// then report the final response with
    /// [`Session::handle_response`](super::Session::handle_response), or a failure with
    /// [`Session::handle_error`](super::Session::handle_error).
    Connect {
        /// The `Last-Event-ID` header value: the session's last event ID string, `None` when
        /// it is empty ("If the EventSource object's last event ID string is not the empty
        /// string, then [...] Set (`Last-Event-ID`, lastEventIDValue) in request's header
        /// list"). It never contains CR, LF or NUL (the parser cannot produce them in an id);
        /// it may contain other control characters, which HTTP libraries refuse in a header
        /// value, so the HTTP layer must decide what to do with such an id.
        last_event_id: Option<String>,
    },
    /// Drop the current connection (request or body): the session gave up on it and will
    /// reconnect. Then call [`Session::poll_action`](super::Session::poll_action) again.
    Disconnect(DisconnectReason),
    /// Nothing to do now: go on with what you are doing (waiting for the response, reading
    /// the body, or nothing), report what happens, and call
    /// [`Session::poll_action`](super::Session::poll_action) again by `until` at the latest
    /// (`None`: only when you have something to report). `until` is always later than the
    /// `now` it was polled with.
    Wait {
        /// The deadline, the same as [`Session::poll_timeout`](super::Session::poll_timeout).
        until: Option<Instant>,
    },
    /// The session is over and will not reconnect: the server said so, or the caller closed
    /// it. Returned again on every later poll.
    Closed(CloseReason),
    /// The connection failed and will not be retried ("Once the user agent has failed the
    /// connection, it does not attempt to reconnect."). Returned again on every later poll.
    Failed(FailReason),
}

/// Why a session ended normally: [`Action::Closed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The server answered `204 No Content`: "a client can be told to stop reconnecting
    /// using the HTTP 204 No Content response code".
    NoContent,
    /// [`Session::close`](super::Session::close) was called (`EventSource.close()`).
    Closed,
}

/// Why the session dropped a connection by itself: [`Action::Disconnect`]. Either is a
/// failed attempt, followed by a reconnection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// No response within [`Config::connect_timeout`](super::Config::connect_timeout).
    ConnectTimeout,
    /// No byte of the body within [`Config::read_timeout`](super::Config::read_timeout).
    ReadTimeout,
}

/// The state an `EventSource` would show in `readyState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadyState {
    /// "The connection has not yet been established, or it was closed and the user agent is
    /// reconnecting."
    Connecting,
    /// "The user agent has an open connection and is dispatching events as it receives
    /// them."
    Open,
    /// "The connection is not open, and the user agent is not trying to reconnect."
    Closed,
}
