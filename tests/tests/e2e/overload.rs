//! Overload (as Triton's L0_model_queue / TEI's load tests): an open-loop load at several times
//! the server's capacity for a bounded time, over REST and gRPC. Every accepted request must
//! succeed with the right answer, every other one must be refused at once with 429 /
//! RESOURCE_EXHAUSTED and Retry-After, the server's resident memory must stay within a bound that
//! follows from its limits, and a good request right after the load must succeed.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use mplug2_e2e_tests::{Server, ServerOptions, goldens::Goldens, rest::Rest};
use serde_json::json;
use tokio::task::JoinSet;

const MAX_CONCURRENT: usize = 4;
const MAX_PENDING: usize = 8;
const MAX_BODY_BYTES: u64 = 1 << 20;
/// How long the load is offered.
const LOAD: Duration = Duration::from_secs(3);
/// Offered load as a multiple of the measured capacity.
const OVERLOAD: f64 = 6.0;

/// Resident memory of a process in KiB: (now, peak), from `/proc/<pid>/status`.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Answered,
    Refused,
}

#[tokio::test]
async fn several_times_capacity_is_refused_at_once_and_memory_stays_bounded() {
    let server = Server::ready(ServerOptions::args(&[
        "--max-concurrent-requests",
        &MAX_CONCURRENT.to_string(),
        "--max-pending-requests",
        &MAX_PENDING.to_string(),
        "--max-body-bytes",
        &MAX_BODY_BYTES.to_string(),
        "--retry-after-s",
        "1",
    ]))
    .await;
    let goldens = Goldens::load();
    let golden = goldens.caption_of("image_97x131");
    let media = goldens.media(&golden.media);
    let body = Arc::new(golden.rest_body(&media));
    let message = golden.grpc_request(&media);
    let rest = Arc::new(Rest::new(&server));
    let grpc = server.grpc_client().await;
    let pid = server.pid();
    let (baseline_kib, _) = memory_kib(pid);
    // Forget the peak of loading and warming up (clear_refs 5 resets VmHWM), so that the peak
    // read at the end is the load's.
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");

    // Capacity: closed-loop at the admission limit for one second.
    let started = Instant::now();
    let mut closed = JoinSet::new();
    for _ in 0..MAX_CONCURRENT {
        let (rest, body) = (Arc::clone(&rest), Arc::clone(&body));
        closed.spawn(async move {
            let mut done = 0u32;
            while started.elapsed() < Duration::from_secs(1) {
                assert_eq!(rest.post("/v1/caption", &body).await.0, 200);
                done += 1;
            }
            done
        });
    }
    let completed: u32 = closed.join_all().await.into_iter().sum();
    let capacity = f64::from(completed) / started.elapsed().as_secs_f64();
    let rate = capacity * OVERLOAD;

    // Open loop: one request every 1/rate seconds whatever the answers, every third over gRPC.
    let mut load = JoinSet::new();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let load_started = Instant::now();
    let mut offered = 0u32;
    let mut peak_rss_kib = 0;
    while load_started.elapsed() < LOAD {
        ticker.tick().await;
        offered += 1;
        peak_rss_kib = peak_rss_kib.max(memory_kib(pid).0);
        let expected = golden.text.clone();
        if offered.is_multiple_of(3) {
            let (mut grpc, message) = (grpc.clone(), message.clone());
            load.spawn(async move {
                let sent = Instant::now();
                match grpc.caption(message).await {
                    Ok(answer) => {
                        assert_eq!(answer.into_inner().caption, expected);
                        (Outcome::Answered, sent.elapsed())
                    }
                    Err(status) => {
                        assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
                        assert_eq!(status.metadata().get("retry-after").unwrap(), "1");
                        (Outcome::Refused, sent.elapsed())
                    }
                }
            });
        } else {
            let (rest, body) = (Arc::clone(&rest), Arc::clone(&body));
            load.spawn(async move {
                let sent = Instant::now();
                let response = rest
                    .client()
                    .post(rest.url("/v1/caption"))
                    .json(&*body)
                    .send()
                    .await
                    .expect("request");
                let status = response.status().as_u16();
                let retry_after = response.headers().get("retry-after").cloned();
                let answer: serde_json::Value = response.json().await.expect("JSON");
                match status {
                    200 => {
                        assert_eq!(answer["caption"], json!(expected));
                        (Outcome::Answered, sent.elapsed())
                    }
                    429 => {
                        assert_eq!(answer["error"]["type"], "overloaded", "{answer}");
                        assert_eq!(retry_after.expect("Retry-After"), "1");
                        (Outcome::Refused, sent.elapsed())
                    }
                    other => panic!("{other}: {answer}"),
                }
            });
        }
    }
    let offered_for = load_started.elapsed();
    let mut answered = 0u32;
    let mut refused = Vec::new();
    while let Some(result) = load.join_next().await {
        peak_rss_kib = peak_rss_kib.max(memory_kib(pid).0);
        match result.expect("a load task panicked") {
            (Outcome::Answered, _) => answered += 1,
            (Outcome::Refused, took) => refused.push(took),
        }
    }
    let (_, hwm_kib) = memory_kib(pid);

    // Service recovers at once: the very next request is served.
    let (status, answer) = rest.post("/v1/caption", &body).await;
    assert_eq!((status, &answer["caption"]), (200, &json!(golden.text)));

    refused.sort();
    let slowest_refusal = refused.last().copied().unwrap_or_default();
    let median_refusal = refused.get(refused.len() / 2).copied().unwrap_or_default();
    // Memory bound: the idle server, plus every pending request holding a full body (raw and
    // decoded), plus 256 MiB for the batches and the allocator.
    let bound_kib = baseline_kib + MAX_PENDING as u64 * 2 * (MAX_BODY_BYTES >> 10) + (256 << 10);
    println!(
        "overload: capacity {capacity:.1} req/s (closed loop, {MAX_CONCURRENT} clients); offered \
         {offered} requests in {:.2} s ({:.1} req/s, {OVERLOAD}× capacity); answered {answered}, \
         refused {} (429 / RESOURCE_EXHAUSTED; median refusal {:.1} ms, slowest {:.1} ms); \
         RSS idle {} MiB, peak sampled {} MiB, VmHWM {} MiB, bound {} MiB",
        offered_for.as_secs_f64(),
        f64::from(offered) / offered_for.as_secs_f64(),
        refused.len(),
        median_refusal.as_secs_f64() * 1e3,
        slowest_refusal.as_secs_f64() * 1e3,
        baseline_kib >> 10,
        peak_rss_kib >> 10,
        hwm_kib >> 10,
        bound_kib >> 10,
    );
    assert_eq!(answered as usize + refused.len(), offered as usize);
    assert!(
        !refused.is_empty(),
        "{OVERLOAD}× capacity was never refused"
    );
    assert!(answered > 0);
    assert!(
        hwm_kib <= bound_kib,
        "peak memory {hwm_kib} KiB over the bound {bound_kib} KiB"
    );
}
