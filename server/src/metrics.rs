//! Prometheus metrics (ARCHITECTURE.md §6 names; durations in seconds) and their text encoding.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Which protocol a request came over (the `protocol` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Grpc,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
        }
    }
}

/// Every metric the server exports, registered in its own registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Finished requests by task (vqa, caption, embeddings, match, classify), protocol (http,
    /// grpc) and code (`ok` or the error type).
    pub requests_total: IntCounterVec,
    pub request_duration_seconds: HistogramVec,
    /// Time an item waited in a module's queue before its batch started.
    pub queue_duration_seconds: HistogramVec,
    /// Time one batch took on the module (decoder: one step, or the cross K/V projection of
    /// the requests joining the steps).
    pub module_duration_seconds: HistogramVec,
    /// Items in one batch (requests in one decoder step).
    pub batch_size: HistogramVec,
    pub queue_depth: IntGaugeVec,
    pub inflight_requests: IntGauge,
    pub module_executions_total: IntCounterVec,
    pub module_items_total: IntCounterVec,
    pub generated_tokens_total: IntCounterVec,
    /// Streamed answers: time from arrival to the first text sent.
    pub time_to_first_token_seconds: HistogramVec,
    /// Items removed from a queue before running (decoder: also between two steps): their
    /// caller left, or their deadline passed.
    pub dropped_items_total: IntCounterVec,
    /// Failed batches run again in halves to isolate a bad item.
    pub batch_splits_total: IntCounterVec,
    /// Time spent decoding and resizing media before the vision encoder.
    pub preprocess_duration_seconds: HistogramVec,
    /// 1 once every module is loaded and warmed, 0 before and while draining.
    pub ready: IntGauge,
    /// Always 1; the labels say which model, provider and version serve.
    pub info: IntGaugeVec,
    /// Vision-feature cache lookups by result (hit: no vision run; miss: it ran).
    pub vision_cache_lookups_total: IntCounterVec,
    /// Bytes of vision embeddings held by the cache, and its bound.
    pub vision_cache_bytes: IntGaugeVec,
    pub vision_cache_capacity_bytes: IntGaugeVec,
    /// Lookups of the decoder's cross K/V of vision embeddings (hit: not projected again).
    pub cross_kv_cache_lookups_total: IntCounterVec,
    /// Bytes of cross K/V held by that cache, and its bound.
    pub cross_kv_cache_bytes: IntGaugeVec,
    pub cross_kv_cache_capacity_bytes: IntGaugeVec,
}

const DURATION_BUCKETS: [f64; 17] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 60.0,
    120.0,
];
const BATCH_BUCKETS: [f64; 12] = [
    1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 64.0, 128.0,
];

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let counter =
            |name: &str, help: &str, labels: &[&str]| -> Result<IntCounterVec, prometheus::Error> {
                let metric = IntCounterVec::new(Opts::new(name, help), labels)?;
                registry.register(Box::new(metric.clone()))?;
                Ok(metric)
            };
        let histogram = |name: &str, help: &str, labels: &[&str], buckets: &[f64]| {
            let metric = HistogramVec::new(
                HistogramOpts::new(name, help).buckets(buckets.to_vec()),
                labels,
            )?;
            registry.register(Box::new(metric.clone()))?;
            Ok::<_, prometheus::Error>(metric)
        };
        let gauge = |name: &str, help: &str| {
            let metric = IntGauge::new(name, help)?;
            registry.register(Box::new(metric.clone()))?;
            Ok::<_, prometheus::Error>(metric)
        };
        let model = |labels: &[&'static str]| -> Vec<&'static str> {
            labels.iter().copied().chain(["model"]).collect()
        };
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntGaugeVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(metric.clone()))?;
            Ok::<_, prometheus::Error>(metric)
        };
        let metrics = Metrics {
            requests_total: counter(
                "mplug2_requests_total",
                "Finished requests by task, protocol and code (ok or the error type).",
                &model(&["task", "protocol", "code"]),
            )?,
            request_duration_seconds: histogram(
                "mplug2_request_duration_seconds",
                "Time from admission to answer of successful requests.",
                &model(&["task"]),
                &DURATION_BUCKETS,
            )?,
            queue_duration_seconds: histogram(
                "mplug2_queue_duration_seconds",
                "Time an item waited in a module queue before its batch started.",
                &model(&["module"]),
                &DURATION_BUCKETS,
            )?,
            module_duration_seconds: histogram(
                "mplug2_module_duration_seconds",
                "Time of one module execution: one batch (decoder: one step, or the cross K/V projection of joining requests).",
                &model(&["module"]),
                &DURATION_BUCKETS,
            )?,
            batch_size: histogram(
                "mplug2_batch_size",
                "Items per module execution (requests per step for the decoder).",
                &model(&["module"]),
                &BATCH_BUCKETS,
            )?,
            queue_depth: gauge_vec(
                "mplug2_queue_depth",
                "Items waiting in a module queue.",
                &["module", "model"],
            )?,
            inflight_requests: gauge(
                "mplug2_inflight_requests",
                "Requests admitted and not yet answered.",
            )?,
            module_executions_total: counter(
                "mplug2_module_executions_total",
                "Module executions (batches; steps for the decoder).",
                &model(&["module"]),
            )?,
            module_items_total: counter(
                "mplug2_module_items_total",
                "Items run by a module; divided by executions it is the mean batch size.",
                &model(&["module"]),
            )?,
            generated_tokens_total: counter(
                "mplug2_generated_tokens_total",
                "Tokens of the returned answers and captions.",
                &model(&["task"]),
            )?,
            time_to_first_token_seconds: histogram(
                "mplug2_time_to_first_token_seconds",
                "Streamed answers: time from the request's arrival to its first text.",
                &model(&["task"]),
                &DURATION_BUCKETS,
            )?,
            dropped_items_total: counter(
                "mplug2_dropped_items_total",
                "Work dropped before running, or between decoder steps, by reason (cancelled, deadline).",
                &model(&["module", "reason"]),
            )?,
            batch_splits_total: counter(
                "mplug2_batch_splits_total",
                "Failed batches run again as two halves to isolate a bad item.",
                &model(&["module"]),
            )?,
            preprocess_duration_seconds: histogram(
                "mplug2_preprocess_duration_seconds",
                "Time to decode, sample, resize and normalise one medium.",
                &model(&["media"]),
                &DURATION_BUCKETS,
            )?,
            ready: gauge(
                "mplug2_ready",
                "1 when every module is loaded and warmed and the server is not draining.",
            )?,
            info: gauge_vec(
                "mplug2_info",
                "Constant 1; labels name the model, the execution provider in use and the server version.",
                &["model", "provider", "version"],
            )?,
            vision_cache_lookups_total: counter(
                "mplug2_vision_cache_lookups_total",
                "Vision-feature cache lookups by result: hit (features reused or shared) or miss (the vision module ran).",
                &model(&["result"]),
            )?,
            vision_cache_bytes: gauge_vec(
                "mplug2_vision_cache_bytes",
                "Bytes of vision embeddings held by the vision-feature cache.",
                &["model"],
            )?,
            vision_cache_capacity_bytes: gauge_vec(
                "mplug2_vision_cache_capacity_bytes",
                "Bound of the vision-feature cache in bytes (0: disabled).",
                &["model"],
            )?,
            cross_kv_cache_lookups_total: counter(
                "mplug2_cross_kv_cache_lookups_total",
                "Lookups of the decoder's cross-attention K/V of vision embeddings by result: hit (reused) or miss (projected).",
                &model(&["result"]),
            )?,
            cross_kv_cache_bytes: gauge_vec(
                "mplug2_cross_kv_cache_bytes",
                "Bytes of decoder cross-attention K/V of vision embeddings held for reuse.",
                &["model"],
            )?,
            cross_kv_cache_capacity_bytes: gauge_vec(
                "mplug2_cross_kv_cache_capacity_bytes",
                "Bound of the decoder's cross K/V cache in bytes (0: disabled).",
                &["model"],
            )?,
            registry,
        };
        Ok(metrics)
    }

    /// Creates a loaded model's per-task series of successful requests, so that every contract
    /// metric is exposed (at zero) before its first request. `tasks`: every `task` label;
    /// `generating`: those that count generated tokens too.
    pub fn expose_model(&self, model: &str, tasks: &[&str], generating: &[&str]) {
        for &task in tasks {
            for protocol in [Protocol::Http, Protocol::Grpc] {
                self.requests_total
                    .with_label_values(&[task, protocol.name(), "ok", model]);
            }
            self.request_duration_seconds
                .with_label_values(&[task, model]);
        }
        for &task in generating {
            self.generated_tokens_total
                .with_label_values(&[task, model]);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_contract_names() {
        let metrics = Metrics::new().unwrap();
        metrics.expose_model("demo", &["vqa"], &["vqa"]);
        metrics
            .requests_total
            .with_label_values(&["vqa", "http", "ok", "demo"])
            .inc();
        metrics
            .batch_size
            .with_label_values(&["vision", "demo"])
            .observe(3.0);
        let text = metrics.render().unwrap();
        assert!(
            text.contains(
                "mplug2_requests_total{code=\"ok\",model=\"demo\",protocol=\"http\",task=\"vqa\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("mplug2_batch_size_bucket{model=\"demo\",module=\"vision\",le=\"4\"} 1"),
            "{text}"
        );
        assert!(text.contains("# TYPE mplug2_inflight_requests gauge"));
    }
}
