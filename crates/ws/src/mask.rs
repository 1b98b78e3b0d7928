//! Masking and unmasking of payload data (RFC 6455 §5.3).
//!
//! "The masking does not affect the length of the "Payload data".  To convert masked data into
//! unmasked data, or vice versa, the following algorithm is applied."
//! `j = i MOD 4; transformed-octet-i = original-octet-i XOR masking-key-octet-j`
//!
//! Masking is its own inverse, so one function both masks and unmasks. The fast version works on
//! 32-byte blocks of four `u64` XORs — plain loops the compiler auto-vectorises.
//! [`apply_mask_naive`] is the byte-at-a-time reference it is tested against.
//!
//! With the `std` feature on x86/x86-64, payloads of [`AVX2_MIN`] bytes or more are masked by
//! the same loop compiled for AVX2 when the CPU has it (detected at run time; the default
//! target only assumes SSE2): 32 bytes per instruction instead of 16. Calling that copy is
//! the one `unsafe` block of the crate (kept because it measurably wins; figures in
//! docs/performance.md); the differential tests run both copies against the naive loop.

/// XORs `buf` in place with the 4-byte masking `key`, where `buf[0]` is byte number `offset`
/// of the frame payload (only `offset % 4` matters).
///
/// Use a non-zero `offset` to unmask a payload that arrives in pieces: the piece that starts
/// at payload byte `n` is unmasked with `offset = n`.
///
/// ```
/// use pushwire_ws::mask::apply_mask;
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut data = *b"Hello";
/// apply_mask(&mut data, key, 0);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// // Unmask in two pieces: bytes 0..2 at offset 0, bytes 2..5 at offset 2.
/// let (a, b) = data.split_at_mut(2);
/// apply_mask(a, key, 0);
/// apply_mask(b, key, 2);
/// assert_eq!(&data, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    // Rotate the key so that rotated[0] applies to buf[0].
    let key = rotate_key(key, offset);
    #[cfg(all(feature = "std", any(target_arch = "x86", target_arch = "x86_64")))]
    if buf.len() >= AVX2_MIN && std::is_x86_feature_detected!("avx2") {
        // SAFETY: `mask_avx2` is safe code compiled with `target_feature(enable = "avx2")`;
        // its only precondition is that the CPU supports AVX2, checked on the line above.
        #[allow(unsafe_code)]
        unsafe {
            mask_avx2(buf, key)
        };
        return;
    }
    mask_words(buf, key);
}

/// Payloads at least this long are masked with AVX2 when the CPU has it (shorter ones are
/// not worth the detection and call).
pub const AVX2_MIN: usize = 128;

/// [`mask_words`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(all(feature = "std", any(target_arch = "x86", target_arch = "x86_64")))]
#[allow(unsafe_code)]
#[target_feature(enable = "avx2")]
unsafe fn mask_avx2(buf: &mut [u8], key: [u8; 4]) {
    mask_words(buf, key);
}

/// The masking loop, with `key[0]` applying to `buf[0]`.
#[inline(always)]
fn mask_words(buf: &mut [u8], key: [u8; 4]) {
    let key64 = repeat_key(key);
    // 32 bytes per step: four independent u64 XORs, which the compiler turns into vector
    // instructions without a runtime length check per step.
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        for word in block.chunks_exact_mut(8) {
            xor_word(word, key64);
        }
    }
    // At most three whole words are left (short payloads take only this path).
    let mut words = blocks.into_remainder().chunks_exact_mut(8);
    for word in &mut words {
        xor_word(word, key64);
    }
    // Every whole word is a multiple of 4 bytes, so the tail starts at key index 0 again.
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

#[inline(always)]
fn xor_word(word: &mut [u8], key64: u64) {
    let mut w = [0u8; 8];
    w.copy_from_slice(word);
    word.copy_from_slice(&(u64::from_ne_bytes(w) ^ key64).to_ne_bytes());
}

/// [`apply_mask`] at offset 0 that also tells whether every unmasked byte is ASCII, in the
/// same pass: a short text payload is then read once for both jobs.
#[inline]
pub(crate) fn apply_mask_ascii(buf: &mut [u8], key: [u8; 4]) -> bool {
    let key64 = repeat_key(key);
    let mut seen = 0u64;
    // A word at a time, written so that it stays a simple scalar loop: for the short
    // payloads this is used on, vector set-up would cost more than it saves.
    let mut rest = buf;
    while rest.len() >= 8 {
        let Some((word, tail)) = core::mem::take(&mut rest).split_first_chunk_mut::<8>() else {
            break;
        };
        let x = u64::from_ne_bytes(*word) ^ key64;
        *word = x.to_ne_bytes();
        seen |= x;
        rest = tail;
    }
    let mut tail = 0u8;
    for (i, b) in rest.iter_mut().enumerate() {
        *b ^= key[i & 3];
        tail |= *b;
    }
    seen & 0x8080_8080_8080_8080 == 0 && tail < 0x80
}

/// The key twice over, as a native-endian `u64` (the same bytes whatever the endianness).
#[inline(always)]
fn repeat_key(key: [u8; 4]) -> u64 {
    let k = u64::from(u32::from_ne_bytes(key));
    k | (k << 32)
}

/// The reference byte-at-a-time masking loop, exactly as written in RFC 6455 §5.3.
///
/// Same contract as [`apply_mask`]; kept public so tests and fuzzers can compare the two.
pub fn apply_mask_naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in buf.iter_mut().enumerate() {
        // "j = i MOD 4"
        *b ^= key[(i + offset) % 4];
    }
}

#[inline]
fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    let s = offset & 3;
    [key[s], key[(s + 1) & 3], key[(s + 2) & 3], key[(s + 3) & 3]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn ascii_check_sees_a_lone_0x80_in_the_tail() {
        // The tail (bytes after the last whole word) is ORed into one byte: exactly 0x80 is
        // already not ASCII.
        for len in 1..8 {
            let mut buf = alloc::vec![0u8; 8 + len];
            *buf.last_mut().unwrap() = 0x80;
            assert!(!apply_mask_ascii(&mut buf, [0; 4]), "len {}", 8 + len);
            let mut buf = alloc::vec![0x7fu8; 8 + len];
            assert!(apply_mask_ascii(&mut buf, [0; 4]), "len {}", 8 + len);
        }
    }

    /// The portable copy of the loop, whatever the CPU (`apply_mask` may take the AVX2 one).
    #[test]
    fn portable_loop_equals_naive_long_payloads() {
        let key = [0xA1, 0x02, 0xF3, 0x7C];
        for len in [0, 1, 31, 32, 33, 127, 128, 129, 255, 1024, 1031, 4099] {
            for offset in 0..4usize {
                let data: Vec<u8> = (0..len).map(|i| (i * 13 + 5) as u8).collect();
                let mut portable = data.clone();
                mask_words(&mut portable, rotate_key(key, offset));
                let mut naive = data;
                apply_mask_naive(&mut naive, key, offset);
                assert_eq!(portable, naive, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn fast_equals_naive_every_length_and_offset() {
        let key = [0x12, 0x34, 0x56, 0x78];
        for len in (0..=64usize).chain(120..=300) {
            for offset in 0..=7usize {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut fast = data.clone();
                let mut naive = data.clone();
                apply_mask(&mut fast, key, offset);
                apply_mask_naive(&mut naive, key, offset);
                assert_eq!(fast, naive, "len {len} offset {offset}");
                if offset == 0 {
                    let mut fused = data.clone();
                    let ascii = apply_mask_ascii(&mut fused, key);
                    assert_eq!(fused, naive, "ascii variant, len {len}");
                    assert_eq!(ascii, naive.is_ascii(), "ascii verdict, len {len}");
                }
                apply_mask(&mut fast, key, offset);
                assert_eq!(fast, data, "involution len {len} offset {offset}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn prop_fast_equals_naive(
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..=600),
            key in proptest::array::uniform4(proptest::num::u8::ANY),
            offset in 0usize..=7,
        ) {
            let mut fast = data.clone();
            let mut naive = data;
            apply_mask(&mut fast, key, offset);
            apply_mask_naive(&mut naive, key, offset);
            proptest::prop_assert_eq!(fast, naive);
        }

        #[test]
        fn prop_ascii_variant_equals_naive(
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..=200),
            key in proptest::array::uniform4(proptest::num::u8::ANY),
        ) {
            let mut fused = data.clone();
            let mut naive = data;
            let ascii = apply_mask_ascii(&mut fused, key);
            apply_mask_naive(&mut naive, key, 0);
            proptest::prop_assert_eq!(ascii, naive.is_ascii());
            proptest::prop_assert_eq!(fused, naive);
        }

        #[test]
        fn prop_split_masking_equals_whole(
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..=300),
            key in proptest::array::uniform4(proptest::num::u8::ANY),
            split in 0usize..=300,
        ) {
            let split = split.min(data.len());
            let mut whole = data.clone();
            apply_mask(&mut whole, key, 0);
            let mut parts = data;
            let (a, b) = parts.split_at_mut(split);
            apply_mask(a, key, 0);
            apply_mask(b, key, split);
            proptest::prop_assert_eq!(whole, parts);
        }
    }
}
