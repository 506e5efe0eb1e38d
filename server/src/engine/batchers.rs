//! One batcher per module the package has, started from the module table.

use std::collections::BTreeMap;

use mplug2_model::{Model, tasks::Module};

use super::runners::{FusionRunner, HeadsRunner, TextRunner, VisionRunner};
use crate::{
    cache::CrossKvCache,
    metrics::Metrics,
    module_table::{MODULE_TABLE, ModuleRow},
    scheduler::{
        Arrivals, BatchLimits, BatchRunner, Batcher, BatcherSettings, DecoderBatcher,
        DecoderSettings, Expectation, ModuleMetrics,
    },
};

/// What the batchers are started with besides the module table.
pub struct BatchersSettings<'a> {
    /// The package's name: the `model` label of its batchers' metrics.
    pub model: &'a str,
    pub batching: &'a crate::config::BatchingArgs,
    pub max_queued: usize,
    pub cross_kv_cache_bytes: usize,
}

#[derive(Default)]
pub struct Batchers {
    pub vision: Option<Batcher<VisionRunner>>,
    pub text: Option<Batcher<TextRunner>>,
    pub fusion: Option<Batcher<FusionRunner>>,
    pub decoder: Option<DecoderBatcher>,
    pub heads: Option<Batcher<HeadsRunner>>,
    /// Each started module's expected arrivals, which requests announce themselves to.
    arrivals: BTreeMap<Module, Arrivals>,
}

impl Batchers {
    /// Starts a batcher for every module of the table the model loaded.
    pub fn start(
        model: &Model,
        settings: &BatchersSettings<'_>,
        metrics: &Metrics,
    ) -> std::io::Result<Batchers> {
        let mut batchers = Batchers::default();
        for row in &MODULE_TABLE {
            let started = match row.module {
                Module::Vision => start(
                    &mut batchers.vision,
                    model.vision.clone().map(VisionRunner),
                    row,
                    settings,
                    metrics,
                )?,
                Module::Text => start(
                    &mut batchers.text,
                    model.text.clone().map(TextRunner),
                    row,
                    settings,
                    metrics,
                )?,
                Module::Fusion => start(
                    &mut batchers.fusion,
                    model.fusion.clone().map(FusionRunner),
                    row,
                    settings,
                    metrics,
                )?,
                Module::Heads => start(
                    &mut batchers.heads,
                    model.heads.clone().map(HeadsRunner),
                    row,
                    settings,
                    metrics,
                )?,
                Module::Decoder => {
                    let batching = row.batching(settings.batching);
                    let decoder_settings = DecoderSettings {
                        max_requests: batching.max_batch_size,
                        max_beams: batching.max_batch_cost,
                        max_delay: batching.max_batch_delay,
                        max_queued: settings.max_queued,
                    };
                    batchers.decoder = model
                        .decoder
                        .clone()
                        .map(|decoder| {
                            let cache = CrossKvCache::new(
                                settings.cross_kv_cache_bytes,
                                settings.model,
                                metrics,
                            );
                            let metrics =
                                ModuleMetrics::new(metrics, row.module.name(), settings.model);
                            DecoderBatcher::spawn(decoder, decoder_settings, cache, metrics)
                        })
                        .transpose()?;
                    batchers.decoder.as_ref().map(DecoderBatcher::arrivals)
                }
            };
            if let Some(arrivals) = started {
                batchers.arrivals.insert(row.module, arrivals);
            }
        }
        Ok(batchers)
    }

    /// Registers a request that will use `module`; `None` when the package lacks it.
    pub fn expect(&self, module: Module) -> Option<Expectation> {
        self.arrivals.get(&module).map(Arrivals::expect)
    }
}

fn start<R: BatchRunner>(
    slot: &mut Option<Batcher<R>>,
    runner: Option<R>,
    row: &ModuleRow,
    settings: &BatchersSettings<'_>,
    metrics: &Metrics,
) -> std::io::Result<Option<Arrivals>> {
    let Some(runner) = runner else {
        return Ok(None);
    };
    let batching = row.batching(settings.batching);
    let batcher_settings = BatcherSettings {
        limits: BatchLimits {
            max_size: batching.max_batch_size,
            max_cost: batching.max_batch_cost,
            cost_rule: row.cost_rule,
        },
        max_delay: batching.max_batch_delay,
        max_queued: settings.max_queued,
    };
    let name = row.module.name();
    let batcher = Batcher::spawn(
        name,
        runner,
        batcher_settings,
        ModuleMetrics::new(metrics, name, settings.model),
    )?;
    let arrivals = batcher.arrivals();
    *slot = Some(batcher);
    Ok(Some(arrivals))
}
