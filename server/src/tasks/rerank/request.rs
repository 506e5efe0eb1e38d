//! A rerank request: a query and documents of the other kind (a text against media, or a
//! medium against texts), from a form or protobuf.

use serde_json::Map;

use crate::{
    form::Value,
    tasks::{frames, media, prelude::*},
};

/// A query or a document.
pub enum Item {
    Text(String),
    Media(Media),
}

pub struct RerankRequest {
    pub query: Item,
    pub documents: Vec<Item>,
    pub top_n: Option<usize>,
    pub return_documents: bool,
    pub num_frames: Option<usize>,
}

impl RerankRequest {
    pub async fn from_form(form: &mut Form, urls: &MediaUrls) -> Result<RerankRequest, ApiError> {
        let query = match form.take_one("query")? {
            Some(value) => item("query", value, urls).await?,
            None => return Err(ApiError::InvalidRequest("`query` is required".into())),
        };
        let documents = match form.take_one("documents")? {
            Some(Value::Json(Json::Array(items))) => {
                let mut documents = Vec::with_capacity(items.len());
                for value in items {
                    documents.push(item("documents", Value::Json(value), urls).await?);
                }
                documents
            }
            Some(_) => {
                return Err(ApiError::InvalidRequest(
                    "`documents` must be a list of texts or media objects".into(),
                ));
            }
            None => return Err(ApiError::InvalidRequest("`documents` is required".into())),
        };
        let return_documents = match form.take_one("return_documents")? {
            None => false,
            Some(Value::Json(Json::Bool(flag))) => flag,
            Some(_) => {
                return Err(ApiError::InvalidRequest(
                    "`return_documents` must be true or false".into(),
                ));
            }
        };
        Ok(RerankRequest {
            query,
            documents,
            top_n: form.number("top_n")?.map(|n| n as usize),
            return_documents,
            num_frames: frames::from_form(form)?,
        })
    }

    pub async fn from_message(
        message: pb::RerankRequest,
        urls: &MediaUrls,
    ) -> Result<RerankRequest, ApiError> {
        let query = match message.query {
            Some(query) => item_of_message("query", query, urls).await?,
            None => return Err(ApiError::InvalidRequest("`query` is required".into())),
        };
        let mut documents = Vec::with_capacity(message.documents.len());
        for document in message.documents {
            documents.push(item_of_message("documents", document, urls).await?);
        }
        Ok(RerankRequest {
            query,
            documents,
            top_n: message.top_n.map(|n| n as usize),
            return_documents: message.return_documents,
            num_frames: frames::from_message(message.num_frames),
        })
    }

    pub fn validate(&self, limits: &RequestLimits) -> Result<(), ApiError> {
        frames::validate(self.num_frames, limits)?;
        limits.count("documents", Limit::Documents, self.documents.len())?;
        if self.top_n == Some(0) {
            return Err(ApiError::InvalidRequest(
                "`top_n` must be at least 1".into(),
            ));
        }
        let query_is_text = matches!(self.query, Item::Text(_));
        for (index, document) in self.documents.iter().enumerate() {
            match document {
                Item::Text(_) if query_is_text => {
                    return Err(ApiError::InvalidRequest(format!(
                        "`documents[{index}]` is a text, but a text `query` ranks media documents"
                    )));
                }
                Item::Media(_) if !query_is_text => {
                    return Err(ApiError::InvalidRequest(format!(
                        "`documents[{index}]` is a medium, but a medium `query` ranks text documents"
                    )));
                }
                Item::Text(text) => limits.text("documents", Limit::TextChars, text)?,
                Item::Media(medium) => media::validate(medium)?,
            }
        }
        match &self.query {
            Item::Text(text) => Ok(limits.text("query", Limit::TextChars, text)?),
            Item::Media(medium) => media::validate(medium),
        }
    }
}

/// A text (a JSON string or a text part), or a medium: an object with one of `image`, `video`,
/// `frames`, `image_url` or `video_url`.
async fn item(field: &'static str, value: Value, urls: &MediaUrls) -> Result<Item, ApiError> {
    match value {
        Value::Json(Json::Object(object)) => medium(field, object, urls).await.map(Item::Media),
        text_value => crate::form::text(field, text_value).map(Item::Text),
    }
}

async fn medium(
    field: &'static str,
    object: Map<String, Json>,
    urls: &MediaUrls,
) -> Result<Media, ApiError> {
    let mut form = Form::from_json_object(object);
    let medium = media::from_form_or_url(&mut form, urls).await?;
    form.finish()
        .map_err(|error| ApiError::InvalidRequest(format!("`{field}`: {error}")))?;
    Ok(medium)
}

async fn item_of_message(
    field: &'static str,
    document: pb::RerankDocument,
    urls: &MediaUrls,
) -> Result<Item, ApiError> {
    use pb::rerank_document::Kind;
    match document.kind {
        Some(Kind::Text(text)) => Ok(Item::Text(text)),
        Some(Kind::Media(medium)) => media::from_message(Some(medium), urls)
            .await
            .map(Item::Media),
        None => Err(ApiError::InvalidRequest(format!(
            "`{field}` must hold a text or a medium"
        ))),
    }
}
