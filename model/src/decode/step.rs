//! One decoder step's inputs, built from a `DecodeBatch`, and its outputs, taken back into the
//! batch (self-attention caches appended, beams advanced). `Decoder` only runs the graph between.

use ndarray::{Array1, Array2, Array3, Array5, Axis, s};
use ort::session::{SessionInputValue, SessionOutputs};

use super::batch::CrossLayout;
use super::{BeamError, DecodeBatch, DecoderDims, Sequence};
use crate::ModelError;
use crate::modules::io::{expect_dim, f32_output, owned_input, view_input};
use crate::package::GraphName;
use crate::runtime::RuntimeError;

pub(crate) type StepInputs<'a> = Vec<(String, SessionInputValue<'a>)>;

/// Where a step's outputs go: the members that took part, and the step's shape.
pub(crate) struct StepSink<'a> {
    members: &'a mut [(u64, Sequence)],
    beams: usize,
    dims: DecoderDims,
}

/// A member's id and whether its search advanced by the step.
pub type MemberOutcome = (u64, Result<(), BeamError>);

/// Per member, whether its search advanced; and the logits when they were asked for.
pub(crate) type StepOutcome = (Vec<MemberOutcome>, Option<Array3<f32>>);

impl DecodeBatch {
    /// The next step's inputs and the sink of its outputs; `None` when every member has finished.
    pub(crate) fn step_io(
        &mut self,
        dims: DecoderDims,
    ) -> Result<Option<(StepInputs<'_>, StepSink<'_>)>, ModelError> {
        if self.members.iter().all(|(_, s)| s.is_finished()) {
            return Ok(None);
        }
        self.prepare_cross();
        let DecodeBatch { members, cross } = self;
        let beams = members
            .iter()
            .map(|(_, s)| s.search.beam_size())
            .max()
            .unwrap_or(1);
        let mut inputs = own_inputs(members, dims, beams)?;
        let Some(cross) = cross else {
            return Err(RuntimeError::GraphContract {
                graph: GraphName::DecoderStep.to_string(),
                problem: "no cross K/V were prepared for the step".to_owned(),
            }
            .into());
        };
        match &cross.layout {
            CrossLayout::Single(only) => {
                for layer in 0..only.layers() {
                    let (k, v) = (only.key(layer), only.value(layer));
                    inputs.push(view_input(
                        format!("cross_key_{layer}"),
                        k.insert_axis(Axis(0)),
                    )?);
                    inputs.push(view_input(
                        format!("cross_value_{layer}"),
                        v.insert_axis(Axis(0)),
                    )?);
                }
                let mask = Array2::<i64>::ones((1, only.len()));
                inputs.push(owned_input("memory_mask", mask.into_dyn())?);
            }
            CrossLayout::Packed { keys, values, mask } => {
                for (layer, (k, v)) in keys.iter().zip(values).enumerate() {
                    inputs.push(view_input(format!("cross_key_{layer}"), k.view())?);
                    inputs.push(view_input(format!("cross_value_{layer}"), v.view())?);
                }
                inputs.push(view_input("memory_mask", mask.view())?);
            }
        }
        let sink = StepSink {
            members: members.as_mut_slice(),
            beams,
            dims,
        };
        Ok(Some((inputs, sink)))
    }
}

/// Token ids, positions, the past mask and the past self-attention K/V (`[B, beams, heads,
/// past, head_dim]` per layer), each beam's past copied from its member's cache.
fn own_inputs(
    members: &[(u64, Sequence)],
    dims: DecoderDims,
    beams: usize,
) -> Result<StepInputs<'static>, ModelError> {
    let size = members.len();
    let past = members
        .iter()
        .map(|(_, s)| s.cache.len())
        .max()
        .unwrap_or(0);
    let mut input_ids = Array2::<i64>::zeros((size, beams));
    let mut positions = Array1::<i64>::zeros(size);
    let mut past_mask = Array2::<i64>::zeros((size, past));
    for (b, (_, sequence)) in members.iter().enumerate() {
        input_ids.row_mut(b).fill(sequence.search.params().bos);
        for (k, token) in sequence.search.last_tokens().enumerate() {
            input_ids[[b, k]] = token;
        }
        positions[b] = sequence.search.step() as i64;
        past_mask.slice_mut(s![b, ..sequence.cache.len()]).fill(1);
    }
    let mut inputs = vec![
        owned_input("input_ids", input_ids.into_dyn())?,
        owned_input("position_ids", positions.into_dyn())?,
        owned_input("past_mask", past_mask.into_dyn())?,
    ];
    for layer in 0..dims.layers {
        for is_value in [false, true] {
            // Written once, in order: each beam's cached positions, zeros only where padded.
            let beam_size = dims.heads * past * dims.head_dim;
            let mut data = Vec::with_capacity(size * beams * beam_size);
            for (_, sequence) in members {
                let own = sequence.search.beam_size();
                for k in 0..own {
                    sequence
                        .cache
                        .extend_beam(layer, is_value, k, past, &mut data);
                }
                data.resize(data.len() + (beams - own) * beam_size, 0.0);
            }
            let shape = (size, beams, dims.heads, past, dims.head_dim);
            let tensor = Array5::from_shape_vec(shape, data).expect("every slot was written");
            let prefix = if is_value { "past_value" } else { "past_key" };
            inputs.push(owned_input(format!("{prefix}_{layer}"), tensor.into_dyn())?);
        }
    }
    Ok(inputs)
}

impl StepSink<'_> {
    /// Advances each unfinished member's search with its logits and then appends its new K/V. A
    /// member whose search refuses its logits (NaN) is left exactly as it was before the step, and
    /// every check of the outputs comes before the first member changes, so an error returned
    /// here leaves every member untouched.
    pub(crate) fn take(
        self,
        outputs: &SessionOutputs<'_>,
        graph: GraphName,
        keep_logits: bool,
    ) -> Result<StepOutcome, RuntimeError> {
        let StepSink {
            members,
            beams,
            dims,
        } = self;
        let size = members.len();
        let logits = f32_output(outputs, graph, "logits", 3)?;
        expect_dim(graph, "logits", &logits, 0, size)?;
        expect_dim(graph, "logits", &logits, 1, beams)?;
        let vocab = logits.shape()[2];
        let logits = logits
            .to_slice()
            .ok_or_else(|| not_contiguous(graph, "logits"))?;
        let mut presents = Vec::with_capacity(dims.layers * 2);
        for layer in 0..dims.layers {
            for prefix in ["present_key", "present_value"] {
                let output = format!("{prefix}_{layer}");
                let array = f32_output(outputs, graph, &output, 5)?;
                for (axis, want) in [
                    (0, size),
                    (1, beams),
                    (2, dims.heads),
                    (3, 1),
                    (4, dims.head_dim),
                ] {
                    expect_dim(graph, &output, &array, axis, want)?;
                }
                presents.push(
                    array
                        .to_slice()
                        .ok_or_else(|| not_contiguous(graph, &output))?,
                );
            }
        }
        let kept = keep_logits.then(|| {
            Array3::from_shape_vec((size, beams, vocab), logits.to_vec())
                .expect("shape checked above")
        });
        let mut outcomes = Vec::with_capacity(size);
        for (b, (id, sequence)) in members.iter_mut().enumerate() {
            if sequence.is_finished() {
                outcomes.push((*id, Ok(())));
                continue;
            }
            let hd = dims.head_dim;
            let slot = |layer: usize, is_value: bool, k: usize, head: usize| {
                let at = ((b * beams + k) * dims.heads + head) * hd;
                &presents[layer * 2 + usize::from(is_value)][at..at + hd]
            };
            let own = sequence.search.beam_size();
            let rows = &logits[b * beams * vocab..(b * beams + own) * vocab];
            // The search first: it changes nothing when it fails, and the cache follows it.
            let advanced = sequence.search.advance(rows, vocab).map(|advance| {
                sequence.cache.append(slot);
                sequence.cache.reorder(&advance.parents);
            });
            outcomes.push((*id, advanced));
        }
        Ok((outcomes, kept))
    }
}

fn not_contiguous(graph: GraphName, output: &str) -> RuntimeError {
    RuntimeError::GraphContract {
        graph: graph.to_string(),
        problem: format!("output {output} is not contiguous"),
    }
}
