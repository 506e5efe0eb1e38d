//! `kill -9` under load, then a restart on the same ports: no client ever receives a truncated
//! success (a 200 JSON body cut or missing fields, an SSE stream ending cleanly without
//! `[DONE]`, a gRPC stream ending OK without its finished message); a request cut by the crash
//! sees a transport error, one sent while the server restarts sees a connection error or a clean
//! 503 / UNAVAILABLE, and once ready every request gets its golden answer again.

use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use mplug2_e2e_tests::{
    Server, ServerOptions,
    crash::{Fleet, Kind, Load, Record, Requests, Seen, Transport},
    goldens::Goldens,
    http_client::http_client,
    server::START_BOUND,
};

/// Clients per kind of request.
const CLIENTS: usize = 2;

/// Polls `done` every few milliseconds until it holds, within a bound.
async fn until(what: &str, bound: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + bound;
    while !done() {
        assert!(Instant::now() < deadline, "never saw: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The moments the outcomes are judged against.
struct Moments {
    killed: Instant,
    spawned: Instant,
    /// When the last `/health/ready` probe that was not 200 was sent: anything answered before it
    /// was answered by a server not yet ready.
    last_not_ready: Instant,
    ready: Instant,
}

#[tokio::test]
async fn kill_9_under_load_then_restart_never_truncates_a_success() {
    let mut args = Requests::server_args();
    // A long deadline: this test is about the crash, not about a busy machine's speed.
    args.extend(["--request-timeout-ms".into(), "600000".into()]);
    let began = Instant::now();
    let server = Server::ready(ServerOptions {
        args,
        ..ServerOptions::default()
    })
    .await;
    let requests = Arc::new(Requests::new(&Goldens::load()));
    requests
        .learn_reference(&server)
        .await
        .expect("the long answer");

    eprintln!("ready and reference after {:?}", began.elapsed());
    let load = Load::new(&server);
    let fleet = Fleet::start(&load, &requests, CLIENTS);

    // Kill once an SSE stream and a gRPC stream have each delivered part of their answer.
    until("an SSE and a gRPC stream mid-way", START_BOUND, || {
        fleet.mid.sse.load(Ordering::SeqCst) > 0 && fleet.mid.grpc.load(Ordering::SeqCst) > 0
    })
    .await;
    let killed = Instant::now();
    eprintln!("kill after {:?}", began.elapsed());
    server.crash();

    // Every client's request in flight at the kill has ended before the restart.
    until(
        "every client past the kill",
        Duration::from_secs(30),
        || fleet.each_has(|r| r.sent >= killed),
    )
    .await;

    let spawned = Instant::now();
    server.respawn();
    let (last_not_ready, ready) = poll_ready(&server).await;
    let moments = Moments {
        killed,
        spawned,
        last_not_ready,
        ready,
    };
    eprintln!(
        "restart: spawn to ready {:?} (last probe not ready {:?} after spawn)",
        ready - spawned,
        last_not_ready.saturating_duration_since(spawned)
    );

    // Every client gets a whole answer from the restarted server.
    until(
        "every client answered after the restart",
        START_BOUND,
        || fleet.each_has(|r| r.sent >= ready && r.seen.is_complete()),
    )
    .await;
    eprintln!("all answered after the restart, {:?}", began.elapsed());
    let records = fleet.stop().await.expect("client");
    judge(&records, &requests, &moments);
}

/// Polls `/health/ready` of the restarting server until 200, within the start bound: the send
/// time of the last probe that was not 200, and when 200 was seen.
async fn poll_ready(server: &Server) -> (Instant, Instant) {
    let http = http_client();
    let deadline = Instant::now() + START_BOUND;
    let mut last_not_ready = Instant::now();
    loop {
        let sent = Instant::now();
        match http.get(server.url("/health/ready")).send().await {
            Ok(response) if response.status() == 200 => return (last_not_ready, Instant::now()),
            _ => last_not_ready = sent,
        }
        assert!(
            Instant::now() < deadline,
            "not ready within {START_BOUND:?}; log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn judge(records: &[Record], requests: &Requests, at: &Moments) {
    let mut wrong = Vec::new();
    for record in records {
        let expected = requests.expected(record.kind);
        let ok = match &record.seen {
            // Not for a request sent after the kill and answered while the server was not
            // ready. (One sent before may have had its whole answer in the socket already.)
            Seen::Complete(text) => {
                *text == expected
                    && (record.sent < at.killed || record.answered > at.last_not_ready)
            }
            Seen::Truncated(_) | Seen::Other(_) => false,
            // The transport fails only between the kill and readiness.
            Seen::Transport {
                class,
                after_output,
                ..
            } => {
                record.answered >= at.killed
                    && record.sent < at.ready
                    && transport_fits(record.kind, *class, *after_output)
            }
            // Only the restarted server refuses, and only until it is ready.
            Seen::Unavailable => record.answered >= at.spawned && record.sent < at.ready,
        };
        if !ok {
            wrong.push(record);
        }
    }
    let summary = summary(records, at);
    assert!(wrong.is_empty(), "wrong outcomes: {wrong:#?}\n{summary}");
    eprintln!("{summary}");

    // The test proved something: streams of both protocols were cut mid-way.
    for kind in [Kind::Sse, Kind::GrpcStream] {
        assert!(
            records
                .iter()
                .any(|r| r.kind == kind && r.seen.cut_mid_stream().is_some()),
            "no {} was cut mid-stream\n{summary}",
            kind.name()
        );
    }
}

/// The exact error class each client library reports, by how far the answer had come.
fn transport_fits(kind: Kind, class: Transport, after_output: bool) -> bool {
    use Transport::*;
    match (kind, after_output) {
        // A stream cut after part of its answer: hyper's chunked body ends without its last
        // chunk (reqwest `is_decode`: "unexpected EOF during chunk size line").
        (Kind::Sse, true) => class == Body,
        // tonic: UNKNOWN "h2 protocol error: error reading a body from connection".
        (Kind::GrpcStream, true) => class == GrpcCut,
        // Refused while nobody listens, or the connection closed before the answer's head.
        (Kind::RestCaption | Kind::RestVqa, false) => matches!(class, Connect | Request),
        (Kind::Sse, false) => matches!(class, Connect | Request | Body),
        (Kind::GrpcStream, false) => matches!(class, GrpcUnavailable | GrpcCut),
        (Kind::RestCaption | Kind::RestVqa, true) => false,
    }
}

fn summary(records: &[Record], at: &Moments) -> String {
    use std::collections::BTreeMap;
    let mut counts: BTreeMap<(&str, &str, String), usize> = BTreeMap::new();
    for record in records {
        let phase = if record.answered < at.killed {
            "before the kill"
        } else if record.sent < at.killed {
            "in flight at the kill"
        } else if record.sent < at.ready {
            "during the restart"
        } else {
            "after ready"
        };
        let seen = match &record.seen {
            Seen::Complete(_) => "complete".to_owned(),
            Seen::Unavailable => "503 / UNAVAILABLE".to_owned(),
            Seen::Transport {
                class,
                after_output,
                ..
            } => format!(
                "{class:?}{}",
                if *after_output { " mid-stream" } else { "" }
            ),
            Seen::Truncated(_) => "TRUNCATED".to_owned(),
            Seen::Other(_) => "other".to_owned(),
        };
        *counts.entry((phase, record.kind.name(), seen)).or_default() += 1;
    }
    let mut text: String = counts
        .iter()
        .map(|((phase, kind, seen), n)| format!("{phase:>22} | {kind:<15} | {seen:<28} | {n}\n"))
        .collect();
    // One error of each class as its library reports it.
    let mut examples = BTreeMap::new();
    for record in records {
        if let Seen::Transport { class, detail, .. } = &record.seen {
            examples.entry((record.kind, *class)).or_insert(detail);
        }
    }
    for ((kind, class), detail) in examples {
        text.push_str(&format!("{} {class:?}: {detail}\n", kind.name()));
    }
    text
}
