//! Authentication: with an API key (here from `--api-key-file`), task calls without it or with a
//! wrong one are 401 / UNAUTHENTICATED and the right one is served, over REST (`Authorization:
//! Bearer`) and gRPC (`authorization` metadata). Health, metrics and info stay open, on the
//! separate `--admin-addr` address; the key never appears in the log.

use mplug2_e2e_tests::{
    Server, ServerOptions,
    errors::{assert_grpc_error, assert_http_error},
    goldens::Goldens,
    rest::Rest,
    server::TempDir,
};
use serde_json::json;
use tonic::{Code, Request};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const KEY: &str = "k3y-from-a-file-7f3a9c";

fn authorized<T>(message: T, value: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", value.parse().unwrap());
    request
}

#[tokio::test]
async fn only_the_right_key_is_served_and_operator_routes_stay_open() {
    let dir = TempDir::new();
    let key_file = dir.path().join("api-key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let server = Server::ready_with_admin(ServerOptions {
        args: vec!["--api-key-file".into(), key_file.display().to_string()],
        ..ServerOptions::default()
    })
    .await;
    let (rest, goldens) = (Rest::new(&server), Goldens::load());
    let golden = goldens.caption_of("image_97x131");
    let media = goldens.media(&golden.media);
    let body = golden.rest_body(&media);

    // REST.
    let message = assert_http_error(&rest.post("/v1/caption", &body).await, 401, "unauthorized");
    assert!(message.contains("Authorization: Bearer"), "{message}");
    let post = |value: String| {
        rest.client()
            .post(rest.url("/v1/caption"))
            .header("authorization", value)
            .json(&body)
            .send()
    };
    for wrong in [
        "Bearer nope".to_owned(),
        format!("Bearer {}", &KEY[..KEY.len() - 1]),
        format!("Bearer {KEY}x"),
        format!("Basic {KEY}"),
    ] {
        let response = post(wrong.clone()).await.unwrap();
        let answer = (response.status().as_u16(), response.json().await.unwrap());
        assert_http_error(&answer, 401, "unauthorized");
    }
    let response = post(format!("Bearer {KEY}")).await.unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["caption"], json!(golden.text));

    // gRPC.
    let mut grpc = server.grpc_client().await;
    let caption = || golden.grpc_request(&media);
    assert_grpc_error(grpc.caption(caption()).await, Code::Unauthenticated);
    assert_grpc_error(
        grpc.caption(authorized(caption(), "Bearer nope")).await,
        Code::Unauthenticated,
    );
    let answer = grpc
        .caption(authorized(caption(), &format!("Bearer {KEY}")))
        .await
        .expect("the right key is served");
    assert_eq!(answer.into_inner().caption, golden.text);
    // gRPC health needs no key.
    let mut health = HealthClient::new(server.channel().await);
    let status = health
        .check(HealthCheckRequest {
            service: "mplug2.v1.Inference".into(),
        })
        .await
        .expect("health without a key")
        .into_inner()
        .status;
    assert_eq!(status, 1, "SERVING");

    // Operator routes: open on the admin address, gone from the API address.
    let admin = server.admin.as_ref().expect("an admin address");
    let http = mplug2_e2e_tests::http_client::http_client();
    for path in ["/health/live", "/health/ready", "/metrics", "/info"] {
        let response = http.get(format!("{admin}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path} on the admin address");
    }
    let info: serde_json::Value = http
        .get(format!("{admin}/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["api_key_required"], true);
    for path in ["/health/ready", "/metrics"] {
        assert_eq!(rest.get(path).await.0, 404, "{path} left the API address");
    }
    let metrics = http
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"code="unauthorized""#),
        "refusals are counted"
    );

    // The key is nowhere in the log (the file's path is).
    let log = server.log();
    assert!(log.contains("api-key"), "the log shows the configuration");
    assert!(!log.contains(KEY), "the API key leaked into the log");
}
