//! Streamed answers: text that can no longer change, from the stable token prefix of a decoding
//! (the longest common prefix of every hypothesis that can still win), so that the deltas add up
//! to the non-streamed answer exactly.

use std::sync::Arc;

use mplug2_model::text::TextProcessor;

/// Turns stable token prefixes into text deltas that never need taking back.
pub struct TextStreamer {
    text: Arc<TextProcessor>,
    /// A caption prompt is cut at its last occurrence, and a later occurrence would move the
    /// cut: with one, no text is sure before the search ends.
    holds_all: bool,
    emitted: String,
}

impl TextStreamer {
    /// For a VQA answer (`TextProcessor::answer_text`).
    pub fn answer(text: Arc<TextProcessor>) -> TextStreamer {
        TextStreamer {
            text,
            holds_all: false,
            emitted: String::new(),
        }
    }

    /// For a caption (`TextProcessor::caption_text` with the package's prompt).
    pub fn caption(text: Arc<TextProcessor>, prompt: Option<&str>) -> TextStreamer {
        TextStreamer {
            text,
            holds_all: prompt.is_some_and(|prompt| !prompt.is_empty()),
            emitted: String::new(),
        }
    }

    /// The text made sure by a new stable prefix, if any. Only words followed by a space are
    /// sure: the last word may still grow (`play` + `##ing`) or lose the space before it
    /// (`do n` + `' t` → `don't`), and nothing earlier can change.
    pub fn advance(&mut self, stable: &[i64]) -> Option<String> {
        if self.holds_all {
            return None;
        }
        let text = self.text.answer_text(stable);
        let sure = &text[..text.rfind(' ').unwrap_or(0)];
        let delta = sure.strip_prefix(self.emitted.as_str())?;
        if delta.is_empty() {
            return None;
        }
        let delta = delta.to_owned();
        self.emitted = sure.to_owned();
        Some(delta)
    }

    /// The rest of `answer` after what was streamed.
    pub fn finish(&mut self, answer: &str) -> String {
        match answer.strip_prefix(self.emitted.as_str()) {
            Some(rest) => {
                self.emitted = answer.to_owned();
                rest.to_owned()
            }
            None => {
                // A bug if it happens: the streamed text is not the answer's start.
                tracing::error!(streamed = self.emitted, answer, "streamed text diverged");
                String::new()
            }
        }
    }
}
