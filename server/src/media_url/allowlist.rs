//! The host allowlist: exact names or IP literals, and `*.suffix` patterns for subdomains.

/// Allowed hosts, normalised (lower case, no trailing dot).
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    exact: Vec<String>,
    /// Each `*.example.com` stored as `.example.com`.
    suffixes: Vec<String>,
}

impl Allowlist {
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a String>) -> Allowlist {
        let mut list = Allowlist::default();
        for entry in entries {
            let entry = normalise(entry);
            if entry.is_empty() {
                continue;
            }
            match entry.strip_prefix('*') {
                Some(suffix) if suffix.starts_with('.') && suffix.len() > 1 => {
                    list.suffixes.push(suffix.to_owned())
                }
                _ => list.exact.push(entry),
            }
        }
        list
    }

    /// Whether `host` (as the URL spells it; IPv6 without brackets) may be fetched from.
    pub fn allows(&self, host: &str) -> bool {
        let host = normalise(host);
        self.exact.contains(&host) || self.suffixes.iter().any(|suffix| host.ends_with(suffix))
    }
}

fn normalise(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Allowlist {
        let owned: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        Allowlist::new(&owned)
    }

    #[test]
    fn exact_hosts_match_without_case_or_trailing_dot() {
        let allowlist = list(&["CDN.example.com", "127.0.0.1", "[::1]"]);
        assert!(allowlist.allows("cdn.example.com"));
        assert!(allowlist.allows("cdn.example.com."));
        assert!(allowlist.allows("127.0.0.1"));
        assert!(allowlist.allows("::1"));
        assert!(!allowlist.allows("example.com"));
        assert!(!allowlist.allows("cdn.example.com.evil.net"));
        assert!(!allowlist.allows("xcdn.example.com"));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        let allowlist = list(&["*.example.com"]);
        assert!(allowlist.allows("a.example.com"));
        assert!(allowlist.allows("a.b.example.com"));
        assert!(!allowlist.allows("example.com"));
        assert!(!allowlist.allows("badexample.com"));
        assert!(!allowlist.allows("example.com.evil.net"));
    }

    #[test]
    fn an_empty_list_allows_nothing() {
        let allowlist = list(&["", " "]);
        assert!(!allowlist.allows(""));
        assert!(!allowlist.allows("example.com"));
        assert!(!list(&["*"]).allows("example.com"));
    }
}
