//! The embeddings answer: OpenAI's shape on REST (floats or base64 of little-endian float32),
//! `EmbedResponse` on gRPC.

use base64::Engine as _;

use crate::tasks::{prelude::*, usage::Usage};

/// How the answer encodes its vectors (OpenAI's `encoding_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Float,
    Base64,
}

pub struct EmbedAnswer {
    pub vectors: Vec<Vec<f32>>,
    pub encoding: Encoding,
    pub model: String,
    pub usage: Usage,
}

impl EmbedAnswer {
    pub fn into_json(self) -> Json {
        let encoding = self.encoding;
        let data: Vec<_> = self
            .vectors
            .into_iter()
            .enumerate()
            .map(|(index, vector)| {
                let embedding = match encoding {
                    Encoding::Float => json!(vector),
                    Encoding::Base64 => {
                        let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                        json!(base64::engine::general_purpose::STANDARD.encode(bytes))
                    }
                };
                json!({ "object": "embedding", "index": index, "embedding": embedding })
            })
            .collect();
        json!({ "object": "list", "data": data, "model": self.model, "usage": self.usage })
    }

    pub fn into_reply(self) -> pb::EmbedResponse {
        let embeddings = self
            .vectors
            .into_iter()
            .enumerate()
            .map(|(index, values)| pb::Embedding {
                index: index as u32,
                values,
            })
            .collect();
        pb::EmbedResponse {
            embeddings,
            model: self.model,
            usage: Some(self.usage.to_message()),
        }
    }

    pub fn schema() -> Json {
        json!({
            "type": "object", "required": ["object", "data", "model", "usage"],
            "properties": {
                "object": { "const": "list" },
                "model": { "type": "string" },
                "usage": Usage::schema(),
                "data": { "type": "array", "items": { "type": "object", "required": ["object", "index", "embedding"], "properties": {
                    "object": { "const": "embedding" }, "index": { "type": "integer" },
                    "embedding": { "oneOf": [ { "type": "array", "items": { "type": "number" } }, { "type": "string" } ] } } } }
            }
        })
    }
}
