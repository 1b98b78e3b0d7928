//! pushwire-tokio's Socket.IO client against the node servers of
//! `tests/interop/socketio-client/server.js` (socket.io 4.8.1 with protocol 5, socket.io
//! 2.5.1 with protocol 4):
//!
//! ```text
//! node tests/interop/socketio-client/server.js 3100 v4 &
//! cargo run -p pushwire-tokio --features socketio --example sio_client_check -- \
//!     http://127.0.0.1:3100/socket.io/ 5 [--transport upgrade|polling|websocket] \
//!     [--restart-cmd '<kill and restart the server>']
//! ```
//!
//! `--transport`: `upgrade` (default: polling, then the websocket upgrade), `polling` (no
//! upgrade) or `websocket` (websocket only).
//!
//! Protocol `5` (socket.io 3/4) or `4` (socket.io 2.x). Joins `/` and `/custom` over one
//! Engine.io connection (polling, then the websocket upgrade) and checks, one PASS/FAIL line
//! each: both connected multiplexed, the auth the server saw, `message-back` with strings,
//! numbers, binary and objects on both namespaces, the server's answer to an ack request,
//! our answer to the server's `question`, the websocket upgrade, staying up over heartbeats,
//! then (with `--restart-cmd`, a shell command that kills the server and starts it again on
//! the same port) a reconnection rejoining both namespaces, and last `kick-me` on `/custom`
//! ("io server disconnect", the socket ends, `/` still works, the server counts 1 then 0
//! `/custom` sockets, and 0 again after a second restart: not joined again). Exit code 0
//! when all pass.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use pushwire_tokio::engineio::TransportKind;
use pushwire_tokio::socketio::client::{
    connect, AckResponder, Client, ClientConfig, ClientEvent, ClientSocket, DisconnectReason, Map,
    ProtocolVersion, SioConfig, SocketEvent, Value,
};

const WAIT: Duration = Duration::from_secs(10);

struct Report {
    failed: usize,
    passed: usize,
}

impl Report {
    fn item(&mut self, name: &str, r: Result<String, String>) {
        match r {
            Ok(detail) => {
                self.passed += 1;
                println!("PASS {name}: {detail}");
            }
            Err(e) => {
                self.failed += 1;
                println!("FAIL {name}: {e}");
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .map_or("http://127.0.0.1:3100/socket.io/", String::as_str)
        .to_string();
    let protocol = match args.get(2).map(String::as_str) {
        Some("4") => ProtocolVersion::V4,
        _ => ProtocolVersion::V5,
    };
    let restart = args
        .iter()
        .position(|a| a == "--restart-cmd")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let transport = args
        .iter()
        .position(|a| a == "--transport")
        .and_then(|i| args.get(i + 1))
        .map_or("upgrade", String::as_str)
        .to_string();
    let mut report = Report {
        failed: 0,
        passed: 0,
    };
    let run = check(&url, protocol, &transport, restart, &mut report);
    if tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .is_err()
    {
        report.item("overall", Err("timed out".into()));
    }
    println!(
        "protocol {} {transport}: {} passed, {} failed",
        protocol.number(),
        report.passed,
        report.failed
    );
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn payload() -> Vec<Value> {
    vec![
        Value::from("hello 😀 中文"),
        Value::from(42u64),
        Value::from(-7i64),
        Value::parse("1.5").unwrap_or_default(),
        Value::Binary(Bytes::from_static(&[0, 1, 2, 254, 255])),
        Value::Object(Map::from_iter([(
            "nested",
            Value::Array(vec![Value::Bool(true), Value::Null, Value::from("x")]),
        )])),
    ]
}

/// The next event named `name` on `s` (other events are skipped), within [`WAIT`]; its
/// arguments and ack responder.
async fn wait_event(
    s: &mut ClientSocket,
    name: &str,
) -> Result<(Vec<Value>, Option<AckResponder>), String> {
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(until, s.recv()).await {
            Err(_) => return Err(format!("no `{name}` on {} within {WAIT:?}", s.nsp())),
            Ok(None) => return Err(format!("{} ended while waiting for `{name}`", s.nsp())),
            Ok(Some(SocketEvent::Event(e))) if e.name == name => return Ok((e.args, e.ack)),
            Ok(Some(SocketEvent::Disconnected { reason })) => {
                return Err(format!(
                    "{} disconnected ({}) while waiting for `{name}`",
                    s.nsp(),
                    reason.as_str()
                ))
            }
            Ok(Some(_)) => {}
        }
    }
}

/// The next `Connected` on `s`, skipping the rest; its sid.
async fn wait_connected(s: &mut ClientSocket) -> Result<String, String> {
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(until, s.recv()).await {
            Err(_) => return Err(format!("{} not connected within {WAIT:?}", s.nsp())),
            Ok(None) => return Err(format!("{} ended", s.nsp())),
            Ok(Some(SocketEvent::Connected { sid })) => return Ok(sid),
            Ok(Some(SocketEvent::ConnectError { data })) => {
                return Err(format!("{} refused: {data:?}", s.nsp()))
            }
            Ok(Some(_)) => {}
        }
    }
}

/// The next `Disconnected` on `s`; its reason.
async fn wait_disconnected(s: &mut ClientSocket) -> Result<DisconnectReason, String> {
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(until, s.recv()).await {
            Err(_) => return Err(format!("{} not disconnected within {WAIT:?}", s.nsp())),
            Ok(None) => return Err(format!("{} ended without Disconnected", s.nsp())),
            Ok(Some(SocketEvent::Disconnected { reason })) => return Ok(reason),
            Ok(Some(_)) => {}
        }
    }
}

/// The connection events so far.
async fn drain(client: &mut Client) -> Vec<ClientEvent> {
    let mut out = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(1), client.recv()).await {
        out.push(e);
    }
    out
}

async fn round_trip(s: &mut ClientSocket) -> Result<String, String> {
    let sent = payload();
    s.emit("message", &sent)
        .await
        .map_err(|e| format!("emit: {e}"))?;
    let (got, _) = wait_event(s, "message-back").await?;
    if got == sent {
        Ok(format!("{} arguments echoed on {}", got.len(), s.nsp()))
    } else {
        Err(format!("sent {sent:?}, got {got:?}"))
    }
}

/// Runs the restart command (kills the server, starts it again on the same port).
async fn run_restart(cmd: &str) -> Result<(), String> {
    let cmd = cmd.to_string();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh").arg("-c").arg(cmd).status()
    })
    .await;
    match status {
        Ok(Ok(s)) if s.success() => Ok(()),
        other => Err(format!("restart command: {other:?}")),
    }
}

/// Asks the server (on `/`) how many sockets `/custom` has; expects `want`.
async fn custom_count(root: &ClientSocket, want: u64) -> Result<(), String> {
    let ack = root
        .emit_with_ack("custom-count", &[], Some(Duration::from_secs(5)))
        .await
        .map_err(|e| e.to_string())?;
    let got = ack.await.map_err(|e| e.to_string())?;
    if got == [Value::from(want)] {
        Ok(())
    } else {
        Err(format!(
            "/custom sockets on the server: {got:?}, expected {want}"
        ))
    }
}

async fn check(
    url: &str,
    protocol: ProtocolVersion,
    transport: &str,
    restart: Option<String>,
    r: &mut Report,
) {
    let eio = ClientConfig::DEFAULT.engineio;
    let engine = match transport {
        "polling" => eio.engine.with_upgrade(false),
        "websocket" => eio.engine.with_websocket_only(true),
        _ => eio.engine,
    };
    let want = if transport == "polling" {
        TransportKind::Polling
    } else {
        TransportKind::WebSocket
    };
    let config = ClientConfig::DEFAULT
        .with_protocol(protocol)
        .with_engineio(eio.with_engine(engine))
        .with_socketio(
            SioConfig::DEFAULT
                .with_reconnection_delay(Duration::from_millis(300))
                .with_reconnection_delay_max(Duration::from_millis(1000)),
        );
    let mut client = match connect(url, config).await {
        Ok(c) => c,
        Err(e) => return r.item("connect", Err(e.to_string())),
    };
    let token = |t: &str| Value::Object(Map::from_iter([("token", Value::from(t))]));
    // Revision 4 joins `/` implicitly: its auth could only travel in the Engine.io query.
    let root_auth = (protocol == ProtocolVersion::V5).then(|| token("root-secret"));
    let mut root = match client.socket("/", root_auth.clone()).await {
        Ok(s) => s,
        Err(e) => return r.item("join /", Err(e.to_string())),
    };
    let mut custom = match client.socket("/custom", Some(token("custom-secret"))).await {
        Ok(s) => s,
        Err(e) => return r.item("join /custom", Err(e.to_string())),
    };

    // 1. Both namespaces connected over ONE Engine.io connection.
    let a = wait_connected(&mut root).await;
    let b = wait_connected(&mut custom).await;
    let opens = drain(&mut client)
        .await
        .iter()
        .filter(|e| matches!(e, ClientEvent::Open { .. }))
        .count();
    r.item(
        "connect / and /custom multiplexed",
        match (a, b) {
            (Ok(a), Ok(b)) if opens == 1 => Ok(format!("sids {a} and {b}, 1 Engine.io connection")),
            (Ok(_), Ok(_)) => Err(format!("{opens} Engine.io connections opened")),
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
    );

    // 2. The auth the server saw.
    let auth_check = |got: Result<(Vec<Value>, Option<AckResponder>), String>, want: &str| {
        let (args, _) = got?;
        let seen = args
            .first()
            .and_then(Value::as_object)
            .and_then(|m| m.get("token"))
            .and_then(Value::as_str);
        if seen == Some(want) {
            Ok(format!("server saw token {want:?}"))
        } else {
            Err(format!("server saw {args:?}"))
        }
    };
    if root_auth.is_some() {
        let got = wait_event(&mut root, "auth").await;
        r.item("auth on /", auth_check(got, "root-secret"));
    }
    let got = wait_event(&mut custom, "auth").await;
    r.item(
        if protocol == ProtocolVersion::V5 {
            "auth on /custom (CONNECT payload)"
        } else {
            "auth on /custom (namespace query)"
        },
        auth_check(got, "custom-secret"),
    );

    // 3. message → message-back on both namespaces.
    r.item("message-back on /", round_trip(&mut root).await);
    r.item("message-back on /custom", round_trip(&mut custom).await);

    // 4. The server answers our ack request (binary included: a BINARY_ACK).
    let sent = payload();
    let ack = async {
        let ack = custom
            .emit_with_ack("message-with-ack", &sent, Some(Duration::from_secs(5)))
            .await
            .map_err(|e| e.to_string())?;
        let got = ack.await.map_err(|e| e.to_string())?;
        if got == sent {
            Ok(format!("{} arguments in the ack", got.len()))
        } else {
            Err(format!("sent {sent:?}, ack {got:?}"))
        }
    };
    r.item("server answers our ack (/custom)", ack.await);

    // 5. We answer the server's ack request.
    let answer = vec![
        Value::from("forty-two"),
        Value::Binary(Bytes::from_static(&[4, 2])),
    ];
    let ours = async {
        root.emit("ask-client", &[])
            .await
            .map_err(|e| e.to_string())?;
        let (q, responder) = wait_event(&mut root, "question").await?;
        let responder = responder.ok_or("`question` came without an ack id")?;
        responder.send(&answer).await.map_err(|e| e.to_string())?;
        let (got, _) = wait_event(&mut root, "answer-was").await?;
        if got == answer {
            Ok(format!("asked {q:?}, server got our answer"))
        } else {
            Err(format!("answered {answer:?}, server got {got:?}"))
        }
    };
    r.item("we answer the server's ack (question)", ours.await);

    // 6. Heartbeats (pingInterval 300 ms): nothing drops for 1.5 s; the upgrade is done.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let lost = drain(&mut client)
        .await
        .into_iter()
        .filter(|e| !matches!(e, ClientEvent::Open { .. }))
        .collect::<Vec<_>>();
    r.item(
        "heartbeats for 1.5 s",
        if lost.is_empty() {
            round_trip(&mut root).await
        } else {
            Err(format!("connection events {lost:?}"))
        },
    );
    r.item(
        &format!("transport ({transport})"),
        match client.transport() {
            Some(t) if t == want => Ok(format!("on {t:?}")),
            t => Err(format!("transport {t:?}, expected {want:?}")),
        },
    );

    // 7. The server process restarts: both namespaces are joined again.
    if let Some(cmd) = &restart {
        let reconnect = async {
            run_restart(cmd).await?;
            let a = wait_disconnected(&mut root).await?;
            let b = wait_disconnected(&mut custom).await?;
            if a != DisconnectReason::TransportClose || b != DisconnectReason::TransportClose {
                return Err(format!("reasons {} / {}", a.as_str(), b.as_str()));
            }
            let sa = wait_connected(&mut root).await?;
            let sb = wait_connected(&mut custom).await?;
            let events = drain(&mut client).await;
            let attempts = events.iter().find_map(|e| match e {
                ClientEvent::Reconnected { attempts } => Some(*attempts),
                _ => None,
            });
            let attempts = attempts.ok_or(format!("no Reconnected in {events:?}"))?;
            round_trip(&mut root).await?;
            round_trip(&mut custom).await?;
            Ok(format!(
                "transport close, reconnected after {attempts} attempt(s), new sids {sa} and {sb}, messages flow on both"
            ))
        };
        r.item("reconnection after a server restart", reconnect.await);
    }

    // 8. kick-me: "io server disconnect", the socket ends, `/` stays.
    let kick = async {
        // The count below can tell: 1 before the kick.
        custom_count(&root, 1).await?;
        custom
            .emit("kick-me", &[])
            .await
            .map_err(|e| e.to_string())?;
        let reason = wait_disconnected(&mut custom).await?;
        if reason != DisconnectReason::IoServerDisconnect {
            return Err(format!("reason {}", reason.as_str()));
        }
        // Left for good: the socket ends, nothing joins it again.
        match tokio::time::timeout(Duration::from_secs(1), custom.recv()).await {
            Ok(None) => {}
            other => return Err(format!("after the kick: {other:?}")),
        }
        round_trip(&mut root).await?;
        custom_count(&root, 0).await?;
        Ok(
            "io server disconnect, /custom ended, / still answers, server has 0 /custom sockets"
                .into(),
        )
    };
    r.item("kick-me on /custom", kick.await);

    // 9. Not joined again after a reconnection either.
    if let Some(cmd) = &restart {
        let after = async {
            run_restart(cmd).await?;
            let reason = wait_disconnected(&mut root).await?;
            let sid = wait_connected(&mut root).await?;
            // Time for a CONNECT to /custom, were one sent.
            tokio::time::sleep(Duration::from_millis(500)).await;
            custom_count(&root, 0).await?;
            Ok(format!(
                "{}, / back as {sid}, server has 0 /custom sockets",
                reason.as_str()
            ))
        };
        r.item(
            "no rejoin of the kicked /custom after a restart",
            after.await,
        );
    }

    client.close().await;
    r.item(
        "close",
        match wait_disconnected(&mut root).await {
            Ok(DisconnectReason::IoClientDisconnect) => Ok("io client disconnect".into()),
            Ok(other) => Err(format!("reason {}", other.as_str())),
            Err(e) => Err(e),
        },
    );
}
