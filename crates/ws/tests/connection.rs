//! Connection behaviour, one test per rule, mirrored per role where the rule applies to both.

use bytes::{Buf, Bytes, BytesMut};
use pushwire_ws::frame::{FrameHeader, HeaderDecode, HeaderError, OpCode, RSV1, RSV2, RSV3};
use pushwire_ws::{
    CloseFrame, Config, Connection, ConnectionState, Event, Extension, ExtensionError, FeedError,
    FixedMaskKey, Limits, MessageKind, ProtocolError, Role, SendError,
};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn conn(role: Role) -> Connection {
    conn_with(role, Config::default())
}

/// A server as applications build one (`Connection::server`, no key source: its sends take
/// the fast paths), a client with fixed mask keys.
fn conn_with(role: Role, config: Config) -> Connection {
    match role {
        Role::Server => Connection::server(config),
        Role::Client => Connection::with_mask_keys(role, config, Box::new(FixedMaskKey(KEY))),
    }
}

/// Raw frame bytes as the peer of `receiver` would send them (masked towards a server).
fn frame(receiver: Role, fin: bool, rsv: u8, op: u8, payload: &[u8]) -> Vec<u8> {
    let masked = receiver == Role::Server;
    let mut out = vec![(if fin { 0x80 } else { 0 }) | rsv | op];
    let m = if masked { 0x80 } else { 0 };
    let len = payload.len();
    if len <= 125 {
        out.push(m | len as u8);
    } else if len <= 0xFFFF {
        out.push(m | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let mut p = payload.to_vec();
    if masked {
        let key = [9, 8, 7, 6];
        out.extend_from_slice(&key);
        pushwire_ws::mask::apply_mask_naive(&mut p, key, 0);
    }
    out.extend_from_slice(&p);
    out
}

fn data_frame(receiver: Role, op: u8, payload: &[u8]) -> Vec<u8> {
    frame(receiver, true, 0, op, payload)
}

/// Feeds `bytes` and polls until `Ok(None)` or an error.
fn run(c: &mut Connection, bytes: &[u8]) -> (Vec<Event>, Option<ProtocolError>) {
    c.feed(bytes).unwrap();
    drain_events(c)
}

fn drain_events(c: &mut Connection) -> (Vec<Event>, Option<ProtocolError>) {
    let mut events = Vec::new();
    loop {
        match c.poll_event() {
            Ok(Some(e)) => events.push(e),
            Ok(None) => return (events, None),
            Err(e) => return (events, Some(e)),
        }
    }
}

fn sent_bytes(c: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = c.poll_transmit() {
        out.extend_from_slice(&chunk);
    }
    out
}

/// Decodes the frames `sender` wrote: (opcode, fin, unmasked payload), checking the masking
/// rule for the sender's role.
fn sent_frames(c: &mut Connection) -> Vec<(OpCode, bool, Vec<u8>)> {
    let role = c.role();
    let mut bytes = &sent_bytes(c)[..];
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let HeaderDecode::Complete { header, header_len } =
            FrameHeader::decode(bytes, true).unwrap()
        else {
            panic!("truncated output")
        };
        assert_eq!(header.mask.is_some(), role == Role::Client, "masking rule");
        let end = header_len + header.payload_len as usize;
        let mut p = bytes[header_len..end].to_vec();
        if let Some(k) = header.mask {
            pushwire_ws::mask::apply_mask(&mut p, k, 0);
        }
        out.push((header.opcode, header.fin, p));
        bytes = &bytes[end..];
    }
    out
}

fn close_payload(code: u16) -> Vec<u8> {
    code.to_be_bytes().to_vec()
}

/// Asserts that `err` failed the connection, queued a close with its code, and sticks.
fn assert_failed(c: &mut Connection, err: Option<ProtocolError>, expected: ProtocolError) {
    assert_eq!(err.as_ref(), Some(&expected));
    let code = expected.close_code().unwrap();
    assert_eq!(c.state(), ConnectionState::Failed);
    assert_eq!(c.poll_event(), Err(expected.clone()), "sticky");
    let frames = sent_frames(c);
    assert_eq!(
        frames.last().unwrap(),
        &(OpCode::Close, true, close_payload(code))
    );
    // Input is discarded after a failure.
    c.feed(&data_frame(c.role(), 1, b"ignored")).unwrap();
    assert_eq!(c.poll_event(), Err(expected));
    assert!(c.should_close_transport());
    assert_eq!(c.send_text("x"), Err(SendError::Failed));
}

// ----- RFC 6455 §5.7 examples, byte for byte ---------------------------------------------------

#[test]
fn rfc_5_7_single_frame_unmasked_text() {
    let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let mut client = conn(Role::Client);
    assert_eq!(
        run(&mut client, &wire),
        (vec![Event::Text("Hello".into())], None)
    );
    let mut server = conn(Role::Server);
    server.send_text("Hello").unwrap();
    assert_eq!(sent_bytes(&mut server), wire);
}

#[test]
fn rfc_5_7_single_frame_masked_text() {
    let wire = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let mut server = conn(Role::Server);
    assert_eq!(
        run(&mut server, &wire),
        (vec![Event::Text("Hello".into())], None)
    );
    let mut client = conn(Role::Client);
    client.send_text("Hello").unwrap();
    assert_eq!(sent_bytes(&mut client), wire);
}

#[test]
fn rfc_5_7_fragmented_unmasked_text() {
    let wire = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let mut client = conn(Role::Client);
    assert_eq!(
        run(&mut client, &wire),
        (vec![Event::Text("Hello".into())], None)
    );
    let mut server = conn(Role::Server);
    server
        .send_fragment(MessageKind::Text, "Hel", false)
        .unwrap();
    server.send_fragment(MessageKind::Text, "lo", true).unwrap();
    assert_eq!(sent_bytes(&mut server), wire);
    let mut server = conn(Role::Server);
    server
        .send_fragmented(MessageKind::Text, "Hello", 3)
        .unwrap();
    assert_eq!(sent_bytes(&mut server), wire);
}

#[test]
fn rfc_5_7_unmasked_ping_and_masked_pong_reply() {
    let ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let pong = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let mut client = conn(Role::Client);
    assert_eq!(
        run(&mut client, &ping),
        (vec![Event::Ping(Bytes::from_static(b"Hello"))], None)
    );
    assert_eq!(sent_bytes(&mut client), pong);
    let mut server = conn(Role::Server);
    assert_eq!(
        run(&mut server, &pong),
        (vec![Event::Pong(Bytes::from_static(b"Hello"))], None)
    );
    server.send_ping("Hello").unwrap();
    assert_eq!(sent_bytes(&mut server), ping);
}

#[test]
fn rfc_5_7_256_and_65536_byte_binary() {
    for (len, head) in [
        (256usize, vec![0x82, 0x7E, 0x01, 0x00]),
        (65536, vec![0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]),
    ] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut wire = head.clone();
        wire.extend_from_slice(&payload);
        let mut client = conn(Role::Client);
        assert_eq!(
            run(&mut client, &wire),
            (vec![Event::Binary(payload.clone().into())], None)
        );
        let mut server = conn(Role::Server);
        server.send_binary(payload).unwrap();
        assert_eq!(sent_bytes(&mut server), wire);
    }
}

// ----- masking -----------------------------------------------------------------------------

#[test]
fn server_rejects_unmasked_frame() {
    let mut server = conn(Role::Server);
    let (ev, err) = run(&mut server, &data_frame(Role::Client, 1, b"hi"));
    assert!(ev.is_empty());
    assert_failed(&mut server, err, ProtocolError::UnmaskedFrame);
}

#[test]
fn client_rejects_masked_frame() {
    let mut client = conn(Role::Client);
    let (ev, err) = run(&mut client, &data_frame(Role::Server, 1, b"hi"));
    assert!(ev.is_empty());
    assert_failed(&mut client, err, ProtocolError::MaskedFrame);
}

// ----- header-level rules, both roles --------------------------------------------------------

fn each_role(test: impl Fn(Role)) {
    test(Role::Server);
    test(Role::Client);
}

#[test]
fn server_and_client_reject_reserved_bits_without_extension() {
    each_role(|role| {
        for rsv in [RSV1, RSV2, RSV3] {
            let mut c = conn(role);
            let (_, err) = run(&mut c, &frame(role, true, rsv, 1, b"hi"));
            assert_failed(&mut c, err, ProtocolError::ReservedBits(rsv));
        }
    });
}

#[test]
fn server_and_client_reject_reserved_opcodes() {
    each_role(|role| {
        for op in (3..=7).chain(11..=15) {
            let mut c = conn(role);
            let (_, err) = run(&mut c, &frame(role, true, 0, op, b""));
            assert_failed(
                &mut c,
                err,
                ProtocolError::Header(HeaderError::ReservedOpcode(op)),
            );
        }
    });
}

#[test]
fn server_and_client_reject_control_frame_over_125_bytes() {
    each_role(|role| {
        for op in [8, 9, 10] {
            let mut c = conn(role);
            let (_, err) = run(&mut c, &frame(role, true, 0, op, &[0; 126]));
            assert_failed(
                &mut c,
                err,
                ProtocolError::ControlFrameTooLong {
                    len: 126,
                    limit: 125,
                },
            );
        }
    });
}

#[test]
fn server_and_client_reject_fragmented_control_frame() {
    each_role(|role| {
        let mut c = conn(role);
        let (_, err) = run(&mut c, &frame(role, false, 0, 9, b"x"));
        assert_failed(&mut c, err, ProtocolError::FragmentedControlFrame);
    });
}

#[test]
fn server_and_client_reject_continuation_without_message() {
    each_role(|role| {
        let mut c = conn(role);
        let (_, err) = run(&mut c, &frame(role, true, 0, 0, b"x"));
        assert_failed(&mut c, err, ProtocolError::UnexpectedContinuation);
    });
}

#[test]
fn server_and_client_reject_new_message_inside_fragmented_one() {
    each_role(|role| {
        let mut c = conn(role);
        let mut wire = frame(role, false, 0, 1, b"a");
        wire.extend(frame(role, true, 0, 2, b"b"));
        let (_, err) = run(&mut c, &wire);
        assert_failed(&mut c, err, ProtocolError::ExpectedContinuation);
    });
}

#[test]
fn server_and_client_accept_control_frames_between_fragments() {
    each_role(|role| {
        let mut c = conn(role);
        let mut wire = frame(role, false, 0, 1, b"Hel");
        wire.extend(frame(role, true, 0, 9, b"p"));
        wire.extend(frame(role, false, 0, 0, b"l"));
        wire.extend(frame(role, true, 0, 10, b"q"));
        wire.extend(frame(role, true, 0, 0, b"o"));
        let (ev, err) = run(&mut c, &wire);
        assert_eq!(err, None);
        assert_eq!(
            ev,
            vec![
                Event::Ping(Bytes::from_static(b"p")),
                Event::Pong(Bytes::from_static(b"q")),
                Event::Text("Hello".into()),
            ]
        );
    });
}

#[test]
fn server_and_client_reject_non_minimal_length_unless_allowed() {
    each_role(|role| {
        // "length 5" written as 126 + 16-bit 5.
        let masked = role == Role::Server;
        let mut w = vec![0x82, if masked { 0x80 | 126 } else { 126 }, 0, 5];
        if masked {
            w.extend_from_slice(&[0, 0, 0, 0]);
        }
        w.extend_from_slice(b"abcde");
        let mut c = conn(role);
        let (_, err) = run(&mut c, &w);
        assert_failed(
            &mut c,
            err,
            ProtocolError::Header(HeaderError::NonMinimalLength(5)),
        );
        let mut config = Config::default();
        config.require_minimal_length = false;
        let mut c = conn_with(role, config);
        assert_eq!(
            run(&mut c, &w),
            (vec![Event::Binary(Bytes::from_static(b"abcde"))], None)
        );
    });
}

// ----- UTF-8 -------------------------------------------------------------------------------

#[test]
fn server_and_client_reject_invalid_utf8_at_first_bad_frame() {
    each_role(|role| {
        let mut c = conn(role);
        // Valid first fragment, invalid second, and the message never ends.
        let (ev, err) = run(&mut c, &frame(role, false, 0, 1, "κό".as_bytes()));
        assert_eq!((ev, err), (vec![], None));
        let (_, err) = run(&mut c, &frame(role, false, 0, 0, &[0xCE, 0x41]));
        assert_failed(&mut c, err, ProtocolError::InvalidUtf8);
    });
}

#[test]
fn server_and_client_reject_invalid_utf8_inside_a_partial_frame() {
    each_role(|role| {
        let mut payload = b"hello".to_vec();
        payload.extend_from_slice(&[0xF4, 0x90, 0x80, 0x80]);
        payload.extend_from_slice(&[b'x'; 20]);
        let wire = frame(role, true, 0, 1, &payload);
        let mut c = conn(role);
        // Only part of the frame has arrived, but it already contains the bad bytes.
        let (_, err) = run(&mut c, &wire[..wire.len() - 10]);
        assert_failed(&mut c, err, ProtocolError::InvalidUtf8);
    });
}

#[test]
fn server_and_client_reject_text_ending_mid_code_point() {
    each_role(|role| {
        let mut c = conn(role);
        let mut wire = frame(role, false, 0, 1, b"ok");
        wire.extend(frame(role, true, 0, 0, &[0xE2, 0x82]));
        let (_, err) = run(&mut c, &wire);
        assert_failed(&mut c, err, ProtocolError::InvalidUtf8);
    });
}

#[test]
fn server_and_client_accept_code_points_split_across_fragments() {
    each_role(|role| {
        let text = "a€b";
        let b = text.as_bytes();
        let mut c = conn(role);
        let mut wire = frame(role, false, 0, 1, &b[..2]);
        wire.extend(frame(role, false, 0, 0, &b[2..3]));
        wire.extend(frame(role, true, 0, 0, &b[3..]));
        assert_eq!(run(&mut c, &wire), (vec![Event::Text(text.into())], None));
    });
}

// ----- limits ------------------------------------------------------------------------------

fn small_limits() -> Config {
    let mut c = Config::default();
    c.limits.max_frame_size = 100;
    c.limits.max_message_size = 150;
    c.limits.max_fragments = 3;
    c.limits.max_buffered_output = 1000;
    c
}

#[test]
fn server_and_client_reject_frame_too_large_before_payload_arrives() {
    each_role(|role| {
        let mut c = conn_with(role, small_limits());
        let wire = frame(role, true, 0, 2, &[0; 101]);
        // Header only: the limit is checked before waiting for (or buffering) the payload.
        let (_, err) = run(&mut c, &wire[..8]);
        assert_failed(
            &mut c,
            err,
            ProtocolError::FrameTooLarge {
                len: 101,
                limit: 100,
            },
        );
        assert_eq!(
            ProtocolError::FrameTooLarge { len: 0, limit: 0 }.close_code(),
            Some(1009)
        );
    });
}

#[test]
fn server_and_client_reject_message_too_large() {
    each_role(|role| {
        let mut c = conn_with(role, small_limits());
        let mut wire = frame(role, false, 0, 2, &[0; 100]);
        wire.extend(frame(role, true, 0, 0, &[0; 51]));
        let (_, err) = run(&mut c, &wire);
        assert_failed(
            &mut c,
            err,
            ProtocolError::MessageTooLarge {
                len: 151,
                limit: 150,
            },
        );
    });
}

#[test]
fn server_and_client_reject_too_many_fragments() {
    each_role(|role| {
        let mut c = conn_with(role, small_limits());
        let mut wire = frame(role, false, 0, 2, b"a");
        wire.extend(frame(role, false, 0, 0, b"b"));
        wire.extend(frame(role, false, 0, 0, b"c"));
        wire.extend(frame(role, true, 0, 0, b"d"));
        let (_, err) = run(&mut c, &wire);
        assert_failed(&mut c, err, ProtocolError::TooManyFragments { limit: 3 });
    });
}

#[test]
fn server_and_client_limit_buffered_output() {
    each_role(|role| {
        let mut c = conn_with(role, small_limits());
        c.send_binary(vec![0; 900]).unwrap();
        assert!(matches!(
            c.send_binary(vec![0; 200]),
            Err(SendError::OutputFull { limit: 1000, .. })
        ));
        let _ = sent_bytes(&mut c);
        assert_eq!(c.buffered_output(), 0);
        c.send_binary(vec![0; 200]).unwrap();
    });
}

#[test]
fn output_full_names_the_bytes_each_send_would_add() {
    // `len` is the send's bound on what it adds: payload plus a largest header per frame
    // (14 bytes), for as many frames as the split can make.
    each_role(|role| {
        let mut config = Config::default();
        config.limits.max_buffered_output = 50;
        config.auto_pong = false;
        let mut c = conn_with(role, config);
        let full = |buffered, len| {
            Err(SendError::OutputFull {
                buffered,
                len,
                limit: 50,
            })
        };
        // 1,000 bytes in frames of 100: 1000 / 100 + 1 = 11 headers.
        assert_eq!(
            c.send_fragmented(MessageKind::Binary, vec![0; 1000], 100),
            full(0, 1000 + 11 * 14)
        );
        assert_eq!(
            c.send_fragmented(MessageKind::Binary, vec![0; 1000], 300),
            full(0, 1000 + 4 * 14)
        );
        assert_eq!(
            c.send_fragment(MessageKind::Binary, vec![0; 100], false),
            full(0, 100 + 14)
        );
        assert_eq!(c.send_ping(vec![0; 100]), full(0, 100 + 14));
        // A pong after our Close (the answer to a ping that came before the peer's Close)
        // is bounded the same way.
        c.send_close(1000, "").unwrap();
        let buffered = c.buffered_output();
        assert!(buffered > 0);
        assert_eq!(c.send_pong(vec![0; 100]), full(buffered, 100 + 14));
        assert_eq!(c.send_pong(vec![0; 20]), Ok(()));
        assert_eq!(
            c.send_pong(vec![0; 126]),
            Err(SendError::ControlTooLong {
                len: 126,
                limit: 125
            })
        );
        assert_eq!(
            sent_frames(&mut c),
            vec![
                (OpCode::Close, true, close_payload(1000)),
                (OpCode::Pong, true, vec![0; 20])
            ]
        );
    });
}

#[test]
fn a_send_that_fills_the_output_exactly_is_accepted() {
    each_role(|role| {
        let mut config = Config::default();
        config.limits.max_buffered_output = 50;
        let mut c = conn_with(role, config);
        // 36 + 14 = 50: at the limit, not over it.
        c.send_ping(vec![1; 36]).unwrap();
        let _ = sent_bytes(&mut c);
        c.send_binary(vec![2; 36]).unwrap();
        let _ = sent_bytes(&mut c);
        assert_eq!(
            c.send_binary(vec![3; 37]),
            Err(SendError::OutputFull {
                buffered: 0,
                len: 37 + 14,
                limit: 50
            })
        );
        // With bytes already queued, the bound counts them.
        c.send_binary(vec![4; 6]).unwrap();
        let queued = c.buffered_output();
        assert_eq!(
            c.send_binary(vec![5; 40]),
            Err(SendError::OutputFull {
                buffered: queued,
                len: 40 + 14,
                limit: 50
            })
        );
    });
}

#[test]
fn messages_of_every_length_class_are_framed_exactly() {
    each_role(|role| {
        let mut c = conn(role);
        let lens = [0usize, 1, 125, 126, 1000, 65_535, 65_536, 70_000];
        for &len in &lens {
            c.send_binary(vec![len as u8; len]).unwrap();
            c.send_text("é".repeat(len / 2)).unwrap();
        }
        let frames = sent_frames(&mut c);
        let want: Vec<(OpCode, bool, Vec<u8>)> = lens
            .iter()
            .flat_map(|&len| {
                [
                    (OpCode::Binary, true, vec![len as u8; len]),
                    (OpCode::Text, true, "é".repeat(len / 2).into_bytes()),
                ]
            })
            .collect();
        assert_eq!(frames, want);
    });
}

#[test]
fn no_message_is_sent_after_our_close_or_a_failure() {
    each_role(|role| {
        let mut c = conn(role);
        c.send_close(1000, "").unwrap();
        assert_eq!(c.send_text("x"), Err(SendError::Closing));
        assert_eq!(c.send_binary(vec![1]), Err(SendError::Closing));
        assert_eq!(
            sent_frames(&mut c),
            vec![(OpCode::Close, true, close_payload(1000))]
        );
        let mut c = conn(role);
        let (_, err) = run(&mut c, &frame(role, true, RSV3, 2, b"x"));
        assert!(err.is_some());
        let _ = sent_bytes(&mut c);
        assert_eq!(c.send_text("x"), Err(SendError::Failed));
        assert_eq!(c.send_binary(vec![1]), Err(SendError::Failed));
        assert_eq!(sent_bytes(&mut c), b"");
    });
}

#[test]
fn buffered_output_counts_exactly_the_bytes_to_write() {
    each_role(|role| {
        let mut c = conn(role);
        let mut expected = 0;
        for len in [0usize, 10, 125, 126, 5000, 70_000] {
            c.send_binary(vec![1; len]).unwrap();
            c.send_ping(vec![2; len.min(125)]).unwrap();
            assert!(c.buffered_output() > expected);
            expected = c.buffered_output();
        }
        // Chunk by chunk, the count goes down by each chunk's length.
        while let Some(chunk) = c.poll_transmit() {
            expected -= chunk.len();
            assert_eq!(c.buffered_output(), expected);
        }
        assert_eq!(expected, 0);
        // A server's large frame: its head taken alone, then the rest as one `Transmit` (a
        // client writes a masked copy of the whole frame in one chunk).
        if role == Role::Server {
            c.send_binary(vec![3; 100_000]).unwrap();
            let head = c.poll_transmit().unwrap();
            assert_eq!(head.len(), 10, "FIN+opcode, 127, a 64-bit length");
            assert_eq!(c.buffered_output(), 100_000);
            assert_eq!(c.take_transmit().remaining(), 100_000);
            assert_eq!(c.buffered_output(), 0);
            // The same while a streamed message keeps the connection's state alive.
            c.send_binary(vec![3; 100_000]).unwrap();
            let _head = c.poll_transmit().unwrap();
            c.send_fragment(MessageKind::Text, "a", false).unwrap();
            assert_eq!(c.buffered_output(), 100_000 + 3);
            assert_eq!(c.take_transmit().remaining(), 100_000 + 3);
            assert_eq!(c.buffered_output(), 0);
        }
        assert_eq!(c.buffered_output(), 0);
    });
}

// ----- ping / pong -------------------------------------------------------------------------

#[test]
fn server_and_client_answer_ping_with_identical_pong() {
    each_role(|role| {
        let mut c = conn(role);
        let (ev, _) = run(&mut c, &frame(role, true, 0, 9, b"abc"));
        assert_eq!(ev, vec![Event::Ping(Bytes::from_static(b"abc"))]);
        assert_eq!(
            sent_frames(&mut c),
            vec![(OpCode::Pong, true, b"abc".to_vec())]
        );
    });
}

#[test]
fn server_and_client_leave_pong_to_application_without_auto_pong() {
    each_role(|role| {
        let mut config = Config::default();
        config.auto_pong = false;
        let mut c = conn_with(role, config);
        let (ev, _) = run(&mut c, &frame(role, true, 0, 9, b"abc"));
        assert_eq!(ev, vec![Event::Ping(Bytes::from_static(b"abc"))]);
        assert!(sent_bytes(&mut c).is_empty());
        c.send_pong("abc").unwrap();
        assert_eq!(
            sent_frames(&mut c),
            vec![(OpCode::Pong, true, b"abc".to_vec())]
        );
    });
}

// ----- close -------------------------------------------------------------------------------

#[test]
fn server_and_client_echo_close_code_and_report_closed() {
    each_role(|role| {
        let mut c = conn(role);
        let mut payload = close_payload(4000);
        payload.extend_from_slice(b"bye");
        let (ev, err) = run(&mut c, &frame(role, true, 0, 8, &payload));
        assert_eq!(err, None);
        assert_eq!(
            ev,
            vec![Event::Close(Some(CloseFrame::new(4000, "bye").unwrap()))]
        );
        assert_eq!(c.state(), ConnectionState::Closed);
        assert_eq!(
            sent_frames(&mut c),
            vec![(OpCode::Close, true, close_payload(4000))]
        );
        assert_eq!(c.send_text("late"), Err(SendError::Closing));
        // Anything after the close is ignored.
        assert_eq!(run(&mut c, &frame(role, true, 0, 1, b"x")), (vec![], None));
    });
}

#[test]
fn server_and_client_answer_empty_close_with_empty_close() {
    each_role(|role| {
        let mut c = conn(role);
        let (ev, _) = run(&mut c, &frame(role, true, 0, 8, b""));
        assert_eq!(ev, vec![Event::Close(None)]);
        assert_eq!(sent_frames(&mut c), vec![(OpCode::Close, true, vec![])]);
    });
}

#[test]
fn server_and_client_reject_invalid_close_payloads() {
    use pushwire_ws::close::CloseError;
    each_role(|role| {
        let mut bad_utf8 = close_payload(1000);
        bad_utf8.extend_from_slice(&[0xFF]);
        for (payload, err) in [
            (vec![0x03], ProtocolError::InvalidClose(CloseError::OneByte)),
            (
                close_payload(1005),
                ProtocolError::InvalidClose(CloseError::InvalidCode(1005)),
            ),
            (
                close_payload(999),
                ProtocolError::InvalidClose(CloseError::InvalidCode(999)),
            ),
            (
                close_payload(5000),
                ProtocolError::InvalidClose(CloseError::InvalidCode(5000)),
            ),
            (
                bad_utf8,
                ProtocolError::InvalidClose(CloseError::InvalidUtf8),
            ),
        ] {
            let mut c = conn(role);
            let (_, e) = run(&mut c, &frame(role, true, 0, 8, &payload));
            assert_failed(&mut c, e, err);
        }
    });
}

#[test]
fn server_and_client_drop_data_after_sending_close_and_wait_for_peer_close() {
    each_role(|role| {
        let mut c = conn(role);
        c.send_close(1000, "done").unwrap();
        assert_eq!(c.state(), ConnectionState::CloseSent);
        assert_eq!(
            sent_frames(&mut c),
            vec![(
                OpCode::Close,
                true,
                [&close_payload(1000)[..], b"done"].concat()
            )]
        );
        assert_eq!(c.send_text("x"), Err(SendError::Closing));
        assert_eq!(c.send_ping("x"), Err(SendError::Closing));
        assert_eq!(c.send_close(1000, ""), Err(SendError::Closing));
        let mut wire = frame(role, true, 0, 1, b"dropped");
        wire.extend(frame(role, true, 0, 9, b"p"));
        wire.extend(frame(role, true, 0, 8, &close_payload(1000)));
        let (ev, err) = run(&mut c, &wire);
        assert_eq!(err, None);
        assert_eq!(
            ev,
            vec![
                Event::Ping(Bytes::from_static(b"p")),
                Event::Close(Some(CloseFrame::new(1000, "").unwrap()))
            ]
        );
        assert_eq!(c.state(), ConnectionState::Closed);
        // A ping before the peer's Close is still answered ("MUST send a Pong frame in
        // response, unless it already received a Close frame"); our close was already sent,
        // so no second one.
        assert_eq!(
            sent_frames(&mut c),
            vec![(OpCode::Pong, true, b"p".to_vec())]
        );
        assert_eq!(c.send_pong("late"), Err(SendError::Closing));
    });
}

#[test]
fn server_closes_transport_first_client_waits_for_eof() {
    let mut server = conn(Role::Server);
    server.send_close(1000, "").unwrap();
    assert!(!server.should_close_transport());
    let _ = run(
        &mut server,
        &frame(Role::Server, true, 0, 8, &close_payload(1000)),
    );
    assert!(!server.should_close_transport(), "output not drained yet");
    let _ = sent_bytes(&mut server);
    assert!(server.should_close_transport());

    let mut client = conn(Role::Client);
    let _ = run(
        &mut client,
        &frame(Role::Client, true, 0, 8, &close_payload(1000)),
    );
    let _ = sent_bytes(&mut client);
    assert!(!client.should_close_transport());
    client.feed_eof();
    assert!(client.should_close_transport());
}

#[test]
fn server_and_client_report_eof_without_close_handshake() {
    each_role(|role| {
        let mut c = conn(role);
        let wire = frame(role, true, 0, 1, b"hello");
        c.feed(&wire[..4]).unwrap();
        c.feed_eof();
        assert_eq!(c.poll_event(), Err(ProtocolError::UnexpectedEof));
        assert_eq!(ProtocolError::UnexpectedEof.close_code(), None);
        assert!(sent_bytes(&mut c).is_empty(), "1006 is never sent");
        assert!(c.should_close_transport());
    });
}

// ----- caller misuse -----------------------------------------------------------------------

#[test]
fn server_and_client_refuse_misuse() {
    use pushwire_ws::close::CloseError;
    each_role(|role| {
        let mut c = conn(role);
        assert_eq!(
            c.send_ping(vec![0; 126]),
            Err(SendError::ControlTooLong {
                len: 126,
                limit: 125
            })
        );
        assert_eq!(
            c.send_pong(vec![0; 126]),
            Err(SendError::ControlTooLong {
                len: 126,
                limit: 125
            })
        );
        c.send_ping(vec![0; 125]).unwrap();
        assert_eq!(
            c.send_close(1006, ""),
            Err(SendError::InvalidClose(CloseError::InvalidCode(1006)))
        );
        assert_eq!(
            c.send_close(1000, &"x".repeat(124)),
            Err(SendError::InvalidClose(CloseError::ReasonTooLong {
                len: 124,
                limit: 123
            }))
        );
        assert_eq!(
            c.send_fragment(MessageKind::Text, vec![0xFF], true),
            Err(SendError::InvalidUtf8)
        );
        c.send_fragment(MessageKind::Text, vec![0xE2], false)
            .unwrap();
        assert_eq!(c.send_text("x"), Err(SendError::MessageInProgress));
        assert_eq!(
            c.send_fragment(MessageKind::Binary, vec![1], true),
            Err(SendError::MessageInProgress)
        );
        assert_eq!(
            c.send_fragment(MessageKind::Text, vec![0x82], true),
            Err(SendError::InvalidUtf8),
            "ends mid code point"
        );
        c.send_fragment(MessageKind::Text, vec![0x82, 0xAC], true)
            .unwrap();
        c.send_text("after").unwrap();
        let frames = sent_frames(&mut c);
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[2], (OpCode::Continuation, true, vec![0x82, 0xAC]));
    });
}

// ----- zero copy ---------------------------------------------------------------------------

#[test]
fn server_sends_large_payload_as_its_own_chunk() {
    let mut server = conn(Role::Server);
    let payload = Bytes::from(vec![7u8; 10_000]);
    let ptr = payload.as_ptr();
    server.send_binary(payload).unwrap();
    let head = server.poll_transmit().unwrap();
    assert_eq!(&head[..], &[0x82, 126, 0x27, 0x10]);
    let body = server.poll_transmit().unwrap();
    assert_eq!(body.as_ptr(), ptr, "payload not copied");
    assert_eq!(server.poll_transmit(), None);
}

#[test]
fn received_payload_is_split_off_the_fed_buffer() {
    let mut server = conn(Role::Server);
    let wire = BytesMut::from(&frame(Role::Server, true, 0, 2, &[5u8; 1000])[..]);
    let range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
    server.feed_bytes(wire).unwrap();
    let Ok(Some(Event::Binary(b))) = server.poll_event() else {
        panic!()
    };
    assert_eq!(&b[..], &[5u8; 1000][..]);
    assert!(range.contains(&(b.as_ptr() as usize)), "unmasked in place");
}

// ----- extensions hook ---------------------------------------------------------------------

/// Toy extension: RSV1 marks a message whose bytes are XOR 0xFF.
struct Invert;

impl Extension for Invert {
    fn rsv_bits(&self) -> u8 {
        RSV1
    }
    fn decode(
        &mut self,
        _kind: MessageKind,
        _rsv: u8,
        payload: Bytes,
        _max: u64,
    ) -> Result<Bytes, ExtensionError> {
        if payload.first() == Some(&0) {
            return Err(ExtensionError {
                code: 1007,
                reason: "zero",
            });
        }
        Ok(payload.iter().map(|b| !b).collect::<Vec<u8>>().into())
    }
    fn encode(
        &mut self,
        _kind: MessageKind,
        payload: Bytes,
    ) -> Result<(u8, Bytes), ExtensionError> {
        Ok((RSV1, payload.iter().map(|b| !b).collect::<Vec<u8>>().into()))
    }
}

#[test]
fn an_extension_claims_only_its_own_reserved_bits() {
    each_role(|role| {
        for rsv in [RSV2, RSV3, RSV1 | RSV2] {
            let mut c = conn(role);
            c.set_extension(Box::new(Invert));
            let (_, err) = run(&mut c, &frame(role, true, rsv, 1, b"hi"));
            assert_failed(&mut c, err, ProtocolError::ReservedBits(rsv & !RSV1));
        }
    });
}

#[test]
fn extension_claims_rsv1_and_transforms_messages() {
    each_role(|role| {
        let inv: Vec<u8> = b"hi".iter().map(|b| !b).collect();
        let mut c = conn(role);
        c.set_extension(Box::new(Invert));
        // RSV1 on the first frame: decoded, then UTF-8 checked.
        let mut wire = frame(role, false, RSV1, 1, &inv[..1]);
        wire.extend(frame(role, true, 0, 0, &inv[1..]));
        assert_eq!(run(&mut c, &wire), (vec![Event::Text("hi".into())], None));
        // Without RSV1 the message is untouched.
        assert_eq!(
            run(&mut c, &frame(role, true, 0, 2, b"raw")),
            (vec![Event::Binary(Bytes::from_static(b"raw"))], None)
        );
        c.send_text("hi").unwrap();
        let out = sent_bytes(&mut c);
        assert_eq!(out[0], 0x80 | RSV1 | 1);
        // RSV1 on a continuation frame is still an error.
        let mut wire = frame(role, false, RSV1, 2, b"a");
        wire.extend(frame(role, true, RSV1, 0, b"b"));
        let (_, err) = run(&mut c, &wire);
        assert_failed(&mut c, err, ProtocolError::ReservedBits(RSV1));
    });
    // `Extension::encode_fragment`'s default: "passes fragments through untransformed with
    // RSV clear" (Invert does not override it).
    let mut c = conn(Role::Server);
    c.set_extension(Box::new(Invert));
    c.send_fragment(MessageKind::Binary, "ab", false).unwrap();
    c.send_fragment(MessageKind::Binary, "c", true).unwrap();
    assert_eq!(sent_bytes(&mut c), b"\x02\x02ab\x80\x01c");
    // Extension errors carry their close code; transformed text is UTF-8 checked.
    let mut c = conn(Role::Client);
    c.set_extension(Box::new(Invert));
    let (_, err) = run(&mut c, &frame(Role::Client, true, RSV1, 1, &[0]));
    assert_failed(
        &mut c,
        err,
        ProtocolError::Extension {
            code: 1007,
            reason: "zero",
        },
    );
    let mut c = conn(Role::Client);
    c.set_extension(Box::new(Invert));
    let (_, err) = run(
        &mut c,
        &frame(Role::Client, true, RSV1, 1, &[!0xC3u8, !0x28u8]),
    );
    assert_failed(&mut c, err, ProtocolError::InvalidUtf8);
}

#[test]
fn poll_event_ref_lends_payloads_and_handles_every_kind() {
    use pushwire_ws::EventRef;
    for role in [Role::Server, Role::Client] {
        let mut c = conn(role);
        let mut wire = data_frame(role, 0x1, "héllo".as_bytes());
        wire.extend(data_frame(role, 0x2, &[1, 2, 3]));
        // A fragmented text message, then a ping inside nothing, then a close.
        wire.extend(frame(role, false, 0, 0x1, b"frag"));
        wire.extend(frame(role, true, 0, 0x0, b"mented"));
        wire.extend(data_frame(role, 0x9, b"p"));
        wire.extend(data_frame(role, 0x8, &close_payload(1000)));
        c.feed(&wire).unwrap();
        match c.poll_event_ref() {
            Ok(Some(EventRef::Text(t))) => assert_eq!(t.as_str(), "héllo"),
            other => panic!("{other:?}"),
        }
        assert_eq!(c.poll_event_ref(), Ok(Some(EventRef::Binary(&[1, 2, 3]))));
        match c.poll_event_ref() {
            Ok(Some(EventRef::Text(t))) => assert_eq!(t, "fragmented"),
            other => panic!("{other:?}"),
        }
        assert_eq!(c.poll_event_ref(), Ok(Some(EventRef::Ping(b"p"))));
        let close = CloseFrame::new(1000, "").unwrap();
        assert_eq!(c.poll_event_ref(), Ok(Some(EventRef::Close(Some(&close)))));
        assert_eq!(c.poll_event_ref(), Ok(None));
        assert_eq!(c.state(), ConnectionState::Closed);
        // The pong and the close echo were queued as with `poll_event`.
        let frames = sent_frames(&mut c);
        assert_eq!(frames[0], (OpCode::Pong, true, b"p".to_vec()));
        assert_eq!(frames[1], (OpCode::Close, true, close_payload(1000)));
    }
}

#[test]
fn poll_event_ref_fails_like_poll_event() {
    // Invalid UTF-8 in a whole text frame: 1007 queued, error sticky, for both polls.
    for role in [Role::Server, Role::Client] {
        let mut c = conn(role);
        c.feed(&data_frame(role, 0x1, &[b'a', 0xFF])).unwrap();
        assert_eq!(c.poll_event_ref(), Err(ProtocolError::InvalidUtf8));
        assert_eq!(c.poll_event_ref(), Err(ProtocolError::InvalidUtf8));
        assert_eq!(c.poll_event(), Err(ProtocolError::InvalidUtf8));
        assert_eq!(
            sent_frames(&mut c),
            vec![(OpCode::Close, true, close_payload(1007))]
        );
    }
}

#[test]
fn poll_event_ref_then_feed_keeps_the_stream_in_order() {
    // The lent frame is dropped on the next call, whichever it is (feed here).
    let mut c = conn(Role::Server);
    let a = data_frame(Role::Server, 0x1, b"first");
    let b = data_frame(Role::Server, 0x1, b"second");
    c.feed(&a).unwrap();
    c.feed(&b[..3]).unwrap();
    let text = |e: Option<pushwire_ws::EventRef<'_>>| match e {
        Some(pushwire_ws::EventRef::Text(t)) => t.as_str().to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(text(c.poll_event_ref().unwrap()), "first");
    c.feed(&b[3..]).unwrap();
    assert_eq!(text(c.poll_event_ref().unwrap()), "second");
    assert_eq!(c.poll_event_ref().unwrap(), None);
}

/// Feeds `bytes` and polls with `poll_event_ref` until `Ok(None)` or an error; the events as
/// (is text, payload) pairs.
fn run_ref(c: &mut Connection, bytes: &[u8]) -> (Vec<(bool, Vec<u8>)>, Option<ProtocolError>) {
    use pushwire_ws::EventRef;
    c.feed(bytes).unwrap();
    let mut events = Vec::new();
    loop {
        match c.poll_event_ref() {
            Ok(Some(EventRef::Text(t))) => events.push((true, t.as_bytes().to_vec())),
            Ok(Some(EventRef::Binary(b))) => events.push((false, b.to_vec())),
            Ok(Some(other)) => panic!("unexpected {other:?}"),
            Ok(None) => return (events, None),
            Err(e) => return (events, Some(e)),
        }
    }
}

/// A whole message in one frame takes a fast path in both polls; its limits must be those of
/// the general path, at the bound and one past it.
#[test]
fn whole_single_frames_meet_the_frame_and_message_limits_at_the_bound() {
    each_role(|role| {
        let mut frame_limit = Config::default();
        frame_limit.limits.max_frame_size = 100;
        frame_limit.limits.max_message_size = 1000;
        let mut message_limit = Config::default();
        message_limit.limits.max_frame_size = 1000;
        message_limit.limits.max_message_size = 100;
        for (config, over) in [
            (
                frame_limit,
                ProtocolError::FrameTooLarge {
                    len: 101,
                    limit: 100,
                },
            ),
            (
                message_limit,
                ProtocolError::MessageTooLarge {
                    len: 101,
                    limit: 100,
                },
            ),
        ] {
            for op in [1u8, 2] {
                // At the bound, then one over, in one feed: the first is delivered, the
                // second fails the connection.
                let mut wire = data_frame(role, op, &[b'a'; 100]);
                wire.extend(data_frame(role, op, &[b'b'; 101]));
                let mut c = conn_with(role, config);
                let (ev, err) = run(&mut c, &wire);
                assert_eq!(ev.len(), 1, "{role:?} op {op}");
                assert_failed(&mut c, err, over.clone());
                let mut c = conn_with(role, config);
                let (ev, err) = run_ref(&mut c, &wire);
                assert_eq!(ev, vec![(op == 1, vec![b'a'; 100])]);
                assert_failed(&mut c, err, over.clone());
            }
        }
    });
}

#[test]
fn fragmented_messages_meet_the_limits_at_the_bound() {
    each_role(|role| {
        // A first fragment of exactly `max_frame_size`, and a message of exactly
        // `max_message_size`, are accepted.
        let mut wire = frame(role, false, 0, 2, &[1; 100]);
        wire.extend(frame(role, true, 0, 0, &[2; 50]));
        let mut c = conn_with(role, small_limits());
        let (ev, err) = run(&mut c, &wire);
        assert_eq!(err, None);
        let mut whole = vec![1; 100];
        whole.extend([2; 50]);
        assert_eq!(ev, vec![Event::Binary(whole.into())]);
    });
}

#[test]
fn a_first_fragment_of_exactly_max_message_size_is_accepted() {
    each_role(|role| {
        let mut config = Config::default();
        config.limits.max_frame_size = 200;
        config.limits.max_message_size = 150;
        let mut wire = frame(role, false, 0, 2, &[1; 150]);
        wire.extend(frame(role, true, 0, 0, b""));
        let mut c = conn_with(role, config);
        assert_eq!(
            run(&mut c, &wire),
            (vec![Event::Binary(vec![1; 150].into())], None)
        );
        let mut c = conn_with(role, config);
        let (_, err) = run(&mut c, &frame(role, false, 0, 2, &[1; 151]));
        assert_failed(
            &mut c,
            err,
            ProtocolError::MessageTooLarge {
                len: 151,
                limit: 150,
            },
        );
    });
}

#[test]
fn control_frames_of_exactly_125_bytes_are_accepted() {
    each_role(|role| {
        let mut c = conn(role);
        let (ev, err) = run(&mut c, &data_frame(role, 9, &[7; 125]));
        assert_eq!(err, None);
        assert_eq!(ev, vec![Event::Ping(Bytes::from(vec![7; 125]))]);
    });
}

#[test]
fn a_16_bit_length_is_minimal_from_126_on() {
    each_role(|role| {
        let masked = role == Role::Server;
        let wire = |len: u16| {
            let mut w = vec![0x81, if masked { 0x80 | 126 } else { 126 }];
            w.extend_from_slice(&len.to_be_bytes());
            if masked {
                w.extend_from_slice(&[0, 0, 0, 0]);
            }
            w.extend(std::iter::repeat_n(b'x', usize::from(len)));
            w
        };
        let mut c = conn(role);
        assert_eq!(
            run(&mut c, &wire(126)),
            (vec![Event::Text("x".repeat(126).as_str().into())], None)
        );
        let mut c = conn(role);
        let (_, err) = run(&mut c, &wire(125));
        assert_failed(
            &mut c,
            err,
            ProtocolError::Header(HeaderError::NonMinimalLength(125)),
        );
        let mut c = conn(role);
        let (_, err) = run_ref(&mut c, &wire(125));
        assert_failed(
            &mut c,
            err,
            ProtocolError::Header(HeaderError::NonMinimalLength(125)),
        );
        let mut lax = Config::default();
        lax.require_minimal_length = false;
        let mut c = conn_with(role, lax);
        assert_eq!(
            run_ref(&mut c, &wire(125)),
            (vec![(true, vec![b'x'; 125])], None)
        );
    });
}

/// The masking rule holds when more bytes follow the frame (the fast path must not read the
/// payload of an unmasked frame as a mask key).
#[test]
fn the_masking_rule_holds_with_bytes_after_the_frame() {
    each_role(|role| {
        let peer = match role {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        };
        // Frames masked as for the wrong receiver.
        let mut wire = data_frame(peer, 2, b"0123456789");
        wire.extend(data_frame(peer, 2, b"0123456789"));
        let expected = match role {
            Role::Server => ProtocolError::UnmaskedFrame,
            Role::Client => ProtocolError::MaskedFrame,
        };
        let mut c = conn(role);
        let (ev, err) = run(&mut c, &wire);
        assert!(ev.is_empty());
        assert_failed(&mut c, err, expected.clone());
        let mut c = conn(role);
        let (ev, err) = run_ref(&mut c, &wire);
        assert!(ev.is_empty());
        assert_failed(&mut c, err, expected);
    });
}

#[test]
fn a_failure_after_our_close_sends_no_second_close() {
    // "the endpoint MAY send a Close frame" on failure, but only one Close is ever sent.
    each_role(|role| {
        let mut c = conn(role);
        c.send_close(1000, "bye").unwrap();
        let (_, err) = run(&mut c, &frame(role, true, RSV2, 1, b"hi"));
        assert_eq!(err, Some(ProtocolError::ReservedBits(RSV2)));
        assert_eq!(c.state(), ConnectionState::Failed);
        let mut close = close_payload(1000);
        close.extend_from_slice(b"bye");
        assert_eq!(sent_frames(&mut c), vec![(OpCode::Close, true, close)]);
    });
}

// ----- input bound ---------------------------------------------------------------------------

fn bounded_server(max_buffered_input: usize) -> Connection {
    let limits = Limits::DEFAULT
        .with_max_frame_size(100)
        .with_max_buffered_input(max_buffered_input);
    Connection::server(Config::DEFAULT.with_limits(limits))
}

fn text_of(e: Event) -> String {
    match e {
        Event::Text(t) => t.as_str().to_string(),
        other => panic!("{other:?}"),
    }
}

/// Fed far past `max_buffered_input` without polling: the first chunk that does not fit is
/// refused with the exact figures, so is every later one, and polling then yields every
/// message of the accepted input, in order, and nothing else.
#[test]
fn server_refuses_input_past_the_bound_and_keeps_what_it_took() {
    let mut c = bounded_server(200);
    let frames: Vec<Vec<u8>> = (0..100)
        .map(|i| data_frame(Role::Server, 0x1, format!("msg-{i:02}").as_bytes()))
        .collect();
    assert_eq!(frames[0].len(), 12);
    let mut accepted = 0;
    for f in &frames {
        match c.feed(f) {
            Ok(()) => accepted += 1,
            Err(e) => assert_eq!(
                e,
                FeedError::BufferFull {
                    buffered: 192,
                    len: 12,
                    limit: 200
                }
            ),
        }
    }
    assert_eq!(accepted, 16);
    assert_eq!(c.buffered_input(), 192);
    c.feed(&frames[16][..8]).unwrap();
    assert_eq!(c.buffered_input(), 200, "full to the byte");
    assert_eq!(
        c.feed(&frames[16][8..]),
        Err(FeedError::BufferFull {
            buffered: 200,
            len: 4,
            limit: 200
        })
    );
    assert_eq!(c.feed(&[]), Ok(()), "an empty feed is never refused");
    let (events, err) = drain_events(&mut c);
    assert_eq!(err, None);
    let texts: Vec<String> = events.into_iter().map(text_of).collect();
    let expected: Vec<String> = (0..16).map(|i| format!("msg-{i:02}")).collect();
    assert_eq!(texts, expected);
    assert_eq!(c.buffered_input(), 8, "the first 8 bytes of msg-16");
    // Room again: the refused bytes can be fed now.
    c.feed(&frames[16][8..]).unwrap();
    c.feed(&frames[17]).unwrap();
    let (events, err) = drain_events(&mut c);
    assert_eq!(err, None);
    let texts: Vec<String> = events.into_iter().map(text_of).collect();
    assert_eq!(texts, ["msg-16", "msg-17"]);
}

/// The borrowed poll counts what it lent as consumed, although the bytes stay in the buffer
/// until the next call.
#[test]
fn server_counts_lent_frames_as_consumed() {
    let mut c = bounded_server(200);
    let wire: Vec<u8> = (0..16)
        .flat_map(|i| data_frame(Role::Server, 0x1, format!("msg-{i:02}").as_bytes()))
        .collect();
    c.feed(&wire).unwrap();
    assert_eq!(
        c.feed(&[0; 9]),
        Err(FeedError::BufferFull {
            buffered: 192,
            len: 9,
            limit: 200
        })
    );
    for i in 0..5 {
        match c.poll_event_ref().unwrap() {
            Some(pushwire_ws::EventRef::Text(t)) => assert_eq!(t.as_str(), format!("msg-{i:02}")),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(c.buffered_input(), 132);
    let more: Vec<u8> = (16..21)
        .flat_map(|i| data_frame(Role::Server, 0x1, format!("msg-{i:02}").as_bytes()))
        .collect();
    c.feed(&more).unwrap();
    c.feed(&[0x81, 0x86, 0, 0, 0, 0, b'm', b'x']).unwrap();
    assert_eq!(
        c.feed(&[0]),
        Err(FeedError::BufferFull {
            buffered: 200,
            len: 1,
            limit: 200
        })
    );
    let (events, err) = drain_events(&mut c);
    assert_eq!(err, None);
    let texts: Vec<String> = events.into_iter().map(text_of).collect();
    let expected: Vec<String> = (5..21).map(|i| format!("msg-{i:02}")).collect();
    assert_eq!(texts, expected);
    assert_eq!(c.buffered_input(), 8, "the incomplete last frame");
}

/// A bound below one largest frame is raised to it: a frame of `max_frame_size` bytes can
/// always be completed.
#[test]
fn server_input_bound_fits_one_largest_frame() {
    let mut c = bounded_server(10);
    let big = data_frame(Role::Server, 0x2, &[3u8; 100]);
    assert_eq!(big.len(), 106);
    for b in &big {
        c.feed(core::slice::from_ref(b)).unwrap();
    }
    assert_eq!(
        c.poll_event().unwrap(),
        Some(Event::Binary(vec![3u8; 100].into()))
    );
    c.feed(&[0u8; 114]).unwrap();
    assert_eq!(
        c.feed(&[0]),
        Err(FeedError::BufferFull {
            buffered: 114,
            len: 1,
            limit: 114
        })
    );
}

#[test]
fn feeding_after_eof_is_refused() {
    for role in [Role::Server, Role::Client] {
        let mut c = conn(role);
        c.feed(&data_frame(role, 0x1, b"before")).unwrap();
        c.feed_eof();
        c.feed_eof();
        assert_eq!(c.feed(b"x"), Err(FeedError::AfterEof));
        assert_eq!(c.feed(b""), Err(FeedError::AfterEof));
        assert_eq!(
            c.feed_bytes(Bytes::from_static(b"x")),
            Err(FeedError::AfterEof)
        );
        assert_eq!(c.poll_event().unwrap(), Some(Event::Text("before".into())));
        assert_eq!(c.poll_event(), Err(ProtocolError::UnexpectedEof));
    }
}

/// A shared chunk is copied, not unmasked in place under its other owner.
#[test]
fn server_copies_a_shared_fed_chunk() {
    let mut server = conn(Role::Server);
    let wire = Bytes::from(frame(Role::Server, true, 0, 2, &[5u8; 1000]));
    let kept = wire.clone();
    let before = kept.to_vec();
    server.feed_bytes(wire).unwrap();
    assert_eq!(
        server.poll_event().unwrap(),
        Some(Event::Binary(vec![5u8; 1000].into()))
    );
    assert_eq!(
        kept.to_vec(),
        before,
        "the other owner's bytes are untouched"
    );
}

// ----- output bound: one pending automatic pong ------------------------------------------------

/// Decodes `bytes` as the peer of `sender` and returns every event.
fn decode_as_peer(sender: Role, bytes: &[u8]) -> Vec<Event> {
    let peer = match sender {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    };
    let mut c = Connection::with_mask_keys(peer, Config::DEFAULT, Box::new(FixedMaskKey(KEY)));
    c.feed(bytes).unwrap();
    let (events, err) = drain_events(&mut c);
    assert_eq!(err, None);
    events
}

/// RFC 6455 §5.5.3 lets an endpoint answer only the most recent of several unanswered pings:
/// 100,000 pings against a connection whose output is never drained leave one pong queued,
/// answering the last ping.
#[test]
fn server_and_client_keep_one_pong_for_a_ping_flood() {
    for role in [Role::Server, Role::Client] {
        let mut c = conn(role);
        let mut last = Vec::new();
        let mut batch = Vec::new();
        for i in 0..100_000u32 {
            last = format!("ping {i}").into_bytes();
            batch.extend_from_slice(&frame(role, true, 0, 0x9, &last));
            if batch.len() > 60_000 || i == 99_999 {
                c.feed(&batch).unwrap();
                batch.clear();
                let (events, err) = drain_events(&mut c);
                assert_eq!(err, None);
                assert!(matches!(events.last(), Some(Event::Ping(p)) if p[..] == last[..]));
                let one_pong = 2 + last.len() + if role == Role::Client { 4 } else { 0 };
                assert_eq!(c.buffered_output(), one_pong, "{role:?}");
            }
        }
        let out = sent_bytes(&mut c);
        assert_eq!(
            decode_as_peer(role, &out),
            vec![Event::Pong(Bytes::from(last))],
            "{role:?}"
        );
        assert_eq!(c.buffered_output(), 0);
    }
}

/// A pong never lands inside a frame: when the head of a large frame was handed out, its
/// payload comes before the pong.
#[test]
fn server_puts_the_pong_after_a_frame_already_begun() {
    let mut c = conn(Role::Server);
    c.send_binary(vec![1u8; 4096]).unwrap();
    let head = c.poll_transmit().unwrap();
    assert_eq!(&head[..], &[0x82, 126, 0x10, 0x00]);
    c.feed(&frame(Role::Server, true, 0, 0x9, b"p")).unwrap();
    assert_eq!(
        c.poll_event().unwrap(),
        Some(Event::Ping(Bytes::from_static(b"p")))
    );
    let mut out = head.to_vec();
    out.extend_from_slice(&sent_bytes(&mut c));
    assert_eq!(
        decode_as_peer(Role::Server, &out),
        vec![
            Event::Binary(vec![1u8; 4096].into()),
            Event::Pong(Bytes::from_static(b"p"))
        ]
    );
}

/// Drives the same sends and pings into a connection; `begun` hands out one chunk first.
fn busy(role: Role, begun: bool) -> (Connection, Vec<u8>) {
    let mut c = conn(role);
    let mut early = Vec::new();
    c.send_text("one").unwrap();
    c.send_binary(vec![2u8; 3000]).unwrap();
    if begun {
        early.extend_from_slice(&c.poll_transmit().unwrap());
    }
    c.feed(&frame(role, true, 0, 0x9, b"a")).unwrap();
    c.feed(&frame(role, true, 0, 0x9, b"bb")).unwrap();
    let _ = drain_events(&mut c);
    c.send_binary(vec![3u8; 1000]).unwrap();
    c.send_text("two").unwrap();
    (c, early)
}

/// `take_transmit` hands out the same bytes as `poll_transmit` until `None`, also written in
/// small vectored pieces with partial advances.
#[test]
fn take_transmit_matches_poll_transmit() {
    use bytes::Buf;
    for role in [Role::Server, Role::Client] {
        for begun in [false, true] {
            let (mut a, early_a) = busy(role, begun);
            let (mut b, early_b) = busy(role, begun);
            assert_eq!(early_a, early_b);
            let expected = sent_bytes(&mut a);
            let mut t = b.take_transmit();
            assert_eq!(b.buffered_output(), 0);
            assert_eq!(t.remaining(), expected.len());
            let mut got = Vec::new();
            while t.has_remaining() {
                let mut slices = [std::io::IoSlice::new(&[]); 2];
                let n = t.chunks_vectored(&mut slices);
                assert!(n > 0);
                // Write at most 700 bytes, as a transport may.
                let mut budget = 700;
                for s in &slices[..n] {
                    let k = s.len().min(budget);
                    got.extend_from_slice(&s[..k]);
                    budget -= k;
                }
                t.advance(700 - budget);
            }
            assert_eq!(got, expected, "{role:?} begun: {begun}");
            let mut all = early_a.clone();
            all.extend_from_slice(&got);
            let (pongs, data): (Vec<Event>, Vec<Event>) = decode_as_peer(role, &all)
                .into_iter()
                .partition(|e| matches!(e, Event::Pong(_)));
            assert_eq!(pongs, [Event::Pong(Bytes::from_static(b"bb"))], "{role:?}");
            let expected_data = [
                Event::Text("one".into()),
                Event::Binary(vec![2u8; 3000].into()),
                Event::Binary(vec![3u8; 1000].into()),
                Event::Text("two".into()),
            ];
            assert!(data == expected_data, "{role:?} begun: {begun}");
            assert!(b.take_transmit().is_empty());
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Text(usize),
    Binary(usize),
    Ping(u8),
    PollOne,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        (0usize..40).prop_map(Op::Text),
        (0usize..2000).prop_map(Op::Binary),
        (0u8..20).prop_map(Op::Ping),
        Just(Op::PollOne),
    ]
}

/// Runs `ops` on a fresh connection; returns it and the bytes handed out along the way.
fn apply(role: Role, ops: &[Op]) -> (Connection, Vec<u8>) {
    let mut c = conn(role);
    let mut early = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Text(n) => c.send_text("t".repeat(*n)).unwrap(),
            Op::Binary(n) => c.send_binary(vec![i as u8; *n]).unwrap(),
            Op::Ping(n) => {
                c.feed(&frame(role, true, 0, 0x9, &vec![b'p'; usize::from(*n)]))
                    .unwrap();
                assert!(matches!(c.poll_event(), Ok(Some(Event::Ping(_)))));
            }
            Op::PollOne => {
                if let Some(chunk) = c.poll_transmit() {
                    early.extend_from_slice(&chunk);
                }
            }
        }
    }
    (c, early)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Whatever was sent, pinged and partly handed out before: `take_transmit` written in
    /// random pieces gives the same bytes as `poll_transmit` until `None`, the peer decodes
    /// every message in order, and there is at most one pong, answering the last ping.
    #[test]
    fn take_transmit_equals_poll_transmit(
        client in proptest::prelude::any::<bool>(),
        ops in proptest::collection::vec(op(), 0..24),
        writes in proptest::collection::vec(1usize..3000, 1..8),
        iov in 1usize..5,
    ) {
        use bytes::Buf;
        let role = if client { Role::Client } else { Role::Server };
        let (mut a, early) = apply(role, &ops);
        let (mut b, early_b) = apply(role, &ops);
        proptest::prop_assert_eq!(&early, &early_b);
        let expected = sent_bytes(&mut a);
        let mut t = b.take_transmit();
        proptest::prop_assert_eq!(b.buffered_output(), 0);
        let mut got = Vec::new();
        let mut w = writes.iter().cycle();
        while t.has_remaining() {
            let mut slices = vec![std::io::IoSlice::new(&[]); iov];
            let n = t.chunks_vectored(&mut slices);
            let mut budget = *w.next().unwrap();
            let before = budget;
            for s in &slices[..n] {
                let k = s.len().min(budget);
                got.extend_from_slice(&s[..k]);
                budget -= k;
            }
            t.advance(before - budget);
        }
        proptest::prop_assert_eq!(&got, &expected);
        let mut all = early;
        all.extend_from_slice(&got);
        let (pongs, data): (Vec<Event>, Vec<Event>) = decode_as_peer(role, &all)
            .into_iter()
            .partition(|e| matches!(e, Event::Pong(_)));
        let sent: Vec<Event> = ops
            .iter()
            .enumerate()
            .filter_map(|(i, op)| match op {
                Op::Text(n) => Some(Event::Text("t".repeat(*n).into())),
                Op::Binary(n) => Some(Event::Binary(vec![i as u8; *n].into())),
                _ => None,
            })
            .collect();
        proptest::prop_assert!(data == sent);
        let pings: Vec<u8> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Ping(n) => Some(*n),
                _ => None,
            })
            .collect();
        proptest::prop_assert!(pongs.len() <= pings.len());
        if let Some(last) = pings.last() {
            proptest::prop_assert_eq!(
                pongs.last(),
                Some(&Event::Pong(vec![b'p'; usize::from(*last)].into()))
            );
        }
    }
}
