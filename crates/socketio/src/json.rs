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

/// A small stack buffer for number text (no allocation per number).
pub(crate) struct NumBuf {
    buf: [u8; 64],
    len: usize,
}

impl NumBuf {
    pub(crate) const fn new() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever written (digits, '.', 'e', signs, "null").
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    fn push(&mut self, s: &str) {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
    }

    fn push_byte(&mut self, b: u8) {
        if self.len < self.buf.len() {
            self.buf[self.len] = b;
            self.len += 1;
        }
    }
}

impl core::fmt::Write for NumBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.push(s);
        Ok(())
    }
}

/// Appends a JSON number as ECMAScript `Number::toString` prints it (what `JSON.stringify`
/// writes): integers plainly, `1e+21`, `1.5e-7`, `0.000001`; `-0` as `0`. A non-finite value
/// becomes `null`, as `JSON.stringify(NaN)` does.
pub(crate) fn write_f64(out: &mut String, x: f64) {
    let mut b = NumBuf::new();
    format_f64(&mut b, x);
    out.push_str(b.as_str());
}

/// [`write_f64`] into a stack buffer.
pub(crate) fn format_f64(out: &mut NumBuf, x: f64) {
    if !x.is_finite() {
        out.push("null");
        return;
    }
    if x == 0.0 {
        out.push_byte(b'0');
        return;
    }
    // Integers below 2^53 print as themselves, the common case.
    if x.abs() < 9_007_199_254_740_992.0 && (x as i64) as f64 == x {
        let _ = write!(out, "{}", x as i64);
        return;
    }
    // zmij picks the digits ECMAScript's `Number::toString` picks: the fewest that read
    // back as `x`, the closest when several do, the even one on a tie (Rust's `{:e}` does
    // not break ties to even). In ECMAScript's fixed-notation range, zmij's plain decimal
    // form is the same text; otherwise the digits are laid out below.
    let mut z = zmij::Buffer::new();
    let s = z.format_finite(x);
    let a = x.abs();
    if (1e-6..1e21).contains(&a) && !s.contains('e') && !s.ends_with(".0") {
        out.push(s);
        return;
    }
    layout(out, x < 0.0, s.trim_start_matches('-'));
}

/// Lays out the digits of a shortest representation `text` (decimal or exponent notation,
/// without sign) as `Number::toString` does.
fn layout(out: &mut NumBuf, negative: bool, text: &str) {
    let (mant, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.trim_start_matches('+').parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    // value = 0.digits × 10^n
    let mut digits = NumBuf::new();
    let mut n = exp + int.len() as i32;
    for &c in int.as_bytes().iter().chain(frac.as_bytes()) {
        if digits.len == 0 && c == b'0' {
            n -= 1; // a leading zero
        } else {
            digits.push_byte(c);
        }
    }
    while digits.len > 1 && digits.buf[digits.len - 1] == b'0' {
        digits.len -= 1;
    }
    let digits = digits.as_str();
    let k = digits.len() as i32;
    if negative {
        out.push_byte(b'-');
    }
    if k <= n && n <= 21 {
        out.push(digits);
        for _ in 0..(n - k) {
            out.push_byte(b'0');
        }
    } else if 0 < n && n <= 21 {
        out.push(&digits[..n as usize]);
        out.push_byte(b'.');
        out.push(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push("0.");
        for _ in 0..(-n) {
            out.push_byte(b'0');
        }
        out.push(digits);
    } else {
        out.push(&digits[..1]);
        if k > 1 {
            out.push_byte(b'.');
            out.push(&digits[1..]);
        }
        out.push_byte(b'e');
        out.push_byte(if n > 0 { b'+' } else { b'-' });
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
        let mut b = NumBuf::new();
        format_f64(&mut b, value);
        w.write_all(b.as_str().as_bytes())
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
        let mut b = NumBuf::new();
        let _ = write!(
            b,
            "{{\"_placeholder\":true,\"num\":{}}}",
            self.attachments.len()
        );
        self.attachments.push(Bytes::copy_from_slice(value));
        w.write_all(b.as_str().as_bytes())
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
    fn every_number_reads_back_and_the_layout_agrees() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let check = |x: f64| {
            if !x.is_finite() || x == 0.0 {
                return;
            }
            let mut a = NumBuf::new();
            format_f64(&mut a, x);
            let text = a.as_str();
            // It reads back as `x`.
            assert_eq!(text.parse::<f64>().ok(), Some(x), "{text}");
            // The layout of zmij's text in either notation gives the same string.
            let mut z = zmij::Buffer::new();
            let mut b = NumBuf::new();
            layout(&mut b, x < 0.0, z.format_finite(x).trim_start_matches('-'));
            if x.abs() >= 9_007_199_254_740_992.0 || (x as i64) as f64 != x {
                assert_eq!(text, b.as_str(), "{x:e}");
            }
            // As many significant digits as Rust's shortest `{:e}` (ties aside, the same).
            let sci = alloc::format!("{:e}", x.abs());
            let want = sci.split('e').next().unwrap_or("").replace('.', "").len();
            let got = text
                .trim_start_matches('-')
                .split(['e'])
                .next()
                .unwrap_or("")
                .replace('.', "")
                .trim_start_matches('0')
                .trim_end_matches('0')
                .len();
            assert!(got <= want.max(1), "{text} vs {sci}");
        };
        for _ in 0..200_000 {
            let bits = next();
            check(f64::from_bits(bits));
            // Values near the notation thresholds and short decimals.
            let m = (bits % 100_000) as f64;
            let e = ((bits >> 20) % 50) as i32 - 25;
            check(m * 10f64.powi(e));
            check(-m / 7.0 * 10f64.powi(e));
        }
        for x in [
            1e-6,
            9.99999e-7,
            1e21,
            9.999999999999999e20,
            0.1,
            1.5,
            12.5,
            1e16 + 2.0,
        ] {
            check(x);
        }
        // A tie between two shortest digit strings goes to the even one, as ECMAScript
        // says ("If there are two such possible values of s, choose the one that is even").
        let mut t = NumBuf::new();
        format_f64(&mut t, -891_685_714_285_714.2);
        assert_eq!(t.as_str(), "-891685714285714.2");
    }

    #[test]
    fn strings_escape_as_json_stringify() {
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\u{1}\n\u{7f}é\u{1f}\u{8}\u{c}");
        assert_eq!(s, "\"a\\\"b\\\\c\\u0001\\n\u{7f}é\\u001f\\b\\f\"");
    }
}
