//! The playground at `/`: one self-contained page (inline script and style, no CDN, no build
//! step) that drives the task routes from a browser, and the demo goldens' inputs it offers one
//! click away (`/playground/media/{name}`, embedded in the binary: about 70 KB).

use axum::{
    Router,
    extract::Path,
    http::header,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde_json::json;

use super::ops::not_found;

const PAGE: &str = include_str!("playground.html");

macro_rules! demo_input {
    ($name:literal, $file:literal, $content_type:literal) => {
        (
            $name,
            $content_type,
            include_bytes!(concat!("../../../models/demo/goldens/inputs/", $file)).as_slice(),
        )
    };
}

/// The demo media by name: the golden image, the lossless MP4 of `frames_20`, and the 7 frames
/// of `frames_7` (names as the page asks for them).
const MEDIA: &[(&str, &str, &[u8])] = &[
    demo_input!("image_480x270.png", "image_480x270.png", "image/png"),
    (
        "frames_20.mp4",
        "video/mp4",
        include_bytes!("../../../tests/fixtures/frames_20.mp4").as_slice(),
    ),
    demo_input!("frames_7_000.png", "frames_7/frame_000.png", "image/png"),
    demo_input!("frames_7_001.png", "frames_7/frame_001.png", "image/png"),
    demo_input!("frames_7_002.png", "frames_7/frame_002.png", "image/png"),
    demo_input!("frames_7_003.png", "frames_7/frame_003.png", "image/png"),
    demo_input!("frames_7_004.png", "frames_7/frame_004.png", "image/png"),
    demo_input!("frames_7_005.png", "frames_7/frame_005.png", "image/png"),
    demo_input!("frames_7_006.png", "frames_7/frame_006.png", "image/png"),
];

/// The OpenAPI path items of `/` and `/playground/media/{name}` (its names as an enum).
pub fn openapi() -> [(&'static str, serde_json::Value); 2] {
    let names: Vec<&str> = MEDIA.iter().map(|(name, _, _)| *name).collect();
    let binary = json!({ "schema": { "type": "string", "format": "binary" } });
    [
        (
            "/",
            json!({ "get": {
                "summary": "The playground: a page that asks, captions, classifies and matches from a browser",
                "responses": { "200": { "description": "HTML",
                    "content": { "text/html": { "schema": { "type": "string" } } } } } } }),
        ),
        (
            "/playground/media/{name}",
            json!({ "get": {
                "summary": "A demo medium the playground offers (the demo package's golden inputs)",
                "parameters": [{ "name": "name", "in": "path", "required": true,
                    "schema": { "type": "string", "enum": names } }],
                "responses": {
                    "200": { "description": "The file",
                        "content": { "image/png": binary, "video/mp4": binary } },
                    "404": { "description": "No such demo medium",
                        "content": { "application/json": {
                            "schema": { "$ref": "#/components/schemas/Error" } } } } } } }),
        ),
    ]
}

/// `/` and `/playground/media/{name}`; stateless, so they merge into any router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/playground/media/{name}", get(media))
}

async fn media(Path(name): Path<String>) -> Response {
    match MEDIA.iter().find(|(known, _, _)| *known == name) {
        Some((_, content_type, bytes)) => {
            ([(header::CONTENT_TYPE, *content_type)], *bytes).into_response()
        }
        None => not_found().await,
    }
}

#[cfg(test)]
mod tests {
    use super::{MEDIA, PAGE};

    #[test]
    fn the_page_asks_for_every_demo_medium_it_is_served() {
        for (name, _, bytes) in MEDIA {
            assert!(!bytes.is_empty(), "{name}");
        }
        // The page names the files in its DEMO table; the frames by a pattern of their index.
        assert!(PAGE.contains("\"image_480x270.png\""));
        assert!(PAGE.contains("\"frames_20.mp4\""));
        assert!(PAGE.contains("`frames_7_00${i}.png`"));
        assert_eq!(
            MEDIA
                .iter()
                .filter(|(name, _, _)| name.starts_with("frames_7_"))
                .count(),
            7
        );
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for external in ["http://", "https://", "<link", " src=\""] {
            assert!(!PAGE.contains(external), "{external}");
        }
    }
}
