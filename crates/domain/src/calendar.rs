//! Business dates. A sale belongs to the date printed on its receipt; no time
//! zone arithmetic is ever done on it. Month and ISO-week keys are plain
//! integers (`202610`, `202644`) so that both databases group by them alike.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// Why a text is not a date or a time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    Empty,
    /// Not in the accepted layout (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`).
    Layout,
    /// The layout is right but no such day or time exists (`2025-02-30`, `25:61`).
    NoSuchDate,
}

impl DateError {
    pub fn text(self, lang: crate::i18n::Lang, with_time: bool) -> &'static str {
        match (self, with_time) {
            (DateError::Empty, _) => lang.pick("日期为空", "the date is empty"),
            (DateError::Layout, true) => {
                lang.pick("时间格式应为 YYYY-MM-DD HH:MM:SS", "expected a time stamp as YYYY-MM-DD HH:MM:SS")
            }
            (DateError::Layout, false) => lang.pick("日期格式应为 YYYY-MM-DD", "expected a date as YYYY-MM-DD"),
            (DateError::NoSuchDate, _) => lang.pick("不存在的日期或时间", "no such calendar date or time"),
        }
    }
}

fn digits<const N: usize>(b: &[u8]) -> Option<u32> {
    if b.len() != N || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0')))
}

/// Parses `YYYY-MM-DD` exactly.
pub fn parse_date(text: &str) -> Result<NaiveDate, DateError> {
    let b = text.trim_ascii().as_bytes();
    if b.is_empty() {
        return Err(DateError::Empty);
    }
    date_bytes(b)
}

fn date_bytes(b: &[u8]) -> Result<NaiveDate, DateError> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(DateError::Layout);
    }
    let (Some(y), Some(m), Some(d)) = (digits::<4>(&b[0..4]), digits::<2>(&b[5..7]), digits::<2>(&b[8..10])) else {
        return Err(DateError::Layout);
    };
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(DateError::NoSuchDate)
}

/// Parses `YYYY-MM-DD HH:MM:SS` (or with `T` between date and time) exactly.
pub fn parse_datetime(text: &str) -> Result<NaiveDateTime, DateError> {
    let b = text.trim_ascii().as_bytes();
    if b.is_empty() {
        return Err(DateError::Empty);
    }
    if b.len() != 19 || !(b[10] == b' ' || b[10] == b'T') || b[13] != b':' || b[16] != b':' {
        return Err(DateError::Layout);
    }
    let date = date_bytes(&b[..10])?;
    let (Some(h), Some(mi), Some(s)) = (digits::<2>(&b[11..13]), digits::<2>(&b[14..16]), digits::<2>(&b[17..19]))
    else {
        return Err(DateError::Layout);
    };
    let time = NaiveTime::from_hms_opt(h, mi, s).ok_or(DateError::NoSuchDate)?;
    Ok(date.and_time(time))
}

/// `2026-10-31` → `202610`.
pub fn month_key(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 100 + i64::from(d.month())
}

/// ISO week key: `2026-10-31` (week 44 of ISO year 2026) → `202644`.
pub fn iso_week_key(d: NaiveDate) -> i64 {
    let w = d.iso_week();
    i64::from(w.year()) * 100 + i64::from(w.week())
}

/// The first and last day of a month given as `yyyymm`.
/// `202610` → `2026-10`.
pub fn month_label(m: i64) -> String {
    format!("{:04}-{:02}", m / 100, m % 100)
}

/// `2026-10` → `202610`, when it is a month.
pub fn parse_month(text: &str) -> Option<i64> {
    parse_date(&format!("{}-01", text.trim())).ok().map(month_key)
}

pub fn month_bounds(month: i64) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(i32::try_from(month / 100).ok()?, u32::try_from(month % 100).ok()?, 1)?;
    let next = if month % 100 == 12 { month + 89 } else { month + 1 };
    let next_first = NaiveDate::from_ymd_opt((next / 100) as i32, (next % 100) as u32, 1)?;
    Some((first, next_first.pred_opt()?))
}

/// The first day of the month of `d`.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("every month has a first day")
}

/// The same calendar date one year earlier; 29 February maps to 28 February.
pub fn same_date_last_year(d: NaiveDate) -> NaiveDate {
    d.with_year(d.year() - 1)
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(d.year() - 1, 2, 28).expect("28 February exists"))
}

/// The same weekday one week earlier.
pub fn same_weekday_last_week(d: NaiveDate) -> NaiveDate {
    d - Duration::days(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months_read_and_print_as_yyyy_mm() {
        assert_eq!(parse_month("2026-10"), Some(202610));
        assert_eq!(parse_month(" 2026-01 "), Some(202601));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("2026-1"), None);
        assert_eq!(month_label(202610), "2026-10");
    }

    #[test]
    fn accepts_the_pos_time_stamp() {
        assert_eq!(parse_datetime("2026-10-31 21:59:59").unwrap(), ymd(2026, 10, 31).and_hms_opt(21, 59, 59).unwrap());
        assert_eq!(parse_datetime("2026-10-31T08:00:00").unwrap(), ymd(2026, 10, 31).and_hms_opt(8, 0, 0).unwrap());
    }

    #[test]
    fn refuses_the_dirty_generators_dates() {
        assert_eq!(parse_datetime("2025-02-30 10:12:00"), Err(DateError::NoSuchDate));
        assert_eq!(parse_datetime("2025/03/01 10:12:00"), Err(DateError::Layout));
        assert_eq!(parse_datetime("2025-03-01T25:61:00"), Err(DateError::NoSuchDate));
        assert_eq!(parse_datetime(""), Err(DateError::Empty));
        assert_eq!(parse_datetime("not-a-date"), Err(DateError::Layout));
        assert_eq!(parse_datetime("2025-13-01 09:00:00"), Err(DateError::NoSuchDate));
        assert_eq!(parse_datetime("20250301 101200"), Err(DateError::Layout));
    }

    #[test]
    fn keys_and_shifts() {
        assert_eq!(month_key(ymd(2026, 10, 31)), 202610);
        assert_eq!(iso_week_key(ymd(2026, 10, 31)), 202644);
        assert_eq!(iso_week_key(ymd(2027, 1, 1)), 202653);
        assert_eq!(same_date_last_year(ymd(2024, 2, 29)), ymd(2023, 2, 28));
        assert_eq!(same_date_last_year(ymd(2026, 10, 31)), ymd(2025, 10, 31));
        assert_eq!(month_start(ymd(2026, 10, 31)), ymd(2026, 10, 1));
        assert_eq!(parse_date("2026-02-29"), Err(DateError::NoSuchDate));
        assert_eq!(month_bounds(202402), Some((ymd(2024, 2, 1), ymd(2024, 2, 29))));
        assert_eq!(month_bounds(202612), Some((ymd(2026, 12, 1), ymd(2026, 12, 31))));
        assert_eq!(month_bounds(202613), None);
    }
}
