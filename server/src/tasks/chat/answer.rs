//! A chat completion in OpenAI's shapes: `chat.completion`, and for a stream the
//! `chat.completion.chunk` events (same `id`, `created` and `model` on each; the first delta
//! with the role, `finish_reason` on the last; with `include_usage`, a last chunk with empty
//! `choices` and the usage), then `[DONE]`.

use serde_json::{Value as Json, json};

use crate::tasks::{SseFrames, usage::Usage};

/// One generated answer.
pub struct Choice {
    pub text: String,
    /// `stop` when it ended with EOS, else `length`.
    pub finish_reason: &'static str,
}

pub struct ChatAnswer {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<Choice>,
    pub usage: Usage,
}

impl ChatAnswer {
    pub fn into_json(self) -> Json {
        let choices: Vec<Json> = self
            .choices
            .into_iter()
            .enumerate()
            .map(|(index, choice)| {
                json!({ "index": index, "message": { "role": "assistant", "content": choice.text },
                    "finish_reason": choice.finish_reason, "logprobs": null })
            })
            .collect();
        json!({ "id": self.id, "object": "chat.completion", "created": self.created,
            "model": self.model, "choices": choices, "usage": self.usage })
    }
}

/// The chunks of one streamed chat completion.
pub struct ChatChunks {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub include_usage: bool,
    /// Whether choice 0's role went out.
    opened: bool,
}

impl ChatChunks {
    pub fn new(id: String, created: u64, model: String, include_usage: bool) -> ChatChunks {
        ChatChunks {
            id,
            created,
            model,
            include_usage,
            opened: false,
        }
    }

    fn chunk(&self, choices: Json) -> String {
        json!({ "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": choices })
        .to_string()
    }

    fn content(&self, index: usize, delta: Json, finish_reason: Option<&str>) -> String {
        self.chunk(json!([{ "index": index, "delta": delta, "finish_reason": finish_reason, "logprobs": null }]))
    }

    /// Choice 0's role, once.
    fn open(&mut self) -> Vec<String> {
        if std::mem::replace(&mut self.opened, true) {
            return Vec::new();
        }
        vec![self.content(0, json!({ "role": "assistant", "content": "" }), None)]
    }
}

impl SseFrames<ChatAnswer> for ChatChunks {
    fn delta(&mut self, text: &str) -> Vec<String> {
        let mut events = self.open();
        events.push(self.content(0, json!({ "content": text }), None));
        events
    }

    fn end(&mut self, rest: &str, answer: ChatAnswer) -> Vec<String> {
        let mut events = self.open();
        for (index, choice) in answer.choices.iter().enumerate() {
            // Choice 0 streamed as it was made sure; the others are only known at the end.
            if index > 0 {
                let role = json!({ "role": "assistant", "content": "" });
                events.push(self.content(index, role, None));
            }
            let text = if index == 0 {
                rest
            } else {
                choice.text.as_str()
            };
            if !text.is_empty() {
                events.push(self.content(index, json!({ "content": text }), None));
            }
            events.push(self.content(index, json!({}), Some(choice.finish_reason)));
        }
        if self.include_usage {
            let mut last = json!({ "id": self.id, "object": "chat.completion.chunk",
                "created": self.created, "model": self.model, "choices": [] });
            last["usage"] = json!(answer.usage);
            events.push(last.to_string());
        }
        events.push("[DONE]".to_owned());
        events
    }
}
