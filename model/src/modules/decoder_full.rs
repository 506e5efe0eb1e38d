//! The full-prefix decoder (`decoder_full`): the reference's own computation, no cache, memory
//! tiled per beam. Only for parity checks and for measuring what the KV cache saves.

use ndarray::{Array2, Array3, ArrayView2, Axis, s};

use super::Decoder;
use super::io::{expect_dim, f32_output, owned_input};
use crate::ModelError;
use crate::decode::{BeamSearch, DecodeParams};

impl Decoder {
    /// Last-position logits `[rows, V]` for equal-length prefixes over one memory each.
    pub fn full_logits(
        &self,
        prefixes: &[Vec<i64>],
        memories: &[ArrayView2<'_, f32>],
    ) -> Result<Array2<f32>, ModelError> {
        let graph = self.full_graph().ok_or_else(|| {
            ModelError::InvalidInput("the package has no decoder_full graph".to_owned())
        })?;
        let rows = prefixes.len();
        let steps = prefixes.first().map_or(0, Vec::len);
        if memories.len() != rows || prefixes.iter().any(|p| p.len() != steps) || steps == 0 {
            return Err(ModelError::InvalidInput(
                "decoder_full needs one memory per prefix and prefixes of one non-zero length"
                    .to_owned(),
            ));
        }
        let mut ids = Array2::<i64>::zeros((rows, steps));
        for (mut row, prefix) in ids.axis_iter_mut(Axis(0)).zip(prefixes) {
            row.assign(&ndarray::ArrayView1::from(prefix.as_slice()));
        }
        let len = memories.iter().map(|m| m.nrows()).max().unwrap_or(0);
        let width = memories[0].ncols();
        let mut memory = Array3::<f32>::zeros((rows, len, width));
        let mut mask = Array2::<i64>::zeros((rows, len));
        for (b, item) in memories.iter().enumerate() {
            memory.slice_mut(s![b, ..item.nrows(), ..]).assign(item);
            mask.slice_mut(s![b, ..item.nrows()]).fill(1);
        }
        let inputs = vec![
            owned_input("input_ids", ids.into_dyn())?,
            owned_input("memory", memory.into_dyn())?,
            owned_input("memory_mask", mask.into_dyn())?,
        ];
        let name = graph.name();
        Ok(graph.run(inputs, |outputs| {
            let logits = f32_output(outputs, name, "logits", 2)?;
            expect_dim(name, "logits", &logits, 0, rows)?;
            Ok(logits
                .into_dimensionality::<ndarray::Ix2>()
                .expect("rank checked")
                .to_owned())
        })?)
    }

    /// The reference beam search exactly as the official code runs it: every step re-runs the
    /// whole prefix of every beam over the memory tiled `beam_size` times.
    pub fn generate_full_prefix(
        &self,
        memory: ArrayView2<'_, f32>,
        params: DecodeParams,
    ) -> Result<Vec<i64>, ModelError> {
        let mut search = BeamSearch::new(params);
        let tiled: Vec<ArrayView2<'_, f32>> = vec![memory; search.beam_size()];
        while !search.is_finished() {
            let logits = self.full_logits(search.beams(), &tiled)?;
            let vocab = logits.ncols();
            let flat = logits.as_slice().expect("owned standard layout");
            search.advance(flat, vocab)?;
        }
        Ok(search.result().map(<[i64]>::to_vec).unwrap_or_default())
    }
}
