//! A continuous batch as a server runs one: sequences join one per step and leave when finished.

use mplug2_model::decode::{DecodeBatch, Sequence};
use mplug2_model::modules::Decoder;

/// Steps `sequences` in one batch, the next one joining before every step; `observe` sees the
/// batch after each step, before the finished members leave. Each sequence's results, in order.
pub fn decode_joining(
    decoder: &Decoder,
    sequences: Vec<Sequence>,
    mut observe: impl FnMut(&DecodeBatch),
) -> Vec<Vec<Vec<i64>>> {
    let mut results = vec![Vec::new(); sequences.len()];
    let mut pending: Vec<(u64, Sequence)> = (0u64..).zip(sequences).collect();
    pending.reverse();
    let mut batch = DecodeBatch::new();
    while !(pending.is_empty() && batch.is_empty()) {
        if let Some((id, sequence)) = pending.pop() {
            batch.add(id, sequence);
        }
        decoder.step(&mut batch).unwrap();
        observe(&batch);
        for (id, finished) in batch.take_finished() {
            results[id as usize] = finished;
        }
    }
    results
}
