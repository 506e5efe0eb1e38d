//! The loaded model behind its module batchers. A task slice asks for an `executor` for its
//! request and runs the model crate's pipeline with it: the pipelines exist once, in the model
//! crate; each module call goes to that module's batcher.

mod batchers;
mod executor;
mod load;
mod media_decode;
mod model_info;
mod models;
mod runners;
mod work;

use std::sync::Arc;

use mplug2_model::{
    Model,
    tasks::{Module, Task, TaskContext},
};

use crate::{
    cache::{VisionCache, VisionCacheInfo},
    metrics::Metrics,
};
use batchers::Batchers;
pub use executor::RequestExecutor;
pub use load::{LoadError, LoadSettings, load};
use media_decode::MediaDecoding;
pub use model_info::ModelInfo;
pub use models::{Models, SelectError};
pub use work::{Progress, RequestTiming, Work};

pub struct Engine {
    model: Arc<Model>,
    context: TaskContext,
    batchers: Batchers,
    vision_cache: VisionCache,
    media_decoding: MediaDecoding,
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
}
