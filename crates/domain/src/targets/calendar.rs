//! The holiday calendar (节假日): Chinese public holidays and the adjusted
//! working days (调休上班) around them, each holiday with an uplift factor
//! that scales its days' share of a month's target. Editable; the seeded
//! years are those the State Council has published.

use std::collections::HashMap;

use chrono::NaiveDate;

/// What kind of day a calendar entry makes of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// A public holiday: weighted like a weekend day, times its uplift.
    Holiday,
    /// A weekend day worked in exchange for a holiday: weighted like a weekday.
    Workday,
}

impl DayKind {
    pub fn key(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(text: &str) -> Option<DayKind> {
        match text.trim() {
            "holiday" | "假日" | "节假日" | "放假" => Some(DayKind::Holiday),
            "workday" | "调休" | "上班" | "调休上班" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// One date of the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// The holiday's name, e.g. `春节`.
    pub name: String,
    /// Uplift in per mille: 1000 leaves a holiday weighted as a weekend day,
    /// 1300 gives it 30 % more. Ignored on working days.
    pub uplift_pm: i64,
}

/// The calendar as the decomposition reads it.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    days: HashMap<NaiveDate, (DayKind, i64)>,
}

impl Calendar {
    pub fn new(days: &[CalendarDay]) -> Calendar {
        Calendar { days: days.iter().map(|d| (d.date, (d.kind, d.uplift_pm))).collect() }
    }

    pub fn kind(&self, d: NaiveDate) -> Option<(DayKind, i64)> {
        self.days.get(&d).copied()
    }

    /// Whether the date is an ordinary day (neither holiday nor adjusted).
    pub fn ordinary(&self, d: NaiveDate) -> bool {
        !self.days.contains_key(&d)
    }

    pub fn has_year(&self, year: i32) -> bool {
        use chrono::Datelike;
        self.days.keys().any(|d| d.year() == year)
    }
}

/// A factor such as `1.3` or `0.85` as per mille (1300, 850); up to three
/// decimals, above zero.
pub fn parse_uplift(text: &str) -> Option<i64> {
    let t = text.trim();
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 3 || frac.len() > 3 || !ok(int) || !ok(frac) {
        return None;
    }
    let frac_pm: i64 = format!("{frac:0<3}").parse().ok()?;
    let pm = int.parse::<i64>().ok()? * 1000 + frac_pm;
    (pm > 0).then_some(pm)
}

/// The published calendars of 2024–2026: (name, holidays as first..=last,
/// adjusted working days).
const PUBLISHED: &[(&str, (&str, &str), &[&str])] = &[
    ("元旦", ("2024-01-01", "2024-01-01"), &[]),
    ("春节", ("2024-02-10", "2024-02-17"), &["2024-02-04", "2024-02-18"]),
    ("清明节", ("2024-04-04", "2024-04-06"), &["2024-04-07"]),
    ("劳动节", ("2024-05-01", "2024-05-05"), &["2024-04-28", "2024-05-11"]),
    ("端午节", ("2024-06-10", "2024-06-10"), &[]),
    ("中秋节", ("2024-09-15", "2024-09-17"), &["2024-09-14"]),
    ("国庆节", ("2024-10-01", "2024-10-07"), &["2024-09-29", "2024-10-12"]),
    ("元旦", ("2025-01-01", "2025-01-01"), &[]),
    ("春节", ("2025-01-28", "2025-02-04"), &["2025-01-26", "2025-02-08"]),
    ("清明节", ("2025-04-04", "2025-04-06"), &[]),
    ("劳动节", ("2025-05-01", "2025-05-05"), &["2025-04-27"]),
    ("端午节", ("2025-05-31", "2025-06-02"), &[]),
    ("国庆节、中秋节", ("2025-10-01", "2025-10-08"), &["2025-09-28", "2025-10-11"]),
    ("元旦", ("2026-01-01", "2026-01-03"), &["2026-01-04"]),
    ("春节", ("2026-02-15", "2026-02-23"), &["2026-02-14", "2026-02-28"]),
    ("清明节", ("2026-04-04", "2026-04-06"), &[]),
    ("劳动节", ("2026-05-01", "2026-05-05"), &["2026-05-09"]),
    ("端午节", ("2026-06-19", "2026-06-21"), &[]),
    ("中秋节", ("2026-09-25", "2026-09-27"), &[]),
    ("国庆节", ("2026-10-01", "2026-10-07"), &["2026-09-20", "2026-10-10"]),
];

/// The calendar opsdesk starts with, every uplift at 1000.
pub fn published() -> Vec<CalendarDay> {
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
    let mut out = Vec::new();
    for &(name, (first, last), workdays) in PUBLISHED {
        let (first, last) = (date(first), date(last));
        out.extend(first.iter_days().take_while(|d| *d <= last).map(|d| CalendarDay {
            date: d,
            kind: DayKind::Holiday,
            name: name.to_string(),
            uplift_pm: 1000,
        }));
        out.extend(workdays.iter().map(|w| CalendarDay {
            date: date(w),
            kind: DayKind::Workday,
            name: name.to_string(),
            uplift_pm: 1000,
        }));
    }
    out.sort_by_key(|d| d.date);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Weekday};

    #[test]
    fn uplifts_read_as_per_mille() {
        assert_eq!(parse_uplift("1.3"), Some(1300));
        assert_eq!(parse_uplift("0.855"), Some(855));
        assert_eq!(parse_uplift("2"), Some(2000));
        for bad in ["0", "-1", "1.2345", "", "x", "1e3", ".5"] {
            assert_eq!(parse_uplift(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_published_years_are_whole_and_adjusted_days_fall_on_weekends() {
        let days = published();
        let holidays = |y| days.iter().filter(|d| d.date.year() == y && d.kind == DayKind::Holiday).count();
        assert_eq!((holidays(2024), holidays(2025), holidays(2026)), (28, 28, 33));
        for d in days.iter().filter(|d| d.kind == DayKind::Workday) {
            assert!(matches!(d.date.weekday(), Weekday::Sat | Weekday::Sun), "{} is not a weekend", d.date);
        }
        let mut dates: Vec<_> = days.iter().map(|d| d.date).collect();
        dates.dedup();
        assert_eq!(dates.len(), days.len());
    }
}
