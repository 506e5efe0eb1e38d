//! What every slice uses.

pub(super) use std::sync::Arc;

pub(super) use mplug2_model::{
    ModelError,
    preprocess::Media,
    tasks::{self as pipelines, Task},
};
pub(super) use mplug2_proto::v1 as pb;
pub(super) use serde_json::{Value as Json, json};

pub(super) use super::{TaskSlice, TextStreamer, media};
pub(super) use crate::{
    engine::{Engine, Work},
    error::ApiError,
    form::Form,
    limits::{Limit, RequestLimits},
    media_url::MediaUrls,
};
