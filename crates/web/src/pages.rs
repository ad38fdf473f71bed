//! The pages: dashboard, reports, downloads. Each asks the report service
//! for the same table the command line prints, within the user's reach.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use opsdesk_db::Scope;
use opsdesk_domain::calendar::{month_key, parse_date};
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::money::hundredths;
use opsdesk_domain::reports::table::{Cell, Kind, ReportTable};
use opsdesk_domain::reports::traffic::Flag;
use opsdesk_domain::reports::weekly::IsoWeek;
use serde::Deserialize;

use crate::i18n::Tr;
use crate::reports::{ReportError, ReportRequest};
use crate::server::{AppError, AppState, Failed, SignedIn, attachment, signed_in};

/// Rows shown per page of a report; downloads hold them all.
const PAGE_ROWS: usize = 200;

/// What the frame of every page needs.
pub(crate) struct Chrome {
    pub tr: Tr,
    pub user: Option<String>,
    pub csrf: String,
    pub nav: Vec<(&'static str, &'static str)>,
    pub active: &'static str,
    /// This page's address, for the language switch to come back to.
    pub here: String,
}

const NAV: &[(&str, &str)] = &[
    ("/", "nav.dashboard"),
    ("/reports/daily", "nav.daily"),
    ("/reports/weekly", "nav.weekly"),
    ("/reports/monthly", "nav.monthly"),
    ("/reports/traffic", "nav.traffic"),
    ("/reports/category", "nav.category"),
    ("/reports/rfm-segments", "nav.members"),
    ("/reports/efficiency", "nav.efficiency"),
    ("/reports/regions", "nav.regions"),
    ("/reports/stores", "nav.stores"),
    ("/targets", "nav.targets"),
    ("/appraisal", "nav.appraisal"),
    ("/staff", "nav.staff"),
    ("/imports", "nav.imports"),
    ("/account/tokens", "nav.tokens"),
];

const ADMIN_NAV: &[(&str, &str)] =
    &[("/admin/users", "nav.users"), ("/admin/settings", "nav.settings"), ("/admin/audit", "nav.audit")];

impl Chrome {
    pub fn anonymous(tr: Tr, here: &str) -> Chrome {
        Chrome { tr, user: None, csrf: String::new(), nav: Vec::new(), active: "", here: here.to_string() }
    }

    /// This page's address as a query value.
    pub fn here_q(&self) -> String {
        url_encode(&self.here)
    }

    pub(crate) fn of(who: &SignedIn, active: &'static str, here: String) -> Chrome {
        Chrome {
            tr: who.tr,
            user: Some(who.session.user.name.clone()),
            csrf: who.session.csrf.clone(),
            nav: if who.session.user.role.administers() {
                NAV.iter().chain(ADMIN_NAV).copied().collect()
            } else {
                NAV.to_vec()
            },
            active,
            here,
        }
    }
}

/// Percent-encoding of a query value.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn failed(who: &SignedIn, error: AppError) -> Response {
    Failed { error, lang: who.tr.lang }.into_response()
}

pub(crate) fn render(who: &SignedIn, page: impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => failed(who, AppError::internal(e)),
    }
}

fn report_error(who: &SignedIn, e: ReportError) -> Response {
    if matches!(e, ReportError::Forbidden) {
        failed(who, AppError::Forbidden)
    } else if e.is_bad_input() {
        failed(who, AppError::BadRequest(e.message(who.tr.lang)))
    } else {
        failed(who, AppError::internal(e.message(Lang::En)))
    }
}

pub(crate) fn pct_text(v: Option<i64>) -> (String, &'static str) {
    match v {
        Some(p) => (format!("{}%", hundredths(p)), if p < 0 { "neg" } else { "pos" }),
        None => ("—".into(), ""),
    }
}

struct Kpi {
    label: &'static str,
    value: String,
    detail: String,
    class: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    c: Chrome,
    date: String,
    reach: &'static str,
    kpis: Vec<Kpi>,
    /// Store, revenue, vs last week, its class.
    top: Vec<(String, String, String, &'static str)>,
    bottom: Vec<(String, String, String, &'static str)>,
    /// Store, tickets, baseline, flag.
    anomalies: Vec<(String, i64, String, &'static str)>,
    /// The trend chart's data as JSON; the same numbers are in `trend`.
    chart: String,
    /// Date, revenue, tickets.
    trend: Vec<(String, String, i64)>,
    /// Appraisal units waiting for this user, and how many of them are overdue.
    todo: (usize, usize),
}

#[derive(Template)]
#[template(path = "error.html")]
struct Message<'a> {
    c: Chrome,
    heading: &'a str,
    message: &'a str,
}

pub(crate) async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = match signed_in(&state, &headers, "/").await {
        Ok(w) => w,
        Err(f) => return f.into_response(),
    };
    let tr = who.tr;
    let d = match state.results.dashboard(&state.db, &who.scope).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            let c = Chrome::of(&who, "nav.dashboard", "/".into());
            return render(&who, Message { c, heading: tr.t("dash.title"), message: tr.t("dash.no_data") });
        }
        Err(e) => return report_error(&who, e),
    };
    let co = &d.total;
    let (lw, lw_class) = pct_text(co.lw_pct);
    let (ly, ly_class) = pct_text(co.ly_pct);
    let kpis = vec![
        Kpi {
            label: "dash.revenue",
            value: crate::i18n::group_digits(&hundredths(co.revenue), tr.lang),
            detail: format!("{} {lw}", tr.t("dash.vs_lw")),
            class: lw_class,
        },
        Kpi { label: "dash.tickets", value: co.tickets.to_string(), detail: String::new(), class: "" },
        Kpi { label: "dash.aov", value: co.aov.map(hundredths).unwrap_or_default(), detail: String::new(), class: "" },
        Kpi {
            label: "dash.margin",
            value: pct_text(co.margin_pct).0,
            detail: format!("{} {ly}", tr.t("dash.vs_ly")),
            class: ly_class,
        },
        Kpi {
            label: "dash.mtd",
            value: crate::i18n::group_digits(&hundredths(co.mtd_revenue), tr.lang),
            detail: String::new(),
            class: "",
        },
    ];
    let mut kpis = kpis;
    if let Some(t) = d.target {
        // Month to date against the month's target, beside the time progress.
        let attained = t.attainment(co.mtd_revenue);
        let behind = attained.zip(t.time_progress()).is_some_and(|(a, p)| a < p);
        kpis.push(Kpi {
            label: "dash.mtd_attainment",
            value: pct_text(attained).0,
            detail: format!(
                "{} {} · {} {}",
                tr.t("dash.time_progress"),
                pct_text(t.time_progress()).0,
                tr.t("dash.month_target"),
                crate::i18n::group_digits(&hundredths(t.month), tr.lang)
            ),
            class: if behind { "neg" } else { "pos" },
        });
    }
    let line = |s: &opsdesk_domain::reports::daily::DailyRow| {
        let (p, class) = pct_text(s.lw_pct);
        (s.label.clone(), crate::i18n::group_digits(&hundredths(s.revenue), tr.lang), p, class)
    };
    let anomalies = d
        .anomalies
        .iter()
        .map(|(code, r)| {
            let flag = tr.t(if r.flag == Flag::High { "flag.high" } else { "flag.low" });
            (code.clone(), r.tickets, r.baseline_mean.map(hundredths).unwrap_or_default(), flag)
        })
        .collect();
    let reach = if who.scope.sees_all() { tr.t("dash.reach_all") } else { tr.t("dash.reach_some") };
    let todo = match crate::appraisal::waiting_for(&state, &who).await {
        Ok(w) => (w.len(), w.iter().filter(|(late, _)| *late > 0).count()),
        Err(e) => return failed(&who, AppError::internal(e)),
    };
    let c = Chrome::of(&who, "nav.dashboard", "/".into());
    let (top, bottom) = (d.top.iter().map(line).collect(), d.bottom.iter().map(line).collect());
    let chart = serde_json::json!({
        "x": d.trend.iter().map(|t| t.0.format("%m-%d").to_string()).collect::<Vec<_>>(),
        "y": [tr.t("dash.revenue"), tr.t("dash.tickets")],
        "series": [
            {"name": tr.t("dash.revenue"), "type": "bar", "data": d.trend.iter().map(|t| t.1 as f64 / 100.0).collect::<Vec<_>>()},
            {"name": tr.t("dash.tickets"), "type": "line", "y": 1, "data": d.trend.iter().map(|t| t.2).collect::<Vec<_>>()},
        ]
    })
    .to_string();
    let trend = d
        .trend
        .iter()
        .rev()
        .map(|t| (t.0.to_string(), crate::i18n::group_digits(&hundredths(t.1), tr.lang), t.2))
        .collect();
    render(&who, Dashboard { c, date: d.date.to_string(), reach, kpis, top, bottom, anomalies, chart, trend, todo })
}

/// The parameters of a report page and download, as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReportQuery {
    date: Option<String>,
    week: Option<String>,
    month: Option<String>,
    from: Option<String>,
    to: Option<String>,
    asof: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<usize>,
    format: Option<String>,
    /// The RFM member list of one segment (its name).
    segment: Option<String>,
    /// A target plan's id.
    plan: Option<String>,
    /// An employee's code.
    employee: Option<String>,
}

/// The table narrowed to one RFM segment's members, when asked.
fn narrowed(t: &ReportTable, q: &ReportQuery) -> Option<ReportTable> {
    let segment = given(&q.segment)?;
    let col = t.columns.iter().position(|c| c.key == "segment")?;
    (t.name == "r5_rfm_members").then(|| ReportTable {
        rows: t.rows.filtered(|row| row.get(col).and_then(Cell::as_str) == Some(segment)),
        ..t.clone()
    })
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn bad(lang: Lang, name: &str, value: &str, want: &str) -> AppError {
    AppError::BadRequest(match lang {
        Lang::Zh => format!("参数 {name} 的值 '{value}' 不对：应为 {want}"),
        Lang::En => format!("parameter {name}: '{value}' is not {want}"),
    })
}

fn date_param(lang: Lang, name: &str, v: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    given(v).map(|s| parse_date(s).map_err(|_| bad(lang, name, s, "YYYY-MM-DD"))).transpose()
}

fn month_param(lang: Lang, name: &str, v: &Option<String>) -> Result<Option<i64>, AppError> {
    given(v).map(|s| opsdesk_domain::calendar::parse_month(s).ok_or_else(|| bad(lang, name, s, "YYYY-MM"))).transpose()
}

/// One input of a report's form.
pub(crate) struct Param {
    name: &'static str,
    label: &'static str,
    value: String,
    hint: &'static str,
}

use opsdesk_domain::calendar::month_label as month_text;

/// The report a page name asks for, its parameters as the form shows them.
pub(crate) async fn request(
    state: &AppState,
    scope: &Scope,
    lang: Lang,
    name: &str,
    q: &ReportQuery,
) -> Result<(ReportRequest, Vec<Param>), AppError> {
    let p = |name, label, value: String, hint| Param { name, label, value, hint };
    // A page opens on the last date, week or month with sales; month pages
    // on one month rather than every month. The form shows what was chosen.
    let last_date = || async { state.db.last_sales_date(scope).await.map_err(AppError::internal) };
    let last_month = || async { last_date().await.map(|d| d.map(month_key)) };
    Ok(match name {
        "daily" => {
            let date = match date_param(lang, "date", &q.date)? {
                Some(d) => Some(d),
                None => last_date().await?,
            };
            let shown = date.map(|d| d.to_string()).unwrap_or_default();
            (ReportRequest::Daily { date }, vec![p("date", "report.date", shown, "YYYY-MM-DD")])
        }
        "weekly" => {
            let week = match given(&q.week) {
                Some(s) => Some(IsoWeek::parse(s).ok_or_else(|| bad(lang, "week", s, "YYYY-Www"))?),
                None => last_date().await?.map(IsoWeek::of),
            };
            let shown = week.map(|w| w.label()).unwrap_or_default();
            (ReportRequest::Weekly { week }, vec![p("week", "report.week", shown, "2026-W44")])
        }
        "monthly" | "category" => {
            let (mut from, mut to) = (month_param(lang, "from", &q.from)?, month_param(lang, "to", &q.to)?);
            if from.is_none() && to.is_none() {
                let m = last_month().await?;
                (from, to) = (m, m);
            }
            let params = vec![
                p("from", "report.from", from.map(month_text).unwrap_or_default(), "YYYY-MM"),
                p("to", "report.to", to.map(month_text).unwrap_or_default(), "YYYY-MM"),
            ];
            let req = if name == "monthly" {
                ReportRequest::Monthly { from, to }
            } else {
                ReportRequest::Category { from, to }
            };
            (req, params)
        }
        "traffic" | "regions" => {
            let month = match month_param(lang, "month", &q.month)? {
                Some(m) => Some(m),
                None => last_month().await?,
            };
            let params = vec![p("month", "report.month", month.map(month_text).unwrap_or_default(), "YYYY-MM")];
            let req =
                if name == "traffic" { ReportRequest::Traffic { month } } else { ReportRequest::Regions { month } };
            (req, params)
        }
        "efficiency" => {
            let (from, to) = (date_param(lang, "from", &q.from)?, date_param(lang, "to", &q.to)?);
            let params = vec![
                p("from", "report.from", from.map(|d| d.to_string()).unwrap_or_default(), "YYYY-MM-DD"),
                p("to", "report.to", to.map(|d| d.to_string()).unwrap_or_default(), "YYYY-MM-DD"),
            ];
            (ReportRequest::Efficiency { from, to }, params)
        }
        "rfm" | "rfm-segments" => {
            let asof = match date_param(lang, "asof", &q.asof)? {
                Some(d) => Some(d),
                None => last_date().await?,
            };
            let mut params =
                vec![p("asof", "report.asof", asof.map(|d| d.to_string()).unwrap_or_default(), "YYYY-MM-DD")];
            if name == "rfm" {
                params.push(p("segment", "report.segment", given(&q.segment).unwrap_or_default().to_string(), ""));
            }
            let req = if name == "rfm" { ReportRequest::Rfm { asof } } else { ReportRequest::RfmSegments { asof } };
            (req, params)
        }
        "stores" => (ReportRequest::Stores, Vec::new()),
        "imports" => (ReportRequest::Imports, Vec::new()),
        "trend" => {
            let to = match date_param(lang, "date", &q.date)? {
                Some(d) => Some(d),
                None => last_date().await?,
            };
            let shown = to.map(|d| d.to_string()).unwrap_or_default();
            (ReportRequest::Trend { to }, vec![p("date", "report.date", shown, "YYYY-MM-DD")])
        }
        "audit" => (ReportRequest::Audit, Vec::new()),
        "users" => (ReportRequest::Users, Vec::new()),
        "appraisal-status" | "appraisal-grades" | "appraisal-payout" => {
            let month = month_param(lang, "month", &q.month)?;
            let shown = month.map(month_text).unwrap_or_default();
            let req = match name {
                "appraisal-status" => ReportRequest::AppraisalStatus { month },
                "appraisal-grades" => ReportRequest::AppraisalGrades { month },
                _ => ReportRequest::AppraisalPayout { month },
            };
            (req, vec![p("month", "report.month", shown, "YYYY-MM")])
        }
        "appraisal-review-list" => (ReportRequest::AppraisalReviewList, Vec::new()),
        "appraisal-history" => {
            let employee = given(&q.employee).unwrap_or_default().to_string();
            let param = p("employee", "report.employee", employee.clone(), "E001");
            (ReportRequest::AppraisalHistory { employee }, vec![param])
        }
        "target-plan" | "target-tracking" | "target-alerts" | "target-progress" | "target-payout" => {
            let plan =
                given(&q.plan).map(|s| s.parse::<i64>().map_err(|_| bad(lang, "plan", s, "1, 2, …"))).transpose()?;
            let plan_param = p("plan", "report.plan", plan.map(|p| p.to_string()).unwrap_or_default(), "");
            match name {
                "target-plan" => (ReportRequest::TargetPlan { plan }, vec![plan_param]),
                "target-tracking" | "target-alerts" => {
                    let date = date_param(lang, "date", &q.date)?;
                    let shown = date.map(|d| d.to_string()).unwrap_or_default();
                    let req = if name == "target-tracking" {
                        ReportRequest::TargetTracking { plan, date }
                    } else {
                        ReportRequest::TargetAlerts { plan, date }
                    };
                    (req, vec![plan_param, p("date", "report.date", shown, "YYYY-MM-DD")])
                }
                _ => {
                    let month = month_param(lang, "month", &q.month)?;
                    let shown = month.map(month_text).unwrap_or_default();
                    let req = if name == "target-progress" {
                        ReportRequest::TargetProgress { plan, month }
                    } else {
                        ReportRequest::TargetPayout { plan, month }
                    };
                    (req, vec![plan_param, p("month", "report.month", shown, "YYYY-MM")])
                }
            }
        }
        _ => return Err(AppError::NotFound),
    })
}

fn nav_key(name: &str) -> &'static str {
    match name {
        "daily" => "nav.daily",
        "weekly" => "nav.weekly",
        "monthly" => "nav.monthly",
        "traffic" => "nav.traffic",
        "category" => "nav.category",
        "rfm" | "rfm-segments" => "nav.members",
        "efficiency" => "nav.efficiency",
        "stores" => "nav.stores",
        "imports" => "nav.imports",
        "trend" => "nav.dashboard",
        "audit" => "nav.audit",
        "users" => "nav.users",
        n if n.starts_with("target-") => "nav.targets",
        n if n.starts_with("appraisal-") => "nav.appraisal",
        _ => "nav.regions",
    }
}

/// A query string of the form's parameters plus `extra`.
fn query_string(params: &[Param], extra: &[(&str, String)]) -> String {
    let parts: Vec<String> = params
        .iter()
        .filter(|p| !p.value.is_empty())
        .map(|p| (p.name, p.value.clone()))
        .chain(extra.iter().map(|(k, v)| (*k, v.clone())))
        .map(|(k, v)| format!("{k}={}", url_encode(&v)))
        .collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

struct Heading {
    text: &'static str,
    class: &'static str,
    sort_href: String,
    arrow: &'static str,
}

struct CellView {
    text: String,
    class: &'static str,
    /// A store code links to its store's page.
    href: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    c: Chrome,
    title: String,
    params: Vec<Param>,
    download_csv: String,
    download_xlsx: String,
    note: Option<String>,
    paging: String,
    shown: usize,
    total: usize,
    headings: Vec<Heading>,
    rows: Vec<Vec<CellView>>,
    totals: Vec<Vec<CellView>>,
    pages: Vec<(usize, String, bool)>,
    /// A chart of the table, as JSON, for the reports that have one.
    chart: Option<String>,
    /// The report may draw a chart (the page loads the chart library).
    charts: bool,
    /// The traffic monitor as a store × day grid: the days, then per store
    /// its code and each day's tickets and flag.
    grid: Option<TrafficGrid>,
}

/// The traffic monitor's rows as a store × day grid, the stores of this page.
fn traffic_grid(t: &ReportTable, first: usize, last: usize) -> Option<TrafficGrid> {
    if t.name != "r3_traffic" {
        return None;
    }
    let col = |key: &str| t.columns.iter().position(|c| c.key == key);
    let (s, d, n, f) = (col("store_code")?, col("date")?, col("tickets")?, col("flag")?);
    let mut days: Vec<String> = t.rows.map(|r| r[d].text());
    days.sort();
    days.dedup();
    // Page by stores: the stores whose rows fall on this page of the table.
    let mut stores: Vec<String> = t.rows.map_range(first..last, |r| r[s].text());
    stores.dedup();
    let mut grid: Vec<(String, Vec<(String, &'static str)>)> =
        stores.iter().map(|code| (code.clone(), vec![(String::new(), ""); days.len()])).collect();
    t.rows.for_each(|r| {
        let (code, day) = (r[s].text(), r[d].text());
        let (Some(row), Ok(i)) = (grid.iter_mut().find(|g| g.0 == code), days.binary_search(&day)) else { return };
        let class = match r[f].text().as_str() {
            "high" => "flag-high",
            "low" => "flag-low",
            "insufficient" => "flag-thin",
            _ => "",
        };
        row.1[i] = (r[n].text(), class);
    });
    let labels = days.iter().map(|d| d.get(8..).unwrap_or(d).to_string()).collect();
    Some((labels, grid))
}

type TrafficGrid = (Vec<String>, Vec<(String, Vec<(String, &'static str)>)>);

/// The chart a report page shows above its table: categories as a Pareto
/// (revenue bars, cumulative share line) for one month, RFM segments as
/// bars. The numbers are the table's own.
fn report_chart(t: &ReportTable, lang: Lang) -> Option<String> {
    let col = |key: &str| t.columns.iter().position(|c| c.key == key);
    let num = |row: &[Cell], i: usize| row.get(i).and_then(Cell::number);
    let text = |row: &[Cell], i: usize| row.get(i).map(Cell::text).unwrap_or_default();
    let heading = |key: &str| col(key).map(|i| t.columns[i].heading(lang)).unwrap_or_default();
    match t.name {
        "r4_category" => {
            let (m, c, r, cum) = (col("month")?, col("category")?, col("revenue")?, col("cum_share_pct")?);
            let month = t.rows.row(0).map(|row| text(&row, m))?;
            if t.rows.map(|row| text(row, m)).iter().any(|t| *t != month) {
                return None;
            }
            Some(
                serde_json::json!({
                    "x": t.rows.map(|row| text(row, c)),
                    "y": [heading("revenue"), heading("cum_share_pct")],
                    "series": [
                        {"name": heading("revenue"), "type": "bar", "data": t.rows.map(|row| num(row, r))},
                        {"name": heading("cum_share_pct"), "type": "line", "y": 1, "data": t.rows.map(|row| num(row, cum))},
                    ]
                })
                .to_string(),
            )
        }
        "target_progress" => {
            let (d, a, cb, ca) = (col("date")?, col("actual")?, col("cum_baseline")?, col("cum_actual")?);
            Some(
                serde_json::json!({
                    "x": t.rows.map(|row| text(row, d)),
                    "y": [heading("actual"), heading("cum_actual")],
                    "series": [
                        {"name": heading("actual"), "type": "bar", "data": t.rows.map(|row| num(row, a))},
                        {"name": heading("cum_baseline"), "type": "line", "y": 1, "data": t.rows.map(|row| num(row, cb))},
                        {"name": heading("cum_actual"), "type": "line", "y": 1, "data": t.rows.map(|row| num(row, ca))},
                    ]
                })
                .to_string(),
            )
        }
        "r5_rfm_segments" => {
            let (s, n) = (col("segment")?, col("members")?);
            Some(
                serde_json::json!({
                    "x": t.rows.map(|row| text(row, s)),
                    "y": [heading("members")],
                    "series": [{"name": heading("members"), "type": "bar", "data": t.rows.map(|row| num(row, n))}]
                })
                .to_string(),
            )
        }
        _ => None,
    }
}

fn cell_view(t: &ReportTable, i: usize, cell: &Cell, lang: Lang) -> CellView {
    let kind = t.columns.get(i).map(|c| c.kind).unwrap_or(Kind::Text);
    let numeric = !matches!(kind, Kind::Text | Kind::Date);
    let negative = t.columns.get(i).is_some_and(|c| cell.number().is_some_and(|n| c.alarming(n)));
    let is_store = t.columns.get(i).is_some_and(|c| c.key == "store_code");
    let href = match cell {
        Cell::Text(code) if is_store && !code.starts_with('Σ') => Some(format!("/stores/{}", url_encode(code))),
        _ => None,
    };
    let text = match kind {
        Kind::Int | Kind::Money | Kind::Fixed2 if t.columns[i].key != "store_id" => {
            crate::i18n::group_digits(&cell.text(), lang)
        }
        _ => cell.text(),
    };
    CellView {
        href,
        text,
        class: match (numeric, negative) {
            (true, true) => "num neg",
            (true, false) => "num",
            _ => "",
        },
    }
}

/// The table as the page's links ask for it: narrowed to a segment, then
/// sorted by a column (numbers by value, blanks last, text by bytes).
fn viewed(t: &ReportTable, q: &ReportQuery) -> ReportTable {
    let mut v = narrowed(t, q).unwrap_or_else(|| t.clone());
    if let Some(i) = q.sort.as_deref().and_then(|key| v.columns.iter().position(|c| c.key == key)) {
        v.rows = v.rows.sorted(i, q.dir.as_deref() == Some("desc"));
    }
    v
}

/// What names a form of a table: its segment and its sort.
fn view_key(q: &ReportQuery, sorted: bool) -> Option<String> {
    let segment = given(&q.segment);
    let sort = q.sort.as_deref().filter(|_| sorted);
    (segment.is_some() || sort.is_some()).then(|| {
        format!("{}|{}|{}", segment.unwrap_or_default(), sort.unwrap_or_default(), q.dir.as_deref().unwrap_or_default())
    })
}

/// The signed-in user, the report page `name` asks for (its form's
/// parameters) and the report itself, within her reach: what a page and a
/// download both start from.
async fn report_for(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    q: &ReportQuery,
) -> Result<(SignedIn, Vec<Param>, std::sync::Arc<crate::reports::Report>), Response> {
    let who = signed_in(state, headers, &format!("/reports/{name}")).await.map_err(IntoResponse::into_response)?;
    let (req, params) = request(state, &who.scope, who.tr.lang, name, q).await.map_err(|e| failed(&who, e))?;
    let rep = state.results.report(&state.db, &who.scope, &req).await.map_err(|e| report_error(&who, e))?;
    Ok((who, params, rep))
}

pub(crate) async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Response {
    let (who, params, rep) = match report_for(&state, &headers, &name, &q).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let tr = who.tr;
    let descending = q.dir.as_deref() == Some("desc");
    let view = view_key(&q, true).map(|key| rep.view(&key, |t| viewed(t, &q)));
    let t = view.as_deref().unwrap_or(&rep.table);
    let base = format!("/reports/{name}");
    let sort_extra =
        |key: &str, desc: bool| vec![("sort", key.to_string()), ("dir", (if desc { "desc" } else { "asc" }).into())];
    let headings = t
        .columns
        .iter()
        .map(|c| {
            let on = q.sort.as_deref() == Some(c.key);
            Heading {
                text: c.heading(tr.lang),
                class: if matches!(c.kind, Kind::Text | Kind::Date) { "" } else { "num" },
                sort_href: format!("{base}{}", query_string(&params, &sort_extra(c.key, on && !descending))),
                arrow: match (on, descending) {
                    (true, false) => " ▲",
                    (true, true) => " ▼",
                    _ => "",
                },
            }
        })
        .collect();
    let total = t.rows.len();
    let page = q.page.unwrap_or(1).max(1);
    let first = ((page - 1) * PAGE_ROWS).min(total);
    let last = (first + PAGE_ROWS).min(total);
    let view = |row: &[Cell]| row.iter().enumerate().map(|(i, c)| cell_view(t, i, c, tr.lang)).collect::<Vec<_>>();
    let mut rows: Vec<_> = t.rows.map_range(first..last, view);
    // A segment links to its members' list (and its download there).
    if let Some(seg) = t.columns.iter().position(|c| c.key == "segment").filter(|_| t.name == "r5_rfm_segments") {
        let asof = params.iter().find(|p| p.name == "asof").map(|p| p.value.clone()).unwrap_or_default();
        for row in &mut rows {
            if let Some(cell) = row.get_mut(seg) {
                cell.href = Some(format!("/reports/rfm?asof={}&segment={}", url_encode(&asof), url_encode(&cell.text)));
            }
        }
    }
    let totals: Vec<_> = t.totals.iter().map(|r| view(r)).collect();
    let mut keep: Vec<(&str, String)> = Vec::new();
    if let Some(s) = &q.sort {
        keep = sort_extra(s, descending);
    }
    let pages_n = total.div_ceil(PAGE_ROWS);
    let pages = (1..=pages_n)
        .filter(|n| pages_n <= 15 || *n <= 3 || *n + 3 > pages_n || n.abs_diff(page) <= 2)
        .map(|n| {
            let mut extra = keep.clone();
            extra.push(("page", n.to_string()));
            (n, format!("{base}{}", query_string(&params, &extra)), n == page)
        })
        .collect();
    let paging = tr
        .t("report.paging")
        .replace("{total}", &total.to_string())
        .replace("{first}", &(first + 1).to_string())
        .replace("{last}", &last.to_string());
    let dl = |format: &str| format!("{base}/download{}", query_string(&params, &[("format", format.to_string())]));
    let page_view = ReportPage {
        c: Chrome::of(&who, nav_key(&name), format!("{base}{}", query_string(&params, &[]))),
        title: t.title(tr.lang).to_string(),
        download_csv: dl("csv"),
        download_xlsx: dl("xlsx"),
        note: rep.note(tr.lang),
        paging,
        shown: last - first,
        total,
        headings,
        rows,
        totals,
        pages,
        chart: report_chart(t, tr.lang),
        charts: matches!(t.name, "r4_category" | "r5_rfm_segments" | "target_progress"),
        grid: traffic_grid(t, first, last),
        params,
    };
    render(&who, page_view)
}

/// The report as the command line writes it: CSV (byte for byte) or XLSX.
pub(crate) async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Response {
    let (who, _, rep) = match report_for(&state, &headers, &name, &q).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    // A download is the report (or its segment) in the report's order.
    let view = view_key(&q, false).map(|key| rep.view(&key, |t| narrowed(t, &q).unwrap_or_else(|| t.clone())));
    let t = view.as_deref().unwrap_or(&rep.table);
    match q.format.as_deref().unwrap_or("csv") {
        "csv" => attachment(t.to_csv().into_bytes(), "text/csv; charset=utf-8", &format!("{}.csv", t.name)),
        "xlsx" => match crate::export::xlsx(t, who.tr.lang, chrono::Local::now()) {
            Ok(bytes) => attachment(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &format!("{}.xlsx", t.name),
            ),
            Err(e) => failed(&who, AppError::internal(e)),
        },
        other => failed(&who, bad(who.tr.lang, "format", other, "csv | xlsx")),
    }
}
