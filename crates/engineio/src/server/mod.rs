//! The server role: [`Server`] routes HTTP requests (handshake, polling GET/POST,
//! websocket) to [`Session`]s, with engine.io 3.6.2's error responses; with
//! [`Config::allow_eio4`], revision 4 sessions beside revision 3 ones, as engine.io 6 with
//! `allowEIO3` serves both.
//!
//! Files: `config.rs` ([`Config`]), `event.rs` ([`Event`], [`CloseReason`]), `output.rs`
//! ([`WsAction`]), `session.rs` (the per-session state machine, [`Session`]), and this
//! file (the router).

mod config;
mod event;
mod output;
mod session;

pub use config::Config;
pub use event::{CloseReason, Event};
pub use output::WsAction;
pub use session::Session;

/// What [`Server::send`] and [`Session::send`] return on refusal (also at the crate root).
pub use crate::error::SendError;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use crate::http::{
    cors, error_response, ErrorCode, HttpRequest, HttpResponse, Method, RequestInfo,
};
use crate::jsonp::form_decode;
use crate::packet::PacketData;
use crate::time::Instant;
use crate::transport::{TransportKind, WsMessage};
use crate::version::ProtocolVersion;

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send this response now.
    Respond(HttpResponse),
    /// A long-poll: keep the request open until [`Server::poll_http_response`] for `sid`
    /// returns its response (after a send, a POST, a timeout…).
    Hold {
        /// The session.
        sid: String,
    },
    /// Complete the WebSocket handshake (for example with pushwire-ws), then pass its
    /// messages to [`Server::handle_ws_message`] and send [`Server::poll_ws_action`].
    AcceptWebSocket {
        /// The session (new for a websocket-only handshake, existing for an upgrade).
        sid: String,
    },
}

/// A source of session ids (engine.io uses 15 random bytes, see [`sid_from_bytes`]).
pub trait SidSource {
    /// A new, unique session id.
    fn next_sid(&mut self) -> String;
}

impl<F: FnMut() -> String> SidSource for F {
    fn next_sid(&mut self) -> String {
        self()
    }
}

/// A session id from 15 random bytes, like engine.io's `base64id`: base64 with `-` and `_`
/// for `+` and `/` (20 characters).
#[must_use]
pub fn sid_from_bytes(bytes: [u8; 15]) -> String {
    use base64::Engine as _;
    let mut s = base64::engine::general_purpose::STANDARD.encode(bytes);
    s = s.replace('+', "-").replace('/', "_");
    s
}

struct Query<'a> {
    transport: Option<&'a str>,
    sid: Option<String>,
    b64: bool,
    j: Option<String>,
    eio: Option<String>,
}

/// The query parameters engine.io looks at. A key given twice is read as engine.io reads it
/// (node's `querystring` makes it an array): a `transport` that names no transport, a `sid`
/// that is the values joined with `,` (what `clients.hasOwnProperty(array)` looks up), and
/// an `EIO` or `j` that is no valid value — so each is refused as engine.io refuses it
/// (unknown transport, unknown session id, unsupported protocol / bad request), never the
/// first or the last value taken silently. A value whose percent-encoding is invalid is kept
/// as written (node's `querystring.unescape` falls back to it).
fn parse_query(q: &str) -> Query<'_> {
    let mut out = Query {
        transport: None,
        sid: None,
        b64: false,
        j: None,
        eio: None,
    };
    for pair in q.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = || {
            form_decode(v.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_else(|| String::from(v))
        };
        match k {
            "transport" if out.transport.is_none() => out.transport = Some(v),
            "transport" => out.transport = Some(""),
            "sid" => {
                out.sid = Some(match out.sid.take() {
                    None => decoded(),
                    Some(first) => first + "," + &decoded(),
                });
            }
            // engine.io: `if (req._query.b64)` — any non-empty value.
            "b64" => out.b64 |= !v.is_empty(),
            "j" if out.j.is_none() => out.j = Some(decoded()),
            "j" => out.j = Some(String::new()),
            "EIO" if out.eio.is_none() => out.eio = Some(decoded()),
            "EIO" => out.eio = Some(String::new()),
            _ => {}
        }
    }
    out
}

/// The session id a request with query string `query` is routed to, decoded as
/// [`Server::handle_request`] decodes it (percent-encoding and `+`; a repeated `sid` joined
/// with `,`), or `None` for a handshake. An I/O layer uses it to find the session a request
/// concerns (to wake it, or close it), never the raw query text.
///
/// ```
/// use pushwire_engineio::server::request_sid;
///
/// assert_eq!(request_sid("EIO=4&transport=polling&sid=Ab%5Fc").as_deref(), Some("Ab_c"));
/// assert_eq!(request_sid("EIO=4&transport=polling"), None);
/// ```
#[must_use]
pub fn request_sid(query: &str) -> Option<String> {
    parse_query(query).sid
}

/// An Engine.io server: sessions by id, and the request routing of engine.io 3.6.2 (and of
/// engine.io 6 for revision 4 sessions, when [`Config::allow_eio4`] is on).
///
/// # Call order
/// 1. [`Server::handle_request`] for each HTTP request under the engine.io path; act on the
///    [`Outcome`].
/// 2. For accepted WebSockets: [`Server::handle_ws_message`] per message,
///    [`Server::handle_ws_closed`] when it ends.
/// 3. From the application: [`Server::send`], [`Server::close`].
/// 4. After any of these, for the sessions involved (or all): [`Server::poll_http_response`]
///    (answer the held GET), [`Server::poll_ws_action`] until `None`, then
///    [`Server::poll_event`] until `None`, and [`Server::poll_timeout`] for the next
///    [`Server::handle_timeout`].
///
/// A closed session answers further requests with `Session ID unknown` and is dropped once
/// its outputs and events have been taken.
pub struct Server<S> {
    config: Config,
    sessions: BTreeMap<String, Session>,
    sids: S,
    /// Sessions a call may have given events to, or left drained and closed:
    /// [`Server::poll_event`] looks at these only, so taking the events of one session
    /// costs nothing per other session (a broadcast to `n` sessions is `n` sends, each
    /// followed by a poll).
    touched: BTreeSet<String>,
    /// The sessions' deadlines, earliest first, as they were when each session was last
    /// indexed (each session keeps its entry's time, `Session::indexed`). A touched
    /// session's entry may be out of date (a call may have moved its deadline):
    /// [`Server::poll_timeout`] asks touched sessions themselves and skips their entries,
    /// and a session is indexed again when [`Server::poll_event`] is done with it. So
    /// neither scans every session.
    deadlines: BTreeSet<(Instant, String)>,
}

impl<S: SidSource> Server<S> {
    /// A server with `config`, taking session ids from `sids`.
    pub fn new(config: Config, sids: S) -> Self {
        Self {
            config,
            sessions: BTreeMap::new(),
            sids,
            touched: BTreeSet::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// The session `sid`.
    #[must_use]
    pub fn session(&self, sid: &str) -> Option<&Session> {
        self.sessions.get(sid)
    }

    /// The session `sid`, mutably (its own methods are the full API).
    pub fn session_mut(&mut self, sid: &str) -> Option<&mut Session> {
        self.touch(sid);
        self.sessions.get_mut(sid)
    }

    /// Notes that session `sid` may have events, or be drained and closed.
    fn touch(&mut self, sid: &str) {
        if self.sessions.contains_key(sid) && !self.touched.contains(sid) {
            self.touched.insert(sid.into());
        }
    }

    /// Ids of the sessions held (open, or closed with outputs not yet taken).
    pub fn sids(&self) -> impl Iterator<Item = &str> {
        self.sessions.keys().map(String::as_str)
    }

    /// Routes one HTTP request, as engine.io's `handleRequest` / `handleUpgrade` do.
    pub fn handle_request(&mut self, now: Instant, req: &HttpRequest<'_>) -> Outcome {
        let info = RequestInfo {
            origin: req.origin.map(String::from),
        };
        let err = |code| Outcome::Respond(error_response(code, &info));
        let q = parse_query(req.query);
        let kind = match q.transport {
            Some("polling") if self.config.polling => TransportKind::Polling,
            Some("websocket") if self.config.websocket => TransportKind::WebSocket,
            _ => return err(ErrorCode::UnknownTransport),
        };
        let protocol = if self.config.allow_eio4 {
            // engine.io 6: `const protocol = req._query.EIO === "4" ? 4 : 3;` then error 5
            // for a revision it does not serve; we also refuse values that name neither.
            match q
                .eio
                .as_deref()
                .map_or(Some(ProtocolVersion::V3), ProtocolVersion::from_query_value)
            {
                Some(ProtocolVersion::V3) if !self.config.allow_eio3 => {
                    return err(ErrorCode::UnsupportedProtocolVersion)
                }
                Some(p) => p,
                None => return err(ErrorCode::UnsupportedProtocolVersion),
            }
        } else {
            // engine.io 3.6.2 does not look at `EIO`; we refuse other protocol revisions.
            if q.eio.as_deref().is_some_and(|v| v != "3") {
                return err(ErrorCode::BadRequest);
            }
            ProtocolVersion::V3
        };
        if protocol == ProtocolVersion::V4 && q.j.is_some() {
            // JSONP is a revision 3 transport here (engine.io-client 4+ has none).
            return err(ErrorCode::BadRequest);
        }
        let jsonp = match (&q.j, kind) {
            (Some(j), TransportKind::Polling) => match j.parse::<u64>() {
                Ok(n) if j.bytes().all(|b| b.is_ascii_digit()) => Some(n),
                _ => return err(ErrorCode::BadRequest),
            },
            _ => None,
        };
        let supports_binary = !q.b64;
        let Some(sid) = q.sid else {
            // Handshake.
            if req.method != Method::Get {
                return err(ErrorCode::BadHandshakeMethod);
            }
            if (kind == TransportKind::WebSocket) != req.websocket_upgrade {
                return err(ErrorCode::BadRequest);
            }
            let sid = self.sids.next_sid();
            if self.sessions.contains_key(&sid) {
                return err(ErrorCode::BadRequest);
            }
            let mut session = Session::with_protocol(
                protocol,
                sid.clone(),
                kind,
                supports_binary,
                jsonp,
                self.config,
                now,
            );
            let outcome = match kind {
                TransportKind::Polling => match session.handle_get(now, info) {
                    Some(r) => Outcome::Respond(r),
                    None => Outcome::Hold { sid: sid.clone() },
                },
                TransportKind::WebSocket => Outcome::AcceptWebSocket { sid: sid.clone() },
            };
            self.touched.insert(sid.clone());
            self.sessions.insert(sid, session);
            return outcome;
        };
        self.touch(&sid);
        let Some(session) = self.sessions.get_mut(&sid).filter(|s| !s.is_closed()) else {
            return err(ErrorCode::UnknownSid);
        };
        if session.protocol() != protocol {
            // A request of another revision than the handshake's.
            return err(ErrorCode::BadRequest);
        }
        if req.websocket_upgrade && kind == TransportKind::WebSocket {
            return if session.handle_ws_open(now, supports_binary) {
                Outcome::AcceptWebSocket { sid }
            } else {
                err(ErrorCode::BadRequest)
            };
        }
        if session.transport() != kind || req.websocket_upgrade {
            // engine.io: "bad request: unexpected transport without upgrade"
            return err(ErrorCode::BadRequest);
        }
        match req.method {
            Method::Get => match session.handle_get(now, info) {
                Some(r) => Outcome::Respond(r),
                None => Outcome::Hold { sid },
            },
            Method::Post => {
                let binary = req
                    .content_type
                    .is_some_and(|c| c.eq_ignore_ascii_case("application/octet-stream"));
                Outcome::Respond(session.handle_post(now, info, binary, req.body))
            }
            Method::Options if jsonp.is_none() => {
                let mut r = HttpResponse {
                    status: 200,
                    headers: Vec::new(),
                    body: Vec::new(),
                };
                cors(&mut r, &info);
                r.headers
                    .push(("Access-Control-Allow-Headers", String::from("Content-Type")));
                Outcome::Respond(r)
            }
            _ => Outcome::Respond(HttpResponse {
                status: 500,
                headers: Vec::new(),
                body: Vec::new(),
            }),
        }
    }

    /// A message arrived on the WebSocket of session `sid`.
    pub fn handle_ws_message(&mut self, now: Instant, sid: &str, message: WsMessage) {
        self.touch(sid);
        if let Some(s) = self.sessions.get_mut(sid) {
            s.handle_ws_message(now, message);
        }
    }

    /// The WebSocket of session `sid` closed.
    pub fn handle_ws_closed(&mut self, now: Instant, sid: &str) {
        self.touch(sid);
        if let Some(s) = self.sessions.get_mut(sid) {
            s.handle_ws_closed(now);
        }
    }

    /// The held GET of session `sid` was closed by the client before being answered.
    pub fn handle_get_aborted(&mut self, now: Instant, sid: &str) {
        self.touch(sid);
        if let Some(s) = self.sessions.get_mut(sid) {
            s.handle_get_aborted(now);
        }
    }

    /// Sends a message to session `sid`.
    ///
    /// # Errors
    /// [`SendError::Closed`] for an unknown or closed session, or as
    /// [`Session::send`].
    pub fn send(&mut self, sid: &str, data: PacketData) -> Result<(), SendError> {
        self.touch(sid);
        self.sessions
            .get_mut(sid)
            .ok_or(SendError::Closed)?
            .send(data)
    }

    /// Sends a message to every open session, as engine.io's `clients` loop or socket.io's
    /// broadcast would; returns how many sessions queued it.
    ///
    /// A session that refuses it is skipped: closing or closed, or
    /// [`Config::max_buffered_packets`] behind — a client that stopped fetching, which
    /// its heartbeat will close. Each session gets a clone of `data` (a reference count for
    /// binary data, a copy for text).
    pub fn broadcast(&mut self, data: &PacketData) -> usize {
        self.touch_all();
        let mut queued = 0;
        for s in self.sessions.values_mut().filter(|s| !s.is_closed()) {
            // Asked first: a session without room costs no copy of the data.
            if s.room_for(data.len()).is_ok() && s.send(data.clone()).is_ok() {
                queued += 1;
            }
        }
        queued
    }

    /// Closes session `sid` from the server side.
    pub fn close(&mut self, now: Instant, sid: &str) {
        self.touch(sid);
        if let Some(s) = self.sessions.get_mut(sid) {
            s.close(now);
        }
    }

    /// The response for the held GET of session `sid`, once ready. Extra calls are harmless.
    #[must_use]
    pub fn poll_http_response(&mut self, sid: &str) -> Option<HttpResponse> {
        self.touch(sid);
        self.sessions.get_mut(sid)?.poll_http_response()
    }

    /// The next WebSocket action for session `sid`; `None`: nothing now. Extra calls are
    /// harmless.
    #[must_use]
    pub fn poll_ws_action(&mut self, sid: &str) -> Option<WsAction> {
        self.touch(sid);
        self.sessions.get_mut(sid)?.poll_ws_action()
    }

    /// The next event of any session, with its id. Closed sessions whose outputs have all
    /// been taken are dropped here. Extra calls are harmless.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<(String, Event)> {
        while let Some(sid) = self.touched.first().cloned() {
            if let Some(s) = self.sessions.get_mut(&sid) {
                if let Some(e) = s.poll_event() {
                    return Some((sid, e));
                }
                // Indexed again, now that the calls since it was touched are done with it.
                // The common case (a send, a poll: the deadline unchanged) costs no lookup.
                let closed = s.is_drained_and_closed();
                let due = if closed { None } else { s.poll_timeout() };
                if due != s.indexed {
                    if let Some(old) = s.indexed.take() {
                        self.deadlines.remove(&(old, sid.clone()));
                    }
                    if let Some(t) = due {
                        self.deadlines.insert((t, sid.clone()));
                    }
                    s.indexed = due;
                }
                if closed {
                    self.sessions.remove(&sid);
                }
            }
            self.touched.remove(&sid);
        }
        None
    }

    /// Notes that every session may have events (after a call that reaches them all).
    fn touch_all(&mut self) {
        self.touched = self.sessions.keys().cloned().collect();
    }

    /// The earliest deadline of all sessions. Costs the sessions touched since the last
    /// [`Server::poll_event`] drained, not all sessions.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let indexed = self
            .deadlines
            .iter()
            .find(|(t, sid)| !self.touched.contains(sid) && self.current(*t, sid))
            .map(|&(t, _)| t);
        let touched = self
            .touched
            .iter()
            .filter_map(|sid| self.sessions.get(sid)?.poll_timeout())
            .min();
        match (indexed, touched) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the index entry `(t, sid)` is the one session `sid` is indexed under (it is
    /// not when the session was replaced through [`Server::session_mut`]).
    fn current(&self, t: Instant, sid: &str) -> bool {
        self.sessions.get(sid).is_some_and(|s| s.indexed == Some(t))
    }

    /// Ids of the sessions with a deadline due at `now`: those [`Server::handle_timeout`]
    /// will act on (an I/O layer wakes their transports afterwards, and no other).
    pub fn due_sessions(&self, now: Instant) -> impl Iterator<Item = &str> {
        let indexed = self
            .deadlines
            .iter()
            .take_while(move |&&(t, _)| t <= now)
            .filter(|(t, sid)| !self.touched.contains(sid) && self.current(*t, sid))
            .map(|(_, sid)| sid.as_str());
        let touched = self
            .touched
            .iter()
            .filter(move |sid| {
                self.sessions
                    .get(sid.as_str())
                    .and_then(Session::poll_timeout)
                    .is_some_and(|t| t <= now)
            })
            .map(String::as_str);
        indexed.chain(touched)
    }

    /// Applies the deadlines due at `now` (in the sessions [`Server::due_sessions`] lists;
    /// the others are not visited).
    pub fn handle_timeout(&mut self, now: Instant) {
        // Entries no session stands behind any more (a session replaced through
        // `session_mut`), once due, are dropped here.
        let stale: Vec<(Instant, String)> = self
            .deadlines
            .iter()
            .take_while(|&&(t, _)| t <= now)
            .filter(|(t, sid)| !self.touched.contains(sid) && !self.current(*t, sid))
            .cloned()
            .collect();
        for entry in &stale {
            self.deadlines.remove(entry);
        }
        let due: Vec<String> = self.due_sessions(now).map(String::from).collect();
        for sid in &due {
            if let Some(s) = self.sessions.get_mut(sid) {
                s.handle_timeout(now);
            }
            self.touched.insert(sid.clone());
        }
    }
}
