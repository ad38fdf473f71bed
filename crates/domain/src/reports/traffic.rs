//! R3, the traffic and average-ticket monitor (客单客流监控表,
//! `bench/REPORTS.md` §5): each store-day of a month against the same weekday
//! of the eight weeks before, flagged when traffic leaves its normal band.

use chrono::{Datelike, NaiveDate};

use crate::rdiv;
use crate::reports::table::{Cell, Kind, ReportTable, col};

/// A store-day's traffic and revenue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrafficDay {
    pub date: NaiveDate,
    pub tickets: i64,
    pub revenue: i64,
}

/// Where a day's traffic stands against its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// Fewer than four baseline days.
    Insufficient,
    High,
    Low,
    Normal,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Insufficient => "insufficient",
            Flag::High => "high",
            Flag::Low => "low",
            Flag::Normal => "normal",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrafficRow {
    pub date: NaiveDate,
    /// ISO weekday, 1 = Monday.
    pub weekday: u32,
    pub tickets: i64,
    pub aov: Option<i64>,
    pub baseline_n: i64,
    /// Hundredths.
    pub baseline_mean: Option<i64>,
    /// Hundredths.
    pub baseline_sd: Option<i64>,
    pub flag: Flag,
}

/// The monitor rows of one store: `days` is the store's history sorted by
/// date (at least the month and the 56 days before it); rows are made for
/// the days in `from..=to`.
pub fn traffic_rows(days: &[TrafficDay], from: NaiveDate, to: NaiveDate) -> Vec<TrafficRow> {
    let tickets_on = |d: NaiveDate| days.binary_search_by_key(&d, |x| x.date).ok().map(|i| days[i].tickets);
    days.iter()
        .filter(|x| x.date >= from && x.date <= to)
        .map(|x| {
            let (mut n, mut s, mut q) = (0i128, 0i128, 0i128);
            for t in (1..=8).filter_map(|k| tickets_on(x.date - chrono::Duration::days(7 * k))) {
                let t = i128::from(t);
                (n, s, q) = (n + 1, s + t, q + t * t);
            }
            let t = i128::from(x.tickets);
            let flag = if n < 4 {
                Flag::Insufficient
            } else if (n * t - s) * (n * t - s) * (n - 1) > 4 * n * (n * q - s * s) {
                if n * t > s { Flag::High } else { Flag::Low }
            } else {
                Flag::Normal
            };
            let sd = (n >= 2).then(|| {
                let v = ((n * q - s * s) as f64 / (n * (n - 1)) as f64).sqrt();
                (v * 100.0).round() as i64
            });
            TrafficRow {
                date: x.date,
                weekday: x.date.weekday().number_from_monday(),
                tickets: x.tickets,
                aov: rdiv(x.revenue.into(), x.tickets.into()),
                baseline_n: n as i64,
                baseline_mean: rdiv(100 * s, n),
                baseline_sd: sd,
                flag,
            }
        })
        .collect()
}

/// R3 as a table, for the stores in the order given.
pub fn traffic_table(month: &str, stores: &[(String, Vec<TrafficRow>)]) -> ReportTable {
    ReportTable {
        name: "r3_traffic",
        title_zh: format!("客单客流监控 {month}"),
        title_en: format!("Traffic and AOV monitor {month}"),
        columns: vec![
            col("store_code", "门店", "store", Kind::Text),
            col("date", "日期", "date", Kind::Date),
            col("weekday", "星期", "weekday", Kind::Int),
            col("tickets", "客流", "tickets", Kind::Int),
            col("aov", "客单价", "AOV", Kind::Fixed2),
            col("baseline_n", "基准天数", "baseline days", Kind::Int),
            col("baseline_mean", "基准均值", "baseline mean", Kind::Fixed2),
            col("baseline_sd", "基准标准差", "baseline s.d.", Kind::Fixed2),
            col("flag", "标记", "flag", Kind::Text),
        ],
        rows: stores
            .iter()
            .flat_map(|(code, rows)| {
                rows.iter().map(move |r| {
                    vec![
                        Cell::Text(code.clone()),
                        Cell::Date(r.date),
                        Cell::Int(i64::from(r.weekday)),
                        Cell::Int(r.tickets),
                        Cell::opt2(r.aov),
                        Cell::Int(r.baseline_n),
                        Cell::opt2(r.baseline_mean),
                        Cell::opt2(r.baseline_sd),
                        Cell::Text(r.flag.as_str().into()),
                    ]
                })
            })
            .collect(),
        totals: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: NaiveDate, tickets: i64) -> TrafficDay {
        TrafficDay { date: d, tickets, revenue: tickets * 1000 }
    }

    #[test]
    fn a_day_far_above_its_weekdays_is_high_and_missing_days_are_skipped() {
        let x = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let mut days: Vec<TrafficDay> =
            (1..=8).filter(|k| *k != 3).map(|k| day(x - chrono::Duration::days(7 * k), 100 + k)).collect();
        days.push(day(x, 200));
        days.sort_by_key(|d| d.date);
        let rows = traffic_rows(&days, x, x);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!((r.baseline_n, r.flag, r.weekday), (7, Flag::High, 6));
        assert_eq!(r.baseline_mean, Some(10471));
        assert_eq!(r.aov, Some(1000));
    }

    #[test]
    fn with_no_spread_any_change_flags_and_few_days_are_insufficient() {
        let x = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let mut days: Vec<TrafficDay> = (1..=4).map(|k| day(x - chrono::Duration::days(7 * k), 50)).collect();
        days.push(day(x, 49));
        days.sort_by_key(|d| d.date);
        assert_eq!(traffic_rows(&days, x, x)[0].flag, Flag::Low);
        assert_eq!(traffic_rows(&days[1..], x, x)[0].flag, Flag::Insufficient);
        assert_eq!(traffic_rows(&days[1..], x, x)[0].baseline_sd, Some(0));
    }
}
