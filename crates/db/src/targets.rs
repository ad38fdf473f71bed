//! Target plans: the metrics, the holiday calendar, and each plan's cells at
//! region, store, month and day. A plan is read whole into the domain's tree,
//! changed there by its rules, and written back in one transaction with its
//! audit event; only operations (and administrators) change plans, while
//! every reader sees the cells of the stores within her reach.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use opsdesk_domain::calendar::month_key;
use opsdesk_domain::targets::weights::{Tier, default_tiers, parse_tiers};
use opsdesk_domain::targets::{
    Calendar, CalendarDay, Change, DayKind, EditError, Key, Level, Measure, Method, Metric, MonthMethod, Node,
    PlanError, PlanSpec, Rebalance, RewardRule, StoreBasis, Unit, build,
};
use serde_json::json;
use sqlx::{PgConnection, SqliteConnection};

use crate::audit::audit;
use crate::fetch::Arg;
use crate::{Db, DbError, Pool, Result, Scope, on_pool};

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

struct Cells {
    regions: Vec<(i64, i64, i64, bool, i64)>,
    stores: Vec<StoreCell>,
    months: Vec<(i64, i64, i64, i64, bool, i64)>,
    days: Vec<(i64, NaiveDate, i64, i64, bool, i64)>,
}

#[derive(Debug, Clone)]
struct StoreCell {
    store: i64,
    region: i64,
    baseline: i64,
    stretch: i64,
    locked: bool,
    weight: i64,
    fallback: bool,
    tier: Option<String>,
    season: String,
    weekdays: String,
}

/// The rows of a tree: regions, stores, months, days (days of the stores in `only`, all when `None`).
fn rows_of(tree: &Node, notes: &HashMap<i64, StoreCell>, only: Option<&HashSet<i64>>) -> Cells {
    let mut cells = Cells { regions: Vec::new(), stores: Vec::new(), months: Vec::new(), days: Vec::new() };
    for r in &tree.children {
        let Key::Region(region) = r.key else { continue };
        cells.regions.push((region, r.baseline, r.stretch, r.locked, r.weight));
        for s in &r.children {
            let Key::Store(store) = s.key else { continue };
            let note = notes.get(&store);
            cells.stores.push(StoreCell {
                store,
                region,
                baseline: s.baseline,
                stretch: s.stretch,
                locked: s.locked,
                weight: s.weight,
                fallback: note.is_some_and(|n| n.fallback),
                tier: note.and_then(|n| n.tier.clone()),
                season: note.map_or_else(|| "flat".to_string(), |n| n.season.clone()),
                weekdays: note.map_or_else(|| "flat".to_string(), |n| n.weekdays.clone()),
            });
            if only.is_some_and(|o| !o.contains(&store)) {
                continue;
            }
            for m in &s.children {
                let Key::Month(month) = m.key else { continue };
                cells.months.push((store, month, m.baseline, m.stretch, m.locked, m.weight));
                for d in &m.children {
                    let Key::Day(date) = d.key else { continue };
                    cells.days.push((store, date, d.baseline, d.stretch, d.locked, d.weight));
                }
            }
        }
    }
    cells
}

/// The stores whose months or days differ between two trees of one plan.
fn stores_changed_below(a: &Node, b: &Node) -> HashSet<i64> {
    let mut out = HashSet::new();
    let stores = |n: &Node| -> Vec<(i64, Node)> {
        n.children
            .iter()
            .flat_map(|r| r.children.iter())
            .filter_map(|s| match s.key {
                Key::Store(id) => Some((id, s.clone())),
                _ => None,
            })
            .collect()
    };
    let before: HashMap<i64, Node> = stores(a).into_iter().collect();
    for (id, s) in stores(b) {
        if before.get(&id).is_none_or(|old| old.children != s.children) {
            out.insert(id);
        }
    }
    out
}

async fn sqlite_write(conn: &mut SqliteConnection, plan: i64, cells: &Cells, fresh: bool) -> Result<()> {
    use crate::sqlite_bulk::{Value, insert};
    if fresh {
        insert(
            conn,
            "INSERT INTO target_region (plan_id, region_id, baseline, stretch, locked, weight) VALUES (?,?,?,?,?,?)",
            &cells.regions,
            |r, v| {
                v.extend([
                    Value::Int(plan),
                    Value::Int(r.0),
                    Value::Int(r.1),
                    Value::Int(r.2),
                    Value::Int(i64::from(r.3)),
                    Value::Int(r.4),
                ])
            },
        )
        .await?;
        insert(
            conn,
            "INSERT INTO target_store (plan_id, store_id, region_id, baseline, stretch, locked, weight, fallback, tier, season, weekdays)
             VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            &cells.stores,
            |s, v| {
                v.extend([
                    Value::Int(plan),
                    Value::Int(s.store),
                    Value::Int(s.region),
                    Value::Int(s.baseline),
                    Value::Int(s.stretch),
                    Value::Int(i64::from(s.locked)),
                    Value::Int(s.weight),
                    Value::Int(i64::from(s.fallback)),
                    Value::OptText(s.tier.as_deref()),
                    Value::Text(&s.season),
                    Value::Text(&s.weekdays),
                ])
            },
        )
        .await?;
    }
    insert(
        conn,
        "INSERT INTO target_month (plan_id, store_id, month, baseline, stretch, locked, weight) VALUES (?,?,?,?,?,?,?)",
        &cells.months,
        |m, v| {
            v.extend([
                Value::Int(plan),
                Value::Int(m.0),
                Value::Int(m.1),
                Value::Int(m.2),
                Value::Int(m.3),
                Value::Int(i64::from(m.4)),
                Value::Int(m.5),
            ])
        },
    )
    .await?;
    insert(
        conn,
        "INSERT INTO target_day (plan_id, store_id, d, month, baseline, stretch, locked, weight) VALUES (?,?,?,?,?,?,?,?)",
        &cells.days,
        |d, v| {
            v.extend([
                Value::Int(plan),
                Value::Int(d.0),
                Value::Date(d.1),
                Value::Int(month_key(d.1)),
                Value::Int(d.2),
                Value::Int(d.3),
                Value::Int(i64::from(d.4)),
                Value::Int(d.5),
            ])
        },
    )
    .await
}

async fn pg_write(conn: &mut PgConnection, plan: i64, cells: &Cells, fresh: bool) -> Result<()> {
    use crate::sales::{copy_text, pg_copy};
    let b = |v: bool| if v { 't' } else { 'f' };
    if fresh {
        pg_copy(
            conn,
            "COPY target_region (plan_id, region_id, baseline, stretch, locked, weight) FROM STDIN",
            &cells.regions,
            |o, r| {
                let _ = writeln!(o, "{plan}\t{}\t{}\t{}\t{}\t{}", r.0, r.1, r.2, b(r.3), r.4);
            },
        )
        .await?;
        pg_copy(
            conn,
            "COPY target_store (plan_id, store_id, region_id, baseline, stretch, locked, weight, fallback, tier, season, weekdays) FROM STDIN",
            &cells.stores,
            |o, s| {
                let _ = write!(o, "{plan}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t", s.store, s.region, s.baseline, s.stretch, b(s.locked), s.weight, b(s.fallback));
                match &s.tier {
                    Some(t) => copy_text(o, t),
                    None => o.push_str("\\N"),
                }
                let _ = writeln!(o, "\t{}\t{}", s.season, s.weekdays);
            },
        )
        .await?;
    }
    pg_copy(
        conn,
        "COPY target_month (plan_id, store_id, month, baseline, stretch, locked, weight) FROM STDIN",
        &cells.months,
        |o, m| {
            let _ = writeln!(o, "{plan}\t{}\t{}\t{}\t{}\t{}\t{}", m.0, m.1, m.2, m.3, b(m.4), m.5);
        },
    )
    .await?;
    pg_copy(
        conn,
        "COPY target_day (plan_id, store_id, d, month, baseline, stretch, locked, weight) FROM STDIN",
        &cells.days,
        |o, d| {
            let _ = writeln!(o, "{plan}\t{}\t{}\t{}\t{}\t{}\t{}\t{}", d.0, d.1, month_key(d.1), d.2, d.3, b(d.4), d.5);
        },
    )
    .await
}

/// Writes a changed tree over the stored one: the plan's totals, every region
/// and store row, and the months and days of the stores whose months or days
/// moved (deleted and written again), then the audit event; one transaction.
macro_rules! save_tree {
    ($tx:ident, $write:ident, $plan:expr, $tree:expr, $old:expr, $notes:expr, $actor:expr, $action:expr, $before:expr, $after:expr) => {{
        let changed = stores_changed_below($old, $tree);
        let cells = rows_of($tree, $notes, Some(&changed));
        sqlx::query("UPDATE target_plan SET baseline = $2, stretch = $3 WHERE id = $1")
            .bind($plan)
            .bind($tree.baseline)
            .bind($tree.stretch)
            .execute(&mut *$tx)
            .await?;
        for r in &cells.regions {
            sqlx::query("UPDATE target_region SET baseline = $3, stretch = $4, locked = $5 WHERE plan_id = $1 AND region_id = $2")
                .bind($plan).bind(r.0).bind(r.1).bind(r.2).bind(r.3)
                .execute(&mut *$tx).await?;
        }
        for s in &cells.stores {
            sqlx::query("UPDATE target_store SET baseline = $3, stretch = $4, locked = $5 WHERE plan_id = $1 AND store_id = $2")
                .bind($plan).bind(s.store).bind(s.baseline).bind(s.stretch).bind(s.locked)
                .execute(&mut *$tx).await?;
        }
        for &store in &changed {
            sqlx::query("DELETE FROM target_day WHERE plan_id = $1 AND store_id = $2").bind($plan).bind(store).execute(&mut *$tx).await?;
            sqlx::query("DELETE FROM target_month WHERE plan_id = $1 AND store_id = $2").bind($plan).bind(store).execute(&mut *$tx).await?;
        }
        $write(&mut *$tx, $plan, &cells, false).await?;
        audit!(&mut *$tx, $actor, $action, "target_plan", $plan.to_string(), $before, $after);
        $tx.commit().await?;
    }};
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
            let mut tx = p.begin().await?;
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
            let mut tx = p.begin().await?;
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

    /// The history a plan is shaped by: every open store with its basis
    /// measure per day over the window, ordered by store id.
    async fn plan_basis(&self, measure: Measure, from: NaiveDate, to: NaiveDate) -> Result<Vec<StoreBasis>> {
        let stores = self.stores(&Scope::system("targets")).await?;
        let rows: Vec<(i64, NaiveDate, i64, i64, i64, Option<i64>)> = self
            .fetch_rows(
                "SELECT store_id, d, revenue_c, cost_c, tickets, member_revenue_c FROM sales_day WHERE d BETWEEN $1 AND $2",
                &[Arg::Date(from), Arg::Date(to)],
            )
            .await?;
        let mut days: HashMap<i64, Vec<(NaiveDate, i64)>> = HashMap::new();
        for (store, d, revenue, cost, tickets, member) in rows {
            days.entry(store).or_default().push((d, measure.of(revenue, cost, tickets, member.unwrap_or(0))));
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
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
                create!(tx, sqlite_write)
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
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
            let mut tx = p.begin().await?;
            for table in ["target_payout_line", "target_payout", "target_day", "target_month", "target_store", "target_region", "target_plan"] {
                let col = if table == "target_plan" { "id" } else { "plan_id" };
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE {col} = $1"))).bind(plan.id).execute(&mut *tx).await?;
            }
            audit!(&mut *tx, scope.actor(), "delete", "target_plan", plan.id.to_string(), Some(before), None);
            tx.commit().await?;
        });
        Ok(())
    }

    /// A plan read whole into its tree, with each store's notes.
    async fn plan_tree(&self, plan: &Plan) -> Result<(Node, HashMap<i64, StoreCell>)> {
        let id = Arg::Int(plan.id);
        let regions: Vec<(i64, i64, i64, bool, i64)> = self
            .fetch_rows("SELECT region_id, baseline, stretch, locked, weight FROM target_region WHERE plan_id = $1 ORDER BY region_id", &[id])
            .await?;
        type S = (i64, i64, i64, i64, bool, i64, bool, Option<String>, String, String);
        let stores: Vec<S> = self
            .fetch_rows(
                "SELECT store_id, region_id, baseline, stretch, locked, weight, fallback, tier, season, weekdays
                 FROM target_store WHERE plan_id = $1 ORDER BY region_id, store_id",
                &[id],
            )
            .await?;
        let months: Vec<(i64, i64, i64, i64, bool, i64)> = self
            .fetch_rows(
                "SELECT store_id, month, baseline, stretch, locked, weight FROM target_month WHERE plan_id = $1 ORDER BY store_id, month",
                &[id],
            )
            .await?;
        let days: Vec<(i64, NaiveDate, i64, i64, bool, i64)> = self
            .fetch_rows(
                "SELECT store_id, d, baseline, stretch, locked, weight FROM target_day WHERE plan_id = $1 ORDER BY store_id, d",
                &[id],
            )
            .await?;
        let node = |key, baseline, stretch, locked, weight| Node {
            key,
            baseline,
            stretch,
            locked,
            weight,
            children: Vec::new(),
        };
        let mut day_nodes: HashMap<(i64, i64), Vec<Node>> = HashMap::new();
        for (s, d, b, st, l, w) in days {
            day_nodes.entry((s, month_key(d))).or_default().push(node(Key::Day(d), b, st, l, w));
        }
        let mut month_nodes: HashMap<i64, Vec<Node>> = HashMap::new();
        for (s, m, b, st, l, w) in months {
            let mut n = node(Key::Month(m), b, st, l, w);
            n.children = day_nodes.remove(&(s, m)).unwrap_or_default();
            month_nodes.entry(s).or_default().push(n);
        }
        let mut store_nodes: BTreeMap<i64, Vec<Node>> = BTreeMap::new();
        let mut notes = HashMap::new();
        for (s, r, b, st, l, w, fallback, tier, season, weekdays) in stores {
            let mut n = node(Key::Store(s), b, st, l, w);
            n.children = month_nodes.remove(&s).unwrap_or_default();
            store_nodes.entry(r).or_default().push(n);
            notes.insert(
                s,
                StoreCell {
                    store: s,
                    region: r,
                    baseline: b,
                    stretch: st,
                    locked: l,
                    weight: w,
                    fallback,
                    tier,
                    season,
                    weekdays,
                },
            );
        }
        let mut tree = node(Key::Company, plan.baseline, plan.stretch, false, 1);
        for (r, b, st, l, w) in regions {
            let mut n = node(Key::Region(r), b, st, l, w);
            n.children = store_nodes.remove(&r).unwrap_or_default();
            tree.children.push(n);
        }
        Ok((tree, notes))
    }

    async fn names(&self) -> Result<Names> {
        let stores = self.stores(&Scope::system("targets")).await?;
        let regions = self.regions().await?;
        Ok(Names {
            regions: regions.into_iter().map(|r| (r.id, r.name)).collect(),
            stores: stores.into_iter().map(|s| (s.id, s.code)).collect(),
        })
    }

    /// Changes a plan's tree with `change` and saves what moved.
    async fn change_plan(
        &self,
        scope: &Scope,
        plan: &Plan,
        action: &str,
        detail: serde_json::Value,
        change: impl FnOnce(&mut Node) -> std::result::Result<(), EditError>,
    ) -> Result<()> {
        may_plan(scope)?;
        let (old, notes) = self.plan_tree(plan).await?;
        let mut tree = old.clone();
        if let Err(e) = change(&mut tree) {
            return Err(self.names().await?.edit_error(e));
        }
        debug_assert!(tree.balanced());
        let before = json!({ "baseline": old.baseline, "stretch": old.stretch });
        let mut after = detail;
        after["plan_baseline"] = json!(tree.baseline);
        after["plan_stretch"] = json!(tree.stretch);
        match &self.pool {
            Pool::Sqlite(p) => {
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
                save_tree!(
                    tx,
                    sqlite_write,
                    plan.id,
                    &tree,
                    &old,
                    &notes,
                    scope.actor(),
                    action,
                    Some(before),
                    Some(after)
                );
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT id FROM target_plan WHERE id = $1 FOR UPDATE")
                    .bind(plan.id)
                    .execute(&mut *tx)
                    .await?;
                save_tree!(
                    tx,
                    pg_write,
                    plan.id,
                    &tree,
                    &old,
                    &notes,
                    scope.actor(),
                    action,
                    Some(before),
                    Some(after)
                );
            }
        }
        Ok(())
    }

    /// Sets one cell of a plan. Its siblings rebalance so that the parent
    /// stays (or the parent moves, and its siblings rebalance); locked cells
    /// stay put; the change flows down to the cell's months and days.
    pub async fn edit_target(
        &self,
        scope: &Scope,
        plan: &Plan,
        cell: CellRef,
        level: Level,
        value: i64,
        rebalance: Rebalance,
    ) -> Result<()> {
        let detail = json!({ "cell": cell_text(cell), "level": level.key(), "value": value,
            "rebalance": match rebalance { Rebalance::KeepParent => "keep-parent", Rebalance::MoveParent => "move-parent" } });
        self.change_plan(scope, plan, "edit", detail, |tree| {
            if cell == CellRef::Company {
                return tree.set_total(level, value);
            }
            let (parent, child) = locate(tree, cell).ok_or(EditError::NoSuchCell)?;
            tree.edit(&parent, &[Change { child, level, value }], rebalance)
        })
        .await
    }

    /// Locks or unlocks one cell of a plan.
    pub async fn lock_target(&self, scope: &Scope, plan: &Plan, cell: CellRef, locked: bool) -> Result<()> {
        let detail = json!({ "cell": cell_text(cell), "locked": locked });
        self.change_plan(scope, plan, if locked { "lock" } else { "unlock" }, detail, |tree| {
            let (parent, child) = locate(tree, cell).ok_or(EditError::NoSuchCell)?;
            let mut path = parent;
            path.push(child);
            let mut node = tree;
            for i in path {
                node = node.children.get_mut(i).ok_or(EditError::NoSuchCell)?;
            }
            node.locked = locked;
            Ok(())
        })
        .await
    }

    /// Applies many cells at once (a file brought back): the cells changed
    /// under each parent are pinned and the parent's other unlocked cells
    /// absorb the difference. All or nothing.
    pub async fn apply_target_cells(
        &self,
        scope: &Scope,
        plan: &Plan,
        cells: &[(CellRef, Level, i64)],
        source: &str,
    ) -> Result<usize> {
        let detail = json!({ "cells": cells.len(), "source": source });
        self.change_plan(scope, plan, "import", detail, |tree| {
            let mut groups: BTreeMap<Vec<usize>, Vec<Change>> = BTreeMap::new();
            for &(cell, level, value) in cells {
                let (parent, child) = locate(tree, cell).ok_or(EditError::NoSuchCell)?;
                groups.entry(parent).or_default().push(Change { child, level, value });
            }
            for (parent, changes) in groups {
                tree.edit(&parent, &changes, Rebalance::KeepParent)?;
            }
            Ok(())
        })
        .await?;
        Ok(cells.len())
    }

    /// What a set of cells would change, without changing anything: the cells
    /// whose values differ from the plan's.
    pub async fn diff_target_cells(&self, plan: &Plan, cells: &[(CellRef, Level, i64)]) -> Result<Vec<CellDiff>> {
        let (tree, _) = self.plan_tree(plan).await?;
        let names = self.names().await?;
        let mut out = Vec::new();
        for &(cell, level, value) in cells {
            let Some((parent, child)) = locate(&tree, cell) else { continue };
            let before = tree.at(&parent).and_then(|p| p.children.get(child)).map(|c| c.value(level)).unwrap_or(0);
            if before != value {
                let (store, period) = match cell {
                    CellRef::Month { store, month } => (store, format!("{}-{:02}", month / 100, month % 100)),
                    CellRef::Day { store, date } => (store, date.to_string()),
                    _ => continue,
                };
                out.push(CellDiff {
                    store_code: names.stores.get(&store).cloned().unwrap_or_default(),
                    period,
                    level,
                    before,
                    after: value,
                });
            }
        }
        Ok(out)
    }

    /// Whether a cell is locked (for checking a file against the plan).
    pub async fn locked_target_cells(&self, plan: &Plan) -> Result<HashSet<CellRef>> {
        let (tree, _) = self.plan_tree(plan).await?;
        let mut out = HashSet::new();
        for r in &tree.children {
            for s in &r.children {
                let Key::Store(store) = s.key else { continue };
                for m in &s.children {
                    let Key::Month(month) = m.key else { continue };
                    if m.locked {
                        out.insert(CellRef::Month { store, month });
                    }
                    for d in m.children.iter().filter(|d| d.locked) {
                        if let Key::Day(date) = d.key {
                            out.insert(CellRef::Day { store, date });
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// A plan's rows at a grain, for the stores within reach, ordered by
    /// store code then period.
    pub async fn target_rows(&self, scope: &Scope, plan: &Plan, grain: Grain) -> Result<Vec<TargetRow>> {
        let stores: HashMap<i64, (String, String)> =
            self.stores(scope).await?.into_iter().map(|s| (s.id, (s.code, s.name))).collect();
        let mut out = Vec::new();
        match grain {
            Grain::Month => {
                let rows: Vec<(i64, i64, i64, i64, bool)> = self
                    .fetch_rows(
                        "SELECT store_id, month, baseline, stretch, locked FROM target_month WHERE plan_id = $1",
                        &[Arg::Int(plan.id)],
                    )
                    .await?;
                for (s, m, b, st, l) in rows {
                    if let Some((code, name)) = stores.get(&s) {
                        out.push(TargetRow {
                            store_id: s,
                            store_code: code.clone(),
                            store_name: name.clone(),
                            period: format!("{}-{:02}", m / 100, m % 100),
                            baseline: b,
                            stretch: st,
                            locked: l,
                        });
                    }
                }
            }
            Grain::Day(month) => {
                let rows: Vec<(i64, NaiveDate, i64, i64, bool)> = self
                    .fetch_rows(
                        "SELECT store_id, d, baseline, stretch, locked FROM target_day WHERE plan_id = $1 AND month = $2",
                        &[Arg::Int(plan.id), Arg::Int(month)],
                    )
                    .await?;
                for (s, d, b, st, l) in rows {
                    if let Some((code, name)) = stores.get(&s) {
                        out.push(TargetRow {
                            store_id: s,
                            store_code: code.clone(),
                            store_name: name.clone(),
                            period: d.to_string(),
                            baseline: b,
                            stretch: st,
                            locked: l,
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| a.store_code.as_bytes().cmp(b.store_code.as_bytes()).then_with(|| a.period.cmp(&b.period)));
        Ok(out)
    }

    /// A plan's regions and stores within reach (regions only for those who see every store).
    pub async fn target_overview(&self, scope: &Scope, plan: &Plan) -> Result<(Vec<PlanRegion>, Vec<PlanStore>)> {
        let stores = self.stores(scope).await?;
        let regions: HashMap<i64, String> = self.regions().await?.into_iter().map(|r| (r.id, r.name)).collect();
        let by_id: HashMap<i64, &crate::stores::Store> = stores.iter().map(|s| (s.id, s)).collect();
        type S = (i64, i64, i64, i64, bool, bool, Option<String>, String, String);
        let rows: Vec<S> = self
            .fetch_rows(
                "SELECT store_id, region_id, baseline, stretch, locked, fallback, tier, season, weekdays FROM target_store WHERE plan_id = $1",
                &[Arg::Int(plan.id)],
            )
            .await?;
        let mut out: Vec<PlanStore> = rows
            .into_iter()
            .filter_map(|(s, r, b, st, l, fallback, tier, season, weekdays)| {
                let store = by_id.get(&s)?;
                Some(PlanStore {
                    store_id: s,
                    store_code: store.code.clone(),
                    store_name: store.name.clone(),
                    region_id: r,
                    region: regions.get(&r).cloned().unwrap_or_default(),
                    baseline: b,
                    stretch: st,
                    locked: l,
                    fallback,
                    tier,
                    season,
                    weekdays,
                })
            })
            .collect();
        out.sort_by(|a, b| a.store_code.as_bytes().cmp(b.store_code.as_bytes()));
        let mut region_rows = Vec::new();
        if scope.sees_all() {
            let rows: Vec<(i64, i64, i64, bool)> = self
                .fetch_rows("SELECT region_id, baseline, stretch, locked FROM target_region WHERE plan_id = $1 ORDER BY region_id", &[Arg::Int(plan.id)])
                .await?;
            region_rows = rows
                .into_iter()
                .map(|(r, b, st, l)| PlanRegion {
                    region_id: r,
                    region: regions.get(&r).cloned().unwrap_or_default(),
                    baseline: b,
                    stretch: st,
                    locked: l,
                })
                .collect();
        }
        Ok((region_rows, out))
    }
}

/// The parent path and child index of a cell in a plan's tree.
fn locate(tree: &Node, cell: CellRef) -> Option<(Vec<usize>, usize)> {
    let key = match cell {
        CellRef::Company => return None,
        CellRef::Region(r) => Key::Region(r),
        CellRef::Store(s) | CellRef::Month { store: s, .. } | CellRef::Day { store: s, .. } => Key::Store(s),
    };
    let mut path = tree.find(key)?;
    match cell {
        CellRef::Month { month, .. } => {
            let store = tree.at(&path)?;
            let i = store.children.iter().position(|m| m.key == Key::Month(month))?;
            Some((path, i))
        }
        CellRef::Day { date, .. } => {
            let store = tree.at(&path)?;
            let m = store.children.iter().position(|m| m.key == Key::Month(month_key(date)))?;
            let d = store.children[m].children.iter().position(|d| d.key == Key::Day(date))?;
            path.push(m);
            Some((path, d))
        }
        _ => {
            let last = path.pop()?;
            Some((path, last))
        }
    }
}

fn cell_text(cell: CellRef) -> String {
    match cell {
        CellRef::Company => "company".into(),
        CellRef::Region(r) => format!("region:{r}"),
        CellRef::Store(s) => format!("store:{s}"),
        CellRef::Month { store, month } => format!("store:{store}/{}-{:02}", month / 100, month % 100),
        CellRef::Day { store, date } => format!("store:{store}/{date}"),
    }
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

/// A period's target and actual for one store on a day: what tracking,
/// forecast and alerts are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeriodPace {
    /// The whole period's baseline and stretch.
    pub baseline: i64,
    pub stretch: i64,
    /// The baseline and stretch of the days up to and including the day.
    pub baseline_to_date: i64,
    pub stretch_to_date: i64,
    /// The actual from the period's first day to the day.
    pub actual: i64,
    /// Days of the period up to the day, and after it.
    pub days_gone: i64,
    pub days_left: i64,
}

impl PeriodPace {
    pub fn add(&mut self, o: &PeriodPace) {
        self.baseline += o.baseline;
        self.stretch += o.stretch;
        self.baseline_to_date += o.baseline_to_date;
        self.stretch_to_date += o.stretch_to_date;
        self.actual += o.actual;
        self.days_gone = o.days_gone;
        self.days_left = o.days_left;
    }

    /// Against the baseline (the target a store must reach).
    pub fn pace(&self) -> opsdesk_domain::targets::Pace {
        opsdesk_domain::targets::Pace {
            actual: self.actual,
            target_to_date: self.baseline_to_date,
            target: self.baseline,
            days_left: self.days_left,
        }
    }
}

/// A store's month and year on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePace {
    pub store_id: i64,
    pub store_code: String,
    pub store_name: String,
    /// The store's top region (the one totals group by).
    pub region: String,
    pub month: PeriodPace,
    pub year: PeriodPace,
}

impl Db {
    /// Where each store within reach stands on `date` against a plan: the
    /// month and the year to date, target by the plan's own days.
    pub async fn target_pace(&self, scope: &Scope, plan: &Plan, date: NaiveDate) -> Result<Vec<StorePace>> {
        let Some(measure) = plan.metric.actual else {
            return Err(DbError::refused(
                format!("销售数据中没有{}的实际值，只能下达、不能跟踪", plan.metric.name_zh),
                format!("the sales data hold no actual {}: it can be set, not tracked", plan.metric.name_en),
            ));
        };
        if date.year() != plan.year {
            return Err(DbError::refused(
                format!("{date} 不在 {} 年计划内", plan.year),
                format!("{date} is outside the {} plan", plan.year),
            ));
        }
        let month = month_key(date);
        let (month_first, month_last) = opsdesk_domain::calendar::month_bounds(month).unwrap_or((date, date));
        let year_first = NaiveDate::from_ymd_opt(plan.year, 1, 1).unwrap_or(date);
        let year_last = NaiveDate::from_ymd_opt(plan.year, 12, 31).unwrap_or(date);
        let id = Arg::Int(plan.id);
        let month_targets: Vec<(i64, i64, i64, i64, i64)> = self
            .fetch_rows(
                "SELECT store_id, CAST(SUM(baseline) AS BIGINT), CAST(SUM(stretch) AS BIGINT),
                        CAST(SUM(CASE WHEN d <= $3 THEN baseline ELSE 0 END) AS BIGINT),
                        CAST(SUM(CASE WHEN d <= $3 THEN stretch ELSE 0 END) AS BIGINT)
                 FROM target_day WHERE plan_id = $1 AND month = $2 GROUP BY store_id",
                &[id, Arg::Int(month), Arg::Date(date)],
            )
            .await?;
        let year_to_date: Vec<(i64, i64, i64)> = self
            .fetch_rows(
                "SELECT store_id, CAST(SUM(baseline) AS BIGINT), CAST(SUM(stretch) AS BIGINT)
                 FROM target_day WHERE plan_id = $1 AND d <= $2 GROUP BY store_id",
                &[id, Arg::Date(date)],
            )
            .await?;
        let year: Vec<(i64, i64, i64)> =
            self.fetch_rows("SELECT store_id, baseline, stretch FROM target_store WHERE plan_id = $1", &[id]).await?;
        let actual_sql = "SELECT store_id, CAST(SUM(revenue_c) AS BIGINT), CAST(SUM(cost_c) AS BIGINT),
                CAST(SUM(tickets) AS BIGINT), CAST(SUM(COALESCE(member_revenue_c, 0)) AS BIGINT)
                FROM sales_day WHERE d BETWEEN $1 AND $2 GROUP BY store_id";
        let actual = |rows: Vec<(i64, i64, i64, i64, i64)>| -> HashMap<i64, i64> {
            rows.into_iter().map(|(s, r, c, t, m)| (s, measure.of(r, c, t, m))).collect()
        };
        let month_actual = actual(self.fetch_rows(actual_sql, &[Arg::Date(month_first), Arg::Date(date)]).await?);
        let year_actual = actual(self.fetch_rows(actual_sql, &[Arg::Date(year_first), Arg::Date(date)]).await?);
        let month_t: HashMap<i64, (i64, i64, i64, i64)> =
            month_targets.into_iter().map(|(s, b, st, bd, sd)| (s, (b, st, bd, sd))).collect();
        let ytd: HashMap<i64, (i64, i64)> = year_to_date.into_iter().map(|(s, b, st)| (s, (b, st))).collect();
        let year_t: HashMap<i64, (i64, i64)> = year.into_iter().map(|(s, b, st)| (s, (b, st))).collect();
        let days = |a: NaiveDate, b: NaiveDate| (b - a).num_days();
        let mut out = Vec::new();
        for s in self.stores(scope).await? {
            let Some(&(yb, ys)) = year_t.get(&s.id) else { continue };
            let (mb, ms, mbd, msd) = month_t.get(&s.id).copied().unwrap_or_default();
            let (yb_d, ys_d) = ytd.get(&s.id).copied().unwrap_or_default();
            out.push(StorePace {
                region: s.top_region().to_string(),
                store_id: s.id,
                store_code: s.code,
                store_name: s.name,
                month: PeriodPace {
                    baseline: mb,
                    stretch: ms,
                    baseline_to_date: mbd,
                    stretch_to_date: msd,
                    actual: month_actual.get(&s.id).copied().unwrap_or(0),
                    days_gone: days(month_first, date) + 1,
                    days_left: days(date, month_last),
                },
                year: PeriodPace {
                    baseline: yb,
                    stretch: ys,
                    baseline_to_date: yb_d,
                    stretch_to_date: ys_d,
                    actual: year_actual.get(&s.id).copied().unwrap_or(0),
                    days_gone: days(year_first, date) + 1,
                    days_left: days(date, year_last),
                },
            });
        }
        Ok(out)
    }
}
