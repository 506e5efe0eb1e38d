//! Reuse of computed features across requests.

mod cross_kv;
mod key;
mod vision;

pub use cross_kv::CrossKvCache;
pub use key::FeatureKey;
pub use vision::{VisionCache, VisionCacheInfo};
