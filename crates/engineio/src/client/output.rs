//! What a client session asks the I/O layer to do: HTTP [`Request`]s to make and
//! [`WsAction`]s for its WebSocket.

use alloc::string::String;
use alloc::vec::Vec;

use crate::http::Method;
use crate::transport::WsMessage;

/// Which request a [`Request`] is (pass it back to
/// [`crate::client::Session::handle_response`]).
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
pub struct Request {
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

impl Request {
    /// A GET (handshake or poll) with this query and no body.
    pub(crate) fn get(kind: RequestKind, query: String) -> Request {
        Request {
            kind,
            method: Method::Get,
            query,
            content_type: None,
            body: Vec::new(),
        }
    }
}

/// What to do with the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsAction {
    /// Open a WebSocket to the engine.io path with this query; then call
    /// [`crate::client::Session::handle_ws_connected`] (or [`crate::client::Session::handle_ws_closed`] if it
    /// fails).
    Connect {
        /// The query string, without `?`.
        query: String,
    },
    /// Send this message.
    Send(WsMessage),
    /// Close the WebSocket.
    Close,
}
