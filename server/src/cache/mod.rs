//! Reuse of computed features across requests.

mod key;
mod vision;

pub use key::FeatureKey;
pub use vision::{VisionCache, VisionCacheInfo};
