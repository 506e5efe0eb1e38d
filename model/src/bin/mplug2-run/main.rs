//! `mplug2-run`: the first thing an operator tries. Loads a model package and runs one task on
//! local files, printing JSON.

mod args;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use mplug2_model::decode::DecodeOverrides;
use mplug2_model::package::Package;
use mplug2_model::preprocess::{Media, MediaLimits};
use mplug2_model::runtime::RuntimeConfig;
use mplug2_model::tasks::{self, DirectExecutor};
use mplug2_model::{Model, ModelError};
use serde_json::{Value, json};

use args::{Cli, Command, DecodingArgs, MediaArgs, OptionalMediaArgs};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(output) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&output).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Errors of the command line itself, or of the model.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Model(#[from] ModelError),
}

fn run(cli: Cli) -> Result<Value, RunError> {
    let started = Instant::now();
    let package = Package::open(&cli.model_dir).map_err(ModelError::from)?;
    let runtime = RuntimeConfig {
        library: cli.ort_library.clone(),
        providers: cli.execution_providers.clone(),
        intra_op_threads: cli.threads,
        optimization_level: cli.optimization,
        ..RuntimeConfig::default()
    };
    let model = Model::load(package, &runtime, MediaLimits::default())?;
    report(cli.timings, "load", started);
    let ctx = model.task_context();
    let ex = DirectExecutor::new(&model);
    let started = Instant::now();
    let output = match cli.command {
        Command::Info => info(&model),
        Command::Caption { media, decoding } => {
            let caption = pollster::block_on(tasks::caption(
                &ctx,
                &ex,
                read_media(&media)?,
                overrides(&decoding),
            ))?;
            json!({ "caption": caption })
        }
        Command::Vqa {
            media,
            question,
            decoding,
        } => {
            let media = read_media(&media)?;
            let answer = pollster::block_on(tasks::vqa(
                &ctx,
                &ex,
                media,
                &question,
                overrides(&decoding),
            ))?;
            json!({ "answer": answer })
        }
        Command::Embed { media, text } => {
            let embedding = match (text, optional_media(&media)?) {
                (Some(text), _) => pollster::block_on(tasks::embed_text(&ctx, &ex, &text))?,
                (None, Some(media)) => pollster::block_on(tasks::embed_media(&ctx, &ex, media))?,
                (None, None) => {
                    return Err(ModelError::InvalidInput(
                        "embed needs --text, --image, --video or --frames".into(),
                    )
                    .into());
                }
            };
            json!({ "embedding": embedding })
        }
        Command::Match { media, texts } => {
            let scores =
                pollster::block_on(tasks::match_texts(&ctx, &ex, read_media(&media)?, &texts))?;
            json!({ "scores": texts.iter().zip(scores).map(|(t, s)| json!({"text": t, "score": s})).collect::<Vec<_>>() })
        }
        Command::Classify { media, labels } => {
            let ranked =
                pollster::block_on(tasks::classify(&ctx, &ex, read_media(&media)?, &labels))?;
            json!({ "labels": ranked.iter().map(|(l, s)| json!({"label": l, "score": s})).collect::<Vec<_>>() })
        }
    };
    report(cli.timings, "task", started);
    Ok(output)
}

fn info(model: &Model) -> Value {
    let manifest = model.package().manifest();
    json!({
        "model": manifest.model.name,
        "dtype": manifest.model.dtype,
        "package": model.package().dir(),
        "provider": model.provider().name(),
        "tasks": model.tasks().iter().map(|t| t.name()).collect::<Vec<_>>(),
        "image_size": manifest.preprocess.image_size,
        "num_frames": manifest.preprocess.num_frames,
        "graphs": model.graphs().map(|g| g.name().as_str()).collect::<Vec<_>>(),
    })
}

fn report(enabled: bool, stage: &str, started: Instant) {
    if enabled {
        eprintln!("{stage}: {:.3} s", started.elapsed().as_secs_f64());
    }
}

fn overrides(args: &DecodingArgs) -> DecodeOverrides {
    DecodeOverrides {
        beam_size: args.beam_size,
        min_length: args.min_length,
        max_length: args.max_length,
        ..DecodeOverrides::default()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, RunError> {
    std::fs::read(path).map_err(|source| RunError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn media_from(
    image: &Option<PathBuf>,
    video: &Option<PathBuf>,
    frames: &Option<Vec<PathBuf>>,
) -> Result<Option<Media>, RunError> {
    Ok(match (image, video, frames) {
        (Some(path), _, _) => Some(Media::Image(read(path)?)),
        (_, Some(path), _) => Some(Media::Video(read(path)?)),
        (_, _, Some(paths)) => Some(Media::Frames(
            paths.iter().map(|p| read(p)).collect::<Result<_, _>>()?,
        )),
        _ => None,
    })
}

fn read_media(args: &MediaArgs) -> Result<Media, RunError> {
    media_from(&args.image, &args.video, &args.frames)?
        .ok_or_else(|| ModelError::InvalidInput("give --image, --video or --frames".into()).into())
}

fn optional_media(args: &OptionalMediaArgs) -> Result<Option<Media>, RunError> {
    media_from(&args.image, &args.video, &args.frames)
}
