/// Shapes of the decoder's caches, from the manifest config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderDims {
    pub layers: usize,
    pub heads: usize,
    pub head_dim: usize,
    pub vocab: usize,
}
