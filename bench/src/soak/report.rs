//! The soak report in markdown, from the JSON the run writes beside it.

use std::fmt::Write;

use serde_json::Value;

const MIB: f64 = 1024.0 * 1024.0;

fn f(value: &Value, key: &str) -> f64 {
    value.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn counts(c: &Value) -> String {
    format!(
        "{} | {} | {} | {}",
        c["ok"], c["failed"], c["cancelled"], c["expired"]
    )
}

pub fn markdown(report: &Value) -> String {
    let mut s = String::new();
    let verdict = &report["verdict"];
    let _ = writeln!(
        s,
        "## Soak run {} — {}\n",
        report["date"].as_str().unwrap_or(""),
        report["machine"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "Command: `{}`; package `{}`; {:.1} min of open-loop load at {:.2} req/s ({}); \
         windows of {} s; warm-up: the first {:.0}%.\n",
        report["command"].as_str().unwrap_or(""),
        report["package"].as_str().unwrap_or(""),
        f(report, "minutes"),
        f(report, "rate"),
        report["rate_source"].as_str().unwrap_or(""),
        report["sample_s"],
        f(&report["bounds"], "warmup_fraction") * 100.0
    );
    let pass = |c: &Value| {
        if c["passed"] == true {
            "pass"
        } else {
            "**FAIL**"
        }
    };
    let _ = writeln!(
        s,
        "**Verdict: {}**\n\n- memory flat: {} — {}\n- p99 not drifting: {} — {}\n- every \
         non-cancelled request answered: {} — {}\n",
        if verdict["passed"] == true {
            "PASSED"
        } else {
            "FAILED"
        },
        pass(&verdict["memory"]),
        verdict["memory"]["detail"].as_str().unwrap_or(""),
        pass(&verdict["p99"]),
        verdict["p99"]["detail"].as_str().unwrap_or(""),
        pass(&verdict["failures"]),
        verdict["failures"]["detail"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "Requests offered {}, answered or given up {}, unanswered at the end {}.\n",
        report["offered"], report["finished"], report["unanswered"]
    );
    let _ = writeln!(
        s,
        "| client behaviour | ok | failed | cancelled | expired |\n| --- | ---: | ---: | ---: | ---: |"
    );
    if let Some(behaviours) = report["behaviours"].as_object() {
        for (name, c) in behaviours {
            let _ = writeln!(s, "| {name} | {} |", counts(c));
        }
    }
    let _ = writeln!(
        s,
        "\n| request | weight | ok | failed | cancelled | expired | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for item in report["items"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.0} | {:.0} |",
            item["name"].as_str().unwrap_or(""),
            item["weight"],
            counts(&item["counts"]),
            f(&item["latency"], "p50_ms"),
            f(&item["latency"], "p99_ms")
        );
    }
    let _ = writeln!(
        s,
        "\n![memory, latency and queue depth over the run](soak.svg)"
    );
    let samples = report["samples"].as_array().cloned().unwrap_or_default();
    let tasks: Vec<String> = samples
        .first()
        .and_then(|s| s["per_task"].as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "\nWindows (latency of successful normal requests, ms as p50/p99):\n\n| t s | RSS MiB | queue | offered | ok | failed | cancelled | expired | all | {} |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |{}",
        tasks.join(" | "),
        " ---: |".repeat(tasks.len())
    );
    // A window without an answer of a task has no percentile: "–".
    let pair = |l: &Value| match l["count"].as_u64() {
        Some(0) => "–".to_owned(),
        _ => format!("{:.0}/{:.0}", f(l, "p50_ms"), f(l, "p99_ms")),
    };
    for w in &samples {
        let per_task: Vec<String> = tasks.iter().map(|t| pair(&w["per_task"][t])).collect();
        let _ = writeln!(
            s,
            "| {:.0} | {:.1} | {} | {} | {} | {} | {} |",
            f(w, "t_s"),
            f(w, "rss_bytes") / MIB,
            w["queue_depth"],
            w["offered"],
            counts(&w["counts"]),
            pair(&w["latency"]),
            per_task.join(" | ")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_report_states_the_verdict_and_every_window() {
        let check = |passed| json!({ "passed": passed, "detail": "d" });
        let window = json!({
            "t_s": 10.0, "rss_bytes": 1048576.0, "queue_depth": 2.0, "offered": 5,
            "counts": { "ok": 4, "failed": 0, "cancelled": 1, "expired": 0 },
            "latency": { "p50_ms": 10.0, "p99_ms": 20.0 },
            "per_task": {
                "caption": { "count": 3, "p50_ms": 30.0, "p99_ms": 40.0 },
                "vqa": { "count": 0, "p50_ms": 0.0, "p99_ms": 0.0 },
            },
        });
        let report = json!({
            "verdict": { "passed": false, "memory": check(true), "p99": check(false), "failures": check(true) },
            "bounds": { "warmup_fraction": 0.2 }, "samples": [window],
        });
        let text = super::markdown(&report);
        assert!(text.contains("**Verdict: FAILED**"));
        assert!(text.contains("p99 not drifting: **FAIL**"));
        assert!(text.contains("| 10 | 1.0 | 2.0 | 5 | 4 | 0 | 1 | 0 | 10/20 | 30/40 | – |"));
    }
}
