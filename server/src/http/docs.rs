//! The OpenAPI document, built once from `openapi_base.json` (operator routes and the shared
//! schemas) and the path item of every task slice of the registry, and a self-contained page
//! that renders it (works offline: no CDN).

use std::sync::Arc;

use axum::{
    Router,
    extract::State,
    http::header,
    response::{Html, IntoResponse},
    routing::get,
};

use crate::{
    serving::OpsState,
    tasks::{SchemaContext, TaskSlice, TaskVisitor, for_each_task},
};

const BASE: &str = include_str!("openapi_base.json");
const PAGE: &str = include_str!("docs.html");

/// `/openapi.json` (built per request: it states the loaded model's embedding width) and `/docs`.
pub fn routes() -> Router<Arc<OpsState>> {
    let openapi = |State(ops): State<Arc<OpsState>>| async move {
        let document = document(&ops.schema_context()).to_string();
        ([(header::CONTENT_TYPE, "application/json")], document).into_response()
    };
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/docs", get(|| async { Html(PAGE) }))
}

fn document(context: &SchemaContext<'_>) -> serde_json::Value {
    struct Paths<'a>(
        serde_json::Map<String, serde_json::Value>,
        &'a SchemaContext<'a>,
    );
    impl TaskVisitor for Paths<'_> {
        fn visit<T: TaskSlice>(&mut self) {
            let item = T::openapi(self.1);
            for path in std::iter::once(T::REST_PATH).chain(T::REST_ALIASES.iter().copied()) {
                self.0.insert(path.to_owned(), item.clone());
            }
        }
    }
    let mut document: serde_json::Value =
        serde_json::from_str(BASE).expect("openapi_base.json is JSON (a unit test checks it)");
    let mut paths = Paths(serde_json::Map::new(), context);
    for_each_task(&mut paths);
    if let Some(base) = document["paths"].as_object() {
        paths.0.extend(base.clone());
    }
    document["paths"] = serde_json::Value::Object(paths.0);
    document
}

#[cfg(test)]
mod tests {
    use mplug2_model::decode::DecodeLimits;

    use super::document;
    use crate::{config::Config, tasks::SchemaContext};

    #[test]
    fn the_document_lists_every_route() {
        let config = <Config as clap::Parser>::parse_from(["mplug2-serve"]);
        let limits = config.limits.resolve();
        let spec = document(&SchemaContext {
            limits: &limits.request,
            decode: &DecodeLimits::DEFAULT,
            media_urls: false,
            embed_dim: Some(256),
        });
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
        assert!(spec["components"]["schemas"]["Media"].is_object());
    }
}
