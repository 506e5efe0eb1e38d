//! Each task route's request read from an HTTP body (JSON or multipart). The handlers call these,
//! and so do the fuzz targets and their replay tests, so what is fuzzed is what is served.

use axum::extract::Request;

use super::form::Form;
use crate::{
    error::ApiError,
    media_url::MediaUrls,
    request::{
        CaptionRequest, ClassifyRequest, DecodeOptions, EmbedRequest, MatchRequest, Route,
        VqaRequest,
    },
};

/// How an embeddings answer encodes its vectors (OpenAI's `encoding_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Float,
    Base64,
}

pub async fn vqa(
    request: Request,
    max_body_bytes: usize,
    urls: &MediaUrls,
) -> Result<VqaRequest, ApiError> {
    let mut form = Form::read(request, max_body_bytes).await?;
    let parsed = VqaRequest {
        media: form.media_or_url(urls).await?,
        question: form.text("question")?,
        decoding: decoding(&mut form)?,
    };
    form.finish()?;
    Ok(parsed)
}

pub async fn caption(
    request: Request,
    max_body_bytes: usize,
    urls: &MediaUrls,
) -> Result<CaptionRequest, ApiError> {
    let mut form = Form::read(request, max_body_bytes).await?;
    let parsed = CaptionRequest {
        media: form.media_or_url(urls).await?,
        decoding: decoding(&mut form)?,
    };
    form.finish()?;
    Ok(parsed)
}

pub async fn embeddings(
    request: Request,
    max_body_bytes: usize,
) -> Result<(EmbedRequest, Encoding), ApiError> {
    let mut form = Form::read(request, max_body_bytes).await?;
    // OpenAI clients send `model` (one model is served, so any value) and `encoding_format`.
    let _model = form.optional_text("model")?;
    let _user = form.optional_text("user")?;
    let encoding = match form.optional_text("encoding_format")?.as_deref() {
        None | Some("float") => Encoding::Float,
        Some("base64") => Encoding::Base64,
        Some(other) => {
            return Err(ApiError::InvalidRequest(format!(
                "`encoding_format` must be `float` or `base64`, not `{other}`"
            )));
        }
    };
    let parsed = EmbedRequest {
        inputs: form.embed_inputs()?,
    };
    form.finish()?;
    Ok((parsed, encoding))
}

pub async fn match_texts(
    request: Request,
    max_body_bytes: usize,
    urls: &MediaUrls,
) -> Result<MatchRequest, ApiError> {
    let mut form = Form::read(request, max_body_bytes).await?;
    let parsed = MatchRequest {
        media: form.media_or_url(urls).await?,
        texts: form.texts("texts")?,
    };
    form.finish()?;
    Ok(parsed)
}

pub async fn classify(
    request: Request,
    max_body_bytes: usize,
    urls: &MediaUrls,
) -> Result<ClassifyRequest, ApiError> {
    let mut form = Form::read(request, max_body_bytes).await?;
    let parsed = ClassifyRequest {
        media: form.media_or_url(urls).await?,
        labels: form.texts("labels")?,
    };
    form.finish()?;
    Ok(parsed)
}

/// Parses a body as `route` does and drops the result.
pub async fn route(
    route: Route,
    request: Request,
    max_body_bytes: usize,
    urls: &MediaUrls,
) -> Result<(), ApiError> {
    match route {
        Route::Vqa => vqa(request, max_body_bytes, urls).await.map(drop),
        Route::Caption => caption(request, max_body_bytes, urls).await.map(drop),
        Route::Embeddings => embeddings(request, max_body_bytes).await.map(drop),
        Route::Match => match_texts(request, max_body_bytes, urls).await.map(drop),
        Route::Classify => classify(request, max_body_bytes, urls).await.map(drop),
    }
}

fn decoding(form: &mut Form) -> Result<DecodeOptions, ApiError> {
    Ok(DecodeOptions {
        beam_size: form.number("beam_size")?,
        max_length: form.number("max_length")?,
        min_length: form.number("min_length")?,
    })
}

/// The multipart Content-Type the fuzz target and its seeds use.
pub const FUZZ_MULTIPART_TYPE: &str = "multipart/form-data; boundary=XBOUNDARY";

/// The body limit the fuzz targets parse under (small, so the limit path is reached too).
pub const FUZZ_MAX_BODY_BYTES: usize = 1 << 20;

/// The REST fuzz targets' entry point, also replayed by the tests: the first byte of `data` picks
/// the route, the rest is a body sent with `content_type`.
pub async fn replay(content_type: &str, data: &[u8]) -> Result<(), ApiError> {
    let Some((&selector, body)) = data.split_first() else {
        return Ok(());
    };
    let route = Route::ALL[usize::from(selector) % Route::ALL.len()];
    let request = Request::builder()
        .method("POST")
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(body.to_vec()))
        .map_err(|error| ApiError::InvalidRequest(error.to_string()))?;
    self::route(route, request, FUZZ_MAX_BODY_BYTES, &MediaUrls::disabled()).await
}
