//! What the server says about itself during a run: Prometheus counters (time inside the modules,
//! vision-cache lookups) and its resident memory.

use std::path::Path;

use prometheus_parse::{Scrape, Value};

pub async fn scrape(client: &reqwest::Client, base: &str) -> Result<Scrape, String> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).map_err(|e| e.to_string())
}

/// Sum of a metric's samples whose labels include `labels` (histograms: their `_sum`/`_count`
/// series are separate names in the text format and parsed as such).
pub fn total(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(h) => h.iter().map(|b| b.count).fold(0.0, f64::max),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

/// Seconds spent inside module executions (the ONNX Runtime call plus the runner's padding and,
/// for the decoder, beam-search bookkeeping), all modules.
pub fn module_seconds(scrape: &Scrape) -> f64 {
    total(scrape, "mplug2_module_duration_seconds_sum", &[])
}

/// Resident and peak resident memory of a process, in bytes (Linux /proc).
pub fn resident_bytes(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Bytes of the weights the server loads: every graph of the package (with its external data)
/// except `decoder_full`, the parity reference the server never loads.
pub fn served_weight_bytes(package: &Path) -> u64 {
    std::fs::read_dir(package)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name.ends_with(".onnx") || name.ends_with(".onnx.data"))
                        && !name.starts_with("decoder_full")
                })
                .filter_map(|e| e.metadata().ok().map(|m| m.len()))
                .sum()
        })
        .unwrap_or(0)
}
