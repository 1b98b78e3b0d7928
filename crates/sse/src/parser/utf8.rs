//! The WHATWG "UTF-8 decode" of field values, piece by piece: invalid bytes become U+FFFD,
//! and a sequence cut by the end of a piece is completed by the next piece.

use alloc::string::String;

use super::fast::to_str;

/// Up to three bytes of an incomplete UTF-8 sequence.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Carry {
    bytes: [u8; 3],
    pub(super) len: u8,
}

/// Appends `bytes` decoded as UTF-8, each maximal invalid subsequence replaced by U+FFFD as
/// the WHATWG "UTF-8 decode" does, continuing a sequence left incomplete in `carry` by the
/// previous piece and leaving an incomplete sequence at the end in `carry`. Returns false
/// (and stops) as soon as `dst` is longer than `limit`.
pub(super) fn push_lossy(
    dst: &mut String,
    carry: &mut Carry,
    mut bytes: &[u8],
    limit: usize,
) -> bool {
    if carry.len > 0 {
        // Complete (or refute) the held sequence with at most 3 more bytes.
        let held = usize::from(carry.len);
        let take = bytes.len().min(4 - held);
        let mut tmp = [0u8; 6];
        tmp[..held].copy_from_slice(&carry.bytes[..held]);
        tmp[held..held + take].copy_from_slice(&bytes[..take]);
        let tmp = &tmp[..held + take];
        let used = match core::str::from_utf8(tmp) {
            Ok(s) => {
                dst.push_str(s);
                tmp.len()
            }
            Err(e) if e.valid_up_to() > 0 => {
                let v = e.valid_up_to();
                dst.push_str(core::str::from_utf8(&tmp[..v]).unwrap_or_default());
                v
            }
            Err(e) => match e.error_len() {
                Some(n) => {
                    dst.push(char::REPLACEMENT_CHARACTER);
                    n
                }
                None => {
                    // Still incomplete: everything was absorbed.
                    carry.bytes[..tmp.len()].copy_from_slice(tmp);
                    carry.len = tmp.len() as u8;
                    return dst.len() <= limit;
                }
            },
        };
        *carry = Carry::default();
        bytes = &bytes[used.saturating_sub(held)..];
    }
    if bytes.is_empty() {
        return dst.len() <= limit;
    }
    // Reserve once for the common case of one valid piece and the LF after it.
    dst.reserve(bytes.len() + 1);
    if let Ok(s) = to_str(bytes) {
        dst.push_str(s);
        return dst.len() <= limit;
    }
    // Invalid or incomplete UTF-8: one pass over the chunks, each valid run pushed as is.
    let mut chunks = bytes.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        dst.push_str(chunk.valid());
        let bad = chunk.invalid();
        if bad.is_empty() {
            continue;
        }
        let incomplete_at_end = chunks.peek().is_none()
            && core::str::from_utf8(bad).is_err_and(|e| e.error_len().is_none());
        if incomplete_at_end {
            // A sequence cut by the end of the piece: hold it for the next piece.
            carry.bytes[..bad.len()].copy_from_slice(bad);
            carry.len = bad.len() as u8;
        } else {
            dst.push(char::REPLACEMENT_CHARACTER);
            if dst.len() > limit {
                return false;
            }
        }
    }
    dst.len() <= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_character_that_reaches_the_limit_exactly_fits() {
        // "ab" then U+FFFD (3 bytes): 5 bytes, not longer than a limit of 5.
        let mut dst = String::new();
        let mut carry = Carry::default();
        assert!(push_lossy(&mut dst, &mut carry, b"ab\xFF", 5));
        assert_eq!(dst, "ab\u{FFFD}");
        // One byte less of room: refused.
        let mut dst = String::new();
        assert!(!push_lossy(&mut dst, &mut carry, b"ab\xFF", 4));
        // The same in the middle of a piece.
        let mut dst = String::new();
        assert!(push_lossy(&mut dst, &mut carry, b"a\xFFb", 5));
        assert_eq!(dst, "a\u{FFFD}b");
    }
}
