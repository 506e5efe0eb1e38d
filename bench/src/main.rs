//! mplug2-bench: starts `mplug2-serve` on a package twice (batching on, and `--max-batch-size 1`)
//! and prints throughput and p50/p90/p99 latency for caption, VQA and embeddings at each
//! concurrency, side by side.

mod load;
mod report;

use std::{path::PathBuf, time::Duration};

use clap::Parser;
use mplug2_e2e_tests::{Server, ServerOptions, workspace_root};
use serde_json::{Value, json};

use report::{Point, Table};

/// Load generator for mplug2-serve.
#[derive(Parser, Debug)]
struct Args {
    /// Model packages to serve, one after the other.
    #[arg(long = "package", default_value = "models/demo")]
    packages: Vec<PathBuf>,

    /// Concurrent clients of each load point (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    concurrency: Vec<usize>,

    /// Tasks to load (comma separated): caption, vqa, embeddings.
    #[arg(long, value_delimiter = ',', default_value = "caption,vqa,embeddings")]
    tasks: Vec<String>,

    /// Timed requests per load point (after `concurrency` untimed warm-up requests).
    #[arg(long, default_value_t = 64)]
    requests: usize,

    /// The server binary (default: target/release/mplug2-serve of this workspace).
    #[arg(long)]
    server_bin: Option<PathBuf>,

    /// Extra flags for both server runs, e.g. "--intra-op-threads 2".
    #[arg(long, allow_hyphen_values = true, default_value = "")]
    server_args: String,

    /// Also write the tables (markdown) to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The two server settings compared.
const MODES: [(&str, &[&str]); 2] = [
    ("batching", &[]),
    ("max_batch_size=1", &["--max-batch-size", "1"]),
];

fn request_body(task: &str, image: &str) -> Result<(&'static str, Value), String> {
    match task {
        "caption" => Ok(("/v1/caption", json!({ "image": image }))),
        "vqa" => Ok((
            "/v1/vqa",
            json!({ "image": image, "question": "what is the man doing in the video?" }),
        )),
        "embeddings" => Ok(("/v1/embeddings", json!({ "input": [{ "image": image }] }))),
        other => Err(format!("unknown task `{other}` (caption, vqa, embeddings)")),
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let root = workspace_root();
    let binary = args
        .server_bin
        .clone()
        .unwrap_or_else(|| root.join("target/release/mplug2-serve"));
    if !binary.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release -p mplug2-server` first",
            binary.display()
        ));
    }
    let image = base64_of(&root.join("models/demo/goldens/inputs/image_480x270.png"))?;
    let client = mplug2_e2e_tests::http_client::http_client();
    let mut tables = Vec::new();
    for package in &args.packages {
        let package = if package.is_absolute() {
            package.clone()
        } else {
            root.join(package)
        };
        let mut table = Table::new(
            package.display().to_string(),
            MODES.map(|(name, _)| name).to_vec(),
        );
        for (mode, flags) in MODES {
            let mut server_args: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
            server_args.extend(args.server_args.split_whitespace().map(str::to_owned));
            let options = ServerOptions {
                model_dir: Some(package.clone()),
                binary: Some(binary.clone()),
                start_bound: Some(Duration::from_secs(1800)),
                args: server_args,
            };
            eprintln!("starting mplug2-serve on {} ({mode})", package.display());
            let server = Server::ready(options).await;
            for task in &args.tasks {
                let (path, body) = request_body(task, &image)?;
                let url = server.url(path);
                for &concurrency in &args.concurrency {
                    load::run(&client, &url, &body, concurrency, concurrency).await?;
                    let measured = load::run(
                        &client,
                        &url,
                        &body,
                        concurrency,
                        args.requests.max(concurrency),
                    )
                    .await?;
                    let point = Point::from(&measured);
                    eprintln!("  {task:<10} c={concurrency:<3} {mode:<17} {point}");
                    table.add(task, concurrency, mode, point);
                }
            }
        }
        println!("{table}");
        tables.push(table.to_string());
    }
    if let Some(out) = &args.out {
        std::fs::write(out, tables.join("\n")).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(())
}

fn base64_of(path: &std::path::Path) -> Result<String, String> {
    use base64::Engine;
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}
