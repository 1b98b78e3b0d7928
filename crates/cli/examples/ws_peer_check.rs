//! A pushwire-ws client that checks a WebSocket echo server written by someone else (the
//! python `websockets` server in tests/interop/python/ws_server.py, run by
//! `cargo xtask interop`): text, binary, fragmented messages, ping/pong, the close
//! handshake, and a message over the server's size limit (1 MiB there) closed with 1009.
//!
//! ```text
//! cargo run -p pushwire-cli --example ws_peer_check -- 127.0.0.1:8765
//! ```
//!
//! Prints one line per check and `N passed, N failed`; exit status 1 on any failure.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use pushwire_ws::handshake::{ClientHandshake, ClientRequest, HandshakeLimits};
use pushwire_ws::{Config, Connection, Event, MessageKind, StdRandom};

struct Client {
    stream: TcpStream,
    conn: Connection,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: &str) -> io::Result<Client> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut keys = StdRandom::new();
        let mut hs = ClientHandshake::new(
            &ClientRequest::new(addr, "/"),
            &mut keys,
            HandshakeLimits::DEFAULT,
        )
        .map_err(|e| io::Error::other(e.to_string()))?;
        stream.write_all(&hs.request())?;
        let mut buf = vec![0u8; 64 * 1024];
        let accepted = loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            match hs.feed(&buf[..n]) {
                Ok(None) => {}
                Ok(Some(a)) => break a,
                Err(e) => return Err(io::Error::other(e.to_string())),
            }
        };
        let conn = hs
            .into_connection(&accepted, Config::DEFAULT, Box::new(keys), None)
            .map_err(io::Error::other)?;
        Ok(Client { stream, conn, buf })
    }

    fn flush(&mut self) -> io::Result<()> {
        while let Some(c) = self.conn.poll_transmit() {
            self.stream.write_all(&c)?;
        }
        Ok(())
    }

    /// The next event other than a ping (pongs to those are automatic).
    fn next(&mut self) -> io::Result<Event> {
        loop {
            match self.conn.poll_event() {
                Ok(Some(Event::Ping(_))) => {}
                Ok(Some(ev)) => {
                    self.flush()?;
                    return Ok(ev);
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::other(e.to_string())),
            }
            self.flush()?;
            let n = self.stream.read(&mut self.buf)?;
            if n == 0 {
                self.conn.feed_eof();
            } else {
                self.conn.feed(&self.buf[..n]).map_err(io::Error::other)?;
            }
        }
    }
}

fn main() -> ExitCode {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8765".into());
    let (mut passed, mut failed) = (0, 0);
    let mut check = |name: &str, r: io::Result<bool>| {
        let ok = matches!(r, Ok(true));
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
        let detail = match r {
            Err(e) => format!(": {e}"),
            _ => String::new(),
        };
        println!("{} {name}{detail}", if ok { "ok  " } else { "FAIL" });
    };

    let run = || -> io::Result<Client> { Client::connect(&addr) };
    match run() {
        Err(e) => check("connect", Err(e)),
        Ok(mut c) => {
            for text in ["hello", "😀 astral 🎉 中文字", "", &"x".repeat(100_000)] {
                let r = (|| {
                    c.conn
                        .send_text(text)
                        .map_err(|e| io::Error::other(e.to_string()))?;
                    c.flush()?;
                    Ok(matches!(c.next()?, Event::Text(t) if t.as_str() == text))
                })();
                check(&format!("echo text ({} chars)", text.chars().count()), r);
            }
            for data in [vec![0u8, 1, 254, 255], Vec::new(), vec![7u8; 512 * 1024]] {
                let r = (|| {
                    c.conn
                        .send_binary(data.clone())
                        .map_err(|e| io::Error::other(e.to_string()))?;
                    c.flush()?;
                    Ok(matches!(c.next()?, Event::Binary(b) if b[..] == data[..]))
                })();
                check(&format!("echo binary ({} bytes)", data.len()), r);
            }
            let r = (|| {
                c.conn
                    .send_fragmented(MessageKind::Text, Bytes::from("fragmented message"), 4)
                    .map_err(|e| io::Error::other(e.to_string()))?;
                c.flush()?;
                Ok(matches!(c.next()?, Event::Text(t) if t.as_str() == "fragmented message"))
            })();
            check("echo fragmented text (4-byte frames)", r);
            let r = (|| {
                c.conn
                    .send_ping(Bytes::from("are you there"))
                    .map_err(|e| io::Error::other(e.to_string()))?;
                c.flush()?;
                Ok(matches!(c.next()?, Event::Pong(p) if &p[..] == b"are you there"))
            })();
            check("ping answered with pong", r);
            let r = (|| {
                c.conn
                    .send_close(4000, "bye")
                    .map_err(|e| io::Error::other(e.to_string()))?;
                c.flush()?;
                Ok(matches!(c.next()?, Event::Close(Some(f)) if f.code() == 4000))
            })();
            check("close 4000 echoed", r);
            let _ = c.stream.shutdown(Shutdown::Both);
        }
    }
    // Over the server's 1 MiB limit: it must close with 1009.
    let r = (|| {
        let mut c = Client::connect(&addr)?;
        c.conn
            .send_binary(vec![0u8; (1 << 20) + 1])
            .map_err(|e| io::Error::other(e.to_string()))?;
        c.flush()?;
        Ok(matches!(c.next()?, Event::Close(Some(f)) if f.code() == 1009))
    })();
    check("oversize message -> 1009", r);
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
