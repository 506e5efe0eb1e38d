//! deploy/ against the metrics the server really exports: start the real binary on the demo
//! package, send one request of every task, scrape `/metrics`, and check that every metric and
//! label used by every dashboard query, recording / alert rule and autoscaler query exists in
//! the scrape (histograms as their `_bucket` / `_sum` / `_count` series).

use std::collections::{BTreeMap, BTreeSet};

use mplug2_e2e_tests::{
    Server, ServerOptions,
    deploy_queries::DeployQueries,
    goldens::Goldens,
    metrics::scrape,
    promql::{QueryUse, expand_grafana_variables, query_use},
    rest::Rest,
};
use prometheus_parse::Value;
use serde_json::json;

/// Labels Prometheus adds to every scraped series (static config, or the Prometheus Operator's
/// ServiceMonitor on Kubernetes).
const TARGET_LABELS: [&str; 7] = [
    "instance",
    "job",
    "namespace",
    "pod",
    "service",
    "container",
    "endpoint",
];

/// Prometheus' own series for every target.
const PROMETHEUS_SERIES: [&str; 1] = ["up"];

/// Scraped series name → the label names seen on it.
type Exported = BTreeMap<String, BTreeSet<String>>;

#[tokio::test]
async fn every_metric_that_deploy_queries_is_exported_by_the_server() {
    let queries = DeployQueries::load().expect("deploy/ queries load");
    assert!(queries.dashboard.len() >= 15, "{:?}", queries.dashboard);
    assert!(queries.rules.len() >= 10, "{:?}", queries.rules);
    assert_eq!(queries.autoscaling.len(), 3, "{:?}", queries.autoscaling);
    assert_eq!(
        queries.hpa_custom_metrics, queries.adapter_serves,
        "the HPA's custom metrics must be the ones the prometheus-adapter rule serves"
    );

    let exported = exported_after_one_request_per_task().await;
    let mut problems = Vec::new();
    for query in queries.all() {
        let used = match query_use(&expand_grafana_variables(&query.expr)) {
            Ok(used) => used,
            Err(error) => {
                problems.push(format!("{}: {error}", query.origin));
                continue;
            }
        };
        for metric in &used.metrics {
            let known = exported.contains_key(metric)
                || queries.recorded.contains(metric)
                || PROMETHEUS_SERIES.contains(&metric.as_str());
            if !known {
                problems.push(format!(
                    "{}: metric {metric} is not exported (query: {})",
                    query.origin, query.expr
                ));
            }
        }
        for label in unknown_labels(&used, &exported) {
            problems.push(format!(
                "{}: label {label} is on none of its metrics (query: {})",
                query.origin, query.expr
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Labels of the query that none of the scraped metrics it reads carries. Queries that read a
/// recorded series are checked against every scraped label (the rule that records it is checked
/// itself).
fn unknown_labels<'a>(used: &'a QueryUse, exported: &Exported) -> Vec<&'a String> {
    let scraped: Vec<&BTreeSet<String>> = used
        .metrics
        .iter()
        .filter_map(|metric| exported.get(metric))
        .collect();
    let reads_only_scraped = scraped.len() == used.metrics.len();
    used.labels
        .iter()
        .filter(|label| !TARGET_LABELS.contains(&label.as_str()))
        .filter(|label| {
            let mut candidates: Box<dyn Iterator<Item = &BTreeSet<String>>> = if reads_only_scraped
            {
                Box::new(scraped.iter().copied())
            } else {
                Box::new(exported.values())
            };
            !candidates.any(|labels| labels.contains(*label))
        })
        .collect()
}

async fn exported_after_one_request_per_task() -> Exported {
    let server = Server::ready(ServerOptions::default()).await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let image = goldens.media("image_480x270");
    let video = goldens.media("frames_20");
    // The same image more than once: a feature cache, where there is one, sees a hit.
    let requests = [
        ("/v1/caption", image.json_body(json!({}))),
        ("/v1/caption", video.json_body(json!({}))),
        (
            "/v1/vqa",
            image.json_body(json!({ "question": "what is it?" })),
        ),
        (
            "/v1/embeddings",
            json!({ "input": ["a dog", serde_json::Value::Object(image.json_fields())] }),
        ),
        (
            "/v1/match",
            image.json_body(json!({ "texts": ["a dog", "a disc"] })),
        ),
        (
            "/v1/classify",
            image.json_body(json!({ "labels": ["dog", "disc"] })),
        ),
        ("/v1/vqa", image.json_body(json!({}))), // no question: a 400, counted by code
    ];
    for (path, body) in &requests {
        let (status, answer) = rest.post(path, body).await;
        let expected = if body.get("question").is_none() && *path == "/v1/vqa" {
            400
        } else {
            200
        };
        assert_eq!(status, expected, "{path}: {answer:?}");
    }
    let scraped = scrape(&rest).await;
    let mut exported = Exported::new();
    for sample in &scraped.scrape.samples {
        let labels: BTreeSet<String> = sample.labels.keys().cloned().collect();
        let mut add = |name: String, labels: BTreeSet<String>| {
            exported.entry(name).or_default().extend(labels);
        };
        match &sample.value {
            Value::Histogram(_) => {
                let mut with_le = labels.clone();
                with_le.insert("le".into());
                add(format!("{}_bucket", sample.metric), with_le);
                add(format!("{}_sum", sample.metric), labels.clone());
                add(format!("{}_count", sample.metric), labels);
            }
            Value::Summary(_) => {
                let mut with_quantile = labels.clone();
                with_quantile.insert("quantile".into());
                add(sample.metric.clone(), with_quantile);
                add(format!("{}_sum", sample.metric), labels.clone());
                add(format!("{}_count", sample.metric), labels);
            }
            _ => add(sample.metric.clone(), labels),
        }
    }
    // prometheus-parse folds `_sum` / `_count` into the histogram: make sure they really are in
    // the text too, as Prometheus would store them.
    for name in exported.keys() {
        assert!(
            scraped
                .text
                .lines()
                .any(|line| line.starts_with(&format!("{name}{{"))
                    || line.starts_with(&format!("{name} "))),
            "{name} is not a series of the text exposition"
        );
    }
    exported
}
