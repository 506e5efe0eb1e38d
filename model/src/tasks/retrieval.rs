//! Embeddings, image-text matching and zero-shot classification (architecture note §1.6, §2).

use std::sync::Arc;

use futures::future::try_join_all;
use ndarray::{Array1, Axis};

use super::{Executor, Task, TaskContext};
use crate::ModelError;
use crate::modules::Embeddings;
use crate::preprocess::Media;

fn cls(embeddings: &Embeddings) -> Array1<f32> {
    embeddings.index_axis(Axis(0), 0).to_owned()
}

/// The embedding task of a medium: an image's or a video's (frame lists are videos).
pub fn embed_task(media: &Media) -> Task {
    match media {
        Media::Image(_) => Task::EmbedImage,
        Media::Video(_) | Media::Frames(_) => Task::EmbedVideo,
    }
}

/// `normalize(vision_proj(vision_embeds[0]))` of an image, video or frame list.
pub async fn embed_media(
    ctx: &TaskContext,
    ex: &impl Executor,
    media: Media,
) -> Result<Vec<f32>, ModelError> {
    ctx.require(embed_task(&media))?;
    let vision = ex.vision(ex.prepare(media).await?).await?;
    Ok(ex.heads_vision(cls(&vision)).await?.to_vec())
}

/// `normalize(text_proj(text_embeds[0]))` of a text (caption normalization).
pub async fn embed_text(
    ctx: &TaskContext,
    ex: &impl Executor,
    text: &str,
) -> Result<Vec<f32>, ModelError> {
    embed_text_ids(ctx, ex, ctx.text.caption_ids(text)?).await
}

/// `embed_text` of a text already tokenized by `ctx.text.caption_ids`.
pub async fn embed_text_ids(
    ctx: &TaskContext,
    ex: &impl Executor,
    ids: Vec<i64>,
) -> Result<Vec<f32>, ModelError> {
    ctx.require(Task::EmbedText)?;
    let embeds = ex.text(ids).await?;
    Ok(ex.heads_text(cls(&embeds)).await?.to_vec())
}

/// ITM match probability, `softmax(itm_head(fused[0]))[1]`, of the media with each text.
pub async fn match_texts(
    ctx: &TaskContext,
    ex: &impl Executor,
    media: Media,
    texts: &[String],
) -> Result<Vec<f32>, ModelError> {
    ctx.require(Task::Match)?;
    if texts.is_empty() {
        return Err(ModelError::InvalidInput("texts is empty".to_owned()));
    }
    let ids = texts
        .iter()
        .map(|text| ctx.text.caption_ids(text))
        .collect::<Result<Vec<_>, _>>()?;
    let vision = ex.vision(ex.prepare(media).await?).await?;
    let scores = ids.into_iter().map(|ids| {
        let vision = Arc::clone(&vision);
        async move { itm(ex, ex.text(ids).await?, vision).await }
    });
    try_join_all(scores).await
}

/// ITM match probability of one text with each medium: the text is encoded once.
pub async fn match_media(
    ctx: &TaskContext,
    ex: &impl Executor,
    text: &str,
    media: Vec<Media>,
) -> Result<Vec<f32>, ModelError> {
    ctx.require(Task::Match)?;
    if media.is_empty() {
        return Err(ModelError::InvalidInput("media is empty".to_owned()));
    }
    let text = ex.text(ctx.text.caption_ids(text)?).await?;
    let scores = media.into_iter().map(|medium| {
        let text = Arc::clone(&text);
        async move { itm(ex, text, ex.vision(ex.prepare(medium).await?).await?).await }
    });
    try_join_all(scores).await
}

/// `softmax(itm_head(fusion(text, vision)[0]))[1]`.
async fn itm(
    ex: &impl Executor,
    text: Arc<Embeddings>,
    vision: Arc<Embeddings>,
) -> Result<f32, ModelError> {
    let fused = ex.fusion(text, vision).await?;
    Ok(match_probability(&ex.heads_itm(cls(&fused)).await?))
}

/// Labels ranked by `softmax over labels of cos(media, prompt(label)) / temp`, best first.
pub async fn classify(
    ctx: &TaskContext,
    ex: &impl Executor,
    media: Media,
    labels: &[String],
) -> Result<Vec<(String, f32)>, ModelError> {
    ctx.require(Task::Classify)?;
    if labels.is_empty() {
        return Err(ModelError::InvalidInput("labels is empty".to_owned()));
    }
    let temp = ctx.temp.ok_or(ModelError::UnsupportedTask {
        task: Task::Classify,
    })?;
    let ids = labels
        .iter()
        .map(|label| {
            ctx.text
                .caption_ids(&ctx.classify_template.replace("{}", label))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let media_feature = async {
        let vision = ex.vision(ex.prepare(media).await?).await?;
        ex.heads_vision(cls(&vision)).await
    };
    let label_features = try_join_all(ids.into_iter().map(|ids| async move {
        let text = ex.text(ids).await?;
        ex.heads_text(cls(&text)).await
    }));
    let (media_feature, label_features) = futures::try_join!(media_feature, label_features)?;
    let logits: Vec<f32> = label_features
        .iter()
        .map(|feature| feature.dot(&media_feature) / temp)
        .collect();
    let mut ranked: Vec<(String, f32)> = labels.iter().cloned().zip(softmax(&logits)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(ranked)
}

/// `softmax(logits)[1]` of the two ITM logits.
pub fn match_probability(logits: &Array1<f32>) -> f32 {
    softmax(logits.as_slice().unwrap_or(&[]))
        .get(1)
        .copied()
        .unwrap_or(0.0)
}

fn softmax(values: &[f32]) -> Vec<f32> {
    let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = values.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_probability_is_the_softmax_of_the_match_logit() {
        let p = match_probability(&Array1::from(vec![0.0, 0.0]));
        assert_eq!(p, 0.5);
        let p = match_probability(&Array1::from(vec![1.0, 3.0]));
        assert!((p - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-7);
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let s = softmax(&[1.0, 2.0, 3.0]);
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(s[0] < s[1] && s[1] < s[2]);
    }
}
