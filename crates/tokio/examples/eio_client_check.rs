//! pushwire-tokio's Engine.io client against an echo server (the interop check
//! `engineio-client-v6` runs it against engine.io 6.6):
//!
//! ```text
//! cargo run -p pushwire-tokio --features engineio --example eio_client_check -- \
//!     http://127.0.0.1:3002/engine.io/ 4 upgrade
//! ```
//!
//! Revision `3` or `4`; mode `polling`, `websocket` or `upgrade`. Sends text and binary
//! messages, expects each echoed once and in order, stays open over several heartbeats
//! (1.5 s; start the server with a short ping interval), checks the transport, then closes.
//! Prints one line; exit code 0 on success.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use pushwire_tokio::engineio::client::{connect, Client, ClientConfig};
use pushwire_tokio::engineio::pushwire_engineio::client::Config as SessionConfig;
use pushwire_tokio::engineio::{PacketData, ProtocolVersion, TransportKind};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .map_or("http://127.0.0.1:3002/engine.io/", String::as_str);
    let protocol = match args.get(2).map(String::as_str) {
        Some("3") => ProtocolVersion::V3,
        _ => ProtocolVersion::V4,
    };
    let mode = args.get(3).map_or("upgrade", String::as_str);
    match tokio::time::timeout(Duration::from_secs(20), check(url, protocol, mode)).await {
        Ok(Ok(summary)) => {
            println!("ok   EIO={} {mode}: {summary}", protocol.number());
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            println!("FAIL EIO={} {mode}: {e}", protocol.number());
            ExitCode::FAILURE
        }
        Err(_) => {
            println!("FAIL EIO={} {mode}: timed out", protocol.number());
            ExitCode::FAILURE
        }
    }
}

async fn check(url: &str, protocol: ProtocolVersion, mode: &str) -> Result<String, String> {
    let session = match mode {
        "polling" => SessionConfig::DEFAULT.with_upgrade(false),
        "websocket" => SessionConfig::DEFAULT.with_websocket_only(true),
        _ => SessionConfig::DEFAULT,
    };
    let config = ClientConfig::DEFAULT.with_engine(session.with_protocol(protocol));
    let mut client = connect(url, config).await.map_err(|e| e.to_string())?;
    let messages = [
        PacketData::Text("hello".into()),
        PacketData::Text("😀 astral 🎉 中文字".into()),
        PacketData::Text("line\u{2028}sep".into()),
        PacketData::Binary(Bytes::from_static(&[0, 1, 2, 254, 255])),
        PacketData::Text("b4AQID".into()),
        PacketData::Text("x".repeat(5000)),
        PacketData::Binary(Bytes::from(vec![0xa5; 1000])),
    ];
    round(&mut client, &messages, "first round").await?;
    // Several heartbeats (the server's ping interval is short): the session stays open.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    if let Some(r) = client.close_reason() {
        return Err(format!("closed during the heartbeats ({r:?})"));
    }
    round(&mut client, &messages, "after the heartbeats").await?;
    let want = if mode == "polling" {
        TransportKind::Polling
    } else {
        TransportKind::WebSocket
    };
    if client.transport() != want {
        return Err(format!(
            "transport {:?}, expected {want:?}",
            client.transport()
        ));
    }
    client.close().await;
    if client.recv().await.is_some() {
        return Err("a message after close".into());
    }
    Ok(format!(
        "{} messages echoed over {:?}, sid {}",
        2 * messages.len(),
        want,
        client.handshake().sid
    ))
}

/// Sends every message, expects each back once and in order.
async fn round(client: &mut Client, messages: &[PacketData], label: &str) -> Result<(), String> {
    for m in messages {
        client.send(m.clone()).await.map_err(|e| e.to_string())?;
    }
    for (i, m) in messages.iter().enumerate() {
        match client.recv().await {
            Some(got) if &got == m => {}
            other => {
                let shown = other.map(|d| format!("{d:?}").chars().take(40).collect::<String>());
                return Err(format!("{label}: message {i} came back as {shown:?}"));
            }
        }
    }
    Ok(())
}
