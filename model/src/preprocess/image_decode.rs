//! Image decoding with the `image` crate. Dimensions are read from the header and checked
//! against the limits before any pixel buffer is allocated.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, RgbImage};

use super::{MediaError, MediaLimit, MediaLimits};

/// Formats served; anything else is `unsupported image format`.
const SERVED: [ImageFormat; 4] = [
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::WebP,
    ImageFormat::Gif,
];

/// Decodes an image (the first frame of a GIF) to RGB, alpha dropped.
pub fn decode_image(bytes: &[u8], limits: &MediaLimits) -> Result<RgbImage, MediaError> {
    let decoder = open_checked(bytes, limits)?;
    let image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    Ok(image.to_rgb8())
}

/// Reads and checks only the header (format, width, height); used for frames that are not sampled.
pub fn check_image_header(bytes: &[u8], limits: &MediaLimits) -> Result<(u32, u32), MediaError> {
    open_checked(bytes, limits).map(|decoder| decoder.dimensions())
}

fn open_checked<'a>(
    bytes: &'a [u8],
    limits: &MediaLimits,
) -> Result<impl ImageDecoder + 'a, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty { what: "image" });
    }
    limits.check(MediaLimit::ImageBytes, bytes.len() as u64)?;
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| MediaError::Corrupt {
            what: "image",
            reason: error.to_string(),
        })?;
    match reader.format() {
        Some(format) if SERVED.contains(&format) => {}
        Some(format) => {
            return Err(MediaError::Unsupported {
                what: "image format",
                detail: format!("{format:?} (served: JPEG, PNG, WebP, GIF)"),
            });
        }
        None => {
            return Err(MediaError::Unsupported {
                what: "image format",
                detail: "not recognised (served: JPEG, PNG, WebP, GIF)".to_owned(),
            });
        }
    }
    // Header parsing allocates nothing proportional to the image; our own checks follow. The
    // decoder's allocations are still capped: a GIF frame may declare a size far beyond the
    // logical screen the header reports (the image fuzz target found a 76-byte GIF allocating
    // 6 GB). 16 bytes per allowed pixel covers RGBA at 32 bits per channel.
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_image_pixels.saturating_mul(16));
    reader.limits(decoder_limits);
    let decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    limits.check(MediaLimit::ImageWidth, u64::from(width))?;
    limits.check(MediaLimit::ImageHeight, u64::from(height))?;
    limits.check(
        MediaLimit::ImagePixels,
        u64::from(width) * u64::from(height),
    )?;
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt {
            what: "image",
            reason: format!("header says {width}x{height}"),
        });
    }
    Ok(decoder)
}

fn corrupt(error: ImageError) -> MediaError {
    match error {
        ImageError::Unsupported(detail) => MediaError::Unsupported {
            what: "image encoding",
            detail: detail.to_string(),
        },
        other => MediaError::Corrupt {
            what: "image",
            reason: other.to_string(),
        },
    }
}
