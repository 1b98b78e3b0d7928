//! `Value::to_json` (deconstruct: binary out as attachments, placeholders in) against
//! `Value::from_json` (reconstruct). Oracle: for a value built from the fuzz input,
//! reconstruct ∘ deconstruct is the identity (numbers compared as the doubles JavaScript
//! holds, since the JSON is written as `JSON.stringify` writes it), the attachments are the
//! binaries in depth-first order, and writing the result again gives the same text. A value
//! holding an object `{"_placeholder": true, …}` of its own is read back as an attachment
//! (as socket.io-parser does); there the oracle only requires a documented result. Then the
//! same fuzz input as raw JSON text with attachments: whatever `from_json` accepts writes
//! back to JSON that parses to the same value.
#![no_main]

use arbitrary::Unstructured;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pushwire_socketio::{DecodeError, Map, Value};

/// Deep enough to reach every branch, below the 128 levels JSON may nest.
const MAX_DEPTH: usize = 48;

fn arb_value(u: &mut Unstructured<'_>, depth: usize) -> arbitrary::Result<Value> {
    let pick: u8 = if depth >= MAX_DEPTH {
        u.int_in_range(0..=6)?
    } else {
        u.int_in_range(0..=8)?
    };
    Ok(match pick {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<u64>()?),
        3 => Value::from(u.arbitrary::<i64>()?),
        4 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 => Value::String(u.arbitrary()?),
        6 => Value::Binary(Bytes::from(u.arbitrary::<Vec<u8>>()?)),
        7 => {
            let n = u.int_in_range(0..=6)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(arb_value(u, depth + 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let n = u.int_in_range(0..=6)?;
            let mut m = Map::new();
            for _ in 0..n {
                let k: String = u.arbitrary()?;
                m.insert(k, arb_value(u, depth + 1)?);
            }
            Value::Object(m)
        }
    })
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k, v), (l, w))| k == l && same(v, w))
        }
        _ => a == b,
    }
}

/// Whether the value holds an object whose `_placeholder` is `true` (read as an attachment).
fn has_placeholder_object(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().any(has_placeholder_object),
        Value::Object(m) => {
            matches!(m.get("_placeholder"), Some(Value::Bool(true)))
                || m.iter().any(|(_, v)| has_placeholder_object(v))
        }
        _ => false,
    }
}

fn binaries(v: &Value, out: &mut Vec<Bytes>) {
    match v {
        Value::Binary(b) => out.push(b.clone()),
        Value::Array(items) => items.iter().for_each(|v| binaries(v, out)),
        Value::Object(m) => m.iter().for_each(|(_, v)| binaries(v, out)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(v) = arb_value(&mut u, 0) else {
        return;
    };
    let mut text = String::new();
    let mut attachments = Vec::new();
    v.to_json(&mut text, &mut attachments);
    let mut expected = Vec::new();
    binaries(&v, &mut expected);
    assert_eq!(attachments, expected, "attachments in depth-first order");
    let back = Value::from_json(&text, &attachments);
    if has_placeholder_object(&v) {
        assert!(
            matches!(back, Ok(_) | Err(DecodeError::IllegalPlaceholder)),
            "{back:?} for {text}"
        );
    } else {
        let back = back.unwrap_or_else(|e| panic!("{e}: {text}"));
        assert!(same(&back, &v), "{back:?} from {text}, built from {v:?}");
        let mut again = String::new();
        let mut att2 = Vec::new();
        back.to_json(&mut again, &mut att2);
        assert_eq!(again, text, "writing is deterministic");
        assert_eq!(att2, attachments);
    }

    // The input as raw JSON text, with up to three attachments cut from its tail.
    let Ok(raw) = core::str::from_utf8(data) else {
        return;
    };
    let atts: Vec<Bytes> = raw
        .as_bytes()
        .chunks(4)
        .take(3)
        .map(Bytes::copy_from_slice)
        .collect();
    match Value::from_json(raw, &atts) {
        Ok(v) => {
            let mut text = String::new();
            let mut out = Vec::new();
            v.to_json(&mut text, &mut out);
            let again = Value::from_json(&text, &out).expect("our own JSON reads back");
            if !has_placeholder_object(&v) {
                assert!(same(&again, &v), "{again:?} from {text}, was {v:?}");
            }
        }
        Err(DecodeError::InvalidJson | DecodeError::IllegalPlaceholder) => {}
        Err(e) => panic!("undocumented error {e:?}"),
    }
});
