//! The auth of a revision 4 CONNECT, which travels as a query string.

use alloc::string::String;
use alloc::vec::Vec;

use crate::client::error::ConnectError;
use crate::value::Value;

/// socket.io-client 2's `parseqs.encode`: `key=value` pairs joined by `&`, each side through
/// `encodeURIComponent`; a value as `String(value)` would print it.
pub(super) fn to_query(auth: &Value) -> Result<String, ConnectError> {
    let Value::Object(map) = auth else {
        return Err(ConnectError::InvalidQueryAuth);
    };
    let mut out = String::new();
    for (k, v) in map.iter() {
        let mut text = String::new();
        match v {
            Value::String(s) => text.push_str(s),
            Value::Number(_) | Value::Bool(_) | Value::Null => {
                v.to_json(&mut text, &mut Vec::new());
            }
            _ => return Err(ConnectError::InvalidQueryAuth),
        }
        if !out.is_empty() {
            out.push('&');
        }
        encode_uri_component(&mut out, k);
        out.push('=');
        encode_uri_component(&mut out, &text);
    }
    Ok(out)
}

/// ECMAScript's `encodeURIComponent`: everything but `A–Z a–z 0–9 - _ . ! ~ * ' ( )` as
/// `%XX` of its UTF-8 bytes.
fn encode_uri_component(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Map;

    #[test]
    fn queries_encode_as_parseqs_does() {
        let auth: Map = [
            ("token", Value::from("a b&c")),
            ("n", Value::from(1u64)),
            ("ok", Value::from(true)),
            ("é", Value::from("~*'()")),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            to_query(&Value::Object(auth)).unwrap(),
            "token=a%20b%26c&n=1&ok=true&%C3%A9=~*'()"
        );
        assert_eq!(
            to_query(&Value::from("x")),
            Err(ConnectError::InvalidQueryAuth)
        );
        let nested: Map = [("a", Value::Array(Vec::new()))].into_iter().collect();
        assert_eq!(
            to_query(&Value::Object(nested)),
            Err(ConnectError::InvalidQueryAuth)
        );
    }
}
