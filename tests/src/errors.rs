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
