//! Owned halves: `split` / `into_split` / `reunite`. The reader gets pongs and the Close reply
//! out with the writer idle, the halves work from two tasks, the reader is cancel safe in
//! `select!`, the writer keeps its backpressure, and strangers cannot be reunited.

use std::time::Duration;

use bytes::Bytes;
use futures_sink::Sink;
use pushwire_tokio::{CloseFrame, Config, Error, Message, Role, WebSocketStream};
use tokio::io::{duplex, AsyncReadExt, DuplexStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

async fn pair(
    capacity: usize,
    config: Config,
) -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = duplex(capacity);
    let (client, server) = tokio::join!(
        WebSocketStream::client(a, "example.test", "/", config),
        WebSocketStream::accept(b, config),
    );
    (client.unwrap(), server.unwrap())
}

/// The next message, within [`LIMIT`], neither the end nor an error.
async fn next(recv: impl std::future::Future<Output = Option<Result<Message, Error>>>) -> Message {
    timeout(LIMIT, recv)
        .await
        .expect("in time")
        .expect("a message")
        .expect("no error")
}

async fn tcp_pair(config: Config) -> (WebSocketStream<TcpStream>, WebSocketStream<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = async {
        let (tcp, _) = listener.accept().await.unwrap();
        WebSocketStream::accept(tcp, config).await.unwrap()
    };
    let connect = async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        WebSocketStream::client(tcp, "127.0.0.1", "/", config)
            .await
            .unwrap()
    };
    tokio::join!(connect, accept)
}

/// RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
/// response". A burst of 1,000 pings gets its pongs while the server's writer is never
/// polled (it only exists), and the Close reply goes out from the reader too.
#[tokio::test]
async fn the_reader_alone_answers_pings_and_close() {
    let (mut client, server) = tcp_pair(Config::DEFAULT).await;
    let (mut reader, writer) = server.into_split().unwrap();
    let serve = tokio::spawn(async move {
        let mut pings = 0;
        let mut close = None;
        while let Some(m) = reader.recv().await {
            match m.unwrap() {
                Message::Ping(_) => pings += 1,
                Message::Close(c) => close = c,
                other => panic!("unexpected {other:?}"),
            }
        }
        (pings, close, writer)
    });
    for i in 0..1000u32 {
        client
            .feed(Message::Ping(Bytes::from(i.to_be_bytes().to_vec())))
            .await
            .unwrap();
    }
    client.flush().await.unwrap();
    // The pongs arrive: at least the one for the last ping ("MAY elect to send a Pong frame
    // for only the most recently processed Ping frame").
    let mut last = None;
    while last != Some(999u32) {
        match next(client.recv()).await {
            Message::Pong(p) => last = Some(u32::from_be_bytes(p[..].try_into().unwrap())),
            other => panic!("unexpected {other:?}"),
        }
    }
    client.close(4000, "bye").await.unwrap();
    assert_eq!(
        next(client.recv()).await,
        Message::Close(Some(CloseFrame::new(4000, "").unwrap()))
    );
    assert!(timeout(LIMIT, client.recv()).await.unwrap().is_none());
    let (pings, close, mut writer) = timeout(LIMIT, serve).await.unwrap().unwrap();
    assert_eq!(pings, 1000);
    assert_eq!(close.map(|c| c.code()), Some(4000));
    // The reader replied to the Close: nothing more may be sent.
    assert!(matches!(
        writer.send(Message::text("late")).await,
        Err(Error::Closed | Error::Send(_))
    ));
}

/// Two tasks: the reader forwards what it receives to the writer over a channel, the writer
/// echoes it; 20,000 messages each way over TCP, in order, then a clean close started by the
/// client.
#[tokio::test]
async fn halves_in_two_tasks_echo_in_order() {
    const N: u32 = 20_000;
    let (client, server) = tcp_pair(Config::DEFAULT).await;
    let (mut reader, mut writer) = server.into_split().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(64);
    let read_task = tokio::spawn(async move {
        while let Some(m) = reader.recv().await {
            let m = m.unwrap();
            if matches!(m, Message::Text(_)) && tx.send(m).await.is_err() {
                break;
            }
        }
    });
    let write_task = tokio::spawn(async move {
        let mut n = 0u32;
        while let Some(m) = rx.recv().await {
            writer.send(m).await.unwrap();
            n += 1;
        }
        n
    });
    let (mut c_reader, mut c_writer) = client.into_split().unwrap();
    let sender = tokio::spawn(async move {
        for i in 0..N {
            c_writer.feed(Message::text(i.to_string())).await.unwrap();
        }
        c_writer.flush().await.unwrap();
        c_writer
    });
    for i in 0..N {
        let m = next(c_reader.recv()).await;
        assert_eq!(m, Message::text(i.to_string()));
    }
    let mut c_writer = sender.await.unwrap();
    c_writer.close(1000, "").await.unwrap();
    assert!(matches!(
        timeout(LIMIT, c_reader.recv()).await.unwrap(),
        Some(Ok(Message::Close(_)))
    ));
    assert!(timeout(LIMIT, c_reader.recv()).await.unwrap().is_none());
    timeout(LIMIT, read_task).await.unwrap().unwrap();
    assert_eq!(timeout(LIMIT, write_task).await.unwrap().unwrap(), N);
    // The client's halves are a pair and reunite.
    assert!(c_reader.is_pair_of(&c_writer));
    let ws = c_reader.reunite(c_writer).unwrap();
    assert!(ws.connection().state() == pushwire_tokio::pushwire_ws::ConnectionState::Closed);
}

/// Cancel safety of the reader: `recv()` raced in `select!` against a timer that fires
/// constantly loses nothing over 100,000 messages.
#[tokio::test]
async fn reader_recv_is_cancel_safe_in_select() {
    const N: u32 = 100_000;
    let (mut client, server) = pair(16 << 10, Config::DEFAULT).await;
    let (mut reader, _writer) = server.split().unwrap();
    let send = tokio::spawn(async move {
        for i in 0..N {
            client
                .feed(Message::binary(i.to_le_bytes().to_vec()))
                .await
                .unwrap();
        }
        client.flush().await.unwrap();
        client
    });
    let mut next = 0u32;
    let mut cancelled = 0u32;
    let mut tick = tokio::time::interval(Duration::from_micros(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    while next < N {
        tokio::select! {
            m = reader.recv() => {
                let Message::Binary(b) = m.unwrap().unwrap() else { panic!("binary") };
                assert_eq!(u32::from_le_bytes(b[..].try_into().unwrap()), next);
                next += 1;
            }
            _ = tick.tick() => cancelled += 1,
        }
    }
    assert!(cancelled > 0, "the timer must have won some races");
    let _client = timeout(LIMIT, send).await.unwrap().unwrap();
}

/// The writer's backpressure is the stream's: with a peer that reads nothing, `feed` waits
/// once `write_buffer_size` is queued, and a message past `max_write_buffer_size` is refused
/// and not queued; once the peer reads, everything is written.
#[tokio::test]
async fn the_writer_keeps_backpressure() {
    // The peer never reads; the pipe takes 64 bytes.
    let (mut peer, io) = duplex(64);
    let config = Config::DEFAULT
        .with_write_buffer_size(1024)
        .with_max_write_buffer_size(4096);
    let ws = WebSocketStream::from_raw(io, Role::Server, config);
    let (_reader, mut writer) = ws.split().unwrap();
    let msg = Message::binary(vec![9u8; 100]); // 102 bytes on the wire
    for _ in 0..11 {
        timeout(Duration::from_millis(200), writer.feed(msg.clone()))
            .await
            .expect("accepted without waiting")
            .unwrap();
    }
    assert_eq!(writer.queued(), 1122);
    // The 12th must write first: 64 bytes go into the pipe, then it waits.
    assert!(timeout(Duration::from_millis(50), writer.feed(msg.clone()))
        .await
        .is_err());
    assert_eq!(writer.queued(), 1058);
    // A message that would pass max_write_buffer_size is refused, not queued.
    let err = std::pin::Pin::new(&mut writer)
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
    assert_eq!(writer.queued(), 1058);
    let drain = tokio::spawn(async move {
        let mut all = Vec::new();
        peer.read_to_end(&mut all).await.unwrap();
        all
    });
    timeout(LIMIT, writer.flush()).await.unwrap().unwrap();
    assert_eq!(writer.queued(), 0);
    drop((_reader, writer));
    let all = timeout(LIMIT, drain).await.unwrap().unwrap();
    assert_eq!(all.len(), 11 * 102);
}

/// Halves of two different streams are refused and given back; the right pair reunites
/// into a stream that still works both ways.
#[tokio::test]
async fn reunite_refuses_strangers_and_resumes() {
    let (mut client_a, server_a) = pair(64 << 10, Config::DEFAULT).await;
    let (_client_b, server_b) = pair(64 << 10, Config::DEFAULT).await;
    let (reader_a, writer_a) = server_a.split().unwrap();
    let (reader_b, writer_b) = server_b.split().unwrap();
    assert!(!reader_a.is_pair_of(&writer_b));
    let e = reader_a.reunite(writer_b).unwrap_err();
    let (reader_a, writer_b) = *e.0;
    let mut writer_a = writer_a;
    writer_a.send(Message::text("from the half")).await.unwrap();
    let mut server_a = reader_a.reunite(writer_a).unwrap();
    let _b = reader_b.reunite(writer_b).unwrap();
    assert_eq!(next(client_a.recv()).await, Message::text("from the half"));
    server_a.send(Message::text("whole again")).await.unwrap();
    client_a.send(Message::text("to the whole")).await.unwrap();
    assert_eq!(next(client_a.recv()).await, Message::text("whole again"));
    assert_eq!(next(server_a.recv()).await, Message::text("to the whole"));
}

/// The writer starts the close: the reader receives the peer's reply, writes no second
/// Close, and ends; the server shuts the transport down (the client sees end of stream).
#[tokio::test]
async fn the_writer_closes_and_the_reader_finishes() {
    let (mut client, server) = pair(64 << 10, Config::DEFAULT).await;
    let (mut reader, mut writer) = server.split().unwrap();
    writer.close(1001, "going").await.unwrap();
    assert_eq!(
        next(client.recv()).await,
        Message::Close(Some(CloseFrame::new(1001, "going").unwrap()))
    );
    assert!(matches!(
        timeout(LIMIT, reader.recv()).await.unwrap(),
        Some(Ok(Message::Close(Some(c)))) if c.code() == 1001
    ));
    assert!(timeout(LIMIT, reader.recv()).await.unwrap().is_none());
    // Exactly one Close reached the client, then the end of the stream.
    assert!(timeout(LIMIT, client.recv()).await.unwrap().is_none());
}
