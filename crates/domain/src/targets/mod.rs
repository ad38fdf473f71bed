//! Targets (目标): a yearly plan per metric with a baseline (保底) and a
//! stretch (力争) value for the company, decomposed to regions and stores,
//! months and days, exact to the fen at every level; tracking, forecast and
//! rewards against it. The metrics are data (a table of them); what the code
//! knows is the handful of measures a metric's history and actuals come from.

mod apportion;
pub mod calendar;
pub mod columns;
pub mod plan;
pub mod rewards;
pub mod tracking;
pub mod weights;

use std::collections::BTreeMap;

use chrono::NaiveDate;

pub use apportion::apportion;
pub use calendar::{Calendar, CalendarDay, DayKind};
pub use plan::{Change, EditError, Key, Level, Node, Rebalance};
pub use rewards::RewardRule;
pub use tracking::{Pace, attainment};
pub use weights::{Method, MonthMethod, ShapeSource, StoreBasis, Tier};

use weights::{day_weights, month_weights, seasonality, store_weights, weekday_profile};

/// A figure of the sales rollups a metric is measured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Revenue,
    GrossProfit,
    Tickets,
    MemberRevenue,
}

impl Measure {
    pub const ALL: [Measure; 4] = [Measure::Revenue, Measure::GrossProfit, Measure::Tickets, Measure::MemberRevenue];

    pub fn key(self) -> &'static str {
        match self {
            Measure::Revenue => "revenue",
            Measure::GrossProfit => "gross_profit",
            Measure::Tickets => "tickets",
            Measure::MemberRevenue => "member_revenue",
        }
    }

    pub fn parse(text: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.key() == text.trim())
    }

    /// The measure from a store-day's figures: revenue, cost, tickets and
    /// member revenue (fen, fen, count, fen).
    pub fn of(self, revenue: i64, cost: i64, tickets: i64, member_revenue: i64) -> i64 {
        match self {
            Measure::Revenue => revenue,
            Measure::GrossProfit => revenue - cost,
            Measure::Tickets => tickets,
            Measure::MemberRevenue => member_revenue,
        }
    }
}

/// What a metric counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Money, in fen; files and pages show yuan with two decimals.
    Fen,
    /// A count (tickets, members).
    Count,
}

impl Unit {
    pub fn key(self) -> &'static str {
        match self {
            Unit::Fen => "fen",
            Unit::Count => "count",
        }
    }

    pub fn parse(text: &str) -> Option<Unit> {
        match text.trim() {
            "fen" => Some(Unit::Fen),
            "count" => Some(Unit::Count),
            _ => None,
        }
    }

    /// Parses a value as a file or form gives it: yuan with up to two
    /// decimals, or a whole count.
    pub fn parse_value(self, text: &str) -> Option<i64> {
        match self {
            Unit::Fen => crate::Money::parse_yuan(text).ok().map(|m| m.fen()),
            Unit::Count => text.trim().parse().ok(),
        }
    }

    /// The value as files show it: `1234.50` or `1234`.
    pub fn format(self, v: i64) -> String {
        match self {
            Unit::Fen => crate::money::hundredths(v),
            Unit::Count => v.to_string(),
        }
    }
}

/// A metric targets can be set on (a row of the metric table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metric {
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: Unit,
    /// The history the plan is shaped by.
    pub basis: Measure,
    /// Where the actual comes from; `None` when the sales data do not hold
    /// it (profit and tax, say): targets are set and shared, not tracked.
    pub actual: Option<Measure>,
}

/// What a plan is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSpec {
    pub year: i32,
    pub baseline: i64,
    pub stretch: i64,
    pub method: Method,
    pub month_method: MonthMethod,
    pub tiers: Vec<Tier>,
}

/// Why a plan cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    Negative,
    /// 力争 below 保底.
    StretchBelowBaseline,
    /// No store is open in the year.
    NoStores,
}

/// How each store's part of a plan was shaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreNote {
    pub store: i64,
    /// Lacked the history the method needs: took its fallback (marked new).
    pub fallback: bool,
    pub tier: Option<String>,
    pub season: ShapeSource,
    pub weekdays: ShapeSource,
}

/// A built plan: the tree and a note per store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub tree: Node,
    pub notes: Vec<StoreNote>,
}

/// Builds a plan: company → regions (ordered by id) → stores (in the order
/// given) → months → days, each level apportioned by its weights. Stores that
/// open after the year are left out.
pub fn build(spec: &PlanSpec, stores: &[StoreBasis], calendar: &Calendar) -> Result<Built, PlanError> {
    if spec.baseline < 0 || spec.stretch < 0 {
        return Err(PlanError::Negative);
    }
    if spec.stretch < spec.baseline {
        return Err(PlanError::StretchBelowBaseline);
    }
    let year_end = NaiveDate::from_ymd_opt(spec.year, 12, 31).ok_or(PlanError::NoStores)?;
    let stores: Vec<&StoreBasis> = stores.iter().filter(|s| s.open_date <= year_end).collect();
    if stores.is_empty() {
        return Err(PlanError::NoStores);
    }
    let owned: Vec<StoreBasis> = stores.iter().map(|s| (*s).clone()).collect();
    let weights = store_weights(spec.method, &owned, &spec.tiers, spec.year);

    // Shapes of the regions and the company, for stores without their own.
    let mut region_days: BTreeMap<i64, Vec<(NaiveDate, i64)>> = BTreeMap::new();
    for s in &stores {
        region_days.entry(s.region).or_default().extend(s.days.iter().copied());
    }
    let all_days: Vec<(NaiveDate, i64)> = stores.iter().flat_map(|s| s.days.iter().copied()).collect();
    let full_season = |list: &mut dyn Iterator<Item = &&StoreBasis>| -> Option<[i64; 12]> {
        let mut sum = [0i64; 12];
        let mut any = false;
        for s in list {
            if let Some(own) = seasonality(&s.days) {
                any = true;
                for m in 0..12 {
                    sum[m] += own[m];
                }
            }
        }
        any.then_some(sum)
    };
    let company_season = full_season(&mut stores.iter());
    let company_profile = weekday_profile(&all_days, calendar);

    let mut tree = Node::leaf(Key::Company, 1);
    let mut notes = Vec::with_capacity(stores.len());
    for (&region, days) in &region_days {
        let in_region: Vec<usize> = (0..stores.len()).filter(|&i| stores[i].region == region).collect();
        let region_season = full_season(&mut in_region.iter().map(|&i| &stores[i]));
        let region_profile = weekday_profile(days, calendar);
        let mut node = Node::leaf(Key::Region(region), 0);
        for i in in_region {
            let s = stores[i];
            let (season, season_src) = match spec.month_method {
                MonthMethod::Hand => (None, ShapeSource::Flat),
                MonthMethod::LastYear => match (seasonality(&s.days), region_season, company_season) {
                    (Some(own), _, _) => (Some(own), ShapeSource::Own),
                    (None, Some(r), _) => (Some(r), ShapeSource::Region),
                    (None, None, Some(c)) => (Some(c), ShapeSource::Company),
                    _ => (None, ShapeSource::Flat),
                },
            };
            let (profile, profile_src) = match (weekday_profile(&s.days, calendar), region_profile, company_profile) {
                (Some(own), _, _) => (Some(own), ShapeSource::Own),
                (None, Some(r), _) => (Some(r), ShapeSource::Region),
                (None, None, Some(c)) => (Some(c), ShapeSource::Company),
                _ => (None, ShapeSource::Flat),
            };
            let mut store = Node::leaf(Key::Store(s.store), weights[i].weight);
            for (m, w) in month_weights(season.as_ref(), spec.year, s.open_date).into_iter().enumerate() {
                let key = i64::from(spec.year) * 100 + m as i64 + 1;
                let mut month = Node::leaf(Key::Month(key), w);
                month.children = day_weights(key, profile.as_ref(), calendar, s.open_date)
                    .into_iter()
                    .map(|(d, w)| Node::leaf(Key::Day(d), w))
                    .collect();
                store.children.push(month);
            }
            node.weight += store.weight;
            node.children.push(store);
            notes.push(StoreNote {
                store: s.store,
                fallback: weights[i].fallback,
                tier: weights[i].tier.clone(),
                season: season_src,
                weekdays: profile_src,
            });
        }
        tree.children.push(node);
    }
    tree.fill(Level::Baseline, spec.baseline);
    tree.fill(Level::Stretch, spec.stretch);
    Ok(Built { tree, notes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn history(seed: u64, from: NaiveDate, days: usize) -> Vec<(NaiveDate, i64)> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        from.iter_days()
            .take(days)
            .map(|d| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (d, ((x >> 33) % 500_000) as i64)
            })
            .collect()
    }

    fn arb_store() -> impl Strategy<Value = (i64, i64, u32, u64, usize)> {
        // region, area, opening day offset from 2024-01-01, history seed, history days
        (1i64..4, 0i64..2000, 0u32..1200, any::<u64>(), 0usize..400)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn plans_sum_exactly_at_every_level_for_every_method(
            stores in prop::collection::vec(arb_store(), 1..12),
            baseline in 0i64..10_000_000_000_000,
            extra in 0i64..1_000_000_000_000,
            method in 0usize..5,
            hand_months in any::<bool>(),
        ) {
            let calendar = Calendar::new(&calendar::published());
            let first = date("2025-01-01");
            let bases: Vec<StoreBasis> = stores
                .iter()
                .enumerate()
                .map(|(i, &(region, area, open, seed, days))| {
                    let open_date = date("2024-01-01") + chrono::Duration::days(i64::from(open));
                    let days = history(seed, first.max(open_date), days)
                        .into_iter()
                        .filter(|(d, _)| *d <= date("2025-12-31"))
                        .collect();
                    StoreBasis { store: i as i64 + 1, region, area_sqm: area, open_date, days }
                })
                .collect();
            let spec = PlanSpec {
                year: 2026,
                baseline,
                stretch: baseline + extra,
                method: Method::ALL[method],
                month_method: if hand_months { MonthMethod::Hand } else { MonthMethod::LastYear },
                tiers: weights::default_tiers(),
            };
            match build(&spec, &bases, &calendar) {
                Ok(built) => {
                    prop_assert!(built.tree.balanced());
                    prop_assert_eq!(built.tree.baseline, baseline);
                    prop_assert_eq!(built.tree.stretch, baseline + extra);
                    let mut days = 0;
                    built.tree.walk(&mut |_, depth| if depth == 4 { days += 1 });
                    prop_assert_eq!(days, 365 * built.notes.len());
                    for n in &built.notes {
                        let s = &bases[(n.store - 1) as usize];
                        prop_assert_eq!(n.fallback, !weights::has_full_year(s));
                    }
                }
                Err(e) => prop_assert_eq!(e, PlanError::NoStores),
            }
        }
    }

    #[test]
    fn stretch_may_not_fall_below_baseline() {
        let spec = PlanSpec {
            year: 2026,
            baseline: 10,
            stretch: 9,
            method: Method::Equal,
            month_method: MonthMethod::Hand,
            tiers: Vec::new(),
        };
        assert_eq!(build(&spec, &[], &Calendar::default()), Err(PlanError::StretchBelowBaseline));
    }
}
