//! Bad media made from the committed demo inputs: cut short, bytes flipped, headers that declare
//! huge sizes, padding past a byte limit. No new binary files.

/// The first `keep` bytes.
pub fn truncated(bytes: &[u8], keep: usize) -> Vec<u8> {
    bytes[..keep.min(bytes.len())].to_vec()
}

/// Every byte in `range` inverted.
pub fn flipped(bytes: &[u8], range: std::ops::Range<usize>) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for byte in &mut out[range] {
        *byte ^= 0xFF;
    }
    out
}

/// `bytes` followed by zeros up to `size` bytes (decoders ignore trailing data; byte limits do
/// not).
pub fn padded(bytes: &[u8], size: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out.resize(size.max(bytes.len()), 0);
    out
}

/// A PNG that declares `width` × `height` in its header but carries only a few bytes of pixel
/// data: a decompression bomb as far as a decoder that trusts the header is concerned.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    chunk(&mut png, b"IHDR", &header);
    // A zlib stream of a few zero bytes (stored block).
    chunk(
        &mut png,
        b"IDAT",
        &[
            0x78, 0x01, 0x01, 0x04, 0x00, 0xFB, 0xFF, 0, 0, 0, 0, 0, 0x04, 0, 0x01,
        ],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

/// A JPEG whose start-of-frame marker is rewritten to declare `width` × `height`.
pub fn jpeg_declaring(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof = out
        .windows(2)
        .position(|w| w[0] == 0xFF && matches!(w[1], 0xC0 | 0xC2))
        .expect("a start-of-frame marker");
    // FF Cx, length (2), precision (1), height (2), width (2).
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

/// A valid 1×1 PNG, the smallest frame there is.
pub fn tiny_png() -> Vec<u8> {
    let image = image::RgbImage::from_pixel(1, 1, image::Rgb([200, 100, 50]));
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("PNG encoding");
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend((data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend(kind);
    png.extend(data);
    let crc = crc32(&png[start..]);
    png.extend(crc.to_be_bytes());
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_png_has_valid_chunks() {
        // The CRC of "IEND" with no data is well known.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        let png = png_declaring(100_000, 100_000);
        let decoder = image::ImageReader::new(std::io::Cursor::new(png))
            .with_guessed_format()
            .unwrap();
        assert_eq!(decoder.into_dimensions().unwrap(), (100_000, 100_000));
    }
}
