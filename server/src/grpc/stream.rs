//! The gRPC server-streaming method of a generating task (`CaptionStream`, `VqaStream`): the
//! same request as the unary method, answered as `TextDelta` messages of text that can no longer
//! change; the last one has `finished` set and carries the rest.

use std::{pin::Pin, sync::Arc};

use axum::{extract::State, response::Response};
use futures::{Stream, StreamExt};
use mplug2_proto::v1 as pb;
use tonic::{Status, server::ServerStreamingService};

use super::task::{Incoming, Received, failed, respond};
use crate::{gateway::Piece, serving::TaskState, tasks::TaskSlice};

pub async fn handle<T: TaskSlice>(
    State(state): State<Arc<TaskState>>,
    request: axum::extract::Request,
) -> Response {
    let incoming = match Incoming::<T>::receive(state, request.headers()).await {
        Ok(incoming) => incoming,
        Err(refused) => return refused,
    };
    incoming
        .grpc::<pb::TextDelta>()
        .server_streaming(Streaming(incoming), request)
        .await
        .map(axum::body::Body::new)
}

struct Streaming<T>(Incoming<T>);

type Deltas = Pin<Box<dyn Stream<Item = Result<pb::TextDelta, Status>> + Send>>;
type Answer = Pin<Box<dyn Future<Output = Result<tonic::Response<Deltas>, Status>> + Send>>;

impl<T: TaskSlice> ServerStreamingService<T::Message> for Streaming<T> {
    type Response = pb::TextDelta;
    type ResponseStream = Deltas;
    type Future = Answer;

    fn call(&mut self, request: tonic::Request<T::Message>) -> Answer {
        let received = self.0.take(request.into_inner());
        Box::pin(async move {
            let Received {
                gateway,
                call,
                slot,
                parse,
            } = received;
            let admitted = gateway
                .admit::<T>(&call, slot, parse)
                .await
                .map_err(|error| failed(error, &call))?;
            let mut pieces = Box::pin(admitted.stream());
            // An error before any text is the call's status, not a message of the stream.
            let first = match pieces.next().await {
                Some(Piece::Done(Err(error))) => return Err(failed(error, &call)),
                first => first,
            };
            let call_id = call.clone();
            let deltas = futures::stream::iter(first)
                .chain(pieces)
                .map(move |piece| match piece {
                    Piece::Text(text) => Ok(pb::TextDelta {
                        text,
                        finished: false,
                    }),
                    Piece::Done(Ok((rest, _))) => Ok(pb::TextDelta {
                        text: rest,
                        finished: true,
                    }),
                    Piece::Done(Err(error)) => Err(failed(error, &call_id)),
                });
            Ok(respond(&call, Box::pin(deltas) as Deltas))
        })
    }
}
