//! permessage-deflate against peers written by someone else (run by `cargo xtask interop`).
//!
//! ```text
//! cargo run --release -p pushwire-ws --example deflate_peer -- serve 9002
//! cargo run --release -p pushwire-ws --example deflate_peer -- client 127.0.0.1:8765
//! ```
//!
//! * `serve PORT`: an echo server (std::net, a thread per connection) that accepts
//!   permessage-deflate and counts, per connection, the messages that arrived compressed
//!   (RSV1 set) or not and those it sent compressed or not. It echoes messages of 8 KiB or
//!   more with `send_fragmented` (4 KiB frames, compressed before splitting) and text starting
//!   with `stream:` with `send_fragment` in three pieces, so both fragmented sending paths meet
//!   the peer. The text `pushwire:stats` is not echoed: the answer is
//!   `{"extensions":"…","in_compressed":N,"in_plain":N,"out_compressed":N,"out_plain":N}`
//!   (counts include this request, not the answer), which lets a client that cannot see frame bits (a browser)
//!   check that compression was really used.
//! * `client ADDR`: a pushwire-ws client that offers `permessage-deflate;
//!   client_max_window_bits` to an echo server, checks the server accepted it, sends JSON text,
//!   incompressible binary, a message under the threshold, a large message with
//!   `send_fragmented` and a streamed one with `send_fragment`, checks every echo, and that
//!   messages went out and came back with RSV1 set. Prints one line per check and
//!   `N passed, N failed`; exit status 1 on any failure.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use pushwire_ws::deflate::{negotiate, DeflateConfig, PerMessageDeflate};
use pushwire_ws::frame::RSV1;
use pushwire_ws::handshake::{ClientHandshake, ClientRequest, HandshakeLimits, ServerHandshake};
use pushwire_ws::{
    Config, Connection, Event, Extension, ExtensionError, MessageKind, Role, StdRandom,
};

/// Messages seen by [`Counting`]: received compressed, sent compressed, sent uncompressed.
#[derive(Default)]
struct Stats {
    in_compressed: AtomicUsize,
    out_compressed: AtomicUsize,
    out_plain: AtomicUsize,
}

/// permessage-deflate with counters (received messages without RSV1 never reach `decode`,
/// so the caller counts all received messages itself).
struct Counting {
    inner: PerMessageDeflate,
    stats: Arc<Stats>,
}

impl Counting {
    fn count_out(&self, rsv: u8) {
        let c = if rsv & RSV1 != 0 {
            &self.stats.out_compressed
        } else {
            &self.stats.out_plain
        };
        c.fetch_add(1, Relaxed);
    }
}

impl Extension for Counting {
    fn rsv_bits(&self) -> u8 {
        self.inner.rsv_bits()
    }

    fn decode(
        &mut self,
        kind: MessageKind,
        rsv: u8,
        payload: Bytes,
        max_len: u64,
    ) -> Result<Bytes, ExtensionError> {
        if rsv & RSV1 != 0 {
            self.stats.in_compressed.fetch_add(1, Relaxed);
        }
        self.inner.decode(kind, rsv, payload, max_len)
    }

    fn encode(&mut self, kind: MessageKind, payload: Bytes) -> Result<(u8, Bytes), ExtensionError> {
        let r = self.inner.encode(kind, payload)?;
        self.count_out(r.0);
        Ok(r)
    }

    fn encode_fragment(
        &mut self,
        kind: MessageKind,
        payload: Bytes,
        first: bool,
        fin: bool,
    ) -> Result<(u8, Bytes), ExtensionError> {
        let r = self.inner.encode_fragment(kind, payload, first, fin)?;
        if first {
            self.count_out(r.0);
        }
        Ok(r)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => {
            let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(9002);
            match serve(port) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("deflate_peer serve: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("client") => client(args.get(1).map_or("127.0.0.1:8765", String::as_str)),
        _ => {
            eprintln!("usage: deflate_peer serve PORT | client HOST:PORT");
            ExitCode::FAILURE
        }
    }
}

fn flush(conn: &mut Connection, stream: &mut TcpStream) -> io::Result<()> {
    while let Some(c) = conn.poll_transmit() {
        stream.write_all(&c)?;
    }
    Ok(())
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

// ----- server --------------------------------------------------------------------------------

fn serve(port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    eprintln!("deflate_peer listening on 127.0.0.1:{port}");
    for stream in listener.incoming() {
        let stream = stream?;
        thread::spawn(move || {
            if let Err(e) = serve_one(stream) {
                eprintln!("connection error: {e}");
            }
        });
    }
    Ok(())
}

fn serve_one(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut hs = ServerHandshake::new(HandshakeLimits::default());
    let offer = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        match hs.feed(&buf[..n]) {
            Ok(None) => {}
            Ok(Some(offer)) => break offer,
            Err(e) => {
                stream.write_all(&e.response())?;
                return Ok(());
            }
        }
    };
    let offered = offer.extensions().join(", ");
    let agreed = negotiate::server_accept(offer.extensions(), &negotiate::ServerPolicy::default());
    let header = agreed.map(|a| a.to_header());
    stream.write_all(&offer.accept(None, header.as_deref()).map_err(other)?)?;
    eprintln!(
        "offered [{offered}], answered [{}]",
        header.as_deref().unwrap_or("")
    );

    let stats = Arc::new(Stats::default());
    let mut conn = Connection::server(Config::default());
    if let Some(a) = agreed {
        conn.set_extension(Box::new(Counting {
            inner: PerMessageDeflate::new(Role::Server, a, DeflateConfig::default()),
            stats: stats.clone(),
        }));
    }
    conn.feed_bytes(hs.take_remaining())
        .map_err(|e| io::Error::other(e.to_string()))?;
    let mut received = 0usize;
    loop {
        while let Some(ev) = match conn.poll_event() {
            Ok(ev) => ev,
            Err(e) => {
                eprintln!("protocol error: {e}");
                None
            }
        } {
            if matches!(ev, Event::Text(_) | Event::Binary(_)) {
                received += 1;
            }
            let (kind, data) = match ev {
                Event::Text(t) if t.as_str() == "pushwire:stats" => {
                    let inc = stats.in_compressed.load(Relaxed);
                    let reply = format!(
                        "{{\"extensions\":\"{}\",\"in_compressed\":{inc},\"in_plain\":{},\
                         \"out_compressed\":{},\"out_plain\":{}}}",
                        header.as_deref().unwrap_or(""),
                        received.saturating_sub(inc),
                        stats.out_compressed.load(Relaxed),
                        stats.out_plain.load(Relaxed),
                    );
                    let _ = conn.send_text(reply);
                    continue;
                }
                Event::Text(t) => (MessageKind::Text, t.into_bytes()),
                Event::Binary(b) => (MessageKind::Binary, b),
                _ => continue,
            };
            let _ = echo(&mut conn, kind, data);
        }
        flush(&mut conn, &mut stream)?;
        if conn.should_close_transport() {
            let _ = stream.shutdown(Shutdown::Write);
            stream.set_read_timeout(Some(Duration::from_secs(1)))?;
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            return Ok(());
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            conn.feed_eof();
            if conn.poll_event().is_err() {
                return Ok(());
            }
        } else {
            conn.feed(&buf[..n])
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
    }
}

/// Echoes with the sending path the message asks for (see the module docs).
fn echo(
    conn: &mut Connection,
    kind: MessageKind,
    data: Bytes,
) -> Result<(), pushwire_ws::SendError> {
    if kind == MessageKind::Text && data.starts_with(b"stream:") {
        let third = data.len() / 3;
        conn.send_fragment(kind, data.slice(..third), false)?;
        conn.send_fragment(kind, data.slice(third..2 * third), false)?;
        return conn.send_fragment(kind, data.slice(2 * third..), true);
    }
    if data.len() >= 8192 {
        return conn.send_fragmented(kind, data, 4096);
    }
    match kind {
        MessageKind::Text => conn.send_text(
            pushwire_ws::Utf8Bytes::from_bytes(data)
                .map_err(|_| pushwire_ws::SendError::InvalidUtf8)?,
        ),
        MessageKind::Binary => conn.send_binary(data),
    }
}

// ----- client --------------------------------------------------------------------------------

struct Client {
    stream: TcpStream,
    conn: Connection,
    buf: Vec<u8>,
}

impl Client {
    fn next(&mut self) -> io::Result<Event> {
        loop {
            match self.conn.poll_event() {
                Ok(Some(Event::Ping(_) | Event::Pong(_))) => {}
                Ok(Some(ev)) => {
                    flush(&mut self.conn, &mut self.stream)?;
                    return Ok(ev);
                }
                Ok(None) => {}
                Err(e) => return Err(other(e)),
            }
            flush(&mut self.conn, &mut self.stream)?;
            let n = self.stream.read(&mut self.buf)?;
            if n == 0 {
                self.conn.feed_eof();
            } else {
                self.conn
                    .feed(&self.buf[..n])
                    .map_err(|e| io::Error::other(e.to_string()))?;
            }
        }
    }

    /// Sends with `send`, then expects the same message back.
    fn roundtrip(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        send: impl FnOnce(&mut Connection) -> Result<(), pushwire_ws::SendError>,
    ) -> io::Result<bool> {
        send(&mut self.conn).map_err(other)?;
        flush(&mut self.conn, &mut self.stream)?;
        Ok(match (kind, self.next()?) {
            (MessageKind::Text, Event::Text(t)) => t.as_bytes() == data,
            (MessageKind::Binary, Event::Binary(b)) => b[..] == data[..],
            _ => false,
        })
    }
}

fn connect(addr: &str, stats: &Arc<Stats>) -> io::Result<(Client, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut keys = StdRandom::new();
    let offers = [negotiate::Offer {
        client_max_window_bits: negotiate::ClientWindowBits::Any,
        ..Default::default()
    }];
    let mut req = ClientRequest::new(addr, "/");
    req.extensions = offers.iter().map(negotiate::Offer::to_header).collect();
    let mut hs =
        ClientHandshake::new(&req, &mut keys, HandshakeLimits::default()).map_err(other)?;
    stream.write_all(&hs.request())?;
    let mut buf = vec![0u8; 64 * 1024];
    let accepted = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if let Some(a) = hs.feed(&buf[..n]).map_err(other)? {
            break a;
        }
    };
    let mut conn = Connection::with_mask_keys(Role::Client, Config::default(), Box::new(keys));
    let header = accepted.extensions.join(", ");
    if let Some(resp) = accepted.extensions.first() {
        // "If a client receives an extension negotiation response ... not acceptable, the
        // client MUST _Fail the WebSocket Connection_" (RFC 7692 §5): client_accept refuses.
        let a = negotiate::client_accept(&offers, resp).map_err(other)?;
        conn.set_extension(Box::new(Counting {
            inner: PerMessageDeflate::new(Role::Client, a, DeflateConfig::default()),
            stats: stats.clone(),
        }));
    }
    conn.feed_bytes(hs.take_remaining())
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok((Client { stream, conn, buf }, header))
}

fn client(addr: &str) -> ExitCode {
    let (mut passed, mut failed) = (0, 0);
    let mut check = |name: &str, r: io::Result<bool>, detail: String| {
        let ok = matches!(r, Ok(true));
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
        let detail = match r {
            Err(e) => format!(": {e}"),
            _ if detail.is_empty() => String::new(),
            _ => format!(": {detail}"),
        };
        println!("{} {name}{detail}", if ok { "ok  " } else { "FAIL" });
    };
    let stats = Arc::new(Stats::default());
    let (mut c, header) = match connect(addr, &stats) {
        Ok(x) => x,
        Err(e) => {
            check("connect offering permessage-deflate", Err(e), String::new());
            println!("{passed} passed, {failed} failed");
            return ExitCode::FAILURE;
        }
    };
    check(
        "server accepted permessage-deflate",
        Ok(header.starts_with("permessage-deflate")),
        format!("Sec-WebSocket-Extensions: {header}"),
    );

    let json: String = (0..40)
        .map(|i| {
            format!(
                "{{\"seq\":{i},\"event\":\"tick\",\"price\":\"{}.{:02}\"}}",
                100 + i * 7,
                i
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    let json = format!("[{json}]");
    for i in 0..3 {
        let r = c.roundtrip(MessageKind::Text, json.as_bytes(), |k| {
            k.send_text(json.as_str())
        });
        check(
            &format!("JSON text #{i} ({} bytes) echoed", json.len()),
            r,
            String::new(),
        );
    }
    let noise: Vec<u8> = {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..3000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    };
    let r = c.roundtrip(MessageKind::Binary, &noise, |k| {
        k.send_binary(noise.clone())
    });
    check(
        "incompressible binary (3,000 bytes, sent uncompressed) echoed",
        r,
        String::new(),
    );
    let r = c.roundtrip(MessageKind::Text, json.as_bytes(), |k| {
        k.send_text(json.as_str())
    });
    check(
        "JSON text after the incompressible message echoed",
        r,
        String::new(),
    );
    let r = c.roundtrip(MessageKind::Text, b"hi", |k| k.send_text("hi"));
    check("short text under the threshold echoed", r, String::new());
    let big = json.repeat(60);
    let r = c.roundtrip(MessageKind::Text, big.as_bytes(), |k| {
        k.send_fragmented(MessageKind::Text, big.clone(), 16 * 1024)
    });
    check(
        &format!(
            "send_fragmented text ({} bytes, compressed then split) echoed",
            big.len()
        ),
        r,
        String::new(),
    );
    let parts = ["{\"streamed\":[", &json, ",", &json, "]}"];
    let whole = parts.concat();
    let r = c.roundtrip(MessageKind::Text, whole.as_bytes(), |k| {
        for (i, p) in parts.iter().enumerate() {
            k.send_fragment(
                MessageKind::Text,
                p.as_bytes().to_vec(),
                i + 1 == parts.len(),
            )?;
        }
        Ok(())
    });
    check(
        "send_fragment streamed text (5 fragments) echoed",
        r,
        String::new(),
    );
    let bin = vec![0x5au8; 200_000];
    let r = c.roundtrip(MessageKind::Binary, &bin, |k| k.send_binary(bin.clone()));
    check("binary 200,000 bytes echoed", r, String::new());

    let (inc, outc, outp) = (
        stats.in_compressed.load(Relaxed),
        stats.out_compressed.load(Relaxed),
        stats.out_plain.load(Relaxed),
    );
    check(
        "messages sent with RSV1 (compressed)",
        Ok(outc == 7 && outp == 2),
        format!("{outc} compressed, {outp} uncompressed (the noise and \"hi\")"),
    );
    check(
        "echoes received with RSV1 (compressed by the server)",
        Ok(inc >= 1),
        format!("{inc} of 9"),
    );
    let r = (|| {
        c.conn.send_close(1000, "done").map_err(other)?;
        flush(&mut c.conn, &mut c.stream)?;
        Ok(matches!(c.next()?, Event::Close(Some(f)) if f.code() == 1000))
    })();
    check("close 1000 answered", r, String::new());
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
