//! A minimal Engine.io v3 echo server over HTTP long-polling, on `std::net` with one thread
//! per connection, to run real clients (engine.io-client 3.x) against [`Server`].
//!
//! ```text
//! cargo run -p pushwire-engineio --example polling_echo_server -- 127.0.0.1:3000 [PING_INTERVAL_MS]
//! ```
//!
//! Every message a client sends is sent back. Only what the interop check needs: no
//! websocket, `Connection: close` on every response, bodies with `Content-Length`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use pushwire_engineio::{
    sid_from_bytes, Event, HttpRequest, HttpResponse, Method, Outcome, Server, ServerConfig,
};

type Sids = Box<dyn FnMut() -> String + Send>;

struct Shared {
    server: Mutex<Server<Sids>>,
    changed: Condvar,
    start: Instant,
}

impl Shared {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// Echo every message, then wake the held polls.
    fn pump(&self, server: &mut Server<Sids>) {
        while let Some((sid, event)) = server.poll_event() {
            match event {
                Event::Message(data) => {
                    let _ = server.send(&sid, data);
                }
                other => eprintln!("{sid}: {other:?}"),
            }
        }
        self.changed.notify_all();
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("listening on {}", listener.local_addr()?);
    let mut counter = 0u64;
    let sids: Sids = Box::new(move || {
        counter += 1;
        // Not random: fine for a local test server. Use 15 random bytes in production.
        let mut b = [0u8; 15];
        b[..8].copy_from_slice(&counter.to_be_bytes());
        sid_from_bytes(b)
    });
    let mut config = ServerConfig::default();
    if let Some(ms) = std::env::args().nth(2).and_then(|a| a.parse().ok()) {
        config.ping_interval = Duration::from_millis(ms);
        config.ping_timeout = Duration::from_millis(ms);
    }
    let shared = Arc::new(Shared {
        server: Mutex::new(Server::new(config, sids)),
        changed: Condvar::new(),
        start: Instant::now(),
    });
    {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            let mut server = shared.server.lock().unwrap();
            let now = shared.now();
            if server.poll_timeout().is_some_and(|t| t <= now) {
                server.handle_timeout(now);
                shared.pump(&mut server);
            }
        });
    }
    for stream in listener.incoming() {
        let stream = stream?;
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            if let Err(e) = serve(&shared, stream) {
                eprintln!("connection error: {e}");
            }
        });
    }
    Ok(())
}

fn serve(shared: &Shared, stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = match parts.next() {
        Some("GET") => Method::Get,
        Some("POST") => Method::Post,
        Some("OPTIONS") => Method::Options,
        _ => Method::Other,
    };
    let target = parts.next().unwrap_or("/").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (mut len, mut origin, mut content_type) = (0usize, None, None);
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim().to_owned();
            match k.to_ascii_lowercase().as_str() {
                "content-length" => len = v.parse().unwrap_or(0),
                "origin" => origin = Some(v),
                "content-type" => content_type = Some(v),
                _ => {}
            }
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    if !path.starts_with("/engine.io") {
        return write_response(
            stream,
            &HttpResponse {
                status: 404,
                headers: Vec::new(),
                body: Vec::new(),
            },
        );
    }
    let req = HttpRequest {
        method,
        query,
        origin: origin.as_deref(),
        content_type: content_type.as_deref(),
        websocket_upgrade: false,
        body: &body,
    };
    let mut server = shared.server.lock().unwrap();
    let outcome = server.handle_request(shared.now(), &req);
    shared.pump(&mut server);
    let response = match outcome {
        Outcome::Respond(r) => r,
        Outcome::Hold { sid } => loop {
            if let Some(r) = server.poll_http_response(&sid) {
                shared.pump(&mut server);
                break r;
            }
            server = shared
                .changed
                .wait_timeout(server, Duration::from_millis(200))
                .unwrap()
                .0;
        },
        Outcome::AcceptWebSocket { .. } => HttpResponse {
            status: 400,
            headers: Vec::new(),
            body: b"websocket not supported by this example".to_vec(),
        },
    };
    drop(server);
    write_response(stream, &response)
}

fn write_response(mut stream: TcpStream, r: &HttpResponse) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} X\r\n", r.status);
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        r.body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(&r.body)?;
    stream.flush()
}
