//! mplug2-crash (`scripts/measure-crash-restart.sh`): the release server on a package under a
//! mixed load (REST JSON caption and VQA, SSE chat streams, gRPC `VqaStream`), killed with
//! SIGKILL at a random moment and started again at once on the same ports, `--kills` times. For
//! each kill: the time from the new process's spawn to listening and to ready, and what the
//! clients saw (docs/RELIABILITY.md, "Crash and restart"). Exits 2 when any client saw a
//! truncated success, a wrong answer or an unexpected error.

mod tally;

use std::{
    path::PathBuf,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use clap::Parser;
use mplug2_bench::host;
use mplug2_e2e_tests::{
    Server, ServerOptions,
    crash::{Fleet, Kind, Load, Requests},
    goldens::Goldens,
    workspace_root,
};
use rand::Rng;

use tally::{Cycle, Tally};

/// Crash-and-restart figures of mplug2-serve.
#[derive(Parser, Debug)]
struct Args {
    /// Kills (each followed by a restart).
    #[arg(long, default_value_t = 5)]
    kills: usize,

    /// Clients per kind of request (REST caption, REST VQA, SSE, gRPC stream).
    #[arg(long, default_value_t = 2)]
    clients: usize,

    /// The kill comes this many seconds after the load starts, drawn uniformly.
    #[arg(long, default_value_t = 0.5)]
    min_delay_s: f64,
    #[arg(long, default_value_t = 4.0)]
    max_delay_s: f64,

    /// The model package.
    #[arg(long, default_value = "models/demo")]
    package: PathBuf,

    /// The server binary (default: target/release/mplug2-serve of this workspace).
    #[arg(long)]
    server_bin: Option<PathBuf>,

    /// Where the markdown report goes.
    #[arg(long, default_value = "bench/results-crash/crash.md")]
    out: PathBuf,
}

/// Longest wait for the restarted server to be ready, and for every client to be answered again.
const BOUND: Duration = Duration::from_secs(300);

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let delays_in_order = args.min_delay_s >= 0.0 && args.min_delay_s <= args.max_delay_s;
    if args.kills == 0 || args.clients == 0 || !delays_in_order {
        return Err("--kills and --clients must be positive, the delays in order".into());
    }
    let root = workspace_root();
    let binary = host::server_binary(args.server_bin.as_deref(), "build it first")?;
    let server_args = Requests::server_args();
    eprintln!("starting mplug2-serve {}", server_args.join(" "));
    let server = Server::ready(ServerOptions {
        model_dir: Some(root.join(&args.package)),
        binary: Some(binary),
        start_bound: Some(BOUND),
        args: server_args,
    })
    .await;
    let requests = Arc::new(Requests::new(&Goldens::load_from(
        &root.join(&args.package),
    )));
    requests.learn_reference(&server).await?;
    let load = Load::new(&server);
    let mut cycles = Vec::new();
    for kill in 1..=args.kills {
        let cycle = crash_once(&server, &load, &requests, &args).await?;
        eprintln!(
            "kill {kill}: spawn to ready {:?}, {:?}",
            cycle.ready, cycle.tally
        );
        cycles.push(cycle);
    }
    let report = tally::report(&cycles, &host::machine(), &host::date());
    println!("{report}");
    let out = root.join(&args.out);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&out, &report).map_err(|e| format!("{}: {e}", out.display()))?;
    let bad: usize = cycles.iter().map(|c| c.tally.bad()).sum();
    if bad > 0 {
        eprintln!("{bad} outcomes a client must never see");
        std::process::exit(2);
    }
    Ok(())
}

/// One kill under load and the restart, until every client got a whole answer again.
async fn crash_once(
    server: &Server,
    load: &Load,
    requests: &Arc<Requests>,
    args: &Args,
) -> Result<Cycle, String> {
    let fleet = Fleet::start(load, requests, args.clients);
    let delay = rand::rng().random_range(args.min_delay_s..=args.max_delay_s);
    tokio::time::sleep(Duration::from_secs_f64(delay)).await;
    let mid_at_kill = (
        fleet.mid.sse.load(Ordering::SeqCst),
        fleet.mid.grpc.load(Ordering::SeqCst),
    );
    server.crash();
    // Started again at once, as a supervisor would.
    let spawned = Instant::now();
    server.respawn();
    let (listening, ready) = poll(server).await?;
    let deadline = Instant::now() + BOUND;
    while !fleet.each_has(|r| r.sent >= ready && r.seen.is_complete()) {
        if Instant::now() > deadline {
            return Err(format!("a client got no answer within {BOUND:?} of ready"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let records = fleet.stop().await.map_err(|e| e.to_string())?;
    Ok(Cycle {
        delay_s: delay,
        mid_at_kill,
        listening: listening - spawned,
        ready: ready - spawned,
        tally: Tally::of(&records, requests),
        per_kind: Kind::ALL
            .iter()
            .map(|&kind| {
                let of_kind: Vec<_> = records.iter().filter(|r| r.kind == kind).cloned().collect();
                (kind, Tally::of(&of_kind, requests))
            })
            .collect(),
    })
}

/// Polls `/health/ready` every 5 ms: when it first answered at all (listening), and 200.
async fn poll(server: &Server) -> Result<(Instant, Instant), String> {
    let http = mplug2_e2e_tests::http_client::http_client();
    let deadline = Instant::now() + BOUND;
    let mut listening = None;
    loop {
        if let Ok(response) = http.get(server.url("/health/ready")).send().await {
            let now = Instant::now();
            let listening = *listening.get_or_insert(now);
            if response.status() == 200 {
                return Ok((listening, now));
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "not ready within {BOUND:?}; log:\n{}",
                server.log()
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
