//! One 10-second window of the soak: the server's resident memory and queue depths at its end,
//! and what the requests answered in it did (counts by outcome, latency percentiles).

use std::{
    collections::BTreeMap,
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use mplug2_bench::{probe, window::percentile};
use serde::Serialize;

use super::{
    load::{Done, Log, Outcome},
    mix::{Behaviour, Mix},
};

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Latency {
    /// Percentiles of the successful normal requests among `done`.
    pub fn of<'a>(done: impl Iterator<Item = &'a Done>) -> Latency {
        let mut latencies: Vec<Duration> = done
            .filter(|d| d.behaviour == Behaviour::Normal && d.outcome == Outcome::Ok)
            .map(|d| d.latency)
            .collect();
        latencies.sort();
        let ms = |p| percentile(&latencies, p).as_secs_f64() * 1e3;
        Latency {
            count: latencies.len(),
            p50_ms: ms(50.0),
            p99_ms: ms(99.0),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Counts {
    pub ok: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub expired: usize,
}

impl Counts {
    pub fn of<'a>(done: impl Iterator<Item = &'a Done>) -> Counts {
        let mut counts = Counts::default();
        for d in done {
            match d.outcome {
                Outcome::Ok => counts.ok += 1,
                Outcome::Failed(_) => counts.failed += 1,
                Outcome::Cancelled => counts.cancelled += 1,
                Outcome::Expired => counts.expired += 1,
            }
        }
        counts
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Seconds since the open-loop load began, at the window's end.
    pub t_s: f64,
    pub rss_bytes: u64,
    /// `mplug2_queue_depth` summed over modules and models, and per module.
    pub queue_depth: f64,
    pub queue_depths: BTreeMap<String, f64>,
    /// Requests sent in the window.
    pub offered: usize,
    pub counts: Counts,
    pub latency: Latency,
    pub per_task: BTreeMap<String, Latency>,
}

/// Takes the window `[from, to)`'s sample; `offered_before` is the offered count at `from`.
pub async fn take(
    client: &reqwest::Client,
    base: &str,
    pid: u32,
    mix: &Mix,
    log: &Log,
    (start, from, to): (Instant, Instant, Instant),
    offered_before: usize,
) -> Sample {
    let done = log.between(from, to);
    let mut queue_depths = BTreeMap::new();
    if let Ok(scrape) = probe::scrape(client, base).await {
        for s in scrape
            .samples
            .iter()
            .filter(|s| s.metric == "mplug2_queue_depth")
        {
            let module = s.labels.get("module").unwrap_or("?").to_owned();
            *queue_depths.entry(module).or_insert(0.0) += gauge(&s.value);
        }
    }
    let mut per_task = BTreeMap::new();
    for item in &mix.items {
        let name = item.task.name();
        if !per_task.contains_key(name) {
            let of_task = done.iter().filter(|d| mix.items[d.item].task == item.task);
            per_task.insert(name.to_owned(), Latency::of(of_task));
        }
    }
    Sample {
        t_s: to.duration_since(start).as_secs_f64(),
        rss_bytes: probe::resident_bytes(pid).map_or(0, |(rss, _)| rss),
        queue_depth: queue_depths.values().sum(),
        queue_depths,
        offered: log
            .offered
            .load(Ordering::SeqCst)
            .saturating_sub(offered_before),
        counts: Counts::of(done.iter()),
        latency: Latency::of(done.iter()),
        per_task,
    }
}

fn gauge(value: &prometheus_parse::Value) -> f64 {
    match value {
        prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => *v,
        _ => 0.0,
    }
}
