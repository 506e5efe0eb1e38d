//! Media given as URLs (`image_url`, `video_url`) instead of bytes: off by default, and when on,
//! fetched only from allowlisted hosts at public addresses (docs/server.md, "Media URLs").

use std::{path::PathBuf, time::Duration};

/// Fetching media from URLs.
#[derive(clap::Args, Debug, Clone)]
pub struct MediaUrlArgs {
    /// Accept `image_url` / `video_url` instead of media bytes (REST and gRPC). Off by default:
    /// the server then makes no outbound request at all.
    #[arg(long, env = "MEDIA_URLS", default_value_t = false, action = clap::ArgAction::Set)]
    pub media_urls: bool,

    /// Hosts media may be fetched from, comma separated: exact names (`cdn.example.com`), IP
    /// literals, or `*.example.com` for every subdomain (not the apex). Empty refuses every URL.
    #[arg(long, env = "MEDIA_URL_ALLOWED_HOSTS", value_delimiter = ',')]
    pub media_url_allowed_hosts: Vec<String>,

    /// Let allowlisted hosts resolve to non-public addresses (loopback, private, link-local, …).
    /// For tests and closed networks only: it opens the internal network to anyone who may send
    /// a request.
    #[arg(long, env = "MEDIA_URL_ALLOW_PRIVATE_ADDRESSES", default_value_t = false, action = clap::ArgAction::Set)]
    pub media_url_allow_private_addresses: bool,

    /// Time allowed to open each connection of a media fetch, in milliseconds.
    #[arg(long, env = "MEDIA_URL_CONNECT_TIMEOUT_MS", default_value_t = 3_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub media_url_connect_timeout_ms: u64,

    /// Time allowed for a whole media fetch (every redirect and the body), in milliseconds.
    #[arg(long, env = "MEDIA_URL_TIMEOUT_MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub media_url_timeout_ms: u64,

    /// Redirects followed per media fetch; every hop is checked like the first URL.
    #[arg(long, env = "MEDIA_URL_MAX_REDIRECTS", default_value_t = 3)]
    pub media_url_max_redirects: u32,

    /// Most media URL fetches under way at once, over both protocols; a request whose fetch
    /// finds them all taken is refused at once with 429 / RESOURCE_EXHAUSTED and Retry-After.
    #[arg(long, env = "MAX_CONCURRENT_FETCHES", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_fetches: u32,

    /// PEM file of extra root certificates trusted for https media fetches, in addition to the
    /// system's trust store (a private CA, say). Read once at start: a file that cannot be read
    /// or holds no usable certificate stops the server.
    #[arg(long, env = "MEDIA_URL_CA_FILE")]
    pub media_url_ca_file: Option<PathBuf>,
}

impl MediaUrlArgs {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.media_url_connect_timeout_ms)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.media_url_timeout_ms)
    }
}
