//! Graphs of the demo package poisoned for the failure-isolation tests, built from a small
//! committed patch (see `tests/fixtures/make_poisoned_decoder_step.py`).

use crate::{demo_package, workspace_root};

/// The memory lengths the poisoned decoder step reacts to, and questions that give them on an
/// image of the demo package (17 vision tokens + the question's ids).
pub const NAN_QUESTION: &str =
    "what does the poisoned decoder answer to a question this long about the picture";
pub const ERROR_QUESTION: &str = "what does the failing decoder answer to an even longer question \
     about the colours and the shapes in this picture";

/// The demo `decoder_step.onnx` that gives NaN logits to a request asking `NAN_QUESTION` about an
/// image and fails every run holding one asking `ERROR_QUESTION`: its `logits` output renamed
/// `rawlog` (same length, so the protobuf stays valid), followed by the patch, a ModelProto of
/// the added nodes that protobuf merges into the graph.
pub fn poisoned_decoder_step() -> Vec<u8> {
    let (from, to) = (b"\x12\x06logits".as_slice(), b"\x12\x06rawlog".as_slice());
    let mut graph = std::fs::read(demo_package().join("decoder_step.onnx")).expect("decoder_step");
    let found: Vec<usize> = graph
        .windows(from.len())
        .enumerate()
        .filter(|(_, window)| *window == from)
        .map(|(at, _)| at)
        .collect();
    assert_eq!(found.len(), 1, "the logits output is named once");
    graph[found[0]..found[0] + to.len()].copy_from_slice(to);
    let patch = workspace_root().join("tests/fixtures/poisoned_decoder_step.patch.onnx");
    graph.extend(std::fs::read(patch).expect("the decoder step patch"));
    graph
}
