//! The fast path of the JSON check for packets without attachments: one loop over the
//! bytes with an explicit stack (a `u128` of bits, so nesting costs no allocation), which
//! accepts exactly what the serde_json-driven walk of `shape.rs` accepts — RFC 8259 JSON,
//! strings with paired surrogate escapes only, numbers within the range of `f64`, at most
//! 127 levels of nesting (serde_json's recursion limit) — and reports the same shape. A
//! proptest holds the two equal on random input (`tests/scan.rs` in this crate's unit tests).

use alloc::string::String;

use crate::error::DecodeError;
use crate::shape::{First, Shape, StrRef};

/// serde_json's recursion limit: the 128th nested container is refused.
const MAX_DEPTH: u32 = 127;

/// Checks `json` (at byte `offset` of the packet text); see the module docs.
pub(crate) fn check(json: &str, offset: usize) -> Result<Shape, DecodeError> {
    Scanner {
        b: json.as_bytes(),
        i: 0,
    }
    .run(json, offset)
    .ok_or(DecodeError::InvalidJson)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn run(mut self, json: &str, offset: usize) -> Option<Shape> {
        // Bit d of `stack` is set when the container at depth d+1 is an array.
        let mut stack: u128 = 0;
        let mut depth: u32 = 0;
        let mut top: Option<Shape> = None;
        // The top-level array's first element is still to come.
        let mut want_first = false;
        let mut first = First::Empty;
        'value: loop {
            self.ws();
            let start = self.i;
            let c = self.peek()?;
            let shape = match c {
                b'{' | b'[' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return None;
                    }
                    self.i += 1;
                    let is_array = c == b'[';
                    if is_array {
                        stack |= 1 << (depth - 1);
                    } else {
                        stack &= !(1 << (depth - 1));
                    }
                    if depth == 1 {
                        top = Some(if is_array {
                            Shape::Array(First::Empty)
                        } else {
                            Shape::Object
                        });
                        want_first = is_array;
                    } else if want_first && depth == 2 {
                        first = First::Other;
                        want_first = false;
                    }
                    self.ws();
                    match (is_array, self.peek()?) {
                        (true, b']') | (false, b'}') => {
                            self.i += 1;
                            depth -= 1;
                            if depth == 0 {
                                want_first = false;
                            }
                        }
                        (true, _) => continue 'value,
                        (false, b'"') => {
                            self.string()?;
                            self.ws();
                            if self.peek()? != b':' {
                                return None;
                            }
                            self.i += 1;
                            continue 'value;
                        }
                        (false, _) => return None,
                    }
                    None
                }
                b'"' => {
                    let escaped = self.string()?;
                    if want_first && depth == 1 {
                        first = First::Str(if escaped {
                            StrRef::Owned(
                                serde_json::from_str::<String>(&json[start..self.i]).ok()?,
                            )
                        } else {
                            StrRef::Span(offset + start + 1, offset + self.i - 1)
                        });
                        want_first = false;
                    }
                    Some(Shape::String)
                }
                // `?`: a bad scalar fails the whole text (`None` below means "a container").
                b't' => {
                    self.literal(b"true")?;
                    Some(Shape::Bool)
                }
                b'f' => {
                    self.literal(b"false")?;
                    Some(Shape::Bool)
                }
                b'n' => {
                    self.literal(b"null")?;
                    Some(Shape::Null)
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                    Some(Shape::Number)
                }
                _ => return None,
            };
            if let Some(s) = shape {
                if depth == 0 {
                    top = Some(s);
                } else if want_first && depth == 1 {
                    first = if s == Shape::Number {
                        First::Number
                    } else {
                        First::Other
                    };
                    want_first = false;
                }
            }
            // After a value: a separator, a closing bracket, or the end.
            loop {
                self.ws();
                if depth == 0 {
                    if self.i != self.b.len() {
                        return None;
                    }
                    return top.map(|t| match t {
                        Shape::Array(_) => Shape::Array(first),
                        t => t,
                    });
                }
                let in_array = stack & (1 << (depth - 1)) != 0;
                match (in_array, self.peek()?) {
                    (_, b',') => {
                        self.i += 1;
                        if !in_array {
                            self.ws();
                            if self.peek()? != b'"' {
                                return None;
                            }
                            self.string()?;
                            self.ws();
                            if self.peek()? != b':' {
                                return None;
                            }
                            self.i += 1;
                        }
                        continue 'value;
                    }
                    (true, b']') | (false, b'}') => {
                        self.i += 1;
                        depth -= 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    /// A string from its opening quote; returns whether it had escapes.
    fn string(&mut self) -> Option<bool> {
        self.i += 1; // the opening quote
        let mut escaped = false;
        loop {
            // The bytes that need a look: the quote, the backslash, control characters.
            let rest = self.b.get(self.i..)?;
            let n = rest
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            self.i += n;
            match self.b[self.i] {
                b'"' => {
                    self.i += 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            self.i += 1;
                            let n = self.hex4()?;
                            if (0xDC00..=0xDFFF).contains(&n) {
                                return None; // a trailing surrogate alone
                            }
                            if (0xD800..=0xDBFF).contains(&n) {
                                // A leading surrogate needs a trailing one, escaped.
                                if self.b.get(self.i..self.i + 2)? != b"\\u" {
                                    return None;
                                }
                                self.i += 2;
                                let m = self.hex4()?;
                                if !(0xDC00..=0xDFFF).contains(&m) {
                                    return None;
                                }
                            }
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a control character
            }
        }
    }

    fn hex4(&mut self) -> Option<u16> {
        let h = self.b.get(self.i..self.i + 4)?;
        let mut n: u16 = 0;
        for &c in h {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            n = n << 4 | u16::from(d);
        }
        self.i += 4;
        Some(n)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, and within the range of `f64`.
    fn number(&mut self) -> Option<()> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        match self.peek()? {
            b'0' => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return None; // a leading zero
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        let int_digits = self.i - int_start;
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.peek() {
            exponent = true;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        // Only an exponent or a very long integer can leave the range of `f64` (serde_json:
        // "number out of range"); underflow reads as 0 there too.
        if exponent || int_digits > 300 {
            let text = core::str::from_utf8(&self.b[start..self.i]).ok()?;
            let x: f64 = text.parse().ok()?;
            if x.is_infinite() {
                return None;
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// The slow path (serde_json), the reference for this one.
    fn slow(json: &str) -> Result<Shape, DecodeError> {
        crate::shape::check(json, 3, None).map(|(s, _)| s)
    }

    fn same(json: &str) {
        assert_eq!(check(json, 3), slow(json), "{json:?}");
    }

    #[test]
    fn agrees_on_chosen_cases() {
        for j in [
            r#"["a",1]"#,
            r#" [ "a\u0041" , {"x":[1,2,{}]} ] "#,
            r#"[1.5e3]"#,
            r#"[[]]"#,
            r#"[{}]"#,
            "[]",
            "{}",
            r#"{"a":1,"b":[true,false,null]}"#,
            r#""str""#,
            "null",
            "-0",
            "01",
            "1.",
            ".5",
            "1e",
            "1e400",
            "-1e400",
            "1e-400",
            "0e99999",
            "[1,]",
            "[,1]",
            r#"{"a":}"#,
            r#"{"a" 1}"#,
            r#"{1:2}"#,
            r#"["\ud83d\ude00"]"#,
            r#"["\ud83d"]"#,
            r#"["\ude00"]"#,
            r#"["\ud83d\u0041"]"#,
            // Escapes away from the first element (which is also read by serde_json).
            r#"[1,"\ude00"]"#,
            r#"[1,"\ud83d"]"#,
            r#"[1,"\ud83d\u0041"]"#,
            // Bad scalars away from the top level.
            "[1.]",
            "[1e400]",
            "[1,-]",
            "[1,1e]",
            r#"{"a":1.e5}"#,
            "[-01]",
            r#"[1,"\ud83d\ude00"]"#,
            r#"{"\ude00":1}"#,
            r#"[1,"\uZZZZ"]"#,
            r#"[1,"\u00"]"#,
            r#"[1,"\q"]"#,
            r#"["\x"]"#,
            "[\"a\u{1}\"]",
            "[\"\u{7f}\"]",
            "[tru]",
            "[true",
            "[\"a\"] x",
            "",
            "  ",
            "[\"é\",\"😀\"]",
        ] {
            same(j);
        }
    }

    #[test]
    fn nesting_limit_is_serde_jsons() {
        for depth in [126, 127, 128, 129] {
            let j = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            same(&j);
            let j = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            same(&j);
            let o: String = (0..depth).map(|_| "{\"a\":").collect::<Vec<_>>().concat();
            same(&format!("{o}1{}", "}".repeat(depth)));
        }
        assert!(check(&format!("{}{}", "[".repeat(127), "]".repeat(127)), 0).is_ok());
        assert!(check(&format!("{}{}", "[".repeat(128), "]".repeat(128)), 0).is_err());
    }

    fn token() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "[",
            "]",
            "{",
            "}",
            ",",
            ":",
            "\"",
            "\"a\"",
            "\"ev\"",
            "1",
            "-",
            "0",
            ".",
            "5",
            "e",
            "E",
            "+",
            "true",
            "false",
            "null",
            " ",
            "\\",
            "\\u",
            "d83d",
            "de00",
            "0041",
            "\\n",
            "x",
            "é",
            "\u{1}",
            "12345678901234567890",
            "1e308",
            "9e308",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn agrees_with_serde_json_on_token_soup(tokens in prop::collection::vec(token(), 0..24)) {
            let j: String = tokens.concat();
            prop_assert_eq!(check(&j, 3), slow(&j), "{:?}", j);
        }

        #[test]
        fn agrees_on_valid_json(v in json_value(3)) {
            prop_assert_eq!(check(&v, 3), slow(&v));
        }

        /// Valid JSON with a few bytes cut or a token put in: near misses, where a scanner
        /// that forgets to fail on a bad scalar inside a container shows.
        #[test]
        fn agrees_on_near_misses(
            v in json_value(3),
            edits in prop::collection::vec((any::<prop::sample::Index>(), prop::option::of(token())), 1..3),
        ) {
            let mut j = v;
            for (at, tok) in edits {
                let mut i = at.index(j.len() + 1);
                while !j.is_char_boundary(i) {
                    i -= 1;
                }
                match tok {
                    Some(t) => j.insert_str(i, t),
                    None if i < j.len() => {
                        let c = j[i..].chars().next().map_or(1, char::len_utf8);
                        j.replace_range(i..i + c, "");
                    }
                    None => {}
                }
            }
            prop_assert_eq!(check(&j, 3), slow(&j), "{:?}", j);
        }
    }

    fn json_value(depth: u32) -> BoxedStrategy<String> {
        let leaf = prop_oneof![
            Just("null".into()),
            any::<bool>().prop_map(|b| format!("{b}")),
            any::<i64>().prop_map(|n| format!("{n}")),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(|x| format!("{x:e}")),
            "[a-z\\\\\"é😀\u{1}]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        ];
        if depth == 0 {
            return leaf.boxed();
        }
        prop_oneof![
            leaf,
            prop::collection::vec(json_value(depth - 1), 0..4)
                .prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-z]{0,3}", json_value(depth - 1)), 0..4).prop_map(|v| {
                let body: Vec<String> = v
                    .into_iter()
                    .map(|(k, x)| format!("{}:{x}", serde_json::to_string(&k).unwrap()))
                    .collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
        .boxed()
    }
}
