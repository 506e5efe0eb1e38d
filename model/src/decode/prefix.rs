//! The longest common token prefix of hypotheses: what streaming may already send.

/// Length of the longest common prefix of `first` and each of `others`.
pub(crate) fn common_prefix_len<'a>(
    first: &[i64],
    others: impl IntoIterator<Item = &'a [i64]>,
) -> usize {
    others.into_iter().fold(first.len(), |len, other| {
        first[..len]
            .iter()
            .zip(other)
            .take_while(|(a, b)| a == b)
            .count()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_agreement_wins() {
        let a = [1, 2, 3, 4];
        assert_eq!(common_prefix_len(&a, []), 4);
        assert_eq!(common_prefix_len(&a, [&[1, 2, 3][..], &[1, 2, 9, 4]]), 2);
        assert_eq!(common_prefix_len(&a, [&[1, 2, 3, 4, 5][..]]), 4);
        assert_eq!(common_prefix_len(&a, [&[7][..], &[1, 2]]), 0);
        assert_eq!(common_prefix_len(&[], [&a[..]]), 0);
    }
}
