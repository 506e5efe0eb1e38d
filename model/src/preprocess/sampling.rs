//! The official `middle` frame sampling (architecture note §3.1).

/// Indices of the `num_frames` frames taken from a video of `frame_count` frames.
///
/// The video is split at `linspace(0, n, k + 1)` truncated to integers, with `k = min(num_frames, n)`;
/// each segment `[b_i, b_{i+1} - 1]` gives its middle `(b_i + b_{i+1} - 1) / 2` (floor). When the
/// video has fewer frames than wanted, the last index is repeated.
pub fn middle_indices(num_frames: usize, frame_count: usize) -> Vec<usize> {
    if num_frames == 0 || frame_count == 0 {
        return Vec::new();
    }
    let segments = num_frames.min(frame_count);
    let boundaries: Vec<i64> = linspace_truncated(frame_count, segments);
    let mut indices: Vec<usize> = boundaries
        .windows(2)
        .map(|pair| (pair[0] + pair[1] - 1).div_euclid(2).max(0) as usize)
        .collect();
    let last = *indices.last().unwrap_or(&0);
    indices.resize(num_frames, last);
    indices
}

/// `np.linspace(0, stop, segments + 1).astype(int)`, computed as numpy does in float64.
fn linspace_truncated(stop: usize, segments: usize) -> Vec<i64> {
    let step = stop as f64 / segments as f64;
    (0..=segments)
        .map(|i| {
            // numpy computes start + i * step and sets the endpoint exactly.
            let value = if i == segments {
                stop as f64
            } else {
                i as f64 * step
            };
            value as i64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The official formula written the slow way, with exact rationals. numpy's float64 linspace
    /// agrees with it for these frame counts (checked for every length below 20000); for 14 frames
    /// it does not, see `follows_numpy_rounding_not_exact_rationals`.
    fn reference(num_frames: usize, vlen: usize) -> Vec<usize> {
        let k = num_frames.min(vlen);
        let b: Vec<usize> = (0..=k).map(|i| i * vlen / k).collect();
        let mut idx: Vec<usize> = (0..k).map(|i| (b[i] + b[i + 1] - 1) / 2).collect();
        while idx.len() < num_frames {
            idx.push(*idx.last().unwrap());
        }
        idx
    }

    #[test]
    fn known_values() {
        assert_eq!(
            middle_indices(16, 50),
            vec![1, 4, 7, 10, 13, 16, 19, 22, 26, 29, 32, 35, 38, 41, 44, 47]
        );
        assert_eq!(middle_indices(4, 4), vec![0, 1, 2, 3]);
        assert_eq!(middle_indices(4, 2), vec![0, 1, 1, 1]);
        assert_eq!(middle_indices(16, 1), vec![0; 16]);
        assert_eq!(middle_indices(1, 10), vec![4]);
    }

    #[test]
    fn matches_the_formula_for_many_lengths() {
        for vlen in 1..400 {
            for frames in [1, 2, 3, 4, 8, 16] {
                assert_eq!(
                    middle_indices(frames, vlen),
                    reference(frames, vlen),
                    "n={frames} vlen={vlen}"
                );
            }
        }
    }

    #[test]
    fn follows_numpy_rounding_not_exact_rationals() {
        // np.linspace(0, 122, 15)[7] is 60.99999999999999, so numpy's boundary is 60, not 61.
        let numpy = vec![3, 12, 21, 29, 38, 47, 55, 64, 73, 82, 90, 99, 108, 117];
        assert_eq!(middle_indices(14, 122), numpy);
    }

    #[test]
    fn empty_inputs_give_no_indices() {
        assert!(middle_indices(16, 0).is_empty());
        assert!(middle_indices(0, 10).is_empty());
    }
}
