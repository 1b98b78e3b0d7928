//! The cluster wire (`pushwire_socketio::cluster`): MessagePack and the Redis adapters'
//! messages, on hostile bytes. Oracle: nothing panics; every failure is a typed error;
//! whatever MessagePack decodes re-encodes to bytes that decode again, and after one such
//! pass (which rounds numbers to the doubles a JavaScript peer holds) the value is a fixed
//! point; a decoded broadcast re-encodes to a broadcast with the same uid, namespace,
//! type, id and options; a decoded request re-encodes (when its wire has it) to a request
//! of the same kind and ids.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pushwire_socketio::cluster::{
    msgpack, BroadcastMessage, RequestMessage, ResponseMessage, Wire,
};

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    if let Ok(v) = msgpack::decode(&input) {
        let once = msgpack::to_vec(&v).expect("a decoded value fits the format");
        let v1 = msgpack::decode(&Bytes::from(once)).expect("our own bytes decode");
        let twice = msgpack::to_vec(&v1).expect("fits");
        let v2 = msgpack::decode(&Bytes::from(twice)).expect("our own bytes decode");
        assert_eq!(v1, v2, "not a fixed point after one pass");
    }
    if let Ok(b) = BroadcastMessage::decode(&input) {
        let again = BroadcastMessage::decode(&Bytes::from(b.encode().expect("fits")))
            .expect("our own broadcast decodes");
        assert_eq!(again.uid, b.uid);
        assert_eq!(again.opts, b.opts);
        assert_eq!(
            (again.packet.kind, &again.packet.nsp, again.packet.id),
            (b.packet.kind, &b.packet.nsp, b.packet.id)
        );
        assert_eq!(again.packet.data.is_some(), b.packet.data.is_some());
    }
    for wire in [Wire::RedisAdapter8, Wire::SocketIoRedis5] {
        if let Ok(r) = RequestMessage::decode(&input, wire) {
            // A request may hold binary the JSON form cannot carry, or be one the other
            // wire has no form for: encoding may refuse, decoding what it wrote may not.
            if let Ok(bytes) = r.encode(wire) {
                if let Ok(again) = RequestMessage::decode(&Bytes::from(bytes), wire) {
                    assert_eq!(again.request_id, r.request_id);
                    assert_eq!(
                        std::mem::discriminant(&again.request),
                        std::mem::discriminant(&r.request)
                    );
                }
            }
        }
        if let Ok(r) = ResponseMessage::decode(&input, wire) {
            let bytes = r.encode().expect("fits");
            let again = ResponseMessage::decode(&Bytes::from(bytes), wire)
                .expect("our own response decodes");
            assert_eq!(again.request_id, r.request_id);
            assert_eq!(again.kind, r.kind);
        }
    }
});
