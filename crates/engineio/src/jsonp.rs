//! JSONP polling bodies (the `j` query parameter).
//!
//! - Response (server → client): `___eio[<j>]("<text payload as a JS string literal>");`,
//!   escaped as engine.io 3.x does it: `JSON.stringify`, then U+2028 and U+2029 as `\u2028`
//!   and `\u2029` (valid JSON, but line terminators inside a JavaScript string literal).
//! - Request (client → server): an `application/x-www-form-urlencoded` body `d=<payload>`,
//!   where the client first wrote each backslash-`n` pair as `\\n` and each newline as `\n`
//!   (engine.io-client 3.x, to survive browsers turning `\n` into `\r\n` in form fields).

use alloc::string::String;
use alloc::vec::Vec;

use bytes::BufMut;

use crate::error::JsonpError;
use crate::sink::decimal;

/// Appends the JSONP response `___eio[<index>]("<payload>");` to `out`.
///
/// > The format of a JSONP packet.
/// >
/// > ```text
/// > `___eio[` <j> `]("` <encoded payload> `");`
/// > ```
///
/// The payload is escaped exactly like engine.io 3.x's
/// `JSON.stringify(data).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')`:
/// `"` and `\` with a backslash; `\b \f \n \r \t` by name; other characters below U+0020
/// as `\u00xx` (lowercase hex); U+2028 and U+2029 as `\u2028`, `\u2029`; everything else
/// unchanged.
///
/// ```
/// let mut out = Vec::new();
/// pushwire_engineio::encode_jsonp_response(4, "6:4a\"b\n", &mut out);
/// assert_eq!(out, br#"___eio[4]("6:4a\"b\n");"#);
/// ```
pub fn encode_jsonp_response<B: BufMut>(index: u64, payload: &str, out: &mut B) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.put_slice(b"___eio[");
    out.put_slice(decimal(index, b'0', &mut [0; 20]));
    out.put_slice(b"](\"");
    let bytes = payload.as_bytes();
    let mut start = 0;
    for (i, c) in payload.char_indices() {
        let esc: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\u{8}' => b"\\b",
            '\u{c}' => b"\\f",
            '\n' => b"\\n",
            '\r' => b"\\r",
            '\t' => b"\\t",
            '\u{2028}' => b"\\u2028",
            '\u{2029}' => b"\\u2029",
            // Below U+0020: `c` is one byte.
            c if c < ' ' => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c as u8 >> 4)],
                HEX[usize::from(c as u8 & 15)],
            ],
            _ => continue,
        };
        out.put_slice(&bytes[start..i]);
        out.put_slice(esc);
        start = i + c.len_utf8();
    }
    out.put_slice(&bytes[start..]);
    out.put_slice(b"\");");
}

/// Reads a JSONP response body (`___eio[<j>]("…");`) back into the text payload and the
/// index `j`. For the client role.
///
/// # Errors
/// [`JsonpError::MalformedResponse`].
pub fn decode_jsonp_response(body: &str) -> Result<(u64, String), JsonpError> {
    let rest = body
        .strip_prefix("___eio[")
        .ok_or(JsonpError::MalformedResponse)?;
    let close = rest.find(']').ok_or(JsonpError::MalformedResponse)?;
    let digits = &rest[..close];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(JsonpError::MalformedResponse);
    }
    let index: u64 = digits.parse().map_err(|_| JsonpError::MalformedResponse)?;
    let literal = rest[close + 1..]
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(");"))
        .ok_or(JsonpError::MalformedResponse)?;
    if !literal.starts_with('"') {
        return Err(JsonpError::MalformedResponse);
    }
    let payload: String =
        serde_json::from_str(literal).map_err(|_| JsonpError::MalformedResponse)?;
    Ok((index, payload))
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` decoding of one name or value: `+` is a space,
/// `%XX` a byte.
pub(crate) fn form_decode(s: &[u8]) -> Result<Vec<u8>, JsonpError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = s.get(i + 1).copied().and_then(hex_val);
                let lo = s.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => return Err(JsonpError::InvalidPercentEncoding),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(out)
}

/// Reads a JSONP request body `d=<form-encoded payload>` back into the text payload, as
/// engine.io 3.x does:
///
/// ```text
/// data = qs.parse(data).d;
/// // client will send already escaped newlines as \\\\n and newlines as \\n
/// data = data.replace(/(\\)?\\n/g, (match, slashes) => slashes ? match : '\n');
/// data = data.replace(/\\\\n/g, '\\n');
/// ```
///
/// > In addition to the regular qs escaping, in order to prevent inconsistencies with `\n`
/// > handling by browsers, `\n` gets escaped as `\\n` prior to being POSTd.
///
/// Other fields of the form are ignored. The result is a text payload for
/// [`crate::decode_text_payload`].
///
/// ```
/// let payload = pushwire_engineio::decode_jsonp_request(b"d=7%3A4a%5Cnb%5C%5Cn").unwrap();
/// assert_eq!(payload, "7:4a\nb\\n");
/// ```
///
/// # Errors
/// [`JsonpError::MissingData`], [`JsonpError::DuplicateData`],
/// [`JsonpError::InvalidPercentEncoding`], [`JsonpError::InvalidUtf8`].
pub fn decode_jsonp_request(body: &[u8]) -> Result<String, JsonpError> {
    let mut found: Option<&[u8]> = None;
    for pair in body.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &[][..]),
        };
        if form_decode(name).ok().as_deref() == Some(b"d") {
            if found.is_some() {
                return Err(JsonpError::DuplicateData);
            }
            found = Some(value);
        }
    }
    let raw = form_decode(found.ok_or(JsonpError::MissingData)?)?;
    let data = String::from_utf8(raw).map_err(|_| JsonpError::InvalidUtf8)?;
    Ok(unescape_newlines(&data))
}

/// The two `replace` calls of engine.io 3.x's JSONP `onData`, as one left-to-right scan
/// each (same leftmost, non-overlapping matches as the regular expressions).
fn unescape_newlines(data: &str) -> String {
    // Pass 1: `/(\\)?\\n/g` — `\\n` stays, `\n` becomes a newline.
    let b = data.as_bytes();
    let mut pass1 = String::with_capacity(data.len());
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'\\') && b.get(i + 2) == Some(&b'n') {
                i += 3;
                continue;
            }
            if b.get(i + 1) == Some(&b'n') {
                pass1.push_str(&data[start..i]);
                pass1.push('\n');
                i += 2;
                start = i;
                continue;
            }
        }
        i += 1;
    }
    pass1.push_str(&data[start..]);
    // Pass 2: `/\\\\n/g` — `\\n` becomes `\n`.
    let b = pass1.as_bytes();
    let mut out = String::with_capacity(pass1.len());
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'\\') && b.get(i + 2) == Some(&b'n') {
            out.push_str(&pass1[start..i]);
            out.push_str("\\n");
            i += 3;
            start = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&pass1[start..]);
    out
}

/// Appends the JSONP request body for `payload` to `out`, as engine.io-client 3.x and a
/// browser's form submission produce it: backslash-`n` written `\\n`, newlines written
/// `\n`, then `application/x-www-form-urlencoded` (`d=`, space as `+`, bytes other than
/// ASCII alphanumerics and `*-._` as `%XX`). For the client role.
///
/// The escaping is lossy in one case, in the reference too: a backslash followed by a
/// newline arrives as a backslash followed by `n`.
///
/// ```
/// let mut out = Vec::new();
/// pushwire_engineio::encode_jsonp_request("7:4a\nb\\n", &mut out);
/// assert_eq!(out, b"d=7%3A4a%5Cnb%5C%5Cn");
/// ```
pub fn encode_jsonp_request<B: BufMut>(payload: &str, out: &mut B) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.put_slice(b"d=");
    let put = |b: u8, out: &mut B| {
        if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') {
            out.put_u8(b);
        } else if b == b' ' {
            out.put_u8(b'+');
        } else {
            out.put_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    };
    let b = payload.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // engine.io-client: `data.replace(/\\n/g, '\\\n')` then `.replace(/\n/g, '\\n')`.
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'n') {
            for &c in b"\\\\n" {
                put(c, out);
            }
            i += 2;
        } else if b[i] == b'\n' {
            for &c in b"\\n" {
                put(c, out);
            }
            i += 1;
        } else {
            put(b[i], out);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(p: &str) -> String {
        let mut out = Vec::new();
        encode_jsonp_response(7, p, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn req(p: &str) -> String {
        let mut out = Vec::new();
        encode_jsonp_request(p, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn newline_unescaping_matches_the_two_regular_expressions() {
        // engine.io 3.x: `data.replace(/(\\)?\\n/g, (m, s) => s ? m : '\n')` then
        // `.replace(/\\\\n/g, '\\n')`; expected values worked out by hand from those.
        // `\n` then `n`: the first becomes a newline.
        assert_eq!(unescape_newlines(r"\nn"), "\nn");
        // Four backslashes and `n`: the first pass matches the last two backslashes and the
        // `n` with its optional group and keeps them; the second turns them into `\n`.
        assert_eq!(unescape_newlines(r"\\\\n"), r"\\\n");
        // A backslash before another letter is left alone by both.
        assert_eq!(unescape_newlines(r"\xn"), r"\xn");
    }

    #[test]
    fn form_decoding_takes_lowercase_hex() {
        assert_eq!(form_decode(b"%2a%2A%7e").unwrap(), b"**~");
        assert_eq!(decode_jsonp_request(b"d=1%3a4").unwrap(), "1:4");
    }

    #[test]
    fn response_index_is_digits_only() {
        // `"+1".parse::<u64>()` would accept it: the digits check must refuse it first.
        assert_eq!(
            decode_jsonp_response(r#"___eio[+1]("x");"#),
            Err(JsonpError::MalformedResponse)
        );
        assert_eq!(
            decode_jsonp_response(r#"___eio[]("x");"#),
            Err(JsonpError::MalformedResponse)
        );
        assert_eq!(
            decode_jsonp_response(r#"___eio[12]("x");"#),
            Ok((12, "x".into()))
        );
    }

    #[test]
    fn spec_example_response() {
        // > ___eio[4]("packet data");
        let mut out = Vec::new();
        encode_jsonp_response(4, "packet data", &mut out);
        assert_eq!(out, br#"___eio[4]("packet data");"#);
    }

    #[test]
    fn response_escapes_like_json_stringify_plus_line_separators() {
        assert_eq!(
            resp("a\u{2028}b\u{2029}c"),
            r#"___eio[7]("a\u2028b\u2029c");"#
        );
        assert_eq!(
            resp("\u{0}\u{1f}\u{7f}\t\r\u{8}\u{c}é😀"),
            "___eio[7](\"\\u0000\\u001f\u{7f}\\t\\r\\b\\fé😀\");"
        );
        assert_eq!(resp(r#"q"\"#), r#"___eio[7]("q\"\\");"#);
    }

    #[test]
    fn response_roundtrips() {
        for p in ["", "6:4hello", "a\u{2028}\"\\\n\u{1}😀"] {
            assert_eq!(decode_jsonp_response(&resp(p)), Ok((7, p.into())));
        }
        assert_eq!(
            decode_jsonp_response("___eio[](\"\");"),
            Err(JsonpError::MalformedResponse)
        );
        assert_eq!(
            decode_jsonp_response("___eio[1](\"x\")"),
            Err(JsonpError::MalformedResponse)
        );
    }

    #[test]
    fn request_unescapes_newlines() {
        // `\n` (backslash, n) is a newline; `\\n` is a backslash and `n`.
        assert_eq!(decode_jsonp_request(b"d=a%5Cnb").unwrap(), "a\nb");
        assert_eq!(decode_jsonp_request(b"d=a%5C%5Cnb").unwrap(), "a\\nb");
        assert_eq!(decode_jsonp_request(b"d=%5C%5C%5Cn").unwrap(), "\\\\n");
        assert_eq!(decode_jsonp_request(b"d=a+b%20c").unwrap(), "a b c");
        assert_eq!(
            decode_jsonp_request(b"x=1&d=2%3A4%C3%A9&y").unwrap(),
            "2:4é"
        );
        assert_eq!(decode_jsonp_request(b"d").unwrap(), "");
    }

    #[test]
    fn request_errors() {
        assert_eq!(decode_jsonp_request(b"x=1"), Err(JsonpError::MissingData));
        assert_eq!(decode_jsonp_request(b""), Err(JsonpError::MissingData));
        assert_eq!(
            decode_jsonp_request(b"d=1&d=2"),
            Err(JsonpError::DuplicateData)
        );
        assert_eq!(
            decode_jsonp_request(b"d=%4"),
            Err(JsonpError::InvalidPercentEncoding)
        );
        assert_eq!(decode_jsonp_request(b"d=%ff"), Err(JsonpError::InvalidUtf8));
    }

    #[test]
    fn request_roundtrips_except_backslash_newline() {
        for p in ["", "6:4hello", "a\nb\\nc\\\\n\n", "é😀 +&=%"] {
            let body = req(p);
            assert_eq!(decode_jsonp_request(body.as_bytes()).unwrap(), p, "{body}");
        }
        // The reference's lossy case: backslash + newline comes back as backslash + `n`.
        let body = req("\\\n");
        assert_eq!(decode_jsonp_request(body.as_bytes()).unwrap(), "\\n");
    }
}
