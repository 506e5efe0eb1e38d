use super::{SamplingError, Strategy};
use crate::package::TaskDecoding;

/// Decoding settings for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeParams {
    /// Beams of the beam search (unused by sampling).
    pub beam_size: usize,
    /// EOS is masked (log-prob −1e20) while `step < min_length`.
    pub min_length: usize,
    /// Decoding steps; every beam counts as finished after this many.
    pub max_length: usize,
    /// α of the GNMT penalty `((5 + step + 1) / 6)^α` (beam search).
    pub length_penalty: f32,
    pub bos: i64,
    pub eos: i64,
    /// Results wanted (`n`): the best hypotheses of the beam search (at most `beam_size`), or
    /// independent samples. 1 by default.
    pub num_results: usize,
    /// Beam search (default) or sampling.
    pub strategy: Strategy,
}

impl DecodeParams {
    pub fn from_manifest(decoding: &TaskDecoding) -> DecodeParams {
        DecodeParams {
            beam_size: decoding.beam_size,
            min_length: decoding.min_length,
            max_length: decoding.max_length,
            length_penalty: decoding.length_penalty,
            bos: decoding.bos_token_id,
            eos: decoding.eos_token_id,
            num_results: 1,
            strategy: Strategy::Beam,
        }
    }
}

/// Per-request changes to a task's decoding settings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DecodeOverrides {
    pub beam_size: Option<usize>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// `n`: results wanted.
    pub num_results: Option<usize>,
    /// Sampling instead of the package's beam search (its settings are checked by
    /// `DecodeParams::validate`, not by `with_overrides`).
    pub strategy: Option<Strategy>,
}

/// Bounds on what a request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_beam_size: usize,
    pub max_length: usize,
}

impl DecodeLimits {
    /// The defaults, also the server's flag defaults.
    pub const DEFAULT: DecodeLimits = DecodeLimits {
        max_beam_size: 10,
        max_length: 64,
    };
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits::DEFAULT
    }
}

/// A decoding option a request may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeOption {
    /// Bounded by `DecodeLimits::max_beam_size`.
    BeamSize,
    /// Bounded by `DecodeLimits::max_length`.
    MaxLength,
    /// Bounded by the request's `max_length`.
    MinLength,
    /// `n`, the results wanted: bounded by the request's `beam_size` for the beam search, by
    /// `DecodeLimits::max_beam_size` for sampling (each sample is a row, like a beam).
    NumResults,
}

impl std::fmt::Display for DecodeOption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecodeOption::BeamSize => "beam_size",
            DecodeOption::MaxLength => "max_length",
            DecodeOption::MinLength => "min_length",
            DecodeOption::NumResults => "n",
        })
    }
}

/// A request's override outside the allowed range.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{what} must be between {min} and {max}, got {value}")]
pub struct OverrideError {
    pub what: DecodeOption,
    pub min: usize,
    pub max: usize,
    pub value: usize,
}

impl DecodeParams {
    /// Applies overrides, checking each against the limits. `n` is checked whether overridden
    /// or not, against the strategy in force after the overrides.
    pub fn with_overrides(
        mut self,
        overrides: DecodeOverrides,
        limits: DecodeLimits,
    ) -> Result<DecodeParams, OverrideError> {
        let check = |what, min, max, value| {
            if value < min || value > max {
                Err(OverrideError {
                    what,
                    min,
                    max,
                    value,
                })
            } else {
                Ok(value)
            }
        };
        if let Some(beam) = overrides.beam_size {
            self.beam_size = check(DecodeOption::BeamSize, 1, limits.max_beam_size, beam)?;
        }
        if let Some(max_length) = overrides.max_length {
            self.max_length = check(DecodeOption::MaxLength, 1, limits.max_length, max_length)?;
        }
        if let Some(min_length) = overrides.min_length {
            self.min_length = check(DecodeOption::MinLength, 0, self.max_length, min_length)?;
        }
        if let Some(strategy) = overrides.strategy {
            self.strategy = strategy;
        }
        let most_results = match self.strategy {
            Strategy::Beam => self.beam_size,
            Strategy::Sample(_) => limits.max_beam_size,
        };
        let n = overrides.num_results.unwrap_or(self.num_results);
        self.num_results = check(DecodeOption::NumResults, 1, most_results, n)?;
        Ok(self)
    }

    /// The sampling settings' ranges (`temperature ≥ 0`, `0 < top_p ≤ 1`); the beam search
    /// has nothing to check. The task pipelines run it after `with_overrides`.
    pub fn validate(&self) -> Result<(), SamplingError> {
        self.strategy.validate()
    }

    /// Rows a sequence with these settings feeds to each decoder step: the beams, or the samples.
    pub fn rows(&self) -> usize {
        match self.strategy {
            Strategy::Beam => self.beam_size.max(1),
            Strategy::Sample(_) => self.num_results.max(1),
        }
    }

    /// The GNMT length penalty at a step, as the reference computes it (float64, used as float32).
    pub fn penalty(&self, step: usize) -> f32 {
        ((5.0 + (step + 1) as f64) / 6.0).powf(self.length_penalty as f64) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caption() -> DecodeParams {
        DecodeParams {
            beam_size: 5,
            min_length: 4,
            max_length: 20,
            length_penalty: 0.6,
            bos: 101,
            eos: 102,
            num_results: 1,
            strategy: Strategy::Beam,
        }
    }

    #[test]
    fn overrides_apply_within_limits() {
        let limits = DecodeLimits::default();
        let params = caption()
            .with_overrides(
                DecodeOverrides {
                    beam_size: Some(1),
                    min_length: Some(2),
                    max_length: Some(8),
                    ..Default::default()
                },
                limits,
            )
            .unwrap();
        assert_eq!(
            (params.beam_size, params.min_length, params.max_length),
            (1, 2, 8)
        );
    }

    #[test]
    fn overrides_outside_limits_name_the_field_and_value() {
        let limits = DecodeLimits::default();
        let error = caption()
            .with_overrides(
                DecodeOverrides {
                    beam_size: Some(11),
                    ..Default::default()
                },
                limits,
            )
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "beam_size must be between 1 and 10, got 11"
        );
        let error = caption()
            .with_overrides(
                DecodeOverrides {
                    min_length: Some(30),
                    ..Default::default()
                },
                limits,
            )
            .unwrap_err();
        assert_eq!(error.what, DecodeOption::MinLength);
        assert_eq!(error.max, 20);
    }

    #[test]
    fn penalty_is_gnmt() {
        let params = caption();
        assert_eq!(params.penalty(0), 1.0);
        assert!((params.penalty(1) - (7.0f64 / 6.0).powf(0.6) as f32).abs() < 1e-7);
    }

    #[test]
    fn n_is_bounded_by_the_beams_or_for_sampling_by_the_beam_limit() {
        let limits = DecodeLimits::default();
        let n = |num_results, beam_size, strategy| {
            caption().with_overrides(
                DecodeOverrides {
                    num_results: Some(num_results),
                    beam_size,
                    strategy,
                    ..Default::default()
                },
                limits,
            )
        };
        assert_eq!(n(5, None, None).unwrap().num_results, 5);
        let error = n(6, None, None).unwrap_err();
        assert_eq!(error.to_string(), "n must be between 1 and 5, got 6");
        assert_eq!(error.what, DecodeOption::NumResults);
        // The request's own beam size bounds it.
        assert_eq!(n(3, Some(2), None).unwrap_err().max, 2);
        assert_eq!(n(0, None, None).unwrap_err().min, 1);
        let sample = Some(Strategy::Sample(crate::decode::Sampling::default()));
        let params = n(8, Some(1), sample).unwrap();
        assert_eq!((params.num_results, params.rows()), (8, 8));
        assert_eq!(n(11, None, sample).unwrap_err().max, 10);
        // Without an `n` override the package's 1 stays, and beam rows are the beams.
        let params = caption()
            .with_overrides(DecodeOverrides::default(), limits)
            .unwrap();
        assert_eq!((params.num_results, params.rows()), (1, 5));
        assert_eq!(params.strategy, Strategy::Beam);
    }

    #[test]
    fn validate_checks_the_sampling_settings() {
        assert!(caption().validate().is_ok());
        let params = DecodeParams {
            strategy: Strategy::Sample(crate::decode::Sampling {
                top_p: 0.0,
                ..Default::default()
            }),
            ..caption()
        };
        assert_eq!(
            params.validate().unwrap_err().to_string(),
            "top_p must be above 0 and at most 1, got 0"
        );
    }
}
