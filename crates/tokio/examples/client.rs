//! A line client: `cargo run -p pushwire-tokio --example client -- 127.0.0.1:9001/path`.
//!
//! Connects, sends each line of stdin as a text message and prints what comes back. End stdin
//! (Ctrl-D) to close with 1000. `recv()` is cancel safe, so it can sit in `select!` beside
//! the stdin read.

use pushwire_tokio::{Config, Message, WebSocketStream};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001/".into());
    let target = target.strip_prefix("ws://").unwrap_or(&target);
    let (host, path) = match target.find('/') {
        Some(i) => target.split_at(i),
        None => (target, "/"),
    };
    let tcp = TcpStream::connect(host).await?;
    let mut ws = WebSocketStream::client(tcp, host, path, Config::DEFAULT).await?;
    eprintln!("connected to {host}{path}");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    loop {
        tokio::select! {
            line = lines.next_line(), if stdin_open => match line? {
                Some(line) => ws.send(Message::text(line)).await?,
                None => {
                    stdin_open = false;
                    ws.close(1000, "").await?;
                }
            },
            msg = ws.recv() => match msg {
                Some(Ok(Message::Text(t))) => println!("{}", t.as_str()),
                Some(Ok(Message::Binary(b))) => println!("<{} bytes of binary>", b.len()),
                Some(Ok(Message::Close(c))) => eprintln!("closed by peer: {c:?}"),
                Some(Ok(_)) => {} // pings are answered by the stream
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
        }
    }
}
