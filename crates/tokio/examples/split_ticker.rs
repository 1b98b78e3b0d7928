//! Owned halves in two tasks: `cargo run -p pushwire-tokio --example split_ticker -- 127.0.0.1:9002`.
//!
//! Each connection is split with `into_split`. The writer task pushes a `tick N` every second
//! and echoes what the reader hands it over a channel; the reader task only receives. Pings
//! from the client are answered and its Close replied to by the reader itself — the writer
//! may be asleep in its timer at that moment — and the writer stops once the connection is
//! closed. Try it with any WebSocket client, e.g. `python -m websockets ws://127.0.0.1:9002`.

use std::time::Duration;

use pushwire_tokio::{Config, Error, Message, WebSocketStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

async fn serve(tcp: TcpStream) -> Result<(), Error> {
    let ws = WebSocketStream::accept(tcp, Config::DEFAULT).await?;
    // Refused only for an extension that cannot split (permessage-deflate can).
    let (mut reader, mut writer) = ws
        .into_split()
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
    let (echo_tx, mut echo_rx) = mpsc::channel::<Message>(16);
    let write_task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut n = 0u64;
        loop {
            let msg = tokio::select! {
                _ = tick.tick() => {
                    n += 1;
                    Message::text(format!("tick {n}"))
                }
                echoed = echo_rx.recv() => match echoed {
                    Some(m) => m,
                    None => return Ok(()), // the reader ended
                },
            };
            match writer.send(msg).await {
                // The reader answered the peer's Close: the connection is over.
                Err(Error::Closed | Error::Send(_)) => return Ok(()),
                other => other?,
            }
        }
    });
    while let Some(msg) = reader.recv().await {
        if let m @ (Message::Text(_) | Message::Binary(_)) = msg? {
            if echo_tx.send(m).await.is_err() {
                break;
            }
        }
    }
    drop(echo_tx);
    match write_task.await {
        Ok(r) => r,
        Err(e) => Err(Error::Io(std::io::Error::other(e))),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("split ticker on ws://{}", listener.local_addr()?);
    loop {
        let (tcp, peer) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = serve(tcp).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
