//! Small inline helpers the hot path uses where a library call's fixed cost would dominate on
//! the few bytes of a usual line, id or event type (figures in docs/performance.md).

use smol_str::SmolStr;

/// Whether every byte is ASCII: eight bytes at a time, stopping at the first 32-byte block
/// with another byte.
#[inline]
pub(super) fn is_ascii(bytes: &[u8]) -> bool {
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        let mut any = 0u64;
        for word in block.chunks_exact(8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            any |= u64::from_ne_bytes(w);
        }
        if any & 0x8080_8080_8080_8080 != 0 {
            return false;
        }
    }
    blocks.remainder().iter().fold(0, |any, &b| any | b) < 0x80
}

/// `s` as a [`SmolStr`]; a short one copied a byte at a time (cheaper than `memcpy` for the
/// few bytes of an id or event type).
#[inline]
pub(super) fn small(s: &str) -> SmolStr {
    if s.len() <= SmolStr::INLINE_CAP {
        SmolStr::new_inline(s)
    } else {
        SmolStr::new(s)
    }
}

/// The position of the first CR or LF in `rest`. A blank line (one line in every few) is
/// recognised from its first byte, without paying `memchr2`'s fixed cost per call.
#[inline(always)]
pub(super) fn find_line_end(rest: &[u8]) -> Option<usize> {
    match rest.first()? {
        b'\n' | b'\r' => Some(0),
        _ => memchr::memchr2(b'\n', b'\r', rest),
    }
}

/// `a == b`, inline: for the few bytes of an event type, cheaper than a call to `memcmp`.
#[inline(always)]
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// `value` as `&str` if it is valid UTF-8: std's validator for short values (lower fixed
/// cost), simdutf8 for longer ones (higher throughput).
pub(super) fn to_str(value: &[u8]) -> Result<&str, ()> {
    if value.len() < 64 {
        core::str::from_utf8(value).map_err(|_| ())
    } else {
        simdutf8::basic::from_utf8(value).map_err(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_ascii_is_false_as_soon_as_one_byte_is_0x80_or_above() {
        assert!(is_ascii(b""));
        assert!(is_ascii(b"\x00\x7F"));
        assert!(is_ascii(&[b'a'; 100]));
        // In the tail after the 32-byte blocks, and in a block, at every position.
        for len in [1, 31, 32, 33, 64, 70] {
            for at in 0..len {
                for bad in [0x80, 0xC3, 0xFF] {
                    let mut v = vec![b'a'; len];
                    v[at] = bad;
                    assert!(!is_ascii(&v), "len {len}, {bad:#x} at {at}");
                }
            }
        }
    }

    #[test]
    fn same_bytes_is_byte_equality() {
        assert!(same_bytes(b"", b""));
        assert!(same_bytes(b"tick", b"tick"));
        assert!(!same_bytes(b"tick", b"tock"));
        assert!(!same_bytes(b"tick", b"tic"));
        assert!(!same_bytes(b"", b"a"));
    }
}
