//! UTF-16 length arithmetic: text payload lengths count what JavaScript's `String.length`
//! counts.

/// Length of `s` in UTF-16 code units, as JavaScript's `String.length` counts it.
///
/// Every character counts 1 except those outside the Basic Multilingual Plane (4 UTF-8
/// bytes), which count 2. Computed from the bytes without decoding: one unit per byte that is
/// not a continuation byte, plus one per 4-byte lead byte.
#[must_use]
pub fn utf16_len(s: &str) -> usize {
    s.as_bytes()
        .iter()
        .map(|&b| usize::from((b & 0xC0) != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_len_matches_encode_utf16() {
        for s in ["", "a", "€", "😀", "4hello", "a😀b€c", "\u{10FFFF}\u{FFFF}"] {
            assert_eq!(utf16_len(s), s.encode_utf16().count(), "{s:?}");
        }
    }
}
