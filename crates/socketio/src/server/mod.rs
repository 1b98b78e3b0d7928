//! The server role: [`Connection`] is the Socket.IO side of one Engine.io session (its
//! namespaces, sockets, acks and the connect rules of revisions 4 and 5); [`Rooms`] and the
//! [`Adapter`] trait hold room membership and compute broadcast targets per namespace.
//!
//! Files: `config.rs` ([`Config`]), `event.rs` ([`Event`], [`Auth`], [`DisconnectReason`],
//! [`CloseReason`]), `error.rs` ([`SendError`]), `connection.rs` ([`Connection`]),
//! `rooms.rs` ([`Rooms`], [`Adapter`], [`BroadcastOptions`]).
//!
//! # Putting it together
//!
//! The I/O layer runs a pushwire-engineio server. For each Engine.io session that opens it
//! creates a [`Connection`]; it feeds it that session's messages, sends what
//! [`Connection::poll_transmit`] returns to the session, and closes the session on
//! [`Event::Close`]. The application answers [`Event::ConnectRequest`] and, on
//! [`Event::Connected`], adds the socket to the namespace's [`Rooms`]
//! ([`Rooms::add_socket`]); on [`Event::Disconnected`] it removes it
//! ([`Adapter::del_all`]). A broadcast encodes the packet once ([`crate::Packet::to_messages`])
//! and calls [`Connection::send_encoded`] for each socket [`Adapter::broadcast`] names.

mod config;
mod connection;
mod error;
mod event;
mod rooms;

pub use config::Config;
pub use connection::{Connection, INVALID_NAMESPACE};
pub use error::SendError;
pub use event::{Auth, CloseReason, DisconnectReason, Event};
pub use rooms::{Adapter, BroadcastFlags, BroadcastOptions, JoinError, Rooms};
