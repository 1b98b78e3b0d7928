//! pushwire-engineio: sans-IO Engine.io protocol v3 (the protocol of socket.io 2.x and
//! engine.io-client 3.x), and the wire forms of protocol v4 (socket.io 3+) in [`v4`].
//!
//! This crate contains no networking code and takes no time from the OS: bytes in, packets
//! out, bytes to send. Every byte-level rule follows the spec
//! (`engineio-protocol-v3.md`, revision 3) as the reference implementation,
//! engine.io-parser 2.2.1 with the engine.io 3.6 server, applies it; where the reference is
//! quirky, the item documentation says what we do. `no_std` + `alloc` (the default `std`
//! feature only adds `std::error::Error` impls), no `unsafe`.
//!
//! # Wire forms
//!
//! | what | encode | decode |
//! |---|---|---|
//! | one packet, string form `4hello` / base64 form `b4AQID` | [`Packet::encode_str`] | [`Packet::decode_str`] |
//! | one packet, binary form `[4, 1, 2, 3]` | [`Packet::encode_binary`] | [`Packet::decode_binary`] |
//! | one packet as a WebSocket message | [`Packet::to_ws_message`] | [`Packet::from_ws_message`] |
//! | text payload `6:4hello2:4€` | [`encode_text_payload`] | [`decode_text_payload`], [`PayloadDecoder`] |
//! | XHR2 binary payload | [`encode_binary_payload`] | [`decode_binary_payload`], [`PayloadDecoder`] |
//! | either, chosen like engine.io | [`encode_payload`] | — |
//! | JSONP response `___eio[j]("…");` | [`encode_jsonp_response`] | [`decode_jsonp_response`] |
//! | JSONP request `d=…` | [`encode_jsonp_request`] | [`decode_jsonp_request`] |
//! | handshake JSON in the open packet | [`OpenPacket::to_packet`] | [`OpenPacket::from_packet`] |
//!
//! # The house
//!
//! - Wire building blocks, re-exported here: `packet_type.rs` ([`PacketType`]), `packet.rs`
//!   ([`Packet`] and its three forms),
//!   `payload.rs` ([`PayloadDecoder`] and the payload functions), `jsonp.rs`, `open.rs`
//!   (the handshake data, [`OpenPacket`]), `utf16.rs` ([`utf16_len`]), `config.rs`
//!   ([`Limits`]), `error.rs` (every error), `time.rs` ([`Instant`]).
//! - Vocabulary both roles share, in leaf modules: [`http`] (requests and responses as the
//!   sessions see them, engine.io's error replies), `transport.rs` ([`TransportKind`],
//!   [`WsMessage`]).
//! - The two roles: [`server`] and [`client`], each with its own `Config`, `Event`,
//!   `CloseReason`, WebSocket `WsAction` and `Session`.
//!
//! - Revision 4 (socket.io 3+): [`v4`], its wire forms beside revision 3's (its own
//!   decoders: a decoder taking both forms misreads one as the other) and its handshake
//!   ([`v4::Handshake`], with `maxPayload`); `version.rs` ([`ProtocolVersion`]);
//!   `revision.rs`, where a session picks the wire functions of its revision.
//!
//! The crate-root wire functions speak revision 3. The sessions speak revision 3 by default
//! and revision 4 when asked: [`server::Config::allow_eio4`] (the `EIO` of each handshake
//! then picks the session's revision, as engine.io 6 with `allowEIO3` does) and
//! [`client::Config::protocol`]. `config`, `error`, `time`, `http`, `transport` and the
//! [`Packet`] value do not depend on the revision.
//!
//! # Decoding a polling body: the call order
//!
//! 1. Pick the format from the request: `Content-Type: application/octet-stream` is
//!    [`PayloadFormat::Binary`], anything else [`PayloadFormat::Text`]; a JSONP POST
//!    (`j` in the query) first goes through [`decode_jsonp_request`] and is then a text
//!    payload.
//! 2. Create a [`PayloadDecoder`] with your [`Limits`] (or [`Limits::DEFAULT`]).
//! 3. [`PayloadDecoder::feed`] each chunk of the body, then call
//!    [`PayloadDecoder::poll_packet`] until `Ok(None)`. A feed that would take the body
//!    past [`Limits::max_payload_bytes`] is refused ([`FeedError::BufferFull`]); the
//!    packets accepted before it still come out, then [`PayloadError::PayloadTooLarge`].
//! 4. At the end of the body, [`PayloadDecoder::feed_eof`] and poll until `Ok(None)`.
//!
//! A malformed payload yields every packet before the bad one, then one [`PayloadError`]
//! (sticky). engine.io answers such input by closing the session with a parse error; the
//! packets before it were already delivered there too. With the whole body in hand,
//! [`decode_text_payload`] / [`decode_binary_payload`] do steps 2–4 as an iterator.
//!
//! ```
//! use pushwire_engineio::{Limits, Packet, PayloadDecoder, PayloadFormat};
//!
//! let mut dec = PayloadDecoder::new(PayloadFormat::Text, Limits::DEFAULT);
//! dec.feed("6:4hello3:4".as_bytes())?;
//! assert_eq!(dec.poll_packet(), Ok(Some(Packet::message("hello"))));
//! assert_eq!(dec.poll_packet(), Ok(None)); // "3:4" is not complete yet
//! dec.feed("😀".as_bytes())?; // 2 UTF-16 units, 4 bytes
//! dec.feed_eof();
//! assert_eq!(dec.poll_packet(), Ok(Some(Packet::message("😀"))));
//! assert_eq!(dec.poll_packet(), Ok(None));
//! assert!(dec.is_finished());
//! # Ok::<(), pushwire_engineio::FeedError>(())
//! ```
//!
//! # Encoding
//!
//! Build [`Packet`]s and encode them into your buffer; encoding cannot fail. For a polling
//! response, [`encode_payload`] picks text or binary exactly like engine.io 3.x (binary only
//! when the client supports it and a packet is binary).
//!
//! # Sessions
//!
//! [`server::Server`] routes HTTP requests to [`server::Session`]s (handshake, long-polling
//! GETs that are held until data arrives, POSTs, JSONP, the websocket transport and the
//! upgrade probe, heartbeats, close, engine.io's 400 JSON errors); [`client::Session`] is
//! the mirror image, producing the requests and WebSocket actions to perform. Both take
//! time as an argument — `now`, an [`Instant`] from an origin you pick — and give their
//! next deadline from `poll_timeout()`; neither touches the network. WebSocket framing is
//! left to the I/O layer (for example pushwire-ws). After every input, drain the outputs in
//! this order: HTTP responses / requests, WebSocket actions, events, then the next timeout.
//!
//! ```
//! use pushwire_engineio::http::{HttpRequest, Method};
//! use pushwire_engineio::server::{Config, Event, Outcome, Server};
//! use pushwire_engineio::{Instant, PacketData};
//!
//! let mut server = Server::new(Config::default(), || String::from("abc"));
//! let get = |query| HttpRequest {
//!     method: Method::Get, query, origin: None, content_type: None,
//!     websocket_upgrade: false, body: b"",
//! };
//! let t0 = Instant::ZERO;
//! let Outcome::Respond(open) = server.handle_request(t0, &get("EIO=3&transport=polling")) else {
//!     panic!()
//! };
//! assert!(open.body.starts_with(br#"79:0{"sid":"abc","upgrades":["websocket"]"#));
//! // The next poll is held until there is something to send.
//! let held = server.handle_request(t0, &get("EIO=3&transport=polling&sid=abc"));
//! assert_eq!(held, Outcome::Hold { sid: "abc".into() });
//! server.send("abc", PacketData::Text("hey".into())).unwrap();
//! assert_eq!(server.poll_http_response("abc").unwrap().body, b"4:4hey");
//! assert_eq!(server.poll_event(), Some(("abc".into(), Event::Opened)));
//! assert_eq!(server.poll_event(), None);
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod body;
pub mod client;
mod config;
mod error;
pub mod http;
mod jsonp;
mod open;
mod packet;
mod packet_type;
mod payload;
mod revision;
pub mod server;
mod sink;
mod time;
mod transport;
mod utf16;
pub mod v4;
mod version;

pub use config::Limits;
pub use error::{FeedError, JsonpError, OpenPacketError, PacketError, PayloadError, SendError};
pub use jsonp::{
    decode_jsonp_request, decode_jsonp_response, encode_jsonp_request, encode_jsonp_response,
};
pub use open::OpenPacket;
pub use packet::{Packet, PacketData};
pub use packet_type::PacketType;
pub use payload::{
    decode_binary_payload, decode_text_payload, encode_binary_payload, encode_payload,
    encode_text_payload, EncodedPayload, PayloadDecoder, PayloadFormat, PayloadIter,
};
pub use time::Instant;
pub use transport::{TransportKind, WsMessage};
pub use utf16::utf16_len;
pub use version::ProtocolVersion;

/// The protocol revision this crate speaks (the `EIO` query parameter).
pub const PROTOCOL: u8 = 3;
