use std::fmt;

/// The graphs a package may hold, under their fixed manifest names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GraphName {
    Vision,
    TextEncoder,
    Fusion,
    DecoderCrossKv,
    DecoderStep,
    DecoderFull,
    HeadsVision,
    HeadsText,
    HeadsItm,
}

impl GraphName {
    pub const ALL: [GraphName; 9] = [
        GraphName::Vision,
        GraphName::TextEncoder,
        GraphName::Fusion,
        GraphName::DecoderCrossKv,
        GraphName::DecoderStep,
        GraphName::DecoderFull,
        GraphName::HeadsVision,
        GraphName::HeadsText,
        GraphName::HeadsItm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GraphName::Vision => "vision",
            GraphName::TextEncoder => "text_encoder",
            GraphName::Fusion => "fusion",
            GraphName::DecoderCrossKv => "decoder_cross_kv",
            GraphName::DecoderStep => "decoder_step",
            GraphName::DecoderFull => "decoder_full",
            GraphName::HeadsVision => "heads_vision",
            GraphName::HeadsText => "heads_text",
            GraphName::HeadsItm => "heads_itm",
        }
    }
}

impl fmt::Display for GraphName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
