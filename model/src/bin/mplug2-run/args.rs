//! Command-line arguments of `mplug2-run`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use mplug2_model::runtime::{ExecutionProvider, OptimizationLevel};

/// Run one mPLUG-2 task on local files and print the result as JSON.
#[derive(Debug, Parser)]
#[command(name = "mplug2-run", version)]
pub struct Cli {
    /// Model package directory (manifest.json, tokenizer.json, ONNX graphs).
    #[arg(long, env = "MODEL_DIR", default_value = "models/demo")]
    pub model_dir: PathBuf,
    /// libonnxruntime.so to load (else ORT_DYLIB_PATH).
    #[arg(long, env = "ORT_DYLIB_PATH")]
    pub ort_library: Option<PathBuf>,
    /// Execution providers to try in order: tensorrt, cuda, cpu.
    #[arg(long, value_delimiter = ',', default_value = "cpu")]
    pub execution_providers: Vec<ExecutionProvider>,
    /// Threads per ONNX Runtime session (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Graph optimization level: disabled, basic, extended, all.
    #[arg(long, default_value = "all")]
    pub optimization: OptimizationLevel,
    /// Print how long each stage took to stderr.
    #[arg(long)]
    pub timings: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Describe the package: model, tasks, provider.
    Info,
    /// Caption an image, a video or a frame list.
    Caption {
        #[command(flatten)]
        media: MediaArgs,
        #[command(flatten)]
        decoding: DecodingArgs,
    },
    /// Answer a question about an image, a video or a frame list.
    Vqa {
        #[command(flatten)]
        media: MediaArgs,
        #[arg(long, short)]
        question: String,
        #[command(flatten)]
        decoding: DecodingArgs,
    },
    /// Embedding of a text, or of an image, video or frame list.
    Embed {
        #[command(flatten)]
        media: OptionalMediaArgs,
        #[arg(long, conflicts_with_all = ["image", "video", "frames"])]
        text: Option<String>,
    },
    /// Match probability of the media with each text.
    Match {
        #[command(flatten)]
        media: MediaArgs,
        #[arg(long = "text", required = true)]
        texts: Vec<String>,
    },
    /// Zero-shot classification of the media over labels, best first.
    Classify {
        #[command(flatten)]
        media: MediaArgs,
        #[arg(long = "label", required = true)]
        labels: Vec<String>,
    },
}

/// Exactly one of an image, a video, or a list of frames.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct MediaArgs {
    /// An image file (JPEG, PNG, WebP, GIF).
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// A video file (MP4/MOV, WebM/Matroska, AVI).
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// Image files taken as the frames of a video, in order.
    #[arg(long, num_args = 1..)]
    pub frames: Option<Vec<PathBuf>>,
}

/// At most one medium (embed takes a text instead).
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
pub struct OptionalMediaArgs {
    #[arg(long)]
    pub image: Option<PathBuf>,
    #[arg(long)]
    pub video: Option<PathBuf>,
    #[arg(long, num_args = 1..)]
    pub frames: Option<Vec<PathBuf>>,
}

#[derive(Debug, Args)]
pub struct DecodingArgs {
    #[arg(long)]
    pub beam_size: Option<usize>,
    #[arg(long)]
    pub min_length: Option<usize>,
    #[arg(long)]
    pub max_length: Option<usize>,
}
