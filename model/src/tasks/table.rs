//! The task table: the one place that says which modules and graphs each task needs.

use std::fmt;
use std::str::FromStr;

use crate::package::GraphName;

/// A task the server can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Task {
    Caption,
    Vqa,
    EmbedImage,
    EmbedVideo,
    EmbedText,
    Match,
    Classify,
}

/// A module (one batcher each in the server; also the metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Module {
    Vision,
    Text,
    Fusion,
    Decoder,
    Heads,
}

impl Task {
    pub const ALL: [Task; 7] = [
        Task::Caption,
        Task::Vqa,
        Task::EmbedImage,
        Task::EmbedVideo,
        Task::EmbedText,
        Task::Match,
        Task::Classify,
    ];

    /// The name used in the manifest's `tasks` list and in the API.
    pub fn name(self) -> &'static str {
        match self {
            Task::Caption => "caption",
            Task::Vqa => "vqa",
            Task::EmbedImage => "embed_image",
            Task::EmbedVideo => "embed_video",
            Task::EmbedText => "embed_text",
            Task::Match => "match",
            Task::Classify => "classify",
        }
    }

    /// The modules a request of this task passes through, in order.
    pub fn modules(self) -> &'static [Module] {
        use Module::*;
        match self {
            Task::Caption => &[Vision, Decoder],
            Task::Vqa => &[Vision, Text, Fusion, Decoder],
            Task::EmbedImage | Task::EmbedVideo => &[Vision, Heads],
            Task::EmbedText => &[Text, Heads],
            Task::Match => &[Vision, Text, Fusion, Heads],
            Task::Classify => &[Vision, Text, Heads],
        }
    }

    /// The modules requests of these tasks pass through together, in `Module::ALL` order.
    pub fn modules_of(tasks: &[Task]) -> Vec<Module> {
        Module::ALL
            .into_iter()
            .filter(|module| tasks.iter().any(|task| task.modules().contains(module)))
            .collect()
    }

    /// The graphs the package must hold for this task.
    pub fn graphs(self) -> &'static [GraphName] {
        use GraphName::*;
        match self {
            Task::Caption => &[Vision, DecoderCrossKv, DecoderStep],
            Task::Vqa => &[Vision, TextEncoder, Fusion, DecoderCrossKv, DecoderStep],
            Task::EmbedImage | Task::EmbedVideo => &[Vision, HeadsVision],
            Task::EmbedText => &[TextEncoder, HeadsText],
            Task::Match => &[Vision, TextEncoder, Fusion, HeadsItm],
            Task::Classify => &[Vision, TextEncoder, HeadsVision, HeadsText],
        }
    }

    /// Classify divides cosine similarities by the checkpoint's `temp`, from `config.heads`.
    pub fn needs_heads_config(self) -> bool {
        matches!(self, Task::Classify)
    }
}

impl Module {
    pub const ALL: [Module; 5] = [
        Module::Vision,
        Module::Text,
        Module::Fusion,
        Module::Decoder,
        Module::Heads,
    ];

    /// Metric label and log name.
    pub fn name(self) -> &'static str {
        match self {
            Module::Vision => "vision",
            Module::Text => "text",
            Module::Fusion => "fusion",
            Module::Decoder => "decoder",
            Module::Heads => "heads",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Task {
    type Err = String;

    fn from_str(name: &str) -> Result<Task, String> {
        Task::ALL
            .into_iter()
            .find(|task| task.name() == name)
            .ok_or_else(|| format!("unknown task `{name}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_module_has_a_graph_and_names_round_trip() {
        for task in Task::ALL {
            assert_eq!(task.name().parse::<Task>().unwrap(), task);
            assert!(!task.graphs().is_empty());
            assert!(!task.modules().is_empty());
        }
        assert!("summarize".parse::<Task>().is_err());
    }

    #[test]
    fn modules_of_several_tasks_is_their_union_in_module_order() {
        use Module::*;
        assert_eq!(
            Task::modules_of(&[Task::EmbedText, Task::EmbedImage]),
            vec![Vision, Text, Heads]
        );
        assert_eq!(Task::modules_of(&[Task::Caption]), vec![Vision, Decoder]);
        assert!(Task::modules_of(&[]).is_empty());
    }

    #[test]
    fn vqa_needs_fusion_but_caption_does_not() {
        assert!(Task::Vqa.graphs().contains(&GraphName::Fusion));
        assert!(!Task::Caption.graphs().contains(&GraphName::Fusion));
        assert!(!Task::Caption.modules().contains(&Module::Fusion));
    }
}
