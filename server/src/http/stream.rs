//! A REST answer as server-sent events, framed by the slice (chat's `chat.completion.chunk`s).
//! An error before any text is an ordinary JSON error with its status; one after the stream
//! began is a last `data: {"error": …}` event.

use std::convert::Infallible;

use axum::{
    http::HeaderValue,
    response::{
        IntoResponse, Response,
        sse::{Event, Sse},
    },
};
use futures::{StreamExt, stream};
use serde_json::json;

use super::{REQUEST_ID_HEADER, task::respond};
use crate::{
    gateway::{Admitted, Call, Piece},
    tasks::{SseFrames, TaskSlice},
};

pub async fn events<T: TaskSlice>(
    admitted: Admitted<T>,
    mut frames: Box<dyn SseFrames<T::Answer>>,
    call: &Call,
) -> Response {
    let mut pieces = Box::pin(admitted.stream());
    let first = match pieces.next().await {
        Some(Piece::Done(Err(error))) => return respond(call, Err(error)),
        first => first,
    };
    let events = stream::iter(first).chain(pieces).flat_map(move |piece| {
        let payloads = match piece {
            Piece::Text(text) => frames.delta(&text),
            Piece::Done(Ok((rest, answered))) => frames.end(&rest, answered.answer),
            Piece::Done(Err(error)) => {
                let body =
                    json!({ "error": { "type": error.type_name(), "message": error.to_string() } });
                vec![body.to_string(), "[DONE]".to_owned()]
            }
        };
        stream::iter(
            payloads
                .into_iter()
                .map(|payload| Ok::<_, Infallible>(Event::default().data(payload))),
        )
    });
    let mut response = Sse::new(events).into_response();
    if let Ok(id) = HeaderValue::from_str(&call.request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}
