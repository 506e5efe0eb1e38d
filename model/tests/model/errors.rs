//! Typed errors for bad input: images, frame lists, text and model packages.

use crate::common;

use std::path::Path;

use mplug2_model::ErrorKind;
use mplug2_model::ModelError;
use mplug2_model::package::{Package, PackageError};
use mplug2_model::preprocess::{Media, MediaError, MediaLimits, Preprocessor, decode_image};
use mplug2_model::tasks::Task;
use mplug2_model::text::{TextError, TextProcessor, text_from_bytes};

fn preprocessor() -> Preprocessor {
    let package = Package::open_unverified(&common::demo_dir()).unwrap();
    Preprocessor::new(&package.manifest().preprocess, MediaLimits::default())
}

fn png_bytes(width: u32, height: u32) -> Vec<u8> {
    common::png_bytes(&image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([x as u8, y as u8, 7])
    }))
}

/// A small PNG file whose IHDR claims `width`×`height`: valid chunks and CRCs, a few bytes of
/// image data (what a decompression bomb looks like before it is inflated).
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", ihdr),
        (b"IDAT", vec![0x78, 0x9c, 0x03, 0x00]),
        (b"IEND", Vec::new()),
    ] {
        bytes.extend((data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend(&data);
        bytes.extend(&chunk);
        bytes.extend(crc32(&chunk).to_be_bytes());
    }
    bytes
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Peak resident memory of this process (Linux), in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

#[test]
fn a_png_claiming_100000_by_100000_is_rejected_from_its_header() {
    let header = png_header_only(100_000, 100_000);
    let before = peak_rss_mib();
    let error = decode_image(&header, &MediaLimits::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "image width is 100000, over the limit of 8192"
    );
    // With the side limits out of the way, the pixel limit catches it, still from the header.
    let generous = MediaLimits {
        max_image_side: 1_000_000,
        ..MediaLimits::default()
    };
    let error = decode_image(&header, &generous).unwrap_err();
    assert_eq!(
        error.to_string(),
        "image pixels is 10000000000, over the limit of 40000000"
    );
    assert_eq!(ModelError::from(error).kind(), ErrorKind::PayloadTooLarge);
    // A decode would need 30 GB; nothing near that was allocated.
    assert!(
        peak_rss_mib() < before + 256,
        "peak memory grew from {before} MiB to {}",
        peak_rss_mib()
    );
}

#[test]
fn corrupt_and_truncated_images_are_invalid_requests() {
    let png = png_bytes(40, 30);
    let truncated = &png[..png.len() - 30];
    let error = decode_image(truncated, &MediaLimits::default()).unwrap_err();
    assert!(
        matches!(error, MediaError::Corrupt { what: "image", .. }),
        "{error}"
    );
    assert_eq!(ModelError::from(error).kind(), ErrorKind::InvalidRequest);

    let mut corrupt = png.clone();
    for byte in corrupt.iter_mut().skip(40).take(60) {
        *byte ^= 0x5A;
    }
    let error = decode_image(&corrupt, &MediaLimits::default()).unwrap_err();
    assert!(matches!(error, MediaError::Corrupt { .. }), "{error}");

    let mut jpeg = Vec::new();
    image::RgbImage::from_pixel(32, 32, image::Rgb([200, 10, 10]))
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let error = decode_image(&jpeg[..jpeg.len() / 3], &MediaLimits::default()).unwrap_err();
    assert!(matches!(error, MediaError::Corrupt { .. }), "{error}");

    let error = decode_image(&[], &MediaLimits::default()).unwrap_err();
    assert!(matches!(error, MediaError::Empty { what: "image" }));
}

#[test]
fn unserved_image_formats_are_unsupported_media() {
    let bmp = b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0".to_vec();
    let error = decode_image(&bmp, &MediaLimits::default()).unwrap_err();
    assert!(
        matches!(
            error,
            MediaError::Unsupported {
                what: "image format",
                ..
            }
        ),
        "{error}"
    );
    let error = decode_image(b"hello, not an image", &MediaLimits::default()).unwrap_err();
    assert_eq!(
        ModelError::from(error).kind(),
        ErrorKind::UnsupportedMediaType
    );
}

#[test]
fn image_limits_name_the_limit_and_value() {
    let limits = MediaLimits {
        max_image_side: 32,
        ..MediaLimits::default()
    };
    let error = decode_image(&png_bytes(40, 30), &limits).unwrap_err();
    assert_eq!(error.to_string(), "image width is 40, over the limit of 32");
    let limits = MediaLimits {
        max_image_bytes: 10,
        ..MediaLimits::default()
    };
    let error = decode_image(&png_bytes(4, 4), &limits).unwrap_err();
    assert!(error.to_string().starts_with("image bytes is"), "{error}");
}

#[test]
fn frame_lists_need_frames_and_check_every_frame() {
    let preprocessor = preprocessor();
    let error = preprocessor.prepare(Media::Frames(Vec::new())).unwrap_err();
    assert!(
        matches!(error, MediaError::Empty { what: "frame list" }),
        "{error}"
    );
    // The bad frame is not among the sampled ones, but its header is still checked.
    let mut frames: Vec<Vec<u8>> = (0..40).map(|_| png_bytes(8, 8)).collect();
    frames[39] = png_header_only(100_000, 100_000);
    let error = preprocessor.prepare(Media::Frames(frames)).unwrap_err();
    assert!(matches!(error, MediaError::TooLarge { .. }), "{error}");
    let limits = MediaLimits {
        max_frame_list_len: 3,
        ..MediaLimits::default()
    };
    let package = Package::open_unverified(&common::demo_dir()).unwrap();
    let small = Preprocessor::new(&package.manifest().preprocess, limits);
    let error = small
        .prepare(Media::Frames(vec![png_bytes(8, 8); 4]))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "frames in the list is 4, over the limit of 3"
    );
}

#[test]
fn empty_and_non_utf8_text_are_invalid_requests() {
    let package = Package::open_unverified(&common::demo_dir()).unwrap();
    let text = TextProcessor::load(&package.tokenizer_path(), &package.manifest().text).unwrap();
    for empty in ["", "   ", "?!...", "~~ ** ##"] {
        let error = text.question_ids(empty).unwrap_err();
        assert!(
            matches!(
                error,
                TextError::Empty {
                    what: "question",
                    ..
                }
            ),
            "{empty:?}: {error}"
        );
        assert_eq!(ModelError::from(error).kind(), ErrorKind::InvalidRequest);
    }
    let error = text.caption_ids("\u{0}\u{1}").unwrap_err();
    assert!(
        matches!(error, TextError::Empty { .. }),
        "control characters only: {error}"
    );
    let error = text_from_bytes("question", b"caf\xe9 ouvert").unwrap_err();
    assert_eq!(
        error.to_string(),
        "question is not valid UTF-8 (invalid byte at offset 3)"
    );
    assert_eq!(ModelError::from(error).kind(), ErrorKind::InvalidRequest);
}

#[test]
fn text_over_the_token_limit_names_the_limit() {
    let package = Package::open_unverified(&common::demo_dir()).unwrap();
    let text = TextProcessor::load(&package.tokenizer_path(), &package.manifest().text).unwrap();
    // 50 words (the word limit), each split by the tokenizer into many punctuation tokens.
    let word = "a+".repeat(20);
    let long = vec![word.as_str(); 50].join(" ");
    let error = text.question_ids(&long).unwrap_err();
    assert!(
        matches!(error, TextError::TooManyTokens { limit: 512, .. }),
        "{error}"
    );
    assert_eq!(ModelError::from(error).kind(), ErrorKind::PayloadTooLarge);
}

/// A copy of the demo package in a temporary directory, for breaking.
fn package_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(common::demo_dir()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}

fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut manifest);
    std::fs::write(path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn a_package_with_a_missing_graph_names_the_file() {
    let dir = package_copy();
    std::fs::remove_file(dir.path().join("fusion.onnx")).unwrap();
    let error = Package::open(dir.path()).unwrap_err();
    assert!(
        matches!(&error, PackageError::MissingFile { file } if file.ends_with("fusion.onnx")),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("fusion.onnx: missing from the model package")
    );
}

#[test]
fn a_package_with_a_wrong_sha256_names_the_file_and_both_hashes() {
    let dir = package_copy();
    let path = dir.path().join("heads_itm.onnx");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let error = Package::open(dir.path()).unwrap_err();
    match &error {
        PackageError::ChecksumMismatch {
            file,
            expected,
            actual,
        } => {
            assert!(file.ends_with("heads_itm.onnx"));
            assert_ne!(expected, actual);
        }
        other => panic!("expected a checksum mismatch, got {other}"),
    }
    let dir = package_copy();
    std::fs::write(dir.path().join("tokenizer.json"), b"{}").unwrap();
    let error = Package::open(dir.path()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}", dir.path().join("tokenizer.json").display()))
    );
}

#[test]
fn manifest_problems_are_typed() {
    let dir = package_copy();
    edit_manifest(dir.path(), |m| m["format_version"] = 2.into());
    let error = Package::open(dir.path()).unwrap_err();
    assert!(matches!(
        error,
        PackageError::UnsupportedFormatVersion {
            found: 2,
            supported: 1,
            ..
        }
    ));

    let dir = package_copy();
    std::fs::write(dir.path().join("manifest.json"), b"{ not json").unwrap();
    assert!(matches!(
        Package::open(dir.path()).unwrap_err(),
        PackageError::Manifest { .. }
    ));

    let dir = package_copy();
    edit_manifest(dir.path(), |m| {
        m["graphs"]["vision"]["file"] = "../vision.onnx".into()
    });
    let error = Package::open(dir.path()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("relative path inside the package"),
        "{error}"
    );

    let dir = package_copy();
    edit_manifest(dir.path(), |m| m["model"]["dtype"] = "int4".into());
    let error = Package::open(dir.path()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("model.dtype `int4` is not supported (only fp32, fp16, int8)"),
        "{error}"
    );

    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Package::open(dir.path()).unwrap_err(),
        PackageError::MissingFile { .. }
    ));
}

/// A package without the ITM head serves every task but `match`, and the pipeline says so.
#[test]
fn tasks_follow_the_graphs_present() {
    let dir = package_copy();
    std::fs::remove_file(dir.path().join("heads_itm.onnx")).unwrap();
    edit_manifest(dir.path(), |m| {
        m["graphs"].as_object_mut().unwrap().remove("heads_itm");
    });
    let package = Package::open(dir.path()).unwrap();
    let tasks = package.tasks();
    assert!(!tasks.contains(&Task::Match));
    assert!(tasks.contains(&Task::Vqa) && tasks.contains(&Task::Classify));
    let model =
        mplug2_model::Model::load(package, &common::runtime_config(), MediaLimits::default())
            .unwrap();
    let ctx = model.task_context();
    let ex = mplug2_model::tasks::DirectExecutor::new(&model);
    let media = Media::Image(png_bytes(16, 16));
    let error = pollster::block_on(mplug2_model::tasks::match_texts(
        &ctx,
        &ex,
        media,
        &["a".to_owned()],
    ))
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnsupportedTask);
    assert!(error.to_string().contains("`match`"), "{error}");
}
