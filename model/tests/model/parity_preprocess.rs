//! Preprocessing against the PyTorch goldens: sampling and resize tables, decoded frames
//! (exact), pixel values (≤ 1e-6).

use crate::common;

use std::sync::Arc;

use common::{goldens, medium_media, usizes};
use image::RgbImage;
use mplug2_model::preprocess::{MediaLimits, Preprocessor, middle_indices, nearest_source_indices};
use mplug2_model::tolerance::compare;

/// Pixel values are elementwise float32 arithmetic on bytes (`(x / 255 - mean) / std`, no sums, no
/// kernel choice): a few ulps of values below 2.2, far tighter than `tolerance` for model outputs.
const PIXEL_TOLERANCE: f32 = 1e-6;

fn preprocessor() -> Preprocessor {
    let package = mplug2_model::package::Package::open_unverified(&common::demo_dir()).unwrap();
    Preprocessor::new(&package.manifest().preprocess, MediaLimits::default())
}

#[test]
fn frame_sampling_table_matches_the_official_formula() {
    let table = goldens().json["preprocess"]["frame_sampling"]
        .as_array()
        .unwrap();
    assert!(table.len() >= 10);
    for row in table {
        let (frames, vlen) = (
            row["num_frames"].as_u64().unwrap() as usize,
            row["vlen"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            middle_indices(frames, vlen),
            usizes(&row["indices"]),
            "vlen {vlen}"
        );
    }
}

#[test]
fn nearest_resize_table_matches_pytorch() {
    let table = goldens().json["preprocess"]["nearest_resize"]
        .as_array()
        .unwrap();
    assert!(
        table
            .iter()
            .any(|row| row["in"] == 480 && row["out"] == 224)
    );
    for row in table {
        let (input, output) = (
            row["in"].as_u64().unwrap() as usize,
            row["out"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            nearest_source_indices(input, output),
            usizes(&row["indices"]),
            "{input} -> {output}"
        );
    }
}

/// Lossless media (PNG images and PNG frame lists) go through our whole path and must give the
/// reference's resized frames exactly and its pixel values within 1e-6.
#[test]
fn lossless_media_give_the_reference_pixels() {
    let goldens = goldens();
    let preprocessor = preprocessor();
    let mut checked = 0;
    for medium in goldens.json["media"].as_array().unwrap() {
        let name = medium["name"].as_str().unwrap();
        if medium["decoded"].is_string() {
            continue; // JPEG: its own test below
        }
        let pixels = preprocessor.prepare(medium_media(name)).unwrap();
        let expected = goldens.f32(medium["pixel_values"].as_str().unwrap());
        assert_eq!(pixels.view().shape(), expected.shape(), "{name}");
        let c = compare(pixels.view().iter(), expected.iter());
        assert!(c.max_diff <= PIXEL_TOLERANCE, "{name}: pixel values: {c}");
        // Undo the normalization exactly to check the integer resize step bit for bit.
        let frames = goldens.u8(medium["frames"].as_str().unwrap());
        let frames_from_pixels = denormalize(&pixels.view().to_owned().into_dyn());
        assert_eq!(frames_from_pixels, frames, "{name}: resized frames differ");
        checked += 1;
    }
    assert_eq!(checked, 4, "two PNG images and two frame lists");
}

/// The JPEG: fed PIL's decoded pixels, the rest of the pipeline is exact; our own JPEG decoder
/// (zune-jpeg) may differ from libjpeg-turbo by a few levels, bounded here.
#[test]
fn jpeg_pipeline_is_exact_from_reference_pixels_and_close_from_bytes() {
    let goldens = goldens();
    let preprocessor = preprocessor();
    let medium = goldens.medium("jpeg_160x120");
    let decoded = goldens.u8(medium["decoded"].as_str().unwrap());
    let (h, w) = (decoded.shape()[0], decoded.shape()[1]);
    let image = RgbImage::from_raw(w as u32, h as u32, decoded.iter().copied().collect()).unwrap();
    let pixels = preprocessor.from_frames(&[Arc::new(image)]);
    let expected = goldens.f32(medium["pixel_values"].as_str().unwrap());
    let c = compare(pixels.view().iter(), expected.iter());
    assert!(c.max_diff <= PIXEL_TOLERANCE, "JPEG pixel values: {c}");

    let ours = preprocessor.prepare(medium_media("jpeg_160x120")).unwrap();
    let ours = denormalize(&ours.view().to_owned().into_dyn());
    let reference = goldens.u8(medium["frames"].as_str().unwrap());
    let worst = ours
        .iter()
        .zip(reference.iter())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    let mean = ours
        .iter()
        .zip(reference.iter())
        .map(|(a, b)| a.abs_diff(*b) as f64)
        .sum::<f64>()
        / ours.len() as f64;
    println!("JPEG decode vs PIL: max {worst} levels, mean {mean:.3}");
    assert!(
        worst <= 8 && mean <= 1.0,
        "JPEG decode differs from PIL: max {worst}, mean {mean}"
    );
}

#[test]
fn frame_lists_sample_the_reference_indices() {
    let goldens = goldens();
    for name in ["frames_20", "frames_7"] {
        let medium = goldens.medium(name);
        let count = medium["files"].as_array().unwrap().len();
        assert_eq!(
            middle_indices(16, count),
            usizes(&medium["frame_indices"]),
            "{name}"
        );
    }
}

/// `[3, T, S, S]` normalized pixels back to `[T, S, S, 3]` bytes (exact: the table is injective).
fn denormalize(pixels: &ndarray::ArrayD<f32>) -> ndarray::ArrayD<u8> {
    let package = mplug2_model::package::Package::open_unverified(&common::demo_dir()).unwrap();
    let config = &package.manifest().preprocess;
    let shape = pixels.shape();
    let (t, s) = (shape[1], shape[2]);
    let mut out = ndarray::ArrayD::<u8>::zeros(ndarray::IxDyn(&[t, s, s, 3]));
    for c in 0..3 {
        let table: Vec<f32> = (0..256)
            .map(|v| (v as f32 / 255.0 - config.mean[c]) / config.std[c])
            .collect();
        for ti in 0..t {
            for y in 0..s {
                for x in 0..s {
                    let value = pixels[[c, ti, y, x]];
                    let byte = table
                        .iter()
                        .position(|&e| e == value)
                        .expect("a normalized byte value");
                    out[[ti, y, x, c]] = byte as u8;
                }
            }
        }
    }
    out
}
