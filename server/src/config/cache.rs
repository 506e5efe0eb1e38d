//! The vision-feature cache's size.

#[derive(clap::Args, Debug, Clone)]
pub struct CacheArgs {
    /// Bytes of vision embeddings kept for reuse, keyed by a hash of the preprocessed pixels
    /// (least recently used first out). Several questions about one image or video then run the
    /// vision module once. 0 disables the cache.
    #[arg(long, env = "VISION_CACHE_BYTES", default_value_t = 512 * 1024 * 1024)]
    pub vision_cache_bytes: u64,
}
