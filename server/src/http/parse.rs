//! The REST fuzz targets' entry point, also replayed by the tests: what is fuzzed is what is
//! served (`task::parse`).

use axum::extract::Request;

use super::task;
use crate::{
    error::ApiError,
    media_url::MediaUrls,
    tasks::{TaskSlice, TaskVisitor, for_each_task},
};

/// The multipart Content-Type the fuzz target and its seeds use.
pub const FUZZ_MULTIPART_TYPE: &str = "multipart/form-data; boundary=XBOUNDARY";

/// The body limit the fuzz targets parse under (small, so the limit path is reached too).
pub const FUZZ_MAX_BODY_BYTES: usize = 1 << 20;

/// The first byte of `data` picks the task route, the rest is a body sent with `content_type`.
pub async fn replay(content_type: &str, data: &[u8]) -> Result<(), ApiError> {
    let Some((&selector, body)) = data.split_first() else {
        return Ok(());
    };
    let request = Request::builder()
        .method("POST")
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(body.to_vec()))
        .map_err(|error| ApiError::InvalidRequest(error.to_string()))?;
    let count = crate::tasks::names().0.len();
    let mut pick = Pick {
        index: usize::from(selector) % count,
        seen: 0,
        request: Some(request),
        parse: None,
    };
    for_each_task(&mut pick);
    match pick.parse {
        Some(parse) => parse.await,
        None => Ok(()),
    }
}

type Parse = std::pin::Pin<Box<dyn Future<Output = Result<(), ApiError>>>>;

/// Finds the `index`-th slice and parses the request as its route does.
struct Pick {
    index: usize,
    seen: usize,
    request: Option<Request>,
    parse: Option<Parse>,
}

impl TaskVisitor for Pick {
    fn visit<T: TaskSlice>(&mut self) {
        if self.seen == self.index
            && let Some(request) = self.request.take()
        {
            self.parse = Some(Box::pin(async move {
                let urls = MediaUrls::disabled();
                task::parse::<T>(request, FUZZ_MAX_BODY_BYTES, &urls)
                    .await
                    .map(drop)
            }));
        }
        self.seen += 1;
    }
}
