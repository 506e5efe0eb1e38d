//! The model crate's integration tests, one binary (one per file would link ONNX Runtime's
//! bindings, FFmpeg and the tokenizer into each and multiply CI's link time and disk use).

mod choices;
mod cli;
mod common;
mod errors;
mod fuzz_replay;
mod images;
mod int8;
mod num_frames;
mod parity_decode;
mod parity_graphs;
mod parity_preprocess;
mod parity_tasks;
mod parity_text;
mod runtime;
mod sampling;
mod sharing;
mod streaming;
mod video;
