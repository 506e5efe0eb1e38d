//! Assertions on the error contract: HTTP status + `{"error": {"type", "message"}}`, gRPC code.

use serde_json::Value;

use crate::rest::Answer;

/// Asserts the HTTP answer is the error row `(status, type)` and returns its message.
pub fn assert_http_error(answer: &Answer, status: u16, kind: &str) -> String {
    let (got, body) = answer;
    assert_eq!(*got, status, "expected {status} {kind}, got {got}: {body}");
    assert_eq!(
        body["error"]["type"],
        Value::String(kind.to_owned()),
        "{body}"
    );
    let message = body["error"]["message"]
        .as_str()
        .expect("an error message")
        .to_owned();
    assert!(!message.is_empty());
    message
}

/// Asserts a REST response is 500 `internal` whose message names the request id of its
/// `x-request-id` header (a failure inside a batch); returns the message.
pub async fn assert_internal_naming_request_id(response: reqwest::Response) -> String {
    let header = response
        .headers()
        .get("x-request-id")
        .expect("an x-request-id header")
        .to_str()
        .expect("an ASCII request id")
        .to_owned();
    let answer: Answer = (
        response.status().as_u16(),
        response.json().await.expect("a JSON body"),
    );
    let message = assert_http_error(&answer, 500, "internal");
    assert!(
        message.contains(&format!("request id {header}")),
        "the body names the request id of the header: {message} / {header}"
    );
    message
}

/// Asserts the gRPC call failed with `code` and returns the status message.
pub fn assert_grpc_error<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
) -> String {
    match result {
        Ok(answer) => panic!("expected {code:?}, got an answer: {answer:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "{status:?}");
            status.message().to_owned()
        }
    }
}
