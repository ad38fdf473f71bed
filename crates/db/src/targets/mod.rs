//! Target plans: the metrics, the holiday calendar, and each plan's cells at
//! region, store, month and day. A plan is read whole into the domain's tree,
//! changed there by its rules, and written back in one transaction with its
//! audit event; only operations (and administrators) change plans, while
//! every reader sees the cells of the stores within her reach.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use opsdesk_domain::calendar::{month_key, month_label};
use opsdesk_domain::targets::weights::{Tier, default_tiers, parse_tiers};
use opsdesk_domain::targets::{
    Calendar, CalendarDay, Change, DayKind, EditError, Key, Level, Measure, Method, Metric, MonthMethod, Node,
    PlanError, PlanSpec, Rebalance, RewardRule, StoreBasis, Unit, build,
};
use serde_json::json;
use sqlx::{PgConnection, SqliteConnection};

use crate::audit::audit;
use crate::fetch::Arg;
use crate::{BeginWrite, Db, DbError, Pool, Result, Scope, on_pool};

mod cells;
mod payouts;
mod tracking;

use cells::{StoreCell, pg_write, rows_of, sqlite_write};
pub use payouts::{PayoutLine, PayoutSheet};
pub use tracking::{DayProgress, PeriodPace, StorePace};

/// A stored plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: i64,
    pub year: i32,
    pub metric: Metric,
    pub baseline: i64,
    pub stretch: i64,
    pub method: Method,
    pub month_method: MonthMethod,
    pub tiers: Vec<Tier>,
    /// The twelve months of history the plan was shaped by.
    pub basis_from: NaiveDate,
    pub basis_to: NaiveDate,
    pub rule: RewardRule,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// What a user asks for when making a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlan {
    pub year: i32,
    pub metric: String,
    pub baseline: i64,
    pub stretch: i64,
    pub method: Method,
    pub month_method: MonthMethod,
    pub tiers: Vec<Tier>,
    pub rule: RewardRule,
}

/// A cell of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CellRef {
    Company,
    Region(i64),
    Store(i64),
    Month { store: i64, month: i64 },
    Day { store: i64, date: NaiveDate },
}

/// One cell's value as a list or file shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRow {
    pub store_id: i64,
    pub store_code: String,
    pub store_name: String,
    /// `YYYY-MM` or `YYYY-MM-DD`.
    pub period: String,
    pub baseline: i64,
    pub stretch: i64,
    pub locked: bool,
}

/// A store's line of a plan: its year and how it was shaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStore {
    pub store_id: i64,
    pub store_code: String,
    pub store_name: String,
    pub region_id: i64,
    pub region: String,
    pub baseline: i64,
    pub stretch: i64,
    pub locked: bool,
    pub fallback: bool,
    pub tier: Option<String>,
    pub season: String,
    pub weekdays: String,
}

/// A region's line of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRegion {
    pub region_id: i64,
    pub region: String,
    pub baseline: i64,
    pub stretch: i64,
    pub locked: bool,
}

/// The grain of a plan's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Month,
    /// The days of one month (`YYYYMM`).
    Day(i64),
}

/// What a file's cells would change, cell by cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellDiff {
    pub store_code: String,
    pub period: String,
    pub level: Level,
    pub before: i64,
    pub after: i64,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: i64,
    year: i64,
    metric: String,
    baseline: i64,
    stretch: i64,
    method: String,
    month_method: String,
    tiers: String,
    basis_from: NaiveDate,
    basis_to: NaiveDate,
    bonus_per_point: i64,
    bonus_cap: Option<i64>,
    penalty_floor: i64,
    penalty_per_point: i64,
    penalty_cap: Option<i64>,
    created_by: String,
    created_at: DateTime<Utc>,
}

const PLAN_COLUMNS: &str =
    "SELECT id, year, metric, baseline, stretch, method, month_method, tiers, basis_from, basis_to,
    bonus_per_point, bonus_cap, penalty_floor, penalty_per_point, penalty_cap, created_by, created_at FROM target_plan";

fn tiers_text(tiers: &[Tier]) -> String {
    let pct = |bp: i64| opsdesk_domain::money::hundredths(bp);
    tiers.iter().map(|t| format!("{}:{}:{}", t.name, t.share_pct, pct(t.growth_bp))).collect::<Vec<_>>().join(",")
}

fn may_plan(scope: &Scope) -> Result<()> {
    if scope.plans() {
        Ok(())
    } else {
        Err(DbError::refused("只有运营部可以修改目标", "only operations may change targets"))
    }
}

fn plan_error(e: PlanError) -> DbError {
    match e {
        PlanError::Negative => DbError::refused("目标不能为负数", "a target cannot be negative"),
        PlanError::StretchBelowBaseline => {
            DbError::refused("力争目标不能低于保底目标", "the stretch target cannot be below the baseline")
        }
        PlanError::NoStores => DbError::refused("该年度没有营业的门店", "no store is open in that year"),
    }
}

/// The names of a plan's regions and stores, for messages.
struct Names {
    regions: HashMap<i64, String>,
    stores: HashMap<i64, String>,
}

impl Names {
    fn cell(&self, key: Key) -> String {
        match key {
            Key::Company => "公司/company".to_string(),
            Key::Region(id) => self.regions.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
            Key::Store(id) => self.stores.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
            k => k.to_string(),
        }
    }

    fn edit_error(&self, e: EditError) -> DbError {
        match e {
            EditError::NoSuchCell => DbError::refused("计划中没有这个单元格", "the plan has no such cell"),
            EditError::Locked(k) => DbError::refused(
                format!("{} 已锁定：请先解锁", self.cell(k)),
                format!("{} is locked: unlock it first", self.cell(k)),
            ),
            EditError::Negative(k) => DbError::refused(
                format!("{} 的目标不能为负数", self.cell(k)),
                format!("the target of {} cannot be negative", self.cell(k)),
            ),
            EditError::NoneToAbsorb { parent } => DbError::refused(
                format!("{} 下没有未锁定、未修改的单元格来承接差额：请解锁一个，或允许上级合计变动", self.cell(parent)),
                format!(
                    "no unlocked, unchanged cell under {} is left to take up the difference: unlock one, or let the total change",
                    self.cell(parent)
                ),
            ),
            EditError::SiblingsTooSmall { parent, short } => DbError::refused(
                format!("{} 下其他单元格不足以承接差额（差 {}）", self.cell(parent), short),
                format!("the other cells under {} cannot take up the difference ({} short)", self.cell(parent), short),
            ),
            EditError::ParentLocked(k) => DbError::refused(
                format!("上级 {} 已锁定，合计不能变动", self.cell(k)),
                format!("the total {} is locked and cannot change", self.cell(k)),
            ),
            EditError::AllLocked { parent } | EditError::LockedExceed { parent } => DbError::refused(
                format!("{} 下已锁定的单元格与新值不符：请先解锁", self.cell(parent)),
                format!("the locked cells under {} do not fit its new value: unlock some first", self.cell(parent)),
            ),
        }
    }
}

/// The twelve whole months a plan for `year` learns from: the calendar year
/// before it, or, while that year's data are not complete, the twelve months
/// up to the last complete month.
pub fn basis_window(year: i32, last_data: Option<NaiveDate>) -> (NaiveDate, NaiveDate) {
    let year_end = NaiveDate::from_ymd_opt(year - 1, 12, 31).unwrap_or_default();
    let end = match last_data {
        Some(d) if d < year_end => {
            let next = d.succ_opt().unwrap_or(d);
            if next.month() != d.month() { d } else { d.with_day(1).and_then(|f| f.pred_opt()).unwrap_or(d) }
        }
        _ => year_end,
    };
    let first = end.with_day(1).and_then(|f| f.checked_sub_months(Months::new(11))).unwrap_or(end);
    (first, end)
}

impl Db {
    /// The metrics plans can be set on, in their order.
    pub async fn target_metrics(&self) -> Result<Vec<Metric>> {
        let rows: Vec<(String, String, String, String, String, Option<String>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT key, name_zh, name_en, unit, basis, actual FROM target_metric ORDER BY position, key").fetch_all(p).await?);
        rows.into_iter()
            .map(|(key, name_zh, name_en, unit, basis, actual)| {
                let bad = || DbError::Rule(format!("metric {key} is stored with an unknown unit or measure"));
                Ok(Metric {
                    unit: Unit::parse(&unit).ok_or_else(bad)?,
                    basis: Measure::parse(&basis).ok_or_else(bad)?,
                    actual: match actual {
                        Some(a) => Some(Measure::parse(&a).ok_or_else(bad)?),
                        None => None,
                    },
                    key,
                    name_zh,
                    name_en,
                })
            })
            .collect()
    }

    /// Adds a metric, or changes the names, unit and measures of one (plans
    /// made already keep their values).
    pub async fn save_target_metric(&self, scope: &Scope, m: &Metric) -> Result<()> {
        may_plan(scope)?;
        let key_ok = !m.key.is_empty()
            && m.key.len() <= 40
            && m.key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok || m.name_zh.trim().is_empty() || m.name_en.trim().is_empty() {
            return Err(DbError::refused(
                "指标编码只能用小写字母、数字和下划线，且需要中英文名称",
                "a metric key is lower-case letters, digits and _, and needs a Chinese and an English name",
            ));
        }
        let after = json!({ "key": m.key, "name_zh": m.name_zh, "name_en": m.name_en, "unit": m.unit.key(),
                            "basis": m.basis.key(), "actual": m.actual.map(|a| a.key()) });
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO target_metric (key, name_zh, name_en, unit, basis, actual, position)
                         VALUES ($1, $2, $3, $4, $5, $6, (SELECT COALESCE(MAX(position), 0) + 1 FROM target_metric))
                         ON CONFLICT (key) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
                             unit = excluded.unit, basis = excluded.basis, actual = excluded.actual")
                .bind(&m.key).bind(m.name_zh.trim()).bind(m.name_en.trim()).bind(m.unit.key()).bind(m.basis.key())
                .bind(m.actual.map(|a| a.key()))
                .execute(&mut *tx).await?;
            audit!(&mut *tx, scope.actor(), "save", "target_metric", m.key.clone(), None, Some(after));
            tx.commit().await?;
        });
        Ok(())
    }

    /// The holiday calendar, by date; one year's when `year` is given.
    pub async fn holidays(&self, year: Option<i32>) -> Result<Vec<CalendarDay>> {
        let (from, to) = match year {
            Some(y) => (
                NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or_default(),
                NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or_default(),
            ),
            // Not NaiveDate::MIN/MAX: SQLite compares dates as text, and their
            // signed years sort outside every real date.
            None => (
                NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default(),
                NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default(),
            ),
        };
        let rows: Vec<(NaiveDate, String, String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT d, kind, name, uplift_pm FROM holiday WHERE d BETWEEN $1 AND $2 ORDER BY d")
            .bind(from).bind(to).fetch_all(p).await?);
        rows.into_iter()
            .map(|(date, kind, name, uplift_pm)| {
                let kind = DayKind::parse(&kind)
                    .ok_or_else(|| DbError::Rule(format!("holiday {date}: unknown kind {kind}")))?;
                Ok(CalendarDay { date, kind, name, uplift_pm })
            })
            .collect()
    }

    /// Adds or changes a date of the holiday calendar. Plans already made keep
    /// their days; a new plan reads the calendar as it is.
    pub async fn save_holiday(&self, scope: &Scope, day: &CalendarDay) -> Result<()> {
        may_plan(scope)?;
        if day.uplift_pm <= 0 || day.name.trim().is_empty() {
            return Err(DbError::refused(
                "节假日需要名称和大于 0 的系数",
                "a holiday needs a name and a factor above 0",
            ));
        }
        let after = json!({ "date": day.date.to_string(), "kind": day.kind.key(), "name": day.name, "uplift_pm": day.uplift_pm });
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO holiday (d, kind, name, uplift_pm) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (d) DO UPDATE SET kind = excluded.kind, name = excluded.name, uplift_pm = excluded.uplift_pm")
                .bind(day.date).bind(day.kind.key()).bind(day.name.trim()).bind(day.uplift_pm)
                .execute(&mut *tx).await?;
            audit!(&mut *tx, scope.actor(), "save", "holiday", day.date.to_string(), None, Some(after));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Removes a date from the holiday calendar; whether there was one.
    pub async fn delete_holiday(&self, scope: &Scope, date: NaiveDate) -> Result<bool> {
        may_plan(scope)?;
        Ok(on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("DELETE FROM holiday WHERE d = $1").bind(date).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                audit!(&mut *tx, scope.actor(), "delete", "holiday", date.to_string(), None::<serde_json::Value>, None);
            }
            tx.commit().await?;
            n > 0
        }))
    }

    fn plan_of(&self, row: PlanRow, metrics: &[Metric]) -> Result<Plan> {
        let bad = |what: &str| DbError::Rule(format!("plan {} has an unknown {what}", row.id));
        Ok(Plan {
            id: row.id,
            year: i32::try_from(row.year).map_err(|_| bad("year"))?,
            metric: metrics.iter().find(|m| m.key == row.metric).cloned().ok_or_else(|| bad("metric"))?,
            baseline: row.baseline,
            stretch: row.stretch,
            method: Method::parse(&row.method).ok_or_else(|| bad("method"))?,
            month_method: MonthMethod::parse(&row.month_method).ok_or_else(|| bad("month method"))?,
            tiers: if row.tiers.is_empty() {
                Vec::new()
            } else {
                parse_tiers(&row.tiers).map_err(|_| bad("tier list"))?
            },
            basis_from: row.basis_from,
            basis_to: row.basis_to,
            rule: RewardRule {
                bonus_per_point: row.bonus_per_point,
                bonus_cap: row.bonus_cap,
                floor: row.penalty_floor,
                penalty_per_point: row.penalty_per_point,
                penalty_cap: row.penalty_cap,
            },
            created_by: row.created_by,
            created_at: row.created_at,
        })
    }

    /// Every plan, newest year first.
    pub async fn target_plans(&self) -> Result<Vec<Plan>> {
        let metrics = self.target_metrics().await?;
        let sql = format!("{PLAN_COLUMNS} ORDER BY year DESC, metric");
        let rows: Vec<PlanRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?);
        rows.into_iter().map(|r| self.plan_of(r, &metrics)).collect()
    }

    pub async fn target_plan(&self, id: i64) -> Result<Option<Plan>> {
        let metrics = self.target_metrics().await?;
        let sql = format!("{PLAN_COLUMNS} WHERE id = $1");
        let row: Option<PlanRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?);
        row.map(|r| self.plan_of(r, &metrics)).transpose()
    }

    /// The plan of a year and metric, if one is made.
    pub async fn target_plan_for(&self, year: i32, metric: &str) -> Result<Option<Plan>> {
        let metrics = self.target_metrics().await?;
        let sql = format!("{PLAN_COLUMNS} WHERE year = $1 AND metric = $2");
        let row: Option<PlanRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(i64::from(year)).bind(metric).fetch_optional(p).await?);
        row.map(|r| self.plan_of(r, &metrics)).transpose()
    }

    /// Each store's `measure` summed over its days from `from` to `to`.
    pub(crate) async fn measure_by_store(
        &self,
        measure: Measure,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<i64, i64>> {
        let mut out: HashMap<i64, i64> = HashMap::new();
        for d in self.stored_days(from, to).await? {
            *out.entry(d.store).or_default() += day_measure(measure, &d.day);
        }
        Ok(out)
    }

    /// The history a plan is shaped by: every open store with its basis
    /// measure per day over the window, ordered by store id.
    async fn plan_basis(&self, measure: Measure, from: NaiveDate, to: NaiveDate) -> Result<Vec<StoreBasis>> {
        let stores = self.stores(&Scope::system("targets")).await?;
        let mut days: HashMap<i64, Vec<(NaiveDate, i64)>> = HashMap::new();
        for d in self.stored_days(from, to).await? {
            days.entry(d.store).or_default().push((d.date, day_measure(measure, &d.day)));
        }
        let mut out: Vec<StoreBasis> = stores
            .into_iter()
            .filter(|s| s.status == "open")
            .map(|s| StoreBasis {
                days: days
                    .remove(&s.id)
                    .map(|mut d| {
                        d.sort_unstable_by_key(|x| x.0);
                        d
                    })
                    .unwrap_or_default(),
                store: s.id,
                region: s.region_id,
                area_sqm: s.area_sqm,
                open_date: s.open_date,
            })
            .collect();
        out.sort_by_key(|s| s.store);
        Ok(out)
    }

    /// Makes a plan: decomposes the company's baseline and stretch to every
    /// open store and every day of the year by the chosen rules, and stores it.
    pub async fn create_target_plan(&self, scope: &Scope, new: &NewPlan) -> Result<Plan> {
        may_plan(scope)?;
        let metric = self.target_metrics().await?.into_iter().find(|m| m.key == new.metric).ok_or_else(|| {
            DbError::refused(format!("没有指标 {}", new.metric), format!("there is no metric {}", new.metric))
        })?;
        if self.target_plan_for(new.year, &new.metric).await?.is_some() {
            return Err(DbError::refused(
                format!("{} 年的{}目标已存在", new.year, metric.name_zh),
                format!("a {} plan for {} exists already", metric.name_en, new.year),
            ));
        }
        let last = self.last_sales_date(&Scope::system("targets")).await?;
        let (from, to) = basis_window(new.year, last);
        let basis = self.plan_basis(metric.basis, from, to).await?;
        let calendar = Calendar::new(&self.holidays(None).await?);
        let tiers =
            if new.method == Method::Tier && new.tiers.is_empty() { default_tiers() } else { new.tiers.clone() };
        let spec = PlanSpec {
            year: new.year,
            baseline: new.baseline,
            stretch: new.stretch,
            method: new.method,
            month_method: new.month_method,
            tiers: tiers.clone(),
        };
        let built = build(&spec, &basis, &calendar).map_err(plan_error)?;
        let notes: HashMap<i64, StoreCell> = built
            .notes
            .iter()
            .map(|n| {
                let cell = StoreCell {
                    store: n.store,
                    region: 0,
                    baseline: 0,
                    stretch: 0,
                    locked: false,
                    weight: 0,
                    fallback: n.fallback,
                    tier: n.tier.clone(),
                    season: n.season.key().to_string(),
                    weekdays: n.weekdays.key().to_string(),
                };
                (n.store, cell)
            })
            .collect();
        let cells = rows_of(&built.tree, &notes, None);
        let after = json!({
            "year": new.year, "metric": new.metric, "baseline": new.baseline, "stretch": new.stretch,
            "method": new.method.key(), "month_method": new.month_method.key(), "stores": built.notes.len(),
            "fallback_stores": built.notes.iter().filter(|n| n.fallback).count(),
            "basis": format!("{from}..{to}"),
        });
        let r = new.rule;
        macro_rules! create {
            ($tx:ident, $write:ident) => {{
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO target_plan (year, metric, baseline, stretch, method, month_method, tiers, basis_from, basis_to,
                        bonus_per_point, bonus_cap, penalty_floor, penalty_per_point, penalty_cap, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                )
                .bind(i64::from(new.year)).bind(&new.metric).bind(new.baseline).bind(new.stretch)
                .bind(new.method.key()).bind(new.month_method.key()).bind(tiers_text(&tiers)).bind(from).bind(to)
                .bind(r.bonus_per_point).bind(r.bonus_cap).bind(r.floor).bind(r.penalty_per_point).bind(r.penalty_cap)
                .bind(scope.actor()).bind(Utc::now())
                .fetch_one(&mut *$tx).await?;
                $write(&mut *$tx, id, &cells, true).await?;
                audit!(&mut *$tx, scope.actor(), "create", "target_plan", id.to_string(), None, Some(after));
                $tx.commit().await?;
                id
            }};
        }
        let id = match &self.pool {
            Pool::Sqlite(p) => {
                let mut tx = p.begin_write().await?;
                create!(tx, sqlite_write)
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin_write().await?;
                create!(tx, pg_write)
            }
        };
        self.target_plan(id).await?.ok_or_else(|| DbError::Rule("the plan just made is gone".into()))
    }

    /// Deletes a plan and all its cells and payout sheets.
    pub async fn delete_target_plan(&self, scope: &Scope, plan: &Plan) -> Result<()> {
        may_plan(scope)?;
        let before =
            json!({ "year": plan.year, "metric": plan.metric.key, "baseline": plan.baseline, "stretch": plan.stretch });
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            for table in ["target_payout_line", "target_payout", "target_day", "target_month", "target_store", "target_region", "target_plan"] {
                let col = if table == "target_plan" { "id" } else { "plan_id" };
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE {col} = $1"))).bind(plan.id).execute(&mut *tx).await?;
            }
            audit!(&mut *tx, scope.actor(), "delete", "target_plan", plan.id.to_string(), Some(before), None);
            tx.commit().await?;
        });
        Ok(())
    }
}

/// A stored day's `measure` (a day without member revenue counts none).
pub(crate) fn day_measure(measure: Measure, d: &opsdesk_domain::sales::codec::PackedDay) -> i64 {
    measure.of(d.revenue, d.cost, d.tickets, d.member_revenue.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_basis_is_last_year_or_the_last_twelve_complete_months() {
        assert_eq!(basis_window(2026, Some(date("2026-03-01"))), (date("2025-01-01"), date("2025-12-31")));
        assert_eq!(basis_window(2026, None), (date("2025-01-01"), date("2025-12-31")));
        assert_eq!(basis_window(2027, Some(date("2026-11-27"))), (date("2025-11-01"), date("2026-10-31")));
        assert_eq!(basis_window(2027, Some(date("2026-11-30"))), (date("2025-12-01"), date("2026-11-30")));
    }
}
