//! Sales facts and their rollups (销售汇总).
//!
//! POS lines are reduced, as they are read, to the coarsest grains that still
//! answer every report exactly: store × day totals, store × day × category, and
//! member × store × day. A ticket's figures are known only when its last line
//! has been read (a ticket counts as a purchase, 客流, only when its net amount
//! is positive), so lines feed a [`TicketSums`] and finished tickets feed the
//! day totals. Rollups of separate parts of a file merge by addition.

use std::hash::Hash;

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

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

/// Gives small dense ids to repeated names (categories, member ids).
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    pub fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 4 billion distinct names");
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The rollups of some sales lines.
#[derive(Debug, Default, Clone)]
pub struct Rollup {
    pub days: FxHashMap<DayKey, DayTotals>,
    pub categories: FxHashMap<(DayKey, u32), CategoryTotals>,
    pub members: FxHashMap<(DayKey, u32), MemberDay>,
    pub category_names: Interner,
    pub member_codes: Interner,
}

impl Rollup {
    /// Adds one line to the category rollup.
    pub fn add_line(&mut self, key: DayKey, category: &str, qty: i64, amount: i64, cost: i64) {
        let cat = self.category_names.id(category);
        let c = self.categories.entry((key, cat)).or_default();
        c.revenue += amount;
        c.cost += cost;
        c.qty += qty;
        c.lines += 1;
    }

    /// Adds one finished ticket to the day and member rollups.
    pub fn add_ticket(&mut self, key: DayKey, member: Option<&str>, t: &TicketSums) {
        let purchase = i64::from(t.is_purchase());
        let d = self.days.entry(key).or_default();
        d.revenue += t.net;
        d.cost += t.cost;
        d.qty += t.qty;
        d.tickets += purchase;
        d.returns += t.returns;
        d.lines += t.lines;
        if let Some(code) = member {
            d.member_revenue += t.net;
            d.member_tickets += purchase;
            let m = self.member_codes.id(code);
            let md = self.members.entry((key, m)).or_default();
            md.tickets += purchase;
            md.net += t.net;
        }
    }

    /// Adds another rollup into this one.
    pub fn merge(&mut self, other: Rollup) {
        for (k, v) in other.days {
            self.days.entry(k).or_default().add(&v);
        }
        let cat_map: Vec<u32> = (0..other.category_names.len() as u32)
            .map(|i| self.category_names.id(other.category_names.name(i)))
            .collect();
        for ((k, c), v) in other.categories {
            let e = self.categories.entry((k, cat_map[c as usize])).or_default();
            e.revenue += v.revenue;
            e.cost += v.cost;
            e.qty += v.qty;
            e.lines += v.lines;
        }
        let mem_map: Vec<u32> =
            (0..other.member_codes.len() as u32).map(|i| self.member_codes.id(other.member_codes.name(i))).collect();
        for ((k, m), v) in other.members {
            let e = self.members.entry((k, mem_map[m as usize])).or_default();
            e.tickets += v.tickets;
            e.net += v.net;
        }
    }

    /// The partitions this rollup covers, in order.
    pub fn pairs(&self) -> Vec<DayKey> {
        let mut v: Vec<DayKey> = self.days.keys().copied().collect();
        v.sort_unstable();
        v
    }

    pub fn total(&self) -> DayTotals {
        let mut t = DayTotals::default();
        for d in self.days.values() {
            t.add(d);
        }
        t
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
    pub fn from_lines(key: DayKey, t: &DayTotals) -> DayRow {
        DayRow {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(store: StoreId, d: u32) -> DayKey {
        DayKey { store, date: NaiveDate::from_ymd_opt(2026, 10, d).unwrap() }
    }

    #[test]
    fn a_pure_return_ticket_counts_revenue_but_no_traffic() {
        let mut r = Rollup::default();
        let mut sale = TicketSums::default();
        sale.add_line(2, 3000, 2000);
        sale.add_line(-1, -500, -300);
        r.add_ticket(key(1, 1), Some("M1"), &sale);
        let mut ret = TicketSums::default();
        ret.add_line(-1, -1000, -700);
        r.add_ticket(key(1, 1), Some("M1"), &ret);
        let d = r.days[&key(1, 1)];
        assert_eq!(d.revenue, 1500);
        assert_eq!(d.cost, 1000);
        assert_eq!(d.qty, 0);
        assert_eq!(d.tickets, 1);
        assert_eq!(d.member_revenue, 1500);
        assert_eq!(d.member_tickets, 1);
        assert_eq!(d.returns, -1500);
        assert_eq!(d.lines, 3);
        let m = r.members[&(key(1, 1), 0)];
        assert_eq!(m, MemberDay { tickets: 1, net: 1500 });
    }

    #[test]
    fn merging_parts_equals_reading_the_whole() {
        let lines = [
            (1, "处方药", 1, 1200, 900, Some("M1")),
            (1, "母婴", 2, 800, 500, None),
            (2, "处方药", -1, -300, -200, Some("M2")),
        ];
        let mut whole = Rollup::default();
        let mut parts = [Rollup::default(), Rollup::default()];
        for (i, &(store, cat, q, a, c, m)) in lines.iter().enumerate() {
            let mut t = TicketSums::default();
            t.add_line(q, a, c);
            for r in [&mut whole, &mut parts[i % 2]] {
                r.add_line(key(store, 3), cat, q, a, c);
                r.add_ticket(key(store, 3), m, &t);
            }
        }
        let [mut a, b] = parts;
        a.merge(b);
        assert_eq!(a.days, whole.days);
        assert_eq!(a.total(), whole.total());
        let named = |r: &Rollup| {
            let mut v: Vec<_> =
                r.categories.iter().map(|((k, c), t)| (*k, r.category_names.name(*c).to_string(), *t)).collect();
            v.sort_by(|x, y| (x.0, &x.1).cmp(&(y.0, &y.1)));
            v
        };
        assert_eq!(named(&a), named(&whole));
        assert_eq!(a.pairs(), vec![key(1, 3), key(2, 3)]);
    }
}
