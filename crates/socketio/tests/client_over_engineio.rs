//! The client `Connection` glued to pushwire-engineio's client `Session` (websocket only),
//! as an I/O layer would glue them, against a scripted server: the WebSocket frames are the
//! ones socket.io 2.x (Engine.io 3) and 4.x (Engine.io 4) servers send, and the frames the
//! client writes are checked byte for byte, through a reconnection.

use core::time::Duration;

use bytes::Bytes;
use pushwire_engineio::client::{self as eio, Session, WsAction};
use pushwire_engineio::{Instant, ProtocolVersion as EioVersion, WsMessage};
use pushwire_socketio::client::{Config, Connection, DisconnectReason, Event, TransportAction};
use pushwire_socketio::{Map, ProtocolVersion, Value};

/// The I/O layer: one Socket.IO connection, the current Engine.io session, and the frames
/// written to the (scripted) WebSocket.
struct Glue {
    sio: Connection,
    eio: Option<Session>,
    eio_version: EioVersion,
    /// Frames the client wrote.
    wire: Vec<WsMessage>,
    /// WebSocket connections opened.
    opened: usize,
    events: Vec<Event>,
}

impl Glue {
    fn new(version: ProtocolVersion) -> Self {
        Glue {
            sio: Connection::new(Config::DEFAULT, version, 1),
            eio: None,
            eio_version: version.engineio(),
            wire: Vec::new(),
            opened: 0,
            events: Vec::new(),
        }
    }

    /// Drains every output of both layers until nothing moves.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut moved = false;
            while let Some(m) = self.sio.poll_transmit() {
                moved = true;
                self.eio.as_mut().expect("open").send(m).unwrap();
            }
            while let Some(a) = self.sio.poll_transport() {
                moved = true;
                match a {
                    TransportAction::Open => {
                        let config = eio::Config::DEFAULT
                            .with_protocol(self.eio_version)
                            .with_websocket_only(true);
                        self.eio = Some(Session::new(config, now));
                    }
                    TransportAction::Close => {
                        // Asked by the Socket.IO layer: not reported back to it.
                        if let Some(mut s) = self.eio.take() {
                            s.close();
                            while let Some(WsAction::Send(f)) = s.poll_ws_action() {
                                self.wire.push(f);
                            }
                        }
                    }
                    _ => {}
                }
            }
            let Some(eio) = self.eio.as_mut() else {
                if !moved {
                    break;
                }
                continue;
            };
            while let Some(a) = eio.poll_ws_action() {
                moved = true;
                match a {
                    WsAction::Connect { .. } => {
                        self.opened += 1;
                        eio.handle_ws_connected(now);
                    }
                    WsAction::Send(f) => self.wire.push(f),
                    WsAction::Close => {}
                }
            }
            while let Some(e) = eio.poll_event() {
                moved = true;
                match e {
                    eio::Event::Open(open) => self.sio.handle_open(now, &open.sid),
                    eio::Event::Message(d) => self.sio.handle_message(now, d),
                    eio::Event::Closed(_) => {
                        self.eio = None;
                        self.sio.handle_closed(now);
                        break;
                    }
                    _ => {}
                }
            }
            while let Some(e) = self.sio.poll_event() {
                self.events.push(e);
            }
            if !moved {
                break;
            }
        }
    }

    /// A frame from the server.
    fn server(&mut self, now: Instant, frame: WsMessage) {
        self.eio
            .as_mut()
            .expect("open")
            .handle_ws_message(now, frame);
        self.pump(now);
    }

    fn server_text(&mut self, now: Instant, t: &str) {
        self.server(now, WsMessage::Text(t.into()));
    }

    /// The server drops the WebSocket.
    fn server_drops(&mut self, now: Instant) {
        self.eio.as_mut().expect("open").handle_ws_closed(now);
        self.pump(now);
    }

    fn written(&mut self) -> Vec<WsMessage> {
        core::mem::take(&mut self.wire)
    }

    fn events(&mut self) -> Vec<Event> {
        core::mem::take(&mut self.events)
    }
}

fn t(x: &str) -> WsMessage {
    WsMessage::Text(x.into())
}

fn at(ms: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(ms)
}

fn handshake(version: ProtocolVersion, sid: &str) -> String {
    match version {
        // v4 spec's sample session (its open packet, for a websocket-only session).
        ProtocolVersion::V4 => {
            format!(r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":25000,"pingTimeout":5000}}"#)
        }
        ProtocolVersion::V5 => format!(
            r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#
        ),
    }
}

fn session(version: ProtocolVersion) {
    let v5 = version == ProtocolVersion::V5;
    let mut g = Glue::new(version);
    g.sio.connect(at(0), "/", None).unwrap();
    let auth: Map = [("token", Value::from("1"))].into_iter().collect();
    g.sio
        .connect(at(0), "/admin", Some(Value::Object(auth)))
        .unwrap();
    g.pump(at(0));
    assert_eq!(g.opened, 1);
    g.server_text(at(1), &handshake(version, "lv_VI97HAXpY6yYWAAAC"));
    // The CONNECTs, inside Engine.io `message` packets ("prefixed by the character "4"").
    let join = if v5 {
        vec![t("40"), t(r#"40/admin,{"token":"1"}"#)]
    } else {
        vec![t("40/admin?token=1,")]
    };
    assert_eq!(g.written(), join);
    if v5 {
        g.server_text(at(2), r#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#);
        g.server_text(at(2), r#"40/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#);
    } else {
        g.server_text(at(2), "40");
        g.server_text(at(2), "40/admin,");
    }
    let (root, admin) = if v5 {
        ("wZX3oN0bSVIhsaknAAAI", "-G5j-67EZFp-q59rADQM")
    } else {
        ("lv_VI97HAXpY6yYWAAAC", "/admin#lv_VI97HAXpY6yYWAAAC")
    };
    assert_eq!(
        g.events(),
        [
            Event::Connected {
                nsp: "/".into(),
                sid: root.into()
            },
            Event::Connected {
                nsp: "/admin".into(),
                sid: admin.into()
            },
        ]
    );
    // Sample session: "> 42/admin,1["tellme"]" … "< 461-/admin,1[{"_placeholder":…}]",
    // "< <binary>".
    g.sio.emit(at(3), "/admin", "warmup", &[]).unwrap();
    assert_eq!(
        g.sio.emit_with_ack(at(3), "/admin", "tellme", &[], None),
        Ok(0)
    );
    assert_eq!(
        g.sio.emit_with_ack(at(3), "/admin", "tellme", &[], None),
        Ok(1)
    );
    g.pump(at(3));
    assert_eq!(
        g.written(),
        [
            t(r#"42/admin,["warmup"]"#),
            t(r#"42/admin,0["tellme"]"#),
            t(r#"42/admin,1["tellme"]"#)
        ]
    );
    g.server_text(at(4), r#"461-/admin,1[{"_placeholder":true,"num":0}]"#);
    // Engine.io 3 frames a binary message with its packet type byte; 4 does not.
    let attachment: &[u8] = if v5 { &[1, 2, 3] } else { &[4, 1, 2, 3] };
    g.server(at(4), WsMessage::Binary(Bytes::copy_from_slice(attachment)));
    let ev = g.events();
    let [Event::Ack(p)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(p.id(), Some(1));
    assert_eq!(
        p.args().unwrap(),
        [Value::Binary(Bytes::from_static(&[1, 2, 3]))]
    );
    // The server asks for an ack; the client answers with binary.
    g.server_text(at(5), r#"42/admin,7["q"]"#);
    let ev = g.events();
    assert!(
        matches!(&ev[..], [Event::Event(p)] if p.id() == Some(7)),
        "{ev:?}"
    );
    g.sio
        .ack("/admin", 7, &[Value::Binary(Bytes::from_static(&[9]))])
        .unwrap();
    g.pump(at(5));
    let bin: &[u8] = if v5 { &[9] } else { &[4, 9] };
    assert_eq!(
        g.written(),
        [
            t(r#"461-/admin,7[{"_placeholder":true,"num":0}]"#),
            WsMessage::Binary(Bytes::copy_from_slice(bin))
        ]
    );
    // The WebSocket drops; an emit waits; the reconnection joins both namespaces again.
    g.server_drops(at(10));
    g.sio.emit(at(10), "/", "while-away", &[]).unwrap();
    let ev = g.events();
    assert_eq!(
        ev[..2],
        [
            Event::Disconnected {
                nsp: "/".into(),
                reason: DisconnectReason::TransportClose
            },
            Event::Disconnected {
                nsp: "/admin".into(),
                reason: DisconnectReason::TransportClose
            },
        ]
    );
    assert!(
        matches!(ev[2], Event::AckDropped { id: 0, .. }),
        "{:?}",
        ev[2]
    );
    let Event::ReconnectScheduled { attempt: 1, delay } = ev[3] else {
        panic!("{:?}", ev[3])
    };
    // backo2 with factor 0.5 keeps the first delay within [500, 1500].
    assert!((500..=1500).contains(&delay.as_millis()), "{delay:?}");
    let due = at(10) + delay;
    assert_eq!(g.sio.poll_timeout(), Some(due));
    g.sio.handle_timeout(due);
    g.pump(due);
    assert_eq!(g.opened, 2);
    g.server_text(due, &handshake(version, "secondEioSid"));
    assert_eq!(g.written(), join);
    if v5 {
        g.server_text(due, r#"40{"sid":"third"}"#);
    } else {
        g.server_text(due, "40");
    }
    assert_eq!(g.written(), [t(r#"42["while-away"]"#)]);
    if v5 {
        g.server_text(due, r#"40/admin,{"sid":"fourth"}"#);
    } else {
        g.server_text(due, "40/admin,");
    }
    assert_eq!(
        g.events()
            .iter()
            .filter(|e| matches!(e, Event::Connected { .. }))
            .count(),
        2
    );
    // Leaving the last namespaces closes the Engine.io session (a `1` close packet).
    g.sio.close();
    g.pump(due);
    let w = g.written();
    assert_eq!(w[..2], [t("41"), t("41/admin,")]);
    assert_eq!(w[2..], [t("1")]);
    assert!(g.eio.is_none());
}

#[test]
fn v4_over_engineio_3_websocket() {
    session(ProtocolVersion::V4);
}

#[test]
fn v5_over_engineio_4_websocket() {
    session(ProtocolVersion::V5);
}
