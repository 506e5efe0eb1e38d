//! Dynamic batching settings: one batcher per module, each closing a batch on its size limit, on
//! its cost budget, or after the batch delay.

use std::time::Duration;

/// Batch sizes, cost budgets and the batch delay.
#[derive(clap::Args, Debug, Clone)]
pub struct BatchingArgs {
    /// Most items in one batch, for every module unless its own flag overrides it.
    /// 1 turns batching off.
    #[arg(long, env = "MAX_BATCH_SIZE", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_batch_size: u32,

    /// Longest wait (milliseconds) for a batch to fill while more requests for the module are
    /// about to arrive. A module that is idle with nothing else coming never waits.
    #[arg(long, env = "MAX_BATCH_DELAY_MS", default_value_t = 2)]
    pub max_batch_delay_ms: u64,

    /// Batch size of the vision encoder (default: --max-batch-size).
    #[arg(long, env = "VISION_MAX_BATCH_SIZE", value_parser = clap::value_parser!(u32).range(1..))]
    pub vision_max_batch_size: Option<u32>,

    /// Batch size of the text encoder (default: --max-batch-size).
    #[arg(long, env = "TEXT_MAX_BATCH_SIZE", value_parser = clap::value_parser!(u32).range(1..))]
    pub text_max_batch_size: Option<u32>,

    /// Batch size of the fusion module (default: --max-batch-size).
    #[arg(long, env = "FUSION_MAX_BATCH_SIZE", value_parser = clap::value_parser!(u32).range(1..))]
    pub fusion_max_batch_size: Option<u32>,

    /// Requests decoded together in one decoder step (default: --max-batch-size). Requests join
    /// and leave between steps; each brings its beams.
    #[arg(long, env = "DECODER_MAX_BATCH_SIZE", value_parser = clap::value_parser!(u32).range(1..))]
    pub decoder_max_batch_size: Option<u32>,

    /// Batch size of the projection / ITM heads (default: --max-batch-size).
    #[arg(long, env = "HEADS_MAX_BATCH_SIZE", value_parser = clap::value_parser!(u32).range(1..))]
    pub heads_max_batch_size: Option<u32>,

    /// Cost budget of one vision batch in vision tokens (frames × patches per item, summed).
    /// 0 = no budget. An item over the budget runs alone.
    #[arg(long, env = "VISION_MAX_BATCH_TOKENS", default_value_t = 0)]
    pub vision_max_batch_tokens: u64,

    /// Cost budget of one text-encoder batch in padded tokens (longest × items). 0 = no budget.
    #[arg(long, env = "TEXT_MAX_BATCH_TOKENS", default_value_t = 0)]
    pub text_max_batch_tokens: u64,

    /// Cost budget of one fusion batch in padded tokens (text + vision, longest × items).
    /// 0 = no budget.
    #[arg(long, env = "FUSION_MAX_BATCH_TOKENS", default_value_t = 0)]
    pub fusion_max_batch_tokens: u64,

    /// Cost budget of one decoder step in beams (sum of the beam sizes of the requests in it).
    /// 0 = no budget.
    #[arg(long, env = "DECODER_MAX_BATCH_BEAMS", default_value_t = 0)]
    pub decoder_max_batch_beams: u64,
}

/// The batching rule of one module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleBatching {
    pub max_batch_size: usize,
    /// `None`: the batch is bounded by its size only.
    pub max_batch_cost: Option<u64>,
    pub max_batch_delay: Duration,
}

impl BatchingArgs {
    pub fn max_batch_delay(&self) -> Duration {
        Duration::from_millis(self.max_batch_delay_ms)
    }

    /// A module's rule from its own flags (see `module_table`); unset size: --max-batch-size.
    pub fn module(&self, size: Option<u32>, cost: u64) -> ModuleBatching {
        ModuleBatching {
            max_batch_size: size.unwrap_or(self.max_batch_size) as usize,
            max_batch_cost: (cost > 0).then_some(cost),
            max_batch_delay: self.max_batch_delay(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::config::Config;

    #[test]
    fn batch_size_zero_is_refused() {
        let error = Config::try_parse_from(["mplug2-serve", "--max-batch-size", "0"]).unwrap_err();
        assert!(error.to_string().contains("--max-batch-size"), "{error}");
    }
}
