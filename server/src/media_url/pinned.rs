//! One HTTP client per hop whose only name resolution is the pinned, already checked addresses.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use super::ExtraRoots;

use reqwest::{
    Client, Url,
    dns::{Name, Resolve, Resolving},
    redirect::Policy,
};

/// Refuses every lookup: reached only if a name escaped the pinned overrides, which must then
/// fail rather than be resolved again (the second answer could be a private address).
struct NoLookups;

impl Resolve for NoLookups {
    fn resolve(&self, name: Name) -> Resolving {
        let message = format!(
            "`{}` was not pinned; refusing a second lookup",
            name.as_str()
        );
        Box::pin(std::future::ready(Err(message.into())))
    }
}

/// A client for `url` that connects only to `addresses`, follows no redirect, ignores proxy
/// environment variables, keeps no idle connection, and trusts the system's roots plus `roots`.
pub fn client(
    url: &Url,
    addresses: &[SocketAddr],
    connect_timeout: Duration,
    roots: &ExtraRoots,
) -> Result<Client, reqwest::Error> {
    install_crypto_provider();
    let mut builder = Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(0)
        .user_agent(concat!("mplug2-serve/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(NoLookups))
        // Merged with the system's roots, not instead of them (`tls_certs_only` would replace).
        .tls_certs_merge(roots.certificates());
    if let Some(url::Host::Domain(domain)) = url.host() {
        builder = builder.resolve_to_addrs(domain, addresses);
    }
    builder.build()
}

/// rustls needs one process-wide crypto provider; ring is ours (no C build beyond ring's own).
fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // An error means another provider is installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
