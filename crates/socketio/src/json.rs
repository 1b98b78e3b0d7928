//! JSON text the way `JSON.stringify` writes it: strings escaped as ECMAScript's
//! `QuoteJSONString` does, numbers as `Number::toString` prints them. Shared by
//! [`crate::Value`] and the packet builders so that what pushwire encodes is byte for byte
//! what socket.io-parser encodes for the same value.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use bytes::Bytes;

/// Appends `s` as a JSON string literal. ECMAScript `QuoteJSONString`: `"` and `\` are
/// escaped, `\b \t \n \f \r` get their short forms, other code units below 0x20 become
/// `\u00xx` (lowercase hex); everything else is copied (a Rust string holds no lone
/// surrogates, the one other case).
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x09 => "\\t",
            0x0a => "\\n",
            0x0c => "\\f",
            0x0d => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends a JSON number as ECMAScript `Number::toString` prints it (what `JSON.stringify`
/// writes): integers plainly, `1e+21`, `1.5e-7`, `0.000001`; `-0` as `0`. A non-finite value
/// becomes `null`, as `JSON.stringify(NaN)` does.
pub(crate) fn write_f64(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str("null");
        return;
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    // `{:e}` gives the shortest digits that round-trip, as `d.ddd e<exp>`: the same digits
    // ECMAScript picks (both are the shortest round-trip representation).
    let mut buf = String::new();
    let _ = write!(buf, "{:e}", x.abs());
    let (mant, exp) = buf.split_once('e').unwrap_or((&buf, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exp + 1; // value = 0.digits × 10^n
    if k <= n && n <= 21 {
        out.push_str(&digits);
        for _ in 0..(n - k) {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..(-n) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        let _ = write!(out, "{}", (n - 1).abs());
    }
}

/// Appends a [`serde_json::Number`]: integers exactly (a JavaScript peer reads one beyond
/// ±2^53 as the nearest double, as it would read the same text from socket.io-parser),
/// other numbers as [`write_f64`].
pub(crate) fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else {
        write_f64(out, n.as_f64().unwrap_or(f64::NAN));
    }
}

/// A serde_json formatter that writes what `JSON.stringify` writes for the same value —
/// numbers as ECMAScript prints them — and turns bytes (`serialize_bytes`, e.g. a
/// `serde_bytes` field or [`bytes::Bytes`]) into numbered placeholders, keeping the bytes as
/// attachments, in depth-first order (socket.io-parser's `deconstructPacket`).
#[cfg(feature = "std")]
pub(crate) struct JsFormatter<'a> {
    pub(crate) attachments: &'a mut Vec<Bytes>,
}

#[cfg(feature = "std")]
impl serde_json::ser::Formatter for JsFormatter<'_> {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        let mut s = String::new();
        write_f64(&mut s, value);
        w.write_all(s.as_bytes())
    }

    fn write_f32<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        value: f32,
    ) -> std::io::Result<()> {
        self.write_f64(w, f64::from(value))
    }

    fn write_byte_array<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        value: &[u8],
    ) -> std::io::Result<()> {
        let mut s = String::new();
        let _ = write!(
            s,
            "{{\"_placeholder\":true,\"num\":{}}}",
            self.attachments.len()
        );
        self.attachments.push(Bytes::copy_from_slice(value));
        w.write_all(s.as_bytes())
    }
}

/// Appends `value` as JSON to `out` through [`JsFormatter`]; returns the attachments.
pub(crate) fn serialize_into<T: serde::Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<Vec<Bytes>, crate::BuildError> {
    let mut attachments = Vec::new();
    // Without std, serde_json's writer trait is private: go through a `Value` instead.
    #[cfg(not(feature = "std"))]
    {
        let v = crate::Value::from_serialize(value)?;
        let mut s = String::new();
        v.to_json(&mut s, &mut attachments);
        out.extend_from_slice(s.as_bytes());
        return Ok(attachments);
    }
    #[cfg(feature = "std")]
    let mut ser = serde_json::Serializer::with_formatter(
        &mut *out,
        JsFormatter {
            attachments: &mut attachments,
        },
    );
    #[cfg(feature = "std")]
    value
        .serialize(&mut ser)
        .map_err(|e| crate::BuildError::Serialize(alloc::string::ToString::to_string(&e)))?;
    #[cfg(feature = "std")]
    Ok(attachments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        let mut s = String::new();
        write_f64(&mut s, x);
        s
    }

    #[test]
    fn numbers_print_as_ecmascript_number_to_string() {
        // Expected strings: ECMAScript Number::toString (ECMA-262 §6.1.6.1.20) cases.
        assert_eq!(f(0.0), "0");
        assert_eq!(f(-0.0), "0");
        assert_eq!(f(1.0), "1");
        assert_eq!(f(-1.5), "-1.5");
        assert_eq!(f(123.456), "123.456");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1e20), "100000000000000000000");
        assert_eq!(f(1.2345678901234568e20), "123456789012345680000");
        assert_eq!(f(0.000001), "0.000001");
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(2.5e300), "2.5e+300");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(f64::NAN), "null");
    }

    #[test]
    fn strings_escape_as_json_stringify() {
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\u{1}\n\u{7f}é\u{1f}\u{8}\u{c}");
        assert_eq!(s, "\"a\\\"b\\\\c\\u0001\\n\u{7f}é\\u001f\\b\\f\"");
    }
}
