//! The API keys in force: the one of `--api-key`, or every key of `--api-key-file` (one per
//! line; blank lines and `#` comments ignored), read again on SIGHUP and when the file changes,
//! so that keys rotate without a restart (add the new key, move the clients, remove the old one).
//! A reload that fails (the file unreadable or without a key) keeps the keys in force. Keys are
//! never logged, only their number. Replace the file atomically (write and rename, as
//! Kubernetes does for mounted secrets): a reader may otherwise see it half written.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::Duration,
};

use crate::config::Secret;

/// How often the key file is read to see whether it changed.
const FILE_POLL: Duration = Duration::from_secs(1);

/// Why the API key file gave no key.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the API key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the API key file {path} holds no key (only blank or `#` comment lines)")]
    Empty { path: PathBuf },
}

/// The keys a request may present; shared by both protocols, replaced whole on a reload.
pub struct ApiKeys {
    keys: RwLock<Arc<[Secret]>>,
}

impl ApiKeys {
    pub fn new(keys: Vec<Secret>) -> ApiKeys {
        ApiKeys {
            keys: RwLock::new(keys.into()),
        }
    }

    fn current(&self) -> Arc<[Secret]> {
        Arc::clone(
            &self
                .keys
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Whether `given` is one of the keys. Every key is compared in constant time, so the
    /// timing tells neither where a key differs nor which key matched.
    pub fn allows(&self, given: &str) -> bool {
        self.current().iter().fold(false, |found, key| {
            found | constant_time_eq(given.as_bytes(), key.expose().as_bytes())
        })
    }

    pub fn len(&self) -> usize {
        self.current().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts `keys` in force; false when they are the ones already in force.
    fn replace(&self, keys: Vec<Secret>) -> bool {
        let mut current = self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if current[..] == keys[..] {
            return false;
        }
        *current = keys.into();
        true
    }
}

/// The keys of a key file's text, in order, without repeats.
pub fn parse_keys(text: &str) -> Vec<Secret> {
    let mut keys: Vec<Secret> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Ok(key) = line.parse()
            && !keys.contains(&key)
        {
            keys.push(key);
        }
    }
    keys
}

/// Every key of the file at `path`; at least one.
pub fn read_key_file(path: &Path) -> Result<Vec<Secret>, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let keys = parse_keys(&text);
    if keys.is_empty() {
        return Err(KeyFileError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(keys)
}

/// Reads the key file again on each SIGHUP and whenever its keys change; runs until the process
/// ends. Without a key file (`None`) SIGHUP is only logged: it never ends the process.
pub async fn reload_on_change(keys: Option<(Arc<ApiKeys>, PathBuf)>) {
    let mut hangups = Hangups::new();
    let Some((keys, path)) = keys else {
        loop {
            hangups.next().await;
            tracing::info!("SIGHUP received; there is no --api-key-file to reload");
        }
    };
    let mut poll = tokio::time::interval(FILE_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // A failing file is logged when its error changes or on SIGHUP, not once a second.
    let mut last_error = None;
    loop {
        let trigger = tokio::select! {
            () = hangups.next() => "SIGHUP",
            _ = poll.tick() => "file change",
        };
        match read_key_file(&path) {
            Ok(read) => {
                last_error = None;
                let count = read.len();
                if keys.replace(read) {
                    tracing::info!(keys = count, trigger, "API keys reloaded");
                } else if trigger == "SIGHUP" {
                    tracing::info!(keys = count, "SIGHUP received; the API keys are unchanged");
                }
            }
            Err(error) => {
                let message = error.to_string();
                if trigger == "SIGHUP" || last_error.as_ref() != Some(&message) {
                    tracing::warn!(
                        %error,
                        keys_in_force = keys.len(),
                        "API key file not reloaded; the keys in force stay"
                    );
                }
                last_error = Some(message);
            }
        }
    }
}

/// The SIGHUP stream (never resolving where there is none). Installing it replaces the
/// default action, which ends the process.
struct Hangups(#[cfg(unix)] Option<tokio::signal::unix::Signal>);

impl Hangups {
    fn new() -> Hangups {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Hangups(
                signal(SignalKind::hangup())
                    .inspect_err(|error| tracing::error!(%error, "cannot listen for SIGHUP"))
                    .ok(),
            )
        }
        #[cfg(not(unix))]
        Hangups()
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(stream) = &mut self.0 {
            stream.recv().await;
            return;
        }
        std::future::pending::<()>().await
    }
}

/// Compares keys without leaking where they differ through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(keys: &[&str]) -> Vec<Secret> {
        keys.iter().map(|key| key.parse().unwrap()).collect()
    }

    #[test]
    fn one_key_a_line_blank_and_comment_lines_ignored() {
        let text = "# rotated 2026-11-30\n  old-key \n\nnew-key\n  # not a key\nold-key\n";
        assert_eq!(parse_keys(text), secrets(&["old-key", "new-key"]));
        assert!(parse_keys("\n# only a comment\n").is_empty());
    }

    #[test]
    fn any_key_in_force_is_allowed_and_a_reload_replaces_them_all() {
        let keys = ApiKeys::new(secrets(&["a-key", "b-key"]));
        assert!(keys.allows("a-key") && keys.allows("b-key"));
        assert!(!keys.allows("c-key") && !keys.allows("a-ke") && !keys.allows(""));
        assert!(keys.replace(secrets(&["b-key", "c-key"])));
        assert!(!keys.allows("a-key") && keys.allows("c-key"));
        assert!(!keys.replace(secrets(&["b-key", "c-key"])));
    }

    #[test]
    fn a_file_without_a_key_is_an_error_naming_the_file() {
        let path = std::env::temp_dir().join(format!("mplug2-keys-{}", std::process::id()));
        std::fs::write(&path, "# none yet\n\n").unwrap();
        let error = read_key_file(&path).unwrap_err();
        assert!(error.to_string().contains(&path.display().to_string()));
        std::fs::write(&path, "k1\nk2\n").unwrap();
        assert_eq!(read_key_file(&path).unwrap(), secrets(&["k1", "k2"]));
        std::fs::remove_file(path).unwrap();
    }
}
