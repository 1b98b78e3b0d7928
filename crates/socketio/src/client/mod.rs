//! The client role: socket.io-client's `Manager` and `Socket`s, sans-IO. One
//! [`Connection`] holds several namespaces over ONE Engine.io connection, answers the
//! server's ack requests, buffers emits while disconnected (bounded), and reconnects with
//! backo2's exponential backoff and jitter, joining every namespace again. It takes `now` in
//! every call that needs time and draws its jitter from an injected [`Rng`]; the I/O layer
//! owns the Engine.io client (pushwire-engineio's `client::Session`, or any) and does the
//! networking.
//!
//! # The call order
//!
//! 1. [`Connection::new`] with a [`Config`], the [`ProtocolVersion`](crate::ProtocolVersion)
//!    (from the Engine.io revision you speak) and a seed; [`Connection::connect`] each
//!    namespace to join (with its auth). Nothing needs the transport to be open yet.
//! 2. After every call, drain the pollers in this order: [`Connection::poll_transmit`]
//!    (Engine.io messages to send), [`Connection::poll_transport`] (open or close the
//!    Engine.io connection), [`Connection::poll_event`] (for the application); then sleep
//!    until [`Connection::poll_timeout`] and call [`Connection::handle_timeout`].
//! 3. Report what the Engine.io connection does: [`Connection::handle_open`] (with its
//!    sid), [`Connection::handle_open_error`], [`Connection::handle_message`] for each
//!    `message` packet's data, [`Connection::handle_closed`] when it is lost.
//! 4. The application: [`Connection::emit`], [`Connection::emit_with_ack`],
//!    [`Connection::ack`] (answer an [`Event::Event`] whose packet has an id),
//!    [`Connection::disconnect`], [`Connection::close`].
//!
//! ```
//! use pushwire_socketio::client::{Config, Connection, Event, TransportAction};
//! use pushwire_socketio::{PacketData, ProtocolVersion, Value};
//! use pushwire_engineio::Instant;
//!
//! let t = Instant::ZERO;
//! let mut c = Connection::new(Config::DEFAULT, ProtocolVersion::V5, 7);
//! c.connect(t, "/", None)?;
//! assert_eq!(c.poll_transport(), Some(TransportAction::Open));
//! // … the I/O layer opens an Engine.io connection …
//! c.handle_open(t, "lv_VI97HAXpY6yYWAAAC");
//! assert_eq!(c.poll_transmit(), Some(PacketData::Text("0".into())));
//! c.handle_message(t, PacketData::Text(r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#.into()));
//! assert_eq!(c.poll_event(), Some(Event::Connected {
//!     nsp: "/".into(),
//!     sid: "wZX3oN0bSVIhsaknAAAI".into(),
//! }));
//! let id = c.emit_with_ack(t, "/", "hello", &[Value::from(1u64)], None)?;
//! assert_eq!(c.poll_transmit(), Some(PacketData::Text(r#"20["hello",1]"#.into())));
//! c.handle_message(t, PacketData::Text(r#"30["ok"]"#.into()));
//! let Some(Event::Ack(p)) = c.poll_event() else { panic!() };
//! assert_eq!((p.id(), p.args()?), (Some(id), vec![Value::from("ok")]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Files: `config.rs` ([`Config`]), `backoff.rs` ([`Rng`], [`SplitMix64`],
//! [`backoff_delay`]), `event.rs` ([`Event`], [`DisconnectReason`], [`TransportAction`]),
//! `error.rs` ([`EmitError`], [`ConnectError`]) and `connection.rs` ([`Connection`]).

mod backoff;
mod config;
mod connection;
mod error;
mod event;

pub use backoff::{backoff_delay, Rng, SplitMix64};
pub use config::Config;
pub use connection::Connection;
pub use error::{ConnectError, EmitError};
pub use event::{DisconnectReason, Event, TransportAction};
