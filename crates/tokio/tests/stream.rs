//! WebSocketStream over `tokio::io::duplex` and loopback TCP.

use std::time::Duration;

use bytes::Bytes;
use futures_sink::Sink;
use pushwire_tokio::{CloseFrame, Config, Error, Message, Role, WebSocketStream};
use tokio::io::{duplex, AsyncReadExt, DuplexStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

/// A client and a server joined by an in-memory pipe, after a real handshake.
async fn pair(
    capacity: usize,
    config: Config,
) -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = duplex(capacity);
    let (client, server) = tokio::join!(
        WebSocketStream::client(a, "example.test", "/chat", config),
        WebSocketStream::accept(b, config),
    );
    (client.unwrap(), server.unwrap())
}

async fn next(
    ws: &mut WebSocketStream<impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>,
) -> Message {
    timeout(LIMIT, ws.recv())
        .await
        .expect("in time")
        .expect("a message")
        .expect("no error")
}

#[tokio::test]
async fn echo_text_and_binary_over_duplex() {
    let (mut client, mut server) = pair(64 << 10, Config::DEFAULT).await;
    let echo = tokio::spawn(async move {
        while let Some(Ok(m)) = server.recv().await {
            if matches!(m, Message::Text(_) | Message::Binary(_)) {
                server.send(m).await.unwrap();
            }
        }
    });
    client.send(Message::text("hello")).await.unwrap();
    client.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    let big = Bytes::from(vec![7u8; 200_000]);
    client.send(Message::Binary(big.clone())).await.unwrap();
    assert_eq!(next(&mut client).await, Message::text("hello"));
    assert_eq!(next(&mut client).await, Message::binary(vec![1u8, 2, 3]));
    assert_eq!(next(&mut client).await, Message::Binary(big));
    client.close(1000, "done").await.unwrap();
    assert_eq!(
        next(&mut client).await,
        // The codec echoes the code without the reason.
        Message::Close(Some(CloseFrame::new(1000, "").unwrap()))
    );
    assert!(client.recv().await.is_none());
    echo.await.unwrap();
}

#[tokio::test]
async fn accept_and_client_handshake_over_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = WebSocketStream::accept(tcp, Config::DEFAULT).await.unwrap();
        let mut got = Vec::new();
        while let Some(m) = ws.recv().await {
            let m = m.unwrap();
            if let Message::Text(t) = &m {
                got.push(t.as_str().to_owned());
                ws.send(m).await.unwrap();
            }
        }
        got
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let host = addr.to_string();
    let mut ws = WebSocketStream::client(tcp, &host, "/ws/echo", Config::DEFAULT)
        .await
        .unwrap();
    for i in 0..3 {
        ws.send(Message::text(format!("m{i}"))).await.unwrap();
        assert_eq!(next(&mut ws).await, Message::text(format!("m{i}")));
    }
    ws.close(1001, "").await.unwrap();
    assert_eq!(
        next(&mut ws).await,
        Message::Close(Some(CloseFrame::new(1001, "").unwrap()))
    );
    assert!(ws.recv().await.is_none());
    assert_eq!(server.await.unwrap(), vec!["m0", "m1", "m2"]);
}

#[tokio::test]
async fn bad_request_gets_400_and_an_error() {
    let (mut a, b) = duplex(4096);
    let server = tokio::spawn(WebSocketStream::accept(b, Config::DEFAULT));
    use tokio::io::AsyncWriteExt;
    a.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut resp = Vec::new();
    a.read_to_end(&mut resp).await.unwrap();
    let resp = String::from_utf8(resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 400 "), "{resp}");
    let err = server.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Handshake(_)), "{err:?}");
}

#[tokio::test]
async fn close_is_yielded_then_none_on_both_sides() {
    let (mut client, mut server) = pair(4096, Config::DEFAULT).await;
    let (c, s) = tokio::join!(
        async {
            client.close(4000, "bye").await.unwrap();
            let first = client.recv().await.map(Result::unwrap);
            let second = client.recv().await.map(Result::unwrap);
            (first, second)
        },
        async {
            let first = server.recv().await.map(Result::unwrap);
            let second = server.recv().await.map(Result::unwrap);
            (first, second)
        }
    );
    let bye = Some(Message::Close(Some(CloseFrame::new(4000, "bye").unwrap())));
    assert_eq!(s, (bye, None));
    // The echo carries the code, not the reason.
    let echo = Some(Message::Close(Some(CloseFrame::new(4000, "").unwrap())));
    assert_eq!(c, (echo, None));
    // Fused: still None, and sending fails.
    assert!(server.recv().await.is_none());
    assert!(matches!(
        server.send(Message::text("late")).await,
        Err(Error::Closed)
    ));
}

#[tokio::test]
async fn ping_burst_gets_one_pong_each() {
    let (mut client, mut server) = pair(64 << 10, Config::DEFAULT).await;
    for i in 0..20u8 {
        client
            .feed(Message::Ping(Bytes::from(vec![i])))
            .await
            .unwrap();
    }
    client.flush().await.unwrap();
    for i in 0..20u8 {
        assert_eq!(next(&mut server).await, Message::Ping(Bytes::from(vec![i])));
    }
    server.send(Message::text("done")).await.unwrap();
    for i in 0..20u8 {
        assert_eq!(next(&mut client).await, Message::Pong(Bytes::from(vec![i])));
    }
    assert_eq!(next(&mut client).await, Message::text("done"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recv_in_select_against_a_fast_timer_loses_nothing() {
    const N: u32 = 100_000;
    let (mut client, mut server) = pair(8 << 10, Config::DEFAULT).await;
    let sender = tokio::spawn(async move {
        for i in 0..N {
            server
                .feed(Message::binary(i.to_be_bytes().to_vec()))
                .await
                .unwrap();
        }
        server.flush().await.unwrap();
        server
    });
    let mut expected = 0u32;
    let mut cancelled = 0u64;
    while expected < N {
        tokio::select! {
            m = client.recv() => {
                let m = m.expect("a message").expect("no error");
                assert_eq!(m, Message::binary(expected.to_be_bytes().to_vec()));
                expected += 1;
            }
            _ = tokio::time::sleep(Duration::from_micros(1)) => cancelled += 1,
            _ = tokio::task::yield_now() => cancelled += 1,
        }
    }
    assert_eq!(expected, N);
    let mut server = sender.await.unwrap();
    server.close(1000, "").await.unwrap();
    assert_eq!(
        next(&mut client).await,
        Message::Close(Some(CloseFrame::new(1000, "").unwrap()))
    );
    assert!(client.recv().await.is_none());
    // The race happened: recv() futures were dropped mid-way, and nothing was lost.
    assert!(cancelled > 0, "recv was never cancelled");
}

#[tokio::test]
async fn backpressure_waits_and_never_passes_max_write_buffer_size() {
    // The peer never reads; the pipe takes 64 bytes.
    let (mut peer, io) = duplex(64);
    let config = Config::DEFAULT
        .with_write_buffer_size(1024)
        .with_max_write_buffer_size(4096);
    let mut ws = WebSocketStream::from_raw(io, Role::Server, config);
    let msg = Message::binary(vec![9u8; 100]); // 102 bytes on the wire
                                               // 10 messages (1020 bytes) stay under write_buffer_size; the 11th is accepted because
                                               // only 1020 were queued when it asked.
    for _ in 0..11 {
        timeout(Duration::from_millis(200), ws.feed(msg.clone()))
            .await
            .expect("accepted without waiting")
            .unwrap();
    }
    assert_eq!(ws.queued(), 1122);
    // The 12th must write first: 64 bytes go into the pipe, then it waits.
    assert!(timeout(Duration::from_millis(50), ws.feed(msg.clone()))
        .await
        .is_err());
    assert_eq!(ws.queued(), 1058);
    // A message that would pass max_write_buffer_size is refused, not queued.
    let err = std::pin::Pin::new(&mut ws)
        .start_send(Message::binary(vec![0u8; 3100]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::WriteBufferFull {
                queued: 1058,
                len: 3114,
                limit: 4096
            }
        ),
        "{err:?}"
    );
    assert_eq!(ws.queued(), 1058);
    // Once the peer reads, everything queued is written.
    let reader = tokio::spawn(async move {
        let mut all = Vec::new();
        peer.read_to_end(&mut all).await.unwrap();
        all
    });
    timeout(LIMIT, ws.flush()).await.unwrap().unwrap();
    assert_eq!(ws.queued(), 0);
    drop(ws);
    let all = reader.await.unwrap();
    assert_eq!(all.len(), 11 * 102);
    for frame in all.chunks(102) {
        assert_eq!(&frame[..2], &[0x82, 100]);
        assert!(frame[2..].iter().all(|&b| b == 9));
    }
}

#[tokio::test]
async fn idle_connection_holds_no_read_buffer() {
    let (mut client, mut server) = pair(4096, Config::DEFAULT).await;
    client.send(Message::text("x")).await.unwrap();
    assert_eq!(next(&mut server).await, Message::text("x"));
    assert!(timeout(Duration::from_millis(20), server.recv())
        .await
        .is_err());
    assert_eq!(server.read_buffer_capacity(), 0);
}

#[tokio::test]
async fn peer_protocol_error_is_yielded_then_none_and_close_1002_is_written() {
    let (mut peer, io) = duplex(4096);
    let mut server = WebSocketStream::from_raw(io, Role::Server, Config::DEFAULT);
    use tokio::io::AsyncWriteExt;
    // An unmasked text frame from a client.
    peer.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
    let err = server.recv().await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol(pushwire_tokio::pushwire_ws::ProtocolError::UnmaskedFrame)
        ),
        "{err:?}"
    );
    assert!(server.recv().await.is_none());
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    assert_eq!(wire, [0x88, 0x02, 0x03, 0xEA]);
}

#[tokio::test]
async fn stream_and_sink_traits_echo_and_fuse() {
    use futures_core::stream::FusedStream;
    use futures_util::{SinkExt, StreamExt};
    let (mut client, mut server) = pair(4096, Config::DEFAULT).await;
    SinkExt::send(&mut client, Message::text("via sink"))
        .await
        .unwrap();
    assert_eq!(
        server.next().await.unwrap().unwrap(),
        Message::text("via sink")
    );
    SinkExt::close(&mut client).await.unwrap();
    assert_eq!(
        server.next().await.unwrap().unwrap(),
        Message::Close(Some(CloseFrame::new(1000, "").unwrap()))
    );
    assert!(!server.is_terminated());
    assert!(server.next().await.is_none());
    assert!(server.is_terminated());
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::Close(Some(CloseFrame::new(1000, "").unwrap()))
    );
    assert!(client.next().await.is_none());
    assert!(client.is_terminated());
}

#[tokio::test]
async fn accept_with_chooses_a_subprotocol_and_connect_reports_it() {
    let (a, b) = duplex(64 << 10);
    let mut request = pushwire_tokio::ClientRequest::new("example.test", "/chat");
    request.origin = Some("https://example.test".into());
    request.protocols = vec!["v1.chat".into(), "v2.chat".into()];
    let (client, server) = tokio::join!(
        WebSocketStream::connect(a, request, Config::DEFAULT),
        WebSocketStream::accept_with(b, Config::DEFAULT, |offer| {
            assert_eq!(offer.origin(), Some("https://example.test"));
            assert_eq!(offer.path(), "/chat");
            // The server prefers v2.
            Ok(offer.protocols().iter().find(|p| *p == "v2.chat").cloned())
        }),
    );
    let (mut client, accepted) = client.unwrap();
    let mut server = server.unwrap();
    assert_eq!(accepted.protocol.as_deref(), Some("v2.chat"));
    // permessage-deflate was offered by Config::DEFAULT and agreed.
    assert!(
        accepted
            .extensions
            .iter()
            .any(|e| e.starts_with("permessage-deflate")),
        "{accepted:?}"
    );
    client.send(Message::text("over v2")).await.unwrap();
    assert_eq!(next(&mut server).await, Message::text("over v2"));
}

#[tokio::test]
async fn accept_with_refuses_with_the_status_it_returns() {
    let (a, b) = duplex(64 << 10);
    let mut request = pushwire_tokio::ClientRequest::new("example.test", "/");
    request.origin = Some("https://evil.example".into());
    let (client, server) = tokio::join!(
        WebSocketStream::connect(a, request, Config::DEFAULT),
        WebSocketStream::accept_with(b, Config::DEFAULT, |offer| {
            if offer.origin() == Some("https://example.test") {
                Ok(None)
            } else {
                Err(403)
            }
        }),
    );
    let server_err = server.unwrap_err();
    assert!(
        matches!(
            server_err,
            Error::Handshake(pushwire_tokio::HandshakeError::Refused(403))
        ),
        "{server_err:?}"
    );
    // The client saw the 403 and failed the handshake with that status.
    let client_err = client.unwrap_err();
    assert!(client_err.to_string().contains("403"), "{client_err:?}");
}
