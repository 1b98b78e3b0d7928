//! Client for Autobahn|Testsuite's `fuzzingserver` on pushwire-tokio (see
//! ../shared/AUTOBAHN.md): fetches the case count, echoes every message of every case through
//! [`WebSocketStream::client`], then asks the server to write its reports. It offers
//! permessage-deflate; pass `--no-deflate` after the address to offer nothing.
//!
//! ```text
//! cargo run --release -p pushwire-tokio --example autobahn_client -- 127.0.0.1:9001
//! ```

use std::time::Duration;

use pushwire_tokio::{Config, Error, Message, WebSocketStream};
use tokio::net::TcpStream;

const AGENT: &str = "pushwire";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let deflate = !std::env::args().any(|a| a == "--no-deflate");
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
        match tokio::time::timeout(Duration::from_secs(60), run(&addr, &path, true, deflate)).await
        {
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

/// Runs one connection; with `echo`, echoes every data message. Returns the text messages
/// received.
async fn run(addr: &str, path: &str, echo: bool, deflate: bool) -> Result<Vec<String>, Error> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    // Autobahn 9.* sends 16 MiB messages, and 4 MiB messages in 64-byte fragments.
    let mut config = Config::DEFAULT.with_max_fragments(1 << 20);
    if !deflate {
        config = config.with_deflate(None);
    }
    let mut ws = WebSocketStream::client(tcp, addr, path, config).await?;
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
