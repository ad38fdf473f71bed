//! Sales facts and their rollups (销售汇总).
//!
//! POS lines are reduced, as they are read, to one record per store-day that
//! still answers every report exactly: the day's totals, its categories and
//! its members (the last two packed by [`codec`]). A ticket's figures are
//! known only when its last line has been read (a ticket counts as a
//! purchase, 客流, only when its net amount is positive), so lines feed a
//! [`TicketSums`] and finished tickets feed the day. Store-days of separate
//! parts of a file merge by addition.

pub mod codec;

use std::hash::Hash;

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use crate::text::sorted_by_name;

/// A store's database id.
pub type StoreId = i64;

/// One (store, business date) partition: the unit an import replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DayKey {
    pub store: StoreId,
    pub date: NaiveDate,
}

/// Store × day totals from line-level data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayTotals {
    /// Σ line amounts in fen, returns included.
    pub revenue: i64,
    pub cost: i64,
    /// Σ quantity, net of returns.
    pub qty: i64,
    /// Purchase tickets (net amount > 0): 客流.
    pub tickets: i64,
    /// Σ net amount of tickets with a member id.
    pub member_revenue: i64,
    /// Purchase tickets with a member id.
    pub member_tickets: i64,
    /// Σ amount of return lines (quantity < 0); zero or negative.
    pub returns: i64,
    pub lines: i64,
}

impl DayTotals {
    fn add(&mut self, o: &DayTotals) {
        self.revenue += o.revenue;
        self.cost += o.cost;
        self.qty += o.qty;
        self.tickets += o.tickets;
        self.member_revenue += o.member_revenue;
        self.member_tickets += o.member_tickets;
        self.returns += o.returns;
        self.lines += o.lines;
    }
}

/// Store × day × category totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CategoryTotals {
    pub revenue: i64,
    pub cost: i64,
    pub qty: i64,
    pub lines: i64,
}

/// Member × store × day: what RFM and repurchase need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemberDay {
    /// Purchase tickets of the member that day in that store.
    pub tickets: i64,
    /// Σ net amount of all the member's tickets, returns included.
    pub net: i64,
}

/// The running sums of one ticket while its lines are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TicketSums {
    pub net: i64,
    pub cost: i64,
    pub qty: i64,
    pub returns: i64,
    pub lines: i64,
}

impl TicketSums {
    pub fn add_line(&mut self, qty: i64, amount: i64, cost: i64) {
        self.net += amount;
        self.cost += cost;
        self.qty += qty;
        if qty < 0 {
            self.returns += amount;
        }
        self.lines += 1;
    }

    /// A purchase ticket is one whose net amount is positive; a pure return
    /// ticket counts no traffic but its amounts still count in revenue.
    pub fn is_purchase(&self) -> bool {
        self.net > 0
    }
}

/// One store-day being built from its lines.
#[derive(Debug, Default, Clone)]
pub struct DayAcc {
    pub totals: DayTotals,
    /// Category names, end to end; `cats` points into it.
    cat_text: String,
    cats: Vec<(u32, u32, CategoryTotals)>,
    /// Each category's name as a key, beside `cats`.
    cat_keys: Vec<NameKey>,
    /// Member codes, end to end; `members` points into it.
    member_text: String,
    members: Vec<(u32, u32, MemberDay)>,
}

impl DayAcc {
    /// An empty day with room for a small day's categories and members. A
    /// worker reuses its days' buffers chunk after chunk, so that they grow
    /// to what its days need once; a chunk of a small file holds thousands
    /// of store-days, and room for a dozen categories and 32 members in each
    /// (2.3 KiB) was a tenth of the peak memory of a 1 M-line import.
    fn with_room() -> DayAcc {
        DayAcc {
            totals: DayTotals::default(),
            cat_text: String::with_capacity(64),
            cats: Vec::with_capacity(6),
            cat_keys: Vec::with_capacity(6),
            member_text: String::with_capacity(32),
            members: Vec::with_capacity(4),
        }
    }

    /// Empties the day, keeping its buffers.
    fn clear(&mut self) {
        self.totals = DayTotals::default();
        self.cat_text.clear();
        self.cats.clear();
        self.cat_keys.clear();
        self.member_text.clear();
        self.members.clear();
    }

    /// Adds one line to its category.
    pub fn add_line(&mut self, category: &str, qty: i64, amount: i64, cost: i64) {
        let text = &self.cat_text;
        let key = NameKey::of(category);
        let found = self.cat_keys.iter().zip(&self.cats).position(|(&k, &(a, b, _))| {
            k == key && (key.exact() || crate::text::same(&text[a as usize..b as usize], category))
        });
        let c = match found {
            Some(i) => &mut self.cats[i].2,
            None => {
                let a = self.cat_text.len() as u32;
                self.cat_text.push_str(category);
                self.cats.push((a, self.cat_text.len() as u32, CategoryTotals::default()));
                self.cat_keys.push(key);
                &mut self.cats.last_mut().expect("just pushed").2
            }
        };
        c.revenue += amount;
        c.cost += cost;
        c.qty += qty;
        c.lines += 1;
    }

    /// Adds one finished ticket.
    pub fn add_ticket(&mut self, member: Option<&str>, t: &TicketSums) {
        let purchase = i64::from(t.is_purchase());
        let d = &mut self.totals;
        d.revenue += t.net;
        d.cost += t.cost;
        d.qty += t.qty;
        d.tickets += purchase;
        d.returns += t.returns;
        d.lines += t.lines;
        if let Some(code) = member {
            d.member_revenue += t.net;
            d.member_tickets += purchase;
            let a = self.member_text.len() as u32;
            self.member_text.push_str(code);
            self.members.push((a, self.member_text.len() as u32, MemberDay { tickets: purchase, net: t.net }));
        }
    }

    /// The categories, sorted by name.
    pub fn categories(&self) -> Vec<(&str, CategoryTotals)> {
        sorted_by_name(self.cats.iter().map(|&(a, b, t)| (&self.cat_text[a as usize..b as usize], t))).collect()
    }

    /// The members, sorted by code, a member's tickets of the day together.
    pub fn members(&self) -> Vec<(&str, MemberDay)> {
        merge_sorted(sorted_by_name(
            self.members.iter().map(|&(a, b, m)| (&self.member_text[a as usize..b as usize], m)),
        ))
    }

    /// The day as stored.
    pub fn to_row(&self, key: DayKey) -> DayRow {
        let mut row = DayRow::from_totals(key, &self.totals);
        row.categories = Some(codec::pack_categories(&self.categories()));
        row.members = Some(codec::pack_members(&self.members()));
        row
    }
}

/// A name to look a category up by. A name of at most 15 bytes (every name
/// of the POS files, 6–12 bytes) is its bytes themselves as one word
/// ([`crate::text::short_key`]): equal keys are equal names, and no text is
/// compared. A longer name's key is a hash, marked as one in the lowest byte
/// (where a short key has its length) and checked against the text. A hash
/// and a comparison of the text per line were 9 % of the parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NameKey(u128);

/// The lowest byte of a hashed key.
const HASHED: u8 = 0xff;

impl NameKey {
    fn of(name: &str) -> NameKey {
        NameKey(crate::text::short_key(name.as_bytes()).unwrap_or_else(|| {
            use std::hash::BuildHasher;
            (u128::from(rustc_hash::FxBuildHasher.hash_one(name)) << 8) | u128::from(HASHED)
        }))
    }

    /// Whether equal keys mean equal names.
    fn exact(&self) -> bool {
        self.0 as u8 != HASHED
    }
}

/// Adds up neighbours with the same name in a sorted list.
fn merge_sorted<'a, T: std::ops::AddAssign + Copy>(
    v: impl ExactSizeIterator<Item = (&'a str, T)>,
) -> Vec<(&'a str, T)> {
    let mut out: Vec<(&str, T)> = Vec::with_capacity(v.len());
    for (name, x) in v {
        match out.last_mut() {
            Some((last, acc)) if crate::text::same(last, name) => *acc += x,
            _ => out.push((name, x)),
        }
    }
    out
}

impl std::ops::AddAssign for MemberDay {
    fn add_assign(&mut self, o: MemberDay) {
        self.tickets += o.tickets;
        self.net += o.net;
    }
}

impl std::ops::AddAssign for CategoryTotals {
    fn add_assign(&mut self, o: CategoryTotals) {
        self.revenue += o.revenue;
        self.cost += o.cost;
        self.qty += o.qty;
        self.lines += o.lines;
    }
}

/// The store-days of some sales lines.
#[derive(Debug, Default, Clone)]
pub struct Rollup {
    index: FxHashMap<DayKey, usize>,
    days: Vec<(DayKey, DayAcc)>,
    /// The day asked for last: the lines of a ticket, and the tickets of a
    /// store-day, come one after another.
    last: Option<(DayKey, usize)>,
    /// Emptied days whose buffers the next days reuse.
    spare: Vec<DayAcc>,
}

impl Rollup {
    pub fn day(&mut self, key: DayKey) -> &mut DayAcc {
        let i = match self.last {
            Some((k, i)) if k == key => i,
            _ => {
                let next = self.days.len();
                let i = *self.index.entry(key).or_insert(next);
                if i == next {
                    let day = self.spare.pop().unwrap_or_else(DayAcc::with_room);
                    self.days.push((key, day));
                }
                self.last = Some((key, i));
                i
            }
        };
        &mut self.days[i].1
    }

    /// The store-day of `key`, if it has any lines or tickets.
    pub fn get(&self, key: &DayKey) -> Option<&DayAcc> {
        self.index.get(key).map(|&i| &self.days[i].1)
    }

    pub fn total(&self) -> DayTotals {
        let mut t = DayTotals::default();
        for (_, d) in &self.days {
            t.add(&d.totals);
        }
        t
    }

    /// The store-days as stored, sorted by store and date; the rollup is
    /// left empty, its days' buffers kept for the days it is given next (a
    /// worker reads chunk after chunk of thousands of store-days).
    pub fn take_rows(&mut self) -> Vec<DayRow> {
        // Sorted by key through their places: a row is ten times the size
        // of its key, and moving each once, not at every step of a sort,
        // halved what a worker copied.
        let mut order: Vec<(DayKey, u32)> = self.days.iter().enumerate().map(|(i, (k, _))| (*k, i as u32)).collect();
        order.sort_unstable();
        let v: Vec<DayRow> = order.iter().map(|&(k, i)| self.days[i as usize].1.to_row(k)).collect();
        self.spare.extend(self.days.drain(..).map(|(_, mut d)| {
            d.clear();
            d
        }));
        self.index.clear();
        self.last = None;
        v
    }
}

/// Where a store-day's figures came from: POS lines, or a store × day
/// summary that lacks line detail (no categories, no members).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaySource {
    Lines,
    Summary,
}

impl DaySource {
    pub fn as_str(self) -> &'static str {
        match self {
            DaySource::Lines => "lines",
            DaySource::Summary => "summary",
        }
    }
}

/// One store-day as stored: line-derived days have every figure, summary days
/// only those their file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRow {
    /// Packed categories ([`codec`]); `None` for a summary.
    pub categories: Option<Vec<u8>>,
    /// Packed members ([`codec`]); `None` for a summary.
    pub members: Option<Vec<u8>>,
    pub key: DayKey,
    pub revenue: i64,
    pub cost: i64,
    pub qty: Option<i64>,
    pub tickets: i64,
    pub member_revenue: Option<i64>,
    pub member_tickets: Option<i64>,
    pub returns: Option<i64>,
    pub lines: Option<i64>,
    pub source: DaySource,
}

impl DayRow {
    /// A line-derived day's totals, without categories and members yet.
    pub fn from_totals(key: DayKey, t: &DayTotals) -> DayRow {
        DayRow {
            categories: None,
            members: None,
            key,
            revenue: t.revenue,
            cost: t.cost,
            qty: Some(t.qty),
            tickets: t.tickets,
            member_revenue: Some(t.member_revenue),
            member_tickets: Some(t.member_tickets),
            returns: Some(t.returns),
            lines: Some(t.lines),
            source: DaySource::Lines,
        }
    }

    /// Adds another part of the same store-day (lines of one store-day may
    /// fall in two parts of a file).
    pub fn merge(&mut self, o: &DayRow) -> Result<(), codec::CodecError> {
        let add = |a: Option<i64>, b: Option<i64>| a.zip(b).map(|(x, y)| x + y);
        self.revenue += o.revenue;
        self.cost += o.cost;
        self.qty = add(self.qty, o.qty);
        self.tickets += o.tickets;
        self.member_revenue = add(self.member_revenue, o.member_revenue);
        self.member_tickets = add(self.member_tickets, o.member_tickets);
        self.returns = add(self.returns, o.returns);
        self.lines = add(self.lines, o.lines);
        if let (Some(a), Some(b)) = (&self.categories, &o.categories) {
            let (a, b) = (codec::unpack_categories(a)?, codec::unpack_categories(b)?);
            let v = sorted_by_name(a.into_iter().chain(b));
            self.categories = Some(codec::pack_categories(&merge_sorted(v)));
        }
        if let (Some(a), Some(b)) = (&self.members, &o.members) {
            let (a, b) = (codec::unpack_members(a)?, codec::unpack_members(b)?);
            let v = sorted_by_name(a.into_iter().chain(b));
            self.members = Some(codec::pack_members(&merge_sorted(v)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(store: StoreId, d: u32) -> DayKey {
        DayKey { store, date: NaiveDate::from_ymd_opt(2026, 10, d).unwrap() }
    }

    proptest::proptest! {
        /// Names alike in their first or last eight bytes, of every length
        /// around the fifteen a key holds exactly, are summed apart.
        #[test]
        fn lines_are_summed_by_their_categorys_name(
            lines in proptest::collection::vec((0usize..10, 1i64..5), 1..60)
        ) {
            const NAMES: [&str; 10] = [
                "", "a", "a\0", "处方药", "非处方药", "中成药", "中药饮片", "0123456789abcdef",
                "0123456789abcdeg", "0123456789abcde",
            ];
            let mut day = DayAcc::with_room();
            let mut want: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
            for &(name, qty) in &lines {
                day.add_line(NAMES[name], qty, 100 * qty, 60 * qty);
                let e = want.entry(NAMES[name]).or_default();
                e.0 += qty;
                e.1 += 1;
            }
            let got: Vec<(&str, (i64, i64))> = day.categories().into_iter().map(|(n, t)| (n, (t.qty, t.lines))).collect();
            proptest::prop_assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn names_of_up_to_fifteen_bytes_are_their_own_keys() {
        for name in ["", "a", "中成药", "0123456789abcde"] {
            assert!(NameKey::of(name).exact());
        }
        assert!(!NameKey::of("0123456789abcdef").exact());
        assert_ne!(NameKey::of("a"), NameKey::of("a\0"));
        assert_ne!(NameKey::of("0123456789abcde"), NameKey::of("0123456789abcdf"));
        assert_ne!(NameKey::of("01234567x9abcde"), NameKey::of("01234567y9abcde"));
    }

    #[test]
    fn a_pure_return_ticket_counts_revenue_but_no_traffic() {
        let mut r = Rollup::default();
        let mut sale = TicketSums::default();
        sale.add_line(2, 3000, 2000);
        sale.add_line(-1, -500, -300);
        r.day(key(1, 1)).add_ticket(Some("M1"), &sale);
        let mut ret = TicketSums::default();
        ret.add_line(-1, -1000, -700);
        r.day(key(1, 1)).add_ticket(Some("M1"), &ret);
        let d = r.get(&key(1, 1)).unwrap();
        let t = d.totals;
        assert_eq!((t.revenue, t.cost, t.qty, t.tickets), (1500, 1000, 0, 1));
        assert_eq!((t.member_revenue, t.member_tickets, t.returns, t.lines), (1500, 1, -1500, 3));
        assert_eq!(d.members(), vec![("M1", MemberDay { tickets: 1, net: 1500 })]);
    }

    #[test]
    fn a_rollup_taken_is_empty_and_its_reused_days_start_from_nothing() {
        let mut r = Rollup::default();
        let mut t = TicketSums::default();
        t.add_line(1, 1000, 600);
        for d in [1, 2] {
            r.day(key(1, d)).add_line("处方药", 1, 1000, 600);
            r.day(key(1, d)).add_ticket(Some("M1"), &t);
        }
        assert_eq!(r.take_rows().len(), 2);
        assert_eq!(r.take_rows(), vec![], "nothing is left after a take");
        r.day(key(2, 5)).add_line("母婴", 1, 1000, 600);
        r.day(key(2, 5)).add_ticket(None, &t);
        let mut fresh = Rollup::default();
        fresh.day(key(2, 5)).add_line("母婴", 1, 1000, 600);
        fresh.day(key(2, 5)).add_ticket(None, &t);
        assert_eq!(r.take_rows(), fresh.take_rows(), "a reused day holds only what it was given since");
    }

    #[test]
    fn a_store_day_read_in_two_parts_merges_to_the_whole() {
        let lines = [
            ("处方药", 1, 1200, 900, Some("M2")),
            ("母婴", 2, 800, 500, None),
            ("处方药", -1, -300, -200, Some("M1")),
            ("母婴", 1, 100, 50, Some("M2")),
        ];
        let mut whole = DayAcc::default();
        let mut parts = [DayAcc::default(), DayAcc::default()];
        for (i, &(cat, q, a, c, m)) in lines.iter().enumerate() {
            let mut t = TicketSums::default();
            t.add_line(q, a, c);
            for d in [&mut whole, &mut parts[i % 2]] {
                d.add_line(cat, q, a, c);
                d.add_ticket(m, &t);
            }
        }
        let k = key(1, 3);
        let mut merged = parts[0].to_row(k);
        merged.merge(&parts[1].to_row(k)).unwrap();
        assert_eq!(merged, whole.to_row(k));
        let members = codec::unpack_members(merged.members.as_ref().unwrap()).unwrap();
        assert_eq!(
            members,
            vec![("M1", MemberDay { tickets: 0, net: -300 }), ("M2", MemberDay { tickets: 2, net: 1300 })]
        );
        let cats = codec::unpack_categories(merged.categories.as_ref().unwrap()).unwrap();
        assert_eq!(cats[1], ("母婴", CategoryTotals { revenue: 900, cost: 550, qty: 3, lines: 2 }));
    }
}
