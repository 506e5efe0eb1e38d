//! A chat completion request: the conversation (see `messages`) and the decoding options.
//! Without sampling fields the answer is the official beam search with the task's released
//! values (`beam_size` is an extension); `temperature`, `top_p`, `top_k` or `seed` select sampling.

use super::messages::{self, Conversation};
use crate::{
    form::Value,
    tasks::{frames, prelude::*},
};

pub struct ChatRequest {
    pub conversation: Conversation,
    /// Choices to answer: the n best beams, or n samples.
    pub n: usize,
    /// `max_completion_tokens`, else `max_tokens`.
    pub max_tokens: Option<usize>,
    /// vLLM's `min_tokens`: EOS is held back until this many tokens.
    pub min_tokens: Option<usize>,
    pub beam_size: Option<usize>,
    pub sampling: Option<SamplingOptions>,
    pub stream: bool,
    pub include_usage: bool,
    pub num_frames: Option<usize>,
    /// The chat's id and creation time, the same on every chunk of a stream.
    pub id: String,
    pub created: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SamplingOptions {
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub top_k: Option<usize>,
    pub seed: Option<u64>,
}

impl ChatRequest {
    pub async fn from_form(form: &mut Form, urls: &MediaUrls) -> Result<ChatRequest, ApiError> {
        if form.is_multipart() {
            return Err(ApiError::UnsupportedMediaType(
                "chat completions take application/json".into(),
            ));
        }
        // Accepted for OpenAI compatibility, not used.
        let _user = form.optional_text("user")?;
        let messages = json(form, "messages")?
            .ok_or_else(|| ApiError::InvalidRequest("`messages` is required".into()))?;
        let conversation = messages::conversation(&messages, urls).await?;
        let sampling = SamplingOptions {
            temperature: float(form, "temperature")?,
            top_p: float(form, "top_p")?,
            top_k: form.number("top_k")?.map(|k| k as usize),
            seed: json(form, "seed")?
                .map(|seed| integer("seed", &seed))
                .transpose()?,
        };
        let sampled = sampling.temperature.is_some()
            || sampling.top_p.is_some()
            || sampling.top_k.is_some()
            || sampling.seed.is_some();
        let max_tokens = form.number("max_tokens")?;
        let max_completion_tokens = form.number("max_completion_tokens")?;
        let stream = boolean(form, "stream")?.unwrap_or(false);
        let include_usage = match json(form, "stream_options")? {
            None => false,
            Some(Json::Object(options)) => match options.get("include_usage") {
                None | Some(Json::Null) => false,
                Some(Json::Bool(flag)) => *flag,
                Some(_) => {
                    return Err(invalid(
                        "`stream_options.include_usage` must be true or false",
                    ));
                }
            },
            Some(_) => return Err(invalid("`stream_options` must be an object")),
        };
        let media_io_frames = match json(form, "media_io_kwargs")? {
            None => None,
            Some(kwargs) => match kwargs.pointer("/video/num_frames") {
                None => None,
                Some(n) => Some(integer("media_io_kwargs.video.num_frames", n)? as usize),
            },
        };
        Ok(ChatRequest {
            conversation,
            n: form.number("n")?.map_or(1, |n| n as usize),
            max_tokens: max_completion_tokens.or(max_tokens).map(|n| n as usize),
            min_tokens: form.number("min_tokens")?.map(|n| n as usize),
            beam_size: form.number("beam_size")?.map(|n| n as usize),
            sampling: sampled.then_some(sampling),
            stream,
            include_usage,
            num_frames: frames::from_form(form)?.or(media_io_frames),
            id: format!("chatcmpl-{:032x}", rand::random::<u128>()),
            created: unix_seconds(),
        })
    }

    /// VQA when the last user message asks something, else a caption.
    pub fn task(&self) -> Task {
        match self.conversation.question {
            Some(_) => Task::Vqa,
            None => Task::Caption,
        }
    }

    pub fn validate(&self, limits: &RequestLimits) -> Result<(), ApiError> {
        media::validate(&self.conversation.media)?;
        frames::validate(self.num_frames, limits)?;
        if let Some(question) = &self.conversation.question {
            limits.text("question", Limit::QuestionChars, question)?;
        }
        if self.n == 0 {
            return Err(invalid("`n` must be at least 1"));
        }
        if self.max_tokens == Some(0) {
            return Err(invalid("`max_tokens` must be at least 1"));
        }
        if let Some(sampling) = &self.sampling {
            if let Some(t) = sampling.temperature
                && !(0.0..=2.0).contains(&t)
            {
                return Err(invalid(format!("`temperature` is {t}, outside 0 to 2")));
            }
            if let Some(p) = sampling.top_p
                && !(p > 0.0 && p <= 1.0)
            {
                return Err(invalid(format!("`top_p` is {p}, outside (0, 1]")));
            }
        }
        Ok(())
    }
}

fn json(form: &mut Form, name: &str) -> Result<Option<Json>, ApiError> {
    match form.take_one(name)? {
        None => Ok(None),
        Some(Value::Json(value)) => Ok(Some(value)),
        Some(Value::Part(_)) => Err(invalid(format!("`{name}` must be JSON"))),
    }
}

/// A number, as f32; a positive one too small for f32 stays positive (the smallest f32).
fn float(form: &mut Form, name: &str) -> Result<Option<f32>, ApiError> {
    json(form, name)?
        .map(|value| {
            value
                .as_f64()
                .map(|v| match v as f32 {
                    0.0 if v > 0.0 => f32::MIN_POSITIVE,
                    narrowed => narrowed,
                })
                .ok_or_else(|| invalid(format!("`{name}` must be a number")))
        })
        .transpose()
}

fn boolean(form: &mut Form, name: &str) -> Result<Option<bool>, ApiError> {
    json(form, name)?
        .map(|value| {
            value
                .as_bool()
                .ok_or_else(|| invalid(format!("`{name}` must be true or false")))
        })
        .transpose()
}

fn integer(name: &str, value: &Json) -> Result<u64, ApiError> {
    crate::form::whole_number(value)
        .ok_or_else(|| invalid(format!("`{name}` must be a non-negative integer")))
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |age| age.as_secs())
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::InvalidRequest(message.into())
}
