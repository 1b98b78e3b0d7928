//! Decodes a frame header from arbitrary bytes, with and without the minimal-length rule.
//! Oracle: every result is documented — a complete header re-encodes to exactly the bytes it
//! came from (decode∘encode is the identity for minimal encodings, encode∘decode for all);
//! "need more" means a strict prefix of a header (every shorter prefix needs more, and the
//! requested count of bytes completes it); each error is confirmed by the bytes that caused
//! it.
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
                // Every strict prefix of a complete header needs exactly the rest (a lower
                // bound of it before the second byte).
                for i in 0..header_len {
                    match FrameHeader::decode(&data[..i], minimal) {
                        Ok(HeaderDecode::NeedMore(k)) if i >= 2 => assert_eq!(k, header_len - i),
                        Ok(HeaderDecode::NeedMore(k)) => assert!(k >= 1 && i + k <= header_len),
                        other => panic!("prefix of {i} bytes: {other:?}"),
                    }
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
                // Need-more means a strict prefix of a header: every shorter prefix needs
                // more too, and the input completed with `k` zero bytes decodes (zeros make
                // no length error without the minimal rule) — to a header of exactly that
                // length once the second byte is there (k is then exact; before, a lower
                // bound), keeping the bits already given.
                for i in 0..data.len() {
                    assert!(matches!(
                        FrameHeader::decode(&data[..i], minimal),
                        Ok(HeaderDecode::NeedMore(_))
                    ));
                }
                let mut padded = data.to_vec();
                padded.resize(data.len() + k, 0);
                let top_bit_given = data.len() > 2 && data[1] & 0x7F == 127 && data[2] & 0x80 != 0;
                match FrameHeader::decode(&padded, false) {
                    Ok(HeaderDecode::Complete { header, header_len }) => {
                        assert!(!top_bit_given);
                        assert_eq!(header_len, padded.len());
                        if let (Some(&b0), Some(&b1)) = (data.first(), data.get(1)) {
                            assert_eq!(header.fin, b0 & 0x80 != 0);
                            assert_eq!(header.rsv, b0 & 0x70);
                            assert_eq!(header.opcode.as_u8(), b0 & 0x0F);
                            assert_eq!(header.mask.is_some(), b1 & 0x80 != 0);
                        }
                    }
                    Ok(HeaderDecode::NeedMore(_)) => assert!(data.len() < 2),
                    Err(e) => assert!(top_bit_given && e == HeaderError::LengthTopBitSet),
                }
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
            Err(e) => panic!("undocumented error {e:?}"),
        }
    }
});
