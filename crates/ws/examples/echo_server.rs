//! Echo server on std::net, one thread per connection: the target for Autobahn|Testsuite's
//! `fuzzingclient` (see ../shared/AUTOBAHN.md).
//!
//! ```text
//! cargo run --release -p pushwire-ws --example echo_server -- 9001
//! ```
//!
//! It shows the whole sans-IO call order: handshake, then feed → poll_event → send →
//! poll_transmit → should_close_transport. It accepts permessage-deflate (RFC 7692) when
//! offered; pass `--no-deflate` after the port to decline it.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use bytes::Buf;
use pushwire_ws::deflate::DeflateConfig;
use pushwire_ws::handshake::{HandshakeLimits, ServerHandshake};
use pushwire_ws::{Config, Connection, Event, Limits};

fn main() -> io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(9001);
    let deflate = !std::env::args().any(|a| a == "--no-deflate");
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    eprintln!("echo_server listening on 127.0.0.1:{port} (permessage-deflate: {deflate})");
    for stream in listener.incoming() {
        let stream = stream?;
        thread::spawn(move || {
            if let Err(e) = serve(stream, deflate) {
                eprintln!("connection error: {e}");
            }
        });
    }
    Ok(())
}

/// Writes everything the connection queued, with vectored writes.
fn flush(conn: &mut Connection, stream: &mut TcpStream) -> io::Result<()> {
    let mut out = conn.take_transmit();
    while out.has_remaining() {
        let mut slices = [IoSlice::new(&[]); 16];
        let n = out.chunks_vectored(&mut slices);
        match stream.write_vectored(&slices[..n])? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            written => out.advance(written),
        }
    }
    Ok(())
}

fn serve(mut stream: TcpStream, deflate: bool) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 64 * 1024];

    // Opening handshake.
    let mut hs = ServerHandshake::new(HandshakeLimits::default());
    let offer = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        match hs.feed(&buf[..n]) {
            Ok(None) => continue,
            Ok(Some(offer)) => break offer,
            Err(e) => {
                stream.write_all(&e.response())?;
                return Ok(());
            }
        }
    };
    // Autobahn 9.* sends 16 MiB messages and 4 MiB messages in 64-byte fragments.
    let config = Config::DEFAULT.with_limits(Limits::DEFAULT.with_max_fragments(1 << 20));
    // permessage-deflate when offered (the first acceptable offer, in the client's order of
    // preference), installed in the connection along with the bytes after the request.
    let (response, mut conn) = hs
        .into_connection(&offer, None, config, deflate.then(DeflateConfig::default))
        .map_err(|e| io::Error::other(e.to_string()))?;
    stream.write_all(&response)?;

    loop {
        loop {
            match conn.poll_event() {
                Ok(Some(Event::Text(t))) => {
                    let _ = conn.send_text(t);
                }
                Ok(Some(Event::Binary(b))) => {
                    let _ = conn.send_binary(b);
                }
                // Answer each ping before reading the next: the connection keeps only the
                // newest pong that was not handed out yet (RFC 6455 §5.5.3 allows that).
                Ok(Some(Event::Ping(_))) => flush(&mut conn, &mut stream)?,
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => break,
            }
        }
        flush(&mut conn, &mut stream)?;
        if conn.should_close_transport() {
            // Give the peer a moment to read our Close before the FIN.
            let _ = stream.shutdown(Shutdown::Write);
            stream.set_read_timeout(Some(Duration::from_secs(1)))?;
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            return Ok(());
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            conn.feed_eof();
        } else {
            conn.feed(&buf[..n])
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        if n == 0 && conn.poll_event().is_err() {
            return Ok(());
        }
    }
}
