//! Overload bounds and access: how much work may wait, how many requests may be received at
//! once, where the API key comes from, and the separate operator address.

use std::{net::SocketAddr, path::PathBuf};

use crate::keys::{KeyFileError, read_key_file};

/// Queue and pending-request bounds, the API key file and the admin address.
#[derive(clap::Args, Debug, Clone)]
pub struct ProtectionArgs {
    /// Most items waiting in one module's queue (decoder: requests waiting to join the steps).
    /// A request whose item finds the queue full is refused at once with 429 /
    /// RESOURCE_EXHAUSTED and Retry-After.
    #[arg(long, env = "MAX_QUEUE_ITEMS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_queue_items: u64,

    /// Most task requests being received or served at once over both protocols, bodies still
    /// being read included; beyond it a request is refused with 429 / RESOURCE_EXHAUSTED before
    /// its body is read. With --max-body-bytes it bounds the memory requests can hold.
    #[arg(long, env = "MAX_PENDING_REQUESTS", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_pending_requests: u32,

    /// A file holding the API keys, one per line (blank lines and `#` comments ignored), instead
    /// of --api-key: keeps the keys out of the process list and the environment. Read again on
    /// SIGHUP and when it changes (a rotation needs no restart).
    #[arg(long, env = "API_KEY_FILE", conflicts_with = "api_key")]
    pub api_key_file: Option<PathBuf>,

    /// If set, /health/live, /health/ready, /metrics and /info are served on this address (never
    /// behind the API key) and /health/* and /metrics leave the API address.
    #[arg(long, env = "ADMIN_ADDR")]
    pub admin_addr: Option<SocketAddr>,
}

impl ProtectionArgs {
    /// The keys of --api-key-file, if one is named (`keys.rs` reads it again on changes).
    pub fn keys_from_file(&self) -> Result<Option<Vec<super::Secret>>, KeyFileError> {
        self.api_key_file.as_deref().map(read_key_file).transpose()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::config::Config;

    #[test]
    fn the_key_file_is_trimmed_and_conflicts_with_the_key() {
        let dir = std::env::temp_dir().join(format!("mplug2-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, "  s3cret\n").unwrap();
        let file = path.to_str().unwrap();
        let config = Config::try_parse_from(["mplug2-serve", "--api-key-file", file]).unwrap();
        let keys = config.protection.keys_from_file().unwrap().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].expose(), "s3cret");
        let both = ["mplug2-serve", "--api-key-file", file, "--api-key", "x"];
        assert!(Config::try_parse_from(both).is_err());
        std::fs::write(&path, "\n").unwrap();
        assert!(config.protection.keys_from_file().is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
