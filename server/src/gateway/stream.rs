//! An admitted request's answer as a stream: text that can no longer change, as its decoding
//! makes it sure, then the end with the answer. The protocols frame the pieces (REST: server-sent
//! events; gRPC: `TextDelta` messages).

use std::{collections::VecDeque, pin::Pin};

use futures::{Stream, stream};
use tokio::sync::mpsc;

use super::{Admitted, Answered};
use crate::{
    error::ApiError,
    tasks::{TaskSlice, TextStreamer},
};

pub enum Piece<A> {
    /// Sure text, in order; the pieces add up to the answer's text.
    Text(String),
    /// The run ended: the rest of the text (possibly empty) and the answer, or the error.
    Done(Result<(String, Answered<A>), ApiError>),
}

type Running<A> = Pin<Box<dyn Future<Output = Result<Answered<A>, ApiError>> + Send>>;

struct State<A> {
    run: Option<Running<A>>,
    progress: mpsc::UnboundedReceiver<Vec<i64>>,
    streamer: Option<TextStreamer>,
    ready: VecDeque<Piece<A>>,
    first_text: Option<Box<dyn FnOnce() + Send>>,
}

impl<T: TaskSlice> Admitted<T> {
    /// Runs the request, streaming its sure text (only a task with a streamer makes any before
    /// the end). Dropping the stream drops the run: its decoding stops at the next step.
    pub fn stream(self) -> impl Stream<Item = Piece<T::Answer>> + Send + 'static {
        let streamer = T::streamer(&self.engine, &self.request);
        let (sender, progress) = mpsc::unbounded_channel();
        let started = self.started;
        let ttft = self
            .gateway
            .metrics
            .time_to_first_token_seconds
            .with_label_values(&[T::NAME, &self.engine.info().name]);
        let admitted = if streamer.is_some() {
            self.with_progress(sender)
        } else {
            self
        };
        let state = State {
            run: Some(Box::pin(admitted.run())),
            progress,
            streamer,
            ready: VecDeque::new(),
            first_text: Some(Box::new(move || {
                ttft.observe(started.elapsed().as_secs_f64())
            })),
        };
        stream::unfold(state, |mut state| async move {
            loop {
                if let Some(piece) = state.ready.pop_front() {
                    if matches!(&piece, Piece::Text(_) | Piece::Done(Ok(_)))
                        && let Some(observe) = state.first_text.take()
                    {
                        observe();
                    }
                    return Some((piece, state));
                }
                let run = state.run.as_mut()?;
                tokio::select! {
                    biased;
                    Some(stable) = state.progress.recv() => {
                        if let Some(text) = state.streamer.as_mut().and_then(|s| s.advance(&stable)) {
                            state.ready.push_back(Piece::Text(text));
                        }
                    }
                    outcome = run => {
                        state.run = None;
                        let done = outcome.map(|answered| {
                            let text = T::streamed_text(&answered.answer);
                            let rest = match state.streamer.as_mut() {
                                Some(streamer) => streamer.finish(&text),
                                None => text,
                            };
                            (rest, answered)
                        });
                        state.ready.push_back(Piece::Done(done));
                    }
                }
            }
        })
    }
}
