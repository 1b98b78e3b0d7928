//! Differential: the fast mask equals the naive RFC loop for any data, key and offset, and
//! masking a buffer in two pieces (second piece at its payload offset) equals masking it whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_ws::mask::{apply_mask, apply_mask_naive};

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let key = [data[0], data[1], data[2], data[3]];
    let offset = data[4] as usize;
    let payload = &data[6..];
    let split = (data[5] as usize).min(payload.len());

    let mut fast = payload.to_vec();
    let mut naive = payload.to_vec();
    apply_mask(&mut fast, key, offset);
    apply_mask_naive(&mut naive, key, offset);
    assert_eq!(fast, naive);

    let mut pieces = payload.to_vec();
    let (a, b) = pieces.split_at_mut(split);
    apply_mask(a, key, offset);
    apply_mask(b, key, offset + split);
    assert_eq!(pieces, fast);

    apply_mask(&mut fast, key, offset);
    assert_eq!(fast, payload, "masking is an involution");
});
