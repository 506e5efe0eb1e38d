//! Tokenization and detokenization with the official special-token rules.

use std::path::Path;

use tokenizers::Tokenizer;

use super::TextError;
use super::normalize::{pre_caption, pre_question};
use crate::package::{SpecialTokens, TextConfig};

/// Texts → token ids for the text encoder, and generated ids → answer / caption strings.
#[derive(Debug, Clone)]
pub struct TextProcessor {
    tokenizer: Tokenizer,
    special: SpecialTokens,
    add_sep: bool,
    max_tokens: usize,
    question_max_words: usize,
    caption_max_words: usize,
}

impl TextProcessor {
    /// Loads `tokenizer.json`. Its own padding, truncation and special-token template are not
    /// used: ids are `[CLS]` + WordPiece tokens (+ `[SEP]` only if the manifest says `add_sep`).
    pub fn load(path: &Path, config: &TextConfig) -> Result<TextProcessor, TextError> {
        let mut tokenizer = Tokenizer::from_file(path).map_err(|error| TextError::Tokenizer {
            file: path.to_path_buf(),
            reason: error.to_string(),
        })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|error| TextError::Tokenizer {
                file: path.to_path_buf(),
                reason: error.to_string(),
            })?;
        Ok(TextProcessor {
            tokenizer,
            special: config.special_tokens,
            add_sep: config.add_sep,
            max_tokens: config.max_tokens,
            question_max_words: config.question.max_words,
            caption_max_words: config.caption.max_words,
        })
    }

    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    pub fn special_tokens(&self) -> SpecialTokens {
        self.special
    }

    /// A VQA question: `pre_question`, then token ids.
    pub fn question_ids(&self, question: &str) -> Result<Vec<i64>, TextError> {
        let normalized = pre_question(question, self.question_max_words);
        self.ids("question", question, &normalized)
    }

    /// Any other text (embeddings, match, classify labels): `pre_caption`, then token ids.
    pub fn caption_ids(&self, text: &str) -> Result<Vec<i64>, TextError> {
        let normalized = pre_caption(text, self.caption_max_words);
        self.ids("text", text, &normalized)
    }

    fn ids(&self, what: &'static str, text: &str, normalized: &str) -> Result<Vec<i64>, TextError> {
        let empty = || TextError::Empty {
            what,
            text: text.to_owned(),
        };
        if normalized.trim().is_empty() {
            return Err(empty());
        }
        let encoding =
            self.tokenizer
                .encode(normalized, false)
                .map_err(|error| TextError::Encode {
                    what,
                    reason: error.to_string(),
                })?;
        let mut ids = Vec::with_capacity(encoding.len() + 2);
        ids.push(self.special.cls);
        ids.extend(encoding.get_ids().iter().map(|&id| id as i64));
        if self.add_sep {
            ids.push(self.special.sep);
        }
        if ids.len() == 1 + usize::from(self.add_sep) {
            return Err(empty());
        }
        if ids.len() > self.max_tokens {
            return Err(TextError::TooManyTokens {
                what,
                limit: self.max_tokens,
                value: ids.len(),
            });
        }
        Ok(ids)
    }

    /// The reference's answer string: decode, drop `[SEP]`, `[CLS]`, `[PAD]`, strip.
    pub fn answer_text(&self, ids: &[i64]) -> String {
        let decoded = self.decode(ids);
        decoded
            .replace("[SEP]", "")
            .replace("[CLS]", "")
            .replace("[PAD]", "")
            .trim()
            .to_owned()
    }

    /// A caption: the answer string, then only the text after the last occurrence of the prompt.
    pub fn caption_text(&self, ids: &[i64], prompt: Option<&str>) -> String {
        let answer = self.answer_text(ids);
        match prompt {
            Some(prompt) if !prompt.is_empty() => answer
                .rsplit(prompt)
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            _ => answer,
        }
    }

    /// The slow `BertTokenizer.decode` the reference calls: tokens joined by spaces, ` ##` removed,
    /// stripped, then `clean_up_tokenization`. Written out because the fast WordPiece decoder
    /// cleans up per token and so differs on apostrophes.
    pub fn decode(&self, ids: &[i64]) -> String {
        let tokens: Vec<String> = ids
            .iter()
            .filter_map(|&id| u32::try_from(id).ok())
            .filter_map(|id| self.tokenizer.id_to_token(id))
            .collect();
        let text = tokens.join(" ").replace(" ##", "");
        clean_up_tokenization(text.trim())
    }
}

/// transformers' `clean_up_tokenization`, in its order.
fn clean_up_tokenization(text: &str) -> String {
    text.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleanup_joins_punctuation_and_contractions() {
        assert_eq!(
            clean_up_tokenization("it ' s a dog , is n't it ?"),
            "it's a dog, isn't it?"
        );
    }
}
