//! The Python side of the suite (`python -m mplug2_exporter.perf`, run with the exporter's venv):
//! the eager PyTorch baseline, the ONNX Runtime probes and the plots (each writes JSON), and the
//! quantizer that makes a missing int8 package.

use std::{path::Path, process::Command};

use serde_json::Value;

pub struct Python {
    pub interpreter: std::path::PathBuf,
    pub source: std::path::PathBuf,
}

impl Python {
    /// `python -m <module>` with the exporter's sources on the path.
    fn module(&self, module: &str) -> Command {
        let mut command = Command::new(&self.interpreter);
        command.env("PYTHONPATH", &self.source).args(["-m", module]);
        command
    }

    /// Runs `python -m mplug2_exporter.perf <args> --out <out>` and reads its JSON.
    pub fn run(&self, args: &[String], out: &Path) -> Result<Value, String> {
        eprintln!("  python perf {}", args.join(" "));
        let status = self
            .module("mplug2_exporter.perf")
            .args(args)
            .arg("--out")
            .arg(out)
            .status()
            .map_err(|e| format!("{}: {e}", self.interpreter.display()))?;
        if !status.success() {
            return Err(format!("python perf {} failed: {status}", args.join(" ")));
        }
        let text = std::fs::read_to_string(out).map_err(|e| format!("{}: {e}", out.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", out.display()))
    }

    /// Makes a missing `base-random` or `large-random` package (a random-weight checkpoint of the
    /// released shapes, exported; tens of minutes for large); other missing packages are an error.
    pub fn random_package_if_missing(&self, package: &Path, out_dir: &Path) -> Result<(), String> {
        if package.join("manifest.json").is_file() {
            return Ok(());
        }
        let name = package.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let (Some(size), Some(work)) = (name.strip_suffix("-random"), package.parent()) else {
            return Err(format!(
                "{}: no package there (only base-random and large-random are made when missing)",
                package.display()
            ));
        };
        let args = [
            "random-package".to_owned(),
            "--size".into(),
            size.to_owned(),
            "--work-dir".into(),
            work.display().to_string(),
        ];
        self.run(&args, &out_dir.join(format!("random-package-{size}.json")))
            .map(drop)
    }

    /// Quantizes an fp32 package into an int8 one (`python -m mplug2_exporter quantize`).
    pub fn quantize(&self, fp32: &Path, out: &Path) -> Result<(), String> {
        eprintln!("  quantizing {} into {}", fp32.display(), out.display());
        let status = self
            .module("mplug2_exporter")
            .arg("quantize")
            .arg(fp32)
            .arg("--out")
            .arg(out)
            .status()
            .map_err(|e| format!("{}: {e}", self.interpreter.display()))?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("quantizing {} failed: {status}", fp32.display()))
    }

    pub fn plot(&self, results: &Path, out_dir: &Path) -> Result<(), String> {
        let status = self
            .module("mplug2_exporter.perf")
            .args(["plot", "--results"])
            .arg(results)
            .arg("--out-dir")
            .arg(out_dir)
            .status()
            .map_err(|e| format!("{}: {e}", self.interpreter.display()))?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("plotting failed: {status}"))
    }
}
