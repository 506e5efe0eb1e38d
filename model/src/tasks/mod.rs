//! The task table and the task pipelines, written once and generic over an `Executor`.

mod context;
mod direct;
mod executor;
mod generate;
mod retrieval;
mod table;

pub use context::TaskContext;
pub use direct::DirectExecutor;
pub use executor::{Executor, Memory};
pub use generate::{caption, caption_choices, caption_ids, vqa, vqa_choices, vqa_ids};
pub use retrieval::{
    classify, embed_media, embed_task, embed_text, embed_text_ids, match_media, match_probability,
    match_texts,
};
pub use table::{Module, Task};
