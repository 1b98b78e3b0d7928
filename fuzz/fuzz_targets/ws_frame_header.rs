//! Decodes a frame header from arbitrary bytes, with and without the minimal-length rule.
//! Oracle: every result is documented — a complete header re-encodes to exactly the bytes it
//! came from (decode∘encode is the identity for minimal encodings, encode∘decode for all);
//! "need more" asks for a count that completes the header; each error is confirmed by the
//! bytes that caused it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_ws::frame::{FrameHeader, HeaderDecode, HeaderError, OpCode, MAX_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    for minimal in [true, false] {
        match FrameHeader::decode(data, minimal) {
            Ok(HeaderDecode::Complete { header, header_len }) => {
                assert!((2..=MAX_HEADER_LEN).contains(&header_len));
                assert_eq!(header.rsv & !0x70, 0);
                let mut buf = [0u8; MAX_HEADER_LEN];
                let n = header.encode(&mut buf);
                assert_eq!(n, header.encoded_len());
                if minimal {
                    assert_eq!(&buf[..n], &data[..header_len], "encode(decode(x)) == x");
                }
                assert_eq!(
                    FrameHeader::decode(&buf[..n], true),
                    Ok(HeaderDecode::Complete {
                        header,
                        header_len: n
                    }),
                    "decode(encode(h)) == h"
                );
            }
            Ok(HeaderDecode::NeedMore(k)) => {
                assert!(k > 0 && data.len() + k <= MAX_HEADER_LEN);
                // Padding with zeros up to the requested count is a complete header or
                // another documented answer, never a panic.
                let mut padded = data.to_vec();
                padded.resize(data.len() + k, 0);
                let _ = FrameHeader::decode(&padded, minimal);
            }
            Err(HeaderError::ReservedOpcode(op)) => {
                assert_eq!(op, data[0] & 0x0F);
                assert!(OpCode::from_u8(op).is_none());
            }
            Err(HeaderError::LengthTopBitSet) => {
                assert_eq!(data[1] & 0x7F, 127);
                assert!(data[2] & 0x80 != 0);
            }
            Err(HeaderError::NonMinimalLength(len)) => {
                assert!(minimal);
                assert!(len <= 0xFFFF);
                assert!(matches!(
                    FrameHeader::decode(data, false),
                    Ok(HeaderDecode::Complete { header, .. }) if header.payload_len == len
                ));
            }
        }
    }
});
