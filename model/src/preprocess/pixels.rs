//! The tensor the vision graph takes, and the transform that makes it from RGB frames.

use image::RgbImage;
use ndarray::{Array4, ArrayView4};

use super::resize::nearest_source_indices;

/// One item's normalized pixels, `[3, T, S, S]` float32.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelValues(Array4<f32>);

impl PixelValues {
    /// Wraps a `[3, T, S, S]` array (for example a reference tensor read from goldens).
    pub fn from_array(array: Array4<f32>) -> Option<PixelValues> {
        (array.shape()[0] == 3 && array.shape()[2] == array.shape()[3])
            .then_some(PixelValues(array))
    }

    pub fn frames(&self) -> usize {
        self.0.shape()[1]
    }

    pub fn size(&self) -> usize {
        self.0.shape()[2]
    }

    pub fn view(&self) -> ArrayView4<'_, f32> {
        self.0.view()
    }

    pub fn as_slice(&self) -> &[f32] {
        self.0
            .as_slice()
            .expect("PixelValues are built in standard layout")
    }

    pub fn into_array(self) -> Array4<f32> {
        self.0
    }
}

/// Nearest resize to `size`×`size`, `/255`, then `(x - mean) / std`, all in float32 as the reference.
#[derive(Debug, Clone)]
pub struct FrameTransform {
    pub size: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl FrameTransform {
    /// Stacks the frames (already sampled, in order) into `[3, T, S, S]`.
    pub fn apply(&self, frames: &[&RgbImage]) -> PixelValues {
        let size = self.size;
        let table = self.normalization_table();
        let mut out = Array4::<f32>::zeros((3, frames.len(), size, size));
        for (t, frame) in frames.iter().enumerate() {
            let (width, height) = frame.dimensions();
            let rows = nearest_source_indices(height as usize, size);
            let cols = nearest_source_indices(width as usize, size);
            let raw = frame.as_raw();
            let stride = width as usize * 3;
            for (y, &src_y) in rows.iter().enumerate() {
                let row = &raw[src_y * stride..(src_y + 1) * stride];
                for (x, &src_x) in cols.iter().enumerate() {
                    for (c, channel_table) in table.iter().enumerate() {
                        out[[c, t, y, x]] = channel_table[row[src_x * 3 + c] as usize];
                    }
                }
            }
        }
        PixelValues(out)
    }

    /// Every possible byte value through `/255` and the channel's normalization, in float32.
    fn normalization_table(&self) -> [[f32; 256]; 3] {
        let mut table = [[0f32; 256]; 3];
        for (c, channel) in table.iter_mut().enumerate() {
            for (value, slot) in channel.iter_mut().enumerate() {
                *slot = (value as f32 / 255.0 - self.mean[c]) / self.std[c];
            }
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_each_channel_and_lays_out_channels_first() {
        let transform = FrameTransform {
            size: 2,
            mean: [0.5, 0.25, 0.0],
            std: [0.5, 0.25, 1.0],
        };
        let frame = RgbImage::from_fn(4, 4, |x, y| {
            image::Rgb([(x * 60) as u8, (y * 60) as u8, 255])
        });
        let pixels = transform.apply(&[&frame, &frame]);
        assert_eq!(pixels.view().shape(), &[3, 2, 2, 2]);
        // Destination (y=1, x=1) reads source (2, 2): red 120, green 120, blue 255.
        let expected_red = (120f32 / 255.0 - 0.5) / 0.5;
        assert_eq!(pixels.view()[[0, 1, 1, 1]], expected_red);
        assert_eq!(pixels.view()[[1, 0, 1, 1]], (120f32 / 255.0 - 0.25) / 0.25);
        assert_eq!(pixels.view()[[2, 0, 0, 0]], 1.0);
        assert_eq!(pixels.view()[[0, 0, 0, 0]], -1.0);
    }
}
