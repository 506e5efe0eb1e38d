//! The gRPC unary method of a task slice: tonic's codec decodes the message (within twice the
//! body limit) and encodes the answer; the gateway runs it as it runs a REST request.

use std::{marker::PhantomData, pin::Pin, sync::Arc};

use axum::{extract::State, http::HeaderMap, response::Response};
use prost::Message;
use tonic::{Status, server::Grpc, server::UnaryService};
use tonic_prost::ProstCodec;

use super::call;
use crate::{
    error::ApiError,
    gateway::{Call, Gateway, IntakeSlot, Routed, Timing},
    serving::TaskState,
    tasks::TaskSlice,
};

pub async fn handle<T: TaskSlice>(
    State(state): State<Arc<TaskState>>,
    request: axum::extract::Request,
) -> Response {
    let incoming = match Incoming::<T>::receive(state, request.headers()).await {
        Ok(incoming) => incoming,
        Err(refused) => return refused,
    };
    incoming
        .grpc::<T::Reply>()
        .unary(Unary(incoming), request)
        .await
        .map(axum::body::Body::new)
}

/// A call of one of `T`'s methods, until its message arrives.
pub struct Incoming<T> {
    state: Arc<TaskState>,
    call: Call,
    header: Option<Result<(), ApiError>>,
    slot: Option<IntakeSlot>,
    task: PhantomData<fn() -> T>,
}

/// What the gateway runs of a call.
pub struct Received<P> {
    pub gateway: Arc<Gateway>,
    pub call: Call,
    pub slot: Result<IntakeSlot, ApiError>,
    pub parse: P,
}

impl<T: TaskSlice> Incoming<T> {
    /// The call with its intake slot, taken before the message is read; a refusal is the answer.
    pub async fn receive(
        state: Arc<TaskState>,
        headers: &HeaderMap,
    ) -> Result<Incoming<T>, Response> {
        let (call, header) = call::from_headers(headers);
        match state.gateway.receive() {
            Ok(slot) => Ok(Incoming {
                state,
                call,
                header: Some(header),
                slot: Some(slot),
                task: PhantomData,
            }),
            Err(error) => {
                let refused = state
                    .gateway
                    .run::<T>(&call, Err(error), std::future::pending())
                    .await;
                let error = refused.err().unwrap_or_else(|| ApiError::Internal {
                    request_id: call.request_id.clone(),
                });
                Err(failed(error, &call).into_http::<axum::body::Body>())
            }
        }
    }

    /// tonic's server side of the call, answering `R`. Twice the body limit: a message up to the
    /// limit passes, one a little over gets the contract's INVALID_ARGUMENT from the size check
    /// of `take`, and a far larger one is refused by tonic from its length prefix before it is
    /// buffered (OUT_OF_RANGE, rewritten by `refusals`).
    pub fn grpc<R: Message + Send + 'static>(&self) -> Grpc<ProstCodec<R, T::Message>> {
        let max_message = self.state.max_body_bytes.saturating_mul(2);
        Grpc::new(ProstCodec::default()).apply_max_message_size_config(Some(max_message), None)
    }

    /// The message, for the gateway: its size checked, then converted.
    pub fn take(
        &mut self,
        message: T::Message,
    ) -> Received<impl Future<Output = Result<Routed<T::Request>, ApiError>> + Send + 'static> {
        let state = Arc::clone(&self.state);
        let call = self.call.clone();
        let header = self.header.take().unwrap_or(Ok(()));
        let slot = self.slot.take().ok_or_else(|| ApiError::Internal {
            request_id: call.request_id.clone(),
        });
        let gateway = Arc::clone(&state.gateway);
        let urls = state.media_urls.until(gateway.deadline(&call));
        let parse = async move {
            header?;
            let size = message.encoded_len();
            let max_body_bytes = state.max_body_bytes;
            if size > max_body_bytes {
                return Err(ApiError::PayloadTooLarge(format!(
                    "the message is {size} bytes, over the limit of {max_body_bytes} (--max-body-bytes)"
                )));
            }
            let model = Some(T::message_model(&message).to_owned()).filter(|name| !name.is_empty());
            let request = T::from_message(message, &urls).await?;
            Ok(Routed { model, request })
        };
        Received {
            gateway,
            call,
            slot,
            parse,
        }
    }
}

struct Unary<T>(Incoming<T>);

type Answer<R> = Pin<Box<dyn Future<Output = Result<tonic::Response<R>, Status>> + Send>>;

impl<T: TaskSlice> UnaryService<T::Message> for Unary<T> {
    type Response = T::Reply;
    type Future = Answer<T::Reply>;

    fn call(&mut self, request: tonic::Request<T::Message>) -> Self::Future {
        let received = self.0.take(request.into_inner());
        Box::pin(async move {
            let Received {
                gateway,
                call,
                slot,
                parse,
            } = received;
            match gateway.run::<T>(&call, slot, parse).await {
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
pub fn timing_metadata(metadata: &mut tonic::metadata::MetadataMap, timing: &Timing) {
    for (name, took) in [
        ("x-queue-time", timing.queue),
        ("x-compute-time", timing.compute),
        ("x-total-time", timing.total),
    ] {
        metadata.insert(name, (took.as_millis() as u64).into());
    }
}

/// The error's status, with the request id in the `x-request-id` metadata.
pub fn failed(error: ApiError, call: &Call) -> Status {
    let mut status = Status::from(error);
    if let Ok(id) = call.request_id.parse() {
        status.metadata_mut().insert("x-request-id", id);
    }
    status
}
