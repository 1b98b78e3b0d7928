//! An echo server: `cargo run -p pushwire-tokio --example echo_server -- 127.0.0.1:9001`.
//!
//! Accepts WebSocket upgrades on TCP and echoes text and binary messages. Pings a silent
//! client every 20 s and drops it if nothing comes back within 10 s (the timers run while
//! the connection is received from, as here).

use std::time::Duration;

use pushwire_tokio::{Config, Message, WebSocketStream};
use tokio::net::{TcpListener, TcpStream};

const CONFIG: Config = Config::DEFAULT
    .with_ping_interval(Some(Duration::from_secs(20)))
    .with_pong_timeout(Some(Duration::from_secs(10)));

async fn echo(tcp: TcpStream) -> Result<(), pushwire_tokio::Error> {
    let mut ws = WebSocketStream::accept(tcp, CONFIG).await?;
    while let Some(msg) = ws.recv().await {
        // Pongs and the close reply are written by the stream itself.
        if let msg @ (Message::Text(_) | Message::Binary(_)) = msg? {
            ws.send(msg).await?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("echo server on ws://{}", listener.local_addr()?);
    loop {
        let (tcp, peer) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = echo(tcp).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
