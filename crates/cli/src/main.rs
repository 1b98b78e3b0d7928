//! `pushwire` — the demo server and wire tools built on the pushwire codecs.
//!
//! `pushwire serve [--addr 127.0.0.1:8080]` serves the demo page. The codecs stay
//! runtime-free; this binary is the I/O layer that drives them.

mod serve;

use std::process::ExitCode;

const USAGE: &str = "usage: pushwire <command>

commands:
  serve [--addr HOST:PORT]   run the demo server (default 127.0.0.1:8080)
  help                       print this text";

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
