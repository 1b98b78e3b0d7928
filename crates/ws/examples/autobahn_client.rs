//! Client for Autobahn|Testsuite's `fuzzingserver` (see ../shared/AUTOBAHN.md): fetches the case
//! count, echoes every message of every case, then asks the server to write its reports. It
//! offers permessage-deflate (`permessage-deflate; client_max_window_bits`); pass
//! `--no-deflate` after the address to offer nothing.
//!
//! ```text
//! cargo run --release -p pushwire-ws --example autobahn_client -- 127.0.0.1:9001
//! ```

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use bytes::Buf;
use pushwire_ws::deflate::negotiate::{ClientWindowBits, Offer};
use pushwire_ws::deflate::DeflateConfig;
use pushwire_ws::handshake::{ClientHandshake, ClientRequest, HandshakeLimits};
use pushwire_ws::{Config, Connection, Event, Limits, StdRandom};

const AGENT: &str = "pushwire";

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let count: u32 = {
        let msgs = run(&addr, "/getCaseCount", false)?;
        let text = msgs.first().cloned().unwrap_or_default();
        text.trim()
            .parse()
            .map_err(|_| io::Error::other(format!("bad case count {text:?}")))?
    };
    eprintln!("{count} cases");
    for case in 1..=count {
        let path = format!("/runCase?case={case}&agent={AGENT}");
        if let Err(e) = run(&addr, &path, true) {
            eprintln!("case {case}: {e}");
        }
    }
    run(&addr, &format!("/updateReports?agent={AGENT}"), false)?;
    eprintln!("reports updated");
    Ok(())
}

/// Runs one connection; with `echo`, echoes every message. Returns the text messages received.
fn run(addr: &str, path: &str, echo: bool) -> io::Result<Vec<String>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let mut keys = StdRandom::new();
    let offers: Vec<Offer> = if std::env::args().any(|a| a == "--no-deflate") {
        Vec::new()
    } else {
        vec![Offer {
            client_max_window_bits: ClientWindowBits::Any,
            ..Offer::default()
        }]
    };
    let mut req = ClientRequest::new(addr, path);
    req.extensions = offers.iter().map(Offer::to_header).collect();
    let mut hs = ClientHandshake::new(&req, &mut keys, HandshakeLimits::default())
        .map_err(|e| io::Error::other(e.to_string()))?;
    stream.write_all(&hs.request())?;
    let mut buf = vec![0u8; 64 * 1024];
    let accepted = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        match hs.feed(&buf[..n]) {
            Ok(None) => continue,
            Ok(Some(a)) => break a,
            Err(e) => return Err(io::Error::other(e.to_string())),
        }
    };
    let config = Config::DEFAULT.with_limits(Limits::DEFAULT.with_max_fragments(1 << 20));
    // Installs permessage-deflate if the server accepted it; a response the client did not
    // offer fails the connection (RFC 7692 §7.1).
    let mut conn = hs
        .into_connection(
            &accepted,
            config,
            Box::new(keys),
            Some(DeflateConfig::default()),
        )
        .map_err(|e| io::Error::other(format!("extension response: {e}")))?;
    let mut texts = Vec::new();
    loop {
        loop {
            match conn.poll_event() {
                Ok(Some(Event::Text(t))) => {
                    texts.push(t.as_str().to_string());
                    if echo {
                        let _ = conn.send_text(t);
                    }
                }
                Ok(Some(Event::Binary(b))) => {
                    if echo {
                        let _ = conn.send_binary(b);
                    }
                }
                // Answer each ping before the next (only the newest unsent pong is kept).
                Ok(Some(Event::Ping(_))) => write_out(&mut conn, &mut stream)?,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        write_out(&mut conn, &mut stream)?;
        if conn.should_close_transport() {
            let _ = stream.shutdown(Shutdown::Both);
            return Ok(texts);
        }
        if matches!(
            conn.state(),
            pushwire_ws::ConnectionState::Closed | pushwire_ws::ConnectionState::Failed
        ) {
            // Wait (bounded) for the server to close first, as RFC 6455 §7.1.1 asks.
            stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        }
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) || conn.state() == pushwire_ws::ConnectionState::Closed =>
            {
                // Timeout waiting for the server's FIN, or the server reset the connection
                // after the close handshake: either way we are done.
                let _ = stream.shutdown(Shutdown::Both);
                return Ok(texts);
            }
            Err(e) => return Err(e),
        };
        if n == 0 {
            conn.feed_eof();
            if conn.should_close_transport() || conn.poll_event().is_err() {
                return Ok(texts);
            }
        } else {
            conn.feed(&buf[..n])
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
    }
}

/// Writes everything the connection queued.
fn write_out(conn: &mut Connection, stream: &mut TcpStream) -> io::Result<()> {
    let mut out = conn.take_transmit();
    while out.has_remaining() {
        let n = stream.write(out.chunk())?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        out.advance(n);
    }
    Ok(())
}
