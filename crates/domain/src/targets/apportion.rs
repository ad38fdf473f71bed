//! Largest-remainder apportionment (最大余数法): splitting a whole amount into
//! parts in proportion to weights so that the parts add up to the whole
//! exactly, to the fen, whatever the rounding.

/// Splits `total` into `weights.len()` parts proportional to `weights`.
///
/// Each part is the exact quota `total × w / Σw` rounded down, and the fen
/// left over go one each to the parts with the largest remainders (ties to
/// the earlier part), so the parts sum to `total` and each is within one fen
/// of its quota. When every weight is zero the split is equal. A negative
/// total is split as its magnitude and negated. Weights must not be negative.
pub fn apportion(total: i64, weights: &[i128]) -> Vec<i64> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    debug_assert!(weights.iter().all(|&w| w >= 0), "weights must not be negative");
    let sum: i128 = weights.iter().sum();
    let equal;
    let (weights, sum) = if sum <= 0 {
        equal = vec![1i128; n];
        (&equal[..], n as i128)
    } else {
        (weights, sum)
    };
    let magnitude = i128::from(total).abs();
    let mut parts = Vec::with_capacity(n);
    let mut remainders = Vec::with_capacity(n);
    let mut given: i128 = 0;
    for (i, &w) in weights.iter().enumerate() {
        let exact = magnitude * w;
        let q = exact / sum;
        given += q;
        parts.push(q);
        remainders.push((exact % sum, i));
    }
    let left = (magnitude - given) as usize;
    if left > 0 {
        // Largest remainder first; among equals, the earlier part.
        remainders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, i) in &remainders[..left] {
            parts[i] += 1;
        }
    }
    let sign = if total < 0 { -1 } else { 1 };
    parts.into_iter().map(|p| sign * p as i64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn leftover_fen_go_to_the_largest_remainders() {
        assert_eq!(apportion(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(apportion(10, &[1, 2, 3, 4]), vec![1, 2, 3, 4]);
        assert_eq!(apportion(7, &[5, 3]), vec![4, 3]); // 4.375 and 2.625
        assert_eq!(apportion(-100, &[1, 1, 1]), vec![-34, -33, -33]);
        assert_eq!(apportion(5, &[0, 0]), vec![3, 2]);
        assert_eq!(apportion(5, &[0, 7]), vec![0, 5]);
        assert!(apportion(5, &[]).is_empty());
    }

    proptest! {
        #[test]
        fn parts_sum_to_the_total_and_stay_within_a_fen_of_their_quota(
            total in -1_000_000_000_000_000i64..1_000_000_000_000_000,
            weights in prop::collection::vec(0i128..1_000_000_000_000_000, 1..40),
        ) {
            let parts = apportion(total, &weights);
            prop_assert_eq!(parts.len(), weights.len());
            prop_assert_eq!(parts.iter().map(|&p| i128::from(p)).sum::<i128>(), i128::from(total));
            let sum: i128 = weights.iter().sum();
            if sum > 0 {
                for (p, w) in parts.iter().zip(&weights) {
                    // |part × Σw − total × w| < Σw
                    let diff = i128::from(*p) * sum - i128::from(total) * w;
                    prop_assert!(diff.abs() < sum, "part {} off its quota", p);
                }
            }
        }
    }
}
