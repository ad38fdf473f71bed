//! Whether the lines of each ticket are together (REPORTS.md §1: all lines of
//! one ticket are contiguous): a ticket number met again after other tickets
//! refuses the file.
//!
//! The plain check keeps a set of every number seen, one random insert per
//! ticket (4 M at 10 M lines, a set of 64 MB). Most files never need it: a
//! number can only come again if the file's order allows it, and two orders
//! rule it out, checked chunk by chunk in file order:
//!
//! - every number greater (in byte order) than the one before: a file sorted
//!   by ticket;
//! - within each store, every number greater than the store's one before, and
//!   the stores' ranges of numbers (lowest to highest) apart: a file sorted
//!   by time or by day and store, whose tickets carry their store's code.
//!
//! While either holds, the numbers' hashes are only kept; the moment both
//! fail, the set is built from them and every later number is looked up.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hasher};
use std::ops::Bound::{Excluded, Included, Unbounded};
use std::ops::Range;

use rustc_hash::{FxHashMap, FxHashSet};

use opsdesk_domain::text::same;

/// One chunk's runs of lines with one ticket number, in file order, as its
/// worker met them.
#[derive(Default)]
pub(crate) struct ChunkRuns {
    /// Each run: its number's hash, its first line, and where its number
    /// lies in `text`.
    runs: Vec<(u64, u64, Range<usize>)>,
    text: String,
    /// Each run's number is greater than the one before.
    ascending: bool,
    /// The runs by the store text of their first line.
    stores: Vec<StoreRuns>,
    store_at: FxHashMap<String, usize>,
    last_store: usize,
}

/// A chunk's runs of one store.
struct StoreRuns {
    store: String,
    first: Range<usize>,
    last: Range<usize>,
    /// Each run's number is greater than the store's one before.
    ascending: bool,
}

impl ChunkRuns {
    pub(crate) fn new() -> ChunkRuns {
        ChunkRuns { ascending: true, ..ChunkRuns::default() }
    }

    /// Notes a line of `ticket` at `store` (as the file spells them).
    #[inline]
    pub(crate) fn line(&mut self, ticket: &str, store: &str, line: u64) {
        let last = self.runs.last().map(|r| &self.text[r.2.clone()]);
        if last.is_some_and(|t| same(t, ticket)) {
            return;
        }
        self.ascending &= last.is_none_or(|t| t < ticket);
        let at = self.text.len();
        self.text.push_str(ticket);
        let number = at..self.text.len();
        self.runs.push((ticket_hash(ticket), line, number.clone()));
        // Runs of one store mostly follow each other.
        let g = match self.stores.get(self.last_store) {
            Some(s) if same(&s.store, store) => self.last_store,
            _ => match self.store_at.get(store) {
                Some(&g) => g,
                None => {
                    self.last_store = self.stores.len();
                    self.store_at.insert(store.to_string(), self.stores.len());
                    let (first, last) = (number.clone(), number);
                    self.stores.push(StoreRuns { store: store.to_string(), first, last, ascending: true });
                    return;
                }
            },
        };
        self.last_store = g;
        let s = &mut self.stores[g];
        s.ascending &= self.text[s.last.clone()] < *ticket;
        s.last = number;
    }

    fn number(&self, r: &Range<usize>) -> &str {
        &self.text[r.clone()]
    }
}

fn ticket_hash(no: &str) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(no.as_bytes());
    h.finish()
}

/// The merging thread's side: takes each chunk's runs in file order.
pub(crate) struct TicketCheck {
    /// Every number so far greater than the one before; the highest.
    ascending: bool,
    highest: Option<String>,
    /// Every store's numbers so far rising, their ranges apart.
    by_store: bool,
    ranges: StoreRanges,
    /// The numbers' hashes while an order proves them unique; then the set.
    kept: Vec<u64>,
    seen: Option<FxHashSet<u64>>,
    /// The set's expected size, so that it does not grow by rehashing.
    expected: usize,
}

impl TicketCheck {
    /// For a file of `size` bytes (about one ticket per 256 bytes of a POS export).
    pub(crate) fn new(size: u64) -> TicketCheck {
        TicketCheck {
            ascending: true,
            highest: None,
            by_store: true,
            ranges: StoreRanges::default(),
            kept: Vec::new(),
            seen: None,
            expected: usize::try_from(size / 256).unwrap_or(0),
        }
    }

    /// Takes the chunk's runs; calls `repeated(line, number)` for each run
    /// whose number came earlier in the file.
    pub(crate) fn chunk(&mut self, c: &ChunkRuns, mut repeated: impl FnMut(u64, &str)) {
        if self.seen.is_none() {
            if self.ascending {
                let first = c.runs.first().map(|r| c.number(&r.2));
                self.ascending = c.ascending && first.is_none_or(|f| self.highest.as_deref().is_none_or(|h| h < f));
                if let (true, Some(last)) = (self.ascending, c.runs.last()) {
                    self.highest = Some(c.number(&last.2).to_string());
                }
            }
            if self.by_store {
                let ranges = &mut self.ranges;
                self.by_store = c
                    .stores
                    .iter()
                    .all(|s| s.ascending && ranges.extend(&s.store, c.number(&s.first), c.number(&s.last)));
            }
            if self.ascending || self.by_store {
                self.kept.extend(c.runs.iter().map(|r| r.0));
                return;
            }
            let mut seen = FxHashSet::with_capacity_and_hasher(self.expected.max(self.kept.len()), Default::default());
            seen.extend(std::mem::take(&mut self.kept));
            self.seen = Some(seen);
        }
        let seen = self.seen.as_mut().expect("built just above");
        for (hash, line, at) in &c.runs {
            if !seen.insert(*hash) {
                repeated(*line, c.number(at));
            }
        }
    }
}

/// Each store's lowest and highest ticket number so far, the ranges kept
/// apart.
#[derive(Default)]
struct StoreRanges {
    /// Each store's lowest number.
    lowest: FxHashMap<String, String>,
    /// Each range's highest number by its lowest.
    ranges: BTreeMap<String, String>,
}

impl StoreRanges {
    /// Widens `store`'s range to `first ..= last` (numbers of a chunk, rising);
    /// false when they are not above the store's earlier numbers or the range
    /// would meet another store's.
    fn extend(&mut self, store: &str, first: &str, last: &str) -> bool {
        match self.lowest.get(store) {
            Some(low) => {
                let high = self.ranges[low.as_str()].as_str();
                if first <= high || self.ranges.range::<str, _>((Excluded(high), Included(last))).next().is_some() {
                    return false;
                }
                if let Some(high) = self.ranges.get_mut(low.as_str()) {
                    *high = last.to_string();
                }
                true
            }
            None => {
                let below = self.ranges.range::<str, _>((Unbounded, Excluded(first))).next_back();
                if below.is_some_and(|(_, high)| high.as_str() >= first)
                    || self.ranges.range::<str, _>((Included(first), Included(last))).next().is_some()
                {
                    return false;
                }
                self.ranges.insert(first.to_string(), last.to_string());
                self.lowest.insert(store.to_string(), first.to_string());
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repeats `TicketCheck` reports for `chunks` of (ticket, store) lines.
    fn repeats(chunks: &[&[(&str, &str)]]) -> Vec<(u64, String)> {
        let mut check = TicketCheck::new(0);
        let mut found = Vec::new();
        let mut line = 1;
        for chunk in chunks {
            let mut runs = ChunkRuns::new();
            for (ticket, store) in chunk.iter() {
                line += 1;
                runs.line(ticket, store, line);
            }
            check.chunk(&runs, |l, no| found.push((l, no.to_string())));
        }
        found
    }

    #[test]
    fn tickets_rising_in_each_store_with_ranges_apart_pass_unchecked() {
        // Two days, each store's tickets in turn: A-1-1 … C-1-3, A-2-1 … C-2-3.
        let mut check = TicketCheck::new(0);
        for day in 1..=2 {
            let mut runs = ChunkRuns::new();
            for (i, store) in ["A", "B", "C"].iter().enumerate() {
                for n in 1..=3 {
                    let ticket = format!("{store}-{day}-{n}");
                    runs.line(&ticket, store, i as u64);
                    runs.line(&ticket, store, i as u64); // a second line of the ticket
                }
            }
            check.chunk(&runs, |_, no| panic!("{no} is no repeat"));
        }
        assert!(!check.ascending && check.by_store && check.seen.is_none());
        assert_eq!(check.kept.len(), 18);
    }

    #[test]
    fn a_repeat_is_found_in_every_order() {
        // Within one chunk, then in a later one, of one store.
        assert_eq!(repeats(&[&[("A-1", "A"), ("A-2", "A"), ("A-1", "A")]]), [(4, "A-1".to_string())]);
        assert_eq!(repeats(&[&[("A-1", "A"), ("A-2", "A")], &[("A-1", "A")]]), [(4, "A-1".to_string())]);
        // A number of one store met again at another, each store's numbers
        // rising: the ranges meet.
        let crossed: &[&[(&str, &str)]] = &[&[("1", "A"), ("3", "B"), ("5", "A"), ("6", "A")], &[("5", "B")]];
        assert_eq!(repeats(crossed), [(6, "5".to_string())]);
        assert_eq!(repeats(&[&[("1", "A"), ("3", "B"), ("5", "A"), ("6", "A"), ("5", "B")]]), [(6, "5".to_string())]);
        // A new store whose first number lies inside another's range.
        assert_eq!(repeats(&[&[("1", "A"), ("5", "A")], &[("9", "A"), ("5", "B")]]), [(5, "5".to_string())]);
        // Numbers rising through the file, stores mixed: no repeat, and one
        // after the set takes over is still found.
        assert!(repeats(&[&[("1", "A"), ("2", "B"), ("3", "A")], &[("4", "B")]]).is_empty());
        let late: &[&[(&str, &str)]] =
            &[&[("1", "A"), ("2", "B"), ("3", "A")], &[("2", "C"), ("9", "D")], &[("3", "E")]];
        assert_eq!(repeats(late), [(5, "2".to_string()), (7, "3".to_string())]);
    }

    #[test]
    fn store_ranges_grow_only_apart() {
        let mut r = StoreRanges::default();
        assert!(r.extend("A", "A1", "A3"));
        assert!(r.extend("C", "C1", "C2"));
        assert!(r.extend("B", "B1", "B9"));
        assert!(r.extend("A", "A4", "A9"));
        assert!(!r.clone_extend("A", "A9", "A9"), "not above the store's highest");
        assert!(!r.clone_extend("A", "B0", "B1"), "would reach B's range");
        assert!(!r.clone_extend("D", "B5", "B6"), "inside B's range");
        assert!(!r.clone_extend("D", "A0", "B0"), "over B's lowest");
        assert!(r.clone_extend("D", "B91", "B99"));
    }

    impl StoreRanges {
        fn clone_extend(&self, store: &str, first: &str, last: &str) -> bool {
            let mut r = StoreRanges { lowest: self.lowest.clone(), ranges: self.ranges.clone() };
            r.extend(store, first, last)
        }
    }
}
