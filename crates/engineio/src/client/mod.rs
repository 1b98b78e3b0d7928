//! The client role: one Engine.io v3 client [`Session`], as engine.io-client 3.x behaves —
//! the handshake, long-polling with one GET and one POST in flight at most, the websocket
//! probe and upgrade, heartbeats (the v3 client pings, the server pongs) and close — without
//! I/O and without a clock. It produces the HTTP [`Request`]s and [`WsAction`]s for the I/O
//! layer to perform.
//!
//! Files: `config.rs` ([`Config`]), `event.rs` ([`Event`], [`CloseReason`]), `output.rs`
//! ([`Request`], [`RequestKind`], [`WsAction`]) and `session.rs` ([`Session`]).

mod config;
mod event;
mod output;
mod session;

pub use config::Config;
pub use event::{CloseReason, Event};
pub use output::{Request, RequestKind, WsAction};
pub use session::Session;

/// What [`Session::send`] returns on refusal (also at the crate root).
pub use crate::error::SendError;
