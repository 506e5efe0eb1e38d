//! Proto messages to the protocol-neutral requests, and answers back.

use mplug2_proto::v1 as pb;

use crate::{
    error::ApiError,
    media_url::{MediaUrls, UrlKind},
    request::{
        CaptionRequest, ClassifyRequest, DecodeOptions, EmbedInput, EmbedRequest, MatchRequest,
        Media, VqaRequest,
    },
};

async fn media(media: Option<pb::Media>, urls: &MediaUrls) -> Result<Media, ApiError> {
    use pb::media::Kind;
    match media.and_then(|m| m.kind) {
        Some(Kind::Image(bytes)) => Ok(Media::Image(bytes)),
        Some(Kind::Video(bytes)) => Ok(Media::Video(bytes)),
        Some(Kind::Frames(frames)) => Ok(Media::Frames(frames.images)),
        Some(Kind::ImageUrl(url)) => Ok(Media::Image(urls.fetch(UrlKind::Image, &url).await?)),
        Some(Kind::VideoUrl(url)) => Ok(Media::Video(urls.fetch(UrlKind::Video, &url).await?)),
        None => Err(ApiError::InvalidRequest(
            "`media` must hold one of `image`, `video`, `frames`, `image_url` or `video_url`"
                .into(),
        )),
    }
}

fn decoding(options: Option<pb::DecodeOptions>) -> DecodeOptions {
    let options = options.unwrap_or_default();
    DecodeOptions {
        beam_size: options.beam_size,
        max_length: options.max_length,
        min_length: options.min_length,
    }
}

pub async fn vqa(message: pb::VqaRequest, urls: MediaUrls) -> Result<VqaRequest, ApiError> {
    Ok(VqaRequest {
        media: media(message.media, &urls).await?,
        question: message.question,
        decoding: decoding(message.decoding),
    })
}

pub async fn caption(
    message: pb::CaptionRequest,
    urls: MediaUrls,
) -> Result<CaptionRequest, ApiError> {
    Ok(CaptionRequest {
        media: media(message.media, &urls).await?,
        decoding: decoding(message.decoding),
    })
}

pub fn embed(message: pb::EmbedRequest) -> Result<EmbedRequest, ApiError> {
    use pb::embed_input::Kind;
    let inputs = message
        .inputs
        .into_iter()
        .enumerate()
        .map(|(index, input)| match input.kind {
            Some(Kind::Text(text)) => Ok(EmbedInput::Text(text)),
            Some(Kind::Image(bytes)) => Ok(EmbedInput::Media(Media::Image(bytes))),
            Some(Kind::Video(bytes)) => Ok(EmbedInput::Media(Media::Video(bytes))),
            Some(Kind::Frames(frames)) => Ok(EmbedInput::Media(Media::Frames(frames.images))),
            None => Err(ApiError::InvalidRequest(format!(
                "input {index} holds nothing"
            ))),
        })
        .collect::<Result<_, _>>()?;
    Ok(EmbedRequest { inputs })
}

pub async fn match_texts(
    message: pb::MatchRequest,
    urls: MediaUrls,
) -> Result<MatchRequest, ApiError> {
    Ok(MatchRequest {
        media: media(message.media, &urls).await?,
        texts: message.texts,
    })
}

pub async fn classify(
    message: pb::ClassifyRequest,
    urls: MediaUrls,
) -> Result<ClassifyRequest, ApiError> {
    Ok(ClassifyRequest {
        media: media(message.media, &urls).await?,
        labels: message.labels,
    })
}
