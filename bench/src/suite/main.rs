//! mplug2-suite (`make bench-suite`): the performance suite of docs/PERFORMANCE.md. On each package
//! it runs, in one process and one after the other: the eager PyTorch baseline, ONNX Runtime
//! probes (peak GEMM, module MFU), and `mplug2-serve` under closed-loop and open-loop load over REST
//! and gRPC with batching on and with `--max-batch-size 1`; then it prints every target of
//! issues 7 and 13 (int8) with its ratio and writes the results (JSON, markdown) and the plots.

mod plan;
mod python;
mod run;
mod targets;

use mplug2_bench::{call, probe, window};

use std::path::PathBuf;

use clap::Parser;
use mplug2_e2e_tests::workspace_root;
use serde_json::{Value, json};

/// The benchmark suite (docs/PERFORMANCE.md).
#[derive(Parser, Debug)]
struct Args {
    /// A short run on the demo package and its int8 package only, to check the suite works.
    #[arg(long)]
    quick: bool,

    /// The base-shape package.
    #[arg(long, default_value = "/work/packages/base-random")]
    base: PathBuf,

    /// The large-shape package (video caption target); "none" skips it.
    #[arg(long, default_value = "/work/packages/large-random")]
    large: String,

    /// The int8 package quantized from `--base` (made from it when missing); "none" skips it.
    #[arg(long, default_value = "/work/packages/base-random-int8")]
    base_int8: String,

    /// The int8 package quantized from `--large` (made from it when missing); "none" skips it.
    #[arg(long, default_value = "/work/packages/large-random-int8")]
    large_int8: String,

    /// Intra-op threads of both sides (the server's ONNX Runtime sessions, PyTorch, the probes).
    #[arg(long, default_value_t = 2)]
    threads: usize,

    /// Where results.json, results.md and the plots go.
    #[arg(long, default_value = "bench/results")]
    out_dir: PathBuf,

    /// Reuse the PyTorch reference and ONNX Runtime probe results of an earlier run in this
    /// directory (its work-<package>/reference.json and ort.json) instead of measuring them again.
    #[arg(long)]
    reuse: Option<PathBuf>,

    /// Skip the demo package in a full run.
    #[arg(long)]
    skip_demo: bool,

    /// Python with torch and mplug2_exporter's dependencies (the exporter's venv).
    #[arg(long, default_value = "exporter/.venv/bin/python")]
    python: PathBuf,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let root = workspace_root();
    let out_dir = root.join(&args.out_dir);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let python = python::Python {
        interpreter: root.join(&args.python),
        source: root.join("exporter/src"),
    };
    let given = |path: &str| (path != "none").then_some(path.to_owned());
    let (large, base_int8, large_int8) = (
        given(&args.large),
        given(&args.base_int8),
        given(&args.large_int8),
    );
    let plans = if args.quick {
        plan::quick()
    } else {
        let int8 = plan::Int8Paths {
            base: base_int8.as_deref(),
            large: large_int8.as_deref(),
        };
        plan::full(&args.base.display().to_string(), large.as_deref(), int8)
    };
    let plans: Vec<_> = plans
        .into_iter()
        .filter(|(_, plan)| !(args.skip_demo && plan.name == "demo"))
        .collect();
    let started = std::time::Instant::now();
    let machine = run::machine();
    eprintln!("machine: {machine}");
    // The CPU's ISA flags and the int8 GEMM kernel ONNX Runtime picks from them (the exporter's
    // quantize/isa.py), so that every figure is read against its machine.
    let isa = python
        .run(&["isa".to_owned()], &out_dir.join("isa.json"))
        .unwrap_or_else(|error| json!({ "summary": format!("unknown ({error})") }));
    eprintln!("ISA: {}", isa["summary"].as_str().unwrap_or(""));
    let mut packages = Vec::new();
    for (path, plan) in &plans {
        let path = if PathBuf::from(path).is_absolute() {
            PathBuf::from(path)
        } else {
            root.join(path)
        };
        if plan.int8_of.is_none() {
            python.random_package_if_missing(&path, &out_dir)?;
        }
        let context = run::Context {
            root: root.clone(),
            out_dir: out_dir.clone(),
            python: &python,
            threads: args.threads,
            quick: args.quick,
            reuse: args.reuse.as_ref().map(|dir| root.join(dir)),
        };
        packages.push(run::package(&context, &path, plan).await?);
        // Written after every package, so that a run cut short keeps what it measured.
        let results = json!({
            "machine": machine,
            "isa": isa,
            "date": run::date(),
            "command": std::env::args().collect::<Vec<_>>().join(" "),
            "threads": args.threads,
            "quick": args.quick,
            "duration_s": started.elapsed().as_secs_f64(),
            "packages": packages,
        });
        let targets = targets::evaluate(&results);
        let report = targets::markdown(&results, &targets);
        println!("{report}");
        let all = json!({ "results": results, "targets": targets });
        write(
            &out_dir.join("results.json"),
            &serde_json::to_string_pretty(&all).unwrap_or_default(),
        )?;
        write(&out_dir.join("results.md"), &report)?;
        write(&out_dir.join("plot-input.json"), &results.to_string())?;
        if let Err(error) = python.plot(&out_dir.join("plot-input.json"), &out_dir) {
            eprintln!("plots: {error}");
        }
    }
    eprintln!(
        "suite finished in {:.0} s; results in {}",
        started.elapsed().as_secs_f64(),
        out_dir.display()
    );
    Ok(())
}

fn write(path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A JSON number field or NaN.
pub fn num(value: &Value, key: &str) -> f64 {
    value.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}
