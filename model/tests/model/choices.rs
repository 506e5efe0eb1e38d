//! `n` results, sampling and per-request frame counts through the task pipelines
//! (`DirectExecutor`), and their request errors.

use crate::common::{demo_model, medium_media};
use mplug2_model::decode::{DecodeOverrides, Sampling, Strategy};
use mplug2_model::tasks::{self, DirectExecutor, Executor};
use mplug2_model::{ErrorKind, ModelError};

fn sample(n: usize, seed: u64) -> DecodeOverrides {
    DecodeOverrides {
        num_results: Some(n),
        strategy: Some(Strategy::Sample(Sampling {
            temperature: 0.8,
            top_p: 0.95,
            top_k: 0,
            seed,
        })),
        ..DecodeOverrides::default()
    }
}

#[test]
fn caption_choices_start_with_the_best_caption() {
    let model = demo_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    let media = || medium_media("frames_7");
    let best =
        pollster::block_on(tasks::caption_ids(&ctx, &ex, media(), Default::default())).unwrap();
    let three = DecodeOverrides {
        num_results: Some(3),
        ..DecodeOverrides::default()
    };
    let choices = pollster::block_on(tasks::caption_choices(&ctx, &ex, media(), three)).unwrap();
    assert_eq!(choices.len(), 3);
    assert_eq!(choices[0], best);
    assert!(choices[1..].iter().all(|c| *c != best));
}

#[test]
fn vqa_samples_are_reproducible_through_the_pipeline() {
    let model = demo_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    let run = |overrides| {
        pollster::block_on(tasks::vqa_choices(
            &ctx,
            &ex,
            medium_media("image_97x131"),
            "what is in the picture?",
            overrides,
        ))
        .unwrap()
    };
    let samples = run(sample(4, 9));
    assert_eq!(samples.len(), 4);
    assert_eq!(samples, run(sample(4, 9)));
    // Sample j does not depend on how many were asked for.
    assert_eq!(run(sample(1, 9)), samples[..1]);
}

#[test]
fn bad_n_sampling_and_frame_counts_are_invalid_requests() {
    let model = demo_model();
    let ctx = model.task_context();
    let ex = DirectExecutor::new(model);
    let caption = |ex: &DirectExecutor, overrides| {
        pollster::block_on(tasks::caption(
            &ctx,
            ex,
            medium_media("frames_7"),
            overrides,
        ))
        .unwrap_err()
    };
    let too_many = DecodeOverrides {
        num_results: Some(ctx.caption.beam_size + 1),
        ..DecodeOverrides::default()
    };
    let error = caption(&ex, too_many);
    assert!(matches!(error, ModelError::Override(_)), "{error}");
    assert!(error.to_string().starts_with("n must be"), "{error}");
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);

    let mut cold = sample(1, 0);
    if let Some(Strategy::Sample(sampling)) = &mut cold.strategy {
        sampling.temperature = -1.0;
    }
    let error = caption(&ex, cold);
    assert!(matches!(error, ModelError::Sampling(_)), "{error}");
    assert!(error.to_string().starts_with("temperature"), "{error}");
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);

    let error = caption(&ex.with_num_frames(Some(0)), Default::default());
    assert!(error.to_string().contains("num_frames"), "{error}");
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
}

#[test]
fn the_direct_executor_samples_the_requested_frame_count() {
    let model = demo_model();
    let ex = DirectExecutor::new(model);
    let frames = |ex: DirectExecutor| {
        pollster::block_on(ex.prepare(medium_media("frames_20")))
            .unwrap()
            .frames()
    };
    assert_eq!(frames(ex), model.preprocessor.num_frames());
    assert_eq!(frames(ex.with_num_frames(Some(3))), 3);
    assert_eq!(
        frames(ex.with_num_frames(None)),
        model.preprocessor.num_frames()
    );
}
