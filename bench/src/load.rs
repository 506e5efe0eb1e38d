//! Closed-loop load: `concurrency` clients each send their next request as soon as the previous
//! one is answered, until the point's request count is reached.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use mplug2_e2e_tests::http_client::post_json;
use serde_json::Value;

/// What one load point measured.
#[derive(Debug, Clone)]
pub struct Measured {
    pub requests: usize,
    pub elapsed: Duration,
    /// Sorted latencies.
    pub latencies: Vec<Duration>,
}

impl Measured {
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest-rank percentile.
    pub fn percentile(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }
}

/// Sends `requests` POSTs of `body` to `url` from `concurrency` clients; fails on any non-200.
pub async fn run(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    concurrency: usize,
    requests: usize,
) -> Result<Measured, String> {
    let issued = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients = (0..concurrency).map(|_| {
        let issued = Arc::clone(&issued);
        async move {
            let mut latencies = Vec::new();
            while issued.fetch_add(1, Ordering::SeqCst) < requests {
                let sent = Instant::now();
                post_json(client, url, body)
                    .await
                    .map_err(|e| format!("{url}: {e}"))?;
                latencies.push(sent.elapsed());
            }
            Ok::<_, String>(latencies)
        }
    });
    let mut latencies = Vec::with_capacity(requests);
    for result in futures::future::join_all(clients).await {
        latencies.extend(result?);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok(Measured {
        requests: latencies.len(),
        elapsed,
        latencies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let latencies = (1..=100).map(Duration::from_millis).collect();
        let measured = Measured {
            requests: 100,
            elapsed: Duration::from_secs(10),
            latencies,
        };
        assert_eq!(measured.percentile(50.0), Duration::from_millis(50));
        assert_eq!(measured.percentile(90.0), Duration::from_millis(90));
        assert_eq!(measured.percentile(99.0), Duration::from_millis(99));
        assert_eq!(measured.percentile(100.0), Duration::from_millis(100));
        assert_eq!(measured.throughput(), 10.0);
    }
}
