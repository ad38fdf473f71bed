//! The shapes a plan is cut by, from history: each store's share of the
//! company (by last year, area, tier growth or equally), each month's share
//! of a store's year (last year's seasonality), each day's share of a month
//! (the weekday profile and the holiday calendar). A store without the
//! history a rule needs takes the rule's fallback and is marked.

use chrono::{Datelike, NaiveDate, Weekday};

use super::calendar::{Calendar, DayKind};

/// How the company's value is cut into regions and stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// By each store's share of last year (new stores: by area at the chain's
    /// rate per m²).
    LastYear,
    /// By sales area.
    Area,
    /// By last year grown at its tier's rate.
    Tier,
    /// Equally.
    Equal,
    /// Equally to start with; the user enters or imports the values.
    Hand,
}

impl Method {
    pub const ALL: [Method; 5] = [Method::LastYear, Method::Area, Method::Tier, Method::Equal, Method::Hand];

    pub fn key(self) -> &'static str {
        match self {
            Method::LastYear => "last-year",
            Method::Area => "area",
            Method::Tier => "tier",
            Method::Equal => "equal",
            Method::Hand => "hand",
        }
    }

    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.key() == text.trim())
    }

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Method::LastYear => ("按上年占比", "by last year's share"),
            Method::Area => ("按面积", "by area"),
            Method::Tier => ("按分级增长", "by tier growth"),
            Method::Equal => ("平均分配", "equally"),
            Method::Hand => ("手工", "by hand"),
        }
    }
}

/// How a store's year is cut into months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthMethod {
    /// By last year's seasonality.
    LastYear,
    /// By the days in each month; the user edits from there.
    Hand,
}

impl MonthMethod {
    pub fn key(self) -> &'static str {
        match self {
            MonthMethod::LastYear => "last-year",
            MonthMethod::Hand => "hand",
        }
    }

    pub fn parse(text: &str) -> Option<MonthMethod> {
        match text.trim() {
            "last-year" => Some(MonthMethod::LastYear),
            "hand" => Some(MonthMethod::Hand),
            _ => None,
        }
    }
}

/// A peer group of the tier rule: the next `share_pct` % of stores by last
/// year's value, grown by `growth_bp` basis points (500 = 5 %).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub name: String,
    pub share_pct: u32,
    pub growth_bp: i64,
}

/// A: the top fifth grows 3 %, B: the next half 6 %, C: the rest 10 %.
pub fn default_tiers() -> Vec<Tier> {
    [("A", 20, 300), ("B", 50, 600), ("C", 30, 1000)]
        .into_iter()
        .map(|(n, s, g)| Tier { name: n.to_string(), share_pct: s, growth_bp: g })
        .collect()
}

/// Parses `A:20:3,B:50:6,C:30:10` (name, share of stores %, growth %, growth
/// with up to two decimals).
pub fn parse_tiers(text: &str) -> Result<Vec<Tier>, String> {
    let mut tiers = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let f: Vec<&str> = part.split(':').map(str::trim).collect();
        let [name, share, growth] = f[..] else {
            return Err(format!("tier `{part}`: expected name:share%:growth%"));
        };
        let share: u32 = share.parse().map_err(|_| format!("tier `{part}`: share `{share}` is not a whole percent"))?;
        let growth = crate::Money::parse_yuan(growth)
            .map_err(|_| format!("tier `{part}`: growth `{growth}` is not a percent"))?
            .fen();
        tiers.push(Tier { name: name.to_string(), share_pct: share, growth_bp: growth });
    }
    let total: u32 = tiers.iter().map(|t| t.share_pct).sum();
    if tiers.is_empty() || total != 100 {
        return Err(format!("the tiers' shares add up to {total} %, not 100 %"));
    }
    Ok(tiers)
}

/// What the plan knows of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreBasis {
    pub store: i64,
    pub region: i64,
    pub area_sqm: i64,
    pub open_date: NaiveDate,
    /// The basis metric per day over the basis window (12 whole months).
    pub days: Vec<(NaiveDate, i64)>,
}

/// The 12 whole months a plan learns from: `first` is the first day of the
/// first month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub first: NaiveDate,
}

impl Window {
    pub fn last(self) -> NaiveDate {
        self.first.checked_add_months(chrono::Months::new(12)).and_then(|d| d.pred_opt()).unwrap_or(self.first)
    }

    pub fn contains(self, d: NaiveDate) -> bool {
        d >= self.first && d <= self.last()
    }
}

/// A store's figures over the window, by calendar month (index 0 = January).
fn by_month(days: &[(NaiveDate, i64)]) -> ([i64; 12], [bool; 12]) {
    let mut sums = [0i64; 12];
    let mut seen = [false; 12];
    for &(d, v) in days {
        let m = d.month0() as usize;
        sums[m] += v;
        seen[m] = true;
    }
    (sums, seen)
}

/// Whether a store has history in every month of the window.
pub fn has_full_year(basis: &StoreBasis) -> bool {
    by_month(&basis.days).1.iter().all(|&s| s)
}

/// Days of `year` from the opening date on, per mille of the year.
fn open_share_pm(open: NaiveDate, year: i32) -> i64 {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(open);
    let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(open);
    let len = (last - first).num_days() + 1;
    let from = open.max(first);
    if from > last {
        return 0;
    }
    ((last - from).num_days() + 1) * 1000 / len
}

/// A store's weight in the company and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreWeight {
    pub weight: i64,
    /// The store lacked the history its rule needs and took the fallback.
    pub fallback: bool,
    /// The tier it fell in, under the tier rule.
    pub tier: Option<String>,
}

/// Each store's weight under `method`, in the order of `stores`. Stores that
/// open within the year count for the part of it they are open.
pub fn store_weights(method: Method, stores: &[StoreBasis], tiers: &[Tier], year: i32) -> Vec<StoreWeight> {
    let totals: Vec<i64> = stores.iter().map(|s| s.days.iter().map(|d| d.1).sum::<i64>().max(0)).collect();
    let full: Vec<bool> = stores.iter().map(has_full_year).collect();
    let hist_sum: i128 = (0..stores.len()).filter(|&i| full[i]).map(|i| i128::from(totals[i])).sum();
    let hist_area: i128 = (0..stores.len()).filter(|&i| full[i]).map(|i| i128::from(stores[i].area_sqm.max(0))).sum();
    let by_history = hist_sum > 0 && hist_area > 0;
    let tier_of = tier_ranks(stores, &totals, &full, tiers);
    stores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let area = i128::from(s.area_sqm.max(0));
            let (raw, fallback, tier): (i128, bool, Option<String>) = match method {
                Method::Equal | Method::Hand => (1, !full[i], None),
                Method::Area => (area, !full[i], None),
                Method::LastYear | Method::Tier if !by_history => (area, true, None),
                Method::LastYear if full[i] => (i128::from(totals[i]) * hist_area, false, None),
                Method::Tier if full[i] => {
                    let t = &tiers[tier_of[i]];
                    (
                        i128::from(totals[i]) * hist_area * i128::from(10_000 + t.growth_bp) / 10_000,
                        false,
                        Some(t.name.clone()),
                    )
                }
                Method::LastYear | Method::Tier => (area * hist_sum, true, None),
            };
            let open = i128::from(open_share_pm(s.open_date, year));
            let weight = i64::try_from(raw.saturating_mul(open) / 1000).unwrap_or(i64::MAX / 4096);
            StoreWeight { weight, fallback, tier }
        })
        .collect()
}

/// The tier index of each store with full history, by last year's value
/// (largest first, ties by store id); stores without it get 0 (unused).
fn tier_ranks(stores: &[StoreBasis], totals: &[i64], full: &[bool], tiers: &[Tier]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..stores.len()).filter(|&i| full[i]).collect();
    order.sort_by(|&a, &b| totals[b].cmp(&totals[a]).then(stores[a].store.cmp(&stores[b].store)));
    let n = order.len();
    let mut out = vec![0usize; stores.len()];
    let mut bounds = Vec::new();
    let mut cum = 0u32;
    for t in tiers {
        cum += t.share_pct;
        bounds.push((n as u64 * u64::from(cum)).div_ceil(100) as usize);
    }
    for (rank, &i) in order.iter().enumerate() {
        out[i] = bounds.iter().position(|&b| rank < b).unwrap_or(tiers.len().saturating_sub(1));
    }
    out
}

/// Where a store's monthly or daily shape came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeSource {
    Own,
    Region,
    Company,
    /// No history anywhere: days in the month, or every weekday alike.
    Flat,
}

impl ShapeSource {
    pub fn key(self) -> &'static str {
        match self {
            ShapeSource::Own => "own",
            ShapeSource::Region => "region",
            ShapeSource::Company => "company",
            ShapeSource::Flat => "flat",
        }
    }
}

/// Last year's value per calendar month, when a store's history covers all twelve.
pub fn seasonality(days: &[(NaiveDate, i64)]) -> Option<[i64; 12]> {
    let (sums, seen) = by_month(days);
    (seen.iter().all(|&s| s) && sums.iter().any(|&v| v > 0)).then(|| sums.map(|v| v.max(0)))
}

/// The weights of the twelve months of `year` for a store opening on `open`:
/// `season` (or the days of each month when `None`) times the share of the
/// month the store is open.
pub fn month_weights(season: Option<&[i64; 12]>, year: i32, open: NaiveDate) -> [i64; 12] {
    std::array::from_fn(|m| {
        let Some(first) = NaiveDate::from_ymd_opt(year, m as u32 + 1, 1) else { return 0 };
        let days = first.iter_days().take_while(|d| d.month0() == m as u32).count() as i64;
        let open_days = first.iter_days().take_while(|d| d.month0() == m as u32).filter(|d| *d >= open).count() as i64;
        match season {
            Some(s) => s[m].saturating_mul(open_days) * 100 / days,
            None => open_days * 100,
        }
    })
}

/// The mean value of each weekday (Monday first) on ordinary days, when the
/// history has at least four ordinary days of every weekday.
pub fn weekday_profile<'a>(
    days: impl IntoIterator<Item = &'a (NaiveDate, i64)>,
    calendar: &Calendar,
) -> Option<[i64; 7]> {
    let mut sum = [0i64; 7];
    let mut n = [0i64; 7];
    for &(d, v) in days {
        if calendar.ordinary(d) {
            let w = d.weekday().num_days_from_monday() as usize;
            sum[w] += v;
            n[w] += 1;
        }
    }
    if n.iter().any(|&c| c < 4) {
        return None;
    }
    let profile: [i64; 7] = std::array::from_fn(|w| (sum[w] / n[w]).max(0));
    profile.iter().any(|&p| p > 0).then_some(profile)
}

/// The weight of each day of the month `month` (`YYYYMM`): the weekday
/// profile's value (every day alike without one); a holiday as the mean of
/// Saturday and Sunday times its uplift; an adjusted working day as the mean
/// of Monday to Friday; nothing before the store opens.
pub fn day_weights(
    month: i64,
    profile: Option<&[i64; 7]>,
    calendar: &Calendar,
    open: NaiveDate,
) -> Vec<(NaiveDate, i64)> {
    let Some(first) = NaiveDate::from_ymd_opt((month / 100) as i32, (month % 100) as u32, 1) else {
        return Vec::new();
    };
    let flat = [1i64; 7];
    let p = profile.unwrap_or(&flat);
    let weekend = (p[5] + p[6]) * 500;
    let weekday = p[..5].iter().sum::<i64>() * 200;
    first
        .iter_days()
        .take_while(|d| d.month() == first.month())
        .map(|d| {
            let w = match calendar.kind(d) {
                _ if d < open => 0,
                Some((DayKind::Holiday, uplift)) => weekend * uplift / 1000,
                Some((DayKind::Workday, _)) => weekday,
                None => p[d.weekday().num_days_from_monday() as usize] * 1000,
            };
            (d, w)
        })
        .collect()
}

/// Whether a date falls on Saturday or Sunday.
pub fn weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::calendar::published;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn basis(store: i64, area: i64, open: &str, per_day: i64, from: &str, to: &str) -> StoreBasis {
        let days = date(from).iter_days().take_while(|d| *d <= date(to)).map(|d| (d, per_day)).collect();
        StoreBasis { store, region: 1, area_sqm: area, open_date: date(open), days }
    }

    #[test]
    fn last_year_shares_with_the_area_fallback_for_new_stores() {
        let stores = [
            basis(1, 100, "2020-01-01", 1000, "2025-01-01", "2025-12-31"),
            basis(2, 300, "2020-01-01", 1000, "2025-01-01", "2025-12-31"),
            basis(3, 200, "2025-07-01", 5000, "2025-07-01", "2025-12-31"),
        ];
        let w = store_weights(Method::LastYear, &stores, &default_tiers(), 2026);
        // Chain: 730 000 fen over 400 m²; store 3 counts as 200 m² at that rate.
        assert_eq!(w.iter().map(|s| s.weight).collect::<Vec<_>>(), vec![365_000 * 400, 365_000 * 400, 200 * 730_000]);
        assert_eq!(w.iter().map(|s| s.fallback).collect::<Vec<_>>(), vec![false, false, true]);
        let w = store_weights(Method::Area, &stores, &default_tiers(), 2026);
        assert_eq!(w.iter().map(|s| s.weight).collect::<Vec<_>>(), vec![100, 300, 200]);
    }

    #[test]
    fn tiers_rank_stores_by_last_year_and_grow_them_by_their_rate() {
        let stores: Vec<StoreBasis> =
            (1..=10).map(|i| basis(i, 100, "2020-01-01", i * 10, "2025-01-01", "2025-12-31")).collect();
        let w = store_weights(Method::Tier, &stores, &default_tiers(), 2026);
        let tiers: Vec<&str> = w.iter().map(|s| s.tier.as_deref().unwrap_or("")).collect();
        assert_eq!(tiers, ["C", "C", "C", "B", "B", "B", "B", "B", "A", "A"]);
        assert_eq!(w[9].weight, 100 * 365 * 1000 * 10_300 / 10_000);
        assert_eq!(w[0].weight, 10 * 365 * 1000 * 11_000 / 10_000);
        assert_eq!(parse_tiers("A:20:3,B:50:6.5,C:30:10").unwrap()[1].growth_bp, 650);
        assert!(parse_tiers("A:20:3,B:50:6").is_err());
    }

    #[test]
    fn a_store_opening_mid_year_counts_for_its_open_part() {
        let stores = [basis(1, 100, "2026-07-02", 0, "2025-01-01", "2024-12-31")];
        let w = store_weights(Method::Area, &stores, &default_tiers(), 2026);
        assert_eq!(w[0].weight, 100 * 501 / 1000); // 183 of 365 days: 501 ‰
        let m = month_weights(None, 2026, date("2026-07-02"));
        assert_eq!(&m[5..8], &[0, 3000, 3100]);
    }

    #[test]
    fn days_follow_the_weekday_profile_and_the_holidays() {
        let cal = Calendar::new(&published());
        // Weekends sell twice the weekdays.
        let history: Vec<(NaiveDate, i64)> =
            date("2025-01-01").iter_days().take(365).map(|d| (d, if weekend(d) { 200 } else { 100 })).collect();
        let profile = weekday_profile(&history, &cal).unwrap();
        assert_eq!(profile, [100, 100, 100, 100, 100, 200, 200]);
        let oct = day_weights(202610, Some(&profile), &cal, date("2020-01-01"));
        let w = |d: &str| oct.iter().find(|x| x.0 == date(d)).unwrap().1;
        assert_eq!(w("2026-10-01"), 200_000); // National Day, weekend-like
        assert_eq!(w("2026-10-10"), 100_000); // a Saturday worked
        assert_eq!(w("2026-10-11"), 200_000); // an ordinary Sunday
        assert_eq!(w("2026-10-12"), 100_000);
        let mut uplifted = published();
        uplifted.iter_mut().filter(|d| d.name == "国庆节").for_each(|d| d.uplift_pm = 1500);
        let oct = day_weights(202610, Some(&profile), &Calendar::new(&uplifted), date("2026-10-03"));
        assert_eq!(&oct[..4].iter().map(|x| x.1).collect::<Vec<_>>(), &[0, 0, 300_000, 300_000]);
        let short: Vec<(NaiveDate, i64)> = history[..20].to_vec();
        assert_eq!(weekday_profile(&short, &cal), None);
    }
}
