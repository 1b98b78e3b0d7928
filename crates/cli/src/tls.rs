//! TLS for `pushwire serve` (rustls, ring): a certificate and key from PEM files
//! (`--tls-cert`, `--tls-key`), or a self-signed one made at start (`--self-signed`, for
//! development: browsers need `--ignore-certificate-errors` or an exception). ALPN offers
//! `h2` then `http/1.1`, so browsers speak HTTP/2 — which they only do over TLS — and with
//! it WebSockets over HTTP/2 (RFC 8441) where they support it.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Time allowed for a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// PEM files: the certificate chain and the private key.
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate for `localhost` and `127.0.0.1`, made at start.
    SelfSigned,
}

/// The server's TLS acceptor for `source`.
pub(crate) fn acceptor(source: &Source) -> io::Result<TlsAcceptor> {
    let (certs, key) = match source {
        Source::Files { cert, key } => {
            let certs = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| io::Error::other(format!("{}: {e}", cert.display())))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| io::Error::other(format!("{}: {e}", key.display())))?;
            (certs, key)
        }
        Source::SelfSigned => {
            let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
            let made = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
            let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
            (vec![made.cert.der().clone()], key.into())
        }
    };
    // ring rather than rustls's default aws-lc-rs: no cmake/NASM build on every machine.
    // rustls marks ring's provider deprecated because it has no post-quantum key exchange
    // (X25519MLKEM768); classical ECDHE is what the demo needs.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(io::Error::other)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Runs the TLS handshake on an accepted connection, within [`HANDSHAKE_TIMEOUT`].
pub(crate) async fn accept<S>(acceptor: &TlsAcceptor, tcp: S) -> io::Result<TlsStream<S>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "TLS handshake timed out",
        )),
    }
}
