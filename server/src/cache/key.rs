//! The content key of a vision input: a BLAKE3 hash of the preprocessed pixels (their f32 bytes
//! and shape) and of the package, so that equal tensors share features and nothing else does.

use mplug2_model::preprocess::PixelValues;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeatureKey([u8; 32]);

impl FeatureKey {
    /// `package` names the weights (the cache never outlives one package, but a key that
    /// includes it cannot be confused if that changes).
    pub fn of(package: &str, pixels: &PixelValues) -> FeatureKey {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(package.len() as u64).to_le_bytes());
        hasher.update(package.as_bytes());
        for dim in pixels.view().shape() {
            hasher.update(&(*dim as u64).to_le_bytes());
        }
        // The bit pattern, not the value: -0.0 and 0.0 (or two NaNs) are different inputs.
        hasher.update(bytemuck::cast_slice(pixels.as_slice()));
        FeatureKey(*hasher.finalize().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array4;

    fn pixels(frames: usize, value: f32) -> PixelValues {
        PixelValues::from_array(Array4::from_elem((3, frames, 4, 4), value)).unwrap()
    }

    #[test]
    fn equal_tensors_share_a_key_and_any_difference_changes_it() {
        let base = FeatureKey::of("p", &pixels(2, 0.5));
        assert_eq!(base, FeatureKey::of("p", &pixels(2, 0.5)));
        assert_ne!(base, FeatureKey::of("p", &pixels(2, 0.25)), "values");
        assert_ne!(base, FeatureKey::of("q", &pixels(2, 0.5)), "package");
        // Same bytes count, other shape: 3×2×4×4 vs 3×1×… cannot collide on bytes alone.
        assert_ne!(base, FeatureKey::of("p", &pixels(1, 0.5)), "frames");
        let mut one_pixel = Array4::from_elem((3, 2, 4, 4), 0.5f32);
        one_pixel[[2, 1, 3, 3]] = 0.5000001;
        let changed = PixelValues::from_array(one_pixel).unwrap();
        assert_ne!(base, FeatureKey::of("p", &changed), "one element");
    }
}
