//! Inside the client [`Connection`]: the namespaces' lifecycle (CONNECT sent, connected,
//! left), the transport lost and reopened with backoff, and the packets received.

use alloc::string::String;
use alloc::vec::Vec;

use pushwire_engineio::Instant;

use crate::client::backoff::Rng;
use crate::client::error::EmitError;
use crate::client::event::{DisconnectReason, Event, TransportAction};
use crate::decoder::Decoder;
use crate::packet::Packet;
use crate::packet_type::PacketType;
use crate::value::{Map, Value};
use crate::version::ProtocolVersion;

use super::{Connection, NsState, Transport};

impl<R: Rng> Connection<R> {
    pub(super) fn find(&self, nsp: &str) -> Option<usize> {
        self.namespaces.iter().position(|n| n.nsp == nsp)
    }

    pub(super) fn check_room(&self, packet: &Packet) -> Result<(), EmitError> {
        let n = 1 + packet.attachments().len();
        if self.transmit.len().saturating_add(n) > self.config.max_transmit_queue {
            return Err(EmitError::TransmitQueueFull {
                limit: self.config.max_transmit_queue,
            });
        }
        Ok(())
    }

    pub(super) fn push_packet(&mut self, packet: Packet) {
        self.transmit.extend(packet.into_messages());
    }

    pub(super) fn start_open(&mut self, now: Instant) {
        self.transport = Transport::Opening {
            deadline: self.config.timeout.map(|t| now + t),
        };
        self.actions.push_back(TransportAction::Open);
    }

    pub(super) fn send_connect(&mut self, i: usize) {
        let Transport::Open {
            eio_sid,
            root_connected,
        } = &self.transport
        else {
            return;
        };
        let ns = &self.namespaces[i];
        let packet = match self.version {
            ProtocolVersion::V5 => Packet::connect(self.version, &ns.nsp, ns.auth.as_ref()),
            ProtocolVersion::V4 if ns.nsp == "/" => {
                // Socket.onopen: "if ('/' !== this.nsp)": `/` is implicit; its CONNECT comes
                // from the server, and may already have come.
                if *root_connected {
                    let sid = eio_sid.clone();
                    self.set_connected(i, sid);
                } else {
                    self.namespaces[i].state = NsState::Connecting;
                }
                return;
            }
            ProtocolVersion::V4 => match &ns.query {
                // Manager.packet: "if (packet.query && packet.type === 0) packet.nsp += '?'
                // + packet.query".
                Some(q) => {
                    let mut full = ns.nsp.clone();
                    full.push('?');
                    full.push_str(q);
                    Packet::connect(self.version, &full, None)
                }
                None => Packet::connect(self.version, &ns.nsp, None),
            },
        };
        // Checked by `connect`, so this builds.
        if let Ok(p) = packet {
            self.push_packet(p);
        }
        self.namespaces[i].state = NsState::Connecting;
    }

    /// The namespace is accepted: event, then its send buffer ("this.emitBuffered();
    /// this.emitReserved("connect")" — the buffered packets go out first).
    pub(super) fn set_connected(&mut self, i: usize, sid: String) {
        let ns = &mut self.namespaces[i];
        ns.state = NsState::Connected { sid: sid.clone() };
        let buffered: Vec<Packet> = ns.send_buffer.drain(..).collect();
        self.buffered -= buffered.len();
        self.events.push_back(Event::Connected {
            nsp: ns.nsp.clone(),
            sid,
        });
        for p in buffered {
            self.push_packet(p);
        }
    }

    /// Removes namespace `i`: a `DISCONNECT` if `send` and it is connected, the event if it
    /// was connected, its acks dropped.
    pub(super) fn leave(&mut self, i: usize, reason: DisconnectReason, send: bool) {
        let ns = self.namespaces.remove(i);
        let was_connected = matches!(ns.state, NsState::Connected { .. });
        if was_connected && send {
            // Socket.disconnect: "if (this.connected) { this.packet({ type: DISCONNECT }) }".
            if let Ok(p) = Packet::disconnect(&ns.nsp) {
                self.push_packet(p);
            }
        }
        if was_connected {
            self.events.push_back(Event::Disconnected {
                nsp: ns.nsp.clone(),
                reason,
            });
        }
        self.buffered -= ns.send_buffer.len();
        self.pending_acks -= ns.acks.len();
        for id in ns.acks.keys() {
            self.events.push_back(Event::AckDropped {
                nsp: ns.nsp.clone(),
                id: *id,
            });
        }
    }

    /// The application or the server ended it all: close, no reconnection.
    pub(super) fn close_transport(&mut self) {
        if matches!(
            self.transport,
            Transport::Open { .. } | Transport::Opening { .. }
        ) {
            self.actions.push_back(TransportAction::Close);
        }
        // _close: "this.skipReconnect = true; this._reconnecting = false"; onclose:
        // "this.backoff.reset()".
        self.transport = Transport::Idle;
        self.reconnecting = false;
        self.backoff.reset();
        self.decoder = Decoder::new(self.version, self.config.limits);
    }

    /// The open connection is gone ("transport close" or "parse error").
    pub(super) fn lose_transport(&mut self, now: Instant, reason: DisconnectReason) {
        self.transport = Transport::Idle;
        self.decoder = Decoder::new(self.version, self.config.limits);
        self.transmit.clear();
        for ns in &mut self.namespaces {
            if matches!(ns.state, NsState::Connected { .. }) {
                self.events.push_back(Event::Disconnected {
                    nsp: ns.nsp.clone(),
                    reason,
                });
            }
            ns.state = NsState::Pending;
            // _clearAcks: acks of packets still in the send buffer stay; the others end.
            let sent: Vec<u64> = ns
                .acks
                .keys()
                .copied()
                .filter(|id| !ns.send_buffer.iter().any(|p| p.id() == Some(*id)))
                .collect();
            for id in sent {
                ns.acks.remove(&id);
                self.pending_acks -= 1;
                self.events.push_back(Event::AckDropped {
                    nsp: ns.nsp.clone(),
                    id,
                });
            }
        }
        // Manager.onclose: "this.backoff.reset(); … if (this._reconnection &&
        // !this.skipReconnect) this.reconnect()". The counter is already 0 here: every
        // open that succeeds reset it (`handle_open`).
        self.reconnect(now);
    }

    /// An open failed or timed out.
    pub(super) fn open_failed(&mut self, now: Instant) {
        self.events.push_back(Event::OpenError);
        self.transport = Transport::Idle;
        if self.reconnecting {
            // "self._reconnecting = false; self.reconnect();"
            self.reconnecting = false;
            self.reconnect(now);
        } else if self.backoff.attempts == 0 {
            // maybeReconnectOnOpen: "Only try to reconnect if it's the first time we're
            // connecting".
            self.reconnect(now);
        }
    }

    /// Manager.reconnect: give up, or wait the next backoff delay.
    pub(super) fn reconnect(&mut self, now: Instant) {
        if !self.config.reconnection {
            self.transport = Transport::Idle;
            return;
        }
        // "if (this.backoff.attempts >= this._reconnectionAttempts) { … this.backoff.reset();
        // this.emitReserved("reconnect_failed"); this._reconnecting = false; }".
        if self
            .config
            .reconnection_attempts
            .is_some_and(|max| self.backoff.attempts >= max)
        {
            self.backoff.reset();
            self.reconnecting = false;
            self.transport = Transport::Idle;
            self.events.push_back(Event::ReconnectFailed);
            return;
        }
        let delay = self.backoff.duration(&self.config);
        self.reconnecting = true;
        self.transport = Transport::Waiting { until: now + delay };
        self.events.push_back(Event::ReconnectScheduled {
            attempt: self.backoff.attempts,
            delay,
        });
    }

    pub(super) fn on_packet(&mut self, packet: Packet) {
        let (path, _) = packet.nsp_path();
        let i = self.find(path);
        match packet.kind() {
            PacketType::Connect => match self.version {
                ProtocolVersion::V5 => {
                    let Some(i) = i else { return };
                    // "if (packet.data && packet.data.sid) this.onconnect(packet.data.sid)".
                    let sid = packet.value().ok().flatten().and_then(|v| match v {
                        Value::Object(m) => m.get("sid").and_then(Value::as_str).map(String::from),
                        _ => None,
                    });
                    match sid {
                        Some(sid) => self.set_connected(i, sid),
                        None => {
                            let mut m = Map::new();
                            m.insert(
                                "message",
                                Value::from(
                                    "It seems you are trying to reach a Socket.IO server in \
                                     v2.x with a v3.x client, but they are not compatible",
                                ),
                            );
                            self.events.push_back(Event::ConnectError {
                                nsp: self.namespaces[i].nsp.clone(),
                                data: Value::Object(m),
                            });
                        }
                    }
                }
                ProtocolVersion::V4 => {
                    let Transport::Open {
                        eio_sid,
                        root_connected,
                    } = &mut self.transport
                    else {
                        return;
                    };
                    if path == "/" {
                        *root_connected = true;
                    }
                    // generateId: "(nsp === '/' ? '' : (nsp + '#')) + this.engine.id".
                    let mut sid = String::new();
                    if path != "/" {
                        sid.push_str(path);
                        sid.push('#');
                    }
                    sid.push_str(eio_sid);
                    if let Some(i) = i {
                        self.set_connected(i, sid);
                    }
                }
            },
            PacketType::Disconnect => {
                if let Some(i) = i {
                    // ondisconnect: "this.destroy(); this.onclose("io server disconnect")";
                    // destroy: "clean subscriptions to avoid reconnections".
                    self.leave(i, DisconnectReason::IoServerDisconnect, false);
                    if self.namespaces.is_empty() {
                        self.close_transport();
                    }
                }
            }
            PacketType::Event | PacketType::BinaryEvent => {
                if i.is_some() {
                    self.events.push_back(Event::Event(packet));
                }
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let (Some(i), Some(id)) = (i, packet.id()) else {
                    return;
                };
                // onack: "if (typeof ack !== "function") return; delete this.acks[packet.id]".
                if self.namespaces[i].acks.remove(&id).is_some() {
                    self.pending_acks -= 1;
                    self.events.push_back(Event::Ack(packet));
                }
            }
            PacketType::ConnectError => {
                let data = packet.value().ok().flatten().unwrap_or(Value::Null);
                match self.version {
                    ProtocolVersion::V5 => {
                        let Some(i) = i else { return };
                        let nsp = self.namespaces[i].nsp.clone();
                        // "case CONNECT_ERROR: this.destroy(); … emitReserved("connect_error",
                        // err)". (Should the namespace have been connected, the application
                        // also hears that it is not any more, as after a DISCONNECT.)
                        self.leave(i, DisconnectReason::IoServerDisconnect, false);
                        self.events.push_back(Event::ConnectError { nsp, data });
                        if self.namespaces.is_empty() {
                            self.close_transport();
                        }
                    }
                    ProtocolVersion::V4 => {
                        // "var rootNamespaceError = packet.type === parser.ERROR &&
                        // packet.nsp === '/'": an error on `/` reaches every socket.
                        for ns in &self.namespaces {
                            if path == "/" || ns.nsp == path {
                                self.events.push_back(Event::ConnectError {
                                    nsp: ns.nsp.clone(),
                                    data: data.clone(),
                                });
                            }
                        }
                    }
                }
            }
        }
    }
}
