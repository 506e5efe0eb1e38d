//! Issue 7's and issue 13's (int8) targets computed from one run's results, and the markdown report.

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
        out.push(at_one_client(base, base, task, label, 10.0));
    }
    if let Some(large) = package(results, "large") {
        out.push(video_caption(large, large, 6.0));
    }
    for task in ["caption", "vqa"] {
        out.extend(throughput_at_32(base, base, task));
    }
    out.push(text_embeddings_at_32(base));
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
    out.push(memory_after_load(base));
    out.extend(int8_targets(results));
    out
}

/// Issue 13's int8 targets: the int8 packages against the PyTorch eager reference of the fp32
/// package they were quantized from (same weights), against our own server with
/// `max_batch_size=1` on the same int8 package, and the int8 vision graph against the fp32 one.
fn int8_targets(results: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let fp32_of = |p: &Value| p["int8_of"].as_str().and_then(|n| package(results, n));
    let base = package(results, "base-int8").or_else(|| package(results, "demo-int8"));
    if let Some((int8, fp32)) = base.and_then(|p| Some((p, fp32_of(p)?))) {
        for (task, label) in [("caption", "int8 image caption"), ("vqa", "int8 image QA")] {
            out.push(at_one_client(int8, fp32, task, label, 10.0));
        }
    }
    let large = package(results, "large-int8");
    if let Some((int8, fp32)) = large.and_then(|p| Some((p, fp32_of(p)?))) {
        out.push(video_caption(int8, fp32, 12.0));
    }
    if let Some((int8, fp32)) = base.and_then(|p| Some((p, fp32_of(p)?))) {
        out.extend(throughput_at_32(int8, fp32, "caption"));
        out.push(text_embeddings_at_32(int8));
        out.push(int8_vision(int8));
        out.push(memory_after_load(int8));
    }
    out
}

/// Caption or VQA of one image at one client: our p50 against the eager reference's median.
fn at_one_client(ours: &Value, fp32: &Value, task: &str, label: &str, goal: f64) -> Value {
    let name = ours["name"].as_str().unwrap_or("?");
    let latency = closed(ours, task, "rest", "batching", 1).map(|r| num(r, "p50_ms") / 1e3);
    let theirs = reference(fp32, task, 1, 1).map(|r| num(r, "median_s"));
    target(
        &format!("{label}, concurrency 1, {name}: faster than PyTorch eager"),
        format!(
            "ours p50 {:.3} s, reference {:.3} s",
            latency.unwrap_or(f64::NAN),
            theirs.unwrap_or(f64::NAN)
        ),
        latency.zip(theirs).map(|(o, t)| t / o),
        goal,
        false,
    )
}

/// One 16-frame video caption at one client against the eager reference's.
fn video_caption(ours: &Value, fp32: &Value, goal: f64) -> Value {
    let name = ours["name"].as_str().unwrap_or("?");
    let measured = num(&ours["video_caption"], "median_s");
    let theirs = reference(fp32, "caption", 16, 1).map(|r| num(r, "median_s"));
    target(
        &format!("video caption (16 frames), concurrency 1, {name}: faster than PyTorch eager"),
        format!(
            "ours {measured:.1} s (vision {:.1} s), reference {:.1} s",
            num(&ours["video_caption"], "vision_s"),
            theirs.unwrap_or(f64::NAN)
        ),
        theirs.map(|t| t / measured),
        goal,
        false,
    )
}

/// Throughput at 32 clients against the eager reference one request at a time, and against our
/// own server with `max_batch_size=1` on the same package.
fn throughput_at_32(ours: &Value, fp32: &Value, task: &str) -> [Value; 2] {
    let name = ours["name"].as_str().unwrap_or("?");
    let batched = closed(ours, task, "rest", "batching", 32).map(|r| num(r, "throughput"));
    let single = reference(fp32, task, 1, 1).map(|r| num(r, "requests_per_s"));
    [
        target(
            &format!("{task} throughput at concurrency 32, {name}: × PyTorch eager one at a time"),
            format!(
                "ours {:.3} req/s, reference {:.3} req/s",
                batched.unwrap_or(f64::NAN),
                single.unwrap_or(f64::NAN)
            ),
            batched.zip(single).map(|(o, s)| o / s),
            20.0,
            false,
        ),
        against_unbatched(ours, task, &format!("{task} throughput"), 2.0, 3),
    ]
}

fn text_embeddings_at_32(ours: &Value) -> Value {
    against_unbatched(ours, "embed_text", "text embeddings", 3.0, 1)
}

/// Throughput at 32 clients with batching on against `max_batch_size=1`, same package; the
/// figures printed with `decimals` places.
fn against_unbatched(ours: &Value, task: &str, label: &str, goal: f64, decimals: usize) -> Value {
    let name = ours["name"].as_str().unwrap_or("?");
    let rate = |mode| closed(ours, task, "rest", mode, 32).map(|r| num(r, "throughput"));
    let (batched, unbatched) = (rate("batching"), rate("max_batch_size=1"));
    target(
        &format!("{label} at concurrency 32, {name}: × our server with max_batch_size=1"),
        format!(
            "{:.decimals$} vs {:.decimals$} req/s",
            batched.unwrap_or(f64::NAN),
            unbatched.unwrap_or(f64::NAN)
        ),
        batched.zip(unbatched).map(|(o, u)| o / u),
        goal,
        false,
    )
}

/// The int8 vision graph at batch 8 against the fp32 one, timed back to back in one process.
fn int8_vision(int8: &Value) -> Value {
    let name = int8["name"].as_str().unwrap_or("?");
    let row = int8["int8_speed"]["modules"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["module"] == "vision"));
    target(
        &format!("int8 vision encoder, images at batch 8, {name}: × the fp32 vision encoder"),
        row.map_or("not measured".into(), |r| {
            format!(
                "fp32 {:.3} s, int8 {:.3} s",
                num(r, "fp32_s"),
                num(r, "int8_s")
            )
        }),
        row.map(|r| num(r, "speedup")),
        3.0,
        false,
    )
}

/// Resident memory after the closed-loop load points (idle 2.5 s, past the server's idle trim)
/// against the bytes of the served graphs.
fn memory_after_load(ours: &Value) -> Value {
    let name = ours["name"].as_str().unwrap_or("?");
    let (ready, after) = (&ours["memory"], &ours["memory_after_load"]);
    target(
        &format!("resident memory after the load points / served weight bytes, {name}"),
        format!(
            "{:.2} GB RSS after load (ready {:.2}, as the load ended {:.2}, peak {:.2}), weights {:.2} GB",
            num(after, "rss_bytes") / 1e9,
            num(ready, "rss_bytes") / 1e9,
            num(&ours["memory_at_load_end"], "rss_bytes") / 1e9,
            num(after, "peak_rss_bytes") / 1e9,
            num(after, "weight_bytes") / 1e9
        ),
        after.get("ratio").and_then(Value::as_f64),
        1.2,
        true,
    )
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
        if let Some(rows) = p["int8_speed"]["modules"].as_array() {
            let _ = writeln!(
                s,
                "\nint8 against fp32 graphs, back to back in ONNX Runtime ({} threads; `{}`):\n\n| module | shape | fp32 s | int8 s | int8 speed-up |\n| --- | --- | ---: | ---: | ---: |",
                p["int8_speed"]["threads"],
                p["int8_speed"]["machine"].as_str().unwrap_or("")
            );
            for r in rows {
                let _ = writeln!(
                    s,
                    "| {} | {} | {:.4} | {:.4} | {:.2}× |",
                    r["module"].as_str().unwrap_or(""),
                    r["label"].as_str().unwrap_or(""),
                    num(r, "fp32_s"),
                    num(r, "int8_s"),
                    num(r, "speedup")
                );
            }
        }
        for (key, label) in [
            ("overhead", "Server overhead at concurrency 1"),
            ("memory", "Memory when ready"),
            ("memory_at_load_end", "Memory as the closed-loop points end"),
            (
                "memory_after_load",
                "Memory after the closed-loop points, idle 2.5 s",
            ),
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

    /// A package's results with the given closed-loop points (task, mode, clients, p50 ms, req/s).
    fn package(name: &str, points: &[(&str, &str, u64, f64, f64)]) -> serde_json::Value {
        let closed: Vec<_> = points
            .iter()
            .map(|&(task, mode, clients, p50, rate)| {
                json!({ "task": task, "protocol": "rest", "mode": mode, "concurrency": clients,
                        "result": { "p50_ms": p50, "throughput": rate } })
            })
            .collect();
        json!({ "name": name, "closed_loop": closed })
    }

    fn find<'a>(targets: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
        targets
            .iter()
            .find(|t| t["target"].as_str().is_some_and(|n| n.starts_with(name)))
            .unwrap_or_else(|| panic!("no target {name} in {targets:?}"))
    }

    #[test]
    fn int8_targets_are_judged_against_the_fp32_packages_reference() {
        let mut base = package("base", &[]);
        base["reference"] = json!({ "points": [
            { "task": "caption", "frames": 1, "batch": 1, "median_s": 6.0, "requests_per_s": 0.16 },
            { "task": "vqa", "frames": 1, "batch": 1, "median_s": 3.0, "requests_per_s": 0.3 },
        ]});
        let mut int8 = package(
            "base-int8",
            &[
                ("caption", "batching", 1, 500.0, 2.0),
                ("vqa", "batching", 1, 400.0, 2.5),
                ("caption", "batching", 32, 5000.0, 4.0),
                ("caption", "max_batch_size=1", 32, 9000.0, 1.6),
                ("embed_text", "batching", 32, 10.0, 300.0),
                ("embed_text", "max_batch_size=1", 32, 10.0, 100.0),
            ],
        );
        int8["int8_of"] = json!("base");
        int8["int8_speed"] = json!({ "modules": [
            { "module": "vision", "label": "images, batch 8", "fp32_s": 2.0, "int8_s": 1.0, "speedup": 2.0 },
        ]});
        int8["memory_after_load"] =
            json!({ "rss_bytes": 1.1e9, "weight_bytes": 1.0e9, "ratio": 1.1 });
        let targets = super::int8_targets(&json!({ "packages": [base, int8] }));
        let caption = find(&targets, "int8 image caption, concurrency 1, base-int8");
        assert_eq!(caption["ratio"], json!(12.0));
        assert_eq!(caption["met"], json!(true));
        assert_eq!(find(&targets, "int8 image QA")["ratio"], json!(7.5));
        assert_eq!(find(&targets, "int8 image QA")["met"], json!(false));
        let eager = find(
            &targets,
            "caption throughput at concurrency 32, base-int8: × PyTorch",
        );
        assert_eq!(eager["ratio"], json!(25.0));
        let own = find(
            &targets,
            "caption throughput at concurrency 32, base-int8: × our",
        );
        assert_eq!(own["ratio"], json!(2.5));
        assert_eq!(find(&targets, "text embeddings")["ratio"], json!(3.0));
        let vision = find(&targets, "int8 vision encoder");
        assert_eq!(
            (vision["ratio"].clone(), vision["met"].clone()),
            (json!(2.0), json!(false))
        );
        assert_eq!(find(&targets, "resident memory")["met"], json!(true));
        // No video target without a large int8 package; nothing at all without the fp32 side.
        assert!(
            targets
                .iter()
                .all(|t| !t["target"].as_str().unwrap_or("").starts_with("video"))
        );
        let alone = package("base-int8", &[("caption", "batching", 1, 500.0, 2.0)]);
        assert!(super::int8_targets(&json!({ "packages": [alone] })).is_empty());
    }

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
