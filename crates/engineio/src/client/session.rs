//! The client state machine, [`Session`]: as engine.io-client 3.x behaves (revision 3), or
//! engine.io-client 6 (revision 4: the server pings, POSTs batched under `maxPayload`),
//! without I/O and without a clock.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use super::config::Config;
use super::event::{CloseReason, Event};
use super::output::{Request, RequestKind, WsAction};
use crate::error::SendError;
use crate::http::Method;
use crate::open::OpenPacket;
use crate::packet::{Packet, PacketData};
use crate::packet_type::PacketType;
use crate::payload::{EncodedPayload, PayloadFormat};
use crate::revision::{self, BodyDecoder};
use crate::time::Instant;
use crate::transport::{TransportKind, WsMessage};
use crate::v4;
use crate::version::ProtocolVersion;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Opening,
    Open,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    Connecting,
    Sent,
    /// `3probe` received: polling pauses, then `5` is sent.
    Pausing,
}

/// One Engine.io client session, of the revision [`Config::protocol`] names.
///
/// # Call order
///
/// After creating it and after **every** input, drain the outputs (extra calls are
/// harmless): [`Session::poll_request`] until `None` (make each request and pass its
/// response to [`Session::handle_response`]), [`Session::poll_ws_action`] until
/// `None`, [`Session::poll_event`] until `None`, and [`Session::poll_timeout`]
/// for the next [`Session::handle_timeout`]. Time is `now`, an [`Instant`] from one origin
/// for the whole session.
#[derive(Debug, Clone)]
pub struct Session {
    config: Config,
    state: State,
    kind: TransportKind,
    open: Option<OpenPacket>,
    poll_in_flight: bool,
    post_in_flight: bool,
    probe: Option<Probe>,
    /// When the last probe, if not answered by then, is given up
    /// ([`Config::upgrade_timeout`]); in force only while the probe is connecting or sent
    /// ([`Session::probe_due`]).
    probe_deadline: Option<Instant>,
    write_buffer: VecDeque<Packet>,
    requests: VecDeque<Request>,
    ws: VecDeque<WsAction>,
    events: VecDeque<Event>,
    next_ping: Option<Instant>,
    deadline: Option<Instant>,
    counter: u64,
    /// Revision 4: the handshake's `maxPayload`.
    max_payload: Option<u64>,
}

impl Session {
    /// A new session: queues the handshake (a GET, or a websocket to open).
    #[must_use]
    pub fn new(config: Config, now: Instant) -> Self {
        let _ = now;
        let mut s = Self {
            kind: if config.websocket_only {
                TransportKind::WebSocket
            } else {
                TransportKind::Polling
            },
            config,
            state: State::Opening,
            open: None,
            poll_in_flight: false,
            post_in_flight: false,
            probe: None,
            probe_deadline: None,
            write_buffer: VecDeque::new(),
            requests: VecDeque::new(),
            ws: VecDeque::new(),
            events: VecDeque::new(),
            next_ping: None,
            deadline: None,
            counter: 0,
            max_payload: None,
        };
        match s.kind {
            TransportKind::Polling => {
                let query = s.query(TransportKind::Polling);
                s.poll_in_flight = true;
                s.requests
                    .push_back(Request::get(RequestKind::Handshake, query));
            }
            TransportKind::WebSocket => {
                let query = s.query(TransportKind::WebSocket);
                s.ws.push_back(WsAction::Connect { query });
            }
        }
        s
    }

    /// The handshake data, once open.
    #[must_use]
    pub fn handshake(&self) -> Option<&OpenPacket> {
        self.open.as_ref()
    }

    /// Revision 4: the handshake's `maxPayload`, the most bytes one POST carries.
    #[must_use]
    pub fn max_payload(&self) -> Option<u64> {
        self.max_payload
    }

    /// The current transport.
    #[must_use]
    pub fn transport(&self) -> TransportKind {
        self.kind
    }

    /// Whether the session is closed.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// `EIO=3|4&transport=…&t=…[&b64=1][&sid=…]`.
    fn query(&mut self, kind: TransportKind) -> String {
        self.counter += 1;
        let mut q = format!(
            "EIO={}&transport={}&t={}",
            self.config.protocol,
            kind.name(),
            self.counter
        );
        if !self.config.supports_binary {
            q.push_str("&b64=1");
        }
        if let Some(open) = &self.open {
            q.push_str("&sid=");
            // Session ids are base64url-like; escape anything else.
            for b in open.sid.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    q.push(char::from(b));
                } else {
                    q.push_str(&format!("%{b:02X}"));
                }
            }
        }
        q
    }

    /// Queues a `message` packet. Then drain the outputs.
    ///
    /// # Errors
    /// [`SendError::Closed`] once closed; [`SendError::OutputFull`].
    pub fn send(&mut self, data: PacketData) -> Result<(), SendError> {
        if self.state == State::Closed {
            return Err(SendError::Closed);
        }
        let (buffered, limit) = (self.write_buffer.len(), self.config.max_buffered_packets);
        if buffered >= limit {
            return Err(SendError::OutputFull { buffered, limit });
        }
        self.write_buffer.push_back(Packet {
            kind: PacketType::Message,
            data,
        });
        self.drive();
        Ok(())
    }

    /// Closes the session: buffered packets and a `close` packet go out (a last POST, or
    /// WebSocket messages then a WebSocket close). Then drain the outputs.
    pub fn close(&mut self) {
        if self.state == State::Closed {
            return;
        }
        if self.probe.take().is_some() {
            self.ws.push_back(WsAction::Close);
        }
        if self.state == State::Open {
            self.write_buffer
                .push_back(Packet::empty(PacketType::Close));
            match self.kind {
                TransportKind::WebSocket => {
                    self.flush();
                    self.ws.push_back(WsAction::Close);
                }
                // With a POST in flight, the last one goes when it completes.
                TransportKind::Polling => self.flush(),
            }
        }
        self.state = State::Closed;
        self.next_ping = None;
        self.deadline = None;
        self.events
            .push_back(Event::Closed(CloseReason::ForcedClose));
    }

    /// The response to a request from [`Session::poll_request`]. `binary` is
    /// `Content-Type: application/octet-stream`. Then drain the outputs.
    pub fn handle_response(
        &mut self,
        now: Instant,
        kind: RequestKind,
        status: u16,
        binary: bool,
        body: &[u8],
    ) {
        if self.state == State::Closed {
            if kind == RequestKind::Post {
                // A close() waiting for the POST in flight: send the rest now.
                self.post_in_flight = false;
                self.flush();
            }
            return;
        }
        if status != 200 {
            self.fail(CloseReason::TransportError);
            return;
        }
        match kind {
            RequestKind::Post => self.post_in_flight = false,
            RequestKind::Handshake | RequestKind::Poll => {
                self.poll_in_flight = false;
                let format = if binary {
                    PayloadFormat::Binary
                } else {
                    PayloadFormat::Text
                };
                // A body over `max_payload_bytes` is refused whole; the first poll then
                // reports `PayloadTooLarge` and the session fails below.
                let mut dec =
                    BodyDecoder::whole(self.config.protocol, format, self.config.limits, body);
                loop {
                    match dec.poll_packet() {
                        Ok(Some(p)) => {
                            if p.kind == PacketType::Close {
                                // engine.io-client polling: `if ('close' === packet.type) {
                                // self.onClose(); return false; }`
                                self.fail(CloseReason::TransportClose);
                                return;
                            }
                            self.on_packet(now, p);
                            if self.state == State::Closed {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            self.fail(CloseReason::TransportError);
                            return;
                        }
                    }
                }
                if self.state == State::Opening {
                    // The handshake response must start with the open packet.
                    self.fail(CloseReason::TransportError);
                    return;
                }
            }
        }
        self.drive();
    }

    /// The WebSocket asked for by [`WsAction::Connect`] is open. A websocket for a probe
    /// already given up ([`Config::upgrade_timeout`]), or one that opens after the session
    /// closed, is closed at once ([`WsAction::Close`]).
    pub fn handle_ws_connected(&mut self, now: Instant) {
        let _ = now;
        if self.probe == Some(Probe::Connecting) {
            // > The probe sent by the client is a `ping` packet with `probe` sent as data.
            let ping = Packet::text(PacketType::Ping, "probe");
            let m = revision::to_ws(self.config.protocol, &ping, self.config.supports_binary);
            self.ws.push_back(WsAction::Send(m));
            self.probe = Some(Probe::Sent);
        } else if self.kind == TransportKind::Polling || self.state == State::Closed {
            // A websocket the session no longer waits for (a probe given up, a session
            // closed while it was opening): closed, not left open.
            self.ws.push_back(WsAction::Close);
        }
    }

    /// A message arrived on the WebSocket. Then drain the outputs.
    pub fn handle_ws_message(&mut self, now: Instant, message: WsMessage) {
        if self.state == State::Closed {
            return;
        }
        let packet = revision::from_ws(self.config.protocol, message);
        if self.kind == TransportKind::WebSocket {
            match packet {
                Ok(p) if p.kind == PacketType::Close => {
                    self.fail(CloseReason::TransportClose);
                }
                Ok(p) => {
                    self.on_packet(now, p);
                    self.drive();
                }
                Err(_) => self.fail(CloseReason::TransportError),
            }
            return;
        }
        if self.probe == Some(Probe::Sent) {
            match packet {
                Ok(p) if p.kind == PacketType::Pong && p.data.as_text() == Some("probe") => {
                    // engine.io-client: pause polling (wait for the GET and POST in flight),
                    // then send `5` on the websocket and switch.
                    self.probe = Some(Probe::Pausing);
                    self.drive();
                }
                _ => self.upgrade_failed(),
            }
        }
    }

    /// The WebSocket closed (or could not be opened). Then drain the outputs.
    pub fn handle_ws_closed(&mut self, now: Instant) {
        let _ = now;
        if self.state == State::Closed {
            return;
        }
        if self.kind == TransportKind::WebSocket {
            self.fail(CloseReason::TransportClose);
        } else if self.probe.is_some() {
            self.probe = None;
            self.events.push_back(Event::UpgradeFailed);
            self.drive();
        }
    }

    /// When [`Session::handle_timeout`] must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        [self.next_ping, self.deadline, self.probe_due()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Time passed: sends the ping that is due, or closes on a missed pong. Early or
    /// repeated calls are harmless. Then drain the outputs.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state != State::Open {
            return;
        }
        if self.deadline.is_some_and(|d| now >= d) {
            self.fail(CloseReason::PingTimeout);
            return;
        }
        if self.probe_due().is_some_and(|d| now >= d) {
            // The probe was not answered in time: give it up, polling goes on.
            self.upgrade_failed();
        }
        if self.next_ping.is_some_and(|t| now >= t) {
            // engine.io-client `setPing`: ping, then wait `pingTimeout` for any packet.
            self.next_ping = None;
            self.write_buffer.push_back(Packet::empty(PacketType::Ping));
            if let Some(open) = &self.open {
                self.deadline = Some(now + ms(open.ping_timeout_ms));
            }
            self.drive();
        }
    }

    /// The next HTTP request to make.
    #[must_use]
    pub fn poll_request(&mut self) -> Option<Request> {
        self.requests.pop_front()
    }

    /// The next WebSocket action.
    #[must_use]
    pub fn poll_ws_action(&mut self) -> Option<WsAction> {
        self.ws.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn on_packet(&mut self, now: Instant, p: Packet) {
        let v4 = self.config.protocol == ProtocolVersion::V4;
        if let Some(open) = self.open.as_ref().filter(|_| !v4) {
            // engine.io-client `onHeartbeat`: any packet pushes the deadline to
            // pingInterval + pingTimeout from now.
            self.deadline = Some(now + ms(open.ping_interval_ms) + ms(open.ping_timeout_ms));
        }
        match p.kind {
            PacketType::Open if self.state == State::Opening => {
                let handshake = if v4 {
                    v4::Handshake::from_packet(&p).map(|h| (h.open, h.max_payload))
                } else {
                    OpenPacket::from_packet(&p).map(|o| (o, None))
                };
                let Ok((open, max_payload)) = handshake else {
                    self.fail(CloseReason::TransportError);
                    return;
                };
                self.state = State::Open;
                self.max_payload = max_payload;
                // v4: the server pings; the client only watches for its pings.
                self.next_ping = (!v4).then(|| now + ms(open.ping_interval_ms));
                self.deadline = Some(now + ms(open.ping_interval_ms) + ms(open.ping_timeout_ms));
                let probe = self.config.upgrade
                    && self.kind == TransportKind::Polling
                    && open.upgrades.iter().any(|u| u == "websocket");
                self.open = Some(open.clone());
                self.events.push_back(Event::Open(open));
                if probe {
                    let query = self.query(TransportKind::WebSocket);
                    self.ws.push_back(WsAction::Connect { query });
                    self.probe = Some(Probe::Connecting);
                    self.probe_deadline = Some(now + self.config.upgrade_timeout);
                }
            }
            PacketType::Pong if self.state == State::Open && !v4 => {
                if let Some(open) = &self.open {
                    self.next_ping = Some(now + ms(open.ping_interval_ms));
                }
            }
            // > At a given interval … the server sends a `ping` packet and the client has a
            // > few seconds (the `pingTimeout` value) to send a `pong` packet back.
            // > Conversely, if the client does not receive a `ping` packet within
            // > `pingInterval + pingTimeout`, then it SHOULD consider that the connection is
            // > closed.
            PacketType::Ping if self.state == State::Open && v4 => {
                if let Some(open) = &self.open {
                    self.deadline =
                        Some(now + ms(open.ping_interval_ms) + ms(open.ping_timeout_ms));
                }
                self.write_buffer.push_back(Packet::empty(PacketType::Pong));
            }
            PacketType::Message if self.state == State::Open => {
                self.events.push_back(Event::Message(p.data));
            }
            // noop, and anything unexpected: ignored, as engine.io-client does.
            _ => {}
        }
    }

    /// Generates the requests and messages the current state calls for.
    fn drive(&mut self) {
        if self.state != State::Open {
            return;
        }
        if self.probe == Some(Probe::Pausing) && !self.poll_in_flight && !self.post_in_flight {
            // > the upgrade packet will only be sent once all the buffers of the existing
            // > transport are flushed and the transport is considered _paused_.
            self.probe = None;
            self.kind = TransportKind::WebSocket;
            self.ws
                .push_back(WsAction::Send(WsMessage::Text(String::from("5"))));
            self.events.push_back(Event::Upgraded);
        }
        self.flush();
        if self.kind == TransportKind::Polling
            && !self.poll_in_flight
            && self.probe != Some(Probe::Pausing)
        {
            let query = self.query(TransportKind::Polling);
            self.poll_in_flight = true;
            self.requests
                .push_back(Request::get(RequestKind::Poll, query));
        }
    }

    /// Sends the write buffer: one POST at a time on polling (not while pausing for an
    /// upgrade), one message per packet on a websocket.
    fn flush(&mut self) {
        if self.write_buffer.is_empty() {
            return;
        }
        match self.kind {
            TransportKind::WebSocket => {
                while let Some(p) = self.write_buffer.pop_front() {
                    let m = revision::to_ws(self.config.protocol, &p, self.config.supports_binary);
                    self.ws.push_back(WsAction::Send(m));
                }
            }
            TransportKind::Polling => {
                if self.post_in_flight || self.probe == Some(Probe::Pausing) {
                    return;
                }
                let n = self.batch_len();
                let packets: Vec<Packet> = self.write_buffer.drain(..n).collect();
                let (content_type, body) = match revision::encode_body(
                    self.config.protocol,
                    &packets,
                    self.config.supports_binary,
                ) {
                    EncodedPayload::Text(t) => ("text/plain;charset=UTF-8", t.into_bytes()),
                    EncodedPayload::Binary(b) => ("application/octet-stream", b),
                };
                let query = self.query(TransportKind::Polling);
                self.post_in_flight = true;
                self.requests.push_back(Request {
                    kind: RequestKind::Post,
                    method: Method::Post,
                    query,
                    content_type: Some(content_type),
                    body,
                });
            }
        }
    }

    /// How many buffered packets the next POST carries: all of them, except in revision 4
    /// with a `maxPayload`, where the longest prefix that fits (at least one packet).
    ///
    /// > The client SHOULD use the `maxPayload` value sent during the handshake to decide
    /// > how many packets should be concatenated.
    fn batch_len(&self) -> usize {
        let Some(max) = self.max_payload else {
            return self.write_buffer.len();
        };
        let mut size = 0u64;
        for (i, p) in self.write_buffer.iter().enumerate() {
            let sep = u64::from(i > 0);
            size = size.saturating_add(v4::packet_len(p) as u64 + sep);
            if i > 0 && size > max {
                return i;
            }
        }
        self.write_buffer.len()
    }

    /// The probe's deadline while it waits for its websocket or its answer.
    fn probe_due(&self) -> Option<Instant> {
        match self.probe {
            Some(Probe::Connecting | Probe::Sent) => self.probe_deadline,
            _ => None,
        }
    }

    fn upgrade_failed(&mut self) {
        self.probe = None;
        self.ws.push_back(WsAction::Close);
        self.events.push_back(Event::UpgradeFailed);
        self.drive();
    }

    fn fail(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        if self.kind == TransportKind::WebSocket || self.probe.is_some() {
            self.ws.push_back(WsAction::Close);
        }
        self.finish(reason);
    }

    fn finish(&mut self, reason: CloseReason) {
        self.state = State::Closed;
        self.probe = None;
        self.write_buffer.clear();
        self.next_ping = None;
        self.deadline = None;
        self.events.push_back(Event::Closed(reason));
    }
}

/// Milliseconds from the handshake as a [`Duration`].
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
