/// Media as a request brings it: encoded bytes, never decoded pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Media {
    /// One encoded image (JPEG, PNG, WebP, GIF: first frame).
    Image(Vec<u8>),
    /// One encoded video file (see `preprocess::video` for the containers and codecs served).
    Video(Vec<u8>),
    /// Encoded images treated as the decoded frames of a video.
    Frames(Vec<Vec<u8>>),
}

impl Media {
    /// Short name for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Media::Image(_) => "image",
            Media::Video(_) => "video",
            Media::Frames(_) => "frames",
        }
    }
}
