//! `pushwire` — the demo server and wire tools built on the pushwire codecs.
//!
//! `pushwire serve [--addr 127.0.0.1:8080]` serves the demo page; `pushwire decode …` and
//! `pushwire encode …` turn wire bytes into JSON lines and back (docs/cli.md). The codecs stay
//! runtime-free; this binary is the I/O layer that drives them.

mod demo;
mod eio;
mod http;
mod loadtest;
mod loadtest_fleet;
mod loadtest_hostile;
mod loadtest_sio;
mod os;
mod serve;
mod sio;
mod siochat;
mod siofleet;
mod siowire;
mod tls;
mod wire;
mod wslink;

use std::process::ExitCode;

const USAGE: &str = "usage: pushwire <command>

commands:
  serve [--addr HOST:PORT] [--max-conns N] [--threads N] [--tls-cert PEM --tls-key PEM | --self-signed]
        [--reference-apps] [--redis redis://HOST:PORT/ [--redis-wire redis-adapter-8|socket.io-redis-5]]
                                            run the demo server (default 127.0.0.1:8080)
  decode sse                                event stream on stdin -> JSON lines
  decode ws --role server|client            WebSocket frames as that role receives them
  decode eio3 packet|payload [--binary]     Engine.io v3 packet or polling payload
  decode eio4 packet [--binary]|payload     Engine.io v4 packet or polling payload
  decode socketio --protocol 4|5            Engine.io messages (JSON lines) -> Socket.IO packets
  encode sse                                JSON lines -> event stream
  encode eio3 packet|payload [--binary]     JSON lines -> Engine.io v3 packet or payload
  encode eio4 packet [--binary]|payload     JSON lines -> Engine.io v4 packet or payload
  encode socketio --protocol 4|5            Socket.IO packets -> Engine.io messages (JSON lines)
  help                                      print this text

decode/encode exit with 0 for well-formed input, 1 for malformed input, 2 for usage errors.";

fn wire_exit(name: &str, r: std::io::Result<wire::Outcome>) -> ExitCode {
    match r {
        Ok(wire::Outcome::Ok) => ExitCode::SUCCESS,
        Ok(wire::Outcome::Malformed) => ExitCode::from(1),
        Ok(wire::Outcome::Usage(e)) => {
            eprintln!("pushwire {name}: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pushwire {name}: {e}");
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => match serve::Options::parse(&args[1..]) {
            Ok(opts) => match serve::run(opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("pushwire serve: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("pushwire serve: {e}\n\n{USAGE}");
                ExitCode::from(2)
            }
        },
        // The load check of `cargo xtask interop` (docs/cli.md) and the Socket.IO broadcast
        // benchmark (docs/performance.md), not in the usage text.
        Some("loadtest") => {
            let outcome = if args.iter().any(|a| a == "--hostile") {
                loadtest_hostile::Options::parse(&args[1..]).map(loadtest_hostile::run)
            } else if args.iter().any(|a| a == "--sio-fleet") {
                loadtest_fleet::Options::parse(&args[1..]).map(loadtest_fleet::run)
            } else if args.iter().any(|a| a == "--sio-broadcast") {
                loadtest_sio::Options::parse(&args[1..]).map(loadtest_sio::run)
            } else {
                loadtest::Options::parse(&args[1..]).map(loadtest::run)
            };
            match outcome {
                Ok(Ok(())) => ExitCode::SUCCESS,
                Ok(Err(e)) => {
                    eprintln!("pushwire loadtest: FAILED: {e}");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("pushwire loadtest: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some("decode") => wire_exit("decode", wire::decode(&args[1..])),
        Some("encode") => wire_exit("encode", wire::encode(&args[1..])),
        Some("help") | Some("--help") | Some("-h") | None => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("pushwire: unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
