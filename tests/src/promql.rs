//! What a PromQL query reads: its metric names and the labels it matches or groups on, taken
//! from the query's syntax tree (promql-parser), so that deploy/'s dashboards, rules and
//! autoscaler queries can be checked against a real `/metrics` scrape.

use std::collections::BTreeSet;

use promql_parser::{
    label::Matchers,
    parser::{self, Expr, LabelModifier, VectorSelector},
    util::{ExprVisitor, walk_expr},
};

/// The metric names and label names one query uses.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QueryUse {
    pub metrics: BTreeSet<String>,
    /// Labels in selectors (`{task="vqa"}`), `by (…)` / `without (…)` and `on (…)` / `ignoring (…)`.
    pub labels: BTreeSet<String>,
}

/// Grafana's interval variables become a fixed range and other dashboard variables (`$instance`)
/// a match-anything regex, so that the query parses as Prometheus would receive it.
pub fn expand_grafana_variables(query: &str) -> String {
    query
        .replace("$__rate_interval", "5m")
        .replace("$__interval", "1m")
        .replace("$__range", "1h")
        .replace("$instance", ".*")
}

/// Parses `query` and lists what it reads.
pub fn query_use(query: &str) -> Result<QueryUse, String> {
    let expr = parser::parse(query).map_err(|e| format!("`{query}` does not parse: {e}"))?;
    let mut collector = Collector::default();
    // The collector never fails (its error type is uninhabited).
    let Ok(_) = walk_expr(&mut collector, &expr);
    Ok(collector.0)
}

#[derive(Default)]
struct Collector(QueryUse);

impl Collector {
    fn selector(&mut self, selector: &VectorSelector) {
        if let Some(name) = &selector.name {
            self.0.metrics.insert(name.clone());
        }
        self.matchers(&selector.matchers);
    }

    fn matchers(&mut self, matchers: &Matchers) {
        let all = matchers
            .matchers
            .iter()
            .chain(matchers.or_matchers.iter().flatten());
        for matcher in all {
            if matcher.name == "__name__" {
                self.0.metrics.insert(matcher.value.clone());
            } else {
                self.0.labels.insert(matcher.name.clone());
            }
        }
    }

    fn modifier(&mut self, modifier: Option<&LabelModifier>) {
        if let Some(LabelModifier::Include(labels) | LabelModifier::Exclude(labels)) = modifier {
            self.0.labels.extend(labels.labels.iter().cloned());
        }
    }
}

impl ExprVisitor for Collector {
    type Error = std::convert::Infallible;

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, Self::Error> {
        match expr {
            Expr::VectorSelector(selector) => self.selector(selector),
            Expr::MatrixSelector(matrix) => self.selector(&matrix.vs),
            Expr::Aggregate(aggregate) => self.modifier(aggregate.modifier.as_ref()),
            Expr::Binary(binary) => {
                self.modifier(binary.modifier.as_ref().and_then(|m| m.matching.as_ref()))
            }
            _ => {}
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_metrics_and_labels_in_nested_expressions() {
        let query = expand_grafana_variables(
            r#"histogram_quantile(0.99, sum by (task, le) (rate(mplug2_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval]))) / on (task) group_left max by (task) (up{job="x"})"#,
        );
        let used = query_use(&query).unwrap();
        assert_eq!(
            used.metrics,
            set(&["mplug2_request_duration_seconds_bucket", "up"])
        );
        assert_eq!(used.labels, set(&["instance", "job", "le", "task"]));
    }

    #[test]
    fn a_name_matcher_counts_as_a_metric() {
        let used = query_use(r#"{__name__="mplug2_ready", pod!=""}"#).unwrap();
        assert_eq!(used.metrics, set(&["mplug2_ready"]));
        assert_eq!(used.labels, set(&["pod"]));
    }

    #[test]
    fn a_broken_query_is_an_error_naming_it() {
        let error = query_use("sum(rate(x[5m])").unwrap_err();
        assert!(error.contains("sum(rate(x[5m])"), "{error}");
    }
}
