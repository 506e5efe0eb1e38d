//! PyTorch's legacy `nearest` interpolation index rule (architecture note §8.6).

/// Source index for each of `output` destination indices when resizing from `input`.
///
/// `src = min(floor(dst * scale), input - 1)` with `scale = input / output` computed in float32 and
/// the product taken in float32, as `upsample_nearest2d` does; same size is the identity and an
/// exact 2× upscale is `dst >> 1`, the kernel's own shortcuts.
pub fn nearest_source_indices(input: usize, output: usize) -> Vec<usize> {
    if input == output {
        return (0..output).collect();
    }
    if output == 2 * input {
        return (0..output).map(|dst| dst >> 1).collect();
    }
    let scale = input as f32 / output as f32;
    (0..output)
        .map(|dst| ((dst as f32 * scale).floor() as usize).min(input - 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downscale_by_an_integer_factor_takes_every_nth() {
        assert_eq!(nearest_source_indices(8, 4), vec![0, 2, 4, 6]);
    }

    #[test]
    fn upscale_repeats() {
        assert_eq!(nearest_source_indices(2, 5), vec![0, 0, 0, 1, 1]);
        assert_eq!(nearest_source_indices(3, 6), vec![0, 0, 1, 1, 2, 2]);
    }

    #[test]
    fn float32_scale_differs_from_exact_arithmetic_for_480_to_224() {
        let float = nearest_source_indices(480, 224);
        let exact: Vec<usize> = (0..224).map(|dst| dst * 480 / 224).collect();
        assert_ne!(
            float, exact,
            "the note says 480 -> 224 is a case where they differ"
        );
        // Where they differ, the float32 rule lands one below the exact floor.
        for (f, e) in float.iter().zip(&exact) {
            assert!(*f == *e || *f + 1 == *e);
        }
        assert!(float.iter().all(|&i| i < 480));
    }
}
