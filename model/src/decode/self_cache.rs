//! The self-attention K/V cache of one sequence's beams.

use super::DecoderDims;

/// Per layer, keys and values laid out `[beam][head][position][head_dim]` with room for
/// `capacity` positions, so appending a step writes in place.
#[derive(Debug, Clone)]
pub struct SelfCache {
    dims: DecoderDims,
    beams: usize,
    capacity: usize,
    len: usize,
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    /// A table-sized buffer a reorder gathers into and then swaps with the table it reordered
    /// (no copy back; the old table becomes the next one's buffer).
    spare: Vec<f32>,
}

impl SelfCache {
    pub fn new(dims: DecoderDims, beams: usize, capacity: usize) -> SelfCache {
        let size = beams * dims.heads * capacity * dims.head_dim;
        SelfCache {
            dims,
            beams,
            capacity,
            len: 0,
            keys: vec![vec![0.0; size]; dims.layers],
            values: vec![vec![0.0; size]; dims.layers],
            spare: vec![0.0; size],
        }
    }

    /// Cached positions.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn offset(&self, beam: usize, head: usize, position: usize) -> usize {
        ((beam * self.dims.heads + head) * self.capacity + position) * self.dims.head_dim
    }

    /// Writes one new position for every beam from a step's `present` tensors.
    /// `present(layer, is_value, beam, head)` returns that head's `head_dim` values.
    pub fn append<'a>(&mut self, present: impl Fn(usize, bool, usize, usize) -> &'a [f32]) {
        assert!(
            self.len < self.capacity,
            "cache capacity is max_length: a bug if exceeded"
        );
        let hd = self.dims.head_dim;
        for layer in 0..self.dims.layers {
            for beam in 0..self.beams {
                for head in 0..self.dims.heads {
                    let at = self.offset(beam, head, self.len);
                    self.keys[layer][at..at + hd]
                        .copy_from_slice(present(layer, false, beam, head));
                    self.values[layer][at..at + hd]
                        .copy_from_slice(present(layer, true, beam, head));
                }
            }
        }
        self.len += 1;
    }

    /// New beam `j` takes old beam `parents[j]`'s cache. Only the cached positions move: the
    /// capacity beyond them is never read.
    pub fn reorder(&mut self, parents: &[usize]) {
        if parents.iter().enumerate().all(|(j, &p)| j == p) {
            return;
        }
        let run = self.len * self.dims.head_dim;
        for table in self.keys.iter_mut().chain(self.values.iter_mut()) {
            for (beam, &parent) in parents.iter().enumerate() {
                for head in 0..self.dims.heads {
                    let to = ((beam * self.dims.heads + head) * self.capacity) * self.dims.head_dim;
                    let from =
                        ((parent * self.dims.heads + head) * self.capacity) * self.dims.head_dim;
                    self.spare[to..to + run].copy_from_slice(&table[from..from + run]);
                }
            }
            std::mem::swap(table, &mut self.spare);
        }
    }

    /// Appends one beam's `[head][padded_len][head_dim]` to `out`: its cached positions, then
    /// zeros up to `padded_len` (masked out by the step's past mask).
    pub fn extend_beam(
        &self,
        layer: usize,
        is_value: bool,
        beam: usize,
        padded_len: usize,
        out: &mut Vec<f32>,
    ) {
        let table = if is_value {
            &self.values[layer]
        } else {
            &self.keys[layer]
        };
        let hd = self.dims.head_dim;
        let run = self.len * hd;
        let padding = (padded_len - self.len) * hd;
        for head in 0..self.dims.heads {
            let src = self.offset(beam, head, 0);
            out.extend_from_slice(&table[src..src + run]);
            out.resize(out.len() + padding, 0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_reorder_and_copy_keep_beams_apart() {
        let dims = DecoderDims {
            layers: 1,
            heads: 2,
            head_dim: 2,
            vocab: 10,
        };
        let mut cache = SelfCache::new(dims, 2, 3);
        // Value = 100*beam + 10*head + step (+0.5 for values).
        for step in 0..2 {
            let data: Vec<Vec<f32>> = (0..8)
                .map(|i| {
                    let (is_value, beam, head) = (i / 4 == 1, (i / 2) % 2, i % 2);
                    let v = 100.0 * beam as f32 + 10.0 * head as f32 + step as f32;
                    vec![v + if is_value { 0.5 } else { 0.0 }; 2]
                })
                .collect();
            cache.append(|_, is_value, beam, head| {
                &data[usize::from(is_value) * 4 + beam * 2 + head]
            });
        }
        cache.reorder(&[1, 0]);
        let mut out = vec![-1.0];
        cache.extend_beam(0, false, 0, 3, &mut out);
        assert_eq!(
            out,
            vec![
                -1., 100., 100., 101., 101., 0., 0., 110., 110., 111., 111., 0., 0.
            ]
        );
        out.clear();
        cache.extend_beam(0, true, 1, 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5, 1.5, 1.5, 10.5, 10.5, 11.5, 11.5]);
        // Both new beams from one parent; then a step appended after the reorder.
        cache.reorder(&[1, 1]);
        let third: Vec<Vec<f32>> = (0..8)
            .map(|i| vec![1000.0 * ((i / 2) % 2 + 1) as f32 + 10.0 * (i % 2) as f32; 2])
            .collect();
        cache.append(|_, is_value, beam, head| &third[usize::from(is_value) * 4 + beam * 2 + head]);
        for (beam, last) in [(0, 1000.0), (1, 2000.0)] {
            out.clear();
            cache.extend_beam(0, false, beam, 3, &mut out);
            assert_eq!(&out[0..6], &[0., 0., 1., 1., last, last], "beam {beam}");
        }
    }
}
