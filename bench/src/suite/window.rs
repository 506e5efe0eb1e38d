//! Load points measured in consecutive windows: a point counts only when the throughput of its
//! last three windows agrees within 10% (max / min ≤ 1.1); otherwise it is reported as unstable.
//! Closed loop: `concurrency` clients each send their next request when the previous is answered.
//! Open loop: requests start at Poisson arrival times whatever the answers do.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use rand::Rng;
use serde::Serialize;

use super::call::Call;

/// How the windows of a point are sized.
#[derive(Debug, Clone, Copy)]
pub struct WindowPlan {
    /// Completions a window should hold (it lasts `target / warm-up rate`), within the bounds.
    pub target_completions: f64,
    pub min_window: Duration,
    pub max_window: Duration,
    pub max_windows: usize,
    /// Longest wait for the requests still in flight when a point ends.
    pub drain_bound: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Completion {
    at: Instant,
    latency: Duration,
    ok: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PointResult {
    pub throughput: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub error_rate: f64,
    pub requests: usize,
    pub window_s: f64,
    /// Throughput of every window, in order.
    pub windows: Vec<f64>,
    /// The last three windows agree within 10%.
    pub stable: bool,
    pub first_error: Option<String>,
    /// Every successful request of the point, warm-up and drain included: count and mean
    /// latency (to compare with the server's own counters over the same requests).
    pub all_ok: usize,
    pub all_mean_ms: f64,
}

impl std::fmt::Display for PointResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} req/s, p50 {:.1} / p90 {:.1} / p99 {:.1} ms, errors {:.1}%, {} req, windows {:?}{}",
            self.throughput,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.error_rate * 100.0,
            self.requests,
            self.windows
                .iter()
                .map(|w| (w * 100.0).round() / 100.0)
                .collect::<Vec<_>>(),
            if self.stable { "" } else { " UNSTABLE" }
        )
    }
}

#[derive(Default)]
struct Log {
    completions: Mutex<Vec<Completion>>,
    first_error: Mutex<Option<String>>,
}

impl Log {
    fn record(&self, sent: Instant, result: Result<(), String>) {
        let ok = result.is_ok();
        if let Err(error) = result
            && let Ok(mut first) = self.first_error.lock()
        {
            first.get_or_insert(error);
        }
        if let Ok(mut all) = self.completions.lock() {
            all.push(Completion {
                at: Instant::now(),
                latency: sent.elapsed(),
                ok,
            });
        }
    }

    fn count(&self) -> usize {
        self.completions.lock().map_or(0, |c| c.len())
    }

    fn since(&self, start: Instant) -> Vec<Completion> {
        self.completions
            .lock()
            .map(|c| c.iter().filter(|c| c.at >= start).copied().collect())
            .unwrap_or_default()
    }
}

/// Closed loop with `concurrency` clients.
pub async fn closed_loop(call: &Call, concurrency: usize, plan: WindowPlan) -> PointResult {
    let log = Arc::new(Log::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..concurrency)
        .map(|_| {
            let (mut call, log, stop) = (call.clone(), Arc::clone(&log), Arc::clone(&stop));
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let sent = Instant::now();
                    let result = call.send().await;
                    log.record(sent, result);
                }
            })
        })
        .collect();
    let result = measure(&log, concurrency.min(8), plan).await;
    stop.store(true, Ordering::SeqCst);
    drain(clients, plan.drain_bound).await;
    with_totals(result, &log)
}

/// Open loop: Poisson arrivals at `rate` requests per second.
pub async fn open_loop(call: &Call, rate: f64, plan: WindowPlan) -> PointResult {
    let log = Arc::new(Log::default());
    let stop = Arc::new(AtomicBool::new(false));
    let generator = {
        let (call, log, stop) = (call.clone(), Arc::clone(&log), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut in_flight = Vec::new();
            let mut next = Instant::now();
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep_until(next.into()).await;
                let (mut call, log) = (call.clone(), Arc::clone(&log));
                in_flight.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let result = call.send().await;
                    log.record(sent, result);
                }));
                let uniform: f64 = rand::rng().random_range(f64::EPSILON..1.0);
                next += Duration::from_secs_f64(-uniform.ln() / rate);
            }
            in_flight
        })
    };
    let result = measure(&log, 4, plan).await;
    stop.store(true, Ordering::SeqCst);
    if let Ok(in_flight) = generator.await {
        drain(in_flight, plan.drain_bound).await;
    }
    with_totals(result, &log)
}

async fn drain(tasks: Vec<tokio::task::JoinHandle<()>>, bound: Duration) {
    let all = futures::future::join_all(tasks);
    if tokio::time::timeout(bound, all).await.is_err() {
        eprintln!("    (requests still in flight after {bound:?}; the next point may see them)");
    }
}

/// Warms up until `warmup` completions, sizes the windows from that rate, then measures windows
/// until the last three agree or `max_windows` have passed.
async fn measure(log: &Log, warmup: usize, plan: WindowPlan) -> PointResult {
    let started = Instant::now();
    let warm_bound = plan.max_window * 3;
    while log.count() < warmup.max(1) && started.elapsed() < warm_bound {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rate = log.count() as f64 / started.elapsed().as_secs_f64().max(1e-3);
    let window = Duration::from_secs_f64(plan.target_completions / rate.max(1e-3))
        .clamp(plan.min_window, plan.max_window);
    let first = Instant::now();
    let mut windows: Vec<Vec<Completion>> = Vec::new();
    loop {
        let begin = first + window * windows.len() as u32;
        tokio::time::sleep_until((begin + window).into()).await;
        windows.push(
            log.since(begin)
                .into_iter()
                .filter(|c| c.at < begin + window)
                .collect(),
        );
        if (windows.len() >= 3 && agree(&rates(&windows[windows.len() - 3..], window)))
            || windows.len() >= plan.max_windows
        {
            break;
        }
    }
    summarize(&windows, window, log)
}

fn rates(windows: &[Vec<Completion>], window: Duration) -> Vec<f64> {
    windows
        .iter()
        .map(|w| w.iter().filter(|c| c.ok).count() as f64 / window.as_secs_f64())
        .collect()
}

/// Within 10%: the largest is at most 1.1 × the smallest (and no window is empty).
pub fn agree(rates: &[f64]) -> bool {
    let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let max = rates.iter().copied().fold(0.0, f64::max);
    min > 0.0 && max <= 1.1 * min
}

fn summarize(windows: &[Vec<Completion>], window: Duration, log: &Log) -> PointResult {
    let all_rates = rates(windows, window);
    let last = &windows[windows.len().saturating_sub(3)..];
    let completions: Vec<Completion> = last.iter().flatten().copied().collect();
    let mut latencies: Vec<Duration> = completions
        .iter()
        .filter(|c| c.ok)
        .map(|c| c.latency)
        .collect();
    latencies.sort();
    let ms = |p: f64| percentile(&latencies, p).as_secs_f64() * 1e3;
    let ok = latencies.len();
    PointResult {
        throughput: ok as f64 / (window.as_secs_f64() * last.len() as f64),
        p50_ms: ms(50.0),
        p90_ms: ms(90.0),
        p99_ms: ms(99.0),
        error_rate: if completions.is_empty() {
            0.0
        } else {
            (completions.len() - ok) as f64 / completions.len() as f64
        },
        requests: completions.len(),
        window_s: window.as_secs_f64(),
        stable: all_rates.len() >= 3 && agree(&all_rates[all_rates.len() - 3..]),
        windows: all_rates,
        first_error: log.first_error.lock().ok().and_then(|e| e.clone()),
        all_ok: 0,
        all_mean_ms: 0.0,
    }
}

/// Fills `all_ok` and `all_mean_ms` once every client has finished.
fn with_totals(mut result: PointResult, log: &Log) -> PointResult {
    let all: Vec<Duration> = log
        .completions
        .lock()
        .map(|c| c.iter().filter(|c| c.ok).map(|c| c.latency).collect())
        .unwrap_or_default();
    result.all_ok = all.len();
    result.all_mean_ms =
        all.iter().map(Duration::as_secs_f64).sum::<f64>() * 1e3 / all.len().max(1) as f64;
    result
}

/// Nearest-rank percentile (zero when there is no sample).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_agree_within_ten_percent() {
        assert!(agree(&[10.0, 10.5, 11.0]));
        assert!(!agree(&[10.0, 10.5, 11.2]));
        assert!(
            !agree(&[0.0, 0.0, 0.0]),
            "no completions is not a measurement"
        );
    }

    #[test]
    fn nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
