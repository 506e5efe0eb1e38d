//! Token counts of a request, in OpenAI's `usage` shape and as protobuf.

use serde::Serialize;

use super::prelude::*;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Tokens of the request's texts (the question, the inputs, the query and documents).
    pub prompt_tokens: usize,
    /// Generated tokens.
    pub completion_tokens: usize,
    pub total_tokens: usize,
}

impl Usage {
    pub fn new(prompt_tokens: usize, completion_tokens: usize) -> Usage {
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
        }
    }

    pub fn to_message(self) -> pb::Usage {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        pb::Usage {
            prompt_tokens: count(self.prompt_tokens),
            completion_tokens: count(self.completion_tokens),
            total_tokens: count(self.total_tokens),
        }
    }

    /// The OpenAPI schema.
    pub fn schema() -> Json {
        let count = json!({ "type": "integer", "minimum": 0 });
        json!({ "type": "object", "required": ["prompt_tokens", "total_tokens"],
            "properties": { "prompt_tokens": count, "completion_tokens": count, "total_tokens": count } })
    }
}
