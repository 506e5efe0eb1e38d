//! The sizes of the caches that let several requests about one medium share work.

#[derive(clap::Args, Debug, Clone)]
pub struct CacheArgs {
    /// Bytes of vision embeddings kept for reuse, keyed by a hash of the preprocessed pixels
    /// (least recently used first out). Several questions about one image or video then run the
    /// vision module once. 0 disables the cache.
    #[arg(long, env = "VISION_CACHE_BYTES", default_value_t = 512 * 1024 * 1024)]
    pub vision_cache_bytes: u64,

    /// Bytes of the decoder's cross-attention K/V of vision embeddings kept for reuse while those
    /// embeddings are alive (in the vision-feature cache or a request): a further caption or
    /// question about the same medium then projects only its question. An entry is
    /// 2 × decoder layers × vision tokens × width × 4 bytes (base shapes: 14.5 MB per image,
    /// 231 MB per 16-frame video). 0 disables it.
    #[arg(long, env = "CROSS_KV_CACHE_BYTES", default_value_t = 512 * 1024 * 1024)]
    pub cross_kv_cache_bytes: u64,
}
