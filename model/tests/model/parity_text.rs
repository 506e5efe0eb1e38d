//! Text against the goldens: normalization, token ids, and the post-processing of generated ids.

use crate::common;

use common::{goldens, ids};
use mplug2_model::package::Package;
use mplug2_model::text::{TextProcessor, pre_caption, pre_question};

fn processor() -> TextProcessor {
    let package = Package::open_unverified(&common::demo_dir()).unwrap();
    TextProcessor::load(&package.tokenizer_path(), &package.manifest().text).unwrap()
}

#[test]
fn questions_and_captions_normalize_and_tokenize_as_the_reference() {
    let text = processor();
    let texts = goldens().json["texts"].as_array().unwrap();
    assert!(texts.len() >= 7);
    for entry in texts {
        let raw = entry["text"].as_str().unwrap();
        assert_eq!(
            pre_question(raw, 50),
            entry["question"]["normalized"].as_str().unwrap(),
            "{raw}"
        );
        assert_eq!(
            pre_caption(raw, 50),
            entry["caption"]["normalized"].as_str().unwrap(),
            "{raw}"
        );
        assert_eq!(
            text.question_ids(raw).unwrap(),
            ids(&entry["question"]["input_ids"]),
            "{raw}"
        );
        assert_eq!(
            text.caption_ids(raw).unwrap(),
            ids(&entry["caption"]["input_ids"]),
            "{raw}"
        );
    }
}

#[test]
fn embedding_texts_tokenize_as_the_reference() {
    let text = processor();
    for entry in goldens().json["embeddings"]["text"].as_array().unwrap() {
        let raw = entry["text"].as_str().unwrap();
        assert_eq!(
            text.caption_ids(raw).unwrap(),
            ids(&entry["input_ids"]),
            "{raw}"
        );
    }
}

#[test]
fn generated_ids_post_process_as_the_reference() {
    let text = processor();
    let cases = goldens().json["postprocess"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let tokens = ids(&case["ids"]);
        assert_eq!(text.decode(&tokens), case["decoded"].as_str().unwrap());
        assert_eq!(text.answer_text(&tokens), case["answer"].as_str().unwrap());
        assert_eq!(
            text.caption_text(&tokens, Some("a video of")),
            case["caption"].as_str().unwrap()
        );
    }
}
