//! One runner per graph. Each takes a batch of unpadded items, pads inside, runs the graph and
//! unpads the outputs, so a batched result equals the single one; each exposes an item cost.

mod decoder;
mod decoder_full;
mod fusion;
mod heads;
pub(crate) mod io;
mod padding;
mod text_encoder;
mod vision;

use ndarray::Array2;

pub use decoder::Decoder;
pub use fusion::{Fusion, FusionInput};
pub use heads::Heads;
pub use text_encoder::TextEncoder;
pub use vision::VisionEncoder;

use crate::ModelError;
use crate::package::{GraphName, Package, PackageError};
use crate::runtime::{Graph, Runtime};

/// One item's token embeddings, `[tokens, D]`.
pub type Embeddings = Array2<f32>;

fn load_graph(runtime: &Runtime, package: &Package, name: GraphName) -> Result<Graph, ModelError> {
    let path = package
        .graph_path(name)
        .ok_or_else(|| PackageError::MissingFile {
            file: package.dir().join(format!("{name}.onnx")),
        })?;
    Ok(Graph::load(runtime, name, &path)?)
}
