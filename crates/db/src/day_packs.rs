//! The store-days as stored: one row of `sales_days` per store and month,
//! its days packed into one value (`opsdesk_domain::sales::codec::pack_days`).
//!
//! A row per store-day cost every import two B-tree inserts per store-day
//! (the table and its index by date) and most of the write's time; a month
//! to a row writes thirty times fewer (see `docs/storage.md`). Every read of
//! store-day figures goes through [`Db::stored_days`] and
//! [`Db::stored_days_of`], which unpack the months a range touches and keep
//! the days within it.

use chrono::NaiveDate;
use opsdesk_domain::calendar::{month_bounds, month_key};
use opsdesk_domain::sales::codec::{PackedDay, category_sections, for_each_day, member_sections};
use opsdesk_domain::sales::{DayKey, DayRow, DaySource, StoreId};
use rustc_hash::FxHashMap;

use crate::fetch::{Arg, Col, bytes};
use crate::{Db, DbError, Pool, Result};

/// One stored store-day: its store, its date and its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredDay {
    pub(crate) store: StoreId,
    pub(crate) date: NaiveDate,
    pub(crate) day: PackedDay,
}

impl StoredDay {
    pub(crate) fn key(&self) -> DayKey {
        DayKey { store: self.store, date: self.date }
    }

    /// The day as a batch row, without categories and members.
    pub(crate) fn to_row(self) -> DayRow {
        let d = self.day;
        DayRow {
            categories: None,
            members: None,
            key: self.key(),
            revenue: d.revenue,
            cost: d.cost,
            qty: d.qty,
            tickets: d.tickets,
            member_revenue: d.member_revenue,
            member_tickets: d.member_tickets,
            returns: d.returns,
            lines: d.lines,
            source: d.source,
        }
    }
}

pub(crate) fn damaged() -> DbError {
    DbError::Rule("a packed rollup value is damaged".into())
}

/// A batch's day as its month's pack holds it.
pub(crate) fn packed(r: &DayRow, batch: i64) -> PackedDay {
    use chrono::Datelike;
    PackedDay {
        day: r.key.date.day() as u8,
        revenue: r.revenue,
        cost: r.cost,
        tickets: r.tickets,
        qty: r.qty,
        member_revenue: r.member_revenue,
        member_tickets: r.member_tickets,
        returns: r.returns,
        lines: r.lines,
        source: r.source,
        batch,
    }
}

/// A stored day's categories and members, packed.
pub(crate) type Detail = (Vec<u8>, Vec<u8>);

/// Adds the days of `store`'s month `month` (`YYYYMM`) of packed members
/// and categories to `out`.
pub(crate) fn unpack_detail(
    store: StoreId,
    month: i64,
    members: &[u8],
    categories: &[u8],
    out: &mut FxHashMap<DayKey, Detail>,
) -> Result<()> {
    let bounds = month_bounds(month).ok_or_else(damaged)?;
    let members = member_sections(members).map_err(|_| damaged())?;
    let categories = category_sections(categories).map_err(|_| damaged())?;
    if members.len() != categories.len() {
        return Err(damaged());
    }
    for ((day, m), (cday, c)) in members.into_iter().zip(categories) {
        let date = date_in_month(bounds, day).filter(|_| day == cday).ok_or_else(damaged)?;
        out.insert(DayKey { store, date }, (c, m.to_vec()));
    }
    Ok(())
}

/// The date of day `day` of the month from `first` to `last`, if it has one.
fn date_in_month((first, last): (NaiveDate, NaiveDate), day: u8) -> Option<NaiveDate> {
    let date = first.checked_add_days(chrono::Days::new(u64::from(day).checked_sub(1)?))?;
    (date <= last).then_some(date)
}

/// Unpacks `store`'s month `month` (`YYYYMM`) and hands `f` its days from
/// `from` to `to`.
pub(crate) fn unpack_month(
    store: StoreId,
    month: i64,
    packed: &[u8],
    (from, to): (NaiveDate, NaiveDate),
    mut f: impl FnMut(StoredDay),
) -> Result<()> {
    let bounds = month_bounds(month).ok_or_else(damaged)?;
    let mut bad = false;
    for_each_day(packed, |day| match date_in_month(bounds, day.day) {
        Some(date) => {
            if date >= from && date <= to {
                f(StoredDay { store, date, day });
            }
        }
        None => bad = true,
    })
    .map_err(|_| damaged())?;
    if bad { Err(damaged()) } else { Ok(()) }
}

/// How many of `store`'s days of month `month` (`YYYYMM`) from `from` to
/// `to` came as daily summaries.
pub(crate) fn summary_days_of_month(
    store: StoreId,
    month: i64,
    packed: &[u8],
    range: (NaiveDate, NaiveDate),
) -> Result<i64> {
    let mut n = 0;
    unpack_month(store, month, packed, range, |d| n += i64::from(d.day.source == DaySource::Summary))?;
    Ok(n)
}

/// A row of the table of one row per store-day that `sales_days` replaced
/// (schema step 12): store, date, revenue, cost, quantity, tickets, member
/// revenue, member tickets, returns, lines, source, batch.
pub(crate) type DayTableRow =
    (i64, NaiveDate, i64, i64, Option<i64>, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>, String, i64);

/// The rows of that table of store `$1`, in date order.
pub(crate) const DAY_TABLE_ROWS: &str = "SELECT store_id, d, revenue_c, cost_c, qty, tickets, member_revenue_c,
    member_tickets, returns_c, lines, source, batch_id FROM sales_day WHERE store_id = $1 ORDER BY d";

/// A row of the table of a store-day's categories and members that
/// `sales_detail` replaced (schema step 12): date, categories, members.
pub(crate) type DetailTableRow = (NaiveDate, Vec<u8>, Vec<u8>);

/// The rows of that table of store `$1`, in date order.
pub(crate) const DETAIL_TABLE_ROWS: &str =
    "SELECT d, categories, members FROM sales_day_detail WHERE store_id = $1 ORDER BY d";

/// One store's rows of that table packed: (month, members, categories) per month.
pub(crate) fn detail_packs_of_table_rows(rows: &[DetailTableRow]) -> Vec<(i64, Vec<u8>, Vec<u8>)> {
    use chrono::Datelike;
    use opsdesk_domain::sales::codec::join_sections;
    rows.chunk_by(|a, b| month_key(a.0) == month_key(b.0))
        .map(|part| {
            let day = |r: &DetailTableRow| r.0.day() as u8;
            let members = join_sections(part.iter().map(|r| (day(r), r.2.as_slice())));
            let categories = join_sections(part.iter().map(|r| (day(r), r.1.as_slice())));
            (month_key(part[0].0), members, categories)
        })
        .collect()
}

/// One store's rows of the day table packed: (month, days) per month.
pub(crate) fn packs_of_table_rows(rows: &[DayTableRow]) -> Vec<(i64, Vec<u8>)> {
    use opsdesk_domain::sales::DaySource;
    use opsdesk_domain::sales::codec::pack_days;
    let mut out = Vec::new();
    for part in rows.chunk_by(|a, b| month_key(a.1) == month_key(b.1)) {
        let days: Vec<PackedDay> = part
            .iter()
            .map(|r| {
                let source = if r.10 == "summary" { DaySource::Summary } else { DaySource::Lines };
                let row = DayRow {
                    categories: None,
                    members: None,
                    key: DayKey { store: r.0, date: r.1 },
                    revenue: r.2,
                    cost: r.3,
                    qty: r.4,
                    tickets: r.5,
                    member_revenue: r.6,
                    member_tickets: r.7,
                    returns: r.8,
                    lines: r.9,
                    source,
                };
                packed(&row, r.11)
            })
            .collect();
        out.push((month_key(part[0].1), pack_days(&days)));
    }
    out
}

impl Db {
    /// Every stored store-day from `from` to `to`, of every store (callers
    /// keep those within the user's reach), month by month.
    pub(crate) async fn stored_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<StoredDay>> {
        let sql = "SELECT store_id, month, days FROM sales_days WHERE month BETWEEN $1 AND $2";
        self.packs(sql, &[Arg::Int(month_key(from)), Arg::Int(month_key(to))], (from, to)).await
    }

    /// One store's stored days from `from` to `to`, in date order.
    pub(crate) async fn stored_days_of(
        &self,
        store: StoreId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StoredDay>> {
        let sql = "SELECT store_id, month, days FROM sales_days WHERE month BETWEEN $1 AND $2 AND store_id = $3";
        let args = [Arg::Int(month_key(from)), Arg::Int(month_key(to)), Arg::Int(store)];
        let mut days = self.packs(sql, &args, (from, to)).await?;
        days.sort_unstable_by_key(|d| d.date);
        Ok(days)
    }

    /// Calls `f` for every stored store-day from `from` to `to`, of every
    /// store (callers keep those within the user's reach), without holding
    /// them: for a count over a year of a thousand stores.
    pub(crate) async fn each_stored_day(&self, from: NaiveDate, to: NaiveDate, f: impl FnMut(StoredDay)) -> Result<()> {
        let sql = "SELECT store_id, month, days FROM sales_days WHERE month BETWEEN $1 AND $2";
        self.each_packed_day(sql, &[Arg::Int(month_key(from)), Arg::Int(month_key(to))], (from, to), f).await
    }

    /// The days within `range` of the packs `sql` selects (store, month, days).
    async fn packs(&self, sql: &str, args: &[Arg], range: (NaiveDate, NaiveDate)) -> Result<Vec<StoredDay>> {
        let mut out = Vec::new();
        self.each_packed_day(sql, args, range, |d| out.push(d)).await?;
        Ok(out)
    }

    /// Calls `f` for each day within `range` of the packs `sql` selects.
    async fn each_packed_day(
        &self,
        sql: &str,
        args: &[Arg],
        range: (NaiveDate, NaiveDate),
        mut f: impl FnMut(StoredDay),
    ) -> Result<()> {
        if matches!(self.pool, Pool::Sqlite(_)) {
            // Unpacked in place, as SQLite steps the rows: no copy of a pack.
            self.sqlite_each(sql, args, |s| {
                let (store, month) = (i64::read(s, 0)?, i64::read(s, 1)?);
                unpack_month(store, month, bytes(s, 2), range, &mut f)
            })
            .await
        } else {
            let rows: Vec<(i64, i64, Vec<u8>)> = self.fetch_rows(sql, args).await?;
            for (store, month, packed) in rows {
                unpack_month(store, month, &packed, range, &mut f)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdesk_domain::sales::DaySource;
    use opsdesk_domain::sales::codec::pack_days;

    fn day(day: u8) -> PackedDay {
        PackedDay {
            day,
            revenue: i64::from(day) * 100,
            cost: 0,
            tickets: 1,
            qty: None,
            member_revenue: None,
            member_tickets: None,
            returns: None,
            lines: None,
            source: DaySource::Summary,
            batch: 3,
        }
    }

    #[test]
    fn a_month_unpacks_to_its_dates_within_the_range() {
        let ymd = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
        let packed = pack_days(&[day(1), day(28), day(29)]);
        let mut seen = Vec::new();
        unpack_month(7, 202402, &packed, (ymd(2, 2), ymd(3, 31)), |d| seen.push((d.store, d.date, d.day.revenue)))
            .unwrap();
        assert_eq!(seen, vec![(7, ymd(2, 28), 2800), (7, ymd(2, 29), 2900)]);
        // 2023 had no 29 February: a pack that says so is damaged.
        let r = unpack_month(7, 202302, &packed, (ymd(1, 1), ymd(12, 31)), |_| ());
        assert!(matches!(r, Err(DbError::Rule(m)) if m.contains("damaged")));
        let r = unpack_month(7, 202413, &packed, (ymd(1, 1), ymd(12, 31)), |_| ());
        assert!(r.is_err());
    }

    #[test]
    fn a_months_detail_unpacks_to_its_dates_and_refuses_damage() {
        use opsdesk_domain::sales::codec::{join_sections, pack_categories, pack_members};
        let ymd = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let (c, m) = (pack_categories(&[]), pack_members(&[]));
        let detail = |days: &[u8]| {
            let members = join_sections(days.iter().map(|&d| (d, m.as_slice())));
            let categories = join_sections(days.iter().map(|&d| (d, c.as_slice())));
            (members, categories)
        };
        let mut out = FxHashMap::default();
        let (ms, cs) = detail(&[1, 30]);
        unpack_detail(7, 202609, &ms, &cs, &mut out).unwrap();
        let mut keys: Vec<_> = out.keys().map(|k| (k.store, k.date)).collect();
        keys.sort();
        assert_eq!(keys, vec![(7, ymd(9, 1)), (7, ymd(9, 30))]);
        // September has no 31st, no month a 0th; members and categories of
        // different days, or of a different number of days, are damage.
        for (members, categories) in [detail(&[31]), detail(&[0])] {
            assert!(unpack_detail(7, 202609, &members, &categories, &mut out).is_err());
        }
        let (one, _) = detail(&[2]);
        let (_, other) = detail(&[3]);
        assert!(unpack_detail(7, 202609, &one, &other, &mut out).is_err());
        assert!(unpack_detail(7, 202609, &ms, &other, &mut out).is_err());
    }
}
