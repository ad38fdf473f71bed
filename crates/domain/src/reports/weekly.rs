//! The weekly report (周报) by ISO week: per store, by region and for the
//! company, with week-on-week and year-on-year growth (`docs/reports.md`).

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::reports::period::{PERIOD_COLUMNS, PeriodSums, group_sums};
use crate::reports::table::{Cell, Column, Kind, ReportTable, col};

/// An ISO week: its year and number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IsoWeek {
    pub year: i32,
    pub week: u32,
}

impl IsoWeek {
    /// Parses `2026-W44` (or `2026W44`).
    pub fn parse(text: &str) -> Option<IsoWeek> {
        let (y, w) = text.trim().split_once(['W', 'w'])?;
        let year: i32 = y.trim_end_matches('-').parse().ok()?;
        let week: u32 = w.parse().ok()?;
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(|_| IsoWeek { year, week })
    }

    pub fn of(d: NaiveDate) -> IsoWeek {
        let w = d.iso_week();
        IsoWeek { year: w.year(), week: w.week() }
    }

    pub fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon).expect("a parsed week exists")
    }

    pub fn sunday(self) -> NaiveDate {
        self.monday() + Duration::days(6)
    }

    pub fn previous(self) -> IsoWeek {
        IsoWeek::of(self.monday() - Duration::days(7))
    }

    /// The week with the same number a year earlier; `None` for week 53 when
    /// the year before had 52 weeks.
    pub fn last_year(self) -> Option<IsoWeek> {
        NaiveDate::from_isoywd_opt(self.year - 1, self.week, Weekday::Mon)
            .map(|_| IsoWeek { year: self.year - 1, week: self.week })
    }

    pub fn label(self) -> String {
        format!("{}-W{:02}", self.year, self.week)
    }
}

/// What the weekly report needs of one store: its sums this week, last week
/// and in the same week last year.
#[derive(Debug, Clone)]
pub struct WeeklyInput {
    pub store_code: String,
    pub region: String,
    pub week: PeriodSums,
    pub last_week: PeriodSums,
    pub last_year: PeriodSums,
}

fn columns() -> Vec<Column> {
    let mut v = vec![
        col("store_code", "门店", "store", Kind::Text),
        col("week", "周", "week", Kind::Text),
        col("days", "营业天数", "days", Kind::Int),
    ];
    v.extend(PERIOD_COLUMNS);
    v.extend([
        col("lw_revenue", "上周销售额", "last week", Kind::Money),
        col("wow_pct", "周环比%", "WoW %", Kind::Growth),
        col("ly_revenue", "去年同周销售额", "same week last year", Kind::Money),
        col("yoy_pct", "同比%", "YoY %", Kind::Growth),
    ]);
    v
}

fn cells(label: String, week: IsoWeek, [cur, lw, ly]: &[PeriodSums; 3]) -> Vec<Cell> {
    let mut v = vec![Cell::Text(label), Cell::Text(week.label()), Cell::Int(cur.days)];
    v.extend(cur.cells());
    v.extend([
        Cell::Fixed2(lw.revenue),
        Cell::opt2(cur.growth_pct(lw)),
        Cell::Fixed2(ly.revenue),
        Cell::opt2(cur.growth_pct(ly)),
    ]);
    v
}

/// The weekly report: store rows in the order given, then region totals and
/// the company total.
pub fn weekly_table(week: IsoWeek, inputs: &[WeeklyInput]) -> ReportTable {
    let rows = inputs.iter().map(|i| cells(i.store_code.clone(), week, &[i.week, i.last_week, i.last_year])).collect();
    let regions = group_sums(inputs.iter().map(|i| (i.region.as_str(), [&i.week, &i.last_week, &i.last_year])));
    let company = group_sums(inputs.iter().map(|i| ("Σ", [&i.week, &i.last_week, &i.last_year])));
    let mut totals: Vec<Vec<Cell>> = regions.iter().map(|(name, s)| cells(format!("Σ {name}"), week, s)).collect();
    totals.extend(company.iter().map(|(name, s)| cells(name.clone(), week, s)));
    ReportTable {
        name: "weekly",
        title_zh: format!("周报 {}（{} 至 {}）", week.label(), week.monday(), week.sunday()),
        title_en: format!("Weekly report {} ({} to {})", week.label(), week.monday(), week.sunday()),
        columns: columns(),
        rows,
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks_parse_and_step() {
        let w = IsoWeek::parse("2026-W44").unwrap();
        assert_eq!((w.monday().to_string(), w.sunday().to_string()), ("2026-10-26".into(), "2026-11-01".into()));
        assert_eq!(w.previous().label(), "2026-W43");
        assert_eq!(IsoWeek::parse("2026-W01").unwrap().previous().label(), "2025-W52");
        assert_eq!(w.last_year().unwrap().label(), "2025-W44");
        assert_eq!(IsoWeek::parse("2026-W53").unwrap().last_year(), None);
        assert_eq!(IsoWeek::parse("2025-W53"), None);
        assert_eq!(IsoWeek::parse("2026W44"), Some(w));
    }

    #[test]
    fn totals_add_the_sums_of_their_stores() {
        let s = |revenue, tickets| PeriodSums {
            revenue,
            cost: revenue / 2,
            tickets,
            qty: Some(tickets),
            member_revenue: Some(0),
            days: 7,
        };
        let w = IsoWeek::parse("2026-W44").unwrap();
        let inputs = vec![
            WeeklyInput {
                store_code: "S1".into(),
                region: "华东".into(),
                week: s(1000, 3),
                last_week: s(800, 2),
                last_year: PeriodSums::zero(),
            },
            WeeklyInput {
                store_code: "S2".into(),
                region: "华东".into(),
                week: s(1001, 3),
                last_week: s(1200, 2),
                last_year: s(500, 1),
            },
        ];
        let t = weekly_table(w, &inputs);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.totals.len(), 2);
        let company = &t.totals[1];
        assert_eq!(company[0], Cell::Text("Σ".into()));
        assert_eq!(company[3], Cell::Fixed2(2001));
        assert_eq!(company[7], Cell::Fixed2(334)); // 2001 / 6 = 333.5 → 334
        assert_eq!(company[11], Cell::Fixed2(5)); // 2001 vs 2000: +0.05%
        assert_eq!(company[13], Cell::Fixed2(30020));
        assert_eq!(t.rows.to_vec()[0][13], Cell::Null);
    }
}
