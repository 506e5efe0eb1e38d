//! Shared by the integration tests: the demo package, its PyTorch goldens, the ORT library.

mod joining;

pub use joining::decode_joining;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mplug2_model::package::Package;
use mplug2_model::preprocess::MediaLimits;
use mplug2_model::runtime::RuntimeConfig;
use mplug2_model::tolerance::scale_of;
use mplug2_model::{LoadOptions, Model};
use ndarray::{Array2, ArrayD, Ix2, IxDyn};
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("model/ has a parent")
        .to_path_buf()
}

pub fn demo_dir() -> PathBuf {
    repo_root().join("models/demo")
}

/// The demo package quantized to int8 by the exporter (ignored; `make demo-int8` writes it).
pub fn int8_demo_dir() -> PathBuf {
    let dir = repo_root().join("models/demo-int8");
    assert!(
        dir.join("manifest.json").is_file(),
        "models/demo-int8 is missing: `make demo-int8` (python -m mplug2_exporter quantize models/demo --out models/demo-int8)"
    );
    dir
}

pub fn goldens_dir() -> PathBuf {
    demo_dir().join("goldens")
}

/// The ONNX Runtime library: `ORT_DYLIB_PATH`, else what `scripts/fetch-ort.sh` puts in `.ort/`.
pub fn ort_library() -> PathBuf {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let fetched =
        repo_root().join(".ort/onnxruntime-1.32.0/onnxruntime/capi/libonnxruntime.so.1.32.0");
    assert!(
        fetched.is_file(),
        "set ORT_DYLIB_PATH to libonnxruntime.so (scripts/fetch-ort.sh downloads it into .ort/)"
    );
    fetched
}

pub fn runtime_config() -> RuntimeConfig {
    RuntimeConfig {
        library: Some(ort_library()),
        intra_op_threads: 1,
        ..RuntimeConfig::default()
    }
}

/// The demo model with `decoder_full`, loaded once per test binary.
pub fn demo_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let package = Package::open(&demo_dir()).expect("the committed demo package is valid");
        Model::load_with(
            package,
            &runtime_config(),
            MediaLimits::default(),
            LoadOptions { decoder_full: true },
        )
        .expect("the demo package loads")
    })
}

/// `goldens.json` and `tensors.safetensors`.
pub struct Goldens {
    pub json: Value,
    tensors: Vec<u8>,
}

pub fn goldens() -> &'static Goldens {
    static GOLDENS: OnceLock<Goldens> = OnceLock::new();
    GOLDENS.get_or_init(|| {
        let dir = goldens_dir();
        let json = std::fs::read_to_string(dir.join("goldens.json")).expect("goldens.json");
        Goldens {
            json: serde_json::from_str(&json).expect("goldens.json parses"),
            tensors: std::fs::read(dir.join("tensors.safetensors")).expect("tensors.safetensors"),
        }
    })
}

impl Goldens {
    fn view(&self, name: &str) -> safetensors::tensor::TensorView<'_> {
        let tensors = SafeTensors::deserialize(&self.tensors).expect("safetensors parses");
        tensors
            .tensor(name)
            .unwrap_or_else(|_| panic!("golden tensor {name}"))
    }

    pub fn f32(&self, name: &str) -> ArrayD<f32> {
        let view = self.view(name);
        assert_eq!(view.dtype(), Dtype::F32, "{name}");
        let data = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        ArrayD::from_shape_vec(IxDyn(view.shape()), data).expect("shape matches data")
    }

    pub fn u8(&self, name: &str) -> ArrayD<u8> {
        let view = self.view(name);
        assert_eq!(view.dtype(), Dtype::U8, "{name}");
        ArrayD::from_shape_vec(IxDyn(view.shape()), view.data().to_vec())
            .expect("shape matches data")
    }

    /// The vision encoder's PyTorch output for a medium, `[tokens, width]`.
    pub fn vision_embeds(&self, medium: &str) -> Array2<f32> {
        let name = self.medium(medium)["vision_embeds"].as_str().expect("name");
        self.f32(name).into_dimensionality::<Ix2>().expect("rank 2")
    }

    /// The text encoder's PyTorch output for `texts[index]`, `[tokens, width]`.
    pub fn text_embeds(&self, index: usize) -> Array2<f32> {
        let name = self.json["texts"][index]["text_embeds"]
            .as_str()
            .expect("name");
        self.f32(name).into_dimensionality::<Ix2>().expect("rank 2")
    }

    /// The decoder's logits' magnitude, from the first-step logits: the scale of beam scores.
    pub fn logit_scale(&self) -> f32 {
        self.json["decoder_first_step"]
            .as_array()
            .expect("decoder_first_step")
            .iter()
            .map(|step| scale_of(self.f32(step["logits"].as_str().expect("name")).iter()))
            .fold(0.0, f32::max)
    }

    /// A medium's entry in `media` by name.
    pub fn medium(&self, name: &str) -> &Value {
        self.json["media"]
            .as_array()
            .expect("media list")
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("medium {name}"))
    }

    /// The files of a medium, read from `goldens/`.
    pub fn medium_files(&self, name: &str) -> Vec<Vec<u8>> {
        self.medium(name)["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| {
                std::fs::read(goldens_dir().join(f.as_str().expect("path"))).expect("input file")
            })
            .collect()
    }
}

/// A medium of the goldens as request media: one image, or a frame list.
pub fn medium_media(name: &str) -> mplug2_model::preprocess::Media {
    let goldens = goldens();
    let mut files = goldens.medium_files(name);
    match goldens.medium(name)["kind"].as_str() {
        Some("image") => mplug2_model::preprocess::Media::Image(files.remove(0)),
        _ => mplug2_model::preprocess::Media::Frames(files),
    }
}

pub fn ids(value: &Value) -> Vec<i64> {
    value
        .as_array()
        .expect("id list")
        .iter()
        .map(|v| v.as_i64().expect("integer id"))
        .collect()
}

pub fn usizes(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .expect("integer list")
        .iter()
        .map(|v| v.as_u64().expect("integer") as usize)
        .collect()
}

pub fn f32s(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .expect("number list")
        .iter()
        .map(|v| v.as_f64().expect("number") as f32)
        .collect()
}

pub fn decode_params(value: &Value) -> mplug2_model::decode::DecodeParams {
    mplug2_model::decode::DecodeParams {
        beam_size: value["beam_size"].as_u64().expect("beam_size") as usize,
        min_length: value["min_length"].as_u64().expect("min_length") as usize,
        max_length: value["max_length"].as_u64().expect("max_length") as usize,
        length_penalty: value["length_penalty"].as_f64().expect("length_penalty") as f32,
        bos: value["bos"].as_i64().expect("bos"),
        eos: value["eos"].as_i64().expect("eos"),
        num_results: 1,
        strategy: mplug2_model::decode::Strategy::Beam,
    }
}

/// An image as lossless PNG bytes.
pub fn png_bytes(image: &image::RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}
