//! How a sequence picks its tokens: the reference beam search, or sampling as Hugging Face
//! `generate(do_sample=True)` does it (temperature, then top-k, then top-p).

/// The decoding strategy of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Strategy {
    /// The official beam search (architecture note §4); `num_results` best hypotheses.
    #[default]
    Beam,
    /// `num_results` independent samples.
    Sample(Sampling),
}

/// Sampling settings. Validated by [`Sampling::validate`]; the sampler itself never panics on
/// values that fail it (a negative or NaN temperature is greedy, a `top_p` outside `(0, 1]` is 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// Logits are divided by it; 0 means greedy (the argmax, no random draw).
    pub temperature: f32,
    /// Nucleus: keep the smallest set of most likely tokens whose probability sums to at least
    /// `top_p` (at least one token); 1 keeps every token.
    pub top_p: f32,
    /// Keep the `top_k` most likely tokens (and any tied with the last); 0 keeps every token.
    pub top_k: usize,
    /// Seeds the sequence's random generator: a seed gives the same samples every time.
    pub seed: u64,
}

impl Default for Sampling {
    /// Plain sampling from the model's distribution, seed 0.
    fn default() -> Self {
        Sampling {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            seed: 0,
        }
    }
}

/// A sampling setting a request may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SamplingOption {
    /// At least 0.
    Temperature,
    /// Above 0, at most 1.
    TopP,
}

impl SamplingOption {
    /// The allowed range, in words.
    fn rule(self) -> &'static str {
        match self {
            SamplingOption::Temperature => "at least 0",
            SamplingOption::TopP => "above 0 and at most 1",
        }
    }
}

impl std::fmt::Display for SamplingOption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SamplingOption::Temperature => "temperature",
            SamplingOption::TopP => "top_p",
        })
    }
}

/// A sampling setting outside its range.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq)]
#[error("{what} must be {rule}, got {value}", rule = .what.rule())]
pub struct SamplingError {
    pub what: SamplingOption,
    pub value: f32,
}

impl Sampling {
    /// `temperature ≥ 0` and `0 < top_p ≤ 1` (NaN fails both).
    pub fn validate(&self) -> Result<(), SamplingError> {
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return Err(SamplingError {
                what: SamplingOption::Temperature,
                value: self.temperature,
            });
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(SamplingError {
                what: SamplingOption::TopP,
                value: self.top_p,
            });
        }
        Ok(())
    }

    /// Whether a draw is the argmax: temperature 0 (or invalid), or a single kept token.
    pub(crate) fn is_greedy(&self) -> bool {
        !(self.temperature > 0.0 && self.temperature.is_finite()) || self.top_k == 1
    }

    /// `top_p` as the sampler uses it: outside `(0, 1]` (unvalidated) keeps every token.
    pub(crate) fn nucleus(&self) -> f32 {
        if self.top_p > 0.0 && self.top_p < 1.0 {
            self.top_p
        } else {
            1.0
        }
    }
}

impl Strategy {
    /// Validates the sampling settings (the beam search has none).
    pub fn validate(&self) -> Result<(), SamplingError> {
        match self {
            Strategy::Beam => Ok(()),
            Strategy::Sample(sampling) => sampling.validate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(temperature: f32, top_p: f32) -> Sampling {
        Sampling {
            temperature,
            top_p,
            ..Sampling::default()
        }
    }

    #[test]
    fn valid_ranges_pass() {
        for (t, p) in [(0.0, 1.0), (0.7, 0.9), (2.0, 1e-6)] {
            assert_eq!(with(t, p).validate(), Ok(()), "t={t} p={p}");
        }
        assert_eq!(Strategy::Beam.validate(), Ok(()));
    }

    #[test]
    fn errors_name_the_field_and_value() {
        let error = with(-0.5, 1.0).validate().unwrap_err();
        assert_eq!(error.what, SamplingOption::Temperature);
        assert_eq!(
            error.to_string(),
            "temperature must be at least 0, got -0.5"
        );
        let error = with(1.0, 0.0).validate().unwrap_err();
        assert_eq!(
            error.to_string(),
            "top_p must be above 0 and at most 1, got 0"
        );
        let error = Strategy::Sample(with(1.0, 1.5)).validate().unwrap_err();
        assert_eq!(error.what, SamplingOption::TopP);
        assert!(with(f32::NAN, 1.0).validate().is_err());
        assert!(with(f32::INFINITY, 1.0).validate().is_err());
        assert!(with(1.0, f32::NAN).validate().is_err());
    }

    #[test]
    fn unvalidated_values_degrade_to_safe_ones() {
        assert!(with(0.0, 1.0).is_greedy());
        assert!(with(-1.0, 1.0).is_greedy());
        assert!(with(f32::NAN, 1.0).is_greedy());
        assert!(!with(0.5, 1.0).is_greedy());
        assert_eq!(with(1.0, 0.0).nucleus(), 1.0);
        assert_eq!(with(1.0, f32::NAN).nucleus(), 1.0);
        assert_eq!(with(1.0, 0.25).nucleus(), 0.25);
    }
}
