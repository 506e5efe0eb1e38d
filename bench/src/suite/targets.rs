//! Issue 7's targets computed from one run's results, and the markdown report.

use std::fmt::Write;

use serde_json::{Value, json};

use super::num;

fn package<'a>(results: &'a Value, name: &str) -> Option<&'a Value> {
    results["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
}

fn closed<'a>(
    p: &'a Value,
    task: &str,
    protocol: &str,
    mode: &str,
    concurrency: u64,
) -> Option<&'a Value> {
    p["closed_loop"]
        .as_array()?
        .iter()
        .find(|x| {
            x["task"] == task
                && x["protocol"] == protocol
                && x["mode"] == mode
                && x["concurrency"].as_u64() == Some(concurrency)
        })
        .map(|x| &x["result"])
}

fn reference<'a>(p: &'a Value, task: &str, frames: u64, batch: u64) -> Option<&'a Value> {
    p["reference"]["points"].as_array()?.iter().find(|x| {
        x["task"] == task
            && x["frames"].as_u64() == Some(frames)
            && x["batch"].as_u64() == Some(batch)
    })
}

fn mfu(p: &Value, label: &str) -> Option<f64> {
    p["ort"]["modules"]
        .as_array()?
        .iter()
        .find(|m| m["label"] == label)
        .map(|m| num(m, "mfu"))
}

/// One target: the measured figure, the ratio it is judged by and the goal (`ratio ≥ goal`, or
/// `≤` when `at_most`).
fn target(name: &str, measured: String, ratio: Option<f64>, goal: f64, at_most: bool) -> Value {
    let met = ratio.map(|r| if at_most { r <= goal } else { r >= goal });
    json!({ "target": name, "measured": measured, "ratio": ratio, "goal": goal, "at_most": at_most, "met": met })
}

pub fn evaluate(results: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let base = package(results, "base").or_else(|| package(results, "demo"));
    let Some(base) = base else { return out };
    let name = base["name"].as_str().unwrap_or("?");
    for (task, label) in [("caption", "image caption"), ("vqa", "image QA")] {
        let ours = closed(base, task, "rest", "batching", 1).map(|r| num(r, "p50_ms") / 1e3);
        let theirs = reference(base, task, 1, 1).map(|r| num(r, "median_s"));
        let ratio = ours.zip(theirs).map(|(o, t)| t / o);
        out.push(target(
            &format!("{label}, concurrency 1, {name}: faster than PyTorch eager"),
            format!(
                "ours p50 {:.3} s, reference {:.3} s",
                ours.unwrap_or(f64::NAN),
                theirs.unwrap_or(f64::NAN)
            ),
            ratio,
            10.0,
            false,
        ));
    }
    if let Some(large) = package(results, "large") {
        let ours = num(&large["video_caption"], "median_s");
        let theirs = reference(large, "caption", 16, 1).map(|r| num(r, "median_s"));
        let ratio = theirs.map(|t| t / ours);
        out.push(target(
            "video caption (16 frames), concurrency 1, large: faster than PyTorch eager",
            format!(
                "ours {ours:.1} s (vision {:.1} s), reference {:.1} s",
                num(&large["video_caption"], "vision_s"),
                theirs.unwrap_or(f64::NAN)
            ),
            ratio,
            6.0,
            false,
        ));
    }
    for task in ["caption", "vqa"] {
        let ours = closed(base, task, "rest", "batching", 32).map(|r| num(r, "throughput"));
        let single = reference(base, task, 1, 1).map(|r| num(r, "requests_per_s"));
        out.push(target(
            &format!("{task} throughput at concurrency 32, {name}: × PyTorch eager one at a time"),
            format!(
                "ours {:.3} req/s, reference {:.3} req/s",
                ours.unwrap_or(f64::NAN),
                single.unwrap_or(f64::NAN)
            ),
            ours.zip(single).map(|(o, s)| o / s),
            20.0,
            false,
        ));
        let unbatched =
            closed(base, task, "rest", "max_batch_size=1", 32).map(|r| num(r, "throughput"));
        out.push(target(
            &format!(
                "{task} throughput at concurrency 32, {name}: × our server with max_batch_size=1"
            ),
            format!(
                "{:.3} vs {:.3} req/s",
                ours.unwrap_or(f64::NAN),
                unbatched.unwrap_or(f64::NAN)
            ),
            ours.zip(unbatched).map(|(o, u)| o / u),
            2.0,
            false,
        ));
    }
    let ours = closed(base, "embed_text", "rest", "batching", 32).map(|r| num(r, "throughput"));
    let unbatched =
        closed(base, "embed_text", "rest", "max_batch_size=1", 32).map(|r| num(r, "throughput"));
    out.push(target(
        &format!("text embeddings at concurrency 32, {name}: × our server with max_batch_size=1"),
        format!(
            "{:.1} vs {:.1} req/s",
            ours.unwrap_or(f64::NAN),
            unbatched.unwrap_or(f64::NAN)
        ),
        ours.zip(unbatched).map(|(o, u)| o / u),
        3.0,
        false,
    ));
    let overhead = |task: &str| {
        base["overhead"]
            .as_array()
            .and_then(|a| a.iter().find(|o| o["task"] == task))
            .cloned()
    };
    if let Some(o) = overhead("caption") {
        out.push(target(
            &format!("server overhead, caption, concurrency 1, {name}: share of the request outside module runs"),
            format!("{:.1} ms of {:.1} ms", num(&o, "overhead_ms"), num(&o, "mean_latency_ms")),
            Some(num(&o, "overhead_share") * 100.0),
            2.0,
            true,
        ));
    }
    if let Some(o) = overhead("embed_text") {
        out.push(target(
            &format!(
                "server overhead, text embedding, concurrency 1, {name}: ms outside module runs"
            ),
            format!(
                "{:.2} ms of {:.2} ms",
                num(&o, "overhead_ms"),
                num(&o, "mean_latency_ms")
            ),
            Some(num(&o, "overhead_ms")),
            1.0,
            true,
        ));
    }
    for (label, goal) in [("images, batch 8", 0.75), ("16-frame video", 0.60)] {
        let value = mfu(base, label);
        out.push(target(
            &format!(
                "vision MFU, {label}, {name} (peak {:.0} GFLOP/s measured)",
                num(&base["ort"]["peak"], "peak_gflops")
            ),
            value.map_or("not measured".into(), |v| format!("{:.1} %", v * 100.0)),
            value.map(|v| v * 100.0),
            goal * 100.0,
            false,
        ));
    }
    let cache = &base["cache"];
    out.push(target(
        &format!("five questions about one video / one question (cache), {name}"),
        format!(
            "{:.2} s vs {:.2} s, vision runs {}",
            num(cache, "five_s"),
            num(cache, "one_s"),
            num(cache, "vision_runs")
        ),
        cache.get("ratio").and_then(Value::as_f64),
        1.5,
        true,
    ));
    let memory = &base["memory"];
    out.push(target(
        &format!("resident memory / served weight bytes, {name}"),
        format!(
            "{:.2} GB RSS (peak {:.2}), weights {:.2} GB",
            num(memory, "rss_bytes") / 1e9,
            num(memory, "peak_rss_bytes") / 1e9,
            num(memory, "weight_bytes") / 1e9
        ),
        memory.get("ratio").and_then(Value::as_f64),
        1.2,
        true,
    ));
    out
}

pub fn markdown(results: &Value, targets: &[Value]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Suite run {} — {}\n",
        results["date"].as_str().unwrap_or(""),
        results["machine"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "{}\n",
        results["isa"]["summary"].as_str().unwrap_or("ISA: unknown")
    );
    let _ = writeln!(
        s,
        "Command: `{}` ({} threads per side, {:.0} s)\n",
        results["command"].as_str().unwrap_or(""),
        results["threads"],
        num(results, "duration_s")
    );
    let _ = writeln!(
        s,
        "### Targets\n\n| target | measured | ratio | goal | met |\n| --- | --- | ---: | ---: | --- |"
    );
    for t in targets {
        let ratio = t["ratio"]
            .as_f64()
            .map_or("–".into(), |r| format!("{r:.2}"));
        let goal = format!(
            "{} {}",
            if t["at_most"] == true { "≤" } else { "≥" },
            num(t, "goal")
        );
        let met = match t["met"].as_bool() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not measured",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {ratio} | {goal} | {met} |",
            t["target"].as_str().unwrap_or(""),
            t["measured"].as_str().unwrap_or("")
        );
    }
    for p in results["packages"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "\n### Package `{}` (load {} → {})\n",
            p["package"].as_str().unwrap_or(""),
            p["load_start"].as_str().unwrap_or(""),
            p["load_end"].as_str().unwrap_or("")
        );
        if let Some(points) = p["closed_loop"].as_array().filter(|a| !a.is_empty()) {
            let _ = writeln!(
                s,
                "Closed loop (cache off: every request runs its vision module):\n\n| task | protocol | mode | clients | req/s | p50 ms | p90 ms | p99 ms | errors | windows (req/s) | stable |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
            );
            for x in points {
                let r = &x["result"];
                let windows: Vec<String> = r["windows"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|w| format!("{:.2}", w.as_f64().unwrap_or(0.0)))
                    .collect();
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1}% | {} | {} |",
                    x["task"].as_str().unwrap_or(""),
                    x["protocol"].as_str().unwrap_or(""),
                    x["mode"].as_str().unwrap_or(""),
                    x["concurrency"],
                    num(r, "throughput"),
                    num(r, "p50_ms"),
                    num(r, "p90_ms"),
                    num(r, "p99_ms"),
                    num(r, "error_rate") * 100.0,
                    windows.join(" "),
                    if r["stable"] == true { "yes" } else { "**no**" }
                );
            }
        }
        if let Some(points) = p["open_loop"].as_array().filter(|a| !a.is_empty()) {
            let _ = writeln!(
                s,
                "\nOpen loop (Poisson arrivals):\n\n| task | rate /s | req/s | p50 ms | p90 ms | p99 ms | errors | stable |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
            );
            for x in points {
                let r = &x["result"];
                let _ = writeln!(
                    s,
                    "| {} | {:.2} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1}% | {} |",
                    x["task"].as_str().unwrap_or(""),
                    num(x, "rate"),
                    num(r, "throughput"),
                    num(r, "p50_ms"),
                    num(r, "p90_ms"),
                    num(r, "p99_ms"),
                    num(r, "error_rate") * 100.0,
                    if r["stable"] == true { "yes" } else { "**no**" }
                );
            }
        }
        if let Some(points) = p["reference"]["points"].as_array() {
            let _ = writeln!(
                s,
                "\nPyTorch eager reference ({} threads; official beam search: full prefix each step, memory tiled per beam):\n\n| task | frames | batch | median s | per request s | req/s | vision s | generated tokens | runs |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
                p["reference"]["threads"]
            );
            for r in points {
                let runs: Vec<String> = r["runs_s"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| format!("{:.2}", v.as_f64().unwrap_or(0.0)))
                    .collect();
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} | {} |",
                    r["task"].as_str().unwrap_or(""),
                    r["frames"],
                    r["batch"],
                    num(r, "median_s"),
                    num(r, "per_request_s"),
                    num(r, "requests_per_s"),
                    num(r, "vision_median_s"),
                    num(r, "generated_tokens"),
                    runs.join(" ")
                );
            }
        }
        if let Some(rows) = p["ort"]["modules"].as_array() {
            let peak = &p["ort"]["peak"];
            let gemms: Vec<String> = peak["gemms"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| format!("{}³ {:.0}", g["n"], num(g, "gflops")))
                .collect();
            let _ = writeln!(
                s,
                "\nModel FLOPs utilization (ONNX Runtime, the package's graphs, {} threads; peak {:.0} GFLOP/s = best fp32 MatMul: {}):\n\n| module | shape | GFLOP | median s | GFLOP/s | MFU |\n| --- | --- | ---: | ---: | ---: | ---: |",
                p["ort"]["threads"],
                num(peak, "peak_gflops"),
                gemms.join(", ")
            );
            for m in rows {
                let _ = writeln!(
                    s,
                    "| {} | {} | {:.2} | {:.4} | {:.1} | {:.1} % |",
                    m["module"].as_str().unwrap_or(""),
                    m["label"].as_str().unwrap_or(""),
                    num(m, "gflop"),
                    num(m, "median_s"),
                    num(m, "gflops"),
                    num(m, "mfu") * 100.0
                );
            }
            for profile in p["ort"]["profiles"].as_array().into_iter().flatten() {
                let ops: Vec<String> = profile["ops"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| {
                        format!(
                            "{} {:.0}%",
                            o["op"].as_str().unwrap_or(""),
                            num(o, "share") * 100.0
                        )
                    })
                    .collect();
                let _ = writeln!(
                    s,
                    "\nProfile of `{}` {}: kernels {:.2} s: {}",
                    profile["module"].as_str().unwrap_or(""),
                    profile["args"],
                    num(profile, "kernel_s"),
                    ops.join(", ")
                );
            }
        }
        for (key, label) in [
            ("overhead", "Server overhead at concurrency 1"),
            ("memory", "Memory"),
            ("cache", "Vision-feature cache"),
            ("video_caption", "Video caption"),
        ] {
            if !p[key].is_null() {
                let _ = writeln!(s, "\n{label}: `{}`", p[key]);
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_report_names_the_isa_and_int8_kernel() {
        let results = json!({
            "machine": "AMD EPYC, 2 cores",
            "isa": { "summary": "CPU flags: avx2; absent: avx512_vnni amx_int8. ONNX Runtime int8 GEMM: AVX2" },
            "date": "today", "command": "suite", "threads": 2, "duration_s": 1.0, "packages": [],
        });
        let report = super::markdown(&results, &[]);
        assert!(report.contains(
            "CPU flags: avx2; absent: avx512_vnni amx_int8. ONNX Runtime int8 GEMM: AVX2\n"
        ));
        let unknown = super::markdown(&json!({ "packages": [] }), &[]);
        assert!(unknown.contains("ISA: unknown"));
    }
}
