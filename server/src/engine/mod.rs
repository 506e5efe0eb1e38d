//! The loaded model behind its module batchers. Each task method builds a `RequestExecutor` and
//! runs the model crate's pipeline for the task: the pipelines exist once, in the model crate.

mod executor;
mod load;
mod runners;

use std::{sync::Arc, time::Instant};

use futures::future::try_join_all;
use mplug2_model::{
    ErrorKind, Model, ModelError,
    decode::DecodeOverrides,
    preprocess::{Media, PixelValues},
    tasks::{self, Module, Task, TaskContext},
};
use tokio::sync::Semaphore;

use crate::{
    cache::{VisionCache, VisionCacheInfo},
    info::ModelInfo,
    metrics::Metrics,
    request::{
        CaptionRequest, ClassifyRequest, DecodeOptions, EmbedInput, EmbedRequest, MatchRequest,
        VqaRequest,
    },
    scheduler::{Batcher, DecoderBatcher, Expectation},
};
use executor::{RequestExecutor, RequestTiming};
pub use load::{LoadError, load};
use runners::{FusionRunner, HeadsRunner, TextRunner, VisionRunner};

/// One batcher per module the package has.
struct Batchers {
    vision: Option<Batcher<VisionRunner>>,
    text: Option<Batcher<TextRunner>>,
    fusion: Option<Batcher<FusionRunner>>,
    decoder: Option<DecoderBatcher>,
    heads: Option<Batcher<HeadsRunner>>,
}

pub struct Engine {
    model: Arc<Model>,
    context: TaskContext,
    batchers: Batchers,
    vision_cache: VisionCache,
    /// Bounds concurrent media decoding (CPU work on blocking threads) to the cores.
    preprocessing: Arc<Semaphore>,
    metrics: Metrics,
    info: ModelInfo,
}

impl Engine {
    pub fn model_info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn vision_cache_info(&self) -> VisionCacheInfo {
        self.vision_cache.info()
    }

    pub fn task_names(&self) -> Vec<String> {
        self.model
            .tasks()
            .iter()
            .map(|task| task.name().to_owned())
            .collect()
    }

    pub fn provider_name(&self) -> &'static str {
        self.model.provider().name()
    }

    pub async fn vqa(&self, request: VqaRequest, deadline: Instant) -> Result<String, ModelError> {
        let executor = RequestExecutor::new(self, Task::Vqa.modules(), deadline);
        let overrides = overrides(request.decoding);
        let ids = tasks::vqa_ids(
            &self.context,
            &executor,
            request.media,
            &request.question,
            overrides,
        )
        .await;
        self.log_timing("vqa", &executor.timing());
        let ids = ids?;
        self.count_tokens(Task::Vqa, &ids);
        Ok(self.context.text.answer_text(&ids))
    }

    pub async fn caption(
        &self,
        request: CaptionRequest,
        deadline: Instant,
    ) -> Result<String, ModelError> {
        let executor = RequestExecutor::new(self, Task::Caption.modules(), deadline);
        let ids = tasks::caption_ids(
            &self.context,
            &executor,
            request.media,
            overrides(request.decoding),
        )
        .await;
        self.log_timing("caption", &executor.timing());
        let ids = ids?;
        self.count_tokens(Task::Caption, &ids);
        Ok(self
            .context
            .text
            .caption_text(&ids, self.context.caption_prompt.as_deref()))
    }

    pub async fn embed(
        &self,
        request: EmbedRequest,
        deadline: Instant,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let has_text = request
            .inputs
            .iter()
            .any(|input| matches!(input, EmbedInput::Text(_)));
        let has_media = request
            .inputs
            .iter()
            .any(|input| matches!(input, EmbedInput::Media(_)));
        let mut modules = vec![Module::Heads];
        modules.extend(has_text.then_some(Module::Text));
        modules.extend(has_media.then_some(Module::Vision));
        let executor = RequestExecutor::new(self, &modules, deadline);
        let (context, executor_ref) = (&self.context, &executor);
        let vectors = try_join_all(request.inputs.into_iter().map(|input| async move {
            match input {
                EmbedInput::Text(text) => tasks::embed_text(context, executor_ref, &text).await,
                EmbedInput::Media(media) => tasks::embed_media(context, executor_ref, media).await,
            }
        }))
        .await;
        self.log_timing("embeddings", &executor.timing());
        vectors
    }

    pub async fn match_texts(
        &self,
        request: MatchRequest,
        deadline: Instant,
    ) -> Result<Vec<f32>, ModelError> {
        let executor = RequestExecutor::new(self, Task::Match.modules(), deadline);
        let scores =
            tasks::match_texts(&self.context, &executor, request.media, &request.texts).await;
        self.log_timing("match", &executor.timing());
        scores
    }

    pub async fn classify(
        &self,
        request: ClassifyRequest,
        deadline: Instant,
    ) -> Result<Vec<(String, f32)>, ModelError> {
        let executor = RequestExecutor::new(self, Task::Classify.modules(), deadline);
        let labels =
            tasks::classify(&self.context, &executor, request.media, &request.labels).await;
        self.log_timing("classify", &executor.timing());
        labels
    }

    /// Decodes and resizes media on a blocking thread, at most one per core at a time; media
    /// whose deadline passed while it waited for a core is not decoded.
    async fn preprocess(&self, media: Media, deadline: Instant) -> Result<PixelValues, ModelError> {
        let _slot = Arc::clone(&self.preprocessing)
            .acquire_owned()
            .await
            .map_err(|_| ModelError::Executor {
                kind: ErrorKind::Unavailable,
                message: "media decoding is shutting down".into(),
            })?;
        if Instant::now() >= deadline {
            return Err(ModelError::Executor {
                kind: ErrorKind::Timeout,
                message: "the request's deadline passed while it waited to decode its media".into(),
            });
        }
        let kind = media.kind();
        let started = Instant::now();
        let model = Arc::clone(&self.model);
        let pixels = tokio::task::spawn_blocking(move || model.preprocessor.prepare(media))
            .await
            .map_err(|error| ModelError::Executor {
                kind: ErrorKind::Internal,
                message: format!("media decoding failed: {error}"),
            })?;
        self.metrics
            .preprocess_duration_seconds
            .with_label_values(&[kind])
            .observe(started.elapsed().as_secs_f64());
        Ok(pixels?)
    }

    fn expect(&self, module: Module) -> Option<Expectation> {
        let b = &self.batchers;
        match module {
            Module::Vision => b.vision.as_ref().map(Batcher::expect),
            Module::Text => b.text.as_ref().map(Batcher::expect),
            Module::Fusion => b.fusion.as_ref().map(Batcher::expect),
            Module::Decoder => b.decoder.as_ref().map(DecoderBatcher::expect),
            Module::Heads => b.heads.as_ref().map(Batcher::expect),
        }
    }

    fn count_tokens(&self, task: Task, ids: &[i64]) {
        // The leading BOS is the prompt, not generated.
        let generated = ids.len().saturating_sub(1) as u64;
        self.metrics
            .generated_tokens_total
            .with_label_values(&[task.name()])
            .inc_by(generated);
    }

    fn log_timing(&self, task: &str, timing: &RequestTiming) {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        let queued: Vec<String> = Module::ALL
            .iter()
            .zip(&timing.modules)
            .filter(|(_, t)| !t.compute.is_zero())
            .map(|(m, t)| format!("{m}={:.2}/{:.2}", ms(t.queued), ms(t.compute)))
            .collect();
        tracing::debug!(task, preprocess_ms = ms(timing.preprocess), queue_compute_ms = %queued.join(" "), "request timing");
    }
}

fn overrides(options: DecodeOptions) -> DecodeOverrides {
    DecodeOverrides {
        beam_size: options.beam_size.map(|v| v as usize),
        min_length: options.min_length.map(|v| v as usize),
        max_length: options.max_length.map(|v| v as usize),
    }
}
