//! The module table: one row per model module (its batching flags, cost rule and cost unit),
//! from which the batchers are configured and started, expected by requests, and shown in
//! `/info`. A new module: a row here and its runner in `engine/runners.rs`.

use mplug2_model::tasks::Module;

use crate::{
    config::{BatchingArgs, ModuleBatching},
    scheduler::CostRule,
};

pub struct ModuleRow {
    pub module: Module,
    /// How a batch's cost adds up (the decoder's: beams of the requests in a step, summed).
    pub cost_rule: CostRule,
    /// What one unit of cost is, as `/info` says it.
    pub cost_unit: &'static str,
    /// The module's own batch size flag (unset: `--max-batch-size`).
    pub batch_size: fn(&BatchingArgs) -> Option<u32>,
    /// The module's cost budget flag (0: no budget).
    pub batch_cost: fn(&BatchingArgs) -> u64,
}

pub const MODULE_TABLE: [ModuleRow; 5] = [
    ModuleRow {
        module: Module::Vision,
        cost_rule: CostRule::Sum,
        cost_unit: "vision tokens",
        batch_size: |b| b.vision_max_batch_size,
        batch_cost: |b| b.vision_max_batch_tokens,
    },
    ModuleRow {
        module: Module::Text,
        cost_rule: CostRule::Padded,
        cost_unit: "padded tokens",
        batch_size: |b| b.text_max_batch_size,
        batch_cost: |b| b.text_max_batch_tokens,
    },
    ModuleRow {
        module: Module::Fusion,
        cost_rule: CostRule::Padded,
        cost_unit: "padded tokens",
        batch_size: |b| b.fusion_max_batch_size,
        batch_cost: |b| b.fusion_max_batch_tokens,
    },
    ModuleRow {
        module: Module::Decoder,
        cost_rule: CostRule::Sum,
        cost_unit: "beams",
        batch_size: |b| b.decoder_max_batch_size,
        batch_cost: |b| b.decoder_max_batch_beams,
    },
    ModuleRow {
        module: Module::Heads,
        cost_rule: CostRule::Sum,
        cost_unit: "items",
        batch_size: |b| b.heads_max_batch_size,
        batch_cost: |_| 0,
    },
];

/// The row of a module.
pub fn row(module: Module) -> &'static ModuleRow {
    MODULE_TABLE
        .iter()
        .find(|row| row.module == module)
        .expect("every module has a row")
}

impl ModuleRow {
    /// The module's batching rule under these flags.
    pub fn batching(&self, args: &BatchingArgs) -> ModuleBatching {
        args.module((self.batch_size)(args), (self.batch_cost)(args))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::Config;

    #[test]
    fn one_row_per_module_in_module_order() {
        let modules: Vec<Module> = MODULE_TABLE.iter().map(|row| row.module).collect();
        assert_eq!(modules, Module::ALL);
    }

    #[test]
    fn per_module_flags_override_the_global_size() {
        let config = Config::try_parse_from([
            "mplug2-serve",
            "--max-batch-size",
            "4",
            "--vision-max-batch-size",
            "2",
            "--text-max-batch-tokens",
            "512",
        ])
        .unwrap();
        let batching = |module| row(module).batching(&config.batching);
        assert_eq!(batching(Module::Vision).max_batch_size, 2);
        assert_eq!(batching(Module::Text).max_batch_size, 4);
        assert_eq!(batching(Module::Text).max_batch_cost, Some(512));
        assert_eq!(batching(Module::Vision).max_batch_cost, None);
        assert_eq!(batching(Module::Decoder).max_batch_size, 4);
    }
}
