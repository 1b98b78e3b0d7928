//! What the two echo examples share: a websocket on pushwire-ws over a blocking stream.

use std::io::Write;
use std::net::TcpStream;

use pushwire_ws::Connection;

/// One websocket: its pushwire-ws connection and the stream its output is written to.
pub(crate) struct Ws {
    /// The connection (handshake done).
    pub(crate) conn: Connection,
    /// Where its output goes.
    pub(crate) stream: TcpStream,
}

impl Ws {
    /// Writes everything the connection has queued.
    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        while let Some(chunk) = self.conn.poll_transmit() {
            self.stream.write_all(&chunk)?;
        }
        self.stream.flush()
    }
}
