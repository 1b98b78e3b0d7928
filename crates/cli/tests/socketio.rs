//! `pushwire decode socketio` / `pushwire encode socketio` run as a process on the
//! socket.io-parser vectors in `crates/socketio/tests/fixtures/sio-vectors.json` (written by
//! `tests/interop/node/gen-sio-vectors.js` with socket.io-parser 3.4.3 and 4.2.7): every
//! expected output comes from the reference parsers.

use std::io::Write;
use std::process::{Command, Stdio};

use pushwire_socketio::Value as Ordered;
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("../../socketio/tests/fixtures/sio-vectors.json");

/// Runs `pushwire <args>` with `input` on stdin; returns the stdout lines as JSON and the
/// exit status.
fn run(args: &[&str], input: &str) -> (Vec<Value>, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pushwire"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pushwire");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let lines = String::from_utf8(out.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    (lines, out.status.code().unwrap_or(-1))
}

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

/// The fixture's encode cases with their packets as JSON text in the fixture's key order
/// (read through pushwire-socketio's `Value`, which keeps it; `serde_json::Value` sorts).
fn encode_cases() -> Vec<(String, u64, String, Vec<Value>)> {
    #[derive(serde::Deserialize)]
    struct F {
        encode: Vec<C>,
    }
    #[derive(serde::Deserialize)]
    struct C {
        name: String,
        version: u64,
        packet: Ordered,
        messages: Vec<Value>,
    }
    let f: F = serde_json::from_str(FIXTURE).unwrap();
    f.encode
        .into_iter()
        .map(|c| {
            (
                c.name,
                c.version,
                serde_json::to_string(&c.packet).unwrap(),
                c.messages,
            )
        })
        .collect()
}

fn protocol(version: u64) -> &'static str {
    if version == 4 {
        "4"
    } else {
        "5"
    }
}

#[test]
fn encode_socketio_matches_the_reference() {
    let cases = encode_cases();
    assert!(cases.len() > 150);
    for (name, version, packet, messages) in &cases {
        let (got, code) = run(
            &["encode", "socketio", "--protocol", protocol(*version)],
            &format!("{packet}\n"),
        );
        assert_eq!(code, 0, "{name}");
        assert_eq!(&got, messages, "{name}");
    }
}

/// Objects compared as maps (`serde_json::Value` does), numbers as doubles.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn decode_socketio_reads_what_the_reference_encodes() {
    let f = fixture();
    let cases = f["encode"].as_array().unwrap();
    for c in cases {
        let input: String = c["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| format!("{m}\n"))
            .collect();
        let v = c["version"].as_u64().unwrap();
        let (got, code) = run(&["decode", "socketio", "--protocol", protocol(v)], &input);
        assert_eq!(code, 0, "{}", c["name"]);
        assert_eq!(got.len(), 1, "{}", c["name"]);
        assert!(
            same(&got[0], &c["packet"]),
            "{}: got {}, the reference encoded {}",
            c["name"],
            got[0],
            c["packet"]
        );
    }
}

/// The `DecodeError::kind`s that answer a reference error message.
fn kinds(message: &str) -> &'static [&'static str] {
    let m = message.strip_prefix("parser error: ").unwrap_or(message);
    if m.starts_with("unknown packet type") {
        return &["unknown_type", "empty"];
    }
    match m {
        "Illegal attachments" => &["illegal_attachments"],
        "too many attachments" => &["too_many_attachments"],
        "invalid payload" => &["invalid_json", "invalid_payload", "reserved_event_name"],
        "illegal attachments" => &["illegal_placeholder"],
        "got plaintext data when reconstructing a packet" => &["unexpected_text"],
        "got binary data when not reconstructing a packet" => &["unexpected_binary"],
        _ => &[],
    }
}

#[test]
fn decode_socketio_fails_where_the_reference_fails() {
    let f = fixture();
    // The cases pushwire-socketio lists as deliberate divergences, in its own differential
    // test against the same vectors.
    let listed = include_str!("../../socketio/tests/differential.rs");
    let listed = &listed[listed.find("const DIVERGENCES").unwrap()..];
    let mut checked = 0;
    for c in f["decode"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let Some(error) = c["error"].as_str() else {
            continue;
        };
        if listed.contains(&format!("{name:?}")) {
            continue;
        }
        let input: String = c["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| format!("{m}\n"))
            .collect();
        let v = c["version"].as_u64().unwrap();
        let (got, code) = run(&["decode", "socketio", "--protocol", protocol(v)], &input);
        assert_eq!(code, 1, "{name}");
        let packets = c["packets"].as_array().unwrap();
        assert_eq!(got.len(), packets.len() + 1, "{name}: {got:?}");
        let last = got.last().unwrap()["error"].as_str().unwrap_or("");
        assert!(
            kinds(error).contains(&last),
            "{name}: pushwire {last}, reference {error:?}"
        );
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn decode_socketio_reports_an_incomplete_packet_and_bad_lines() {
    // A binary packet whose attachment never comes.
    let (got, code) = run(
        &["decode", "socketio", "--protocol", "5"],
        "{\"text\":\"51-[\\\"a\\\",{\\\"_placeholder\\\":true,\\\"num\\\":0}]\"}\n",
    );
    assert_eq!((got, code), (vec![json!({"error": "incomplete"})], 1));
    // A line that is not a message object: nothing on stdout, exit 1.
    for bad in ["[1]\n", "{\"text\":1}\n", "{\"txt\":\"2\"}\n", "not json\n"] {
        let (got, code) = run(&["decode", "socketio", "--protocol", "4"], bad);
        assert_eq!((got.len(), code), (0, 1), "{bad}");
    }
}

#[test]
fn encode_socketio_refuses_what_it_cannot_build() {
    for (protocol, line) in [
        ("5", r#"{"type":"EVENT","data":["connect"]}"#), // reserved name
        ("5", r#"{"type":"CONNECT","data":[]}"#),        // not an object
        ("4", r#"{"type":"EVENT","nsp":"admin","data":["a"]}"#), // namespace without '/'
        ("4", r#"{"type":"PING"}"#),
        ("4", r#"{"type":"ACK","id":-1,"data":[]}"#),
        (
            "4",
            r#"{"type":"CONNECT","data":{"k":{"_binary_base64":"AQ=="}}}"#,
        ),
        ("4", r#"{"type":"EVENT","data":["a"],"extra":1}"#),
    ] {
        let (got, code) = run(
            &["encode", "socketio", "--protocol", protocol],
            &format!("{line}\n"),
        );
        assert_eq!((got.len(), code), (0, 1), "{line}");
    }
}

#[test]
fn socketio_usage_errors_exit_2() {
    for args in [
        &["decode", "socketio"][..],
        &["decode", "socketio", "--protocol"],
        &["decode", "socketio", "--protocol", "3"],
        &["encode", "socketio", "--protocol", "6"],
        &["encode", "socketio", "4"],
    ] {
        assert_eq!(run(args, "").1, 2, "{args:?}");
    }
}
