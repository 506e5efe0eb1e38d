//! reqwest clients for the tests and benchmarks, and the benchmarks' checked POST. The server's media-URL fetcher turns on reqwest's
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

/// POSTs `body` as JSON and reads the answer; a transport failure or a non-2xx answer is an error
/// (`"{status}: {body}"` for the latter).
pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> Result<(), String> {
    send_checked(client.post(url).json(body)).await
}

/// Sends a prepared request and reads the answer, with `post_json`'s errors.
pub async fn send_checked(request: reqwest::RequestBuilder) -> Result<(), String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{status}: {text}"))
    }
}
