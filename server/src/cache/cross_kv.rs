//! The decoder's cross-attention K/V of vision embeddings, kept while those embeddings are alive
//! (held by the vision-feature cache or by a request), so that a second caption or question about
//! the same medium projects only its own question tokens. The decoder's K/V are a per-position
//! projection of the memory, so `K/V([vision; question]) = [K/V(vision); K/V(question)]`.
//!
//! Owned by the decoder batcher's thread: no locking. Entries are matched by the identity of the
//! embeddings' allocation; holding a `Weak` keeps that allocation from being reused for other
//! embeddings while the entry exists. Bounded in bytes, least recently used first out.

use std::{
    collections::VecDeque,
    sync::{Arc, Weak},
};

use mplug2_model::{decode::CrossKv, modules::Embeddings};
use prometheus::{IntCounter, IntGauge};

use crate::metrics::Metrics;

pub struct CrossKvCache {
    /// Least recently used first.
    entries: VecDeque<Entry>,
    bytes: usize,
    capacity: usize,
    hits: IntCounter,
    misses: IntCounter,
    bytes_gauge: IntGauge,
}

struct Entry {
    vision: Weak<Embeddings>,
    cross: Arc<CrossKv>,
}

impl CrossKvCache {
    /// `capacity` 0 disables the cache (nothing is kept, nothing is counted).
    /// `model` labels its metrics.
    pub fn new(capacity: usize, model: &str, metrics: &Metrics) -> CrossKvCache {
        let lookups = &metrics.cross_kv_cache_lookups_total;
        metrics
            .cross_kv_cache_capacity_bytes
            .with_label_values(&[model])
            .set(i64::try_from(capacity).unwrap_or(i64::MAX));
        CrossKvCache {
            entries: VecDeque::new(),
            bytes: 0,
            capacity,
            hits: lookups.with_label_values(&["hit", model]),
            misses: lookups.with_label_values(&["miss", model]),
            bytes_gauge: metrics.cross_kv_cache_bytes.with_label_values(&[model]),
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The K/V of these embeddings if kept (then they become the most recently used).
    pub fn get(&mut self, vision: &Arc<Embeddings>) -> Option<Arc<CrossKv>> {
        if !self.enabled() {
            return None;
        }
        // Dead entries cannot match: their `Weak` keeps the address from being reused.
        let at = self
            .entries
            .iter()
            .position(|e| std::ptr::eq(e.vision.as_ptr(), Arc::as_ptr(vision)));
        let Some(entry) = at.and_then(|at| self.entries.remove(at)) else {
            self.misses.inc();
            return None;
        };
        self.hits.inc();
        let cross = Arc::clone(&entry.cross);
        self.entries.push_back(entry);
        Some(cross)
    }

    /// Keeps the K/V of `vision`, evicting the least recently used entries beyond the bound.
    pub fn insert(&mut self, vision: &Arc<Embeddings>, cross: Arc<CrossKv>) {
        let size = cross.bytes();
        if !self.enabled() || size > self.capacity {
            return;
        }
        // Room taken by dead entries must not push out live ones.
        self.forget_dead();
        self.bytes += size;
        self.entries.push_back(Entry {
            vision: Arc::downgrade(vision),
            cross,
        });
        while self.bytes > self.capacity {
            match self.entries.pop_front() {
                Some(evicted) => self.bytes -= evicted.cross.bytes(),
                None => break,
            }
        }
        self.update_gauge();
    }

    /// Drops the entries whose embeddings nobody holds any more: no request can ask for them.
    /// The decoder calls it once joining requests have let go of their memories, so that without
    /// the vision-feature cache nothing outlives its request here.
    pub fn forget_dead(&mut self) {
        let before = self.entries.len();
        let mut freed = 0;
        self.entries.retain(|e| {
            let alive = e.vision.strong_count() > 0;
            if !alive {
                freed += e.cross.bytes();
            }
            alive
        });
        if self.entries.len() != before {
            self.bytes -= freed;
            self.update_gauge();
        }
    }

    fn update_gauge(&self) {
        self.bytes_gauge
            .set(i64::try_from(self.bytes).unwrap_or(i64::MAX));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, Array3};

    use super::*;

    fn embeddings(rows: usize) -> Arc<Embeddings> {
        Arc::new(Array2::zeros((rows, 4)))
    }

    /// 2 layers × K and V of `[1, len, 1]` f32: 16 × len bytes.
    fn cross(len: usize) -> Arc<CrossKv> {
        let layer = || Array3::<f32>::zeros((1, len, 1));
        Arc::new(CrossKv::new(vec![layer(), layer()], vec![layer(), layer()]).unwrap())
    }

    fn lookups(metrics: &Metrics, result: &str) -> u64 {
        metrics
            .cross_kv_cache_lookups_total
            .with_label_values(&[result, "m"])
            .get()
    }

    #[test]
    fn finds_the_same_embeddings_only() {
        let metrics = Metrics::new().unwrap();
        let mut cache = CrossKvCache::new(1 << 20, "m", &metrics);
        let (a, b) = (embeddings(3), embeddings(3));
        assert!(cache.get(&a).is_none());
        let kv = cross(3);
        cache.insert(&a, Arc::clone(&kv));
        assert!(Arc::ptr_eq(&cache.get(&a).unwrap(), &kv));
        assert!(cache.get(&b).is_none(), "equal values, other embeddings");
        assert!(cache.get(&Arc::clone(&a)).is_some(), "a clone of the Arc");
        assert_eq!(
            (lookups(&metrics, "hit"), lookups(&metrics, "miss")),
            (2, 2)
        );
        assert_eq!(
            metrics.cross_kv_cache_bytes.with_label_values(&["m"]).get(),
            48
        );
    }

    #[test]
    fn forgets_entries_whose_embeddings_are_gone() {
        let metrics = Metrics::new().unwrap();
        let mut cache = CrossKvCache::new(1 << 20, "m", &metrics);
        let (a, b) = (embeddings(1), embeddings(1));
        cache.insert(&a, cross(2));
        cache.insert(&b, cross(2));
        drop(a);
        cache.forget_dead();
        assert!(cache.get(&b).is_some());
        assert_eq!(cache.len(), 1);
        assert_eq!(
            metrics.cross_kv_cache_bytes.with_label_values(&["m"]).get(),
            32
        );
    }

    #[test]
    fn evicts_the_least_recently_used_beyond_the_bound() {
        let metrics = Metrics::new().unwrap();
        // Room for two entries of 16 × 4 = 64 bytes.
        let mut cache = CrossKvCache::new(128, "m", &metrics);
        let (a, b, c) = (embeddings(1), embeddings(1), embeddings(1));
        cache.insert(&a, cross(4));
        cache.insert(&b, cross(4));
        assert!(cache.get(&a).is_some()); // b is now the least recently used
        cache.insert(&c, cross(4));
        assert!(cache.get(&b).is_none());
        assert!(cache.get(&a).is_some() && cache.get(&c).is_some());
        assert_eq!(
            metrics.cross_kv_cache_bytes.with_label_values(&["m"]).get(),
            128
        );
        // An entry larger than the whole bound is not kept.
        cache.insert(&b, cross(16));
        assert!(cache.get(&b).is_none());
    }

    #[test]
    fn a_zero_bound_keeps_and_counts_nothing() {
        let metrics = Metrics::new().unwrap();
        let mut cache = CrossKvCache::new(0, "m", &metrics);
        let a = embeddings(1);
        cache.insert(&a, cross(1));
        assert!(cache.get(&a).is_none());
        assert_eq!(
            (lookups(&metrics, "hit"), lookups(&metrics, "miss")),
            (0, 0)
        );
    }
}
