//! permessage-deflate (RFC 7692).
//!
//! [`negotiate`] parses and produces the `Sec-WebSocket-Extensions` offers and responses
//! (always built). With the `deflate` feature (on by default), [`PerMessageDeflate`] is the
//! [`Extension`](crate::Extension) to install once negotiation agreed. The handshakes'
//! `into_connection` (e.g. [`ServerHandshake::into_connection`]) do all of it; by hand, with
//! [`Connection::set_extension`](crate::Connection::set_extension):
//!
//! [`ServerHandshake::into_connection`]: crate::handshake::ServerHandshake::into_connection
//!
//! ```
//! # #[cfg(feature = "deflate")] {
//! use pushwire_ws::deflate::{negotiate, DeflateConfig, PerMessageDeflate};
//! use pushwire_ws::{Config, Connection, Role};
//!
//! // Server: the offers come from `ClientOffer::extensions()`.
//! let offers = ["permessage-deflate; client_max_window_bits"];
//! let agreed = negotiate::server_accept(&offers, &negotiate::ServerPolicy::default()).unwrap();
//! let response_header = agreed.to_header(); // pass to `ClientOffer::accept`
//! assert_eq!(response_header, "permessage-deflate");
//! let mut conn = Connection::server(Config::default());
//! conn.set_extension(Box::new(PerMessageDeflate::new(Role::Server, agreed,
//!     DeflateConfig::default())));
//! # }
//! ```

mod config;
pub mod negotiate;

#[cfg(feature = "deflate")]
mod codec;
#[cfg(feature = "deflate")]
mod engine;
#[cfg(feature = "deflate")]
pub use codec::PerMessageDeflate;
pub use config::{DeflateConfig, Engine};
