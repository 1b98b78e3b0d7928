//! Client for Autobahn|Testsuite's `fuzzingserver` on pushwire-tokio (see
//! ../shared/AUTOBAHN.md): fetches the case count, echoes every message of every case through
//! [`WebSocketStream::client`], then asks the server to write its reports. It offers
//! permessage-deflate; pass `--no-deflate` after the address to offer nothing.
//!
//! The echo runs on the owned halves ([`WebSocketStream::into_split`]) in two tasks: the
//! reader receives (and answers pings and the Close on its own), the writer task sends each
//! echo and acknowledges it before the reader reads on, so the order on the wire is that of
//! one task (an echo never follows our Close reply). `--whole` echoes on the unsplit stream
//! instead. (`pushwire serve`, the server role's peer, runs the unsplit stream.)
//!
//! ```text
//! cargo run --release -p pushwire-tokio --example autobahn_client -- 127.0.0.1:9001
//! ```

use std::time::Duration;

use pushwire_tokio::{Config, Error, Message, WebSocketStream};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

const AGENT: &str = "pushwire";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let deflate = !std::env::args().any(|a| a == "--no-deflate");
    let split = !std::env::args().any(|a| a == "--whole");
    let count: u32 = {
        let msgs = run(&addr, "/getCaseCount", false, deflate).await?;
        let text = msgs.first().cloned().unwrap_or_default();
        text.trim()
            .parse()
            .map_err(|_| std::io::Error::other(format!("bad case count {text:?}")))?
    };
    eprintln!("{count} cases");
    for case in 1..=count {
        let path = format!("/runCase?case={case}&agent={AGENT}");
        // A case that hangs must not stop the run: the suite rates it.
        let one = async {
            if split {
                echo_split(&addr, &path, deflate).await
            } else {
                run(&addr, &path, true, deflate).await.map(drop)
            }
        };
        match tokio::time::timeout(Duration::from_secs(60), one).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("case {case}: {e}"),
            Err(_) => eprintln!("case {case}: timed out"),
        }
    }
    run(
        &addr,
        &format!("/updateReports?agent={AGENT}"),
        false,
        deflate,
    )
    .await?;
    eprintln!("reports updated");
    Ok(())
}

async fn connect(
    addr: &str,
    path: &str,
    deflate: bool,
) -> Result<WebSocketStream<TcpStream>, Error> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    // Autobahn 9.* sends 16 MiB messages, and 4 MiB messages in 64-byte fragments.
    let mut config = Config::DEFAULT.with_max_fragments(1 << 20);
    if !deflate {
        config = config.with_deflate(None);
    }
    WebSocketStream::client(tcp, addr, path, config).await
}

/// Echoes one case on the owned halves, the writer in its own task.
async fn echo_split(addr: &str, path: &str, deflate: bool) -> Result<(), Error> {
    let ws = connect(addr, path, deflate).await?;
    let (mut reader, mut writer) = ws
        .into_split()
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
    let (to_writer, mut echoes) = mpsc::channel::<(Message, oneshot::Sender<()>)>(1);
    let write_task = tokio::spawn(async move {
        while let Some((msg, done)) = echoes.recv().await {
            // Refused once the reader has answered the server's Close: the case is over.
            if writer.send(msg).await.is_err() {
                break;
            }
            let _ = done.send(());
        }
    });
    while let Some(msg) = reader.recv().await {
        match msg {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                let (done, sent) = oneshot::channel();
                if to_writer.send((m, done)).await.is_err() || sent.await.is_err() {
                    break;
                }
            }
            Ok(_) => {}
            // The peer broke the protocol: the right Close has been written; the case is
            // over.
            Err(Error::Protocol(_)) => break,
            Err(e) => return Err(e),
        }
    }
    drop(to_writer);
    let _ = write_task.await;
    Ok(())
}

/// Runs one connection on the whole stream; with `echo`, echoes every data message. Returns
/// the text messages received.
async fn run(addr: &str, path: &str, echo: bool, deflate: bool) -> Result<Vec<String>, Error> {
    let mut ws = connect(addr, path, deflate).await?;
    let mut texts = Vec::new();
    while let Some(msg) = ws.recv().await {
        match msg {
            Ok(Message::Text(t)) => {
                if echo {
                    ws.send(Message::Text(t)).await?;
                } else {
                    texts.push(t.as_str().to_owned());
                }
            }
            Ok(Message::Binary(b)) if echo => ws.send(Message::Binary(b)).await?,
            Ok(_) => {}
            // The peer broke the protocol: the right Close has been written; the case is
            // over.
            Err(Error::Protocol(_)) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(texts)
}
