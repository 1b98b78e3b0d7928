//! `pushwire serve`: the demo server.
//!
//! A small thread-per-connection HTTP/1.1 server on std::net. It is deliberately plain:
//! the demo's job is to show the codecs at work, and the codecs do not care which runtime
//! feeds them.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Command-line options of `pushwire serve`.
#[derive(Debug)]
pub(crate) struct Options {
    addr: SocketAddr,
}

impl Options {
    /// Parses the arguments after `serve`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut addr: SocketAddr = "127.0.0.1:8080".parse().expect("valid default address");
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--addr" => {
                    let v = it.next().ok_or("--addr takes HOST:PORT")?;
                    addr = v.parse().map_err(|e| format!("bad --addr `{v}`: {e}"))?;
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Options { addr })
    }
}

/// Most bytes of request head the demo reads before answering 431.
const MAX_HEAD: usize = 16 * 1024;

/// Runs the server until the process is killed.
pub(crate) fn run(opts: Options) -> io::Result<()> {
    let listener = TcpListener::bind(opts.addr)?;
    println!(
        "pushwire demo listening on http://{}/",
        listener.local_addr()?
    );
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into());
            if let Err(e) = handle(stream) {
                println!("{peer}: connection ended: {e}");
            }
        });
    }
    Ok(())
}

struct Request {
    method: String,
    target: String,
}

fn read_head(stream: &TcpStream) -> io::Result<Option<Request>> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.take(MAX_HEAD as u64));
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad request line",
        ));
    };
    let req = Request {
        method: method.to_string(),
        target: target.to_string(),
    };
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large or truncated",
            ));
        }
        if line == "\r\n" || line == "\n" {
            return Ok(Some(req));
        }
    }
}

use std::io::Read;

fn handle(mut stream: TcpStream) -> io::Result<()> {
    let Some(req) = read_head(&stream)? else {
        return Ok(());
    };
    let path = req.target.split('?').next().unwrap_or("/");
    println!("{} {}", req.method, req.target);
    match (req.method.as_str(), path) {
        ("GET", "/") => respond(&mut stream, "200 OK", "text/html; charset=utf-8", PAGE),
        ("GET", _) => respond(&mut stream, "404 Not Found", "text/plain", "not found\n"),
        _ => respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            "method not allowed\n",
        ),
    }
}

fn respond(stream: &mut TcpStream, status: &str, ctype: &str, body: &str) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>pushwire demo</title>
<h1>pushwire</h1>
<p>The demo server is running. The SSE, WebSocket and Engine.io demos arrive with their crates.</p>
"#;
