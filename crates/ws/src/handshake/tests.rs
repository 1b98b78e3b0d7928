//! Tests of the opening handshake, both roles.

mod unit {
    use crate::handshake::*;
    use crate::FixedMaskKey;
    use alloc::vec;

    const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

    fn offer(req: &[u8]) -> Result<Option<ClientOffer>, RequestError> {
        ServerHandshake::default().feed(req)
    }

    fn with_header(name: &str, value: Option<&str>) -> Vec<u8> {
        // Replace (or drop, with None) one header of the RFC request.
        let text = core::str::from_utf8(RFC_REQUEST).unwrap();
        let mut out = String::new();
        let mut found = false;
        for line in text.split_inclusive("\r\n") {
            if line == "\r\n" && !found {
                if let Some(v) = value {
                    out.push_str(&alloc::format!("{name}: {v}\r\n"));
                }
            }
            if line
                .to_ascii_lowercase()
                .starts_with(&alloc::format!("{}:", name.to_ascii_lowercase()))
            {
                found = true;
                if let Some(v) = value {
                    out.push_str(&alloc::format!("{name}: {v}\r\n"));
                }
            } else {
                out.push_str(line);
            }
        }
        out.into_bytes()
    }

    #[test]
    fn rfc_accept_vector() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn server_parses_rfc_request_and_accepts() {
        let o = offer(RFC_REQUEST).unwrap().unwrap();
        assert_eq!(o.host(), "server.example.com");
        assert_eq!(o.origin(), Some("http://example.com"));
        assert_eq!(o.path(), "/chat");
        assert_eq!(o.protocols(), ["chat", "superchat"]);
        assert!(o.extensions().is_empty());
        let resp = o.accept(Some("chat"), None).unwrap();
        assert_eq!(
            &resp[..],
            &b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"[..]
        );
        assert_eq!(
            o.accept(Some("other"), None),
            Err(AcceptError::ProtocolNotOffered)
        );
        assert_eq!(
            o.accept(None, Some("permessage-deflate")),
            Err(AcceptError::ExtensionNotOffered)
        );
    }

    #[test]
    fn request_parser_chunk_invariant() {
        let whole = offer(RFC_REQUEST).unwrap().unwrap();
        let mut hs = ServerHandshake::default();
        let mut got = None;
        for b in RFC_REQUEST {
            if let Some(o) = hs.feed(core::slice::from_ref(b)).unwrap() {
                assert!(got.is_none());
                got = Some(o);
            }
        }
        assert_eq!(got.unwrap(), whole);
    }

    #[test]
    fn server_keeps_bytes_after_request() {
        let mut data = RFC_REQUEST.to_vec();
        data.extend_from_slice(&[0x81, 0x85, 1, 2, 3, 4]);
        let mut hs = ServerHandshake::default();
        let (a, b) = data.split_at(10);
        assert!(hs.feed(a).unwrap().is_none());
        assert!(hs.feed(b).unwrap().is_some());
        hs.feed(b"xyz").unwrap();
        assert_eq!(
            &hs.take_remaining()[..],
            &[0x81, 0x85, 1, 2, 3, 4, b'x', b'y', b'z']
        );
    }

    #[test]
    fn server_rejects_non_get() {
        let req = [b"POST".as_slice(), &RFC_REQUEST[3..]].concat();
        let e = offer(&req).unwrap_err();
        assert_eq!(e, RequestError::MethodNotGet);
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn server_rejects_http_1_0() {
        let text = core::str::from_utf8(RFC_REQUEST)
            .unwrap()
            .replace("HTTP/1.1", "HTTP/1.0");
        assert_eq!(offer(text.as_bytes()), Err(RequestError::HttpVersion));
    }

    #[test]
    fn server_requires_host() {
        assert_eq!(offer(&with_header("Host", None)), Err(RequestError::Host));
    }

    #[test]
    fn server_requires_upgrade_websocket() {
        assert_eq!(
            offer(&with_header("Upgrade", None)),
            Err(RequestError::Upgrade)
        );
        assert_eq!(
            offer(&with_header("Upgrade", Some("h2c"))),
            Err(RequestError::Upgrade)
        );
        assert!(offer(&with_header("Upgrade", Some("WebSocket")))
            .unwrap()
            .is_some());
    }

    #[test]
    fn server_connection_token_list_any_case() {
        assert!(
            offer(&with_header("Connection", Some("keep-alive, UPGRADE")))
                .unwrap()
                .is_some()
        );
        assert_eq!(
            offer(&with_header("Connection", Some("keep-alive"))),
            Err(RequestError::Connection)
        );
        assert_eq!(
            offer(&with_header("Connection", Some("upgraded"))),
            Err(RequestError::Connection)
        );
    }

    #[test]
    fn server_answers_426_to_other_versions() {
        let e = offer(&with_header("Sec-WebSocket-Version", Some("8"))).unwrap_err();
        assert_eq!(e, RequestError::UnsupportedVersion);
        assert_eq!(e.status(), 426);
        let r = e.response();
        assert!(r.starts_with(b"HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(r.windows(27).any(|w| w == b"Sec-WebSocket-Version: 13\r\n"));
        assert_eq!(
            offer(&with_header("Sec-WebSocket-Version", None)),
            Err(RequestError::MissingVersion)
        );
    }

    #[test]
    fn server_checks_key() {
        for bad in [
            None,
            Some("dGhlIHNhbXBsZSBub25jZQ"),
            Some("dGhlIHNhbXBsZSBub25j"),
            Some("dGhlIHNhbXBsZSBub25jZQ=!"),
            Some("AAAAAAAAAAAAAAAAAAAAAAAA"),
        ] {
            assert_eq!(
                offer(&with_header("Sec-WebSocket-Key", bad)),
                Err(RequestError::Key),
                "{bad:?}"
            );
        }
        // The RFC's own example key has non-zero trailing bits: accepted.
        assert!(offer(&with_header(
            "Sec-WebSocket-Key",
            Some("AQIDBAUGBwgJCgsMDQ4PEC==")
        ))
        .unwrap()
        .is_some());
        let mut dup = with_header("Sec-WebSocket-Key", None);
        let at = dup.len() - 2;
        dup.splice(
            at..at,
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                .iter()
                .copied(),
        );
        assert_eq!(offer(&dup), Err(RequestError::Key));
    }

    #[test]
    fn server_rejects_bad_subprotocol_lists() {
        for bad in ["chat, chat", "a b", "chat, \"x\""] {
            assert_eq!(
                offer(&with_header("Sec-WebSocket-Protocol", Some(bad))),
                Err(RequestError::MalformedHeader("Sec-WebSocket-Protocol")),
                "{bad}"
            );
        }
    }

    #[test]
    fn server_exposes_extensions() {
        let o = offer(&with_header(
            "Sec-WebSocket-Extensions",
            Some("permessage-deflate; client_max_window_bits, x-foo; a=\"1,2\""),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            o.extensions(),
            [
                "permessage-deflate; client_max_window_bits",
                "x-foo; a=\"1,2\""
            ]
        );
        assert!(o.accept(None, Some("permessage-deflate")).is_ok());
    }

    #[test]
    fn parser_limits() {
        let limits = HandshakeLimits {
            max_line_len: 40,
            max_headers: 3,
            max_head_len: 120,
        };
        let mut p = RequestParser::new(limits);
        assert_eq!(
            p.feed(&[b'a'; 50]).unwrap_err(),
            ParseError::LineTooLong { limit: 40 }
        );
        // Sticky.
        assert_eq!(
            p.feed(b"\r\n").unwrap_err(),
            ParseError::LineTooLong { limit: 40 }
        );
        let mut p = RequestParser::new(limits);
        let mut req = b"GET / HTTP/1.1\r\n".to_vec();
        for _ in 0..4 {
            req.extend_from_slice(b"A: b\r\n");
        }
        assert_eq!(
            p.feed(&req).unwrap_err(),
            ParseError::TooManyHeaders { limit: 3 }
        );
        let mut p = RequestParser::new(HandshakeLimits {
            max_headers: 100,
            ..limits
        });
        let mut req = b"GET / HTTP/1.1\r\n".to_vec();
        for _ in 0..20 {
            req.extend_from_slice(b"A: b\r\n");
        }
        assert_eq!(
            p.feed(&req).unwrap_err(),
            ParseError::HeadTooLarge { limit: 120 }
        );
    }

    #[test]
    fn parser_rejects_malformed_lines() {
        let cases: [(&[u8], ParseError); 5] = [
            (b"GET / HTTP/1.1\nHost: a\r\n\r\n", ParseError::BareLf),
            (b"GET  / HTTP/1.1\r\n\r\n", ParseError::MalformedStartLine),
            (
                b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
                ParseError::MalformedHeader,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
                ParseError::ObsoleteLineFolding,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",
                ParseError::MalformedHeader,
            ),
        ];
        for (req, err) in cases {
            assert_eq!(
                RequestParser::new(HandshakeLimits::default())
                    .feed(req)
                    .unwrap_err(),
                err
            );
        }
    }

    #[test]
    fn rejection_responses() {
        assert_eq!(
            &rejection_response(403)[..],
            b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        );
        assert!(rejection_response(400).starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    }

    fn client() -> ClientHandshake {
        let mut req = ClientRequest::new("example.com:8080", "/chat?x=1");
        req.origin = Some("http://example.com".into());
        req.protocols = vec!["chat".into(), "superchat".into()];
        req.extensions = vec!["permessage-deflate".into()];
        ClientHandshake::new(
            &req,
            &mut FixedMaskKey([1, 2, 3, 4]),
            HandshakeLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn client_request_is_a_valid_offer() {
        let c = client();
        let o = offer(&c.request()).unwrap().unwrap();
        assert_eq!(o.host(), "example.com:8080");
        assert_eq!(o.path(), "/chat?x=1");
        assert_eq!(o.key(), Some("AQIDBAECAwQBAgMEAQIDBA=="));
        assert_eq!(o.protocols(), ["chat", "superchat"]);
        assert_eq!(o.extensions(), ["permessage-deflate"]);
        assert_eq!(accept_key(o.key().unwrap().as_bytes()), c.expected_accept());
    }

    #[test]
    fn client_verifies_101_and_keeps_early_frames() {
        let mut c = client();
        let o = offer(&c.request()).unwrap().unwrap();
        let mut resp = o.accept(Some("superchat"), None).unwrap().to_vec();
        resp.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
        for b in &resp[..resp.len() - 5] {
            assert_eq!(c.feed(core::slice::from_ref(b)), Ok(None));
        }
        let acc = c.feed(&resp[resp.len() - 5..]).unwrap().unwrap();
        assert_eq!(acc.protocol.as_deref(), Some("superchat"));
        assert_eq!(&c.take_remaining()[..], &[0x81, 0x02, b'h', b'i']);
    }

    fn response_with(c: &ClientHandshake, extra: &str, accept: Option<&str>) -> String {
        let mut s = String::from(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
        );
        if let Some(a) = accept.or(Some(c.expected_accept())) {
            if !a.is_empty() {
                s.push_str(&alloc::format!("Sec-WebSocket-Accept: {a}\r\n"));
            }
        }
        s.push_str(extra);
        s.push_str("\r\n");
        s
    }

    #[test]
    fn client_rejects_bad_responses() {
        let mut c = client();
        assert_eq!(
            c.feed(b"HTTP/1.1 403 Forbidden\r\n\r\n"),
            Err(ResponseError::Status(403))
        );
        let c = client();
        let cases = [
            (
                response_with(&c, "", Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")),
                ResponseError::Accept,
            ),
            (response_with(&c, "", Some("")), ResponseError::Accept),
            (
                response_with(&c, "Sec-WebSocket-Protocol: other\r\n", None),
                ResponseError::Protocol,
            ),
            (
                response_with(&c, "Sec-WebSocket-Extensions: x-foo\r\n", None),
                ResponseError::Extension,
            ),
            (
                response_with(&c, "", None).replace("Upgrade: websocket\r\n", ""),
                ResponseError::Upgrade,
            ),
            (
                response_with(&c, "", None).replace("Connection: Upgrade", "Connection: close"),
                ResponseError::Connection,
            ),
        ];
        for (resp, err) in cases {
            let mut c = client();
            assert_eq!(c.feed(resp.as_bytes()), Err(err.clone()), "{resp}");
        }
        let mut c = client();
        let ok = response_with(&c, "Sec-WebSocket-Extensions: permessage-deflate\r\n", None);
        assert_eq!(
            c.feed(ok.as_bytes()).unwrap().unwrap().extensions,
            ["permessage-deflate"]
        );
    }

    #[test]
    fn client_request_validation() {
        let bad = ClientRequest::new("exa mple.com", "/");
        assert_eq!(
            ClientHandshake::new(&bad, &mut FixedMaskKey([0; 4]), HandshakeLimits::default())
                .unwrap_err(),
            ClientRequestError::Invalid("host")
        );
        let bad = ClientRequest::new("a", "/\r\nX: y");
        assert!(
            ClientHandshake::new(&bad, &mut FixedMaskKey([0; 4]), HandshakeLimits::default())
                .is_err()
        );
    }
}

mod chunking {
    use crate::handshake::*;
    use alloc::vec;
    use proptest::prelude::*;

    fn small() -> HandshakeLimits {
        HandshakeLimits {
            max_line_len: 32,
            max_headers: 4,
            max_head_len: 96,
        }
    }

    fn outcome(data: &[u8], cuts: &[usize]) -> (Result<Option<Request>, ParseError>, Vec<u8>) {
        let mut p = RequestParser::new(small());
        let mut start = 0;
        let mut points: Vec<usize> = cuts.iter().map(|&c| c.min(data.len())).collect();
        points.sort_unstable();
        points.push(data.len());
        let mut result = Ok(None);
        for c in points {
            let c = c.max(start);
            match p.feed(&data[start..c]) {
                Ok(None) => {}
                r => {
                    if matches!(result, Ok(None)) {
                        result = r;
                    }
                }
            }
            start = c;
            if result.is_err() {
                break;
            }
        }
        (result, p.take_remaining().to_vec())
    }

    fn same(
        a: &(Result<Option<Request>, ParseError>, Vec<u8>),
        b: &(Result<Option<Request>, ParseError>, Vec<u8>),
    ) -> bool {
        let ra = a.0.as_ref().map(|o| {
            o.as_ref()
                .map(|r| (r.method(), r.target(), r.headers().len()))
        });
        let rb = b.0.as_ref().map(|o| {
            o.as_ref()
                .map(|r| (r.method(), r.target(), r.headers().len()))
        });
        ra == rb && a.1 == b.1
    }

    #[test]
    fn long_line_with_bare_lf_reports_the_same_error_whole_or_bytewise() {
        // Found by the ws_handshake_request fuzz target.
        let mut data = b"GET / HTTP/1.1\r\nA: ".to_vec();
        data.extend_from_slice(&[b'x'; 40]);
        data.push(b'\n');
        let whole = outcome(&data, &[]);
        let bytewise = outcome(&data, &(0..data.len()).collect::<Vec<_>>());
        assert_eq!(
            whole.0.as_ref().unwrap_err(),
            &ParseError::LineTooLong { limit: 32 }
        );
        assert!(same(&whole, &bytewise));
    }

    proptest! {
        #[test]
        fn prop_request_parser_chunk_invariant(
            prefix in proptest::sample::select(vec![
                &b""[..],
                b"GET / HTTP/1.1\r\n",
                b"GET /chat HTTP/1.1\r\nHost: a\r\n",
            ]),
            body in proptest::collection::vec(
                proptest::sample::select(b"ab: \r\n\t\x01GET/HTTP1.".to_vec()), 0..120),
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            let mut data = prefix.to_vec();
            data.extend_from_slice(&body);
            let whole = outcome(&data, &[]);
            let bytewise = outcome(&data, &(0..data.len()).collect::<Vec<_>>());
            let split = outcome(&data, &cuts);
            prop_assert!(same(&whole, &bytewise));
            prop_assert!(same(&whole, &split));
        }
    }
}

/// Requests parsed by another HTTP stack: `ClientOffer::from_parts` and RFC 8441's extended
/// CONNECT, both roles.
mod other_stacks {
    use crate::handshake::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    /// The RFC 8441 §5.1 example request's fields (pseudo-headers apart).
    const RFC8441_FIELDS: &[(&str, &[u8])] = &[
        ("sec-websocket-protocol", b"chat, superchat"),
        ("sec-websocket-extensions", b"permessage-deflate"),
        ("sec-websocket-version", b"13"),
        ("origin", b"http://www.example.com"),
    ];

    fn rfc8441_offer(fields: &[(&str, &[u8])]) -> Result<ClientOffer, RequestError> {
        let h = Headers::from_pairs(fields.iter().copied());
        ClientOffer::from_extended_connect(
            "CONNECT",
            Some("websocket"),
            "server.example.com",
            "/chat",
            &h,
        )
    }

    #[test]
    fn from_parts_agrees_with_the_raw_parser() {
        let raw = b"GET /chat?x=1 HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\n\
Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
        let from_raw = ServerHandshake::default().feed(raw).unwrap().unwrap();
        let pairs: [(&str, &[u8]); 6] = [
            ("host", b"a.example"),
            ("upgrade", b"websocket"),
            ("connection", b" keep-alive, Upgrade "),
            ("sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
            ("sec-websocket-version", b"13"),
            ("sec-websocket-protocol", b"chat"),
        ];
        let h = Headers::from_pairs(pairs);
        let from_parts = ClientOffer::from_parts("GET", (1, 1), "/chat?x=1", &h).unwrap();
        assert_eq!(from_raw, from_parts);
        assert!(!from_parts.is_extended_connect());
        // The fields a stack writes with its 101 carry the RFC 6455 §1.3 accept value.
        let fields = from_parts.response_fields(Some("chat"), None).unwrap();
        assert_eq!(
            fields,
            [
                ("upgrade", "websocket".to_string()),
                ("connection", "Upgrade".to_string()),
                (
                    "sec-websocket-accept",
                    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_string()
                ),
                ("sec-websocket-protocol", "chat".to_string()),
            ]
        );
        // HTTP/2 GETs are not RFC 6455 handshakes.
        assert_eq!(
            ClientOffer::from_parts("GET", (2, 0), "/chat", &h),
            Err(RequestError::HttpVersion)
        );
    }

    #[test]
    fn rfc8441_example_request_is_an_offer_answered_without_accept() {
        let o = rfc8441_offer(RFC8441_FIELDS).unwrap();
        assert!(o.is_extended_connect());
        assert_eq!(o.key(), None);
        assert_eq!(o.host(), "server.example.com");
        assert_eq!(o.path(), "/chat");
        assert_eq!(o.origin(), Some("http://www.example.com"));
        assert_eq!(o.protocols(), ["chat", "superchat"]);
        assert_eq!(o.extensions(), ["permessage-deflate"]);
        // The §5.1 response: ":status = 200, sec-websocket-protocol = chat" and nothing else.
        assert_eq!(
            o.response_fields(Some("chat"), None).unwrap(),
            [("sec-websocket-protocol", "chat".to_string())]
        );
        assert_eq!(
            o.accept(Some("chat"), None),
            Err(AcceptError::ExtendedConnect)
        );
        assert_eq!(
            o.response_fields(Some("other"), None),
            Err(AcceptError::ProtocolNotOffered)
        );
    }

    #[cfg(feature = "deflate")]
    #[test]
    fn rfc8441_offer_negotiates_deflate() {
        let o = rfc8441_offer(RFC8441_FIELDS).unwrap();
        let (fields, _conn) = o
            .negotiate(
                None,
                crate::Config::DEFAULT,
                Some(crate::deflate::DeflateConfig::DEFAULT),
            )
            .unwrap();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].0, "sec-websocket-extensions");
        assert!(fields[0].1.starts_with("permessage-deflate"));
        let (fields, _conn) = o.negotiate(None, crate::Config::DEFAULT, None).unwrap();
        assert!(fields.is_empty());
    }

    #[test]
    fn rfc8441_rejections() {
        let h = Headers::from_pairs(RFC8441_FIELDS.iter().copied());
        // "it MUST have a value of "websocket""
        for (method, protocol) in [
            ("CONNECT", None),
            ("CONNECT", Some("webtransport")),
            ("GET", Some("websocket")),
        ] {
            assert_eq!(
                ClientOffer::from_extended_connect(method, protocol, "a", "/", &h),
                Err(RequestError::NotExtendedConnect)
            );
        }
        assert_eq!(
            ClientOffer::from_extended_connect("CONNECT", Some("websocket"), "", "/", &h),
            Err(RequestError::Host)
        );
        // "They MUST NOT be included in the CONNECT request defined here."
        let mut with_upgrade: Vec<(&str, &[u8])> = RFC8441_FIELDS.to_vec();
        with_upgrade.push(("upgrade", b"websocket"));
        assert_eq!(
            rfc8441_offer(&with_upgrade),
            Err(RequestError::MalformedHeader("Upgrade"))
        );
        let mut with_connection: Vec<(&str, &[u8])> = RFC8441_FIELDS.to_vec();
        with_connection.push(("connection", b"upgrade"));
        assert_eq!(
            rfc8441_offer(&with_connection),
            Err(RequestError::MalformedHeader("Connection"))
        );
        // Sec-WebSocket-Version "as defined in [RFC6455]": 426 for another one.
        let v12: Vec<(&str, &[u8])> = vec![("sec-websocket-version", b"12")];
        let e = rfc8441_offer(&v12).unwrap_err();
        assert_eq!(e, RequestError::UnsupportedVersion);
        assert_eq!(e.status(), 426);
        assert_eq!(rfc8441_offer(&[]), Err(RequestError::MissingVersion));
    }

    #[test]
    fn rfc8441_client_fields_and_response_checks() {
        let mut req = ClientRequest::new("server.example.com", "/chat");
        req.origin = Some("http://www.example.com".to_string());
        req.protocols = vec!["chat".to_string(), "superchat".to_string()];
        req.extensions = vec!["permessage-deflate".to_string()];
        let c = ClientHandshake::extended_connect(&req, HandshakeLimits::DEFAULT).unwrap();
        assert!(c.request().is_empty());
        assert_eq!(c.expected_accept(), "");
        // The §5.1 request's fields, the pseudo-headers apart.
        let mut got: Vec<(&str, &str)> = c
            .request_fields()
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .collect();
        got.sort();
        let mut want: Vec<(&str, &str)> = RFC8441_FIELDS
            .iter()
            .map(|(n, v)| (*n, core::str::from_utf8(v).unwrap()))
            .collect();
        want.sort();
        assert_eq!(got, want);
        // And the server's offer, built from those fields, is what the client asked for.
        let h = Headers::from_pairs(c.request_fields().iter().map(|(n, v)| (*n, v.as_bytes())));
        let o = ClientOffer::from_extended_connect(
            "CONNECT",
            Some("websocket"),
            "server.example.com",
            "/chat",
            &h,
        )
        .unwrap();
        assert_eq!(o.protocols(), ["chat", "superchat"]);
        // The §5.1 response.
        let resp = Headers::from_pairs([("sec-websocket-protocol", b"chat".as_slice())]);
        let a = c.verify_fields(200, &resp).unwrap();
        assert_eq!(a.protocol.as_deref(), Some("chat"));
        assert!(a.extensions.is_empty());
        assert_eq!(c.verify_fields(404, &resp), Err(ResponseError::Status(404)));
        let bad = Headers::from_pairs([("sec-websocket-protocol", b"other".as_slice())]);
        assert_eq!(c.verify_fields(200, &bad), Err(ResponseError::Protocol));
        let ext = Headers::from_pairs([("sec-websocket-extensions", b"x-unknown".as_slice())]);
        assert_eq!(c.verify_fields(200, &ext), Err(ResponseError::Extension));
    }

    #[test]
    fn from_pairs_trims_values_like_the_parser() {
        let h = Headers::from_pairs([("a", b" \tx y\t ".as_slice()), ("B", b"".as_slice())]);
        assert_eq!(h.len(), 2);
        assert_eq!(h.get("a"), Some(b"x y".as_slice()));
        assert_eq!(h.get("b"), Some(b"".as_slice()));
    }
}
