//! The exporter's PyTorch goldens of the demo package (`models/demo/goldens`, schema in
//! `docs/goldens.md`): the inputs and the outputs every route must reproduce.

use std::path::PathBuf;

use mplug2_model::tolerance;
use serde::Deserialize;
use serde_json::Value;

use crate::{demo_package, media::TestMedia};

#[derive(Debug, Clone, Deserialize)]
pub struct DecodeParams {
    pub beam_size: u32,
    pub min_length: u32,
    pub max_length: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Caption {
    pub media: String,
    pub params: DecodeParams,
    pub text: String,
    /// `[CLS]` first; `[SEP]` last when the search ended with EOS.
    pub tokens: Vec<i64>,
}

impl Caption {
    /// A REST caption body asking for this golden: the medium and its decoding parameters.
    pub fn rest_body(&self, media: &TestMedia) -> Value {
        media.json_body(serde_json::json!({
            "beam_size": self.params.beam_size,
            "min_length": self.params.min_length,
            "max_length": self.params.max_length,
        }))
    }

    /// The gRPC caption request asking for this golden.
    pub fn grpc_request(&self, media: &TestMedia) -> mplug2_proto::v1::CaptionRequest {
        mplug2_proto::v1::CaptionRequest {
            media: Some(media.proto()),
            decoding: Some(mplug2_proto::v1::DecodeOptions {
                beam_size: Some(self.params.beam_size),
                min_length: Some(self.params.min_length),
                max_length: Some(self.params.max_length),
            }),
            num_frames: None,
            model: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Vqa {
    pub media: String,
    pub question: String,
    pub params: DecodeParams,
    pub answer: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Scores {
    pub media: String,
    #[serde(alias = "labels")]
    pub texts: Vec<String>,
    pub scores: Vec<f32>,
}

pub struct Goldens {
    dir: PathBuf,
    index: Value,
    tensors: Vec<u8>,
}

impl Goldens {
    pub fn load() -> Goldens {
        Goldens::load_from(&demo_package())
    }

    /// The goldens of another package.
    pub fn load_from(package: &std::path::Path) -> Goldens {
        let dir = package.join("goldens");
        let index: Value =
            serde_json::from_slice(&std::fs::read(dir.join("goldens.json")).expect("goldens.json"))
                .expect("goldens.json parses");
        let tensors = std::fs::read(dir.join("tensors.safetensors")).expect("tensors.safetensors");
        Goldens {
            dir,
            index,
            tensors,
        }
    }

    fn list<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Vec<T> {
        serde_json::from_value(self.index[key].clone())
            .unwrap_or_else(|e| panic!("goldens `{key}`: {e}"))
    }

    pub fn captions(&self) -> Vec<Caption> {
        self.list("captions")
    }

    /// The golden caption of one medium.
    pub fn caption_of(&self, media: &str) -> Caption {
        self.captions()
            .into_iter()
            .find(|caption| caption.media == media)
            .unwrap_or_else(|| panic!("no golden caption of `{media}`"))
    }

    pub fn vqa(&self) -> Vec<Vqa> {
        self.list("vqa")
    }

    pub fn matches(&self) -> Vec<Scores> {
        self.list("match")
    }

    pub fn classifications(&self) -> Vec<Scores> {
        self.list("classify")
    }

    /// The input medium by its golden name, as files whose decode is exact: the JPEG becomes a
    /// PNG of PIL's decode, since another JPEG decoder may differ by a few levels
    /// (`docs/goldens.md`) and the goldens are computed from PIL's pixels.
    pub fn media(&self, name: &str) -> TestMedia {
        let entry = self.entry(name);
        match entry["decoded"].as_str() {
            Some(decoded) => TestMedia::Image(self.png_of(decoded)),
            None => self.files(name),
        }
    }

    /// The input medium as committed in `goldens/inputs` (the JPEG as a JPEG).
    pub fn files(&self, name: &str) -> TestMedia {
        let entry = self.entry(name);
        let files: Vec<String> = serde_json::from_value(entry["files"].clone()).expect("files");
        let read = |file: &String| std::fs::read(self.dir.join(file)).expect("golden input file");
        match entry["kind"].as_str() {
            Some("image") => TestMedia::Image(read(&files[0])),
            Some("frames") => TestMedia::Frames(files.iter().map(read).collect()),
            other => panic!("unknown golden media kind {other:?}"),
        }
    }

    fn entry(&self, name: &str) -> &Value {
        self.index["media"]
            .as_array()
            .and_then(|media| media.iter().find(|m| m["name"] == name))
            .unwrap_or_else(|| panic!("no golden medium `{name}`"))
    }

    /// A PNG of a U8 `[H, W, 3]` tensor.
    fn png_of(&self, name: &str) -> Vec<u8> {
        let tensors = safetensors::SafeTensors::deserialize(&self.tensors).expect("safetensors");
        let view = tensors
            .tensor(name)
            .unwrap_or_else(|e| panic!("tensor {name}: {e}"));
        let [height, width, 3] = view.shape() else {
            panic!("{name} is not [H, W, 3]")
        };
        let image = image::RgbImage::from_raw(*width as u32, *height as u32, view.data().to_vec())
            .expect("pixels");
        let mut png = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("PNG encoding");
        png
    }

    /// Every golden medium name.
    pub fn media_names(&self) -> Vec<String> {
        self.index["media"]
            .as_array()
            .expect("media")
            .iter()
            .map(|m| m["name"].as_str().expect("name").to_owned())
            .collect()
    }

    /// `(medium name, embedding)` for every medium.
    pub fn media_embeddings(&self) -> Vec<(String, Vec<f32>)> {
        self.embeddings("media", "media")
    }

    /// `(raw text, embedding)` for every text.
    pub fn text_embeddings(&self) -> Vec<(String, Vec<f32>)> {
        self.embeddings("text", "text")
    }

    fn embeddings(&self, kind: &str, key: &str) -> Vec<(String, Vec<f32>)> {
        self.index["embeddings"][kind]
            .as_array()
            .expect("embeddings")
            .iter()
            .map(|e| {
                (
                    e[key].as_str().expect("name").to_owned(),
                    self.tensor(e["embedding"].as_str().expect("tensor name")),
                )
            })
            .collect()
    }

    /// A float tensor from `tensors.safetensors`, flattened.
    pub fn tensor(&self, name: &str) -> Vec<f32> {
        let tensors = safetensors::SafeTensors::deserialize(&self.tensors).expect("safetensors");
        let view = tensors
            .tensor(name)
            .unwrap_or_else(|e| panic!("tensor {name}: {e}"));
        assert_eq!(view.dtype(), safetensors::Dtype::F32, "{name} is not F32");
        view.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

/// Asserts that two vectors agree within the fp32 tolerance at `expected`'s scale
/// (`mplug2_model::tolerance`: the same rule as the model crate's parity tests).
pub fn assert_close(what: &str, actual: &[f32], expected: &[f32]) {
    let c = tolerance::compare(actual, expected);
    assert!(c.is_close(), "{what}: {c}");
}

/// The scores of a best-first `(label, score)` ranking, back in the order of `labels`.
pub fn in_label_order(labels: &[String], ranked: &[(String, f32)]) -> Vec<f32> {
    labels
        .iter()
        .map(|label| {
            ranked
                .iter()
                .find(|(l, _)| l == label)
                .unwrap_or_else(|| panic!("{label} not ranked"))
                .1
        })
        .collect()
}
