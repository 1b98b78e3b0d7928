//! The server side of one Engine.io session: polling (XHR and JSONP), websocket, the
//! upgrade from polling to websocket, heartbeats and close — as the engine.io 3.6.2 server's
//! `Socket` and transports behave for revision 3, and engine.io 6's for revision 4 (the
//! server pings, `maxPayload` in the handshake, `\x1e` payloads), without I/O and without a
//! clock.
//!
//! Most applications use [`crate::server::Server`], which routes HTTP requests to sessions; this
//! type is the per-session state machine underneath.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use super::config::Config;
use super::event::{CloseReason, Event};
use super::output::WsAction;
use crate::error::SendError;
use crate::http::{bad_request, cors, HttpResponse, RequestInfo};
use crate::jsonp::{decode_jsonp_request, encode_jsonp_response};
use crate::open::OpenPacket;
use crate::packet::{Packet, PacketData};
use crate::packet_type::PacketType;
use crate::payload::{EncodedPayload, PayloadFormat};
use crate::revision::{self, BodyDecoder};
use crate::time::Instant;
use crate::transport::{TransportKind, WsMessage};
use crate::v4::Handshake;
use crate::version::ProtocolVersion;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Closing,
    Closed,
}

#[derive(Debug, Clone)]
struct Polling {
    jsonp: Option<u64>,
    supports_binary: bool,
    /// The GET being held, with its request details.
    held: Option<RequestInfo>,
    /// The response for the held GET, ready to be taken.
    ready: Option<HttpResponse>,
    /// Append a `close` packet to the next response, then the session is closed.
    should_close: bool,
}

#[derive(Debug, Clone, Copy)]
struct Upgrade {
    supports_binary: bool,
    probed: bool,
    deadline: Instant,
}

/// One Engine.io session on the server, revision 3 ([`Session::new`]) or 4
/// ([`Session::with_protocol`]).
///
/// # Call order
///
/// Inputs (each takes `now`, an [`Instant`] from the origin the whole server uses):
/// [`Session::handle_get`], [`Session::handle_post`] for polling requests;
/// [`Session::handle_ws_open`], [`Session::handle_ws_message`],
/// [`Session::handle_ws_closed`] for websockets; [`Session::handle_timeout`] when
/// [`Session::poll_timeout`] is reached; [`Session::send`] and
/// [`Session::close`] from the application.
///
/// After **every** input, drain the outputs (extra calls are harmless):
/// 1. [`Session::poll_http_response`] — the response for the held GET, if it is ready;
/// 2. [`Session::poll_ws_action`] until `None` — messages for the websocket (the session's
///    transport, or the probe websocket during an upgrade), then possibly a close;
/// 3. [`Session::poll_event`] until `None` — messages, the upgrade, the close;
/// 4. [`Session::poll_timeout`] — when to call `handle_timeout` next.
#[derive(Debug, Clone)]
pub struct Session {
    sid: String,
    protocol: ProtocolVersion,
    config: Config,
    state: State,
    kind: TransportKind,
    ws_supports_binary: bool,
    polling: Polling,
    upgrade: Option<Upgrade>,
    write_buffer: VecDeque<Packet>,
    /// The data bytes of the packets in `write_buffer`.
    buffered_bytes: usize,
    ws_out: VecDeque<WsAction>,
    events: VecDeque<Event>,
    /// Revision 3: the client's deadline to send anything. Revision 4: its deadline to
    /// answer the last ping (before the first ping, the first ping's time + `pingTimeout`).
    ping_deadline: Instant,
    /// Revision 4: when the server sends its next ping (`None`: waiting for a pong).
    next_ping: Option<Instant>,
    /// Revision 4: a packet other than the pong already restarted the pong deadline since
    /// the last ping (engine.io 6.6's `hasRefreshedPingTimeout`: once per ping).
    refreshed: bool,
    close_deadline: Option<Instant>,
    /// The deadline the owning `Server` has this session under in its index.
    pub(super) indexed: Option<Instant>,
}

impl Session {
    /// A new session with id `sid` on transport `kind`, opened at `now`. The `open` packet is
    /// queued: it answers the handshake GET (polling) or is the first websocket message.
    ///
    /// `supports_binary` is false when the request had `b64=1`; `jsonp` is the `j` query
    /// parameter of a JSONP polling client.
    #[must_use]
    pub fn new(
        sid: String,
        kind: TransportKind,
        supports_binary: bool,
        jsonp: Option<u64>,
        config: Config,
        now: Instant,
    ) -> Self {
        Self::with_protocol(
            ProtocolVersion::V3,
            sid,
            kind,
            supports_binary,
            jsonp,
            config,
            now,
        )
    }

    /// A new session speaking `protocol` (see [`Session::new`]). Revision 4 announces
    /// `maxPayload` ([`crate::Limits::max_payload_bytes`]) and pings the client every
    /// `ping_interval`; it has no JSONP (`jsonp` is ignored).
    #[must_use]
    pub fn with_protocol(
        protocol: ProtocolVersion,
        sid: String,
        kind: TransportKind,
        supports_binary: bool,
        jsonp: Option<u64>,
        config: Config,
        now: Instant,
    ) -> Self {
        let jsonp = jsonp.filter(|_| protocol == ProtocolVersion::V3);
        let ping_deadline = now + config.ping_interval + config.ping_timeout;
        // > At a given interval (the `pingInterval` value sent in the handshake) the server
        // > sends a `ping` packet
        let next_ping = (protocol == ProtocolVersion::V4).then(|| now + config.ping_interval);
        let mut s = Self {
            sid,
            protocol,
            state: State::Open,
            kind,
            ws_supports_binary: supports_binary,
            polling: Polling {
                jsonp,
                supports_binary: supports_binary && jsonp.is_none(),
                held: None,
                ready: None,
                should_close: false,
            },
            upgrade: None,
            write_buffer: VecDeque::new(),
            buffered_bytes: 0,
            ws_out: VecDeque::new(),
            events: VecDeque::new(),
            ping_deadline,
            next_ping,
            refreshed: false,
            close_deadline: None,
            indexed: None,
            config,
        };
        s.events.push_back(Event::Opened);
        // > Server responds with an `open` packet with JSON-encoded handshake data
        let open = match protocol {
            ProtocolVersion::V3 => s.open_packet().to_packet(),
            // > If the server accepts the connection, then it MUST respond with an `open`
            // > packet with the following JSON-encoded payload: … `maxPayload`
            ProtocolVersion::V4 => s.handshake().to_packet(),
        };
        s.buffer(open);
        s.flush();
        s
    }

    /// The session id.
    #[must_use]
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The protocol revision this session speaks.
    #[must_use]
    pub fn protocol(&self) -> ProtocolVersion {
        self.protocol
    }

    /// The current transport.
    #[must_use]
    pub fn transport(&self) -> TransportKind {
        self.kind
    }

    /// Whether the session is closed (an [`Event::Closed`] was queued).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Whether a websocket upgrade is being probed.
    #[must_use]
    pub fn is_upgrading(&self) -> bool {
        self.upgrade.is_some()
    }

    /// The handshake data this session announces.
    #[must_use]
    pub fn open_packet(&self) -> OpenPacket {
        let upgrades = if self.kind == TransportKind::Polling
            && self.config.allow_upgrades
            && self.config.websocket
        {
            vec![String::from("websocket")]
        } else {
            Vec::new()
        };
        OpenPacket::new(
            self.sid.clone(),
            upgrades,
            duration_ms(self.config.ping_interval),
            duration_ms(self.config.ping_timeout),
        )
    }

    /// The revision 4 handshake data: [`Session::open_packet`] and `maxPayload`, engine.io's
    /// `maxHttpBufferSize` — here [`crate::Limits::max_payload_bytes`], what a POST body may
    /// hold.
    #[must_use]
    pub fn handshake(&self) -> Handshake {
        let max = u64::try_from(self.config.limits.max_payload_bytes).unwrap_or(u64::MAX);
        Handshake::new(self.open_packet(), Some(max))
    }

    /// Queues a `message` packet for the client. Then drain the outputs.
    ///
    /// # Errors
    /// [`SendError::Closed`] after [`Session::close`] or a close;
    /// [`SendError::OutputFull`] when [`Config::max_buffered_packets`] are waiting;
    /// [`SendError::OutputBytesFull`] when the data would take the bytes waiting past
    /// [`Config::max_buffered_bytes`].
    pub fn send(&mut self, data: PacketData) -> Result<(), SendError> {
        self.send_packet(Packet {
            kind: PacketType::Message,
            data,
        })
    }

    /// Queues any packet (see [`Session::send`]).
    ///
    /// # Errors
    /// As [`Session::send`].
    pub fn send_packet(&mut self, packet: Packet) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::Closed);
        }
        self.room_for(packet.data.len())?;
        self.buffer(packet);
        self.flush();
        Ok(())
    }

    /// Whether a packet with `len` bytes of data would be queued now (what
    /// [`Session::send_packet`] checks first; a broadcast asks before copying the data).
    ///
    /// # Errors
    /// As [`Session::send`].
    pub fn room_for(&self, len: usize) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::Closed);
        }
        let (buffered, limit) = (self.write_buffer.len(), self.config.max_buffered_packets);
        if buffered >= limit {
            return Err(SendError::OutputFull { buffered, limit });
        }
        let (buffered, limit) = (self.buffered_bytes, self.config.max_buffered_bytes);
        if buffered > 0 && buffered.saturating_add(len) > limit {
            return Err(SendError::OutputBytesFull {
                buffered,
                len,
                limit,
            });
        }
        Ok(())
    }

    /// Appends `p` to the write buffer, counting its bytes (every removal empties it).
    fn buffer(&mut self, p: Packet) {
        self.buffered_bytes += p.data.len();
        self.write_buffer.push_back(p);
    }

    /// Closes the session from the server side: buffered packets are still delivered, then a
    /// `close` packet (polling) or a WebSocket close. Then drain the outputs.
    pub fn close(&mut self, now: Instant) {
        if self.state != State::Open {
            return;
        }
        self.state = State::Closing;
        if self.upgrade.take().is_some() {
            self.ws_out.push_back(WsAction::Close);
        }
        match self.kind {
            TransportKind::WebSocket => {
                self.flush();
                self.ws_out.push_back(WsAction::Close);
                self.finish(CloseReason::ForcedClose);
            }
            TransportKind::Polling => {
                self.polling.should_close = true;
                self.close_deadline = Some(now + self.config.close_timeout);
                self.flush();
            }
        }
    }

    /// A polling GET arrived. Returns the response to send now, or `None`: hold the request
    /// open and send [`Session::poll_http_response`] when it becomes ready.
    pub fn handle_get(&mut self, now: Instant, req: RequestInfo) -> Option<HttpResponse> {
        let _ = now;
        if self.state == State::Closed || self.kind != TransportKind::Polling {
            return Some(bad_request());
        }
        if self.polling.held.is_some() || self.polling.ready.is_some() {
            // engine.io: `this.onError('overlap from client'); res.writeHead(500);`
            self.close_with(CloseReason::TransportError, false);
            return Some(HttpResponse {
                status: 500,
                headers: Vec::new(),
                body: Vec::new(),
            });
        }
        self.polling.held = Some(req);
        self.flush();
        self.polling.ready.take()
    }

    /// The client closed the connection of the held GET before it was answered
    /// (engine.io: "poll connection closed prematurely"); the session closes.
    pub fn handle_get_aborted(&mut self, now: Instant) {
        let _ = now;
        if self.polling.held.take().is_some() {
            self.close_with(CloseReason::TransportError, false);
        }
    }

    /// A polling POST with its whole body. `binary` is `Content-Type:
    /// application/octet-stream` (an XHR2 payload). For a JSONP session the body is the
    /// form `d=…`. Returns the response (`200 ok`, as engine.io answers every POST). Then
    /// drain the outputs: messages become events, pings queue pongs.
    pub fn handle_post(
        &mut self,
        now: Instant,
        req: RequestInfo,
        binary: bool,
        body: &[u8],
    ) -> HttpResponse {
        if self.state == State::Closed || self.kind != TransportKind::Polling {
            return bad_request();
        }
        let mut ok = HttpResponse {
            status: 200,
            headers: vec![("Content-Type", String::from("text/html"))],
            body: b"ok".to_vec(),
        };
        if self.polling.jsonp.is_none() {
            cors(&mut ok, &req);
        }
        let jsonp_body;
        let (format, bytes): (PayloadFormat, &[u8]) = if self.polling.jsonp.is_some() {
            match decode_jsonp_request(body) {
                Ok(s) => {
                    jsonp_body = s;
                    (PayloadFormat::Text, jsonp_body.as_bytes())
                }
                Err(_) => {
                    self.close_with(CloseReason::ParseError, false);
                    return ok;
                }
            }
        } else if binary && self.protocol == ProtocolVersion::V4 {
            // engine.io 6.6: `if (isBinary && this.protocol === 4) { this.onError("invalid
            // content"); return res.writeHead(400).end(); }` — v4 has no binary payload.
            self.close_with(CloseReason::TransportError, false);
            return HttpResponse {
                status: 400,
                headers: Vec::new(),
                body: Vec::new(),
            };
        } else if binary {
            (PayloadFormat::Binary, body)
        } else {
            (PayloadFormat::Text, body)
        };
        // A body over `max_payload_bytes` is refused whole (engine.io drops such a request);
        // the first poll then reports `PayloadTooLarge` and the session closes below.
        let mut dec = BodyDecoder::whole(self.protocol, format, self.config.limits, bytes);
        loop {
            match dec.poll_packet() {
                Ok(Some(p)) => {
                    if p.kind == PacketType::Close {
                        // engine.io polling: `if ('close' === packet.type) { self.onClose();
                        // return false; }` — the rest of the payload is not read.
                        self.close_with(CloseReason::TransportClose, true);
                        break;
                    }
                    self.on_packet(now, p);
                    if self.state == State::Closed {
                        break;
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    // The reference hands an `error` packet to `onPacket`, which only acts
                    // on an open session.
                    if self.state == State::Open {
                        self.close_with(CloseReason::ParseError, false);
                    }
                    break;
                }
            }
        }
        self.flush();
        ok
    }

    /// A WebSocket for this session was accepted (`transport=websocket&sid=…`): the client
    /// is probing an upgrade. Returns false when the upgrade is refused (already upgrading or
    /// upgraded, upgrades disabled, session closed): close that WebSocket.
    pub fn handle_ws_open(&mut self, now: Instant, supports_binary: bool) -> bool {
        if self.state == State::Closed
            || self.kind != TransportKind::Polling
            || self.upgrade.is_some()
            || !self.config.allow_upgrades
            || !self.config.websocket
        {
            return false;
        }
        self.upgrade = Some(Upgrade {
            supports_binary,
            probed: false,
            deadline: now + self.config.upgrade_timeout,
        });
        true
    }

    /// A message arrived on the session's WebSocket (or on the probe WebSocket during an
    /// upgrade). Then drain the outputs.
    pub fn handle_ws_message(&mut self, now: Instant, message: WsMessage) {
        if self.state == State::Closed {
            return;
        }
        if self.protocol == ProtocolVersion::V4
            && revision::ws_len(&message) > self.config.limits.max_payload_bytes
        {
            // engine.io 6 hands `maxPayload: maxHttpBufferSize` to its WebSocket server,
            // which closes the connection on a larger message.
            self.close_with(CloseReason::TransportError, false);
            return;
        }
        let packet = revision::from_ws(self.protocol, message);
        if self.kind == TransportKind::WebSocket {
            match packet {
                Ok(p) if p.kind == PacketType::Close => {
                    self.close_with(CloseReason::TransportClose, false);
                    self.ws_out.push_back(WsAction::Close);
                }
                Ok(p) => self.on_packet(now, p),
                Err(_) => self.close_with(CloseReason::ParseError, false),
            }
            self.flush();
            return;
        }
        let Some(mut up) = self.upgrade else {
            return;
        };
        match packet {
            // > The probe sent by the client is a `ping` packet with `probe` sent as data.
            // > The probe sent by the server is a `pong` packet with `probe` sent as data.
            Ok(p) if p.kind == PacketType::Ping && p.data.as_text() == Some("probe") => {
                let pong = Packet::text(PacketType::Pong, "probe");
                let m = revision::to_ws(self.protocol, &pong, up.supports_binary);
                self.ws_out.push_back(WsAction::Send(m));
                up.probed = true;
                self.upgrade = Some(up);
                // engine.io writes a `noop` to the held poll "to ensure a fast upgrade", and
                // again every 100 ms while the probe is pending: from now on until `5`, a
                // poll is answered at once (see `flush`), so the client can pause.
                self.flush();
            }
            // > When the server receives the upgrade packet, it must assume this is the new
            // > transport channel and send all existing buffers (if any) to it.
            Ok(p) if p.kind == PacketType::Upgrade => {
                self.upgrade = None;
                self.kind = TransportKind::WebSocket;
                self.ws_supports_binary = up.supports_binary;
                if self.polling.held.is_some() {
                    // Release the old transport's poll: the client no longer reads it.
                    let noop = self.poll_response(vec![Packet::empty(PacketType::Noop)]);
                    self.polling.ready = Some(noop);
                    self.polling.held = None;
                }
                if self.protocol == ProtocolVersion::V3 {
                    self.ping_deadline = now + self.config.ping_interval + self.config.ping_timeout;
                }
                self.events.push_back(Event::Upgraded);
                self.flush();
                if self.state == State::Closing {
                    self.ws_out.push_back(WsAction::Close);
                    self.finish(CloseReason::ForcedClose);
                }
            }
            _ => {
                // Anything else aborts the upgrade: engine.io closes the probe transport.
                self.upgrade = None;
                self.ws_out.push_back(WsAction::Close);
            }
        }
    }

    /// The WebSocket closed: the session closes if it was its transport; a probe WebSocket
    /// only aborts the upgrade.
    pub fn handle_ws_closed(&mut self, now: Instant) {
        let _ = now;
        if self.kind == TransportKind::WebSocket {
            self.close_with(CloseReason::TransportClose, false);
        } else if self.upgrade.take().is_some() {
        }
    }

    /// When [`Session::handle_timeout`] must be called next (`None`: nothing pending).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        let mut t = self.ping_deadline;
        if let Some(p) = self.next_ping {
            t = t.min(p);
        }
        if let Some(u) = self.upgrade {
            t = t.min(u.deadline);
        }
        if let Some(c) = self.close_deadline {
            t = t.min(c);
        }
        Some(t)
    }

    /// Time passed: applies the heartbeat, upgrade and close deadlines that are due at `now`.
    /// Early or repeated calls are harmless. Then drain the outputs.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if let Some(c) = self.close_deadline {
            if now >= c {
                self.close_with(CloseReason::ForcedClose, false);
                return;
            }
        }
        // v4, first (a late call must not count a ping never sent as missed):
        if self.next_ping.is_some_and(|t| now >= t) {
            self.next_ping = None;
            // A closing session sends no more pings.
            if self.state == State::Open {
                // > the server sends a `ping` packet and the client has a few seconds (the
                // > `pingTimeout` value) to send a `pong` packet back.
                self.ping_deadline = now + self.config.ping_timeout;
                self.refreshed = false;
                self.buffer(Packet::empty(PacketType::Ping));
                self.flush();
            }
        }
        // > the server will also be able to detect whether the client becomes unresponsive
        // > when it does not receive any data within `pingTimeout + pingInterval`.
        //
        // v4: > If the server does not receive a `pong` packet back, then it SHOULD consider
        // > that the connection is closed.
        if now >= self.ping_deadline {
            self.close_with(CloseReason::PingTimeout, false);
            return;
        }
        if let Some(u) = self.upgrade {
            if now >= u.deadline {
                self.upgrade = None;
                self.ws_out.push_back(WsAction::Close);
            }
        }
    }

    /// The response for the held GET, once there is something to send. Extra calls are
    /// harmless.
    #[must_use]
    pub fn poll_http_response(&mut self) -> Option<HttpResponse> {
        self.polling.ready.take()
    }

    /// The next WebSocket action, in order.
    #[must_use]
    pub fn poll_ws_action(&mut self) -> Option<WsAction> {
        self.ws_out.pop_front()
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Closed, and nothing left for the I/O layer or the application to take.
    pub(crate) fn is_drained_and_closed(&self) -> bool {
        self.is_closed()
            && self.polling.ready.is_none()
            && self.ws_out.is_empty()
            && self.events.is_empty()
    }

    fn on_packet(&mut self, now: Instant, p: Packet) {
        // engine.io `onPacket`: `if ('open' === this.readyState) { … } else { debug('packet
        // received with closed socket') }` — a closing session ignores what arrives.
        if self.state != State::Open {
            return;
        }
        if self.protocol == ProtocolVersion::V4 {
            self.on_packet_v4(now, p);
            return;
        }
        // engine.io resets the ping timer on every packet (`onPacket` → `setPingTimeout`).
        self.ping_deadline = now + self.config.ping_interval + self.config.ping_timeout;
        match p.kind {
            // > Server should answer with a pong packet containing the same data
            PacketType::Ping => {
                self.buffer(Packet {
                    kind: PacketType::Pong,
                    data: p.data,
                });
            }
            PacketType::Message => self.events.push_back(Event::Message(p.data)),
            // open, pong, upgrade, noop from the client: engine.io ignores them.
            _ => {}
        }
    }

    /// Revision 4 `onPacket`, as engine.io 6.6's: a pong schedules the next ping
    /// `ping_interval` from now (even one nobody asked for: engine.io refreshes its interval
    /// timer); while a pong is awaited, the first other packet restarts the pong deadline,
    /// once per ping ("got packet while waiting for pong - refreshing ping timeout"); a ping
    /// from the client is an error ("invalid heartbeat direction").
    fn on_packet_v4(&mut self, now: Instant, p: Packet) {
        let waiting = self.next_ping.is_none();
        if waiting && !self.refreshed && p.kind != PacketType::Pong {
            self.ping_deadline = now + self.config.ping_timeout;
            self.refreshed = true;
        }
        match p.kind {
            PacketType::Ping => self.close_with(CloseReason::TransportError, false),
            PacketType::Pong => {
                self.next_ping = Some(now + self.config.ping_interval);
                self.ping_deadline = now + self.config.ping_interval + self.config.ping_timeout;
            }
            PacketType::Message => self.events.push_back(Event::Message(p.data)),
            _ => {}
        }
    }

    /// Moves buffered packets to the transport when it can take them.
    fn flush(&mut self) {
        if self.state == State::Closed {
            return;
        }
        match self.kind {
            TransportKind::WebSocket => {
                while let Some(p) = self.write_buffer.pop_front() {
                    let m = revision::to_ws(self.protocol, &p, self.ws_supports_binary);
                    self.ws_out.push_back(WsAction::Send(m));
                }
                self.buffered_bytes = 0;
            }
            TransportKind::Polling => {
                if self.polling.held.is_none() {
                    return;
                }
                let close = self.polling.should_close;
                let probed = self.upgrade.is_some_and(|u| u.probed);
                if self.write_buffer.is_empty() && !close && !probed {
                    return;
                }
                let mut packets: Vec<Packet> = self.write_buffer.drain(..).collect();
                self.buffered_bytes = 0;
                if close {
                    packets.push(Packet::empty(PacketType::Close));
                } else if packets.is_empty() {
                    packets.push(Packet::empty(PacketType::Noop));
                }
                let resp = self.poll_response(packets);
                self.polling.ready = Some(resp);
                self.polling.held = None;
                if close {
                    self.finish(CloseReason::ForcedClose);
                }
            }
        }
    }

    /// The body of a poll response for `packets`, with engine.io's headers.
    fn poll_response(&self, packets: Vec<Packet>) -> HttpResponse {
        let origin = self.polling.held.clone().unwrap_or_default();
        let (content_type, body) = match (
            self.polling.jsonp,
            revision::encode_body(self.protocol, &packets, self.polling.supports_binary),
        ) {
            (Some(j), EncodedPayload::Text(t)) => {
                let mut out = Vec::with_capacity(t.len() + 16);
                encode_jsonp_response(j, &t, &mut out);
                ("text/plain; charset=UTF-8", out)
            }
            (_, EncodedPayload::Text(t)) => ("text/plain; charset=UTF-8", t.into_bytes()),
            (_, EncodedPayload::Binary(b)) => ("application/octet-stream", b),
        };
        let mut r = HttpResponse {
            status: 200,
            headers: vec![("Content-Type", String::from(content_type))],
            body,
        };
        if self.polling.jsonp.is_none() {
            cors(&mut r, &origin);
        }
        r
    }

    /// Closes now for `reason`. `noop`: release a held GET with a `noop` (the client's own
    /// close) rather than a `close` packet (engine.io's `doClose` on a writable poll).
    fn close_with(&mut self, reason: CloseReason, noop: bool) {
        if self.state == State::Closed {
            return;
        }
        self.write_buffer.clear();
        self.buffered_bytes = 0;
        if self.kind == TransportKind::Polling && self.polling.held.is_some() {
            let kind = if noop {
                PacketType::Noop
            } else {
                PacketType::Close
            };
            let resp = self.poll_response(vec![Packet::empty(kind)]);
            self.polling.ready = Some(resp);
            self.polling.held = None;
        }
        if self.upgrade.take().is_some() {
            self.ws_out.push_back(WsAction::Close);
        }
        if self.kind == TransportKind::WebSocket && reason != CloseReason::TransportClose {
            self.ws_out.push_back(WsAction::Close);
        }
        self.finish(reason);
    }

    fn finish(&mut self, reason: CloseReason) {
        self.state = State::Closed;
        self.write_buffer.clear();
        self.buffered_bytes = 0;
        self.close_deadline = None;
        self.events.push_back(Event::Closed(reason));
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
