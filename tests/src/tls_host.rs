//! An HTTPS media host on loopback for the media URL tests: a test CA made at test time with
//! rcgen (no key is committed), server certificates it signs, and an axum router served over
//! tokio-rustls. The host records the handshakes that failed, so a test can tell that the
//! fetcher refused the certificate (it aborts the handshake with an alert) rather than failing
//! before TLS.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::Router;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

/// A certificate authority that exists for one test.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate (with its CA's certificate behind it) and its key.
pub struct ServerCertificate {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    /// The CA's certificate, as `--media-url-ca-file` takes it.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (DNS names or IP literals), signed by this CA.
    pub fn server_certificate(&self, names: &[&str]) -> ServerCertificate {
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("server params");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let certificate = params
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        ServerCertificate {
            chain: vec![certificate.der().clone(), self.issuer.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        }
    }
}

/// An HTTPS server on 127.0.0.1:0 serving a router with one certificate (whatever name the
/// client asks for).
pub struct TlsMediaHost {
    pub port: u16,
    failed_handshakes: Arc<Mutex<Vec<String>>>,
}

impl TlsMediaHost {
    pub async fn start(certificate: ServerCertificate, app: Router) -> TlsMediaHost {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(certificate.chain, certificate.key)
            .expect("server certificate and key");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = tcp.local_addr().expect("address").port();
        let failed_handshakes = Arc::new(Mutex::new(Vec::new()));
        let listener = TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            failed_handshakes: Arc::clone(&failed_handshakes),
        };
        tokio::spawn(async move { axum::serve(listener, app).await });
        TlsMediaHost {
            port,
            failed_handshakes,
        }
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port)
    }

    /// What the host saw of each handshake that failed, oldest first.
    pub fn failed_handshakes(&self) -> Vec<String> {
        self.failed_handshakes.lock().expect("lock").clone()
    }
}

/// Accepts TCP connections and completes their TLS handshake before axum sees them.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    failed_handshakes: Arc<Mutex<Vec<String>>>,
}

/// A client that connects and says nothing must not hold the (one at a time) accept loop.
const HANDSHAKE_BOUND: Duration = Duration::from_secs(10);

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.tcp.accept().await else {
                continue;
            };
            let handshake = self.acceptor.accept(stream);
            let failure = match tokio::time::timeout(HANDSHAKE_BOUND, handshake).await {
                Ok(Ok(tls)) => return (tls, address),
                Ok(Err(error)) => error.to_string(),
                Err(_) => "the handshake timed out".to_owned(),
            };
            self.failed_handshakes.lock().expect("lock").push(failure);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
