//! The projection heads: `heads_vision`, `heads_text` (normalized embeddings) and `heads_itm`.

use ndarray::{Array1, Array2, ArrayView1, Axis};

use super::io::{expect_dim, f32_output, owned_input};
use crate::ModelError;
use crate::package::{GraphName, Package};
use crate::runtime::{Graph, Runtime};

/// Whichever heads the package has.
#[derive(Debug)]
pub struct Heads {
    vision: Option<Graph>,
    text: Option<Graph>,
    itm: Option<Graph>,
}

impl Heads {
    /// Loads the head graphs present in the package; `None` when it has none.
    pub fn load(runtime: &Runtime, package: &Package) -> Result<Option<Heads>, ModelError> {
        let load =
            |name: GraphName, input: &str, output: &str| -> Result<Option<Graph>, ModelError> {
                if !package.has_graph(name) {
                    return Ok(None);
                }
                let graph = super::load_graph(runtime, package, name)?;
                graph.expect_io(&[input.to_owned()], &[output.to_owned()])?;
                Ok(Some(graph))
            };
        let heads = Heads {
            vision: load(GraphName::HeadsVision, "vision_cls", "vision_feat")?,
            text: load(GraphName::HeadsText, "text_cls", "text_feat")?,
            itm: load(GraphName::HeadsItm, "fused_cls", "itm_logits")?,
        };
        let any = heads.vision.is_some() || heads.text.is_some() || heads.itm.is_some();
        Ok(any.then_some(heads))
    }

    pub fn graphs(&self) -> impl Iterator<Item = &Graph> {
        self.vision.iter().chain(&self.text).chain(&self.itm)
    }

    pub fn has(&self, graph: GraphName) -> bool {
        match graph {
            GraphName::HeadsVision => self.vision.is_some(),
            GraphName::HeadsText => self.text.is_some(),
            GraphName::HeadsItm => self.itm.is_some(),
            _ => false,
        }
    }

    /// `normalize(vision_proj(cls))` per item.
    pub fn vision(&self, cls: &[ArrayView1<'_, f32>]) -> Result<Vec<Array1<f32>>, ModelError> {
        run_rows(
            self.vision.as_ref(),
            GraphName::HeadsVision,
            "vision_cls",
            "vision_feat",
            cls,
        )
    }

    /// `normalize(text_proj(cls))` per item.
    pub fn text(&self, cls: &[ArrayView1<'_, f32>]) -> Result<Vec<Array1<f32>>, ModelError> {
        run_rows(
            self.text.as_ref(),
            GraphName::HeadsText,
            "text_cls",
            "text_feat",
            cls,
        )
    }

    /// ITM logits `[no match, match]` per item.
    pub fn itm(&self, cls: &[ArrayView1<'_, f32>]) -> Result<Vec<Array1<f32>>, ModelError> {
        run_rows(
            self.itm.as_ref(),
            GraphName::HeadsItm,
            "fused_cls",
            "itm_logits",
            cls,
        )
    }
}

fn run_rows(
    graph: Option<&Graph>,
    name: GraphName,
    input: &str,
    output: &str,
    rows: &[ArrayView1<'_, f32>],
) -> Result<Vec<Array1<f32>>, ModelError> {
    let graph =
        graph.ok_or_else(|| ModelError::output(name, "nothing: the package has no such graph"))?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let width = rows[0].len();
    if rows.iter().any(|row| row.len() != width) {
        return Err(ModelError::InvalidInput(format!(
            "{name}: rows of different widths"
        )));
    }
    let mut batch = Array2::<f32>::zeros((rows.len(), width));
    for (mut target, row) in batch.axis_iter_mut(Axis(0)).zip(rows) {
        target.assign(row);
    }
    let inputs = vec![owned_input(input, batch.into_dyn())?];
    Ok(graph.run(inputs, |outputs| {
        let out = f32_output(outputs, name, output, 2)?;
        expect_dim(name, output, &out, 0, rows.len())?;
        Ok(out
            .axis_iter(Axis(0))
            .map(|row| row.to_owned().into_dimensionality().expect("rank 1"))
            .collect::<Vec<_>>())
    })?)
}
