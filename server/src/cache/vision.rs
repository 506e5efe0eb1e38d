//! Vision embeddings kept across requests, bounded in bytes, least recently used first out.
//! Concurrent requests for the same pixels share one computation (single flight): the first
//! runs the vision module, the others wait for its result.

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use moka::{future::Cache, policy::EvictionPolicy};
use mplug2_model::{ModelError, modules::Embeddings, preprocess::PixelValues};
use serde::Serialize;

use prometheus::{IntCounter, IntGauge};

use super::FeatureKey;
use crate::metrics::Metrics;

pub struct VisionCache {
    /// `None` when disabled (capacity 0).
    entries: Option<Cache<FeatureKey, Arc<Embeddings>>>,
    capacity_bytes: u64,
    package: String,
    hits: IntCounter,
    misses: IntCounter,
    bytes: IntGauge,
}

/// The cache as `/info` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct VisionCacheInfo {
    pub capacity_bytes: u64,
    pub bytes: u64,
    pub entries: u64,
    pub hits: u64,
    pub misses: u64,
}

/// Bytes an entry is charged: its f32 values plus the key.
fn weight(_: &FeatureKey, embeddings: &Arc<Embeddings>) -> u32 {
    let bytes = embeddings.len() * size_of::<f32>() + size_of::<FeatureKey>();
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

impl VisionCache {
    /// `package` identifies the weights whose features are kept (part of every key); `model`
    /// labels its metrics.
    pub fn new(capacity_bytes: u64, package: &str, model: &str, metrics: &Metrics) -> VisionCache {
        let entries = (capacity_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(capacity_bytes)
                .weigher(weight)
                .eviction_policy(EvictionPolicy::lru())
                .build()
        });
        metrics
            .vision_cache_capacity_bytes
            .with_label_values(&[model])
            .set(gauge(capacity_bytes));
        let lookups = |result| {
            metrics
                .vision_cache_lookups_total
                .with_label_values(&[result, model])
        };
        VisionCache {
            entries,
            capacity_bytes,
            package: package.to_owned(),
            hits: lookups("hit"),
            misses: lookups("miss"),
            bytes: metrics.vision_cache_bytes.with_label_values(&[model]),
        }
    }

    /// The embeddings of `pixels`: from the cache, from a concurrent request computing them, or
    /// from `compute` (then kept). Errors are never kept.
    pub async fn get_or_compute<F, Fut>(
        &self,
        pixels: PixelValues,
        compute: F,
    ) -> Result<Arc<Embeddings>, ModelError>
    where
        F: Fn(PixelValues) -> Fut,
        Fut: Future<Output = Result<Arc<Embeddings>, ModelError>>,
    {
        let Some(entries) = &self.entries else {
            return compute(pixels).await;
        };
        let key = FeatureKey::of(&self.package, &pixels);
        // The pixels stay here unless this request is the one that computes; then a failure
        // of another request's computation can still be retried with them.
        let slot = Mutex::new(Some(pixels));
        let take = || slot.lock().ok().and_then(|mut pixels| pixels.take());
        let computed = entries
            .entry(key)
            .or_try_insert_with(async {
                let pixels = take().ok_or_else(|| internal("vision input taken twice"))?;
                compute(pixels).await
            })
            .await;
        let result = match computed {
            Ok(entry) => {
                self.count(if entry.is_fresh() { "miss" } else { "hit" });
                Ok(entry.into_value())
            }
            Err(error) => match take() {
                // Another request's computation failed (its deadline, say): not ours to report.
                Some(pixels) => {
                    self.count("miss");
                    compute(pixels).await
                }
                None => {
                    self.count("miss");
                    Err(
                        Arc::try_unwrap(error).unwrap_or_else(|shared| ModelError::Executor {
                            kind: shared.kind(),
                            message: shared.to_string(),
                        }),
                    )
                }
            },
        };
        self.bytes.set(gauge(entries.weighted_size()));
        result
    }

    pub fn info(&self) -> VisionCacheInfo {
        VisionCacheInfo {
            capacity_bytes: self.capacity_bytes,
            bytes: self.entries.as_ref().map_or(0, Cache::weighted_size),
            entries: self.entries.as_ref().map_or(0, Cache::entry_count),
            hits: self.hits.get(),
            misses: self.misses.get(),
        }
    }

    fn count(&self, result: &str) {
        match result {
            "hit" => self.hits.inc(),
            _ => self.misses.inc(),
        }
    }

    #[cfg(test)]
    async fn settle(&self) {
        if let Some(entries) = &self.entries {
            entries.run_pending_tasks().await;
        }
    }
}

fn gauge(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

fn internal(message: &str) -> ModelError {
    ModelError::Executor {
        kind: mplug2_model::ErrorKind::Internal,
        message: message.to_owned(),
    }
}

#[cfg(test)]
#[path = "vision_tests.rs"]
mod tests;
