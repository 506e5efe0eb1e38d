//! Right padding of variable-length items into batch tensors, with their masks.

use ndarray::{Array2, Array3, ArrayView2, s};

/// Token ids right-padded with `pad`, and the mask (1 = real token).
pub(crate) fn pad_ids(items: &[&[i64]], pad: i64) -> (Array2<i64>, Array2<i64>) {
    let len = items.iter().map(|ids| ids.len()).max().unwrap_or(0);
    let mut ids = Array2::from_elem((items.len(), len), pad);
    let mut mask = Array2::<i64>::zeros((items.len(), len));
    for (b, item) in items.iter().enumerate() {
        for (t, &id) in item.iter().enumerate() {
            ids[[b, t]] = id;
            mask[[b, t]] = 1;
        }
    }
    (ids, mask)
}

/// Sequences of vectors `[len_b, D]` right-padded with zeros to `[B, max_len, D]`, and the mask.
pub(crate) fn pad_rows(items: &[ArrayView2<'_, f32>]) -> (Array3<f32>, Array2<i64>) {
    let len = items.iter().map(|item| item.nrows()).max().unwrap_or(0);
    let width = items.first().map_or(0, |item| item.ncols());
    let mut out = Array3::<f32>::zeros((items.len(), len, width));
    let mut mask = Array2::<i64>::zeros((items.len(), len));
    for (b, item) in items.iter().enumerate() {
        out.slice_mut(s![b, ..item.nrows(), ..]).assign(item);
        mask.slice_mut(s![b, ..item.nrows()]).fill(1);
    }
    (out, mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ids_are_right_padded_with_a_mask() {
        let (ids, mask) = pad_ids(&[&[101, 7, 8], &[101]], 0);
        assert_eq!(ids, array![[101, 7, 8], [101, 0, 0]]);
        assert_eq!(mask, array![[1, 1, 1], [1, 0, 0]]);
    }

    #[test]
    fn rows_are_right_padded_with_zeros() {
        let a = array![[1.0f32, 2.0], [3.0, 4.0]];
        let b = array![[5.0f32, 6.0]];
        let (out, mask) = pad_rows(&[a.view(), b.view()]);
        assert_eq!(out.shape(), &[2, 2, 2]);
        assert_eq!(out[[1, 1, 0]], 0.0);
        assert_eq!(out[[1, 0, 1]], 6.0);
        assert_eq!(mask, array![[1, 1], [1, 0]]);
    }
}
