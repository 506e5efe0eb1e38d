//! The OpenAPI document and a self-contained page that renders it (works offline: no CDN).

use axum::{
    http::header,
    response::{Html, IntoResponse, Response},
};

const OPENAPI: &str = include_str!("openapi.json");
const PAGE: &str = include_str!("docs.html");

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

#[cfg(test)]
mod tests {
    use super::OPENAPI;

    #[test]
    fn the_document_is_json_and_lists_every_route() {
        let spec: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        let paths = spec["paths"].as_object().unwrap();
        for route in [
            "/v1/vqa",
            "/v1/caption",
            "/v1/embeddings",
            "/v1/match",
            "/v1/classify",
            "/info",
            "/health/live",
            "/health/ready",
            "/metrics",
            "/openapi.json",
            "/docs",
        ] {
            assert!(paths.contains_key(route), "{route}");
        }
    }
}
