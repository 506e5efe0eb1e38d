//! Test media in the three shapes clients send them: JSON fields (base64), multipart parts and
//! gRPC `Media` messages.

use base64::Engine;
use mplug2_proto::v1 as pb;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone)]
pub enum TestMedia {
    Image(Vec<u8>),
    Video(Vec<u8>),
    Frames(Vec<Vec<u8>>),
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl TestMedia {
    /// The JSON fields of this medium (`image`, `video` or `frames`).
    pub fn json_fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        match self {
            TestMedia::Image(bytes) => fields.insert("image".into(), json!(b64(bytes))),
            TestMedia::Video(bytes) => fields.insert("video".into(), json!(b64(bytes))),
            TestMedia::Frames(frames) => fields.insert(
                "frames".into(),
                json!(frames.iter().map(|f| b64(f)).collect::<Vec<_>>()),
            ),
        };
        fields
    }

    /// A JSON body: this medium's fields plus `extra`.
    pub fn json_body(&self, extra: Value) -> Value {
        let mut body = self.json_fields();
        if let Value::Object(extra) = extra {
            body.extend(extra);
        }
        Value::Object(body)
    }

    /// A multipart form holding this medium as file parts.
    pub fn multipart(&self) -> reqwest::multipart::Form {
        let part = |bytes: &Vec<u8>, name: &str| {
            reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_owned())
        };
        let form = reqwest::multipart::Form::new();
        match self {
            TestMedia::Image(bytes) => form.part("image", part(bytes, "image.png")),
            TestMedia::Video(bytes) => form.part("video", part(bytes, "video.mp4")),
            TestMedia::Frames(frames) => {
                frames.iter().enumerate().fold(form, |form, (i, frame)| {
                    form.part("frames", part(frame, &format!("frame_{i:03}.png")))
                })
            }
        }
    }

    pub fn proto(&self) -> pb::Media {
        use pb::media::Kind;
        let kind = match self {
            TestMedia::Image(bytes) => Kind::Image(bytes.clone()),
            TestMedia::Video(bytes) => Kind::Video(bytes.clone()),
            TestMedia::Frames(frames) => Kind::Frames(pb::Frames {
                images: frames.clone(),
            }),
        };
        pb::Media { kind: Some(kind) }
    }

    /// This medium as one input of a gRPC `Embed` request.
    pub fn embed_input(&self) -> pb::EmbedInput {
        use pb::embed_input::Kind;
        let kind = match self {
            TestMedia::Image(bytes) => Kind::Image(bytes.clone()),
            TestMedia::Video(bytes) => Kind::Video(bytes.clone()),
            TestMedia::Frames(frames) => Kind::Frames(pb::Frames {
                images: frames.clone(),
            }),
        };
        pb::EmbedInput { kind: Some(kind) }
    }
}
