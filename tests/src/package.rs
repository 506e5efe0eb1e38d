//! Copies of the demo package, changed the way the error-table tests need: graphs removed, or a
//! graph replaced (with its sha256 updated so the package still verifies).

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{demo_package, server::TempDir};

pub struct PackageCopy {
    dir: TempDir,
}

impl PackageCopy {
    /// Every file of the demo package except the goldens.
    pub fn of_demo() -> PackageCopy {
        let dir = TempDir::new();
        for entry in std::fs::read_dir(demo_package()).expect("demo package") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                std::fs::copy(&path, dir.path().join(path.file_name().expect("name")))
                    .expect("copy");
            }
        }
        PackageCopy { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn edit_manifest(&self, edit: impl FnOnce(&mut Value)) {
        let path = self.dir.path().join("manifest.json");
        let mut manifest: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("manifest")).expect("JSON");
        edit(&mut manifest);
        std::fs::write(&path, serde_json::to_vec_pretty(&manifest).expect("JSON"))
            .expect("write manifest");
    }

    /// Removes graphs (file and manifest entry).
    pub fn without_graphs(self, graphs: &[&str]) -> PackageCopy {
        self.edit_manifest(|manifest| {
            let entries = manifest["graphs"].as_object_mut().expect("graphs");
            for graph in graphs {
                let file = entries.remove(*graph).expect("graph in the manifest")["file"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                std::fs::remove_file(self.dir.path().join(file)).expect("remove graph file");
            }
        });
        self
    }

    /// Replaces a graph's ONNX file and records its sha256.
    pub fn with_graph(self, graph: &str, onnx: &Path) -> PackageCopy {
        let bytes = std::fs::read(onnx).expect("replacement graph");
        self.with_graph_bytes(graph, &bytes)
    }

    /// Replaces a graph's ONNX file by `bytes` and records its sha256.
    pub fn with_graph_bytes(self, graph: &str, bytes: &[u8]) -> PackageCopy {
        let sha = hex::encode(Sha256::digest(bytes));
        self.edit_manifest(|manifest| {
            let entry = &mut manifest["graphs"][graph];
            std::fs::write(
                self.dir.path().join(entry["file"].as_str().expect("file")),
                bytes,
            )
            .expect("write graph");
            entry["sha256"] = Value::String(sha);
        });
        self
    }
}
