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
}
