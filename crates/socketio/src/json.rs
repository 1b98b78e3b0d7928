//! JSON text the way `JSON.stringify` writes it: strings escaped as ECMAScript's
//! `QuoteJSONString` does, numbers as `Number::toString` prints them. Shared by
//! [`crate::Value`] and the packet builders so that what pushwire encodes is byte for byte
//! what socket.io-parser encodes for the same value.

use alloc::string::String;
use core::fmt::Write as _;

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

/// Appends a [`serde_json::Number`] as `JSON.stringify` would print the same JS number.
/// Integers within ±2^53 print exactly; larger ones print as the double they round to, as
/// in JavaScript.
pub(crate) fn write_number(out: &mut String, n: &serde_json::Number) {
    const SAFE: u64 = 1 << 53;
    if let Some(u) = n.as_u64() {
        if u <= SAFE {
            let _ = write!(out, "{u}");
            return;
        }
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= SAFE {
            let _ = write!(out, "{i}");
            return;
        }
    }
    write_f64(out, n.as_f64().unwrap_or(f64::NAN));
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
