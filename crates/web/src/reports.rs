//! The report service: one request → one [`ReportTable`], scoped by the
//! user's reach. The command line, the pages and the JSON API all ask here,
//! so a report is computed one way and only rendered differently.

use chrono::{Duration, NaiveDate};
use opsdesk_db::{Db, DbError, Scope};
use opsdesk_domain::calendar::{month_bounds, month_key, month_start};
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::reports::category::{category_report, category_table};
use opsdesk_domain::reports::daily::{DailyReport, DailyRow, daily_report, daily_table};
use opsdesk_domain::reports::efficiency::efficiency_table;
use opsdesk_domain::reports::monthly::{month_label, monthly_report, monthly_table, prev_month};
use opsdesk_domain::reports::regions::regions_table;
use opsdesk_domain::reports::rfm::{rfm_members_table, rfm_segments_table, segment_rows};
use opsdesk_domain::reports::table::{Cell, Column, Kind, ReportTable, col};
use opsdesk_domain::reports::traffic::{Flag, TrafficRow, traffic_rows, traffic_table};
use opsdesk_domain::reports::weekly::{IsoWeek, weekly_table};

/// A report and its parameters; `None` means the default (the last date,
/// week or month with sales; every month).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportRequest {
    Daily {
        date: Option<NaiveDate>,
    },
    Weekly {
        week: Option<IsoWeek>,
    },
    /// Months as `yyyymm`, both ends included.
    Monthly {
        from: Option<i64>,
        to: Option<i64>,
    },
    Traffic {
        month: Option<i64>,
    },
    Efficiency {
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
    Regions {
        month: Option<i64>,
    },
    Category {
        from: Option<i64>,
        to: Option<i64>,
    },
    Rfm {
        asof: Option<NaiveDate>,
    },
    RfmSegments {
        asof: Option<NaiveDate>,
    },
    /// The store list (门店清单) within reach.
    Stores,
    /// The import history (导入记录) within reach, newest first.
    Imports,
    /// The audit log, newest first (administrators only).
    Audit,
    /// The users with their role and reach (administrators only).
    Users,
    /// Revenue and traffic by day over the 30 days to `to` (default: the
    /// last date with sales), within reach: the dashboard's trend.
    Trend {
        to: Option<NaiveDate>,
    },
    /// A target plan by store, with region and company totals (`plan`: its
    /// id; default: the revenue plan of the year of the last sales).
    TargetPlan {
        plan: Option<i64>,
    },
    /// Each store's month and year on a day against the plan: attainment,
    /// time progress, forecast, what it needs per day.
    TargetTracking {
        plan: Option<i64>,
        date: Option<NaiveDate>,
    },
    /// The stores forecast to miss their month, largest shortfall first.
    TargetAlerts {
        plan: Option<i64>,
        date: Option<NaiveDate>,
    },
    /// A month day by day: target, actual, cumulative attainment.
    TargetProgress {
        plan: Option<i64>,
        month: Option<i64>,
    },
    /// A month's reward and penalty sheet.
    TargetPayout {
        plan: Option<i64>,
        month: Option<i64>,
    },
    /// Where each unit of an appraisal cycle stands (default: the newest cycle).
    AppraisalStatus {
        month: Option<i64>,
    },
    /// Each unit's grade distribution against the rules.
    AppraisalGrades {
        month: Option<i64>,
    },
    /// The cycle's payout sheet (approved units).
    AppraisalPayout {
        month: Option<i64>,
    },
    /// Employees with three grades of C or below in a row.
    AppraisalReviewList,
    /// One employee's scores, grades and pay by month.
    AppraisalHistory {
        employee: String,
    },
}

/// Why a report cannot be made.
#[derive(Debug)]
pub enum ReportError {
    /// Nothing imported within reach.
    NoSales,
    /// `from` after `to`.
    BadRange,
    /// Not for this user's role.
    Forbidden,
    /// The report needs line detail and the period's store-days came as
    /// daily summaries.
    NoDetail {
        summary_days: i64,
    },
    Db(DbError),
}

impl ReportError {
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ReportError::NoSales => lang.pick("还没有销售数据：请先导入", "no sales yet: import some first").into(),
            ReportError::BadRange => lang.pick("开始日期晚于结束日期", "the start is after the end").into(),
            ReportError::Forbidden => lang.pick("你的角色不能查看这份报表", "your role may not see this report").into(),
            ReportError::NoDetail { summary_days } => lang
                .pick(
                    &format!(
                        "{summary_days} 个门店·日的数据来自日汇总，没有品类和会员明细：无法出此报表；请导入销售明细"
                    ),
                    &format!(
                        "{summary_days} store-days came as daily summaries without category or member detail: \
                         this report cannot be made from them; import POS lines"
                    ),
                )
                .into(),
            ReportError::Db(e) => e.message(lang),
        }
    }

    /// The user asked for something that cannot be answered (as opposed to a
    /// failure of the database).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ReportError::Db(DbError::Sqlx(_)))
    }
}

impl From<DbError> for ReportError {
    fn from(e: DbError) -> Self {
        ReportError::Db(e)
    }
}

/// A report with what the reader should know about it.
#[derive(Debug)]
pub struct Report {
    pub table: ReportTable,
    /// Store-days of the period left out because they came as summaries
    /// without the detail this report needs.
    pub summary_days_left_out: i64,
    views: Views,
}

/// Forms of a report's table asked for since it was made (the desk's
/// segment and sort links), kept with it: at 1,000 stores, sorting the
/// member list takes a good part of a second, and its pages follow.
#[derive(Debug, Default)]
struct Views(std::sync::Mutex<Vec<(String, std::sync::Arc<ReportTable>)>>);

/// The forms kept per report; the oldest goes first. A form of a long list
/// keeps four bytes a row, not its cells.
const VIEWS_KEPT: usize = 8;

impl Report {
    pub fn new(table: ReportTable, summary_days_left_out: i64) -> Report {
        Report { table, summary_days_left_out, views: Views::default() }
    }

    /// The form of the table that `key` names, made by `make` unless made
    /// before.
    pub fn view(&self, key: &str, make: impl FnOnce(&ReportTable) -> ReportTable) -> std::sync::Arc<ReportTable> {
        let kept = |views: &Vec<(String, std::sync::Arc<ReportTable>)>| {
            views.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        };
        if let Some(v) = kept(&self.views.0.lock().unwrap_or_else(|e| e.into_inner())) {
            return v;
        }
        // Made without the lock: another form may be asked for meanwhile.
        let made = std::sync::Arc::new(make(&self.table));
        let mut views = self.views.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = kept(&views) {
            return v;
        }
        if views.len() >= VIEWS_KEPT {
            views.remove(0);
        }
        views.push((key.to_string(), made.clone()));
        made
    }

    /// The note on left-out summary days, if any.
    pub fn note(&self, lang: Lang) -> Option<String> {
        let n = self.summary_days_left_out;
        (n > 0).then(|| {
            lang.pick(
                &format!("注意：{n} 个门店·日的数据来自日汇总，没有品类和会员明细，不计入本表"),
                &format!(
                    "note: {n} store-days came as daily summaries without category or member detail; they are not in this report"
                ),
            )
            .to_string()
        })
    }
}

async fn last_date(db: &Db, scope: &Scope) -> Result<NaiveDate, ReportError> {
    db.last_sales_date(scope).await?.ok_or(ReportError::NoSales)
}

/// The daily report for a date (default: the last date with sales).
pub async fn daily(db: &Db, scope: &Scope, date: Option<NaiveDate>) -> Result<DailyReport, ReportError> {
    let date = match date {
        Some(d) => d,
        None => last_date(db, scope).await?,
    };
    let inputs = db.daily_inputs(scope, date).await?;
    Ok(daily_report(date, &inputs))
}

fn first_of(month: i64) -> NaiveDate {
    month_bounds(month).map(|b| b.0).unwrap_or_default()
}

fn last_of(month: i64) -> NaiveDate {
    month_bounds(month).map(|b| b.1).unwrap_or_default()
}

fn in_range(month: i64, from: Option<i64>, to: Option<i64>) -> bool {
    from.is_none_or(|f| month >= f) && to.is_none_or(|t| month <= t)
}

/// How many store-days from `from` to `to` came as summaries; an error when
/// the report found nothing else.
async fn summary_days(db: &Db, scope: &Scope, from: NaiveDate, to: NaiveDate, empty: bool) -> Result<i64, ReportError> {
    let n = db.summary_days(scope, from, to).await?;
    if n > 0 && empty {
        return Err(ReportError::NoDetail { summary_days: n });
    }
    Ok(n)
}

/// Makes the report asked for, over the stores within `scope`. Company
/// totals are left out for those who cannot see every store: a total of
/// their own stores is not the company's.
pub async fn build(db: &Db, scope: &Scope, req: &ReportRequest) -> Result<Report, ReportError> {
    let mut report = build_all(db, scope, req).await?;
    if !scope.sees_all() {
        let company = |row: &Vec<Cell>| row.iter().take(2).any(|c| matches!(c, Cell::Text(t) if t == "Σ"));
        report.table.totals.retain(|row| !company(row));
    }
    Ok(report)
}

async fn build_all(db: &Db, scope: &Scope, req: &ReportRequest) -> Result<Report, ReportError> {
    let mut report = build_report(db, scope, req).await?;
    crate::targets::with_targets(db, scope, &mut report.table).await?;
    Ok(report)
}

async fn build_report(db: &Db, scope: &Scope, req: &ReportRequest) -> Result<Report, ReportError> {
    let plain = |table| Report::new(table, 0);
    Ok(match *req {
        ReportRequest::Daily { date } => plain(daily_table(&daily(db, scope, date).await?)),
        ReportRequest::Weekly { week } => {
            let week = match week {
                Some(w) => w,
                None => IsoWeek::of(last_date(db, scope).await?),
            };
            plain(weekly_table(week, &db.weekly_inputs(scope, week).await?))
        }
        ReportRequest::Monthly { from, to } => {
            // Growth compares with the month before and the same month a year
            // before: for less than a year, read just those and the months shown.
            let months = match (from, to) {
                (Some(f), Some(t)) if t >= f && t - f < 100 => {
                    let mut m = db.store_months(scope, prev_month(f), t).await?;
                    m.extend(db.store_months(scope, f - 100, t - 100).await?);
                    m.sort_by(|a, b| (a.store_code.as_bytes(), a.month).cmp(&(b.store_code.as_bytes(), b.month)));
                    m.dedup_by(|a, b| a.store_code == b.store_code && a.month == b.month);
                    m
                }
                _ => db.store_months(scope, from.map_or(0, |f| f - 100), to.unwrap_or(999_912)).await?,
            };
            let rows: Vec<_> = monthly_report(&months).into_iter().filter(|r| in_range(r.month, from, to)).collect();
            plain(monthly_table(&rows))
        }
        ReportRequest::Traffic { month } => {
            let month = match month {
                Some(m) => m,
                None => month_key(last_date(db, scope).await?),
            };
            let (from, to) = (first_of(month), last_of(month));
            let days = db.store_days(scope, from - Duration::days(56), to).await?;
            let stores: Vec<(String, Vec<_>)> = days
                .into_iter()
                .map(|(code, days)| (code, traffic_rows(&days, from, to)))
                .filter(|(_, rows)| !rows.is_empty())
                .collect();
            plain(traffic_table(&month_label(month), &stores))
        }
        ReportRequest::Efficiency { from, to } => {
            let to = match to {
                Some(d) => d,
                None => last_date(db, scope).await?,
            };
            let from = from.unwrap_or_else(|| month_start(to));
            if from > to {
                return Err(ReportError::BadRange);
            }
            plain(efficiency_table(from, to, &db.efficiency_inputs(scope, from, to).await?))
        }
        ReportRequest::Regions { month } => {
            let month = match month {
                Some(m) => m,
                None => month_key(last_date(db, scope).await?),
            };
            let stores = db.region_stores(scope, month).await?.unwrap_or_default();
            plain(regions_table(&month_label(month), &stores))
        }
        ReportRequest::Category { from, to } => {
            if from.zip(to).is_some_and(|(f, t)| f > t) {
                return Err(ReportError::BadRange);
            }
            // Bounds every database accepts.
            let (earliest, latest) = (NaiveDate::from_ymd_opt(1900, 1, 1), NaiveDate::from_ymd_opt(9999, 12, 31));
            let span =
                (from.map(first_of).or(earliest).unwrap_or_default(), to.map(last_of).or(latest).unwrap_or_default());
            let cats = db.category_months(scope, from.unwrap_or(190_001), to.unwrap_or(999_912)).await?;
            let left_out = summary_days(db, scope, span.0, span.1, cats.is_empty()).await?;
            Report::new(category_table(&category_report(&cats)), left_out)
        }
        ReportRequest::Stores => plain(stores_table(&db.stores(scope).await?)),
        ReportRequest::Trend { to } => {
            let to = match to {
                Some(d) => d,
                None => last_date(db, scope).await?,
            };
            plain(trend_table(to, &trend(db, scope, to).await?))
        }
        ReportRequest::Imports => plain(imports_table(&db.imports(scope, 10_000).await?)),
        ReportRequest::Audit if scope.administers() => plain(audit_table(&db.audit_events(scope, 10_000).await?)),
        ReportRequest::Audit => return Err(ReportError::Forbidden),
        ReportRequest::Users if scope.administers() => {
            plain(users_table(&db.users().await?, &db.stores(scope).await?, &db.regions().await?))
        }
        ReportRequest::Users => return Err(ReportError::Forbidden),
        ReportRequest::TargetPlan { plan } => {
            let plan = crate::targets::plan_or_default(db, scope, plan).await?;
            let (regions, stores) = db.target_overview(scope, &plan).await?;
            plain(crate::targets::overview_table(&plan, &regions, &stores))
        }
        ReportRequest::TargetTracking { plan, date } | ReportRequest::TargetAlerts { plan, date } => {
            let plan = crate::targets::plan_or_default(db, scope, plan).await?;
            let date = crate::targets::tracking_date(db, scope, &plan, date).await?;
            let paces = db.target_pace(scope, &plan, date).await?;
            let alerts = matches!(req, ReportRequest::TargetAlerts { .. });
            plain(crate::targets::tracking_table(&plan, date, &paces, alerts, scope.sees_all()))
        }
        ReportRequest::TargetProgress { plan, month } | ReportRequest::TargetPayout { plan, month } => {
            let plan = crate::targets::plan_or_default(db, scope, plan).await?;
            let month = match month {
                Some(m) => m,
                None => month_key(crate::targets::tracking_date(db, scope, &plan, None).await?),
            };
            if matches!(req, ReportRequest::TargetProgress { .. }) {
                plain(crate::targets::progress_table(&plan, month, &db.target_days(scope, &plan, month).await?))
            } else {
                plain(crate::targets::payout_table(&plan, &db.payout_sheet(scope, &plan, month).await?))
            }
        }
        ReportRequest::AppraisalStatus { month }
        | ReportRequest::AppraisalGrades { month }
        | ReportRequest::AppraisalPayout { month } => {
            let cycles = db.appraisal_cycles().await?;
            let Some(&(month, deadline)) = cycles.iter().find(|c| month.is_none_or(|m| c.0 == m)) else {
                return Err(ReportError::Db(DbError::Refused {
                    zh: "还没有这个考核周期".into(),
                    en: "there is no such appraisal cycle".into(),
                }));
            };
            plain(match req {
                ReportRequest::AppraisalStatus { .. } => {
                    crate::appraisal::status_table(month, Some(deadline), &db.cycle_units(scope, month).await?)
                }
                ReportRequest::AppraisalGrades { .. } => {
                    crate::appraisal::grades_table(month, &db.appraisal_results(scope, month, false).await?)
                }
                _ => crate::appraisal::payout_table(month, &db.appraisal_payout(scope, month).await?),
            })
        }
        ReportRequest::AppraisalReviewList => plain(crate::appraisal::review_list_table(&db.review_list(scope).await?)),
        ReportRequest::AppraisalHistory { ref employee } => match db.appraisal_history(scope, employee).await? {
            Some((e, lines)) => plain(crate::appraisal::history_table(&e, &lines)),
            None => return Err(ReportError::Forbidden),
        },
        ReportRequest::Rfm { asof } | ReportRequest::RfmSegments { asof } => {
            let asof = match asof {
                Some(d) => d,
                None => last_date(db, scope).await?,
            };
            let from = asof - Duration::days(364);
            let (table, left_out) = match req {
                ReportRequest::Rfm { .. } => {
                    let members = db.rfm_members(scope, asof).await?;
                    let left_out = summary_days(db, scope, from, asof, members.is_empty()).await?;
                    (rfm_members_table(asof, members), left_out)
                }
                _ => {
                    let sums = db.rfm_segment_sums(scope, asof).await?;
                    let left_out = summary_days(db, scope, from, asof, sums.iter().all(|s| s.0 == 0)).await?;
                    (rfm_segments_table(asof, &segment_rows(&sums)), left_out)
                }
            };
            Report::new(table, left_out)
        }
    })
}

/// The report as JSON, as the command line's `--format json` and the API
/// give it: numbers as numbers, blanks as null.
pub fn table_json(t: &ReportTable) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let row = |cells: &[Cell]| -> Value {
        let mut m = Map::new();
        for (c, cell) in t.columns.iter().zip(cells) {
            let text_column = matches!(c.kind, Kind::Text | Kind::Date);
            let v = match cell {
                // Counts stay whole numbers (17, not 17.0); amounts and
                // percentages carry their two places.
                Cell::Int(n) if !text_column => json!(n),
                Cell::Fixed2(_) if !text_column => json!(cell.number()),
                _ if cell.text().is_empty() => Value::Null,
                _ => Value::String(cell.text()),
            };
            m.insert(c.key.to_string(), v);
        }
        Value::Object(m)
    };
    json!({
        "report": t.name,
        "title": t.title_en,
        "rows": t.rows.map(row),
        "totals": t.totals.iter().map(|r| row(r)).collect::<Vec<_>>(),
    })
}

/// What the dashboard shows: the last date with sales within reach, its
/// totals over the stores in reach, the top and bottom stores by revenue,
/// and the stores whose traffic that day fell outside their weekday baseline.
#[derive(Debug)]
pub struct Dashboard {
    pub date: NaiveDate,
    pub total: DailyRow,
    pub top: Vec<DailyRow>,
    pub bottom: Vec<DailyRow>,
    pub anomalies: Vec<(String, TrafficRow)>,
    /// The last 30 days within reach: date, revenue, purchase tickets.
    pub trend: Vec<(NaiveDate, i64, i64)>,
    /// The revenue plan's baseline over the stores within reach, when a plan
    /// covers the date: the day's, the month's to date, the whole month's.
    pub target: Option<crate::targets::DashboardTarget>,
}

/// The dashboard of `scope`; `None` before any sales.
pub async fn dashboard(db: &Db, scope: &Scope) -> Result<Option<Dashboard>, ReportError> {
    let Some(date) = db.last_sales_date(scope).await? else { return Ok(None) };
    let rep = daily(db, scope, Some(date)).await?;
    let mut stores: Vec<DailyRow> = rep.stores.into_iter().filter(|s| s.tickets > 0 || s.revenue != 0).collect();
    stores.sort_by(|a, b| b.revenue.cmp(&a.revenue).then_with(|| a.label.as_bytes().cmp(b.label.as_bytes())));
    let top: Vec<DailyRow> = stores.iter().take(5).cloned().collect();
    let bottom: Vec<DailyRow> = stores.iter().rev().take(stores.len().saturating_sub(5).min(5)).cloned().collect();
    let days = db.store_days(scope, date - Duration::days(56), date).await?;
    let trend = daily_sums(&days, date);
    let anomalies = days
        .into_iter()
        .flat_map(|(code, days)| traffic_rows(&days, date, date).into_iter().map(move |r| (code.clone(), r)))
        .filter(|(_, r)| matches!(r.flag, Flag::High | Flag::Low))
        .collect();
    let target = crate::targets::dashboard_target(db, scope, date).await?;
    Ok(Some(Dashboard { date, total: rep.company, top, bottom, anomalies, trend, target }))
}

const STORE_COLUMNS: [Column; 11] = [
    col("store_code", "门店", "store", Kind::Text),
    col("store_name", "名称", "name", Kind::Text),
    col("region", "区域", "region", Kind::Text),
    col("area_sqm", "面积㎡", "area m²", Kind::Int),
    col("staff_count", "员工数", "staff", Kind::Int),
    col("open_date", "开业日期", "opened", Kind::Date),
    col("channel", "渠道", "channel", Kind::Text),
    col("status", "状态", "status", Kind::Text),
    col("sku_count", "SKU 数", "SKUs", Kind::Int),
    col("open_minutes", "营业分钟/天", "open min/day", Kind::Int),
    col("store_id", "编号", "id", Kind::Int),
];

/// The stores as a table, in code order.
pub fn stores_table(stores: &[opsdesk_db::stores::Store]) -> ReportTable {
    let rows = stores
        .iter()
        .map(|s| {
            vec![
                Cell::Text(s.code.clone()),
                Cell::Text(s.name.clone()),
                Cell::Text(s.region_path.join("/")),
                Cell::Int(s.area_sqm),
                Cell::Int(s.staff_count),
                Cell::Date(s.open_date),
                Cell::Text(s.channel.clone()),
                Cell::Text(s.status.clone()),
                s.sku_count.map_or(Cell::Null, Cell::Int),
                s.open_minutes.map_or(Cell::Null, Cell::Int),
                Cell::Int(s.id),
            ]
        })
        .collect();
    ReportTable {
        name: "stores",
        title_zh: format!("门店清单（{} 家）", stores.len()),
        title_en: format!("Stores ({})", stores.len()),
        columns: STORE_COLUMNS.to_vec(),
        rows,
        totals: Vec::new(),
    }
}

const IMPORT_COLUMNS: [Column; 14] = [
    col("started_at", "时间", "started", Kind::Text),
    col("kind", "类型", "kind", Kind::Text),
    col("file_name", "文件", "file", Kind::Text),
    col("actor", "操作人", "by", Kind::Text),
    col("result", "结果", "result", Kind::Text),
    col("rows_read", "读取行数", "rows read", Kind::Int),
    col("rows_imported", "导入行数", "rows imported", Kind::Int),
    col("rows_rejected", "拒收行数", "rows set aside", Kind::Int),
    col("store_days_new", "新增门店·日", "store-days new", Kind::Int),
    col("store_days_replaced", "替换门店·日", "store-days replaced", Kind::Int),
    col("first_date", "起始日", "first date", Kind::Date),
    col("last_date", "截止日", "last date", Kind::Date),
    col("duration_ms", "用时毫秒", "ms", Kind::Int),
    col("sha256", "SHA-256", "SHA-256", Kind::Text),
];

/// The import history as a table.
pub fn imports_table(list: &[opsdesk_db::imports::ImportRecord]) -> ReportTable {
    let rows = list
        .iter()
        .map(|r| {
            vec![
                Cell::Text(r.started_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S").to_string()),
                Cell::Text(r.kind.clone()),
                Cell::Text(r.file_name.clone()),
                Cell::Text(r.actor.clone()),
                Cell::Text(r.result.clone()),
                Cell::Int(r.rows_read),
                Cell::Int(r.rows_imported),
                Cell::Int(r.rows_rejected),
                Cell::Int(r.pairs_new),
                Cell::Int(r.pairs_replaced),
                r.first_date.map_or(Cell::Null, Cell::Date),
                r.last_date.map_or(Cell::Null, Cell::Date),
                Cell::Int(r.duration_ms),
                Cell::Text(r.sha256.clone()),
            ]
        })
        .collect();
    ReportTable {
        name: "imports",
        title_zh: "导入记录".into(),
        title_en: "Import history".into(),
        columns: IMPORT_COLUMNS.to_vec(),
        rows,
        totals: Vec::new(),
    }
}

const AUDIT_COLUMNS: [Column; 6] = [
    col("at", "时间", "when", Kind::Text),
    col("actor", "操作人", "who", Kind::Text),
    col("action", "操作", "what", Kind::Text),
    col("object", "对象", "object", Kind::Text),
    col("before", "之前", "before", Kind::Text),
    col("after", "之后", "after", Kind::Text),
];

/// The audit log as a table.
pub fn audit_table(events: &[opsdesk_db::audit::AuditEvent]) -> ReportTable {
    let rows = events
        .iter()
        .map(|e| {
            vec![
                Cell::Text(e.at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S").to_string()),
                Cell::Text(e.actor.clone()),
                Cell::Text(e.action.clone()),
                Cell::Text(format!("{} {}", e.entity, e.entity_id)),
                Cell::Text(e.before.clone().unwrap_or_default()),
                Cell::Text(e.after.clone().unwrap_or_default()),
            ]
        })
        .collect();
    ReportTable {
        name: "audit",
        title_zh: "审计日志".into(),
        title_en: "Audit log".into(),
        columns: AUDIT_COLUMNS.to_vec(),
        rows,
        totals: Vec::new(),
    }
}

const USER_COLUMNS: [Column; 5] = [
    col("name", "用户名", "name", Kind::Text),
    col("role", "角色", "role", Kind::Text),
    col("reach", "范围", "reach", Kind::Text),
    col("active", "启用", "active", Kind::Text),
    col("created_at", "创建时间", "created", Kind::Text),
];

/// The users as a table: role by its key, reach as a store code or region name.
pub fn users_table(
    users: &[opsdesk_db::people::User],
    stores: &[opsdesk_db::stores::Store],
    regions: &[opsdesk_db::stores::Region],
) -> ReportTable {
    let rows = users
        .iter()
        .map(|u| {
            let store = u.store_id.and_then(|id| stores.iter().find(|s| s.id == id)).map(|s| s.code.clone());
            let region = u.region_id.and_then(|id| regions.iter().find(|r| r.id == id)).map(|r| r.name.clone());
            vec![
                Cell::Text(u.name.clone()),
                Cell::Text(u.role.key().into()),
                Cell::Text(store.or(region).unwrap_or_else(|| "*".into())),
                Cell::Text(if u.active { "yes" } else { "no" }.into()),
                Cell::Text(u.created_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string()),
            ]
        })
        .collect();
    ReportTable {
        name: "users",
        title_zh: "用户".into(),
        title_en: "Users".into(),
        columns: USER_COLUMNS.to_vec(),
        rows,
        totals: Vec::new(),
    }
}

/// Revenue and purchase tickets by day over the 30 days to `to`, summed over
/// the stores given.
fn daily_sums(
    days: &[(String, Vec<opsdesk_domain::reports::traffic::TrafficDay>)],
    to: NaiveDate,
) -> Vec<(NaiveDate, i64, i64)> {
    let mut by_day: std::collections::BTreeMap<NaiveDate, (i64, i64)> = std::collections::BTreeMap::new();
    for d in days.iter().flat_map(|(_, d)| d).filter(|d| d.date > to - Duration::days(30) && d.date <= to) {
        let e = by_day.entry(d.date).or_default();
        e.0 += d.revenue;
        e.1 += d.tickets;
    }
    by_day.into_iter().map(|(d, (r, t))| (d, r, t)).collect()
}

async fn trend(db: &Db, scope: &Scope, to: NaiveDate) -> Result<Vec<(NaiveDate, i64, i64)>, ReportError> {
    Ok(daily_sums(&db.store_days(scope, to - Duration::days(29), to).await?, to))
}

const TREND_COLUMNS: [Column; 4] = [
    col("date", "日期", "date", Kind::Date),
    col("revenue", "销售额", "revenue", Kind::Money),
    col("tickets", "客流", "tickets", Kind::Int),
    col("aov", "客单价", "AOV", Kind::Fixed2),
];

/// The 30-day trend as a table.
pub fn trend_table(to: NaiveDate, days: &[(NaiveDate, i64, i64)]) -> ReportTable {
    let rows = days
        .iter()
        .map(|&(d, revenue, tickets)| {
            vec![
                Cell::Date(d),
                Cell::Fixed2(revenue),
                Cell::Int(tickets),
                Cell::opt2(opsdesk_domain::rdiv(i128::from(revenue), i128::from(tickets))),
            ]
        })
        .collect();
    ReportTable {
        name: "trend",
        title_zh: format!("近 30 天销售与客流（至 {to}）"),
        title_en: format!("Revenue and traffic, 30 days to {to}"),
        columns: TREND_COLUMNS.to_vec(),
        rows,
        totals: Vec::new(),
    }
}
