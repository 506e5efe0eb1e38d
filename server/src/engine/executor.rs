//! One request's `Executor`: the model crate's task pipelines call it once per module call, and
//! it sends each call to that module's batcher with the request's deadline. It also tells the
//! batchers which modules the request will still use (so they may wait for it) and adds up the
//! request's queue and compute time per module.

use std::{sync::Arc, time::Instant};

use mplug2_model::{
    ErrorKind, ModelError,
    decode::DecodeParams,
    modules::Embeddings,
    preprocess::{Media, PixelValues},
    tasks::{Executor, Memory, Module},
};
use ndarray::Array1;

use super::{Engine, Work, runners::Head};
use crate::scheduler::{Expectation, ItemTiming, ScheduleError};

pub struct RequestExecutor<'a> {
    engine: &'a Engine,
    work: &'a Work,
    deadline: Instant,
    expectations: Vec<(Module, Expectation)>,
    /// Frames sampled from each video or frame list (`None`: the package's count).
    num_frames: Option<usize>,
}

impl<'a> RequestExecutor<'a> {
    pub(super) fn new(
        engine: &'a Engine,
        modules: &[Module],
        work: &'a Work,
    ) -> RequestExecutor<'a> {
        let expectations = modules
            .iter()
            .filter_map(|&module| Some((module, engine.batchers.expect(module)?)))
            .collect();
        RequestExecutor {
            engine,
            work,
            deadline: work.deadline,
            expectations,
            num_frames: None,
        }
    }

    /// Samples the request's videos and frame lists to `num_frames` frames.
    pub fn with_num_frames(mut self, num_frames: Option<usize>) -> RequestExecutor<'a> {
        self.num_frames = num_frames;
        self
    }

    /// The request's first item reaches `module`: it is no longer only expected there.
    fn arrive(&self, module: Module) {
        if let Some((_, expectation)) = self.expectations.iter().find(|(m, _)| *m == module) {
            expectation.arrive();
        }
    }

    fn finish<T>(
        &self,
        module: Module,
        reply: Result<(T, ItemTiming), ScheduleError<Arc<ModelError>>>,
    ) -> Result<T, ModelError> {
        match reply {
            Ok((output, timing)) => {
                self.work.add_module(module, timing);
                Ok(output)
            }
            Err(ScheduleError::DeadlinePassed) => Err(ModelError::Executor {
                kind: ErrorKind::Timeout,
                message: format!(
                    "the request's deadline passed while it waited for the {module} module"
                ),
            }),
            Err(ScheduleError::QueueFull { limit }) => Err(ModelError::Executor {
                kind: ErrorKind::Overloaded,
                message: format!(
                    "the {module} module's queue holds its limit of {limit} items (--max-queue-items)"
                ),
            }),
            Err(ScheduleError::Stopped) => Err(ModelError::Executor {
                kind: ErrorKind::Internal,
                message: format!("the {module} batcher stopped"),
            }),
            Err(ScheduleError::Failed(error)) => Err(Arc::try_unwrap(error).unwrap_or_else(
                |shared| ModelError::Executor {
                    kind: shared.kind(),
                    message: shared.to_string(),
                },
            )),
        }
    }
}

fn not_loaded(module: Module) -> ModelError {
    ModelError::Executor {
        kind: ErrorKind::UnsupportedTask,
        message: format!("the package has no {module} graph for this task"),
    }
}

impl Executor for RequestExecutor<'_> {
    async fn prepare(&self, media: Media) -> Result<PixelValues, ModelError> {
        let started = Instant::now();
        let pixels = self
            .engine
            .preprocess(media, self.num_frames, self.deadline)
            .await;
        self.work.add_preprocess(started.elapsed());
        pixels
    }

    async fn vision(&self, pixels: PixelValues) -> Result<Arc<Embeddings>, ModelError> {
        let batcher = self
            .engine
            .batchers
            .vision
            .as_ref()
            .ok_or(not_loaded(Module::Vision))?;
        self.arrive(Module::Vision);
        let run = |pixels| async move {
            self.finish(Module::Vision, batcher.submit(pixels, self.deadline).await)
        };
        self.engine.vision_cache.get_or_compute(pixels, run).await
    }

    async fn text(&self, input_ids: Vec<i64>) -> Result<Arc<Embeddings>, ModelError> {
        let batcher = self
            .engine
            .batchers
            .text
            .as_ref()
            .ok_or(not_loaded(Module::Text))?;
        self.arrive(Module::Text);
        self.finish(Module::Text, batcher.submit(input_ids, self.deadline).await)
    }

    async fn fusion(
        &self,
        text: Arc<Embeddings>,
        vision: Arc<Embeddings>,
    ) -> Result<Embeddings, ModelError> {
        let batcher = self
            .engine
            .batchers
            .fusion
            .as_ref()
            .ok_or(not_loaded(Module::Fusion))?;
        self.arrive(Module::Fusion);
        self.finish(
            Module::Fusion,
            batcher.submit((text, vision), self.deadline).await,
        )
    }

    async fn decode(
        &self,
        memory: Memory,
        params: DecodeParams,
    ) -> Result<Vec<Vec<i64>>, ModelError> {
        let batcher = self
            .engine
            .batchers
            .decoder
            .as_ref()
            .ok_or(not_loaded(Module::Decoder))?;
        self.arrive(Module::Decoder);
        self.finish(
            Module::Decoder,
            batcher
                .decode(memory, params, self.deadline, self.work.progress.clone())
                .await,
        )
    }

    async fn heads_vision(&self, cls: Array1<f32>) -> Result<Array1<f32>, ModelError> {
        self.head(Head::Vision, cls).await
    }

    async fn heads_text(&self, cls: Array1<f32>) -> Result<Array1<f32>, ModelError> {
        self.head(Head::Text, cls).await
    }

    async fn heads_itm(&self, cls: Array1<f32>) -> Result<Array1<f32>, ModelError> {
        self.head(Head::Itm, cls).await
    }
}

impl RequestExecutor<'_> {
    async fn head(&self, head: Head, cls: Array1<f32>) -> Result<Array1<f32>, ModelError> {
        let batcher = self
            .engine
            .batchers
            .heads
            .as_ref()
            .ok_or(not_loaded(Module::Heads))?;
        self.arrive(Module::Heads);
        self.finish(
            Module::Heads,
            batcher.submit((head, cls), self.deadline).await,
        )
    }
}
