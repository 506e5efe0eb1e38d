//! SIGTERM during load: readiness turns false, new requests are refused with 503, every request
//! already accepted finishes with its full answer, and the process exits 0.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use mplug2_e2e_tests::{Server, ServerOptions, goldens::Goldens, metrics::scrape, rest::Rest};
use serde_json::{Value, json};

#[derive(Debug)]
struct Outcome {
    sent: Instant,
    answered: Instant,
    status: Option<u16>,
    body: Value,
}

#[tokio::test]
async fn sigterm_during_load_loses_no_accepted_request() {
    // A deadline far past the grace period: on a loaded machine a 64-step caption may take
    // longer than the default 60 s, and this test is about shutdown, not speed.
    let server = Arc::new(
        Server::ready(ServerOptions::args(&[
            "--shutdown-grace-period-s",
            "120",
            "--request-timeout-ms",
            "600000",
        ]))
        .await,
    );
    let goldens = Goldens::load();
    // Long captions (64 steps, 10 beams) keep requests in flight when the signal comes.
    let body = goldens
        .media("frames_20")
        .json_body(json!({ "beam_size": 10, "min_length": 64, "max_length": 64 }));
    let rest = Arc::new(Rest::fresh_connections(&server));
    let (status, expected) = rest.post("/v1/caption", &body).await;
    assert_eq!(status, 200);

    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let (rest, body, stop) = (Arc::clone(&rest), body.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let sent = Instant::now();
                    let response = rest
                        .client()
                        .post(rest.url("/v1/caption"))
                        .json(&body)
                        .send()
                        .await;
                    let (status, body) = match response {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            (Some(status), response.json().await.unwrap_or(Value::Null))
                        }
                        Err(error) => (None, Value::String(format!("{error:?}"))),
                    };
                    outcomes.push(Outcome {
                        sent,
                        answered: Instant::now(),
                        status,
                        body,
                    });
                }
                outcomes
            })
        })
        .collect();

    // Once every worker's request is admitted (polled, bounded), stop the server.
    let deadline = Instant::now() + Duration::from_secs(60);
    while scrape(&rest).await.value("mplug2_inflight_requests", &[]) < 6.0 {
        assert!(
            Instant::now() < deadline,
            "the workers' requests were never all in flight"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let admitted_by = Instant::now();
    let signalled = Instant::now();
    server.terminate();
    stop.store(true, Ordering::SeqCst);

    // While the accepted requests drain, readiness turns false (once the signal is handled:
    // polled, bounded) and new work is refused with 503.
    let deadline = Instant::now() + Duration::from_secs(30);
    while rest.get("/health/ready").await.0 != 503 {
        assert!(
            Instant::now() < deadline,
            "readiness never turned false after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, refused) = rest.post("/v1/caption", &body).await;
    assert_eq!(
        (status, &refused["error"]["type"]),
        (503, &Value::from("unavailable")),
        "{refused}"
    );

    let mut outcomes = Vec::new();
    for worker in workers {
        outcomes.extend(worker.await.expect("worker"));
    }
    let exit = server.exit_status(Duration::from_secs(120)).await;
    assert!(
        exit.success(),
        "exit status {exit:?}; log:\n{}",
        server.log()
    );

    // Every request sent before the poll saw all six in flight was accepted: it must end with
    // the full answer. Later ones may also be refused cleanly (503), but never lost.
    for outcome in &outcomes {
        match outcome.status {
            Some(200) => assert_eq!(outcome.body, expected, "a drained request's answer changed"),
            Some(503) if outcome.sent >= admitted_by => {
                assert_eq!(outcome.body["error"]["type"], "unavailable", "{outcome:?}")
            }
            _ => panic!("an accepted request was lost: {outcome:?}"),
        }
    }
    let drained = outcomes
        .iter()
        .filter(|o| o.sent < admitted_by && o.answered > signalled)
        .count();
    assert!(
        drained > 0,
        "no accepted request was in flight at SIGTERM: the test proved nothing"
    );
}
