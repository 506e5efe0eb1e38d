//! Sampling through the real decoder steps, on the golden memories: temperature 0 is the greedy
//! search; a seed gives the same samples alone and in a continuous batch shared with beam
//! searches and other samplers; samples stop at EOS (not before `min_length`) or `max_length`;
//! the stable prefix is the samples' common prefix.

use std::sync::Arc;

use crate::common::{decode_joining, demo_model};
use crate::parity_decode::cases;
use mplug2_model::decode::{DecodeParams, Sampling, Strategy};

fn sampled(params: DecodeParams, n: usize, sampling: Sampling) -> DecodeParams {
    DecodeParams {
        num_results: n,
        strategy: Strategy::Sample(sampling),
        ..params
    }
}

fn nucleus(seed: u64) -> Sampling {
    Sampling {
        temperature: 1.0,
        top_p: 0.9,
        top_k: 50,
        seed,
    }
}

#[test]
fn temperature_zero_is_the_greedy_search() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    for case in cases() {
        let greedy = DecodeParams {
            beam_size: 1,
            ..case.params
        };
        let expected = decoder
            .generate(&[case.memory.view()], &[greedy])
            .unwrap()
            .remove(0);
        let zero = Sampling {
            temperature: 0.0,
            ..nucleus(3)
        };
        let params = sampled(case.params, 2, zero);
        let samples = decoder
            .generate_choices(&[case.memory.view()], &[params])
            .unwrap()
            .remove(0);
        assert_eq!(samples, vec![expected.clone(), expected], "{}", case.label);
    }
}

/// Every case sampled (3 samples, its own seed) alone, then all of them in one continuous batch
/// with the cases' beam searches, joining one per step.
#[test]
fn a_seed_gives_the_same_samples_alone_and_in_a_shared_batch() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    let cases = cases();
    let params: Vec<DecodeParams> = (0..cases.len())
        .map(|i| sampled(cases[i].params, 3, nucleus(i as u64)))
        .collect();
    let alone: Vec<Vec<Vec<i64>>> = cases
        .iter()
        .zip(&params)
        .map(|(case, params)| {
            decoder
                .generate_choices(&[case.memory.view()], &[*params])
                .unwrap()
                .remove(0)
        })
        .collect();

    let memories: Vec<_> = cases.iter().map(|c| c.memory.view()).collect();
    let crosses = decoder.cross_kv(&memories).unwrap();
    // Case i's sampler is member 2i, its beam search member 2i + 1.
    let sequences: Vec<_> = (0..cases.len())
        .flat_map(|i| [params[i], cases[i].params].map(|p| (i, p)))
        .map(|(i, params)| decoder.start(Arc::clone(&crosses[i]), params))
        .collect();
    let mut prefixes = vec![Vec::new(); sequences.len()];
    let shared = decode_joining(decoder, sequences, |batch| {
        for id in batch.ids() {
            let prefix = batch.get(id).unwrap().stable_prefix().to_vec();
            prefixes[id as usize].push(prefix);
        }
    });
    for (i, case) in cases.iter().enumerate() {
        let (samples, beams) = (&shared[2 * i], &shared[2 * i + 1]);
        assert_eq!(samples, &alone[i], "{}: samples in a batch", case.label);
        assert_eq!(beams, &vec![case.tokens.clone()], "{}: beams", case.label);
        check_samples(&case.label, &params[i], samples);
        let stable = prefixes[2 * i].last().unwrap();
        let common = (0..)
            .take_while(|&k| {
                samples
                    .iter()
                    .all(|s| s.get(k).is_some() && s[k] == samples[0][k])
            })
            .count();
        assert_eq!(stable, &samples[0][..common], "{}", case.label);
        for pair in prefixes[2 * i].windows(2) {
            assert!(pair[1].starts_with(&pair[0]), "{}", case.label);
        }
    }
    // Sampling does sample: some case's samples differ from each other.
    assert!(alone.iter().any(|s| s.iter().any(|x| *x != s[0])));
}

#[test]
fn another_seed_gives_other_samples() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    let cases = cases();
    let case = &cases[0];
    let run = |seed| {
        decoder
            .generate_choices(
                &[case.memory.view()],
                &[sampled(case.params, 2, nucleus(seed))],
            )
            .unwrap()
            .remove(0)
    };
    let first = run(1);
    assert_eq!(first, run(1));
    assert!((2..6).map(run).all(|other| other != first));
}

/// BOS first; EOS only last and not before `min_length` steps; at most `max_length` steps.
fn check_samples(label: &str, params: &DecodeParams, samples: &[Vec<i64>]) {
    assert_eq!(samples.len(), params.num_results, "{label}");
    for sample in samples {
        assert_eq!(sample[0], params.bos, "{label}");
        let steps = sample.len() - 1;
        assert!(steps <= params.max_length, "{label}: {sample:?}");
        match sample.iter().position(|&t| t == params.eos) {
            Some(at) => {
                assert_eq!(at, steps, "{label}: EOS ends a sample");
                assert!(
                    steps > params.min_length,
                    "{label}: EOS at step {}",
                    steps - 1
                );
            }
            None => assert_eq!(steps, params.max_length, "{label}: {sample:?}"),
        }
    }
}
