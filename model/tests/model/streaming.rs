//! Exact streaming and `n` results on the golden decodes: every golden caption and VQA search's
//! stable prefix only grows, is always a prefix of the reference tokens and ends equal to them
//! (members of a continuous batch joining at different steps); the `n` best results start with
//! the reference tokens.

use std::collections::HashSet;
use std::sync::Arc;

use crate::common::{decode_joining, demo_model};
use crate::parity_decode::cases;
use mplug2_model::decode::{DecodeBatch, DecodeParams, Search};

/// A run's successive stable prefixes (before the first step, then after each) against its
/// final tokens.
fn check_prefixes(label: &str, prefixes: &[Vec<i64>], result: &[i64]) {
    assert_eq!(prefixes[0], vec![101], "{label}: BOS before the first step");
    for pair in prefixes.windows(2) {
        assert!(
            pair[1].starts_with(&pair[0]),
            "{label}: shrank {prefixes:?}"
        );
    }
    for prefix in prefixes {
        assert!(
            result.starts_with(prefix),
            "{label}: {prefix:?} vs {result:?}"
        );
    }
    assert_eq!(prefixes.last().map(Vec::as_slice), Some(result), "{label}");
}

#[test]
fn the_stable_prefix_grows_into_the_reference_tokens() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    let cases = cases();
    let memories: Vec<_> = cases.iter().map(|c| c.memory.view()).collect();
    let crosses = decoder.cross_kv(&memories).unwrap();
    let sequences: Vec<_> = (cases.iter().zip(&crosses))
        .map(|(case, cross)| decoder.start(Arc::clone(cross), case.params))
        .collect();
    let mut prefixes: Vec<Vec<Vec<i64>>> = sequences
        .iter()
        .map(|s| vec![s.stable_prefix().to_vec()])
        .collect();
    let results = decode_joining(decoder, sequences, |batch| {
        for id in batch.ids() {
            let prefix = batch.get(id).unwrap().stable_prefix().to_vec();
            prefixes[id as usize].push(prefix);
        }
    });
    // Tokens streamed before the last step (not only at the end), over all cases.
    let mut early = 0;
    for ((case, prefixes), result) in cases.iter().zip(&prefixes).zip(results) {
        assert_eq!(result, vec![case.tokens.clone()], "{}", case.label);
        check_prefixes(&case.label, prefixes, &case.tokens);
        early += prefixes[prefixes.len() - 2].len() - 1;
    }
    assert!(early > 0, "some tokens are stable before the search ends");
}

#[test]
fn n_best_results_start_with_the_reference_and_are_ranked() {
    let decoder = demo_model().decoder.as_ref().unwrap();
    for case in cases() {
        let n = case.params.beam_size;
        let params = DecodeParams {
            num_results: n,
            ..case.params
        };
        let cross = decoder.cross_kv(&[case.memory.view()]).unwrap().remove(0);
        let mut batch = DecodeBatch::new();
        batch.add(0, decoder.start(cross, params));
        while !batch.get(0).unwrap().is_finished() {
            decoder.step(&mut batch).unwrap();
        }
        let Search::Beam(search) = batch.get(0).unwrap().search() else {
            panic!("{}: the default strategy is the beam search", case.label);
        };
        assert!(search.result_scores().windows(2).all(|w| w[0] >= w[1]));
        let (_, results) = batch.take_finished().remove(0);
        assert_eq!(results.len(), n, "{}", case.label);
        assert_eq!(results[0], case.tokens, "{}", case.label);
        let distinct: HashSet<&Vec<i64>> = results.iter().collect();
        assert_eq!(distinct.len(), n, "{}: {results:?}", case.label);
        assert!(results.iter().all(|r| r[0] == params.bos));
        // The convenience loop gives the same.
        let choices = decoder
            .generate_choices(&[case.memory.view()], &[params])
            .unwrap();
        assert_eq!(choices, vec![results], "{}", case.label);
    }
}
