//! The client side of an Engine.io v3 session, as engine.io-client 3.x behaves: the
//! handshake, long-polling with one GET and one POST in flight at most, the websocket probe
//! and upgrade, heartbeats (the v3 client pings, the server pongs) and close — without I/O
//! and without a clock.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use crate::handshake::OpenPacket;
use crate::packet::{Frame, Packet, PacketData, PacketType};
use crate::payload::{encode_payload, EncodedPayload, Limits, PayloadDecoder, PayloadFormat};
use crate::server::Method;
use crate::session::{SendError, TransportKind};

/// Client settings. `#[non_exhaustive]`: start from [`ClientConfig::default`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Whether binary travels as binary (XHR2 payloads, binary WebSocket messages). When
    /// false, requests carry `b64=1` and binary goes base64. Default true.
    pub supports_binary: bool,
    /// Probe and upgrade to websocket when the server offers it. Default true.
    pub upgrade: bool,
    /// Skip polling: open the session directly on a websocket. Default false.
    pub websocket_only: bool,
    /// Limits for decoding poll responses. Default [`Limits::DEFAULT`].
    pub limits: Limits,
    /// Maximum packets waiting to be sent. Default 100,000.
    pub max_buffered_packets: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            supports_binary: true,
            upgrade: true,
            websocket_only: false,
            limits: Limits::DEFAULT,
            max_buffered_packets: 100_000,
        }
    }
}

/// Which request a [`ClientRequest`] is (pass it back to
/// [`ClientSession::handle_response`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// The handshake GET.
    Handshake,
    /// A long-poll GET.
    Poll,
    /// A POST carrying packets.
    Post,
}

/// An HTTP request to make to the engine.io path (`/engine.io/` by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    /// Which request this is.
    pub kind: RequestKind,
    /// GET or POST.
    pub method: Method,
    /// The query string, without `?`.
    pub query: String,
    /// `Content-Type` of the body (POST).
    pub content_type: Option<&'static str>,
    /// The body (POST).
    pub body: Vec<u8>,
}

/// What to do with the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientWsAction {
    /// Open a WebSocket to the engine.io path with this query; then call
    /// [`ClientSession::handle_ws_connected`] (or [`ClientSession::handle_ws_closed`] if it
    /// fails).
    Connect {
        /// The query string, without `?`.
        query: String,
    },
    /// Send this message.
    Frame(Frame),
    /// Close the WebSocket.
    Close,
}

/// Why the client session closed (engine.io-client's reason strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientCloseReason {
    /// `"transport close"`: the server sent `close` or the transport ended.
    TransportClose,
    /// `"forced close"`: [`ClientSession::close`] was called.
    ForcedClose,
    /// `"ping timeout"`: no packet from the server in time.
    PingTimeout,
    /// `"transport error"`: an HTTP error status, a bad handshake or a malformed payload.
    TransportError,
}

/// What the client session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The handshake succeeded.
    Open(OpenPacket),
    /// A `message` packet's data.
    Message(PacketData),
    /// The session moved to websocket.
    Upgraded,
    /// The websocket probe failed; polling goes on.
    UpgradeFailed,
    /// Closed; nothing is reported after this.
    Closed(ClientCloseReason),
}

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

/// One Engine.io v3 client session.
///
/// # Call order
///
/// After creating it and after **every** input, drain the outputs (extra calls are
/// harmless): [`ClientSession::poll_request`] until `None` (make each request and pass its
/// response to [`ClientSession::handle_response`]), [`ClientSession::poll_ws_action`] until
/// `None`, [`ClientSession::poll_event`] until `None`, and [`ClientSession::poll_timeout`]
/// for the next [`ClientSession::handle_timeout`]. Time is `now`, since any fixed origin.
#[derive(Debug, Clone)]
pub struct ClientSession {
    config: ClientConfig,
    state: State,
    kind: TransportKind,
    open: Option<OpenPacket>,
    poll_in_flight: bool,
    post_in_flight: bool,
    probe: Option<Probe>,
    write_buffer: VecDeque<Packet>,
    requests: VecDeque<ClientRequest>,
    ws: VecDeque<ClientWsAction>,
    events: VecDeque<ClientEvent>,
    next_ping: Option<Duration>,
    deadline: Option<Duration>,
    counter: u64,
}

impl ClientSession {
    /// A new session: queues the handshake (a GET, or a websocket to open).
    #[must_use]
    pub fn new(config: ClientConfig, now: Duration) -> Self {
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
            write_buffer: VecDeque::new(),
            requests: VecDeque::new(),
            ws: VecDeque::new(),
            events: VecDeque::new(),
            next_ping: None,
            deadline: None,
            counter: 0,
        };
        match s.kind {
            TransportKind::Polling => {
                let query = s.query(TransportKind::Polling);
                s.poll_in_flight = true;
                s.requests.push_back(ClientRequest {
                    kind: RequestKind::Handshake,
                    method: Method::Get,
                    query,
                    content_type: None,
                    body: Vec::new(),
                });
            }
            TransportKind::WebSocket => {
                let query = s.query(TransportKind::WebSocket);
                s.ws.push_back(ClientWsAction::Connect { query });
            }
        }
        s
    }

    /// The handshake data, once open.
    #[must_use]
    pub fn handshake(&self) -> Option<&OpenPacket> {
        self.open.as_ref()
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

    /// `EIO=3&transport=…&t=…[&b64=1][&sid=…]`.
    fn query(&mut self, kind: TransportKind) -> String {
        self.counter += 1;
        let mut q = format!("EIO=3&transport={}&t={}", kind.name(), self.counter);
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
    /// [`SendError::Closed`] once closed; [`SendError::BufferFull`].
    pub fn send(&mut self, data: PacketData) -> Result<(), SendError> {
        if self.state == State::Closed {
            return Err(SendError::Closed);
        }
        if self.write_buffer.len() >= self.config.max_buffered_packets {
            return Err(SendError::BufferFull);
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
            self.ws.push_back(ClientWsAction::Close);
        }
        if self.state == State::Open {
            self.write_buffer
                .push_back(Packet::empty(PacketType::Close));
            match self.kind {
                TransportKind::WebSocket => {
                    self.flush();
                    self.ws.push_back(ClientWsAction::Close);
                }
                // With a POST in flight, the last one goes when it completes.
                TransportKind::Polling => self.flush(),
            }
        }
        self.state = State::Closed;
        self.next_ping = None;
        self.deadline = None;
        self.events
            .push_back(ClientEvent::Closed(ClientCloseReason::ForcedClose));
    }

    /// The response to a request from [`ClientSession::poll_request`]. `binary` is
    /// `Content-Type: application/octet-stream`. Then drain the outputs.
    pub fn handle_response(
        &mut self,
        now: Duration,
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
            self.fail(ClientCloseReason::TransportError);
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
                let mut dec = PayloadDecoder::new(format, self.config.limits);
                dec.feed(body);
                dec.feed_eof();
                loop {
                    match dec.poll_packet() {
                        Ok(Some(p)) => {
                            if p.kind == PacketType::Close {
                                // engine.io-client polling: `if ('close' === packet.type) {
                                // self.onClose(); return false; }`
                                self.fail(ClientCloseReason::TransportClose);
                                return;
                            }
                            self.on_packet(now, p);
                            if self.state == State::Closed {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            self.fail(ClientCloseReason::TransportError);
                            return;
                        }
                    }
                }
                if self.state == State::Opening {
                    // The handshake response must start with the open packet.
                    self.fail(ClientCloseReason::TransportError);
                    return;
                }
            }
        }
        self.drive();
    }

    /// The WebSocket asked for by [`ClientWsAction::Connect`] is open.
    pub fn handle_ws_connected(&mut self, now: Duration) {
        let _ = now;
        if self.probe == Some(Probe::Connecting) {
            // > The probe sent by the client is a `ping` packet with `probe` sent as data.
            let ping = Packet::text(PacketType::Ping, "probe");
            self.ws.push_back(ClientWsAction::Frame(
                ping.to_frame(self.config.supports_binary),
            ));
            self.probe = Some(Probe::Sent);
        }
    }

    /// A message arrived on the WebSocket. Then drain the outputs.
    pub fn handle_ws_frame(&mut self, now: Duration, frame: Frame) {
        if self.state == State::Closed {
            return;
        }
        let packet = Packet::from_frame(frame);
        if self.kind == TransportKind::WebSocket {
            match packet {
                Ok(p) if p.kind == PacketType::Close => {
                    self.fail(ClientCloseReason::TransportClose);
                }
                Ok(p) => {
                    self.on_packet(now, p);
                    self.drive();
                }
                Err(_) => self.fail(ClientCloseReason::TransportError),
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
    pub fn handle_ws_closed(&mut self, now: Duration) {
        let _ = now;
        if self.state == State::Closed {
            return;
        }
        if self.kind == TransportKind::WebSocket {
            self.fail(ClientCloseReason::TransportClose);
        } else if self.probe.is_some() {
            self.probe = None;
            self.events.push_back(ClientEvent::UpgradeFailed);
            self.drive();
        }
    }

    /// When [`ClientSession::handle_timeout`] must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.state == State::Closed {
            return None;
        }
        match (self.next_ping, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time passed: sends the ping that is due, or closes on a missed pong. Early or
    /// repeated calls are harmless. Then drain the outputs.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.state != State::Open {
            return;
        }
        if self.deadline.is_some_and(|d| now >= d) {
            self.fail(ClientCloseReason::PingTimeout);
            return;
        }
        if self.next_ping.is_some_and(|t| now >= t) {
            // engine.io-client `setPing`: ping, then wait `pingTimeout` for any packet.
            self.next_ping = None;
            self.write_buffer.push_back(Packet::empty(PacketType::Ping));
            if let Some(open) = &self.open {
                self.deadline = Some(now + Duration::from_millis(open.ping_timeout_ms));
            }
            self.drive();
        }
    }

    /// The next HTTP request to make.
    #[must_use]
    pub fn poll_request(&mut self) -> Option<ClientRequest> {
        self.requests.pop_front()
    }

    /// The next WebSocket action.
    #[must_use]
    pub fn poll_ws_action(&mut self) -> Option<ClientWsAction> {
        self.ws.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    fn on_packet(&mut self, now: Duration, p: Packet) {
        if let Some(open) = &self.open {
            // engine.io-client `onHeartbeat`: any packet pushes the deadline to
            // pingInterval + pingTimeout from now.
            self.deadline =
                Some(now + Duration::from_millis(open.ping_interval_ms + open.ping_timeout_ms));
        }
        match p.kind {
            PacketType::Open if self.state == State::Opening => {
                let Ok(open) = OpenPacket::from_packet(&p) else {
                    self.fail(ClientCloseReason::TransportError);
                    return;
                };
                self.state = State::Open;
                self.next_ping = Some(now + Duration::from_millis(open.ping_interval_ms));
                self.deadline =
                    Some(now + Duration::from_millis(open.ping_interval_ms + open.ping_timeout_ms));
                let probe = self.config.upgrade
                    && self.kind == TransportKind::Polling
                    && open.upgrades.iter().any(|u| u == "websocket");
                self.open = Some(open.clone());
                self.events.push_back(ClientEvent::Open(open));
                if probe {
                    let query = self.query(TransportKind::WebSocket);
                    self.ws.push_back(ClientWsAction::Connect { query });
                    self.probe = Some(Probe::Connecting);
                }
            }
            PacketType::Pong if self.state == State::Open => {
                if let Some(open) = &self.open {
                    self.next_ping = Some(now + Duration::from_millis(open.ping_interval_ms));
                }
            }
            PacketType::Message if self.state == State::Open => {
                self.events.push_back(ClientEvent::Message(p.data));
            }
            // noop, and anything unexpected: ignored, as engine.io-client does.
            _ => {}
        }
    }

    /// Generates the requests and frames the current state calls for.
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
                .push_back(ClientWsAction::Frame(Frame::Text(String::from("5"))));
            self.events.push_back(ClientEvent::Upgraded);
        }
        self.flush();
        if self.kind == TransportKind::Polling
            && !self.poll_in_flight
            && self.probe != Some(Probe::Pausing)
        {
            let query = self.query(TransportKind::Polling);
            self.poll_in_flight = true;
            self.requests.push_back(ClientRequest {
                kind: RequestKind::Poll,
                method: Method::Get,
                query,
                content_type: None,
                body: Vec::new(),
            });
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
                    self.ws.push_back(ClientWsAction::Frame(
                        p.to_frame(self.config.supports_binary),
                    ));
                }
            }
            TransportKind::Polling => {
                if self.post_in_flight || self.probe == Some(Probe::Pausing) {
                    return;
                }
                let packets: Vec<Packet> = self.write_buffer.drain(..).collect();
                let (content_type, body) =
                    match encode_payload(&packets, self.config.supports_binary) {
                        EncodedPayload::Text(t) => ("text/plain;charset=UTF-8", t.into_bytes()),
                        EncodedPayload::Binary(b) => ("application/octet-stream", b),
                    };
                let query = self.query(TransportKind::Polling);
                self.post_in_flight = true;
                self.requests.push_back(ClientRequest {
                    kind: RequestKind::Post,
                    method: Method::Post,
                    query,
                    content_type: Some(content_type),
                    body,
                });
            }
        }
    }

    fn upgrade_failed(&mut self) {
        self.probe = None;
        self.ws.push_back(ClientWsAction::Close);
        self.events.push_back(ClientEvent::UpgradeFailed);
        self.drive();
    }

    fn fail(&mut self, reason: ClientCloseReason) {
        if self.state == State::Closed {
            return;
        }
        if self.kind == TransportKind::WebSocket || self.probe.is_some() {
            self.ws.push_back(ClientWsAction::Close);
        }
        self.finish(reason);
    }

    fn finish(&mut self, reason: ClientCloseReason) {
        self.state = State::Closed;
        self.probe = None;
        self.write_buffer.clear();
        self.next_ping = None;
        self.deadline = None;
        self.events.push_back(ClientEvent::Closed(reason));
    }
}
