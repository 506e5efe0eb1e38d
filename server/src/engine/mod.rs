//! The loaded model behind its module batchers. A task slice asks for an `executor` for its
//! request and runs the model crate's pipeline with it: the pipelines exist once, in the model
//! crate; each module call goes to that module's batcher.

mod batchers;
mod executor;
mod load;
mod model_info;
mod models;
mod runners;
mod work;

use std::{sync::Arc, time::Instant};

use mplug2_model::{
    ErrorKind, Model, ModelError,
    preprocess::{Media, PixelValues},
    tasks::{Module, Task, TaskContext},
};
use tokio::sync::Semaphore;

use crate::{
    cache::{VisionCache, VisionCacheInfo},
    metrics::Metrics,
};
use batchers::Batchers;
pub use executor::RequestExecutor;
pub use load::{LoadError, LoadSettings, load};
pub use model_info::ModelInfo;
pub use models::{Models, SelectError};
pub use work::{Progress, RequestTiming, Work};

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
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// What the task pipelines need to know about the package.
    pub fn context(&self) -> &TaskContext {
        &self.context
    }

    pub fn vision_cache_info(&self) -> VisionCacheInfo {
        self.vision_cache.info()
    }

    /// Whether the package serves a task.
    pub fn serves(&self, task: Task) -> bool {
        self.model.tasks().contains(&task)
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

    /// The executor of one request of these tasks: its module calls go to the batchers, within
    /// the work's deadline, their times added to it; the batchers of the tasks' modules expect
    /// it from now on.
    pub fn executor<'a>(&'a self, tasks: &[Task], work: &'a Work) -> RequestExecutor<'a> {
        RequestExecutor::new(self, &Task::modules_of(tasks), work)
    }

    /// Counts a generation's tokens in `mplug2_generated_tokens_total{task}`.
    pub fn count_tokens(&self, task: &str, ids: &[i64]) {
        // The leading BOS is the prompt, not generated.
        let generated = ids.len().saturating_sub(1) as u64;
        self.metrics
            .generated_tokens_total
            .with_label_values(&[task, &self.info.name])
            .inc_by(generated);
    }

    /// Logs where a request's time went, per module (debug level).
    pub fn log_timing(&self, task: &str, timing: &RequestTiming) {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        let queued: Vec<String> = Module::ALL
            .iter()
            .zip(&timing.modules)
            .filter(|(_, t)| !t.compute.is_zero())
            .map(|(m, t)| format!("{m}={:.2}/{:.2}", ms(t.queued), ms(t.compute)))
            .collect();
        tracing::debug!(task, preprocess_ms = ms(timing.preprocess), queue_compute_ms = %queued.join(" "), "request timing");
    }

    /// Decodes and resizes media on a blocking thread, at most one per core at a time; media
    /// whose deadline passed while it waited for a core is not decoded.
    async fn preprocess(
        &self,
        media: Media,
        num_frames: Option<usize>,
        deadline: Instant,
    ) -> Result<PixelValues, ModelError> {
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
        let pixels = tokio::task::spawn_blocking(move || {
            model.preprocessor.prepare_frames(media, num_frames)
        })
        .await
        .map_err(|error| ModelError::Executor {
            kind: ErrorKind::Internal,
            message: format!("media decoding failed: {error}"),
        })?;
        self.metrics
            .preprocess_duration_seconds
            .with_label_values(&[kind, &self.info.name])
            .observe(started.elapsed().as_secs_f64());
        Ok(pixels?)
    }
}
