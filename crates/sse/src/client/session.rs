//! The client [`Session`]: one `EventSource`, its connection attempts and its parser.

use alloc::string::String;
use bytes::Bytes;
use core::time::Duration;

use super::action::{Action, CloseReason, DisconnectReason, ReadyState};
use super::backoff::{millis, Backoff};
use super::config::Config;
use super::response::{verdict, Verdict};
use crate::encode::EventBuilder;
use crate::error::{EncodeError, FailReason, FeedError, ParseError};
use crate::event::{Event, EventRef, Item};
use crate::parser::Parser;
use crate::time::Instant;

/// Where the session is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// No connection; connect at `until`.
    Waiting {
        until: Instant,
    },
    /// [`Action::Connect`] was issued at `since`; waiting for the response.
    Connecting {
        since: Instant,
    },
    /// The connection was announced at `since`; the last bytes arrived at `last_read`.
    Open {
        since: Instant,
        last_read: Instant,
    },
    Closed(CloseReason),
    Failed(FailReason),
}

/// The client side of one event source, sans-IO: it decides when to connect, with which
/// `Last-Event-ID`, whether a response is a stream, and when a dead connection is to be
/// dropped; it owns the [`Parser`], so the last event ID and the server's `retry` are kept in
/// one place. See [the module docs](super) for the call order.
///
/// Getters take `&self`; handlers (`handle_*`, `feed*`) report what happened, each with
/// `now`; pollers (`poll_*`) say what to do and hand out events. Calls that do not fit the
/// state (a response while no request is open, bytes while no stream is open, anything after
/// the session ended) are late reports about a connection the session already gave up on,
/// and are ignored.
#[derive(Debug)]
pub struct Session {
    config: Config,
    parser: Parser,
    state: State,
    /// Consecutive failed attempts.
    failures: u32,
    backoff: Backoff,
}

impl Session {
    /// A session that connects at the first [`Session::poll_action`]. `seed` drives the
    /// backoff's jitter: give each session a different one (with `std`,
    /// [`random_seed`](super::random_seed)); a fixed seed makes every delay reproducible.
    pub fn new(config: Config, seed: u64) -> Session {
        Session {
            parser: Parser::with_config(config.parser),
            config,
            state: State::Waiting {
                until: Instant::ZERO,
            },
            failures: 0,
            backoff: Backoff::new(seed),
        }
    }

    /// Resumes from `id`: the first [`Action::Connect`] sends it as `Last-Event-ID` (for an
    /// application that kept the last id it processed, e.g. across a restart). Refused, like
    /// an `id` to send, if it contains CR or LF (it would inject a header) or NUL (a stream
    /// could never have set it: "If the field value does not contain U+0000 NULL, then set
    /// the last event ID buffer to the field value"). The empty string means no header.
    pub fn with_last_event_id(mut self, id: &str) -> Result<Session, EncodeError> {
        EventBuilder::new().id(id)?;
        self.parser.set_last_event_id(id);
        Ok(self)
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The parser, to read its state (the parser itself is driven through the session).
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// The last event ID string: what the next [`Action::Connect`] sends as `Last-Event-ID`
    /// (none when empty).
    pub fn last_event_id(&self) -> &str {
        self.parser.last_event_id()
    }

    /// The reconnection time in force: the server's last valid `retry`, else
    /// [`Config::reconnection_time`].
    pub fn reconnection_time(&self) -> Duration {
        match self.parser.reconnection_time() {
            Some(ms) => Duration::from_millis(ms),
            None => self.config.reconnection_time,
        }
    }

    /// Consecutive failed attempts since the last healthy stream (or the start).
    pub fn failed_attempts(&self) -> u32 {
        self.failures
    }

    /// What `EventSource.readyState` would be.
    pub fn ready_state(&self) -> ReadyState {
        match self.state {
            State::Waiting { .. } | State::Connecting { .. } => ReadyState::Connecting,
            State::Open { .. } => ReadyState::Open,
            State::Closed(_) | State::Failed(_) => ReadyState::Closed,
        }
    }

    /// The next deadline: when to connect, or when the request or the stream times out.
    /// `None` when there is none (no timeout configured, or the session is over). Before
    /// the first [`Session::poll_action`] it is [`Instant::ZERO`]: connect at once.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Waiting { until } => Some(until),
            State::Connecting { since } => self.config.connect_timeout.map(|t| since + t),
            State::Open { last_read, .. } => self.config.read_timeout.map(|t| last_read + t),
            State::Closed(_) | State::Failed(_) => None,
        }
    }

    /// What to do now. Call it at the start, after each report, and when the deadline of the
    /// last [`Action::Wait`] has come; extra calls are harmless (a `Connect` or `Disconnect`
    /// is returned once, and changes the state).
    ///
    /// Poll the events of the stream until `None` before calling it: the `Last-Event-ID`
    /// of a [`Action::Connect`] is that of the last event parsed.
    #[must_use = "the caller must act on the action"]
    pub fn poll_action(&mut self, now: Instant) -> Action {
        match self.poll_timeout() {
            Some(deadline) if now >= deadline => {}
            until => {
                return match &self.state {
                    State::Closed(reason) => Action::Closed(*reason),
                    State::Failed(reason) => Action::Failed(reason.clone()),
                    _ => Action::Wait { until },
                }
            }
        }
        match self.state {
            State::Waiting { .. } => {
                self.state = State::Connecting { since: now };
                // "3. If the EventSource object's last event ID string is not the empty
                // string, then: [...] Set (`Last-Event-ID`, lastEventIDValue) in request's
                // header list."
                let id = self.parser.last_event_id();
                Action::Connect {
                    last_event_id: (!id.is_empty()).then(|| String::from(id)),
                }
            }
            State::Connecting { .. } => {
                self.reestablish(now);
                Action::Disconnect(DisconnectReason::ConnectTimeout)
            }
            State::Open { .. } => {
                self.parser.feed_eof();
                self.reestablish(now);
                Action::Disconnect(DisconnectReason::ReadTimeout)
            }
            // No deadline in these states.
            State::Closed(reason) => Action::Closed(reason),
            State::Failed(ref reason) => Action::Failed(reason.clone()),
        }
    }

    /// The response to the last [`Action::Connect`] arrived (after redirects, which are the
    /// HTTP layer's job): its status and `Content-Type` header value (`None` if absent).
    /// A 200 `text/event-stream` response opens the stream: feed its body next. Any other
    /// ends the session; see [`Session::poll_action`]. Ignored unless a request is open.
    pub fn handle_response(&mut self, now: Instant, status: u16, content_type: Option<&[u8]>) {
        if !matches!(self.state, State::Connecting { .. }) {
            return;
        }
        self.state = match verdict(status, content_type) {
            // "4. Otherwise, announce the connection and interpret res's body line by line."
            Verdict::Announce => {
                // Whatever the dead stream left unpolled belongs to no stream now.
                self.parser.restart();
                State::Open {
                    since: now,
                    last_read: now,
                }
            }
            Verdict::Close(reason) => State::Closed(reason),
            Verdict::Fail(reason) => State::Failed(reason),
        };
    }

    /// Body bytes arrived (copied once into the parser). Poll events next. Refused like
    /// [`Parser::feed`] (poll first, then feed again); ignored (`Ok`) unless a stream is
    /// open. Every accepted non-empty chunk restarts the read timeout.
    pub fn feed(&mut self, now: Instant, bytes: &[u8]) -> Result<(), FeedError> {
        if let State::Open { last_read, .. } = &mut self.state {
            self.parser.feed(bytes)?;
            if !bytes.is_empty() {
                *last_read = now;
            }
        }
        Ok(())
    }

    /// Like [`Session::feed`] with an owned chunk, kept without a copy (see
    /// [`Parser::feed_bytes`]).
    pub fn feed_bytes(&mut self, now: Instant, bytes: impl Into<Bytes>) -> Result<(), FeedError> {
        if let State::Open { last_read, .. } = &mut self.state {
            let bytes = bytes.into();
            let any = !bytes.is_empty();
            self.parser.feed_bytes(bytes)?;
            if any {
                *last_read = now;
            }
        }
        Ok(())
    }

    /// The body ended normally. Poll the last events, then [`Session::poll_action`]: the
    /// session reconnects ("if res is not a network error, then [...] reestablish the
    /// connection"). An unterminated event is discarded. Ignored unless a stream is open.
    pub fn feed_eof(&mut self, now: Instant) {
        if let State::Open { .. } = self.state {
            self.parser.feed_eof();
            self.reestablish(now);
        }
    }

    /// The request or the body failed with a network error (not one the caller caused by
    /// dropping the connection). Poll the events still buffered, then
    /// [`Session::poll_action`]: the session reconnects ("Otherwise, if res is a network
    /// error, then [...] reestablish the connection"). Ignored unless a request or stream is
    /// open.
    pub fn handle_error(&mut self, now: Instant) {
        match self.state {
            State::Open { .. } => {
                self.parser.feed_eof();
                self.reestablish(now);
            }
            State::Connecting { .. } => self.reestablish(now),
            _ => {}
        }
    }

    /// Ends the session: `EventSource.close()` ("must abort any instances of the fetch
    /// algorithm started for this EventSource object, and must set the readyState attribute
    /// to CLOSED"). Drop the connection; [`Session::poll_action`] returns
    /// [`Action::Closed`]. Does nothing if the session already ended.
    pub fn close(&mut self) {
        if !matches!(self.state, State::Closed(_) | State::Failed(_)) {
            self.state = State::Closed(CloseReason::Closed);
        }
    }

    /// The next event of the stream (see [`Parser::poll_event`]). A [`ParseError`] also
    /// fails the session ([`FailReason::Parse`]).
    #[must_use = "an event or an error may be lost"]
    pub fn poll_event(&mut self) -> Result<Option<Event>, ParseError> {
        let r = self.parser.poll_event();
        self.check(r)
    }

    /// The next event, lent from the parser's buffers (see [`Parser::poll_event_ref`]). A
    /// [`ParseError`] also fails the session.
    #[must_use = "an event or an error may be lost"]
    pub fn poll_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ParseError> {
        match self.parser.poll_event_ref() {
            Err(e) => {
                fail_on_parse_error(&mut self.state, e);
                Err(e)
            }
            ok => ok,
        }
    }

    /// The next item of the stream: events, `retry` values (already applied to the
    /// reconnection time) and, if enabled, comments (see [`Parser::poll`]). A
    /// [`ParseError`] also fails the session.
    #[must_use = "an item or an error may be lost"]
    pub fn poll(&mut self) -> Result<Option<Item>, ParseError> {
        let r = self.parser.poll();
        self.check(r)
    }

    fn check<T>(&mut self, r: Result<T, ParseError>) -> Result<T, ParseError> {
        if let Err(e) = &r {
            fail_on_parse_error(&mut self.state, *e);
        }
        r
    }

    /// "When a user agent is to reestablish the connection": wait, then connect again;
    /// or give up after too many failed attempts.
    fn reestablish(&mut self, now: Instant) {
        let healthy = matches!(self.state, State::Open { since, .. }
            if now.saturating_duration_since(since) >= self.config.backoff_reset_after);
        if healthy {
            self.failures = 0;
            self.backoff.reset();
        } else {
            self.failures = self.failures.saturating_add(1);
            // "reestablish the connection, unless the user agent knows that to be futile, in
            // which case the user agent may fail the connection."
            if let Some(max) = self.config.max_attempts {
                if self.failures >= max {
                    self.state = State::Failed(FailReason::TooManyAttempts {
                        attempts: self.failures,
                    });
                    return;
                }
            }
        }
        // "2. Wait a delay equal to the reconnection time of the event source. 3.
        // Optionally, wait some more." (see `backoff`)
        let base = millis(self.reconnection_time());
        let delay = self.backoff.delay(&self.config, base, self.failures);
        self.state = State::Waiting {
            until: now + Duration::from_millis(delay),
        };
    }
}

/// A body that broke the limits fails the session (unless it already ended).
fn fail_on_parse_error(state: &mut State, e: ParseError) {
    if !matches!(state, State::Closed(_) | State::Failed(_)) {
        *state = State::Failed(FailReason::Parse(e));
    }
}
