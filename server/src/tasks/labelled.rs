//! A medium and a list of texts: the request shape of match (`texts`) and classify (`labels`).

use super::prelude::*;

pub struct MediumAndTexts {
    pub media: Media,
    pub texts: Vec<String>,
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
        })
    }

    pub async fn from_message(
        medium: Option<pb::Media>,
        texts: Vec<String>,
        urls: &MediaUrls,
    ) -> Result<MediumAndTexts, ApiError> {
        Ok(MediumAndTexts {
            media: media::from_message(medium, urls).await?,
            texts,
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
        Ok(limits.texts(field, count_limit, &self.texts)?)
    }

    /// The OpenAPI schema of a body: the medium and the list `field`.
    pub fn schema(field: &str) -> Json {
        json!({ "allOf": [ { "$ref": "#/components/schemas/Media" },
            { "type": "object", "required": [field], "properties": { field: { "type": "array", "items": { "type": "string" } } } } ] })
    }
}
