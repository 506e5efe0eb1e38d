//! Fetching one media URL: check, resolve and pin, request, follow redirects by hand, read
//! under the byte cap, all within the total timeout.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::{Response, Url, header::LOCATION};
use tokio::sync::Semaphore;
use url::Host;

use mplug2_model::preprocess::{MediaLimit, MediaLimits};

use super::{
    Allowlist, CaFileError, ExtraRoots, FetchError, address::non_public_reason,
    dropped::DroppedFetches, error::error_chain, pinned, tls,
};
use crate::{
    config::MediaUrlArgs,
    limits::{Capacity, Limit},
    metrics::Metrics,
};

/// What a URL is expected to hold; picks the field name in errors and the byte cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlKind {
    Image,
    Video,
}

impl UrlKind {
    pub fn field(self) -> &'static str {
        match self {
            UrlKind::Image => "image_url",
            UrlKind::Video => "video_url",
        }
    }
}

/// The media URL rules of one server (cheap to clone: a few settings, the allowlist and the
/// shared fetch slots).
#[derive(Debug, Clone)]
pub struct MediaUrls {
    /// One per fetch under way (`--max-concurrent-fetches`), shared by every clone.
    slots: Arc<Semaphore>,
    /// The request's deadline (`until`): a fetch ends there even within its own timeout.
    deadline: Option<Instant>,
    dropped: Option<DroppedFetches>,
    max_fetches: usize,
    retry_after_s: u64,
    enabled: bool,
    allowlist: Allowlist,
    allow_private: bool,
    connect_timeout: Duration,
    timeout: Duration,
    max_redirects: u32,
    max_image_bytes: usize,
    max_video_bytes: usize,
    /// `--media-url-ca-file`, read once at start.
    roots: ExtraRoots,
}

impl MediaUrls {
    /// Reads `--media-url-ca-file` (once, here): a bad file is a start-up error.
    pub fn new(
        args: &MediaUrlArgs,
        limits: &MediaLimits,
        retry_after_s: u64,
        metrics: &Metrics,
    ) -> Result<MediaUrls, CaFileError> {
        let max_fetches = args.max_concurrent_fetches as usize;
        let roots = ExtraRoots::load(args.media_url_ca_file.as_deref())?;
        Ok(MediaUrls {
            slots: Arc::new(Semaphore::new(max_fetches)),
            deadline: None,
            dropped: Some(DroppedFetches::new(metrics)),
            max_fetches,
            retry_after_s,
            enabled: args.media_urls,
            allowlist: Allowlist::new(&args.media_url_allowed_hosts),
            allow_private: args.media_url_allow_private_addresses,
            connect_timeout: args.connect_timeout(),
            timeout: args.timeout(),
            max_redirects: args.media_url_max_redirects,
            max_image_bytes: limits.max_image_bytes,
            max_video_bytes: limits.max_video_bytes,
            roots,
        })
    }

    /// Refuses every URL without a network access (the default, and the fuzz targets').
    pub fn disabled() -> MediaUrls {
        MediaUrls {
            slots: Arc::new(Semaphore::new(0)),
            deadline: None,
            dropped: None,
            max_fetches: 0,
            retry_after_s: 1,
            enabled: false,
            allowlist: Allowlist::default(),
            allow_private: false,
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            max_redirects: 0,
            max_image_bytes: 0,
            max_video_bytes: 0,
            roots: ExtraRoots::default(),
        }
    }

    /// The same rules for one request, whose fetches end at its deadline.
    pub fn until(&self, deadline: Instant) -> MediaUrls {
        MediaUrls {
            deadline: Some(deadline),
            ..self.clone()
        }
    }

    /// The body at `url`, or why it was not fetched. A fetch dropped before its end (the
    /// request cancelled) or ended by the request's deadline is counted in
    /// `mplug2_dropped_items_total{module="media_fetch"}`; dropping it closes its connection.
    pub async fn fetch(&self, kind: UrlKind, url: &str) -> Result<Vec<u8>, FetchError> {
        let field = kind.field();
        if !self.enabled {
            return Err(FetchError::Disabled);
        }
        let url = Url::parse(url).map_err(|error| FetchError::InvalidUrl {
            field,
            reason: error.to_string(),
        })?;
        // Taken at once or refused (never queued); held until the body is read or the fetch fails.
        let _slot = Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| FetchError::Busy {
                field,
                refusal: Capacity::ConcurrentFetches.refusal(self.max_fetches, self.max_fetches),
                retry_after_s: self.retry_after_s,
            })?;
        let own_end = Instant::now() + self.timeout;
        // Which bound ends the fetch first: the request's deadline or the fetch's own timeout.
        let (end, by_deadline) = match self.deadline {
            Some(deadline) if deadline < own_end => (deadline, true),
            _ => (own_end, false),
        };
        let watch = self.dropped.as_ref().map(DroppedFetches::watch);
        let fetched = tokio::time::timeout_at(end.into(), self.follow(kind, url)).await;
        if let Some(watch) = watch {
            watch.ended(fetched.is_err() && by_deadline);
        }
        fetched.unwrap_or(Err(if by_deadline {
            FetchError::DeadlinePassed { field }
        } else {
            FetchError::Timeout {
                field,
                what: "the fetch",
                limit_ms: self.timeout.as_millis() as u64,
                flag: "--media-url-timeout-ms",
            }
        }))
    }

    async fn follow(&self, kind: UrlKind, mut url: Url) -> Result<Vec<u8>, FetchError> {
        let field = kind.field();
        for _ in 0..=self.max_redirects {
            let addresses = self.check(field, &url).await?;
            let client = pinned::client(&url, &addresses, self.connect_timeout, &self.roots)
                .map_err(|error| self.request_error(field, &url, &error))?;
            let response = client
                .get(url.clone())
                .send()
                .await
                .map_err(|error| self.request_error(field, &url, &error))?;
            let status = response.status();
            if status.is_redirection() {
                url = redirect_target(field, &url, &response)?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Upstream {
                    field,
                    reason: format!("the server answered {status}"),
                });
            }
            return self.read_capped(kind, response).await;
        }
        Err(FetchError::TooManyRedirects {
            field,
            limit: self.max_redirects,
        })
    }

    /// The rules every URL and every redirect target must pass; returns the addresses to pin.
    async fn check(&self, field: &'static str, url: &Url) -> Result<Vec<SocketAddr>, FetchError> {
        let refused = |reason: String| FetchError::Refused { field, reason };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refused(format!(
                "the scheme `{}` is not served (only http and https)",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refused("credentials in the URL are not accepted".into()));
        }
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return Err(refused("the URL has no host".into()));
        };
        let name = match &host {
            Host::Domain(domain) => (*domain).to_owned(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        if !self.allowlist.allows(&name) {
            return Err(refused(format!(
                "the host `{name}` is not allowed (--media-url-allowed-hosts)"
            )));
        }
        let addresses: Vec<SocketAddr> = match host {
            Host::Ipv4(ip) => vec![SocketAddr::new(ip.into(), port)],
            Host::Ipv6(ip) => vec![SocketAddr::new(ip.into(), port)],
            Host::Domain(domain) => tokio::net::lookup_host((domain, port))
                .await
                .map_err(|error| FetchError::Upstream {
                    field,
                    reason: format!("cannot resolve `{domain}`: {error}"),
                })?
                .collect(),
        };
        if addresses.is_empty() {
            return Err(FetchError::Upstream {
                field,
                reason: format!("`{name}` resolves to no address"),
            });
        }
        if !self.allow_private {
            // Every answer must be public: a mixed answer is refused, not filtered.
            for address in &addresses {
                if let Some(kind) = non_public_reason(address.ip()) {
                    return Err(refused(format!(
                        "the host `{name}` resolves to {}, a non-public address: {kind}",
                        address.ip()
                    )));
                }
            }
        }
        Ok(addresses)
    }

    /// Reads the body, stopping as soon as it passes the cap (a declared length over the cap
    /// is refused before reading; a missing or false one is not trusted).
    async fn read_capped(
        &self,
        kind: UrlKind,
        mut response: Response,
    ) -> Result<Vec<u8>, FetchError> {
        let (limit, which) = match kind {
            UrlKind::Image => (self.max_image_bytes, MediaLimit::ImageBytes),
            UrlKind::Video => (self.max_video_bytes, MediaLimit::VideoBytes),
        };
        let flag = Limit::Media(which).flag().unwrap_or_default();
        let url = response.url().clone();
        let too_large = |value: String| FetchError::TooLarge {
            field: kind.field(),
            limit,
            flag,
            value,
        };
        if let Some(declared) = response.content_length()
            && declared > limit as u64
        {
            return Err(too_large(format!("the server declares {declared} bytes")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.request_error(kind.field(), &url, &error))?
        {
            if body.len() + chunk.len() > limit {
                return Err(too_large(format!(
                    "more than {limit} bytes arrived; reading stopped"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn request_error(&self, field: &'static str, url: &Url, error: &reqwest::Error) -> FetchError {
        if error.is_timeout() {
            return FetchError::Timeout {
                field,
                what: "connecting",
                limit_ms: self.connect_timeout.as_millis() as u64,
                flag: "--media-url-connect-timeout-ms",
            };
        }
        if let Some(reason) = tls::refusal(url.host_str().unwrap_or_default(), error) {
            return FetchError::Tls { field, reason };
        }
        FetchError::Upstream {
            field,
            reason: error_chain(error),
        }
    }
}

fn redirect_target(
    field: &'static str,
    from: &Url,
    response: &Response,
) -> Result<Url, FetchError> {
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| FetchError::Upstream {
            field,
            reason: format!(
                "the server answered {} without a Location",
                response.status()
            ),
        })?;
    from.join(location).map_err(|error| FetchError::InvalidUrl {
        field,
        reason: format!("redirect to `{location}`: {error}"),
    })
}
