//! One package through the suite: baselines, probes, then the server in its three settings.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use mplug2_e2e_tests::{Server, ServerOptions, media::TestMedia};
use serde_json::{Value, json};

use super::{
    call::{Call, Protocol, QUESTION, Task},
    plan::{Int8Of, PackagePlan},
    probe,
    python::Python,
    window::{self, PointResult},
};

pub struct Context<'a> {
    pub root: PathBuf,
    pub out_dir: PathBuf,
    pub python: &'a Python,
    pub threads: usize,
    pub quick: bool,
    pub reuse: Option<PathBuf>,
}

impl Context<'_> {
    /// An earlier run's result file for this package, when reusing one.
    fn reused(&self, package: &str, file: &str) -> Option<Value> {
        let path = self
            .reuse
            .as_ref()?
            .join(format!("work-{package}"))
            .join(file);
        let value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
        eprintln!("  reusing {}", path.display());
        Some(value)
    }
}

pub use mplug2_bench::host::{date, machine};

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

struct Media {
    image: TestMedia,
    video: TestMedia,
}

pub async fn package(
    context: &Context<'_>,
    path: &Path,
    plan: &PackagePlan,
) -> Result<Value, String> {
    eprintln!(
        "== {} ({}) load {}",
        plan.name,
        path.display(),
        load_average()
    );
    let media = Media {
        image: TestMedia::Image(read(
            &context
                .root
                .join("models/demo/goldens/inputs/image_480x270.png"),
        )?),
        video: TestMedia::Video(read(&context.root.join("tests/fixtures/frames_20.mp4"))?),
    };
    let scratch = context.out_dir.join(format!("work-{}", plan.name));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let mut out = json!({ "package": path.display().to_string(), "name": plan.name, "load_start": load_average() });
    if let Some(of) = &plan.int8_of {
        out["int8_of"] = json!(of.plan);
        if let Some(speed) = int8_side(context, path, of, &scratch)? {
            out["int8_speed"] = speed;
        }
    }
    if let Some(reused) = context.reused(plan.name, "reference.json") {
        out["reference"] = reused;
        out["reference_reused"] = json!(true);
    } else if !plan.reference.is_empty() {
        let mut args = vec![
            "reference".to_owned(),
            "--package".into(),
            path.display().to_string(),
        ];
        for point in &plan.reference {
            args.extend(["--point".to_owned(), (*point).to_owned()]);
        }
        args.extend(["--repeats".into(), plan.reference_repeats.to_string()]);
        args.extend(["--threads".into(), context.threads.to_string()]);
        out["reference"] = context.python.run(&args, &scratch.join("reference.json"))?;
    }
    if let Some(reused) = context
        .reused(plan.name, "ort.json")
        .filter(|_| plan.ort_probe)
    {
        out["ort"] = reused;
        out["ort_reused"] = json!(true);
    } else if plan.ort_probe {
        let mut args = vec![
            "ort".to_owned(),
            "--package".into(),
            path.display().to_string(),
        ];
        args.extend(["--threads".into(), context.threads.to_string()]);
        if context.quick {
            args.push("--quick".into());
        }
        out["ort"] = context.python.run(&args, &scratch.join("ort.json"))?;
    }
    let client = mplug2_e2e_tests::http_client::http_client();
    let mut closed = Vec::new();
    let mut open = Vec::new();
    let mut overhead = Vec::new();

    // Batching on (the defaults), cache off so that every request runs its vision module.
    let server = start(context, path, &["--vision-cache-bytes", "0"]).await;
    out["memory"] = memory(&server, path);
    eprintln!("  memory {}", out["memory"]);
    let base = server.url("");
    for (task, concurrencies) in &plan.closed {
        for &concurrency in concurrencies {
            let call = Call::rest(&client, &base, *task, &media.image, QUESTION);
            let before = probe::scrape(&client, &base).await?;
            let result = point(&call, concurrency, plan, "batching", Protocol::Rest, *task).await;
            if concurrency == 1 {
                let after = probe::scrape(&client, &base).await?;
                overhead.push(overhead_of(*task, &result, &before, &after));
            }
            closed.push(record(
                *task,
                Protocol::Rest,
                "batching",
                concurrency,
                &result,
            ));
        }
    }
    out["memory_at_load_end"] = memory(&server, path);
    if !plan.closed.is_empty() {
        // Resident memory once the server has been idle a little longer than its idle trim
        // waits (`--idle-trim-after-ms`, 1 s by default): what it holds between bursts.
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    out["memory_after_load"] = memory(&server, path);
    for (task, concurrencies) in &plan.grpc {
        for &concurrency in concurrencies {
            let call = Call::grpc(server.grpc_client().await, *task, &media.image, QUESTION);
            let result = point(&call, concurrency, plan, "batching", Protocol::Grpc, *task).await;
            closed.push(record(
                *task,
                Protocol::Grpc,
                "batching",
                concurrency,
                &result,
            ));
        }
    }
    for (task, fraction) in &plan.poisson {
        let Some(top) = closed
            .iter()
            .filter(|p| p["task"] == task.name() && p["protocol"] == "rest")
            .max_by_key(|p| p["concurrency"].as_u64().unwrap_or(0))
        else {
            continue;
        };
        let rate = top["result"]["throughput"].as_f64().unwrap_or(1.0) * fraction;
        let call = Call::rest(&client, &base, *task, &media.image, QUESTION);
        let result = window::open_loop(&call, rate, plan.window).await;
        eprintln!(
            "  {:<11} poisson {rate:.2}/s rest batching   {result}",
            task.name()
        );
        open.push(json!({ "task": task.name(), "protocol": "rest", "rate": rate, "fraction": fraction, "result": result }));
    }
    if plan.video_caption > 0 {
        out["video_caption"] =
            video_caption(&client, &server, &media.video, plan.video_caption).await?;
    }
    drop(server);

    if !plan.unbatched.is_empty() {
        let server = start(
            context,
            path,
            &["--vision-cache-bytes", "0", "--max-batch-size", "1"],
        )
        .await;
        let base = server.url("");
        for (task, concurrencies) in &plan.unbatched {
            for &concurrency in concurrencies {
                let call = Call::rest(&client, &base, *task, &media.image, QUESTION);
                let result = point(
                    &call,
                    concurrency,
                    plan,
                    "max_batch_size=1",
                    Protocol::Rest,
                    *task,
                )
                .await;
                closed.push(record(
                    *task,
                    Protocol::Rest,
                    "max_batch_size=1",
                    concurrency,
                    &result,
                ));
            }
        }
    }
    if plan.cache_video {
        let server = start(context, path, &[]).await;
        out["cache"] = cache_questions(&client, &server, &media.video).await?;
        eprintln!("  cache {}", out["cache"]);
    }
    out["closed_loop"] = Value::Array(closed);
    out["open_loop"] = Value::Array(open);
    out["overhead"] = Value::Array(overhead);
    out["load_end"] = json!(load_average());
    Ok(out)
}

/// Makes the int8 package from its fp32 one when it is missing; then, when asked, times the fp32
/// and int8 graphs back to back (`int8-speed`: vision at batch 8, decoder steps).
fn int8_side(
    context: &Context<'_>,
    path: &Path,
    of: &Int8Of,
    scratch: &Path,
) -> Result<Option<Value>, String> {
    let fp32 = context.root.join(&of.path);
    if !path.join("manifest.json").is_file() {
        context.python.quantize(&fp32, path)?;
    }
    if !of.graph_speed {
        return Ok(None);
    }
    let args = [
        "int8-speed".to_owned(),
        "--fp32".into(),
        fp32.display().to_string(),
        "--int8".into(),
        path.display().to_string(),
        "--threads".into(),
        context.threads.to_string(),
    ];
    context
        .python
        .run(&args, &scratch.join("int8-speed.json"))
        .map(Some)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

async fn start(context: &Context<'_>, path: &Path, extra: &[&str]) -> Server {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend([
        "--intra-op-threads".into(),
        context.threads.to_string(),
        "--request-timeout-ms".into(),
        "900000".into(),
        "--max-concurrent-requests".into(),
        "512".into(),
    ]);
    eprintln!("  starting mplug2-serve {}", args.join(" "));
    let started = Instant::now();
    let server = Server::ready(ServerOptions {
        model_dir: Some(path.to_path_buf()),
        binary: Some(context.root.join("target/release/mplug2-serve")),
        start_bound: Some(Duration::from_secs(1800)),
        args,
    })
    .await;
    eprintln!("  ready in {:.1} s", started.elapsed().as_secs_f64());
    server
}

async fn point(
    call: &Call,
    concurrency: usize,
    plan: &PackagePlan,
    mode: &str,
    protocol: Protocol,
    task: Task,
) -> PointResult {
    let result = window::closed_loop(call, concurrency, plan.window).await;
    eprintln!(
        "  {:<11} c={concurrency:<3} {:<4} {mode:<16} {result}",
        task.name(),
        protocol.name()
    );
    result
}

fn record(
    task: Task,
    protocol: Protocol,
    mode: &str,
    concurrency: usize,
    result: &PointResult,
) -> Value {
    json!({ "task": task.name(), "protocol": protocol.name(), "mode": mode, "concurrency": concurrency, "result": result })
}

fn memory(server: &Server, package: &Path) -> Value {
    let weights = probe::served_weight_bytes(package);
    match probe::resident_bytes(server.pid()) {
        Some((rss, peak)) => json!({
            "rss_bytes": rss, "peak_rss_bytes": peak, "weight_bytes": weights,
            "ratio": rss as f64 / weights.max(1) as f64,
        }),
        None => json!({ "weight_bytes": weights }),
    }
}

/// Server overhead at concurrency 1: mean request latency minus the mean time inside module
/// executions, over the same requests (the server's counters against the client's clock).
fn overhead_of(
    task: Task,
    result: &PointResult,
    before: &prometheus_parse::Scrape,
    after: &prometheus_parse::Scrape,
) -> Value {
    let module_s = probe::module_seconds(after) - probe::module_seconds(before);
    let requests = probe::total(after, "mplug2_requests_total", &[("code", "ok")])
        - probe::total(before, "mplug2_requests_total", &[("code", "ok")]);
    let module_ms = module_s * 1e3 / requests.max(1.0);
    let overhead_ms = result.all_mean_ms - module_ms;
    json!({
        "task": task.name(), "requests": requests, "client_requests": result.all_ok,
        "mean_latency_ms": result.all_mean_ms, "module_ms": module_ms,
        "overhead_ms": overhead_ms, "overhead_share": overhead_ms / result.all_mean_ms,
    })
}

/// Captions of a 16-frame video one at a time; the vision module's share from the server's counters.
async fn video_caption(
    client: &reqwest::Client,
    server: &Server,
    video: &TestMedia,
    runs: usize,
) -> Result<Value, String> {
    let base = server.url("");
    let mut call = Call::rest(client, &base, Task::Caption, video, QUESTION);
    let before = probe::scrape(client, &base).await?;
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        call.send().await?;
        times.push(started.elapsed().as_secs_f64());
        eprintln!("  video caption {:.1} s", times.last().unwrap_or(&0.0));
    }
    let after = probe::scrape(client, &base).await?;
    let vision = |s| {
        probe::total(
            s,
            "mplug2_module_duration_seconds_sum",
            &[("module", "vision")],
        )
    };
    times.sort_by(f64::total_cmp);
    Ok(json!({
        "runs_s": times, "median_s": times[times.len() / 2],
        "vision_s": (vision(&after) - vision(&before)) / runs as f64,
    }))
}

/// Five different questions about one video, one after the other, against the first alone.
async fn cache_questions(
    client: &reqwest::Client,
    server: &Server,
    video: &TestMedia,
) -> Result<Value, String> {
    let base = server.url("");
    let questions = [
        "what is the man doing in the video?",
        "what color is the car?",
        "how many people are there?",
        "where is this?",
        "is it raining?",
    ];
    let before = probe::scrape(client, &base).await?;
    let mut times = Vec::new();
    for question in questions {
        let mut call = Call::rest(client, &base, Task::Vqa, video, question);
        let started = Instant::now();
        call.send().await?;
        times.push(started.elapsed().as_secs_f64());
    }
    let after = probe::scrape(client, &base).await?;
    let lookups = |result| {
        probe::total(
            &after,
            "mplug2_vision_cache_lookups_total",
            &[("result", result)],
        ) - probe::total(
            &before,
            "mplug2_vision_cache_lookups_total",
            &[("result", result)],
        )
    };
    let vision_runs = probe::total(&after, "mplug2_module_items_total", &[("module", "vision")])
        - probe::total(
            &before,
            "mplug2_module_items_total",
            &[("module", "vision")],
        );
    let five: f64 = times.iter().sum();
    Ok(json!({
        "question_s": times, "one_s": times[0], "five_s": five, "ratio": five / times[0],
        "hits": lookups("hit"), "misses": lookups("miss"), "vision_runs": vision_runs,
    }))
}
