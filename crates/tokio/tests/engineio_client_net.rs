//! The Engine.io client's connections (feature `engineio-rustls`): over `https://` with a
//! self-signed certificate (rcgen) against `EngineIo` served by hyper behind rustls, every
//! transport and both revisions; an untrusted server and an `https://` URL without TLS
//! refused; and polling requests reusing their keep-alive connections (counted at the
//! server's listener).

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use pushwire_tokio::engineio::client::{
    connect, connect_with, ClientConfig, ConnectError, Connector,
};
use pushwire_tokio::engineio::pushwire_engineio::client::Config as SessionConfig;
use pushwire_tokio::engineio::{Config, EngineIo, PacketData, ProtocolVersion, TransportKind};
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio::time::timeout;

const DEADLINE: Duration = Duration::from_secs(10);

#[path = "common/tls.rs"]
mod tls;
use tls::{acceptor, trusting};

/// An echoing Engine.io endpoint on a local port, behind TLS when `tls`; returns the port,
/// the certificate, and the count of TCP connections accepted.
async fn serve(tls: bool) -> (u16, CertificateDer<'static>, Arc<AtomicUsize>) {
    let (acceptor, cert) = acceptor(&[b"http/1.1"]);
    let (eio, mut incoming) = EngineIo::new(Config::DEFAULT);
    tokio::spawn(async move {
        while let Some(mut socket) = incoming.accept().await {
            tokio::spawn(async move {
                while let Some(data) = socket.recv().await {
                    let _ = socket.send(data);
                }
            });
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let eio = eio.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let eio = eio.clone();
                    async move { Ok::<_, Infallible>(eio.handle(req).await) }
                });
                let builder = auto::Builder::new(TokioExecutor::new());
                if tls {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let _ = builder
                        .serve_connection_with_upgrades(TokioIo::new(tls), service)
                        .await;
                } else {
                    let _ = builder
                        .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                        .await;
                }
            });
        }
    });
    (port, cert, accepted)
}

#[tokio::test]
async fn the_client_speaks_both_revisions_over_tls_on_every_transport() {
    let (port, cert, _) = serve(true).await;
    let url = format!("https://localhost:{port}/engine.io/");
    let connector = Connector::rustls(trusting(Some(cert)));
    for protocol in [ProtocolVersion::V3, ProtocolVersion::V4] {
        for (mode, session) in [
            ("polling", SessionConfig::DEFAULT.with_upgrade(false)),
            (
                "websocket",
                SessionConfig::DEFAULT.with_websocket_only(true),
            ),
            ("upgrade", SessionConfig::DEFAULT),
        ] {
            let config = ClientConfig::DEFAULT.with_engine(session.with_protocol(protocol));
            let mut client = timeout(DEADLINE, connect_with(&url, config, connector.clone()))
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{protocol:?} {mode}: {e}"));
            let sent = [
                PacketData::Text("over tls".into()),
                PacketData::Binary(Bytes::from_static(&[0, 1, 254, 255])),
            ];
            for d in &sent {
                client.send(d.clone()).await.unwrap();
            }
            for d in &sent {
                let got = timeout(DEADLINE, client.recv()).await.unwrap();
                assert_eq!(got.as_ref(), Some(d), "{protocol:?} {mode}");
            }
            if mode != "polling" {
                timeout(DEADLINE, async {
                    while client.transport() != TransportKind::WebSocket {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                })
                .await
                .unwrap_or_else(|_| panic!("{protocol:?} {mode}: not on websocket (wss)"));
                client.send(PacketData::Text("after".into())).await.unwrap();
                assert_eq!(
                    timeout(DEADLINE, client.recv()).await.unwrap(),
                    Some(PacketData::Text("after".into())),
                    "{protocol:?} {mode}"
                );
            }
            client.close().await;
            assert_eq!(timeout(DEADLINE, client.recv()).await.unwrap(), None);
        }
    }
}

#[tokio::test]
async fn untrusted_servers_and_https_without_tls_are_refused() {
    let (port, _, _) = serve(true).await;
    let url = format!("https://localhost:{port}/engine.io/");
    let untrusted = timeout(
        DEADLINE,
        connect_with(
            &url,
            ClientConfig::DEFAULT,
            Connector::rustls(trusting(None)),
        ),
    )
    .await
    .unwrap();
    assert!(
        matches!(untrusted, Err(ConnectError::Handshake(_))),
        "{untrusted:?}"
    );
    assert!(matches!(
        connect(&url, ClientConfig::DEFAULT).await,
        Err(ConnectError::InvalidUrl(_))
    ));
}

#[tokio::test]
async fn polling_requests_reuse_their_connections() {
    let (port, _, accepted) = serve(false).await;
    let url = format!("http://127.0.0.1:{port}/engine.io/");
    let config = ClientConfig::DEFAULT.with_engine(
        SessionConfig::DEFAULT
            .with_upgrade(false)
            .with_protocol(ProtocolVersion::V4),
    );
    let mut client = timeout(DEADLINE, connect(&url, config))
        .await
        .unwrap()
        .unwrap();
    // 30 round trips, one at a time: each is a POST and the GET that brings the echo, 60
    // requests (plus the handshake) that once took a connection each.
    for i in 0..30 {
        let d = PacketData::Text(format!("m{i}"));
        client.send(d.clone()).await.unwrap();
        assert_eq!(timeout(DEADLINE, client.recv()).await.unwrap(), Some(d));
    }
    let n = accepted.load(Ordering::SeqCst);
    // A GET held while a POST goes out needs two; a connection dropped by either side may
    // add one now and then.
    assert!(n <= 4, "{n} connections for 61 requests");
    client.close().await;
}
