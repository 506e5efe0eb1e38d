//! Media fetched from `image_url` / `video_url` instead of sent as bytes. Off by default; when on:
//! http/https only, allowlisted hosts only, every address the host resolves to must be public
//! (unless `--media-url-allow-private-addresses`), the checked addresses are pinned for the
//! connection (no second lookup can swap them), redirects are followed by hand and every hop is
//! checked again, connect and total timeouts apply, and the byte cap is enforced while reading.
//! https trusts the system's roots plus `--media-url-ca-file` (`roots`).

mod address;
mod allowlist;
mod dropped;
mod error;
mod fetch;
mod pinned;
mod roots;
mod tls;

pub use address::non_public_reason;
pub use allowlist::Allowlist;
pub use error::FetchError;
pub use fetch::{MediaUrls, UrlKind};
pub use roots::{CaFileError, ExtraRoots};
