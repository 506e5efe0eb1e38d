//! `/metrics` read with a real Prometheus text parser (prometheus-parse), and checked with
//! `promtool check metrics` where promtool is installed.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use prometheus_parse::{Sample, Scrape, Value};

use crate::rest::Rest;

/// The metric names of the contract (ARCHITECTURE.md §6).
pub const CONTRACT: [&str; 10] = [
    "mplug2_requests_total",
    "mplug2_request_duration_seconds",
    "mplug2_queue_duration_seconds",
    "mplug2_module_duration_seconds",
    "mplug2_batch_size",
    "mplug2_queue_depth",
    "mplug2_inflight_requests",
    "mplug2_module_executions_total",
    "mplug2_module_items_total",
    "mplug2_generated_tokens_total",
];

pub struct Scraped {
    pub text: String,
    pub scrape: Scrape,
}

pub async fn scrape(rest: &Rest) -> Scraped {
    let (status, text) = rest.get("/metrics").await;
    assert_eq!(status, 200, "/metrics");
    let scrape =
        Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("/metrics parses");
    Scraped { text, scrape }
}

/// Scrapes until `done` holds, within a minute (a hang, not a timing assertion).
pub async fn until(rest: &Rest, what: &str, done: impl Fn(&Scraped) -> bool) -> Scraped {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let scraped = scrape(rest).await;
        if done(&scraped) {
            return scraped;
        }
        assert!(Instant::now() < deadline, "never saw: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn matches(sample: &Sample, labels: &[(&str, &str)]) -> bool {
    labels
        .iter()
        .all(|(name, value)| sample.labels.get(name) == Some(*value))
}

impl Scraped {
    /// The sum of a counter, gauge or untyped metric over the samples with these labels.
    pub fn value(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        self.scrape
            .samples
            .iter()
            .filter(|s| s.metric == metric && matches(s, labels))
            .map(|s| match s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    }

    /// A histogram's sample count (its `_count` series).
    pub fn count(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(&format!("{metric}_count"), labels)
    }

    /// Observations of a histogram above `bound` (count minus the `le=bound` bucket).
    pub fn above(&self, metric: &str, labels: &[(&str, &str)], bound: f64) -> f64 {
        let buckets = self
            .scrape
            .samples
            .iter()
            .find_map(|s| match &s.value {
                Value::Histogram(buckets) if s.metric == metric && matches(s, labels) => {
                    Some(buckets.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no histogram {metric} {labels:?}"));
        let at_most = buckets
            .iter()
            .find(|b| b.less_than == bound)
            .map_or(0.0, |b| b.count);
        self.count(metric, labels) - at_most
    }

    /// Every metric name that has a `# TYPE` line.
    pub fn has_type(&self, metric: &str) -> bool {
        self.text
            .lines()
            .any(|line| line.starts_with(&format!("# TYPE {metric} ")))
    }
}

/// Runs `promtool check metrics` on the text when promtool is installed. Returns false when it
/// is not; fails the test when promtool finds a problem, or when `MPLUG2_REQUIRE_PROMTOOL=1`
/// (set by `make test`) and promtool is missing.
pub fn promtool_check(text: &str) -> bool {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(_) => {
            let required = std::env::var("MPLUG2_REQUIRE_PROMTOOL").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "promtool is required (MPLUG2_REQUIRE_PROMTOOL=1) but not installed"
            );
            eprintln!("promtool not installed: `promtool check metrics` skipped");
            return false;
        }
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let output = child.wait_with_output().expect("promtool");
    assert!(
        output.status.success() && output.stdout.is_empty() && output.stderr.is_empty(),
        "promtool check metrics found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    true
}
