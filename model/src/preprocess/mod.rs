//! Preprocessing identical to the reference: decode, `middle` frame sampling, nearest resize with
//! PyTorch's float32 index rule, `/255`, CLIP normalization, layout `[3, T, S, S]`.

mod error;
mod image_decode;
mod limits;
mod media;
mod pixels;
mod preprocessor;
mod resize;
mod sampling;
mod stop;
mod video;

pub use error::MediaError;
pub use image_decode::{check_image_header, decode_image};
pub use limits::{MediaLimit, MediaLimits};
pub use media::Media;
pub use pixels::{FrameTransform, PixelValues};
pub use preprocessor::Preprocessor;
pub use resize::nearest_source_indices;
pub use sampling::middle_indices;
pub use stop::{Stop, StopReason};
pub use video::{SampledVideo, decode_video, decode_video_until};
