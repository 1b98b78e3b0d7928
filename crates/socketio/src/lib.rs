//! pushwire-socketio: sans-IO Socket.IO, protocol revision 4 (socket.io 1.x/2.x, over
//! Engine.io revision 3) and revision 5 (socket.io 3/4, over Engine.io revision 4).
//!
//! This crate contains no networking code and takes no time from the OS. It sits on
//! pushwire-engineio: its input is the Engine.io messages of a connection (text or binary
//! [`PacketData`]), its output the messages to send. Every rule follows the specs
//! (`socketio-protocol-v4.md`, `socketio-protocol-v5.md`) as socket.io-parser 3.4 (revision
//! 4) and 4.2 (revision 5) apply them; where the reference is laxer than the spec or than
//! sense, the item documentation says what we do. `no_std` + `alloc`, no `unsafe`.
//!
//! # The house
//!
//! - Wire: `packet_type.rs` ([`PacketType`]), `packet.rs` ([`Packet`]: decoded or built,
//!   encoded), `decoder.rs` ([`Decoder`]: messages in, packets out, attachments gathered),
//!   `shape.rs` (the one-pass JSON check behind decoding).
//! - Data: `value.rs` ([`Value`], [`Map`]: JSON that can hold binary), `de.rs` / `ser.rs`
//!   (serde types to and from [`Value`]), `json.rs` (JSON text as `JSON.stringify` writes
//!   it).
//! - `version.rs` ([`ProtocolVersion`]), `config.rs` ([`Limits`]), `error.rs` (every error:
//!   [`DecodeError`] is the peer's fault, [`BuildError`] the caller's).
//! - `server/`: the server role ([`server::Connection`] per Engine.io session,
//!   [`server::Rooms`] and the [`server::Adapter`] trait for broadcasts).
//! - `cluster/`: the wire of socket.io's Redis adapters ([`cluster::BroadcastMessage`],
//!   [`cluster::RequestMessage`], [`cluster::ResponseMessage`], [`cluster::msgpack`]), so a
//!   server can be one node of a node socket.io fleet.
//! - `client/`: the client role ([`client::Connection`]: namespaces over one Engine.io
//!   connection, acks both ways, reconnection).
//!
//! # Decoding: the call order
//!
//! 1. Create one [`Decoder`] per connection with the connection's [`ProtocolVersion`] (from
//!    its Engine.io revision, [`ProtocolVersion::from_engineio`]) and your [`Limits`].
//! 2. For each Engine.io `message` packet's data, in order, call [`Decoder::push`]; it
//!    returns `Ok(Some(packet))` when a packet is complete.
//! 3. Read the packet: [`Packet::kind`], [`Packet::nsp`], [`Packet::id`],
//!    [`Packet::event_name`]; its data when you want it, as values ([`Packet::args`],
//!    [`Packet::value`]) or any serde type ([`Packet::deserialize`]). Decoding checked the
//!    JSON but built nothing.
//! 4. On `Err`, close the connection (socket.io does); the error stays.
//!
//! # Encoding
//!
//! Build a packet ([`Packet::event`], [`Packet::ack`], [`Packet::connect`],
//! [`Packet::connect_error`], [`Packet::disconnect`], or [`Packet::new`]); it is checked as
//! the decoder would check it, so building is where a bad packet is refused and encoding
//! cannot fail. Send [`Packet::to_messages`] as Engine.io messages, in order.
//!
//! ```
//! use bytes::Bytes;
//! use pushwire_socketio::{Packet, ProtocolVersion, Value};
//!
//! let p = Packet::event(ProtocolVersion::V5, "/admin", "baz", &[
//!     Value::Binary(Bytes::from_static(&[1, 2])),
//!     Value::Binary(Bytes::from_static(&[3, 4])),
//! ])?;
//! // The v5 spec's "with multiple attachments" example.
//! assert_eq!(
//!     p.to_text(),
//!     r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
//! );
//! assert_eq!(p.attachments().len(), 2);
//! # Ok::<(), pushwire_socketio::BuildError>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod client;
pub mod cluster;

mod config;
mod de;
mod decoder;
mod error;
mod json;
mod packet;
mod packet_type;
mod scan;
mod ser;
pub mod server;
mod shape;
mod value;
mod version;

pub use config::Limits;
pub use de::ValueDeError;
pub use decoder::Decoder;
pub use error::{BuildError, DecodeError};
pub use packet::{Packet, RESERVED_EVENTS};
pub use packet_type::PacketType;
pub use value::{Map, Value};
pub use version::ProtocolVersion;

/// The Engine.io message data this crate reads and writes (re-exported from
/// pushwire-engineio).
pub use pushwire_engineio::PacketData;

/// Time as the caller supplies it (re-exported from pushwire-engineio): the sessions'
/// `now` arguments and deadlines.
pub use pushwire_engineio::Instant;
