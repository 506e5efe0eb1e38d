//! Every PromQL query that deploy/ ships: the Grafana dashboards' panels and variables, the
//! Prometheus recording and alert rules, the KEDA trigger and the prometheus-adapter rule, each
//! with where it comes from.

use std::{collections::BTreeSet, path::Path};

use serde_json::Value as Json;
use serde_yaml_ng::Value as Yaml;

use crate::workspace_root;

/// One query and the file (and panel, rule or trigger) it comes from.
#[derive(Debug, Clone)]
pub struct Query {
    pub origin: String,
    pub expr: String,
}

/// What deploy/ asks of the metrics.
#[derive(Debug, Default)]
pub struct DeployQueries {
    pub dashboard: Vec<Query>,
    pub rules: Vec<Query>,
    pub autoscaling: Vec<Query>,
    /// Series the recording rules create (not scraped, but valid in later queries).
    pub recorded: BTreeSet<String>,
    /// Custom metrics an HPA asks the metrics API for, and those the adapter rule serves.
    pub hpa_custom_metrics: BTreeSet<String>,
    pub adapter_serves: BTreeSet<String>,
}

impl DeployQueries {
    pub fn load() -> Result<DeployQueries, String> {
        let deploy = workspace_root().join("deploy");
        let mut queries = DeployQueries::default();
        for file in files_in(&deploy.join("grafana/dashboards"), "json")? {
            let dashboard: Json = serde_json::from_str(&read(&file)?)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            dashboard_queries(&name_of(&file), &dashboard, &mut queries.dashboard);
        }
        for file in files_in(&deploy.join("prometheus/rules"), "yml")? {
            queries.rule_file(&file)?;
        }
        let components = deploy.join("kustomize/components");
        queries.keda(&yaml(&components.join("keda/scaledobject.yaml"))?);
        queries.adapter(&yaml(
            &components.join("prometheus-adapter/adapter-rules.yaml"),
        )?);
        let hpa = yaml(&components.join("prometheus-adapter/hpa-inflight.yaml"))?;
        for metric in seq(&hpa["spec"]["metrics"]) {
            if let Some(name) = metric["pods"]["metric"]["name"].as_str() {
                queries.hpa_custom_metrics.insert(name.to_owned());
            }
        }
        Ok(queries)
    }

    pub fn all(&self) -> impl Iterator<Item = &Query> {
        self.dashboard
            .iter()
            .chain(&self.rules)
            .chain(&self.autoscaling)
    }

    fn rule_file(&mut self, file: &Path) -> Result<(), String> {
        let rules = yaml(file)?;
        for group in seq(&rules["groups"]) {
            for rule in seq(&group["rules"]) {
                let name = rule["record"].as_str().or(rule["alert"].as_str());
                let expr = rule["expr"].as_str();
                let (Some(name), Some(expr)) = (name, expr) else {
                    return Err(format!("{}: a rule without name or expr", file.display()));
                };
                if let Some(record) = rule["record"].as_str() {
                    self.recorded.insert(record.to_owned());
                }
                self.rules.push(Query {
                    origin: format!("{} rule {name}", name_of(file)),
                    expr: expr.to_owned(),
                });
            }
        }
        Ok(())
    }

    fn keda(&mut self, scaled_object: &Yaml) {
        for trigger in seq(&scaled_object["spec"]["triggers"]) {
            if trigger["type"].as_str() == Some("prometheus")
                && let Some(query) = trigger["metadata"]["query"].as_str()
            {
                self.autoscaling.push(Query {
                    origin: "KEDA ScaledObject prometheus trigger".into(),
                    expr: query.to_owned(),
                });
            }
        }
    }

    /// prometheus-adapter rules: the series query as it is, the metrics query with its template
    /// filled in as the adapter would for one pod.
    fn adapter(&mut self, values: &Yaml) {
        for rule in seq(&values["rules"]["custom"]) {
            let series = rule["seriesQuery"].as_str().unwrap_or_default();
            let metric = series.split('{').next().unwrap_or_default().trim();
            self.autoscaling.push(Query {
                origin: "prometheus-adapter seriesQuery".into(),
                expr: series.to_owned(),
            });
            if let Some(template) = rule["metricsQuery"].as_str() {
                self.autoscaling.push(Query {
                    origin: "prometheus-adapter metricsQuery".into(),
                    expr: template
                        .replace("<<.Series>>", metric)
                        .replace("<<.LabelMatchers>>", r#"namespace="default",pod="p""#)
                        .replace("<<.GroupBy>>", "pod"),
                });
            }
            if let Some(served) = rule["name"]["as"].as_str() {
                self.adapter_serves.insert(served.to_owned());
            }
        }
    }
}

/// Panel targets (rows' nested panels too) and `label_values(…)` variables.
fn dashboard_queries(file: &str, dashboard: &Json, out: &mut Vec<Query>) {
    fn panels(file: &str, list: &Json, out: &mut Vec<Query>) {
        for panel in list.as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or("untitled");
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    out.push(Query {
                        origin: format!("{file} panel \"{title}\""),
                        expr: expr.to_owned(),
                    });
                }
            }
            panels(file, &panel["panels"], out);
        }
    }
    panels(file, &dashboard["panels"], out);
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let query = variable["query"]["query"]
            .as_str()
            .or(variable["query"].as_str());
        let selector = query.and_then(|q| {
            q.trim()
                .strip_prefix("label_values(")?
                .strip_suffix(')')?
                .rsplit_once(',')
        });
        if let Some((selector, label)) = selector {
            out.push(Query {
                origin: format!("{file} variable {}", variable["name"]),
                // The variable's label must exist on the selected series: ask for it by name.
                expr: format!("count by ({}) ({})", label.trim(), selector.trim()),
            });
        }
    }
}

fn files_in(dir: &Path, extension: &str) -> Result<Vec<std::path::PathBuf>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    Ok(files)
}

fn read(file: &Path) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))
}

fn yaml(file: &Path) -> Result<Yaml, String> {
    serde_yaml_ng::from_str(&read(file)?).map_err(|e| format!("{}: {e}", file.display()))
}

fn seq(value: &Yaml) -> impl Iterator<Item = &Yaml> {
    value.as_sequence().into_iter().flatten()
}

fn name_of(file: &Path) -> String {
    file.strip_prefix(workspace_root())
        .unwrap_or(file)
        .display()
        .to_string()
}
