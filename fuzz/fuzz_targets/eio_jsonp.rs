//! Decodes arbitrary bytes as a JSONP request body (`d=…`) and as a JSONP response body.
//! Oracle: a decoded request payload, encoded again the way engine.io-client does, decodes
//! to itself (up to the reference's lossy backslash-before-newline case); a decoded response
//! re-encodes to a body that decodes to the same index and payload; errors are the
//! documented ones.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_engineio::{
    decode_jsonp_request, decode_jsonp_response, encode_jsonp_request, encode_jsonp_response,
    JsonpError,
};

fuzz_target!(|data: &[u8]| {
    match decode_jsonp_request(data) {
        Ok(payload) => {
            let mut body = Vec::new();
            encode_jsonp_request(&payload, &mut body);
            let back = decode_jsonp_request(&body).unwrap();
            if !payload.contains("\\\n") {
                assert_eq!(back, payload);
            }
        }
        Err(
            JsonpError::MissingData
            | JsonpError::DuplicateData
            | JsonpError::InvalidPercentEncoding
            | JsonpError::InvalidUtf8,
        ) => {}
        Err(e) => panic!("undocumented request error {e:?}"),
    }
    if let Ok(s) = core::str::from_utf8(data) {
        match decode_jsonp_response(s) {
            Ok((j, payload)) => {
                let mut body = Vec::new();
                encode_jsonp_response(j, &payload, &mut body);
                let body = String::from_utf8(body).expect("a JSONP response is UTF-8");
                assert_eq!(decode_jsonp_response(&body), Ok((j, payload)));
            }
            Err(JsonpError::MalformedResponse) => {}
            Err(e) => panic!("undocumented response error {e:?}"),
        }
    }
});
