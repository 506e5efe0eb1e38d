//! The gRPC method of a task slice: tonic's codec decodes the message (within twice the body
//! limit) and encodes the answer; the gateway runs it as it runs a REST request.

use std::{marker::PhantomData, pin::Pin, sync::Arc};

use axum::{extract::State, response::Response};
use prost::Message;
use tonic::{Status, server::Grpc, server::UnaryService};
use tonic_prost::ProstCodec;

use super::call;
use crate::{
    error::ApiError,
    gateway::{Call, IntakeSlot, Timing},
    serving::TaskState,
    tasks::TaskSlice,
};

pub async fn handle<T: TaskSlice>(
    State(state): State<Arc<TaskState>>,
    request: axum::extract::Request,
) -> Response {
    let (call, header) = call::from_headers(request.headers());
    // The intake slot first: no message is read beyond --max-pending-requests.
    let slot = match state.gateway.receive() {
        Ok(slot) => slot,
        Err(error) => {
            let refused = state
                .gateway
                .run::<T>(&call, Err(error), std::future::pending())
                .await;
            let error = refused.err().unwrap_or_else(|| ApiError::Internal {
                request_id: call.request_id.clone(),
            });
            return failed(error, &call).into_http::<axum::body::Body>();
        }
    };
    // Twice the body limit: a message up to the limit passes, one a little over gets the
    // contract's INVALID_ARGUMENT from the size check below, and a far larger one is refused by
    // tonic from its length prefix before it is buffered (OUT_OF_RANGE, rewritten by `refusals`).
    let max_message = state.max_body_bytes.saturating_mul(2);
    let method = Method::<T> {
        state,
        call,
        header: Some(header),
        slot: Some(slot),
        task: PhantomData,
    };
    let mut grpc = Grpc::new(ProstCodec::<T::Reply, T::Message>::default())
        .apply_max_message_size_config(Some(max_message), None);
    grpc.unary(method, request).await.map(axum::body::Body::new)
}

/// One call of `T`'s method.
struct Method<T> {
    state: Arc<TaskState>,
    call: Call,
    header: Option<Result<(), ApiError>>,
    slot: Option<IntakeSlot>,
    task: PhantomData<fn() -> T>,
}

type Answer<R> = Pin<Box<dyn Future<Output = Result<tonic::Response<R>, Status>> + Send>>;

impl<T: TaskSlice> UnaryService<T::Message> for Method<T> {
    type Response = T::Reply;
    type Future = Answer<T::Reply>;

    fn call(&mut self, request: tonic::Request<T::Message>) -> Self::Future {
        let state = Arc::clone(&self.state);
        let call = self.call.clone();
        let header = self.header.take().unwrap_or(Ok(()));
        let slot = self.slot.take().ok_or_else(|| ApiError::Internal {
            request_id: call.request_id.clone(),
        });
        let message = request.into_inner();
        Box::pin(async move {
            let max_body_bytes = state.max_body_bytes;
            let parse = async {
                header?;
                let size = message.encoded_len();
                if size > max_body_bytes {
                    return Err(ApiError::PayloadTooLarge(format!(
                        "the message is {size} bytes, over the limit of {max_body_bytes} (--max-body-bytes)"
                    )));
                }
                T::from_message(message, &state.media_urls).await
            };
            match state.gateway.run::<T>(&call, slot, parse).await {
                Ok(answered) => {
                    let mut response = respond(&call, T::to_reply(answered.answer));
                    timing_metadata(response.metadata_mut(), &answered.timing);
                    Ok(response)
                }
                Err(error) => Err(failed(error, &call)),
            }
        })
    }
}

/// The answer, with the request id in the `x-request-id` metadata as on REST.
pub fn respond<M>(call: &Call, message: M) -> tonic::Response<M> {
    let mut response = tonic::Response::new(message);
    if let Ok(id) = call.request_id.parse() {
        response.metadata_mut().insert("x-request-id", id);
    }
    response
}

/// The REST timing headers, as metadata.
fn timing_metadata(metadata: &mut tonic::metadata::MetadataMap, timing: &Timing) {
    for (name, took) in [
        ("x-queue-time", timing.queue),
        ("x-compute-time", timing.compute),
        ("x-total-time", timing.total),
    ] {
        metadata.insert(name, (took.as_millis() as u64).into());
    }
}

/// The error's status, with the request id in the `x-request-id` metadata.
fn failed(error: ApiError, call: &Call) -> Status {
    let mut status = Status::from(error);
    if let Ok(id) = call.request_id.parse() {
        status.metadata_mut().insert("x-request-id", id);
    }
    status
}
