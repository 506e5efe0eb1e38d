//! The generative tasks: caption and VQA (architecture note §1.5, §2).
//!
//! Each has a `*_choices` form returning the `n` results (`DecodeOverrides::num_results`; the
//! best hypotheses best first, or the samples in order), an `*_ids` form returning the first,
//! and a text form.

use std::sync::Arc;

use super::{Executor, Memory, Task, TaskContext};
use crate::ModelError;
use crate::decode::DecodeOverrides;
use crate::preprocess::Media;

/// vision → decoder (memory = vision embeddings) → caption text after the prompt.
pub async fn caption(
    ctx: &TaskContext,
    ex: &impl Executor,
    media: Media,
    overrides: DecodeOverrides,
) -> Result<String, ModelError> {
    caption_ids(ctx, ex, media, overrides)
        .await
        .map(|ids| ctx.text.caption_text(&ids, ctx.caption_prompt.as_deref()))
}

/// The caption's generated token ids (leading `[CLS]` included): the first result.
pub async fn caption_ids(
    ctx: &TaskContext,
    ex: &impl Executor,
    media: Media,
    overrides: DecodeOverrides,
) -> Result<Vec<i64>, ModelError> {
    first(caption_choices(ctx, ex, media, overrides).await?)
}

/// Every result's token ids (leading `[CLS]` included), `num_results` of them.
pub async fn caption_choices(
    ctx: &TaskContext,
    ex: &impl Executor,
    media: Media,
    overrides: DecodeOverrides,
) -> Result<Vec<Vec<i64>>, ModelError> {
    ctx.require(Task::Caption)?;
    let params = ctx.caption_params(overrides)?;
    let pixels = ex.prepare(media).await?;
    let vision = ex.vision(pixels).await?;
    let memory = Memory {
        vision,
        question: None,
    };
    ex.decode(memory, params).await
}

/// vision ∥ text(question) → fusion → decoder (memory = [vision; fused question]) → answer.
pub async fn vqa(
    ctx: &TaskContext,
    ex: &impl Executor,
    media: Media,
    question: &str,
    overrides: DecodeOverrides,
) -> Result<String, ModelError> {
    vqa_ids(ctx, ex, media, question, overrides)
        .await
        .map(|ids| ctx.text.answer_text(&ids))
}

/// The answer's generated token ids (leading `[CLS]` included): the first result.
pub async fn vqa_ids(
    ctx: &TaskContext,
    ex: &impl Executor,
    media: Media,
    question: &str,
    overrides: DecodeOverrides,
) -> Result<Vec<i64>, ModelError> {
    first(vqa_choices(ctx, ex, media, question, overrides).await?)
}

/// Every answer's token ids (leading `[CLS]` included), `num_results` of them.
pub async fn vqa_choices(
    ctx: &TaskContext,
    ex: &impl Executor,
    media: Media,
    question: &str,
    overrides: DecodeOverrides,
) -> Result<Vec<Vec<i64>>, ModelError> {
    ctx.require(Task::Vqa)?;
    let params = ctx.vqa_params(overrides)?;
    // Text errors are cheap to find: report them before any media work.
    let question_ids = ctx.text.question_ids(question)?;
    let vision = async { ex.vision(ex.prepare(media).await?).await };
    let (vision, question) = futures::try_join!(vision, ex.text(question_ids))?;
    let fused = ex.fusion(question, Arc::clone(&vision)).await?;
    let memory = Memory {
        vision,
        question: Some(Arc::new(fused)),
    };
    ex.decode(memory, params).await
}

fn first(choices: Vec<Vec<i64>>) -> Result<Vec<i64>, ModelError> {
    choices
        .into_iter()
        .next()
        .ok_or_else(|| ModelError::output("decoder", "no result"))
}
