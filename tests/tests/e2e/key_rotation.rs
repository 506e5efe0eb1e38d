//! API key rotation without a restart, under load: the key file holds several keys (one per
//! line, comments and blank lines ignored). A new key is added by rewriting the file (picked up
//! as a change), the clients move to it, and the old key is removed with a SIGHUP; clients
//! using a key in force never see a failed request, the old key is refused once removed, SIGHUP
//! does not end the process, and no key is logged.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use mplug2_e2e_tests::{Server, ServerOptions, rest::Rest, server::TempDir};
use serde_json::json;
use tokio::{sync::watch, task::JoinHandle};

const OLD: &str = "old-key-3c9e51d7";
const NEW: &str = "new-key-8a02f4b6";
/// Clients sending at once with the same key.
const CLIENTS: usize = 2;
/// Requests the clients send before and after each reload, so that the load spans it.
const AROUND: usize = 20;
/// Polls of a reload taking effect, and the pause between them (a bound, not a timing claim).
const POLLS: usize = 600;
const POLL_PAUSE: Duration = Duration::from_millis(50);

/// Replaces the key file as a secret store does: a new file renamed over the old one.
fn write_keys(path: &Path, text: &str) {
    let fresh = path.with_extension("new");
    std::fs::write(&fresh, text).expect("write the keys");
    std::fs::rename(&fresh, path).expect("replace the key file");
}

/// One embeddings request with `key`: its status and body.
async fn embed(rest: &Rest, key: &str) -> (u16, String) {
    let response = rest
        .client()
        .post(rest.url("/v1/embeddings"))
        .bearer_auth(key)
        .json(&json!({ "input": "a dog on the grass" }))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// A client's requests sent and its answers that were not 200.
type Client = JoinHandle<(usize, Vec<(u16, String)>)>;

/// Clients sending with `key` one request after another until `stop`, counting their answers in
/// `answered`; each returns how many it sent and the answers that were not 200.
fn clients(
    rest: &Arc<Rest>,
    key: &'static str,
    stop: &watch::Sender<bool>,
    answered: &Arc<AtomicUsize>,
) -> Vec<Client> {
    (0..CLIENTS)
        .map(|_| {
            let (rest, stop, answered) = (Arc::clone(rest), stop.subscribe(), Arc::clone(answered));
            tokio::spawn(async move {
                let (mut sent, mut failed) = (0, Vec::new());
                while !*stop.borrow() {
                    let (status, body) = embed(&rest, key).await;
                    sent += 1;
                    answered.fetch_add(1, Ordering::SeqCst);
                    if status != 200 {
                        failed.push((status, body));
                    }
                }
                (sent, failed)
            })
        })
        .collect()
}

/// Stops the clients and checks every request of theirs succeeded.
async fn every_request_succeeded(key: &str, stop: watch::Sender<bool>, clients: Vec<Client>) {
    stop.send_replace(true);
    for client in clients {
        let (sent, failed) = client.await.unwrap();
        assert!(sent > 0, "a client with {key} sent nothing");
        assert!(
            failed.is_empty(),
            "a client with the valid key {key} saw failures: {failed:?}"
        );
        println!("a client with {key}: {sent} requests, all 200");
    }
}

/// Waits until the clients have had `more` answers beyond what they had (bounded).
async fn until_answered(answered: &AtomicUsize, more: usize) {
    let target = answered.load(Ordering::SeqCst) + more;
    for _ in 0..POLLS {
        if answered.load(Ordering::SeqCst) >= target {
            return;
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    panic!("the clients did not get {more} answers within {POLLS} polls");
}

/// Polls until a request with `key` gets `status`.
async fn until_status(rest: &Rest, key: &str, status: u16, what: &str) {
    for _ in 0..POLLS {
        if embed(rest, key).await.0 == status {
            return;
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
    panic!("{what} did not take effect within {POLLS} polls");
}

#[tokio::test]
async fn a_key_rotates_under_load_without_a_failed_request() {
    let dir = TempDir::new();
    let key_file = dir.path().join("api-keys");
    write_keys(&key_file, &format!("# the keys in force\n\n{OLD}\n"));
    let server = Server::ready(ServerOptions {
        args: vec!["--api-key-file".into(), key_file.display().to_string()],
        ..ServerOptions::default()
    })
    .await;
    let rest = Arc::new(Rest::new(&server));
    assert_eq!(embed(&rest, NEW).await.0, 401);

    // Add the new key while clients use the old one: the file change is picked up.
    let (stop, _) = watch::channel(false);
    let answered = Arc::new(AtomicUsize::new(0));
    let old_clients = clients(&rest, OLD, &stop, &answered);
    until_answered(&answered, AROUND).await;
    write_keys(
        &key_file,
        &format!("# rotation under way\n{OLD}\n  {NEW}  \n"),
    );
    until_status(&rest, NEW, 200, "adding the new key").await;
    until_answered(&answered, AROUND).await;
    every_request_succeeded(OLD, stop, old_clients).await;

    // Move the clients to the new key, then remove the old one with a SIGHUP.
    let (stop, _) = watch::channel(false);
    let new_clients = clients(&rest, NEW, &stop, &answered);
    until_answered(&answered, AROUND).await;
    write_keys(&key_file, &format!("{NEW}\n"));
    let hangup = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(hangup.success());
    until_status(&rest, OLD, 401, "removing the old key").await;
    until_answered(&answered, AROUND).await;
    every_request_succeeded(NEW, stop, new_clients).await;

    // Another SIGHUP with nothing changed: the server goes on serving.
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &server.pid().to_string()])
            .status()
            .expect("kill -HUP")
            .success()
    );
    assert_eq!(embed(&rest, NEW).await.0, 200);
    let log = server.log();
    assert!(log.contains("API keys reloaded"), "the reloads are logged");
    assert!(
        !log.contains(OLD) && !log.contains(NEW),
        "a key appeared in the log"
    );
}
