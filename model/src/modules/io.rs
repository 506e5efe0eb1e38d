//! Moving arrays into and out of ONNX Runtime without extra copies where possible.

use ndarray::{ArrayD, ArrayView, ArrayViewD, Dimension};
use ort::session::{SessionInputValue, SessionOutputs};
use ort::value::PrimitiveTensorElementType;
use ort::value::{Tensor, TensorRef};

use crate::ModelError;
use crate::package::GraphName;
use crate::runtime::RuntimeError;

/// An input that ONNX Runtime reads in place from our buffer (must be standard layout).
pub(crate) fn view_input<'a, T, D>(
    name: impl Into<String>,
    array: ArrayView<'a, T, D>,
) -> Result<(String, SessionInputValue<'a>), ModelError>
where
    T: PrimitiveTensorElementType + Clone + std::fmt::Debug + 'static,
    D: Dimension + 'static,
{
    let name = name.into();
    let tensor = TensorRef::from_array_view(array)
        .map_err(|error| RuntimeError::ort(format!("preparing input {name}"), error))?;
    Ok((name, tensor.into()))
}

/// An input handed over to ONNX Runtime (the array's buffer moves, it is not copied).
pub(crate) fn owned_input<T>(
    name: impl Into<String>,
    array: ArrayD<T>,
) -> Result<(String, SessionInputValue<'static>), ModelError>
where
    T: PrimitiveTensorElementType + Clone + std::fmt::Debug + 'static,
{
    let name = name.into();
    let tensor = Tensor::from_array(array)
        .map_err(|error| RuntimeError::ort(format!("preparing input {name}"), error))?;
    Ok((name, tensor.into()))
}

/// A float output with the expected rank.
pub(crate) fn f32_output<'a>(
    outputs: &'a SessionOutputs<'_>,
    graph: GraphName,
    name: &str,
    rank: usize,
) -> Result<ArrayViewD<'a, f32>, RuntimeError> {
    let value = outputs
        .get(name)
        .ok_or_else(|| RuntimeError::GraphContract {
            graph: graph.to_string(),
            problem: format!("no output `{name}`"),
        })?;
    let array = value
        .try_extract_array::<f32>()
        .map_err(|error| RuntimeError::ort(format!("reading {graph} output {name}"), error))?;
    if array.ndim() != rank {
        return Err(RuntimeError::GraphContract {
            graph: graph.to_string(),
            problem: format!(
                "output {name} has shape {:?}, expected rank {rank}",
                array.shape()
            ),
        });
    }
    Ok(array)
}

/// Checks a dimension of an output against what the inputs imply.
pub(crate) fn expect_dim(
    graph: GraphName,
    name: &str,
    array: &ArrayViewD<'_, f32>,
    axis: usize,
    expected: usize,
) -> Result<(), RuntimeError> {
    let got = array.shape()[axis];
    if got != expected {
        return Err(RuntimeError::GraphContract {
            graph: graph.to_string(),
            problem: format!(
                "output {name} has shape {:?}, expected {expected} on axis {axis}",
                array.shape()
            ),
        });
    }
    Ok(())
}

/// A `[B, L, D]` output cut back to each item's own length: `[lengths[b], D]` per item.
pub(crate) fn unpad_rows(
    outputs: &SessionOutputs<'_>,
    graph: GraphName,
    name: &str,
    lengths: &[usize],
) -> Result<Vec<ndarray::Array2<f32>>, RuntimeError> {
    let out = f32_output(outputs, graph, name, 3)?;
    expect_dim(graph, name, &out, 0, lengths.len())?;
    expect_dim(
        graph,
        name,
        &out,
        1,
        lengths.iter().copied().max().unwrap_or(0),
    )?;
    let out = out
        .into_dimensionality::<ndarray::Ix3>()
        .expect("rank checked above");
    Ok(lengths
        .iter()
        .enumerate()
        .map(|(b, &len)| out.slice(ndarray::s![b, ..len, ..]).to_owned())
        .collect())
}
