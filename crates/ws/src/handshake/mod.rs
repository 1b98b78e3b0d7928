//! The opening handshake (RFC 6455 §4), both roles, as data in and bytes out.
//!
//! Server role: feed the bytes read from the socket to a [`ServerHandshake`] until it returns a
//! [`ClientOffer`] (or an error whose [`RequestError::response`] is the 400/426 reply to
//! write). Inspect the offer (host, origin, path, subprotocols, extensions), then write
//! [`ClientOffer::accept`] (the 101 response) or [`rejection_response`]`(403)`. Hand
//! [`ServerHandshake::take_remaining`] (frames the client sent right after its request) to
//! [`Connection::feed_bytes`].
//!
//! Client role: [`ClientHandshake::new`] builds the request with a fresh random key; write
//! [`ClientHandshake::request`], feed the response bytes until an [`Accepted`] comes out, then
//! hand [`ClientHandshake::take_remaining`] to the client [`Connection`].
//!
//! The HTTP/1.1 head parser ([`RequestParser`], [`ResponseParser`]) is incremental and bounded
//! ([`HandshakeLimits`]): each fed byte is scanned once (a scan offset is kept, nothing is
//! re-scanned from the start), and line length, header count and head size are checked as the
//! bytes arrive.
//!
//! [`Connection`]: crate::Connection
//! [`Connection::feed_bytes`]: crate::Connection::feed_bytes

mod client;
mod http;
mod key;
mod server;

pub use crate::config::HandshakeLimits;
pub use crate::error::{AcceptError, ClientRequestError, ParseError, RequestError, ResponseError};
pub use client::{Accepted, ClientHandshake, ClientRequest};
pub use http::{Headers, Request, RequestParser, Response, ResponseParser};
pub use key::{accept_key, WEBSOCKET_GUID};
pub use server::{rejection_response, ClientOffer, ResponseFields, ServerHandshake};

#[cfg(test)]
mod tests;
