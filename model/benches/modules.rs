//! Per-module latency at batch 1, 4 and 8, and KV-cached vs full-prefix decoding.
//! Prints figures; asserts nothing about speed.
//!
//! cargo bench -p mplug2-model --bench modules -- [--package DIR] [--iters N] [--threads N]
//!     [--video-batches 1,4] [--skip-full]
//! The ONNX Runtime library comes from ORT_DYLIB_PATH.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use mplug2_model::decode::{DecodeBatch, DecodeParams};
use mplug2_model::modules::FusionInput;
use mplug2_model::package::Package;
use mplug2_model::preprocess::{MediaLimits, PixelValues};
use mplug2_model::runtime::RuntimeConfig;
use mplug2_model::{LoadOptions, Model};
use ndarray::{Array1, Array2, Array4};

#[derive(Debug, Parser)]
struct Args {
    /// Model package to measure.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/demo"))]
    package: PathBuf,
    /// Timed runs per measurement (after one warm-up run); the median is reported.
    #[arg(long, default_value_t = 5)]
    iters: usize,
    /// Intra-op threads per session (0 = one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Batch sizes for the vision graph at the package's full frame count.
    #[arg(long, value_delimiter = ',', default_value = "1,4,8")]
    video_batches: Vec<usize>,
    /// Skip the full-prefix decoding comparison.
    #[arg(long)]
    skip_full: bool,
    /// Also compare cached and full-prefix decoding over a video memory (1 + T·P positions).
    #[arg(long)]
    video_memory: bool,
    /// Tokens in the benchmark question / text.
    #[arg(long, default_value_t = 10)]
    text_tokens: usize,
    /// Ignored (cargo bench passes it).
    #[arg(long, hide = true)]
    bench: bool,
}

const BATCHES: [usize; 3] = [1, 4, 8];

fn main() {
    let args = Args::parse();
    let started = Instant::now();
    let package = Package::open(&args.package).expect("package opens");
    let verified = started.elapsed().as_secs_f64();
    let runtime = RuntimeConfig {
        intra_op_threads: args.threads,
        ..RuntimeConfig::default()
    };
    let model = Model::load_with(
        package,
        &runtime,
        MediaLimits::default(),
        LoadOptions {
            decoder_full: !args.skip_full,
        },
    )
    .expect("model loads (ORT_DYLIB_PATH set?)");
    let loaded = started.elapsed().as_secs_f64();
    model.warmup().expect("warmup");
    let manifest = model.package().manifest();
    println!("load average at the start: {}", load_average());
    println!(
        "# {} ({}): sha256 check {verified:.1} s, load {:.1} s, warmup {:.1} s, threads {}, {} timed runs, median",
        manifest.model.name,
        args.package.display(),
        loaded - verified,
        started.elapsed().as_secs_f64() - loaded,
        if args.threads == 0 {
            "default".to_owned()
        } else {
            args.threads.to_string()
        },
        args.iters
    );
    println!();
    println!("| module | input per item | batch | ms per batch | ms per item |");
    println!("| --- | --- | --- | --- | --- |");
    let bench = Bench { iters: args.iters };
    let size = manifest.preprocess.image_size;
    let frames = manifest.preprocess.num_frames;
    let width = manifest.config.text.hidden_size;
    let vision = model.vision.as_ref().expect("vision graph");
    let image = pixels(1, size);
    for batch in BATCHES {
        bench.row("vision", "image (T=1)", batch, || {
            vision.run(&vec![&image; batch]).unwrap();
        });
    }
    let video = pixels(frames, size);
    for &batch in &args.video_batches {
        bench.row("vision", &format!("video (T={frames})"), batch, || {
            vision.run(&vec![&video; batch]).unwrap();
        });
    }
    let image_embeds = vision.run(&[&image]).unwrap().remove(0);
    let text = model.text.as_ref().expect("text graph");
    let ids: Vec<i64> = std::iter::once(101)
        .chain((0..args.text_tokens - 1).map(|i| 2000 + i as i64 * 37))
        .collect();
    for batch in BATCHES {
        bench.row("text", &format!("{} tokens", ids.len()), batch, || {
            text.run(&vec![ids.as_slice(); batch]).unwrap();
        });
    }
    let text_embeds = text.run(&[&ids]).unwrap().remove(0);
    if let Some(fusion) = &model.fusion {
        let item = FusionInput {
            text: &text_embeds,
            vision: &image_embeds,
        };
        for batch in BATCHES {
            let label = format!(
                "{} text × {} vision tokens",
                ids.len(),
                image_embeds.nrows()
            );
            bench.row("fusion", &label, batch, || {
                fusion.run(&vec![item; batch]).unwrap();
            });
        }
    }
    let decoder = model.decoder.as_ref().expect("decoder graphs");
    for batch in BATCHES {
        let memories = vec![image_embeds.view(); batch];
        bench.row(
            "decoder_cross_kv",
            &format!("memory {}", image_embeds.nrows()),
            batch,
            || {
                decoder.cross_kv(&memories).unwrap();
            },
        );
    }
    let caption = DecodeParams {
        min_length: 20,
        max_length: 20,
        ..DecodeParams::from_manifest(&manifest.decoding.caption)
    };
    let cross = decoder.cross_kv(&[image_embeds.view()]).unwrap().remove(0);
    for batch in BATCHES {
        // Sequences that have already generated 10 tokens, then one more step for all of them.
        let mut ready = DecodeBatch::new();
        for id in 0..batch {
            ready.add(id as u64, decoder.start(Arc::clone(&cross), caption));
        }
        for _ in 0..10 {
            decoder.step(&mut ready).unwrap();
        }
        let label = format!(
            "beam {}, past 10, memory {}",
            caption.beam_size,
            cross.len()
        );
        bench.row_with_setup(
            "decoder_step",
            &label,
            batch,
            || clone_batch(&ready),
            |mut b| {
                decoder.step(&mut b).unwrap();
            },
        );
    }
    if let Some(heads) = &model.heads {
        let row = Array1::<f32>::zeros(width);
        for batch in BATCHES {
            bench.row("heads (vision+text+itm)", "one CLS row each", batch, || {
                let rows = vec![row.view(); batch];
                heads.vision(&rows).unwrap();
                heads.text(&rows).unwrap();
                heads.itm(&rows).unwrap();
            });
        }
    }
    if !args.skip_full {
        cached_vs_full(&bench, decoder, &image_embeds, caption, "image (T=1)");
        if args.video_memory {
            let video_embeds = vision.run(&[&video]).unwrap().remove(0);
            cached_vs_full(
                &bench,
                decoder,
                &video_embeds,
                caption,
                &format!("video (T={frames})"),
            );
        }
    }
    println!();
    println!("load average at the end: {}", load_average());
}

/// `/proc/loadavg`'s first three fields: other work on the machine skews every figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// A batch of the same sequences at the same step (the decoder steps mutate their batch).
fn clone_batch(ready: &DecodeBatch) -> DecodeBatch {
    let mut batch = DecodeBatch::new();
    for id in ready.ids() {
        batch.add(id, ready.get(id).expect("member").clone());
    }
    batch
}

/// 20-token caption, beam 5: cross K/V once + 20 cached steps vs 20 full-prefix steps.
fn cached_vs_full(
    bench: &Bench,
    decoder: &mplug2_model::modules::Decoder,
    memory: &Array2<f32>,
    params: DecodeParams,
    label: &str,
) {
    let cached = bench.median(|| {
        let tokens = decoder
            .generate(&[memory.view()], &[params])
            .unwrap()
            .remove(0);
        assert_eq!(tokens.len(), 21);
    });
    let full = bench.median(|| {
        let tokens = decoder.generate_full_prefix(memory.view(), params).unwrap();
        assert_eq!(tokens.len(), 21);
    });
    let same = decoder.generate(&[memory.view()], &[params]).unwrap()[0]
        == decoder.generate_full_prefix(memory.view(), params).unwrap();
    println!();
    println!(
        "20-token caption, beam {}, memory {} ({label}): KV-cached {:.1} ms, full-prefix {:.1} ms, \
         ratio full/cached {:.1}x, cached/full {:.3}; identical tokens: {same}",
        params.beam_size,
        memory.nrows(),
        cached,
        full,
        full / cached,
        cached / full
    );
}

fn pixels(frames: usize, size: usize) -> PixelValues {
    let array = Array4::from_shape_fn((3, frames, size, size), |(c, t, y, x)| {
        ((c * 7 + t * 3 + y * 5 + x) % 17) as f32 / 8.0 - 1.0
    });
    PixelValues::from_array(array).expect("[3, T, S, S]")
}

struct Bench {
    iters: usize,
}

impl Bench {
    fn median(&self, mut run: impl FnMut()) -> f64 {
        run();
        let mut times: Vec<f64> = (0..self.iters.max(1))
            .map(|_| {
                let started = Instant::now();
                run();
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    }

    fn row(&self, module: &str, input: &str, batch: usize, run: impl FnMut()) {
        let ms = self.median(run);
        println!(
            "| {module} | {input} | {batch} | {ms:.2} | {:.2} |",
            ms / batch as f64
        );
    }

    /// Times `run` on a fresh value from `setup` each time (setup not timed).
    fn row_with_setup<T>(
        &self,
        module: &str,
        input: &str,
        batch: usize,
        mut setup: impl FnMut() -> T,
        mut run: impl FnMut(T),
    ) {
        run(setup());
        let mut times: Vec<f64> = (0..self.iters.max(1))
            .map(|_| {
                let value = setup();
                let started = Instant::now();
                run(value);
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let ms = times[times.len() / 2];
        println!(
            "| {module} | {input} | {batch} | {ms:.2} | {:.2} |",
            ms / batch as f64
        );
    }
}
