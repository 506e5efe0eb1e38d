//! The server is live as soon as it listens, and ready only once every module is loaded and
//! warmed: over `/health/*`, `grpc.health.v1`, `/info` and the `mplug2_ready` gauge alike.

use mplug2_e2e_tests::{Server, ServerOptions, metrics::scrape, rest::Rest};
use serde_json::Value;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

async fn grpc_status(server: &Server, service: &str) -> i32 {
    let mut health = HealthClient::new(server.channel().await);
    health
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .expect("Check")
        .into_inner()
        .status
}

#[tokio::test]
async fn ready_only_after_every_module_is_warmed() {
    // Enough warmup runs to keep the server busy warming for a while after it listens.
    let server = Server::start(ServerOptions::args(&["--warmup-runs", "400"])).await;
    let rest = Rest::new(&server);
    assert_eq!(rest.get("/health/live").await.0, 200);
    let (status, body) = rest.get("/health/ready").await;
    assert_eq!((status, body.as_str()), (503, r#"{"status":"loading"}"#));
    for service in ["", "mplug2.v1.Inference"] {
        assert_eq!(
            grpc_status(&server, service).await,
            ServingStatus::NotServing as i32,
            "{service:?}"
        );
    }
    assert_eq!(scrape(&rest).await.value("mplug2_ready", &[]), 0.0);
    let info: Value = serde_json::from_str(&rest.get("/info").await.1).unwrap();
    assert_eq!(
        (&info["ready"], &info["model"]),
        (&Value::Bool(false), &Value::Null)
    );

    server.wait_ready().await;
    let (status, body) = rest.get("/health/ready").await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ready"}"#));
    for service in ["", "mplug2.v1.Inference"] {
        assert_eq!(
            grpc_status(&server, service).await,
            ServingStatus::Serving as i32,
            "{service:?}"
        );
    }
    assert_eq!(scrape(&rest).await.value("mplug2_ready", &[]), 1.0);
    let info: Value = serde_json::from_str(&rest.get("/info").await.1).unwrap();
    assert_eq!(
        (&info["ready"], &info["model"]["name"]),
        (&Value::Bool(true), &Value::from("mplug2-demo"))
    );
}

#[tokio::test]
async fn a_package_that_does_not_load_stops_the_server_with_an_error() {
    let dir = mplug2_e2e_tests::server::TempDir::new();
    let missing = dir.path().join("no-such-package");
    let status = std::process::Command::new(mplug2_e2e_tests::server::binary())
        .env("ORT_DYLIB_PATH", mplug2_e2e_tests::server::ort_library())
        .args(["--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"])
        .arg("--model-dir")
        .arg(&missing)
        .output()
        .expect("run mplug2-serve");
    assert!(!status.status.success());
    let log = String::from_utf8_lossy(&status.stderr);
    assert!(
        log.contains("manifest.json") && log.contains("no-such-package"),
        "{log}"
    );
}
