//! A medium and a list of texts: the request shape of match (`texts`) and classify (`labels`).

use super::{SchemaContext, frames, prelude::*, schema};

pub struct MediumAndTexts {
    pub media: Media,
    pub texts: Vec<String>,
    pub num_frames: Option<usize>,
}

impl MediumAndTexts {
    /// The medium, and the texts from the list field `field`.
    pub async fn from_form(
        form: &mut Form,
        urls: &MediaUrls,
        field: &'static str,
    ) -> Result<MediumAndTexts, ApiError> {
        Ok(MediumAndTexts {
            media: media::from_form_or_url(form, urls).await?,
            texts: form.texts(field)?,
            num_frames: frames::from_form(form)?,
        })
    }

    pub async fn from_message(
        medium: Option<pb::Media>,
        texts: Vec<String>,
        num_frames: Option<u32>,
        urls: &MediaUrls,
    ) -> Result<MediumAndTexts, ApiError> {
        Ok(MediumAndTexts {
            media: media::from_message(medium, urls).await?,
            texts,
            num_frames: frames::from_message(num_frames),
        })
    }

    /// The medium not empty; the texts within `count_limit` and `--max-text-chars`.
    pub fn validate(
        &self,
        limits: &RequestLimits,
        field: &'static str,
        count_limit: Limit,
    ) -> Result<(), ApiError> {
        media::validate(&self.media)?;
        frames::validate(self.num_frames, limits)?;
        Ok(limits.texts(field, count_limit, &self.texts)?)
    }

    /// The OpenAPI schema of a body: the medium, `num_frames` and the list `field`.
    pub fn schema(context: &SchemaContext<'_>, field: &str, max_items: usize) -> Json {
        let text = schema::text(context.limits.max_text_chars);
        let fields = json!({
            field: { "type": "array", "minItems": 1, "maxItems": max_items, "items": text },
            "num_frames": frames::schema(context.limits),
        });
        media::body_schema(context, fields, &[field])
    }
}
