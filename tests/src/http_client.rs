//! reqwest clients for the tests and benchmarks. The server's media-URL fetcher turns on reqwest's
//! rustls without a bundled crypto provider, and cargo unifies that feature across the workspace,
//! so every client here needs the process-wide provider installed before it is built.

use std::sync::Once;

/// A default client.
pub fn http_client() -> reqwest::Client {
    http_client_builder().build().expect("reqwest client")
}

/// A client builder, with the crypto provider in place.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // An error means a provider is installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}
