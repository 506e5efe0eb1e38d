//! The decoder: `decoder_cross_kv` once per item, then KV-cached `decoder_step`s for a whole
//! `DecodeBatch` at a time.

use std::sync::Arc;

use ndarray::{Array3, ArrayView2, Ix4, s};

use super::io::{expect_dim, f32_output, owned_input};
use super::padding::pad_rows;
use crate::ModelError;
use crate::decode::{CrossKv, DecodeBatch, DecodeParams, DecoderDims, Sequence};
use crate::package::{GraphName, Package};
use crate::runtime::{Graph, Runtime};

#[derive(Debug)]
pub struct Decoder {
    cross_kv: Graph,
    step: Graph,
    full: Option<Graph>,
    dims: DecoderDims,
}

impl Decoder {
    /// Loads `decoder_cross_kv` and `decoder_step` (and `decoder_full` when `with_full`).
    pub fn load(
        runtime: &Runtime,
        package: &Package,
        with_full: bool,
    ) -> Result<Decoder, ModelError> {
        let text = &package.manifest().config.text;
        let dims = DecoderDims {
            layers: text.text_decode_layers,
            heads: text.num_attention_heads,
            head_dim: text.head_dim(),
            vocab: text.vocab_size,
        };
        let per_layer = |prefixes: &[&str]| -> Vec<String> {
            (0..dims.layers)
                .flat_map(|i| prefixes.iter().map(move |p| format!("{p}_{i}")))
                .collect()
        };
        let cross_kv = super::load_graph(runtime, package, GraphName::DecoderCrossKv)?;
        cross_kv.expect_io(
            &["memory".to_owned()],
            &per_layer(&["cross_key", "cross_value"]),
        )?;
        let step = super::load_graph(runtime, package, GraphName::DecoderStep)?;
        let mut step_inputs = vec![
            "input_ids".to_owned(),
            "position_ids".to_owned(),
            "past_mask".to_owned(),
            "memory_mask".to_owned(),
        ];
        step_inputs.extend(per_layer(&[
            "past_key",
            "past_value",
            "cross_key",
            "cross_value",
        ]));
        let mut step_outputs = vec!["logits".to_owned()];
        step_outputs.extend(per_layer(&["present_key", "present_value"]));
        step.expect_io(&step_inputs, &step_outputs)?;
        let full = if with_full && package.has_graph(GraphName::DecoderFull) {
            let full = super::load_graph(runtime, package, GraphName::DecoderFull)?;
            full.expect_io(
                &[
                    "input_ids".to_owned(),
                    "memory".to_owned(),
                    "memory_mask".to_owned(),
                ],
                &["logits".to_owned()],
            )?;
            Some(full)
        } else {
            None
        };
        Ok(Decoder {
            cross_kv,
            step,
            full,
            dims,
        })
    }

    pub fn dims(&self) -> DecoderDims {
        self.dims
    }

    pub fn graphs(&self) -> impl Iterator<Item = &Graph> {
        [&self.cross_kv, &self.step].into_iter().chain(&self.full)
    }

    pub(crate) fn full_graph(&self) -> Option<&Graph> {
        self.full.as_ref()
    }

    /// Memory positions × model width: the cost of one `cross_kv` item.
    pub fn cross_kv_cost(&self, memory: ArrayView2<'_, f32>) -> usize {
        memory.nrows()
    }

    /// Cross-attention K/V of each memory `[S_i, D]`, computed once per item (never per beam).
    pub fn cross_kv(
        &self,
        memories: &[ArrayView2<'_, f32>],
    ) -> Result<Vec<Arc<CrossKv>>, ModelError> {
        if memories.is_empty() {
            return Ok(Vec::new());
        }
        let (padded, _) = pad_rows(memories);
        let len = padded.shape()[1];
        let inputs = vec![owned_input("memory", padded.into_dyn())?];
        let name = self.cross_kv.name();
        let dims = self.dims;
        Ok(self.cross_kv.run(inputs, |outputs| {
            let mut keys = vec![Vec::with_capacity(dims.layers); memories.len()];
            let mut values = vec![Vec::with_capacity(dims.layers); memories.len()];
            for layer in 0..dims.layers {
                for (is_value, target) in [(false, &mut keys), (true, &mut values)] {
                    let output = if is_value {
                        format!("cross_value_{layer}")
                    } else {
                        format!("cross_key_{layer}")
                    };
                    let array = f32_output(outputs, name, &output, 4)?;
                    expect_dim(name, &output, &array, 0, memories.len())?;
                    expect_dim(name, &output, &array, 1, dims.heads)?;
                    expect_dim(name, &output, &array, 2, len)?;
                    expect_dim(name, &output, &array, 3, dims.head_dim)?;
                    let array = array.into_dimensionality::<Ix4>().expect("rank checked");
                    for (b, memory) in memories.iter().enumerate() {
                        let item = array.slice(s![b, .., ..memory.nrows(), ..]);
                        target[b].push(item.as_standard_layout().into_owned());
                    }
                }
            }
            Ok(keys
                .into_iter()
                .zip(values)
                .map(|(k, v)| Arc::new(CrossKv::new(k, v).expect("shapes checked above")))
                .collect::<Vec<_>>())
        })?)
    }

    /// A new sequence over an item's cross K/V.
    pub fn start(&self, cross: Arc<CrossKv>, params: DecodeParams) -> Sequence {
        Sequence::new(cross, params, self.dims)
    }

    /// One decoding step for every unfinished member of the batch.
    pub fn step(&self, batch: &mut DecodeBatch) -> Result<(), ModelError> {
        self.run_step(batch, false).map(drop)
    }

    /// `step`, also returning a copy of the step's logits `[members, beams, vocab]` (parity checks).
    pub fn step_logits(&self, batch: &mut DecodeBatch) -> Result<Array3<f32>, ModelError> {
        Ok(self
            .run_step(batch, true)?
            .unwrap_or_else(|| Array3::zeros((0, 0, 0))))
    }

    /// The step's inputs and outputs are the batch's business; this only runs the graph.
    fn run_step(
        &self,
        batch: &mut DecodeBatch,
        keep_logits: bool,
    ) -> Result<Option<Array3<f32>>, ModelError> {
        let Some((inputs, sink)) = batch.step_io(self.dims)? else {
            return Ok(None);
        };
        let name = self.step.name();
        let (outcomes, kept) = self
            .step
            .run(inputs, |outputs| sink.take(outputs, name, keep_logits))?;
        for outcome in outcomes {
            outcome?;
        }
        Ok(kept)
    }

    /// Decodes memories to completion on their own (one batch, all joining at step 0): each
    /// memory's first result (the best hypothesis, or the first sample).
    pub fn generate(
        &self,
        memories: &[ArrayView2<'_, f32>],
        params: &[DecodeParams],
    ) -> Result<Vec<Vec<i64>>, ModelError> {
        let choices = self.generate_choices(memories, params)?;
        Ok(choices
            .into_iter()
            .map(|results| results.into_iter().next().unwrap_or_default())
            .collect())
    }

    /// `generate` with every memory's `num_results` results.
    pub fn generate_choices(
        &self,
        memories: &[ArrayView2<'_, f32>],
        params: &[DecodeParams],
    ) -> Result<Vec<Vec<Vec<i64>>>, ModelError> {
        let crosses = self.cross_kv(memories)?;
        let mut batch = DecodeBatch::new();
        for (id, (cross, params)) in crosses.into_iter().zip(params).enumerate() {
            batch.add(id as u64, self.start(cross, *params));
        }
        let mut results = vec![Vec::new(); memories.len()];
        while !batch.is_empty() {
            self.step(&mut batch)?;
            for (id, choices) in batch.take_finished() {
                results[id as usize] = choices;
            }
        }
        Ok(results)
    }
}
