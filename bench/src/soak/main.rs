//! mplug2-soak (`make soak`): the release server on a package under a mixed open-loop load for a
//! long time (default 20 minutes) at about 70% of its measured capacity. Every window (10 s) it
//! samples the server's resident memory, queue depths and latency percentiles; at the end it
//! writes a report (JSON, markdown) and judges memory, p99 drift and failures (docs/RELIABILITY.md).
//! Exits 2 on a failed verdict.

mod load;
mod mix;
mod plot;
mod report;
mod sample;
mod verdict;

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use clap::Parser;
use mplug2_bench::host;
use mplug2_e2e_tests::{Server, ServerOptions, workspace_root};
use serde_json::json;

use load::{Log, Outcome};
use mix::{Behaviour, Mix};
use sample::{Counts, Latency};

/// Soak test of mplug2-serve (docs/RELIABILITY.md).
#[derive(Parser, Debug)]
struct Args {
    /// Minutes of open-loop load (after the capacity measurement).
    #[arg(long, default_value_t = 20.0)]
    minutes: f64,

    /// Arrivals per second; default: `--load-fraction` of the capacity measured first.
    #[arg(long)]
    rate: Option<f64>,

    /// The share of measured capacity to offer.
    #[arg(long, default_value_t = 0.7)]
    load_fraction: f64,

    /// Seconds of the closed-loop capacity measurement (plus a quarter of warm-up).
    #[arg(long, default_value_t = 40)]
    capacity_s: u64,

    /// Closed-loop clients of the capacity measurement.
    #[arg(long, default_value_t = 8)]
    capacity_clients: usize,

    /// Seconds per sampling window.
    #[arg(long, default_value_t = 10)]
    sample_s: u64,

    /// The model package.
    #[arg(long, default_value = "models/demo")]
    package: PathBuf,

    /// The server's intra-op threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,

    /// The server binary (default: target/release/mplug2-serve of this workspace).
    #[arg(long)]
    server_bin: Option<PathBuf>,

    /// Where soak.json and soak.md go.
    #[arg(long, default_value = "bench/results-soak")]
    out_dir: PathBuf,
}

/// Longest wait for the requests still in flight when the load ends.
const DRAIN_BOUND: Duration = Duration::from_secs(120);

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    if !(args.minutes > 0.0 && args.load_fraction > 0.0 && args.sample_s > 0) {
        return Err("--minutes, --load-fraction and --sample-s must be positive".into());
    }
    let root = workspace_root();
    // Relative to the workspace, as every path of the soak.
    let binary = host::server_binary(args.server_bin.as_deref(), "run `make soak`")?;
    let package = root.join(&args.package);
    let out_dir = root.join(&args.out_dir);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    // Vision cache off: every request runs its vision module, as distinct media would.
    let server_args = [
        "--intra-op-threads",
        &args.threads.to_string(),
        "--vision-cache-bytes",
        "0",
    ];
    eprintln!("starting mplug2-serve {}", server_args.join(" "));
    let server = Server::ready(ServerOptions {
        model_dir: Some(package.clone()),
        binary: Some(binary),
        start_bound: Some(Duration::from_secs(600)),
        args: server_args.iter().map(|a| a.to_string()).collect(),
    })
    .await;
    let mix = Arc::new(Mix::new(&root, &server).await?);
    let (rate, rate_source) = match args.rate {
        Some(rate) => (rate, "--rate".to_owned()),
        None => {
            let span = Duration::from_secs(args.capacity_s);
            let capacity = load::capacity(Arc::clone(&mix), args.capacity_clients, span).await;
            eprintln!("capacity {capacity:.2} req/s");
            let source = format!(
                "{:.0}% of {capacity:.2} req/s measured with {} closed-loop clients",
                args.load_fraction * 100.0,
                args.capacity_clients
            );
            (capacity * args.load_fraction, source)
        }
    };
    eprintln!("open loop at {rate:.2} req/s for {} min", args.minutes);
    let log = Arc::new(Log::default());
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(args.minutes * 60.0);
    let generator = tokio::spawn(load::open_loop(
        Arc::clone(&mix),
        rate,
        until,
        Arc::clone(&log),
    ));
    let client = mplug2_e2e_tests::http_client::http_client();
    let base = server.url("");
    let mut samples = Vec::new();
    let mut from = start;
    while from < until {
        let to = (from + Duration::from_secs(args.sample_s)).min(until);
        let offered = log.offered.load(Ordering::SeqCst);
        tokio::time::sleep_until(to.into()).await;
        let window = (start, from, to);
        let s = sample::take(&client, &base, server.pid(), &mix, &log, window, offered).await;
        eprintln!(
            "t={:>5.0}s rss {:>7.1} MiB queue {:>3} offered {:>4} ok {:>4} failed {} p50 {:.0} p99 {:.0} ms",
            s.t_s,
            s.rss_bytes as f64 / (1024.0 * 1024.0),
            s.queue_depth,
            s.offered,
            s.counts.ok,
            s.counts.failed,
            s.latency.p50_ms,
            s.latency.p99_ms
        );
        samples.push(s);
        from = to;
    }
    let in_flight = generator.await.map_err(|e| e.to_string())?;
    let drained = tokio::time::timeout(DRAIN_BOUND, futures::future::join_all(in_flight)).await;
    if drained.is_err() {
        eprintln!("requests still in flight after {DRAIN_BOUND:?}");
    }
    let all = log.all();
    let offered = log.offered.load(Ordering::SeqCst);
    let seconds = |at: Instant| at.duration_since(start).as_secs_f64();
    let latencies: Vec<(f64, Duration)> = all
        .iter()
        .filter(|d| d.behaviour == Behaviour::Normal && d.outcome == Outcome::Ok)
        .map(|d| (seconds(d.at), d.latency))
        .collect();
    let rss: Vec<(f64, u64)> = samples.iter().map(|s| (s.t_s, s.rss_bytes)).collect();
    let errors: Vec<String> = all
        .iter()
        .filter_map(|d| match &d.outcome {
            Outcome::Failed(message) => Some(format!("{}: {message}", mix.items[d.item].name)),
            _ => None,
        })
        .collect();
    let verdict = verdict::judge(
        &verdict::Run {
            duration_s: args.minutes * 60.0,
            rss: &rss,
            latencies: &latencies,
            failed: errors.len(),
            unanswered: offered.saturating_sub(all.len()),
            first_error: errors.first().map(String::as_str),
        },
        &verdict::BOUNDS,
    );
    let items: Vec<_> = mix
        .items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let of_item = || all.iter().filter(move |d| d.item == index);
            json!({
                "name": item.name, "weight": item.weight,
                "counts": Counts::of(of_item()), "latency": Latency::of(of_item()),
            })
        })
        .collect();
    let behaviours: BTreeMap<_, _> = [
        Behaviour::Normal,
        Behaviour::Cancel,
        Behaviour::ShortDeadline,
    ]
    .into_iter()
    .map(|b| {
        let name = serde_json::to_value(b).unwrap_or_default();
        let name = name.as_str().unwrap_or("?").to_owned();
        (name, Counts::of(all.iter().filter(|d| d.behaviour == b)))
    })
    .collect();
    let report = json!({
        "date": host::date(), "machine": host::machine(),
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "package": args.package.display().to_string(), "minutes": args.minutes,
        "sample_s": args.sample_s, "rate": rate, "rate_source": rate_source,
        "bounds": verdict::BOUNDS, "verdict": verdict,
        "offered": offered, "finished": all.len(), "unanswered": offered.saturating_sub(all.len()),
        "behaviours": behaviours, "items": items, "errors": errors.iter().take(20).collect::<Vec<_>>(),
        "samples": samples,
    });
    let markdown = report::markdown(&report);
    write(
        &out_dir.join("soak.json"),
        &serde_json::to_string_pretty(&report).unwrap_or_default(),
    )?;
    write(&out_dir.join("soak.md"), &markdown)?;
    write(&out_dir.join("soak.svg"), &plot::svg(&samples))?;
    // The server's own account of a failure; its log lives in a directory removed with it.
    let log_text = server.log();
    let lines: Vec<&str> = log_text.lines().collect();
    let tail = lines[lines.len().saturating_sub(500)..].join("\n");
    write(&out_dir.join("server-log-tail.txt"), &tail)?;
    println!("{markdown}");
    eprintln!("report in {}", out_dir.display());
    drop(server);
    if !verdict.passed {
        std::process::exit(2);
    }
    Ok(())
}

fn write(path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
