use std::sync::atomic::{AtomicUsize, Ordering};

use mplug2_model::ErrorKind;
use ndarray::{Array2, Array4};

use super::*;

/// 3×1×4×4 pixels filled with `value`.
fn pixels(value: f32) -> PixelValues {
    PixelValues::from_array(Array4::from_elem((3, 1, 4, 4), value)).unwrap()
}

/// A vision stand-in whose output depends on its input (10×25 f32: 1000 bytes + 32 of key),
/// counting its runs.
struct Encoder {
    runs: AtomicUsize,
}

impl Encoder {
    fn new() -> Encoder {
        Encoder {
            runs: AtomicUsize::new(0),
        }
    }

    async fn run(&self, pixels: PixelValues) -> Result<Arc<Embeddings>, ModelError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        // Let concurrent callers reach the cache while this one computes.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let value = pixels.as_slice()[0];
        Ok(Arc::new(Array2::from_elem((10, 25), value * 2.0)))
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

const ENTRY_BYTES: u64 = 1000 + 32;

fn lookups(metrics: &Metrics, result: &str) -> u64 {
    metrics
        .vision_cache_lookups_total
        .with_label_values(&[result])
        .get()
}

#[tokio::test]
async fn the_same_pixels_twice_run_the_encoder_once_with_the_same_result() {
    let metrics = Metrics::new().unwrap();
    let cache = VisionCache::new(1 << 20, "pkg", "pkg", &metrics);
    let encoder = Encoder::new();
    let first = cache
        .get_or_compute(pixels(1.5), |p| encoder.run(p))
        .await
        .unwrap();
    let second = cache
        .get_or_compute(pixels(1.5), |p| encoder.run(p))
        .await
        .unwrap();
    assert_eq!(encoder.runs(), 1);
    assert_eq!(first, second);
    assert_eq!(first[[0, 0]], 3.0);
    let other = cache
        .get_or_compute(pixels(0.5), |p| encoder.run(p))
        .await
        .unwrap();
    assert_eq!(other[[0, 0]], 1.0);
    assert_eq!(encoder.runs(), 2);
    assert_eq!(
        (lookups(&metrics, "hit"), lookups(&metrics, "miss")),
        (1, 2)
    );
    cache.settle().await;
    let info = cache.info();
    assert_eq!((info.entries, info.bytes), (2, 2 * ENTRY_BYTES));
}

#[tokio::test]
async fn concurrent_requests_for_the_same_pixels_share_one_computation() {
    let metrics = Metrics::new().unwrap();
    let cache = VisionCache::new(1 << 20, "pkg", "pkg", &metrics);
    let encoder = Encoder::new();
    let results = futures::future::join_all(
        (0..4).map(|_| cache.get_or_compute(pixels(2.0), |p| encoder.run(p))),
    )
    .await;
    assert_eq!(encoder.runs(), 1);
    for result in results {
        assert_eq!(result.unwrap()[[9, 24]], 4.0);
    }
    assert_eq!(
        (lookups(&metrics, "hit"), lookups(&metrics, "miss")),
        (3, 1)
    );
}

#[tokio::test]
async fn the_byte_bound_evicts_the_least_recently_used_entry() {
    let metrics = Metrics::new().unwrap();
    // Room for two entries, not three.
    let cache = VisionCache::new(2 * ENTRY_BYTES + 100, "pkg", "pkg", &metrics);
    let encoder = Encoder::new();
    let get = |value| cache.get_or_compute(pixels(value), |p| encoder.run(p));
    get(1.0).await.unwrap();
    get(2.0).await.unwrap();
    cache.settle().await;
    get(1.0).await.unwrap(); // 1.0 is now more recent than 2.0
    cache.settle().await;
    get(3.0).await.unwrap(); // over the bound: 2.0 goes
    cache.settle().await;
    assert_eq!(encoder.runs(), 3);
    let info = cache.info();
    assert_eq!((info.entries, info.bytes), (2, 2 * ENTRY_BYTES));
    get(1.0).await.unwrap();
    assert_eq!(encoder.runs(), 3, "1.0 was kept");
    get(2.0).await.unwrap();
    assert_eq!(encoder.runs(), 4, "2.0 was evicted");
}

#[tokio::test]
async fn capacity_zero_disables_the_cache() {
    let metrics = Metrics::new().unwrap();
    let cache = VisionCache::new(0, "pkg", "pkg", &metrics);
    let encoder = Encoder::new();
    for _ in 0..3 {
        cache
            .get_or_compute(pixels(1.0), |p| encoder.run(p))
            .await
            .unwrap();
    }
    assert_eq!(encoder.runs(), 3);
    assert_eq!(cache.info().entries, 0);
    assert_eq!(
        (lookups(&metrics, "hit"), lookups(&metrics, "miss")),
        (0, 0)
    );
}

#[tokio::test]
async fn errors_are_returned_and_not_kept() {
    let metrics = Metrics::new().unwrap();
    let cache = VisionCache::new(1 << 20, "pkg", "pkg", &metrics);
    let encoder = Encoder::new();
    let failed = cache
        .get_or_compute(pixels(1.0), |_| async {
            Err(ModelError::Executor {
                kind: ErrorKind::Timeout,
                message: "deadline".into(),
            })
        })
        .await
        .unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Timeout);
    assert_eq!(failed.to_string(), "deadline");
    let value = cache
        .get_or_compute(pixels(1.0), |p| encoder.run(p))
        .await
        .unwrap();
    assert_eq!((encoder.runs(), value[[0, 0]]), (1, 2.0));
}
