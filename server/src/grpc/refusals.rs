//! tonic refuses some messages itself, before our service sees them: a message that does not
//! parse (INTERNAL, as gRPC's status-code guide has it) and one over the decoding limit
//! (OUT_OF_RANGE). The error table (ARCHITECTURE.md §5) answers both INVALID_ARGUMENT, as REST
//! answers malformed JSON and oversized bodies; this middleware rewrites the two.

use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use tonic::{Code, Status};

pub async fn to_error_table(max_body_bytes: usize, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let Some(status) = Status::from_header_map(response.headers()) else {
        return response;
    };
    match rewrite(&status, max_body_bytes) {
        Some(message) => Status::invalid_argument(message)
            .into_http::<axum::body::Body>()
            .into_response(),
        None => response,
    }
}

fn rewrite(status: &Status, max_body_bytes: usize) -> Option<String> {
    let message = status.message();
    match status.code() {
        Code::Internal if message.starts_with("failed to decode Protobuf message") => {
            Some(format!("the message does not parse: {message}"))
        }
        Code::Internal if message.starts_with("protocol error: received message with invalid") => {
            Some(message.to_owned())
        }
        Code::OutOfRange => {
            let found = message
                .strip_prefix("Error, decoded message length too large: found ")?
                .split(' ')
                .next()?;
            Some(format!(
                "the message is {found} bytes, over the limit of {max_body_bytes} (--max-body-bytes)"
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_tonics_own_refusals() {
        let undecodable = Status::internal(
            "failed to decode Protobuf message: VqaRequest.question: invalid string value",
        );
        assert!(
            rewrite(&undecodable, 10)
                .unwrap()
                .contains("does not parse")
        );
        let huge = Status::out_of_range(
            "Error, decoded message length too large: found 900 bytes, the limit is: 20 bytes",
        );
        assert_eq!(
            rewrite(&huge, 10).unwrap(),
            "the message is 900 bytes, over the limit of 10 (--max-body-bytes)"
        );
        let ours =
            Status::internal("internal error (request id 1-2); the server log has the details");
        assert_eq!(rewrite(&ours, 10), None);
    }
}
