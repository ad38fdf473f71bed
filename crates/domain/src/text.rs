//! Text helpers for the hot loops of the import and the member reports.

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
    match b.first_chunk::<16>() {
        Some(head) => u128::from_be_bytes(*head),
        // A shorter text's short key, without the length in its lowest byte.
        None => short_key(b).map_or(0, |k| k & !0xff),
    }
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

/// A code of at most 15 bytes as one word: its bytes from the top, its
/// length in the lowest byte. Distinct codes give distinct words, which sort
/// as the codes do.
///
/// Made once per member-day of the RFM reports and once per line for its
/// category: a code of 8 to 15 bytes (the POS files' member codes and
/// category names) is read as two words that overlap, shifted into place,
/// instead of copied byte by byte into a zeroed word (a call to `memcpy`).
pub fn short_key(code: &[u8]) -> Option<u128> {
    let len = code.len();
    let word = |at: usize| u64::from_be_bytes(code[at..at + 8].try_into().unwrap_or([0; 8]));
    match len {
        8..=15 => {
            // The bytes after the first eight are the last `len - 8` of the
            // word that ends the code; shifted to the top of the low half
            // (out of it altogether for a code of eight bytes).
            let tail = word(len - 8).checked_shl(8 * (16 - len as u32)).unwrap_or(0);
            Some((u128::from(word(0)) << 64) | u128::from(tail) | len as u128)
        }
        0..8 => {
            let mut w = [0u8; 16];
            for (d, s) in w.iter_mut().zip(code) {
                *d = *s;
            }
            w[15] = len as u8;
            Some(u128::from_be_bytes(w))
        }
        _ => None,
    }
}

/// The code a [`short_key`] holds: the word's bytes and how many of them.
pub fn short_code(k: u128) -> ([u8; 16], usize) {
    let w = k.to_be_bytes();
    (w, usize::from(w[15]).min(15))
}

#[cfg(test)]
mod tests {
    use super::{prefix_key, same, short_code, short_key};

    fn text(k: u128) -> String {
        let (w, n) = short_code(k);
        String::from_utf8(w[..n].to_vec()).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn a_short_key_is_the_code_in_a_zeroed_word_with_its_length(
            code in proptest::collection::vec(proptest::num::u8::ANY, 0..18)
        ) {
            let want = (code.len() <= 15).then(|| {
                let mut w = [0u8; 16];
                w[..code.len()].copy_from_slice(&code);
                w[15] = code.len() as u8;
                u128::from_be_bytes(w)
            });
            proptest::prop_assert_eq!(short_key(&code), want);
            // A text's prefix key: its first 16 bytes, zero-padded.
            let text = String::from_utf8_lossy(&code);
            let mut padded = [0u8; 16];
            for (to, from) in padded.iter_mut().zip(text.as_bytes()) {
                *to = *from;
            }
            proptest::prop_assert_eq!(prefix_key(&text), u128::from_be_bytes(padded));
        }
    }

    #[test]
    fn short_codes_round_trip_through_their_word() {
        for code in ["M0171707", "", "会员12345", "a\0", "a", "123456789012345"] {
            assert_eq!(text(short_key(code.as_bytes()).unwrap()), code);
        }
        assert_ne!(short_key(b"a"), short_key(b"a\0"));
        assert_eq!(short_key(b"1234567890123456"), None);
        let mut codes = ["b", "a\0", "a", "ab", "M10", "M9", "会员", "Z"];
        let mut keys: Vec<u128> = codes.iter().map(|c| short_key(c.as_bytes()).unwrap()).collect();
        keys.sort_unstable();
        codes.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        assert_eq!(keys.into_iter().map(text).collect::<Vec<_>>(), codes, "keys sort as their codes' bytes");
    }

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
