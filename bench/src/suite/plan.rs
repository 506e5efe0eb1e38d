//! What the suite measures on each package, in full and in `--quick` mode.

use std::time::Duration;

use super::{call::Task, window::WindowPlan};

pub struct PackagePlan {
    pub name: &'static str,
    /// REST closed loop, batching on: (task, concurrencies).
    pub closed: Vec<(Task, Vec<usize>)>,
    /// REST closed loop with `--max-batch-size 1`.
    pub unbatched: Vec<(Task, Vec<usize>)>,
    /// gRPC closed loop, batching on.
    pub grpc: Vec<(Task, Vec<usize>)>,
    /// Open-loop Poisson arrivals at this fraction of the task's closed-loop throughput at the
    /// highest concurrency.
    pub poisson: Vec<(Task, f64)>,
    /// Five questions about one video against one (vision-feature cache).
    pub cache_video: bool,
    /// One 16-frame video caption at concurrency 1 (timed requests, not windows).
    pub video_caption: usize,
    /// Eager PyTorch points: task:frames:batch.
    pub reference: Vec<&'static str>,
    pub reference_repeats: usize,
    /// ONNX Runtime peak and module MFU.
    pub ort_probe: bool,
    /// For an int8 package: the fp32 package it is quantized from (made from it when missing),
    /// whose plan's reference it is judged against.
    pub int8_of: Option<Int8Of>,
    pub window: WindowPlan,
}

/// The fp32 side of an int8 package.
pub struct Int8Of {
    /// The fp32 package's path.
    pub path: String,
    /// The fp32 package's plan name (its PyTorch reference is the int8 targets' baseline).
    pub plan: &'static str,
    /// Time the fp32 and int8 graphs back to back in ONNX Runtime (vision at batch 8, decoder steps).
    pub graph_speed: bool,
}

const ALL_TASKS: [Task; 4] = [Task::Caption, Task::Vqa, Task::EmbedImage, Task::EmbedText];

fn image_plan(name: &'static str, concurrency: Vec<usize>, window: WindowPlan) -> PackagePlan {
    let high = concurrency
        .iter()
        .copied()
        .filter(|&c| c > 1)
        .collect::<Vec<_>>();
    let ends = vec![1, *concurrency.last().unwrap_or(&1)];
    PackagePlan {
        name,
        closed: ALL_TASKS
            .iter()
            .map(|&t| (t, concurrency.clone()))
            .collect(),
        unbatched: [Task::Caption, Task::Vqa, Task::EmbedText]
            .iter()
            .map(|&t| (t, high.clone()))
            .collect(),
        grpc: [Task::Caption, Task::EmbedText]
            .iter()
            .map(|&t| (t, ends.clone()))
            .collect(),
        poisson: vec![(Task::Caption, 0.7), (Task::EmbedText, 0.7)],
        cache_video: true,
        video_caption: 0,
        reference: vec![
            "caption:1:1",
            "vqa:1:1",
            "embed_image:1:1",
            "embed_text:1:1",
            "caption:1:8",
            "vqa:1:8",
            "embed_text:1:8",
        ],
        reference_repeats: 3,
        ort_probe: false,
        int8_of: None,
        window,
    }
}

/// An int8 package's points: the int8 targets only (caption and VQA at one client, caption and
/// text embeddings at 32 clients batched and with `max_batch_size=1`), no PyTorch reference of
/// its own (the fp32 package's reference, same weights, is the baseline).
fn int8_image_plan(name: &'static str, of: Int8Of, window: WindowPlan) -> PackagePlan {
    PackagePlan {
        name,
        closed: vec![
            (Task::Caption, vec![1, 32]),
            (Task::Vqa, vec![1]),
            (Task::EmbedText, vec![1, 32]),
        ],
        unbatched: vec![(Task::Caption, vec![32]), (Task::EmbedText, vec![32])],
        grpc: Vec::new(),
        poisson: Vec::new(),
        cache_video: false,
        video_caption: 0,
        reference: Vec::new(),
        reference_repeats: 1,
        ort_probe: false,
        int8_of: Some(of),
        window,
    }
}

/// One 16-frame video caption at concurrency 1 (the large package's only point).
fn video_plan(
    name: &'static str,
    reference: Vec<&'static str>,
    int8_of: Option<Int8Of>,
    window: WindowPlan,
) -> PackagePlan {
    PackagePlan {
        name,
        closed: Vec::new(),
        unbatched: Vec::new(),
        grpc: Vec::new(),
        poisson: Vec::new(),
        cache_video: false,
        video_caption: 1,
        reference,
        reference_repeats: 1,
        ort_probe: false,
        int8_of,
        window,
    }
}

/// Where the int8 packages are read (made from their fp32 package when missing).
pub struct Int8Paths<'a> {
    pub base: Option<&'a str>,
    pub large: Option<&'a str>,
}

pub fn quick() -> Vec<(String, PackagePlan)> {
    let window = WindowPlan {
        target_completions: 6.0,
        min_window: Duration::from_millis(700),
        max_window: Duration::from_secs(3),
        max_windows: 4,
        drain_bound: Duration::from_secs(30),
    };
    let mut demo = image_plan("demo", vec![1, 8, 32], window);
    demo.ort_probe = true;
    demo.reference_repeats = 2;
    let of = Int8Of {
        path: "models/demo".into(),
        plan: "demo",
        graph_speed: true,
    };
    let demo_int8 = int8_image_plan("demo-int8", of, window);
    vec![
        ("models/demo".into(), demo),
        ("models/demo-int8".into(), demo_int8),
    ]
}

pub fn full(base: &str, large: Option<&str>, int8: Int8Paths) -> Vec<(String, PackagePlan)> {
    let demo_window = WindowPlan {
        target_completions: 20.0,
        min_window: Duration::from_secs(1),
        max_window: Duration::from_secs(3),
        max_windows: 4,
        drain_bound: Duration::from_secs(30),
    };
    // Base-shape captions finish in bursts (one decoder batch) tens of seconds apart at 32
    // clients on 2 cores: windows must be long enough to hold several bursts.
    let base_window = WindowPlan {
        target_completions: 8.0,
        min_window: Duration::from_secs(3),
        max_window: Duration::from_secs(45),
        max_windows: 4,
        drain_bound: Duration::from_secs(120),
    };
    let mut plans = vec![(
        "models/demo".to_owned(),
        image_plan("demo", vec![1, 8, 32], demo_window),
    )];
    let mut base_plan = image_plan("base", vec![1, 32], base_window);
    base_plan.ort_probe = true;
    base_plan.reference_repeats = 2;
    // The targets' points only: batching against max_batch_size=1 at 32 clients, gRPC at one.
    base_plan.closed = vec![
        (Task::Caption, vec![1, 32]),
        (Task::Vqa, vec![1, 32]),
        (Task::EmbedText, vec![1, 32]),
        (Task::EmbedImage, vec![1]),
    ];
    base_plan.unbatched = [Task::Caption, Task::Vqa, Task::EmbedText]
        .iter()
        .map(|&t| (t, vec![32]))
        .collect();
    base_plan.grpc = vec![(Task::EmbedText, vec![1])];
    base_plan.poisson = vec![(Task::EmbedText, 0.7)];
    plans.push((base.to_owned(), base_plan));
    if let Some(base_int8) = int8.base {
        let of = Int8Of {
            path: base.to_owned(),
            plan: "base",
            graph_speed: true,
        };
        plans.push((
            base_int8.to_owned(),
            int8_image_plan("base-int8", of, base_window),
        ));
    }
    if let Some(large) = large {
        plans.push((
            large.to_owned(),
            video_plan("large", vec!["caption:16:1"], None, base_window),
        ));
        if let Some(large_int8) = int8.large {
            let of = Int8Of {
                path: large.to_owned(),
                plan: "large",
                graph_speed: false,
            };
            plans.push((
                large_int8.to_owned(),
                video_plan("large-int8", Vec::new(), Some(of), base_window),
            ));
        }
    }
    plans
}
