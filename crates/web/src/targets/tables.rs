//! The tables of targets: a plan's cells, its overview by store, tracking
//! and alerts, the month day by day, and the payout sheet.

use chrono::NaiveDate;
use opsdesk_db::targets::{
    DayProgress, Grain, PayoutSheet, PeriodPace, Plan, PlanRegion, PlanStore, StorePace, TargetRow,
};
use opsdesk_domain::reports::table::{Cell, Column, Kind, ReportTable, col};
use opsdesk_domain::targets::{Unit, attainment};

fn value_kind(unit: Unit) -> Kind {
    match unit {
        Unit::Fen => Kind::Money,
        Unit::Count => Kind::Int,
    }
}

fn value(unit: Unit, v: i64) -> Cell {
    match unit {
        Unit::Fen => Cell::Fixed2(v),
        Unit::Count => Cell::Int(v),
    }
}

fn plan_title(plan: &Plan) -> (String, String) {
    (format!("{} 年{}目标", plan.year, plan.metric.name_zh), format!("{} {} targets", plan.year, plan.metric.name_en))
}

/// The plan's cells at a grain, in the file layout a plan is exported and
/// imported in: `store_code, period, baseline, stretch`.
pub fn cells_table(plan: &Plan, grain: Grain, rows: &[TargetRow]) -> ReportTable {
    let kind = value_kind(plan.metric.unit);
    let columns: Vec<Column> = vec![
        col("store_code", "门店编码", "Store code", Kind::Text),
        col("period", "期间", "Period", Kind::Text),
        col("baseline", "保底", "Baseline", kind),
        col("stretch", "力争", "Stretch", kind),
    ];
    let (zh, en) = plan_title(plan);
    let (suffix_zh, suffix_en) = match grain {
        Grain::Month => ("（按月）".to_string(), " by month".to_string()),
        Grain::Day(m) => {
            (format!("（{}-{:02} 按日）", m / 100, m % 100), format!(" by day, {}-{:02}", m / 100, m % 100))
        }
    };
    ReportTable {
        name: "targets",
        title_zh: zh + &suffix_zh,
        title_en: en + &suffix_en,
        columns,
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.store_code.clone()),
                    Cell::Text(r.period.clone()),
                    value(plan.metric.unit, r.baseline),
                    value(plan.metric.unit, r.stretch),
                ]
            })
            .collect(),
        totals: Vec::new(),
    }
}

/// A plan by region and store for the year, with how each store was shaped.
pub fn overview_table(plan: &Plan, regions: &[PlanRegion], stores: &[PlanStore]) -> ReportTable {
    let kind = value_kind(plan.metric.unit);
    let columns = vec![
        col("store_code", "门店编码", "Store code", Kind::Text),
        col("store_name", "门店名称", "Store", Kind::Text),
        col("region", "区域", "Region", Kind::Text),
        col("baseline", "保底", "Baseline", kind),
        col("stretch", "力争", "Stretch", kind),
        col("locked", "锁定", "Locked", Kind::Text),
        col("new_store", "新店（按备用规则）", "New (fallback rule)", Kind::Text),
        col("tier", "分级", "Tier", Kind::Text),
        col("season", "季节性来源", "Seasonality from", Kind::Text),
        col("weekdays", "星期分布来源", "Weekday profile from", Kind::Text),
    ];
    let yes = |b: bool| Cell::Text(if b { "✓".into() } else { String::new() });
    let rows = stores
        .iter()
        .map(|s| {
            vec![
                Cell::Text(s.store_code.clone()),
                Cell::Text(s.store_name.clone()),
                Cell::Text(s.region.clone()),
                value(plan.metric.unit, s.baseline),
                value(plan.metric.unit, s.stretch),
                yes(s.locked),
                yes(s.fallback),
                Cell::Text(s.tier.clone().unwrap_or_default()),
                Cell::Text(s.season.clone()),
                Cell::Text(s.weekdays.clone()),
            ]
        })
        .collect();
    let mut totals: Vec<Vec<Cell>> = regions
        .iter()
        .map(|r| {
            let mut row = vec![Cell::Null, Cell::Text(format!("Σ {}", r.region)), Cell::Text(r.region.clone())];
            row.extend([value(plan.metric.unit, r.baseline), value(plan.metric.unit, r.stretch), yes(r.locked)]);
            row.extend([Cell::Null, Cell::Null, Cell::Null, Cell::Null]);
            row
        })
        .collect();
    if !regions.is_empty() {
        let mut row = vec![Cell::Null, Cell::Text("Σ 公司 / company".into()), Cell::Null];
        row.extend([value(plan.metric.unit, plan.baseline), value(plan.metric.unit, plan.stretch), Cell::Null]);
        row.extend([Cell::Null, Cell::Null, Cell::Null, Cell::Null]);
        totals.push(row);
    }
    let (zh, en) = plan_title(plan);
    ReportTable { name: "target_plan", title_zh: zh, title_en: en, columns, rows, totals }
}

/// Tracking on a day: each store's month and year against the plan's
/// baseline, time progress by the plan's own daily weights, the month-end
/// and year-end forecast, and what a store needs per day to make its month.
/// With `alerts_only`, the stores forecast to miss their month, largest
/// shortfall first. Totals by region, and for the company when `company`.
pub fn tracking_table(
    plan: &Plan,
    date: NaiveDate,
    paces: &[StorePace],
    alerts_only: bool,
    company: bool,
) -> ReportTable {
    let unit = plan.metric.unit;
    let kind = value_kind(unit);
    let columns = vec![
        col("store_code", "门店编码", "Store code", Kind::Text),
        col("store_name", "门店名称", "Store", Kind::Text),
        col("region", "区域", "Region", Kind::Text),
        col("month_baseline", "月保底目标", "Month baseline", kind),
        col("month_stretch", "月力争目标", "Month stretch", kind),
        col("mtd_target", "累计应达", "Due to date", kind),
        col("mtd_actual", "月累计实际", "Month to date", kind),
        col("mtd_attainment_pct", "月达成率%", "Month attainment %", Kind::Attainment),
        col("time_progress_pct", "时间进度%", "Time progress %", Kind::Pct),
        col("pace_gap_pct", "进度差%", "Ahead of time %", Kind::Growth),
        col("month_forecast", "月末预测", "Month-end forecast", kind),
        col("forecast_vs_baseline_pct", "预测/保底%", "Forecast / baseline %", Kind::Attainment),
        col("forecast_vs_stretch_pct", "预测/力争%", "Forecast / stretch %", Kind::Attainment),
        col("need_per_day", "剩余日均需", "Needed per day", kind),
        col("run_rate_per_day", "当前日均", "Per day so far", kind),
        col("ytd_actual", "年累计实际", "Year to date", kind),
        col("year_baseline", "年保底目标", "Year baseline", kind),
        col("year_forecast", "年末预测", "Year-end forecast", kind),
        col("year_forecast_vs_baseline_pct", "年预测/保底%", "Year forecast / baseline %", Kind::Attainment),
        col("attainment_rank", "达成排名", "Attainment rank", Kind::Int),
    ];
    // Ranked by month attainment, highest first (ties by store code); no target last.
    let mut order: Vec<&StorePace> = paces.iter().collect();
    order.sort_by(|a, b| {
        let key = |p: &StorePace| std::cmp::Reverse(p.month.pace().attainment().unwrap_or(i64::MIN));
        key(a).cmp(&key(b)).then_with(|| a.store_code.as_bytes().cmp(b.store_code.as_bytes()))
    });
    let rank: std::collections::HashMap<i64, i64> =
        order.iter().enumerate().map(|(i, p)| (p.store_id, i as i64 + 1)).collect();
    let opt = |v: Option<i64>| v.map_or(Cell::Null, |v| value(unit, v));
    let pct = |v: Option<i64>| v.map_or(Cell::Null, Cell::Fixed2);
    let row =
        |code: Cell, name: String, region: String, m: &PeriodPace, y: &PeriodPace, rank: Option<i64>| -> Vec<Cell> {
            let mp = m.pace();
            let yp = y.pace();
            let forecast = mp.forecast();
            let gap = match (mp.attainment(), mp.time_progress()) {
                (Some(a), Some(t)) => Some(a - t),
                _ => None,
            };
            vec![
                code,
                Cell::Text(name),
                Cell::Text(region),
                value(unit, m.baseline),
                value(unit, m.stretch),
                value(unit, m.baseline_to_date),
                value(unit, m.actual),
                pct(mp.attainment()),
                pct(mp.time_progress()),
                pct(gap),
                opt(forecast),
                pct(forecast.and_then(|f| attainment(f, m.baseline))),
                pct(forecast.and_then(|f| attainment(f, m.stretch))),
                opt(mp.daily_need(m.baseline)),
                opt(mp.run_rate(m.days_gone)),
                value(unit, y.actual),
                value(unit, y.baseline),
                opt(yp.forecast()),
                pct(yp.forecast().and_then(|f| attainment(f, y.baseline))),
                rank.map_or(Cell::Null, Cell::Int),
            ]
        };
    let mut list: Vec<&StorePace> = paces.iter().collect();
    if alerts_only {
        list.retain(|p| p.month.days_left > 0 && p.month.pace().forecast().is_some_and(|f| f < p.month.baseline));
        list.sort_by_key(|p| (p.month.pace().forecast().unwrap_or(0) - p.month.baseline, p.store_code.clone()));
    }
    let rows = list
        .iter()
        .map(|p| {
            let r = rank.get(&p.store_id).copied();
            row(Cell::Text(p.store_code.clone()), p.store_name.clone(), p.region.clone(), &p.month, &p.year, r)
        })
        .collect();
    let mut totals = Vec::new();
    if !alerts_only {
        let mut regions: std::collections::BTreeMap<&str, (PeriodPace, PeriodPace)> = Default::default();
        let mut all = (PeriodPace::default(), PeriodPace::default());
        for p in paces {
            let e = regions.entry(p.region.as_str()).or_default();
            e.0.add(&p.month);
            e.1.add(&p.year);
            all.0.add(&p.month);
            all.1.add(&p.year);
        }
        for (r, (m, y)) in &regions {
            totals.push(row(Cell::Null, format!("Σ {r}"), r.to_string(), m, y, None));
        }
        if company && !paces.is_empty() {
            totals.push(row(Cell::Null, "Σ 公司 / company".into(), String::new(), &all.0, &all.1, None));
        }
    }
    let (zh, en) = plan_title(plan);
    let (what_zh, what_en) = if alerts_only {
        ("预警：预计完不成月保底", "alerts: forecast to miss the month")
    } else {
        ("跟踪", "tracking")
    };
    ReportTable {
        name: if alerts_only { "target_alerts" } else { "target_tracking" },
        title_zh: format!("{zh}{what_zh} {date}"),
        title_en: format!("{en}, {what_en}, {date}"),
        columns,
        rows,
        totals,
    }
}

/// A month's reward and penalty sheet, for finance.
pub fn payout_table(plan: &Plan, sheet: &PayoutSheet) -> ReportTable {
    let unit = plan.metric.unit;
    let kind = value_kind(unit);
    let columns = vec![
        col("store_code", "门店编码", "Store code", Kind::Text),
        col("store_name", "门店名称", "Store", Kind::Text),
        col("managers", "店长", "Store manager", Kind::Text),
        col("month_baseline", "月保底目标", "Month baseline", kind),
        col("actual", "实际", "Actual", kind),
        col("attainment_pct", "达成率%", "Attainment %", Kind::Attainment),
        col("payout", "奖罚金额", "Reward (+) / penalty (−)", Kind::Money),
    ];
    let rows = sheet
        .lines
        .iter()
        .map(|l| {
            vec![
                Cell::Text(l.store_code.clone()),
                Cell::Text(l.store_name.clone()),
                Cell::Text(l.managers.clone()),
                value(unit, l.target),
                l.actual.map_or(Cell::Null, |a| value(unit, a)),
                Cell::opt2(l.attainment),
                Cell::Fixed2(l.amount),
            ]
        })
        .collect();
    let total = |f: fn(&opsdesk_db::targets::PayoutLine) -> i64| sheet.lines.iter().map(f).sum::<i64>();
    let totals = if sheet.lines.is_empty() {
        Vec::new()
    } else {
        vec![vec![
            Cell::Null,
            Cell::Text("Σ".into()),
            Cell::Null,
            value(unit, total(|l| l.target)),
            Cell::Null,
            Cell::Null,
            Cell::Fixed2(total(|l| l.amount)),
        ]]
    };
    let (zh, en) = plan_title(plan);
    let label = format!("{}-{:02}", sheet.month / 100, sheet.month % 100);
    let (state_zh, state_en) = match &sheet.approved {
        Some((by, at)) => {
            (format!("已审批 {by} {}", at.format("%Y-%m-%d")), format!("approved by {by} {}", at.format("%Y-%m-%d")))
        }
        None => ("草稿".to_string(), "draft".to_string()),
    };
    ReportTable {
        name: "target_payout",
        title_zh: format!("{zh}奖罚表 {label}（{state_zh}）"),
        title_en: format!("{en}, rewards and penalties {label} ({state_en})"),
        columns,
        rows,
        totals,
    }
}

/// A month day by day over the stores within reach: the plan's baseline,
/// the actual, both accumulated, and the cumulative attainment against the
/// time progress — the table behind the cumulative attainment chart.
pub fn progress_table(plan: &Plan, month: i64, days: &[DayProgress]) -> ReportTable {
    let unit = plan.metric.unit;
    let kind = value_kind(unit);
    let columns = vec![
        col("date", "日期", "Date", Kind::Date),
        col("baseline", "当日保底", "Day baseline", kind),
        col("actual", "当日实际", "Day actual", kind),
        col("cum_baseline", "累计保底", "Baseline to date", kind),
        col("cum_actual", "累计实际", "Actual to date", kind),
        col("cum_attainment_pct", "累计达成率%", "Attainment to date %", Kind::Attainment),
        col("month_attainment_pct", "月达成率%", "Month attainment %", Kind::Pct),
        col("time_progress_pct", "时间进度%", "Time progress %", Kind::Pct),
    ];
    let month_total: i64 = days.iter().map(|d| d.baseline).sum();
    let (mut cum_b, mut cum_a) = (0i64, 0i64);
    let rows = days
        .iter()
        .map(|d| {
            cum_b += d.baseline;
            if let Some(a) = d.actual {
                cum_a += a;
            }
            let known = d.actual.is_some();
            vec![
                Cell::Date(d.date),
                value(unit, d.baseline),
                d.actual.map_or(Cell::Null, |a| value(unit, a)),
                value(unit, cum_b),
                if known { value(unit, cum_a) } else { Cell::Null },
                if known { Cell::opt2(attainment(cum_a, cum_b)) } else { Cell::Null },
                if known { Cell::opt2(attainment(cum_a, month_total)) } else { Cell::Null },
                Cell::opt2(attainment(cum_b, month_total)),
            ]
        })
        .collect();
    let (zh, en) = plan_title(plan);
    let label = opsdesk_domain::calendar::month_label(month);
    ReportTable {
        name: "target_progress",
        title_zh: format!("{zh}累计达成 {label}"),
        title_en: format!("{en}, attainment to date, {label}"),
        columns,
        rows,
        totals: Vec::new(),
    }
}

/// The plan a request names, or the one a reader most likely wants: the
/// revenue plan of the year of the last sales, else the newest plan.
pub async fn plan_or_default(
    db: &opsdesk_db::Db,
    scope: &opsdesk_db::Scope,
    id: Option<i64>,
) -> Result<Plan, opsdesk_db::DbError> {
    let none = || opsdesk_db::DbError::Refused {
        zh: "还没有目标计划".into(),
        en: "there is no target plan yet".into(),
    };
    if let Some(id) = id {
        return db.target_plan(id).await?.ok_or_else(|| opsdesk_db::DbError::Refused {
            zh: format!("没有编号为 {id} 的目标计划"),
            en: format!("there is no target plan {id}"),
        });
    }
    let plans = db.target_plans().await?;
    let year = db.last_sales_date(scope).await?.map(|d| chrono::Datelike::year(&d));
    plans
        .iter()
        .find(|p| Some(p.year) == year && p.metric.key == "revenue")
        .or_else(|| plans.iter().find(|p| Some(p.year) == year))
        .or_else(|| plans.first())
        .cloned()
        .ok_or_else(none)
}

/// The day tracking looks at: the one asked, else the last date with sales
/// held within the plan's year.
pub async fn tracking_date(
    db: &opsdesk_db::Db,
    scope: &opsdesk_db::Scope,
    plan: &Plan,
    date: Option<NaiveDate>,
) -> Result<NaiveDate, opsdesk_db::DbError> {
    if let Some(d) = date {
        return Ok(d);
    }
    let first = NaiveDate::from_ymd_opt(plan.year, 1, 1).unwrap_or_default();
    let last = NaiveDate::from_ymd_opt(plan.year, 12, 31).unwrap_or_default();
    Ok(db.last_sales_date(scope).await?.unwrap_or(first).clamp(first, last))
}

/// Adds the revenue plan's targets to the daily, weekly and monthly reports
/// (as made by the report service), when a plan covers their period: the
/// target of each store, region and company row, attainment, and on the
/// daily report the month to date against the time progress.
pub(crate) async fn with_targets(
    db: &opsdesk_db::Db,
    scope: &opsdesk_db::Scope,
    t: &mut ReportTable,
) -> Result<(), opsdesk_db::DbError> {
    use opsdesk_domain::calendar::{month_bounds, month_key, parse_date};
    use opsdesk_domain::targets::columns::{RowTarget, add_target_columns};
    use std::collections::HashMap;
    if !matches!(t.name, "r1_daily" | "weekly" | "r2_monthly") || t.rows.is_empty() {
        return Ok(());
    }
    let first = |key: &str| -> Option<String> {
        let i = t.columns.iter().position(|c| c.key == key)?;
        t.rows.row(0).and_then(|r| r.get(i).map(Cell::text))
    };
    // Per store id (and period text); the stores are read only once a plan
    // covers the report, so a report without one pays a single lookup.
    let mut by_id: HashMap<(i64, String), RowTarget> = HashMap::new();
    match t.name {
        "r1_daily" => {
            let Some(date) = first("date").and_then(|d| parse_date(&d).ok()) else { return Ok(()) };
            let Some(plan) = db.target_plan_for(chrono::Datelike::year(&date), "revenue").await? else { return Ok(()) };
            let month_first = month_bounds(month_key(date)).map_or(date, |b| b.0);
            let day = db.target_sums(&plan, date, date).await?;
            let to_date = db.target_sums(&plan, month_first, date).await?;
            // A month's cells sum to its month target exactly.
            let m = month_key(date);
            let month: HashMap<i64, i64> =
                db.target_month_sums(&plan, m, m).await?.into_iter().map(|((s, _), v)| (s, v)).collect();
            for (&s, &m) in &month {
                let target = day.get(&s).copied().unwrap_or(0);
                let month = Some((to_date.get(&s).copied().unwrap_or(0), m));
                by_id.insert((s, String::new()), RowTarget { target, month });
            }
        }
        "weekly" => {
            let Some(week) = first("week").and_then(|w| opsdesk_domain::reports::weekly::IsoWeek::parse(&w)) else {
                return Ok(());
            };
            let (monday, sunday) = (week.monday(), week.monday() + chrono::Duration::days(6));
            // A week across New Year takes each day from its own year's plan.
            let mut sums: HashMap<i64, i64> = HashMap::new();
            let mut covered = false;
            for year in [chrono::Datelike::year(&monday), chrono::Datelike::year(&sunday)] {
                if let Some(plan) = db.target_plan_for(year, "revenue").await? {
                    covered = true;
                    let from = monday.max(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(monday));
                    let to = sunday.min(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(sunday));
                    for (s, v) in db.target_sums(&plan, from, to).await? {
                        *sums.entry(s).or_default() += v;
                    }
                }
                if chrono::Datelike::year(&monday) == chrono::Datelike::year(&sunday) {
                    break;
                }
            }
            if !covered {
                return Ok(());
            }
            for (s, v) in sums {
                by_id.insert((s, String::new()), RowTarget { target: v, month: None });
            }
        }
        _ => {
            let Some(mi) = t.columns.iter().position(|c| c.key == "month") else { return Ok(()) };
            let mut years: Vec<i32> = t
                .rows
                .to_vec()
                .iter()
                .filter_map(|r| r.get(mi))
                .filter_map(|c| c.text().get(..4).and_then(|y| y.parse().ok()))
                .collect();
            years.sort_unstable();
            years.dedup();
            let months: Vec<i64> = t
                .rows
                .to_vec()
                .iter()
                .filter_map(|r| r.get(mi))
                .filter_map(|c| opsdesk_domain::calendar::parse_month(&c.text()))
                .collect();
            let (from, to) = (months.iter().min().copied().unwrap_or(0), months.iter().max().copied().unwrap_or(0));
            for year in years {
                let Some(plan) = db.target_plan_for(year, "revenue").await? else { continue };
                for ((s, m), v) in db.target_month_sums(&plan, from, to).await? {
                    by_id.insert((s, opsdesk_domain::calendar::month_label(m)), RowTarget { target: v, month: None });
                }
            }
        }
    }
    if by_id.is_empty() {
        return Ok(());
    }
    // Store rows by code, then their sums for each region and the company.
    let stores: HashMap<i64, (String, String)> =
        db.stores(scope).await?.into_iter().map(|s| (s.id, (s.code.clone(), s.top_region().to_string()))).collect();
    let mut all: HashMap<(String, String), RowTarget> = HashMap::new();
    for ((id, period), r) in by_id {
        let Some((code, region)) = stores.get(&id) else { continue };
        all.entry((format!("Σ {region}"), period.clone())).or_default().add(&r);
        all.entry(("Σ".to_string(), period.clone())).or_default().add(&r);
        all.insert((code.clone(), period), r);
    }
    let period = (t.name == "r2_monthly").then_some("month");
    add_target_columns(t, &all, period);
    Ok(())
}

/// The month's target on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DashboardTarget {
    pub day: i64,
    pub to_date: i64,
    pub month: i64,
}

impl DashboardTarget {
    /// Month-to-date revenue over the month's target.
    pub fn attainment(&self, mtd_revenue: i64) -> Option<i64> {
        opsdesk_domain::targets::attainment(mtd_revenue, self.month)
    }

    /// The share of the month's target due by the date (by the plan's daily weights).
    pub fn time_progress(&self) -> Option<i64> {
        opsdesk_domain::targets::attainment(self.to_date, self.month)
    }
}

pub(crate) async fn dashboard_target(
    db: &opsdesk_db::Db,
    scope: &opsdesk_db::Scope,
    date: NaiveDate,
) -> Result<Option<DashboardTarget>, opsdesk_db::DbError> {
    let Some(plan) = db.target_plan_for(chrono::Datelike::year(&date), "revenue").await? else { return Ok(None) };
    let (first, last) =
        opsdesk_domain::calendar::month_bounds(opsdesk_domain::calendar::month_key(date)).unwrap_or((date, date));
    let ids: std::collections::HashSet<i64> = db.stores(scope).await?.into_iter().map(|s| s.id).collect();
    let sum = |m: std::collections::HashMap<i64, i64>| {
        m.into_iter().filter(|(s, _)| ids.contains(s)).map(|(_, v)| v).sum::<i64>()
    };
    let month = sum(db.target_sums(&plan, first, last).await?);
    if month == 0 {
        return Ok(None);
    }
    Ok(Some(DashboardTarget {
        day: sum(db.target_sums(&plan, date, date).await?),
        to_date: sum(db.target_sums(&plan, first, date).await?),
        month,
    }))
}
