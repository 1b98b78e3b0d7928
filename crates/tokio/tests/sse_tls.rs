//! `EventSource` over `https://` (feature `sse-rustls`): a hyper server with a self-signed
//! certificate (rcgen), ALPN `h2` + `http/1.1`; the client speaks h2 when it offers it and
//! HTTP/1.1 when it does not, and refuses a server its roots do not trust.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use pushwire_tokio::sse::{ClientConfig, Error, Event, EventSource, FailReason, HttpVersion, Sse};
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;

#[path = "common/tls.rs"]
mod tls;
use tls::{acceptor, trusting};

/// A TLS server whose every request gets three events naming the HTTP version it came on.
async fn serve() -> (u16, CertificateDer<'static>) {
    let (acceptor, cert) = acceptor(&[b"h2", b"http/1.1"]);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let version = format!("{:?}", req.version());
                    let events = (0..3).map(move |i| {
                        Event::from(
                            pushwire_sse::EventBuilder::new()
                                .id(&i.to_string())
                                .unwrap()
                                .data(&version),
                        )
                    });
                    // Three events, then the stream stays open (no reconnect in the test).
                    let body = stream::iter(events).chain(stream::pending());
                    Ok::<_, std::convert::Infallible>(Sse::new(body).into_http_response())
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, cert)
}

#[tokio::test]
async fn event_source_over_tls_speaks_h2_by_alpn_or_http1() {
    let (port, cert) = serve().await;
    for (version, expect) in [
        (HttpVersion::Http2, "HTTP/2.0"),
        (HttpVersion::Http1, "HTTP/1.1"),
    ] {
        let mut source = EventSource::builder(&format!("https://localhost:{port}/events"))
            .tls(trusting(Some(cert.clone())))
            .http_version(version)
            .build()
            .unwrap();
        let got: Vec<(String, String)> = tokio::time::timeout(Duration::from_secs(10), async {
            let mut got = Vec::new();
            while got.len() < 3 {
                let e = source.next().await.unwrap().unwrap();
                got.push((e.last_event_id().to_string(), e.data().to_string()));
            }
            got
        })
        .await
        .unwrap();
        let want: Vec<(String, String)> = (0..3)
            .map(|i| (i.to_string(), expect.to_string()))
            .collect();
        assert_eq!(got, want, "{version:?}");
    }
}

#[tokio::test]
async fn an_untrusted_server_is_a_failed_attempt() {
    let (port, _) = serve().await;
    let config = ClientConfig::DEFAULT
        .with_reconnection_time(Duration::from_millis(5))
        .with_min_backoff(Duration::from_millis(5))
        .with_max_attempts(Some(2));
    let mut source = EventSource::builder(&format!("https://localhost:{port}/"))
        .tls(trusting(None))
        .config(config)
        .build()
        .unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), source.next())
        .await
        .unwrap();
    assert!(
        matches!(
            end,
            Some(Err(Error::Failed(FailReason::TooManyAttempts {
                attempts: 2
            })))
        ),
        "{end:?}"
    );
    // Without a TLS configuration an https URL is refused at build.
    assert!(matches!(
        EventSource::new(&format!("https://localhost:{port}/")),
        Err(Error::InvalidUrl(_))
    ));
}
