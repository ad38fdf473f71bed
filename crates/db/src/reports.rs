//! What the reports read from the rollups, scoped.

mod rfm;

use std::collections::HashMap;

use chrono::NaiveDate;
use opsdesk_domain::calendar::{month_bounds, month_start, same_date_last_year, same_weekday_last_week};
use opsdesk_domain::reports::daily::{DayFigures, StoreDayInput};

use crate::day_packs::StoredDay;
use crate::fetch::Arg;
use crate::{Db, Result, Scope};
use opsdesk_domain::sales::DaySource;

impl Db {
    async fn day_figures(&self, date: NaiveDate) -> Result<HashMap<i64, DayFigures>> {
        Ok(self
            .stored_days(date, date)
            .await?
            .into_iter()
            .map(|StoredDay { store, day: d, .. }| {
                let f = DayFigures {
                    revenue: d.revenue,
                    cost: d.cost,
                    tickets: d.tickets,
                    qty: d.qty,
                    member_revenue: d.member_revenue,
                };
                (store, f)
            })
            .collect())
    }

    /// The inputs of the daily report for `date`: every store within reach
    /// that had opened by then, in code order.
    pub async fn daily_inputs(&self, scope: &Scope, date: NaiveDate) -> Result<Vec<StoreDayInput>> {
        let stores = self.stores(scope).await?;
        let day = self.day_figures(date).await?;
        let lw = self.day_figures(same_weekday_last_week(date)).await?;
        let ly = self.day_figures(same_date_last_year(date)).await?;
        let mtd: FxHashMap<i64, i64> =
            self.period_days(month_start(date), date).await?.into_iter().map(|r| (r.0, r.1)).collect();
        Ok(stores
            .into_iter()
            .filter(|s| s.open_date <= date)
            .map(|s| StoreDayInput {
                region: s.top_region().to_string(),
                day: day.get(&s.id).copied(),
                mtd_revenue: mtd.get(&s.id).copied().unwrap_or(0),
                lw_revenue: lw.get(&s.id).map(|f| f.revenue),
                ly_revenue: ly.get(&s.id).map(|f| f.revenue),
                store_code: s.code,
            })
            .collect())
    }

    /// The last business date with sales within reach, if any.
    pub async fn last_sales_date(&self, scope: &Scope) -> Result<Option<NaiveDate>> {
        let rows: Vec<(Option<i64>,)> = if scope.sees_all() {
            self.fetch_rows("SELECT MAX(month) FROM sales_days", &[]).await?
        } else {
            let ids: Vec<String> = self.store_codes(scope).await?.into_values().map(|id| id.to_string()).collect();
            if ids.is_empty() {
                return Ok(None);
            }
            // Ids are integers from the database, not user text.
            let sql = format!("SELECT MAX(month) FROM sales_days WHERE store_id IN ({})", ids.join(","));
            self.fetch_rows(&sql, &[]).await?
        };
        let Some((first, last)) = rows.into_iter().next().and_then(|r| r.0).and_then(month_bounds) else {
            return Ok(None);
        };
        let allowed: std::collections::HashSet<i64> = self.store_codes(scope).await?.into_values().collect();
        Ok(self
            .stored_days(first, last)
            .await?
            .into_iter()
            .filter(|d| allowed.contains(&d.store))
            .map(|d| d.date)
            .max())
    }
}

use opsdesk_domain::calendar::month_key;
use opsdesk_domain::reports::category::CategoryMonth;
use opsdesk_domain::reports::monthly::StoreMonth;
use opsdesk_domain::reports::traffic::TrafficDay;
use opsdesk_domain::sales::codec::{CodecError, unpack_categories};
use rustc_hash::FxHashMap;

fn damaged(_: CodecError) -> crate::DbError {
    crate::DbError::Rule("a packed rollup value is damaged".into())
}

impl Db {
    /// Every store-month with sales within reach from `from` to `to`
    /// (`yyyymm`, inclusive), sorted by store code and month.
    pub async fn store_months(&self, scope: &Scope, from: i64, to: i64) -> Result<Vec<StoreMonth>> {
        let stores: HashMap<i64, crate::stores::Store> =
            self.stores(scope).await?.into_iter().map(|s| (s.id, s)).collect();
        // From the month rollup: one row per store and month.
        let rows: Vec<(i64, i64, i64, i64, i64)> = self
            .fetch_rows(
                "SELECT store_id, month, revenue_c, cost_c, tickets FROM sales_month WHERE month BETWEEN $1 AND $2",
                &[Arg::Int(from), Arg::Int(to)],
            )
            .await?;
        let mut out: Vec<StoreMonth> = rows
            .into_iter()
            .filter_map(|(id, month, revenue, cost, tickets)| {
                let s = stores.get(&id)?;
                Some(StoreMonth {
                    store_code: s.code.clone(),
                    month,
                    revenue,
                    cost,
                    tickets,
                    staff_count: s.staff_count,
                    area_sqm: s.area_sqm,
                })
            })
            .collect();
        out.sort_by(|a, b| (a.store_code.as_bytes(), a.month).cmp(&(b.store_code.as_bytes(), b.month)));
        Ok(out)
    }

    /// Each store's days from `from` to `to`, sorted; stores in code order.
    pub async fn store_days(
        &self,
        scope: &Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, Vec<TrafficDay>)>> {
        let stores = self.stores(scope).await?;
        // Not sorted by the database: the date index yields each store's
        // days in date order already, and sorting them all by store cost
        // SQLite a temporary B-tree (a third of the traffic report).
        let mut by_store: FxHashMap<i64, Vec<TrafficDay>> = FxHashMap::default();
        for d in self.stored_days(from, to).await? {
            let day = TrafficDay { date: d.date, tickets: d.day.tickets, revenue: d.day.revenue };
            by_store.entry(d.store).or_default().push(day);
        }
        for days in by_store.values_mut().filter(|d| !d.is_sorted_by_key(|d| d.date)) {
            days.sort_unstable_by_key(|d| d.date);
        }
        Ok(stores.into_iter().filter_map(|s| by_store.remove(&s.id).map(|days| (s.code, days))).collect())
    }

    /// Revenue and cost per month and category within reach, for the months
    /// `from` to `to` (`YYYYMM`), from the month rollup.
    pub async fn category_months(&self, scope: &Scope, from: i64, to: i64) -> Result<Vec<CategoryMonth>> {
        let allowed: std::collections::HashSet<i64> = self.store_codes(scope).await?.into_values().collect();
        let rows: Vec<(i64, i64, Vec<u8>)> = self
            .fetch_rows(
                "SELECT month, store_id, categories FROM sales_month WHERE month BETWEEN $1 AND $2",
                &[Arg::Int(from), Arg::Int(to)],
            )
            .await?;
        let mut sums: FxHashMap<(i64, &str), (i64, i64)> = FxHashMap::default();
        for (month, _, packed) in rows.iter().filter(|r| allowed.contains(&r.1)) {
            for (category, t) in unpack_categories(packed).map_err(damaged)? {
                let e = sums.entry((*month, category)).or_default();
                e.0 += t.revenue;
                e.1 += t.cost;
            }
        }
        Ok(sums
            .into_iter()
            .map(|((month, category), (revenue, cost))| CategoryMonth {
                month,
                category: category.into(),
                revenue,
                cost,
            })
            .collect())
    }

    /// How many store-days within reach from `from` to `to` were imported as
    /// summaries, which lack categories and members.
    pub async fn summary_days(&self, scope: &Scope, from: NaiveDate, to: NaiveDate) -> Result<i64> {
        let allowed: std::collections::HashSet<i64> = self.store_codes(scope).await?.into_values().collect();
        // The store-months with summary days (an index holds only those):
        // a month within the range adds its count; a month the range cuts
        // (at most its first and its last) has its days unpacked and counted.
        let sql = "SELECT store_id, month, summary_days FROM sales_month
                   WHERE month BETWEEN $1 AND $2 AND summary_days > 0";
        let months: Vec<(i64, i64, i64)> =
            self.fetch_rows(sql, &[Arg::Int(month_key(from)), Arg::Int(month_key(to))]).await?;
        let mut n = 0;
        let mut cut: HashMap<i64, std::collections::HashSet<i64>> = HashMap::new();
        for (store, month, count) in months.into_iter().filter(|m| allowed.contains(&m.0)) {
            let (first, last) = month_bounds(month).ok_or_else(|| damaged(CodecError))?;
            if first >= from && last <= to {
                n += count;
            } else {
                cut.entry(month).or_default().insert(store);
            }
        }
        for (month, stores) in cut {
            let (first, last) = month_bounds(month).ok_or_else(|| damaged(CodecError))?;
            self.each_stored_day(first.max(from), last.min(to), |d| {
                if d.day.source == DaySource::Summary && stores.contains(&d.store) {
                    n += 1;
                }
            })
            .await?;
        }
        Ok(n)
    }
}

use opsdesk_domain::reports::period::PeriodSums;
use opsdesk_domain::reports::weekly::{IsoWeek, WeeklyInput};

type PeriodRow = (i64, i64, i64, i64, Option<i64>, Option<i64>, i64, i64, i64);
/// A store-month of the month rollup: store, revenue, cost, tickets, quantity,
/// member revenue, days, days with quantity, days with member revenue.
type MonthSumRow = (i64, i64, i64, i64, i64, i64, i64, i64, i64);

impl Db {
    /// Each store's store-days from `from` to `to` summed as SQL's SUM and
    /// COUNT would sum them (a sum of no figures is none).
    async fn period_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<PeriodRow>> {
        let mut by_store: FxHashMap<i64, PeriodRow> = FxHashMap::default();
        for StoredDay { store, day: d, .. } in self.stored_days(from, to).await? {
            let e = by_store.entry(store).or_insert((store, 0, 0, 0, None, None, 0, 0, 0));
            e.1 += d.revenue;
            e.2 += d.cost;
            e.3 += d.tickets;
            if let Some(q) = d.qty {
                e.4 = Some(e.4.unwrap_or(0) + q);
                e.7 += 1;
            }
            if let Some(m) = d.member_revenue {
                e.5 = Some(e.5.unwrap_or(0) + m);
                e.8 += 1;
            }
            e.6 += 1;
        }
        Ok(by_store.into_values().collect())
    }

    /// Each store's sums over `from..=to`, for the stores that sold.
    pub async fn period_sums(&self, from: NaiveDate, to: NaiveDate) -> Result<HashMap<i64, PeriodSums>> {
        // Whole months come from the month rollup, one row per store and month.
        use chrono::Datelike;
        let whole = from.day() == 1 && to.succ_opt().is_some_and(|n| n.day() == 1) && from <= to;
        let rows: Vec<PeriodRow> = if whole {
            let months: Vec<MonthSumRow> = self
                .fetch_rows(
                    "SELECT store_id, revenue_c, cost_c, tickets, qty, member_revenue_c, days, days_with_qty,
                            days_with_members FROM sales_month WHERE month BETWEEN $1 AND $2",
                    &[Arg::Int(month_key(from)), Arg::Int(month_key(to))],
                )
                .await?;
            let mut by_store: HashMap<i64, PeriodRow> = HashMap::new();
            for (store, revenue, cost, tickets, qty, member_revenue, days, with_qty, with_members) in months {
                let e = by_store.entry(store).or_insert((store, 0, 0, 0, Some(0), Some(0), 0, 0, 0));
                e.1 += revenue;
                e.2 += cost;
                e.3 += tickets;
                e.4 = e.4.map(|q| q + qty);
                e.5 = e.5.map(|m| m + member_revenue);
                e.6 += days;
                e.7 += with_qty;
                e.8 += with_members;
            }
            by_store.into_values().collect()
        } else {
            self.period_days(from, to).await?
        };
        Ok(rows
            .into_iter()
            .map(|(store, revenue, cost, tickets, qty, member_revenue, days, with_qty, with_members)| {
                let sums = PeriodSums {
                    revenue,
                    cost,
                    tickets,
                    // A sum over days some of which lack the figure is no sum.
                    qty: if with_qty == days { Some(qty.unwrap_or(0)) } else { None },
                    member_revenue: if with_members == days { Some(member_revenue.unwrap_or(0)) } else { None },
                    days,
                };
                (store, sums)
            })
            .collect())
    }

    /// The inputs of the weekly report: every store within reach that had
    /// opened by the week's end, in code order.
    pub async fn weekly_inputs(&self, scope: &Scope, week: IsoWeek) -> Result<Vec<WeeklyInput>> {
        let stores = self.stores(scope).await?;
        let cur = self.period_sums(week.monday(), week.sunday()).await?;
        let prev = week.previous();
        let lw = self.period_sums(prev.monday(), prev.sunday()).await?;
        let ly = match week.last_year() {
            Some(w) => self.period_sums(w.monday(), w.sunday()).await?,
            None => HashMap::new(),
        };
        let get = |m: &HashMap<i64, PeriodSums>, id: i64| m.get(&id).copied().unwrap_or_else(PeriodSums::zero);
        Ok(stores
            .into_iter()
            .filter(|s| s.open_date <= week.sunday())
            .map(|s| WeeklyInput {
                region: s.top_region().to_string(),
                week: get(&cur, s.id),
                last_week: get(&lw, s.id),
                last_year: get(&ly, s.id),
                store_code: s.code,
            })
            .collect())
    }
}

use opsdesk_domain::reports::efficiency::{EfficiencyInput, StoreBase};
use opsdesk_domain::reports::monthly::prev_month;
use opsdesk_domain::reports::regions::RegionStore;

impl Db {
    /// The inputs of the efficiency report for `from..=to`: every store within
    /// reach that had opened by `to`, in code order.
    pub async fn efficiency_inputs(
        &self,
        scope: &Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<EfficiencyInput>> {
        let stores = self.stores(scope).await?;
        let cur = self.period_sums(from, to).await?;
        let ly = self.period_sums(same_date_last_year(from), same_date_last_year(to)).await?;
        let get = |m: &HashMap<i64, PeriodSums>, id: i64| m.get(&id).copied().unwrap_or_else(PeriodSums::zero);
        Ok(stores
            .into_iter()
            .filter(|s| s.open_date <= to)
            .map(|s| EfficiencyInput {
                region: s.top_region().to_string(),
                base: StoreBase {
                    staff: s.staff_count,
                    area_sqm: s.area_sqm,
                    sku_count: s.sku_count,
                    open_minutes: s.open_minutes,
                },
                period: get(&cur, s.id),
                last_year: get(&ly, s.id),
                store_code: s.code,
            })
            .collect())
    }

    /// Every store within reach with its month, the month before and the
    /// same month a year earlier; `None` when `month` is no month.
    pub async fn region_stores(&self, scope: &Scope, month: i64) -> Result<Option<Vec<RegionStore>>> {
        let (Some(cur), Some(prev), Some(ly)) =
            (month_bounds(month), month_bounds(prev_month(month)), month_bounds(month - 100))
        else {
            return Ok(None);
        };
        let stores = self.stores(scope).await?;
        let (c, p, y) = (
            self.period_sums(cur.0, cur.1).await?,
            self.period_sums(prev.0, prev.1).await?,
            self.period_sums(ly.0, ly.1).await?,
        );
        let get = |m: &HashMap<i64, PeriodSums>, id: i64| m.get(&id).copied().unwrap_or_else(PeriodSums::zero);
        Ok(Some(
            stores
                .into_iter()
                .map(|s| RegionStore {
                    region: s.top_region().to_string(),
                    area_sqm: s.area_sqm,
                    month: get(&c, s.id),
                    previous: get(&p, s.id),
                    last_year: get(&y, s.id),
                })
                .collect(),
        ))
    }
}
