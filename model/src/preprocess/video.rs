//! Video decoding with FFmpeg (ffmpeg-next over the system libav*), memory-bounded.
//!
//! Served: containers MP4/MOV (ISO BMFF), Matroska/WebM and AVI, recognised from their magic
//! bytes before FFmpeg sees the data (so no playlist or other demuxer can be reached); codecs
//! H.264, HEVC, VP8, VP9, AV1 and MPEG-4 Part 2. Frames are converted to RGB24 by swscale with
//! bicubic flags, as the ffmpeg command line does.
//!
//! Two passes over the bytes in memory: the first only demuxes and counts the video packets
//! (decord's frame count, which the official sampling uses); the second decodes in display order
//! and keeps only the sampled frames, stopping after the last one. If the decoder yields fewer
//! frames than packets, the sampling is redone over the decoded count.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::{Arc, OnceLock};

use ffmpeg::codec::Id;
use ffmpeg::format::Pixel;
use ffmpeg::media::Type;
use ffmpeg::software::scaling;
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use super::sampling::middle_indices;
use super::{MediaError, MediaLimit, MediaLimits, Stop};

const SERVED_CODECS: [(Id, &str); 6] = [
    (Id::H264, "H.264"),
    (Id::HEVC, "HEVC"),
    (Id::VP8, "VP8"),
    (Id::VP9, "VP9"),
    (Id::AV1, "AV1"),
    (Id::MPEG4, "MPEG-4 Part 2"),
];

/// The sampled frames of a video.
#[derive(Debug)]
pub struct SampledVideo {
    /// `num_frames` frames, in sampling order (repeats share their decode).
    pub frames: Vec<Arc<RgbImage>>,
    /// The frame count the sampling was computed from.
    pub frame_count: usize,
    /// The sampled frame indices.
    pub indices: Vec<usize>,
}

/// Decodes the `middle` sample of `num_frames` frames from an encoded video.
pub fn decode_video(
    bytes: Vec<u8>,
    num_frames: usize,
    limits: &MediaLimits,
) -> Result<SampledVideo, MediaError> {
    decode_video_until(bytes, num_frames, limits, &Stop::never())
}

/// `decode_video`, asking `stop` before every packet whether to go on.
pub fn decode_video_until(
    bytes: Vec<u8>,
    num_frames: usize,
    limits: &MediaLimits,
    stop: &Stop,
) -> Result<SampledVideo, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty { what: "video" });
    }
    limits.check(MediaLimit::VideoBytes, bytes.len() as u64)?;
    let container = sniff_container(&bytes)?;
    init_ffmpeg()?;
    let data: Arc<[u8]> = bytes.into();
    let packets = count_packets(&data, container, limits, stop)?;
    let indices = middle_indices(num_frames, packets);
    let decoded = decode_selected(&data, container, &indices, limits, stop)?;
    if let Some(frames) = decoded.frames_for(&indices) {
        return Ok(SampledVideo {
            frames,
            frame_count: packets,
            indices,
        });
    }
    // The decoder produced fewer frames than the container has packets: sample what decodes.
    let frame_count = decoded.total;
    if frame_count == 0 {
        return Err(MediaError::NoFrames);
    }
    tracing::debug!(packets, frame_count, "decoded fewer frames than packets");
    let indices = middle_indices(num_frames, frame_count);
    let frames = decode_selected(&data, container, &indices, limits, stop)?
        .frames_for(&indices)
        .ok_or(MediaError::NoFrames)?;
    Ok(SampledVideo {
        frames,
        frame_count,
        indices,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    IsoBmff,
    Matroska,
    Avi,
}

impl Container {
    /// FFmpeg's demuxer name for it; the opened input must report exactly this.
    fn demuxer(self) -> &'static str {
        match self {
            Container::IsoBmff => "mov,mp4,m4a,3gp,3g2,mj2",
            Container::Matroska => "matroska,webm",
            Container::Avi => "avi",
        }
    }
}

fn sniff_container(bytes: &[u8]) -> Result<Container, MediaError> {
    const BOXES: [&[u8; 4]; 7] = [
        b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot",
    ];
    if bytes.len() >= 8 && BOXES.iter().any(|kind| &bytes[4..8] == *kind) {
        return Ok(Container::IsoBmff);
    }
    if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Ok(Container::Matroska);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"AVI " {
        return Ok(Container::Avi);
    }
    Err(MediaError::Unsupported {
        what: "video container",
        detail: "not recognised (served: MP4/MOV, WebM/Matroska, AVI)".to_owned(),
    })
}

fn init_ffmpeg() -> Result<(), MediaError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        ffmpeg::init().map_err(|error| error.to_string())?;
        // Errors are reported to the caller; FFmpeg's own stderr chatter is not wanted.
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Fatal);
        Ok(())
    })
    .clone()
    .map_err(MediaError::Decoder)
}

/// An opened input and its video stream, checked against the served set and the limits.
struct OpenedVideo {
    input: ffmpeg::format::context::Input,
    stream: usize,
}

fn open(
    data: &Arc<[u8]>,
    container: Container,
    limits: &MediaLimits,
) -> Result<OpenedVideo, MediaError> {
    let io = ffmpeg::format::context::StreamIo::from_read_seek(Cursor::new(Arc::clone(data)))
        .map_err(|error| MediaError::Decoder(error.to_string()))?;
    // No nested protocol may be opened from inside a file (playlists, references).
    let mut options = ffmpeg::Dictionary::new();
    options.set("protocol_whitelist", "none");
    let input = ffmpeg::format::input_from_stream(io, None, Some(options)).map_err(|error| {
        MediaError::Corrupt {
            what: "video",
            reason: error.to_string(),
        }
    })?;
    if input.format().name() != container.demuxer() {
        return Err(MediaError::Unsupported {
            what: "video container",
            detail: format!("FFmpeg detected `{}`", input.format().name()),
        });
    }
    let stream = input
        .streams()
        .best(Type::Video)
        .ok_or_else(|| MediaError::Corrupt {
            what: "video",
            reason: "no video stream".to_owned(),
        })?;
    let parameters = stream.parameters();
    let codec = parameters.id();
    if !SERVED_CODECS.iter().any(|(id, _)| *id == codec) {
        let served: Vec<&str> = SERVED_CODECS.iter().map(|(_, name)| *name).collect();
        return Err(MediaError::Unsupported {
            what: "video codec",
            detail: format!("{codec:?} (served: {})", served.join(", ")),
        });
    }
    let (width, height) = unsafe {
        // SAFETY: the parameters belong to the open input, which outlives this read.
        let raw = &*parameters.as_ptr();
        (raw.width.max(0) as u64, raw.height.max(0) as u64)
    };
    limits.check(MediaLimit::VideoWidth, width)?;
    limits.check(MediaLimit::VideoHeight, height)?;
    // The container's own claim (AV_NOPTS_VALUE, negative, when it makes none).
    let declared = input.duration();
    if declared > 0 {
        check_duration(
            declared as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE),
            limits,
        )?;
    }
    let stream = stream.index();
    Ok(OpenedVideo { input, stream })
}

/// Video packets in the stream, without decoding any.
fn count_packets(
    data: &Arc<[u8]>,
    container: Container,
    limits: &MediaLimits,
    stop: &Stop,
) -> Result<usize, MediaError> {
    let mut video = open(data, container, limits)?;
    let mut count = 0usize;
    // The declared duration may lie: the packets' own timestamps are checked as they come.
    let mut end = 0i64;
    for (stream, packet) in video.input.packets() {
        if stream.index() == video.stream {
            stop.check(0)?;
            count += 1;
            limits.check(MediaLimit::VideoFrames, count as u64)?;
            if let Some(pts) = packet.pts() {
                end = end.max(pts.saturating_add(packet.duration().max(0)));
                check_duration(f64::from(stream.time_base()) * end as f64, limits)?;
            }
        }
    }
    if count == 0 {
        return Err(MediaError::NoFrames);
    }
    Ok(count)
}

/// Checks a playing time against the limit, in whole seconds rounded up (to the millisecond
/// first, so that a 2 s clip whose last timestamp lands a rounding error past 2 s stays 2 s).
fn check_duration(seconds: f64, limits: &MediaLimits) -> Result<(), MediaError> {
    let millis = (seconds * 1000.0).round().max(0.0) as u64;
    limits.check(MediaLimit::VideoDurationSeconds, millis.div_ceil(1000))
}

/// The frames kept from one decode pass, by display index.
struct Decoded {
    kept: BTreeMap<usize, Arc<RgbImage>>,
    /// Frames decoded; the whole stream's count when the pass ran to the end.
    total: usize,
}

impl Decoded {
    fn frames_for(&self, indices: &[usize]) -> Option<Vec<Arc<RgbImage>>> {
        indices.iter().map(|i| self.kept.get(i).cloned()).collect()
    }
}

fn decode_selected(
    data: &Arc<[u8]>,
    container: Container,
    indices: &[usize],
    limits: &MediaLimits,
    stop: &Stop,
) -> Result<Decoded, MediaError> {
    let mut video = open(data, container, limits)?;
    let parameters = video
        .input
        .stream(video.stream)
        .map(|stream| stream.parameters())
        .ok_or(MediaError::NoFrames)?;
    let context = ffmpeg::codec::context::Context::from_parameters(parameters)
        .map_err(|error| MediaError::Decoder(error.to_string()))?;
    let mut decoder = context
        .decoder()
        .video()
        .map_err(|error| MediaError::Corrupt {
            what: "video",
            reason: format!("cannot open the decoder: {error}"),
        })?;
    let mut sink = FrameSink::new(indices, limits);
    for (stream, packet) in video.input.packets() {
        if stream.index() != video.stream {
            continue;
        }
        stop.check(sink.next_index)?;
        // A corrupt packet is skipped, as decoders conceal errors; an empty result fails below.
        // EAGAIN (output pending) cannot follow a full drain, but if it does: drain, resend once.
        let mut sent = decoder.send_packet(&packet);
        if matches!(sent, Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN)
        {
            sink.drain(&mut decoder)?;
            sent = decoder.send_packet(&packet);
        }
        if sent.is_ok() {
            sink.drain(&mut decoder)?;
        }
        if sink.complete() {
            return Ok(sink.finish());
        }
    }
    if decoder.send_eof().is_ok() {
        sink.drain(&mut decoder)?;
    }
    Ok(sink.finish())
}

/// Receives decoded frames, converting only the wanted ones to RGB.
struct FrameSink<'a> {
    wanted: Vec<usize>,
    limits: &'a MediaLimits,
    kept: BTreeMap<usize, Arc<RgbImage>>,
    next_index: usize,
    scaler: Option<(Pixel, u32, u32, scaling::Context)>,
}

impl<'a> FrameSink<'a> {
    fn new(indices: &[usize], limits: &'a MediaLimits) -> Self {
        let mut wanted = indices.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        FrameSink {
            wanted,
            limits,
            kept: BTreeMap::new(),
            next_index: 0,
            scaler: None,
        }
    }

    fn complete(&self) -> bool {
        self.wanted
            .iter()
            .all(|index| self.kept.contains_key(index))
    }

    fn drain(&mut self, decoder: &mut ffmpeg::decoder::Video) -> Result<(), MediaError> {
        let mut frame = ffmpeg::frame::Video::empty();
        while decoder.receive_frame(&mut frame).is_ok() {
            let index = self.next_index;
            self.next_index += 1;
            self.limits
                .check(MediaLimit::VideoWidth, u64::from(frame.width()))?;
            self.limits
                .check(MediaLimit::VideoHeight, u64::from(frame.height()))?;
            if self.wanted.binary_search(&index).is_ok() {
                let rgb = self.convert_to_rgb(&frame)?;
                self.kept.insert(index, Arc::new(rgb));
            }
        }
        Ok(())
    }

    fn convert_to_rgb(&mut self, frame: &ffmpeg::frame::Video) -> Result<RgbImage, MediaError> {
        let (format, width, height) = (frame.format(), frame.width(), frame.height());
        let reuse =
            matches!(&self.scaler, Some((f, w, h, _)) if (*f, *w, *h) == (format, width, height));
        if !reuse {
            let context = scaling::Context::get(
                format,
                width,
                height,
                Pixel::RGB24,
                width,
                height,
                scaling::Flags::BICUBIC,
            )
            .map_err(|error| MediaError::Decoder(format!("pixel conversion: {error}")))?;
            self.scaler = Some((format, width, height, context));
        }
        let Some((_, _, _, scaler)) = self.scaler.as_mut() else {
            unreachable!("the scaler was set just above");
        };
        let mut rgb = ffmpeg::frame::Video::empty();
        scaler
            .run(frame, &mut rgb)
            .map_err(|error| MediaError::Decoder(format!("pixel conversion: {error}")))?;
        let row_bytes = width as usize * 3;
        let stride = rgb.stride(0);
        let mut pixels = Vec::with_capacity(row_bytes * height as usize);
        for row in rgb.data(0).chunks(stride).take(height as usize) {
            pixels.extend_from_slice(&row[..row_bytes]);
        }
        RgbImage::from_raw(width, height, pixels)
            .ok_or_else(|| MediaError::Decoder("converted frame has the wrong size".to_owned()))
    }

    fn finish(self) -> Decoded {
        Decoded {
            kept: self.kept,
            total: self.next_index,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_recognised_by_magic_bytes() {
        assert_eq!(
            sniff_container(b"\0\0\0\x20ftypisom....").unwrap(),
            Container::IsoBmff
        );
        assert_eq!(
            sniff_container(&[0x1A, 0x45, 0xDF, 0xA3, 0, 0]).unwrap(),
            Container::Matroska
        );
        assert_eq!(
            sniff_container(b"RIFF\0\0\0\0AVI LIST").unwrap(),
            Container::Avi
        );
        let playlist = sniff_container(b"#EXTM3U\n#EXT-X-VERSION:3\n").unwrap_err();
        assert!(matches!(
            playlist,
            MediaError::Unsupported {
                what: "video container",
                ..
            }
        ));
    }
}
