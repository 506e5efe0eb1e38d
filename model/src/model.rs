//! A loaded model: every runner of a package, the preprocessors, and what it can serve.

use std::sync::Arc;

use ndarray::{Array1, Array2};

use crate::ModelError;
use crate::decode::{DecodeBatch, DecodeParams};
use crate::modules::{Decoder, Fusion, FusionInput, Heads, TextEncoder, VisionEncoder};
use crate::package::{GraphName, Package};
use crate::preprocess::{MediaLimits, PixelValues, Preprocessor};
use crate::runtime::{ExecutionProvider, Graph, Runtime, RuntimeConfig};
use crate::tasks::{Task, TaskContext};
use crate::text::TextProcessor;

/// Every runner of a package; each is `Send + Sync` and can be driven from its own thread.
#[derive(Debug)]
pub struct Model {
    pub vision: Option<Arc<VisionEncoder>>,
    pub text: Option<Arc<TextEncoder>>,
    pub fusion: Option<Arc<Fusion>>,
    pub decoder: Option<Arc<Decoder>>,
    pub heads: Option<Arc<Heads>>,
    pub preprocessor: Arc<Preprocessor>,
    pub text_processor: Arc<TextProcessor>,
    package: Package,
    tasks: Vec<Task>,
    provider: ExecutionProvider,
    runtime: Runtime,
}

/// Modules of models already loaded that a new package may take instead of loading its own.
struct Sharing<'a> {
    package: &'a Package,
    loaded: &'a [&'a Model],
}

impl Sharing<'_> {
    /// A loaded model's module whose graphs all have this package's sha256s.
    fn find<M>(
        &self,
        graphs: &[GraphName],
        module: impl Fn(&Model) -> Option<&Arc<M>>,
    ) -> Option<Arc<M>> {
        if graphs.is_empty() {
            return None;
        }
        let digests = |package: &Package| -> Option<Vec<String>> {
            graphs
                .iter()
                .map(|graph| package.graph_digest(*graph))
                .collect()
        };
        let mine = digests(self.package)?;
        self.loaded.iter().find_map(|other| {
            let same = digests(&other.package).is_some_and(|theirs| theirs == mine);
            same.then(|| module(other).cloned()).flatten()
        })
    }

    fn or_load<M>(
        &self,
        graphs: &[GraphName],
        module: impl Fn(&Model) -> Option<&Arc<M>>,
        load: impl FnOnce() -> Result<M, ModelError>,
    ) -> Result<Arc<M>, ModelError> {
        match self.find(graphs, module) {
            Some(shared) => {
                tracing::info!(graphs = ?graphs, "graphs shared with a package already loaded");
                Ok(shared)
            }
            None => load().map(Arc::new),
        }
    }
}

/// What to load beyond what serving needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Also load `decoder_full` (parity tests and the KV-cache benchmark).
    pub decoder_full: bool,
}

impl Model {
    /// Loads the graphs of every task the package can serve, on the configured runtime.
    pub fn load(
        package: Package,
        runtime: &RuntimeConfig,
        limits: MediaLimits,
    ) -> Result<Model, ModelError> {
        Self::load_with(package, runtime, limits, LoadOptions::default())
    }

    pub fn load_with(
        package: Package,
        runtime: &RuntimeConfig,
        limits: MediaLimits,
        options: LoadOptions,
    ) -> Result<Model, ModelError> {
        Self::load_sharing(package, runtime, limits, options, &[])
    }

    /// Loads a package, taking each module whose graphs are byte-identical (the same sha256) to
    /// one of `loaded`'s from it instead of loading them again: packages exported from one
    /// checkpoint share their graphs.
    pub fn load_sharing(
        package: Package,
        runtime: &RuntimeConfig,
        limits: MediaLimits,
        options: LoadOptions,
        loaded: &[&Model],
    ) -> Result<Model, ModelError> {
        let runtime = Runtime::new(runtime)?;
        let tasks = package.tasks();
        let needs = |graph: GraphName| tasks.iter().any(|task| task.graphs().contains(&graph));
        let share = Sharing {
            package: &package,
            loaded,
        };
        let vision = needs(GraphName::Vision)
            .then(|| {
                share.or_load(
                    &[GraphName::Vision],
                    |m| m.vision.as_ref(),
                    || VisionEncoder::load(&runtime, &package),
                )
            })
            .transpose()?;
        let text = needs(GraphName::TextEncoder)
            .then(|| {
                share.or_load(
                    &[GraphName::TextEncoder],
                    |m| m.text.as_ref(),
                    || TextEncoder::load(&runtime, &package),
                )
            })
            .transpose()?;
        let fusion = needs(GraphName::Fusion)
            .then(|| {
                share.or_load(
                    &[GraphName::Fusion],
                    |m| m.fusion.as_ref(),
                    || Fusion::load(&runtime, &package),
                )
            })
            .transpose()?;
        let decoder_graphs: &[GraphName] = if options.decoder_full {
            &[
                GraphName::DecoderCrossKv,
                GraphName::DecoderStep,
                GraphName::DecoderFull,
            ]
        } else {
            &[GraphName::DecoderCrossKv, GraphName::DecoderStep]
        };
        let decoder = needs(GraphName::DecoderStep)
            .then(|| {
                share.or_load(
                    decoder_graphs,
                    |m| m.decoder.as_ref(),
                    || Decoder::load(&runtime, &package, options.decoder_full),
                )
            })
            .transpose()?;
        let head_graphs: Vec<GraphName> = [
            GraphName::HeadsVision,
            GraphName::HeadsText,
            GraphName::HeadsItm,
        ]
        .into_iter()
        .filter(|graph| package.has_graph(*graph))
        .collect();
        let heads = match share.find(&head_graphs, |m| m.heads.as_ref()) {
            Some(heads) => Some(heads),
            None => Heads::load(&runtime, &package)?.map(Arc::new),
        };
        let manifest = package.manifest();
        let preprocessor = Arc::new(Preprocessor::new(&manifest.preprocess, limits));
        let text_processor = Arc::new(TextProcessor::load(
            &package.tokenizer_path(),
            &manifest.text,
        )?);
        let mut model = Model {
            vision,
            text,
            fusion,
            decoder,
            heads,
            preprocessor,
            text_processor,
            package,
            tasks,
            provider: ExecutionProvider::Cpu,
            runtime,
        };
        let provider = model
            .graphs()
            .next()
            .map_or(ExecutionProvider::Cpu, Graph::provider);
        model.provider = provider;
        tracing::info!(
            model = %model.package.manifest().model.name,
            dtype = %model.package.manifest().model.dtype,
            provider = %model.provider,
            tasks = ?model.tasks.iter().map(|t| t.name()).collect::<Vec<_>>(),
            "model loaded"
        );
        Ok(model)
    }

    pub fn package(&self) -> &Package {
        &self.package
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The tasks this model serves.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The execution provider the sessions use.
    pub fn provider(&self) -> ExecutionProvider {
        self.provider
    }

    /// Every loaded graph.
    pub fn graphs(&self) -> impl Iterator<Item = &Graph> {
        let vision = self.vision.iter().map(|v| v.graph());
        let text = self.text.iter().map(|t| t.graph());
        let fusion = self.fusion.iter().map(|f| f.graph());
        let decoder = self.decoder.iter().flat_map(|d| d.graphs());
        let heads = self.heads.iter().flat_map(|h| h.graphs());
        vision.chain(text).chain(fusion).chain(decoder).chain(heads)
    }

    /// The settings the task pipelines read (decoding per task, prompts, classify template).
    pub fn task_context(&self) -> TaskContext {
        TaskContext::new(
            self.package.manifest(),
            Arc::clone(&self.text_processor),
            self.tasks.clone(),
        )
    }

    /// Runs every loaded graph once on a minimal input (first-run allocations, kernel selection).
    pub fn warmup(&self) -> Result<(), ModelError> {
        let manifest = self.package.manifest();
        let width = manifest.config.text.hidden_size;
        let size = manifest.preprocess.image_size;
        let cls = manifest.text.special_tokens.cls;
        let pixels = PixelValues::from_array(ndarray::Array4::zeros((3, 1, size, size)))
            .expect("a [3, 1, S, S] array");
        let vision_embeds = match &self.vision {
            Some(vision) => vision.run(&[&pixels])?.remove(0),
            None => Array2::zeros((1, width)),
        };
        let text_embeds = match &self.text {
            Some(text) => text.run(&[&[cls]])?.remove(0),
            None => Array2::zeros((1, width)),
        };
        if let Some(fusion) = &self.fusion {
            fusion.run(&[FusionInput {
                text: &text_embeds,
                vision: &vision_embeds,
            }])?;
        }
        if let Some(decoder) = &self.decoder {
            let params = DecodeParams::from_manifest(&manifest.decoding.caption);
            let cross = decoder.cross_kv(&[vision_embeds.view()])?.remove(0);
            let mut batch = DecodeBatch::new();
            batch.add(0, decoder.start(cross, params));
            decoder.step(&mut batch)?;
            if decoder.full_graph().is_some() {
                decoder.full_logits(&[vec![params.bos]], &[vision_embeds.view()])?;
            }
        }
        if let Some(heads) = &self.heads {
            let row = Array1::<f32>::zeros(width);
            if heads.has(GraphName::HeadsVision) {
                heads.vision(&[row.view()])?;
            }
            if heads.has(GraphName::HeadsText) {
                heads.text(&[row.view()])?;
            }
            if heads.has(GraphName::HeadsItm) {
                heads.itm(&[row.view()])?;
            }
        }
        Ok(())
    }
}
