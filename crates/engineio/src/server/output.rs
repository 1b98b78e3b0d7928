//! What a server session asks the I/O layer to do with its WebSocket: [`WsAction`].

use crate::transport::WsMessage;

/// What to do with a WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsAction {
    /// Send this message.
    Send(WsMessage),
    /// Close the WebSocket (after the messages before this one).
    Close,
}
