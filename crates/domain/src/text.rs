//! Text helpers for the hot loops of the import.

/// `a == b` for short text (a POS line's codes, a category name), without a
/// call into the C library's `memcmp` per compare (the import's hot loop
/// makes several per line).
#[inline]
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("eight bytes"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("four bytes"));
    match n {
        0..4 => a == b,
        4..8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=32 => {
            let mut at = 0;
            while at + 8 < n {
                if word(a, at) != word(b, at) {
                    return false;
                }
                at += 8;
            }
            word(a, n - 8) == word(b, n - 8)
        }
        _ => a == b,
    }
}

/// The first 16 bytes of `s` as one big-endian integer, zero-padded. Keys
/// compare as the texts' bytes do up to the first tie: two texts whose keys
/// differ are in the order of their keys, and only texts whose keys are
/// equal need comparing in full ([`sorted_by_name`]).
pub fn prefix_key(s: &str) -> u128 {
    let b = s.as_bytes();
    if let Some(head) = b.first_chunk::<16>() {
        return u128::from_be_bytes(*head);
    }
    let mut w = [0u8; 16];
    for (to, from) in w.iter_mut().zip(b) {
        *to = *from;
    }
    u128::from_be_bytes(w)
}

/// Named entries sorted by name in byte order. Sorting a store-day's members
/// and categories by their names compared in full cost a `memcmp` call per
/// comparison: here a name's prefix is compared as one integer, the whole
/// name only when prefixes tie.
pub fn sorted_by_name<'a, T>(items: impl Iterator<Item = (&'a str, T)>) -> impl ExactSizeIterator<Item = (&'a str, T)> {
    let mut keyed: Vec<(u128, &'a str, T)> = items.map(|(s, t)| (prefix_key(s), s, t)).collect();
    keyed.sort_unstable_by(|x, y| x.0.cmp(&y.0).then_with(|| x.1.as_bytes().cmp(y.1.as_bytes())));
    keyed.into_iter().map(|(_, s, t)| (s, t))
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn codes_compare_as_the_standard_library_compares_them() {
        let base = "S0001-20241101-000001-处方药-P000123-M0171707";
        for n in 0..=base.len() {
            let Some(a) = base.get(..n) else { continue };
            assert!(same(a, a), "{a:?}");
            for at in 0..n {
                // The same length, one byte changed at every place in turn.
                let mut b = a.as_bytes().to_vec();
                b[at] ^= 1;
                if let Ok(b) = std::str::from_utf8(&b) {
                    assert_eq!(same(a, b), a == b, "{a:?} / {b:?}");
                    assert!(!same(a, b), "{a:?} / {b:?}");
                }
            }
            if n > 0 {
                assert!(!same(a, &base[..0]), "lengths differ");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn names_sort_as_their_bytes(names in proptest::collection::vec("[ab\\x00会]{0,20}", 0..40)) {
            let got: Vec<&str> = super::sorted_by_name(names.iter().map(|n| (n.as_str(), ()))).map(|e| e.0).collect();
            let mut want: Vec<&str> = names.iter().map(String::as_str).collect();
            want.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            proptest::prop_assert_eq!(got, want);
        }
    }
}
