//! The image formats served (JPEG, PNG, WebP, first frame of GIF), decoded to the same pixels.

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, ImageFormat, Rgb, RgbImage, RgbaImage};
use mplug2_model::preprocess::{MediaLimits, decode_image};

fn pattern() -> RgbImage {
    RgbImage::from_fn(20, 12, |x, y| {
        Rgb([(x * 12) as u8, (y * 20) as u8, ((x + y) * 7) as u8])
    })
}

fn encode(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

#[test]
fn lossless_formats_round_trip_exactly() {
    let image = pattern();
    for format in [ImageFormat::Png, ImageFormat::WebP] {
        let decoded = decode_image(&encode(&image, format), &MediaLimits::default()).unwrap();
        assert_eq!(decoded, image, "{format:?}");
    }
}

#[test]
fn jpeg_decodes_close_to_the_source() {
    let image = pattern();
    let decoded =
        decode_image(&encode(&image, ImageFormat::Jpeg), &MediaLimits::default()).unwrap();
    assert_eq!(decoded.dimensions(), image.dimensions());
    let mean = decoded
        .as_raw()
        .iter()
        .zip(image.as_raw())
        .map(|(a, b)| a.abs_diff(*b) as f64)
        .sum::<f64>()
        / image.as_raw().len() as f64;
    assert!(mean < 8.0, "mean difference {mean}");
}

#[test]
fn an_animated_gif_gives_its_first_frame() {
    let colors = [[255u8, 0, 0, 255], [0, 0, 255, 255]];
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        encoder.set_repeat(Repeat::Infinite).unwrap();
        for color in colors {
            let frame = RgbaImage::from_pixel(8, 6, image::Rgba(color));
            encoder
                .encode_frame(Frame::from_parts(
                    frame,
                    0,
                    0,
                    Delay::from_numer_denom_ms(100, 1),
                ))
                .unwrap();
        }
    }
    let decoded = decode_image(&bytes, &MediaLimits::default()).unwrap();
    assert_eq!(decoded.dimensions(), (8, 6));
    assert!(
        decoded.pixels().all(|p| p.0 == [255, 0, 0]),
        "first frame is red"
    );
}

#[test]
fn alpha_is_dropped_without_compositing() {
    let rgba = RgbaImage::from_pixel(4, 4, image::Rgba([10, 20, 30, 0]));
    let mut bytes = Vec::new();
    rgba.write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    let decoded = decode_image(&bytes, &MediaLimits::default()).unwrap();
    assert!(decoded.pixels().all(|p| p.0 == [10, 20, 30]));
}
