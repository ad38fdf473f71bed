//! The target pages: the plans, a plan by region and store (drilling down to
//! a store's months and a month's days), editing and locking cells, the
//! reward rule, a plan through a spreadsheet and back with a preview, the
//! payout approval, and the holiday calendar. Everyone reads the cells within
//! her reach; only operations (and administrators) change anything, and each
//! change is audited by the database layer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Form, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use opsdesk_db::targets::{CellRef, Grain, NewPlan, Plan};
use opsdesk_domain::calendar::{month_label as month_text, parse_date, parse_month};
use opsdesk_domain::targets::calendar::parse_uplift;
use opsdesk_domain::targets::weights::parse_tiers;
use opsdesk_domain::targets::{CalendarDay, DayKind, Level, Method, MonthMethod, Rebalance, RewardRule, Unit};
use opsdesk_ingest::targets::TargetFile;
use serde::Deserialize;

use crate::i18n::group_digits;
use crate::pages::{Chrome, failed, render, url_encode};
use crate::server::{AppError, AppState, SignedIn, attachment, check_csrf, signed_in, signed_in_form};

/// Checked files waiting for their "apply", by a random token; each is kept
/// for half an hour and only for the user who sent it.
#[derive(Default)]
pub(crate) struct PendingImports(Mutex<HashMap<String, (i64, Instant, TargetFile)>>);

const PENDING_FOR: Duration = Duration::from_secs(30 * 60);

impl PendingImports {
    fn put(&self, user: i64, file: TargetFile) -> String {
        let token = crate::session::random_token();
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (_, at, _)| at.elapsed() < PENDING_FOR);
        map.insert(token.clone(), (user, Instant::now(), file));
        token
    }

    fn take(&self, user: i64, token: &str) -> Option<TargetFile> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match map.remove(token) {
            Some((u, at, f)) if u == user && at.elapsed() < PENDING_FOR => Some(f),
            Some(other) if other.0 != user => {
                map.insert(token.to_string(), other);
                None
            }
            _ => None,
        }
    }
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response()
}

fn amount(unit: Unit, v: i64, lang: opsdesk_domain::i18n::Lang) -> String {
    group_digits(&unit.format(v), lang)
}

/// A refusal for anyone but operations (and administrators).
fn unless_planner(who: &SignedIn) -> Option<Response> {
    (!who.scope.plans()).then(|| failed(who, AppError::Forbidden))
}

async fn plan_of(state: &AppState, who: &SignedIn, id: i64) -> Result<Plan, Response> {
    match state.db.target_plan(id).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(failed(who, AppError::NotFound)),
        Err(e) => Err(failed(who, AppError::internal(e))),
    }
}

fn metric_name(plan: &Plan, lang: opsdesk_domain::i18n::Lang) -> String {
    lang.pick(&plan.metric.name_zh, &plan.metric.name_en).to_string()
}

// ---------------------------------------------------------------- the list

struct PlanLine {
    id: i64,
    year: i32,
    metric: String,
    baseline: String,
    stretch: String,
    method: &'static str,
    basis: String,
    created: String,
}

#[derive(Template)]
#[template(path = "targets/list.html")]
struct ListPage {
    c: Chrome,
    plans: Vec<PlanLine>,
    sees_all: bool,
    may_plan: bool,
    metrics: Vec<(String, String)>,
    methods: Vec<(&'static str, &'static str)>,
    next_year: i32,
    error: Option<String>,
}

async fn list_page(state: &AppState, who: &SignedIn, error: Option<String>) -> Response {
    let lang = who.tr.lang;
    let (plans, metrics) = match (state.db.target_plans().await, state.db.target_metrics().await) {
        (Ok(p), Ok(m)) => (p, m),
        (Err(e), _) | (_, Err(e)) => return failed(who, AppError::internal(e)),
    };
    let plans = plans
        .into_iter()
        .map(|p| PlanLine {
            id: p.id,
            year: p.year,
            metric: metric_name(&p, lang),
            baseline: amount(p.metric.unit, p.baseline, lang),
            stretch: amount(p.metric.unit, p.stretch, lang),
            method: lang.pick(p.method.label().0, p.method.label().1),
            basis: format!("{} – {}", p.basis_from, p.basis_to),
            created: format!("{} {}", p.created_at.format("%Y-%m-%d"), p.created_by),
        })
        .collect();
    let metrics = metrics.into_iter().map(|m| (m.key.clone(), lang.pick(&m.name_zh, &m.name_en).to_string())).collect();
    let methods = Method::ALL.iter().map(|m| (m.key(), lang.pick(m.label().0, m.label().1))).collect();
    let next_year = chrono::Datelike::year(&chrono::Local::now().date_naive()) + 1;
    let c = Chrome::of(who, "nav.targets", "/targets".into());
    let page = ListPage {
        c,
        plans,
        sees_all: who.scope.sees_all(),
        may_plan: who.scope.plans(),
        metrics,
        methods,
        next_year,
        error,
    };
    render(who, page)
}

pub(crate) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers, "/targets").await {
        Ok(who) => list_page(&state, &who, None).await,
        Err(f) => f.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    metric: String,
    #[serde(default)]
    baseline: String,
    #[serde(default)]
    stretch: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    months: String,
    #[serde(default)]
    tiers: String,
}

pub(crate) async fn create(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<CreateForm>) -> Response {
    let who = match signed_in_form(&state, &headers, "/targets", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    if let Some(r) = unless_planner(&who) {
        return r;
    }
    let tr = who.tr;
    let again = |msg: String| list_page(&state, &who, Some(msg));
    let Ok(year) = f.year.trim().parse::<i32>() else {
        return again(format!("{}: {}", tr.t("tgt.year"), f.year)).await;
    };
    let metrics = match state.db.target_metrics().await {
        Ok(m) => m,
        Err(e) => return failed(&who, AppError::internal(e)),
    };
    let Some(metric) = metrics.iter().find(|m| m.key == f.metric) else {
        return again(format!("{}: {}", tr.t("tgt.metric"), f.metric)).await;
    };
    let Some(baseline) = metric.unit.parse_value(&f.baseline).filter(|v| *v >= 0) else {
        return again(format!("{}: {}", tr.t("tgt.baseline"), f.baseline)).await;
    };
    let stretch = if f.stretch.trim().is_empty() { Some(baseline) } else { metric.unit.parse_value(&f.stretch) };
    let Some(stretch) = stretch else {
        return again(format!("{}: {}", tr.t("tgt.stretch"), f.stretch)).await;
    };
    let (Some(method), Some(months)) = (Method::parse(&f.method), MonthMethod::parse(&f.months)) else {
        return again(format!("{}: {} / {}", tr.t("tgt.method"), f.method, f.months)).await;
    };
    let tiers = if f.tiers.trim().is_empty() {
        Vec::new()
    } else {
        match parse_tiers(&f.tiers) {
            Ok(t) => t,
            Err(e) => return again(e).await,
        }
    };
    let new = NewPlan {
        year,
        metric: metric.key.clone(),
        baseline,
        stretch,
        method,
        month_method: months,
        tiers,
        rule: RewardRule::default(),
    };
    match state.db.create_target_plan(&who.scope, &new).await {
        Ok(plan) => see_other(&format!("/targets/{}", plan.id)),
        Err(e) => again(e.message(tr.lang)).await,
    }
}

// ---------------------------------------------------------------- a plan

/// A line of the plan page: a region, a store, a month or a day.
struct Line {
    /// The cell's reference for the forms (`store:S0001/2026-03`).
    cell: String,
    label: String,
    detail: String,
    href: Option<String>,
    baseline: String,
    stretch: String,
    /// The plain values for the edit inputs.
    baseline_plain: String,
    stretch_plain: String,
    locked: bool,
    total: bool,
}

struct RuleView {
    bonus_per_point: String,
    bonus_cap: String,
    floor: String,
    penalty_per_point: String,
    penalty_cap: String,
}

#[derive(Template)]
#[template(path = "targets/plan.html")]
struct PlanPage {
    c: Chrome,
    id: i64,
    title: String,
    summary: String,
    may_plan: bool,
    /// Where the page stands: the store and month drilled into.
    crumbs: Vec<(String, String)>,
    view_store: String,
    view_month: String,
    lines: Vec<Line>,
    editable: bool,
    months: Vec<String>,
    rule: RuleView,
    error: Option<String>,
    done: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct PlanQuery {
    store: Option<String>,
    month: Option<String>,
}

async fn plan_page(
    state: &AppState,
    who: &SignedIn,
    plan: &Plan,
    q: &PlanQuery,
    error: Option<String>,
    done: Option<String>,
) -> Response {
    let lang = who.tr.lang;
    let tr = who.tr;
    let unit = plan.metric.unit;
    let base = format!("/targets/{}", plan.id);
    let (regions, stores) = match state.db.target_overview(&who.scope, plan).await {
        Ok(x) => x,
        Err(e) => return failed(who, AppError::internal(e)),
    };
    let line = |cell: String,
                label: String,
                detail: String,
                href: Option<String>,
                b: i64,
                s: i64,
                locked: bool,
                total: bool| Line {
        cell,
        label,
        detail,
        href,
        baseline: amount(unit, b, lang),
        stretch: amount(unit, s, lang),
        baseline_plain: unit.format(b),
        stretch_plain: unit.format(s),
        locked,
        total,
    };
    let store = q.store.as_deref().and_then(|code| stores.iter().find(|s| s.store_code == code));
    if q.store.is_some() && store.is_none() {
        return failed(who, AppError::NotFound);
    }
    let month = q.month.as_deref().and_then(parse_month).filter(|m| m / 100 == i64::from(plan.year));
    let mut crumbs = vec![(base.clone(), format!("{} {}", plan.year, metric_name(plan, lang)))];
    let mut lines = Vec::new();
    let here;
    match (store, month) {
        (None, _) => {
            here = base.clone();
            for s in &stores {
                let mut notes = Vec::new();
                if s.fallback {
                    notes.push(tr.t("tgt.new_store").to_string());
                }
                if let Some(t) = &s.tier {
                    notes.push(format!("{} {t}", tr.t("tgt.tier")));
                }
                let mut detail = vec![s.store_name.clone(), s.region.clone()];
                detail.extend(notes);
                let detail = detail.join(" · ");
                let href = Some(format!("{base}?store={}", url_encode(&s.store_code)));
                lines.push(line(
                    format!("store:{}", s.store_code),
                    s.store_code.clone(),
                    detail,
                    href,
                    s.baseline,
                    s.stretch,
                    s.locked,
                    false,
                ));
            }
            for r in &regions {
                lines.push(line(
                    format!("region:{}", r.region_id),
                    format!("Σ {}", r.region),
                    String::new(),
                    None,
                    r.baseline,
                    r.stretch,
                    r.locked,
                    true,
                ));
            }
        }
        (Some(s), None) => {
            here = format!("{base}?store={}", url_encode(&s.store_code));
            crumbs.push((here.clone(), format!("{} {}", s.store_code, s.store_name)));
            let rows = match state.db.target_rows(&who.scope, plan, Grain::Month).await {
                Ok(r) => r,
                Err(e) => return failed(who, AppError::internal(e)),
            };
            for r in rows.iter().filter(|r| r.store_id == s.store_id) {
                let href = Some(format!("{here}&month={}", r.period));
                lines.push(line(
                    format!("store:{}/{}", s.store_code, r.period),
                    r.period.clone(),
                    String::new(),
                    href,
                    r.baseline,
                    r.stretch,
                    r.locked,
                    false,
                ));
            }
            lines.push(line(
                format!("store:{}", s.store_code),
                format!("Σ {}", s.store_code),
                String::new(),
                None,
                s.baseline,
                s.stretch,
                s.locked,
                true,
            ));
        }
        (Some(s), Some(m)) => {
            let store_href = format!("{base}?store={}", url_encode(&s.store_code));
            crumbs.push((store_href.clone(), format!("{} {}", s.store_code, s.store_name)));
            here = format!("{store_href}&month={}", month_text(m));
            crumbs.push((here.clone(), month_text(m)));
            let rows = match state.db.target_rows(&who.scope, plan, Grain::Day(m)).await {
                Ok(r) => r,
                Err(e) => return failed(who, AppError::internal(e)),
            };
            let (mut b, mut st) = (0, 0);
            for r in rows.iter().filter(|r| r.store_id == s.store_id) {
                b += r.baseline;
                st += r.stretch;
                let weekday = parse_date(&r.period).map(|d| weekday_name(d, lang)).unwrap_or_default();
                lines.push(line(
                    format!("store:{}/{}", s.store_code, r.period),
                    r.period.clone(),
                    weekday.to_string(),
                    None,
                    r.baseline,
                    r.stretch,
                    r.locked,
                    false,
                ));
            }
            lines.push(line(
                format!("store:{}/{}", s.store_code, month_text(m)),
                format!("Σ {}", month_text(m)),
                String::new(),
                None,
                b,
                st,
                false,
                true,
            ));
        }
    }
    let summary = if who.scope.sees_all() {
        format!(
            "{} {} · {} {} · {} · {} {} – {}",
            tr.t("tgt.baseline"),
            amount(unit, plan.baseline, lang),
            tr.t("tgt.stretch"),
            amount(unit, plan.stretch, lang),
            lang.pick(plan.method.label().0, plan.method.label().1),
            tr.t("tgt.basis"),
            plan.basis_from,
            plan.basis_to
        )
    } else {
        String::new()
    };
    let yuan = |v: i64| opsdesk_domain::money::hundredths(v);
    let cap = |c: Option<i64>| c.map(yuan).unwrap_or_default();
    let rule = RuleView {
        bonus_per_point: yuan(plan.rule.bonus_per_point),
        bonus_cap: cap(plan.rule.bonus_cap),
        floor: yuan(plan.rule.floor),
        penalty_per_point: yuan(plan.rule.penalty_per_point),
        penalty_cap: cap(plan.rule.penalty_cap),
    };
    let page = PlanPage {
        c: Chrome::of(who, "nav.targets", here.clone()),
        id: plan.id,
        title: format!("{} {}", plan.year, metric_name(plan, lang)),
        summary,
        may_plan: who.scope.plans(),
        crumbs,
        view_store: store.map(|s| s.store_code.clone()).unwrap_or_default(),
        view_month: if store.is_some() { month.map(month_text).unwrap_or_default() } else { String::new() },
        lines,
        editable: who.scope.plans(),
        months: (1..=12).map(|m| format!("{}-{m:02}", plan.year)).collect(),
        rule,
        error,
        done,
    };
    render(who, page)
}

fn weekday_name(d: NaiveDate, lang: opsdesk_domain::i18n::Lang) -> &'static str {
    use chrono::Datelike;
    let zh = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    let en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let i = d.weekday().num_days_from_monday() as usize;
    lang.pick(zh[i], en[i])
}

pub(crate) async fn plan(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<PlanQuery>,
) -> Response {
    let (who, plan) = match plan_reader(&state, &headers, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    plan_page(&state, &who, &plan, &q, None, None).await
}

/// A cell from its form reference, resolved against the stores within reach.
async fn cell_of(state: &AppState, who: &SignedIn, text: &str) -> Option<CellRef> {
    if let Some(id) = text.strip_prefix("region:") {
        return id.parse().ok().map(CellRef::Region);
    }
    let rest = text.strip_prefix("store:")?;
    let (code, period) = match rest.split_once('/') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let store = *state.db.store_codes(&who.scope).await.ok()?.get(code)?;
    Some(match period {
        None => CellRef::Store(store),
        Some(p) if p.len() == 7 => CellRef::Month { store, month: parse_month(p)? },
        Some(p) => CellRef::Day { store, date: parse_date(p).ok()? },
    })
}

/// The view a form came from (the store and month drilled into), to show again after it.
fn view_of(store: &str, month: &str) -> PlanQuery {
    let given = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    PlanQuery { store: given(store), month: given(month) }
}

impl PlanQuery {
    fn query(&self) -> String {
        match (&self.store, &self.month) {
            (Some(s), Some(m)) => format!("?store={}&month={}", url_encode(s), url_encode(m)),
            (Some(s), None) => format!("?store={}", url_encode(s)),
            _ => String::new(),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    cell: String,
    #[serde(default)]
    baseline: String,
    #[serde(default)]
    stretch: String,
    #[serde(default)]
    move_parent: String,
    /// The store and month the page was on.
    #[serde(default)]
    view_store: String,
    #[serde(default)]
    view_month: String,
}

/// The signed-in reader of a plan's page or download, and the plan.
async fn plan_reader(state: &AppState, headers: &HeaderMap, id: i64) -> Result<(SignedIn, Plan), Response> {
    let who = signed_in(state, headers, &format!("/targets/{id}")).await.map_err(IntoResponse::into_response)?;
    let plan = plan_of(state, &who, id).await?;
    Ok((who, plan))
}

/// The planner behind a form on a plan's page, and the plan.
async fn plan_form(state: &AppState, headers: &HeaderMap, id: i64, csrf: &str) -> Result<(SignedIn, Plan), Response> {
    let who = signed_in_form(state, headers, &format!("/targets/{id}"), csrf).await?;
    if let Some(r) = unless_planner(&who) {
        return Err(r);
    }
    let plan = plan_of(state, &who, id).await?;
    Ok((who, plan))
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<EditForm>,
) -> Response {
    let (who, plan) = match plan_form(&state, &headers, id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let view = view_of(&f.view_store, &f.view_month);
    let tr = who.tr;
    let unit = plan.metric.unit;
    let (Some(baseline), Some(stretch)) =
        (unit.parse_value(&f.baseline).filter(|v| *v >= 0), unit.parse_value(&f.stretch).filter(|v| *v >= 0))
    else {
        let msg = format!("{}: '{}' / '{}'", tr.t("tgt.bad_value"), f.baseline, f.stretch);
        return plan_page(&state, &who, &plan, &view, Some(msg), None).await;
    };
    let Some(cell) = cell_of(&state, &who, &f.cell).await else {
        return failed(&who, AppError::BadRequest(format!("{}: {}", tr.t("tgt.no_cell"), f.cell)));
    };
    let rebalance = if f.move_parent == "on" { Rebalance::MoveParent } else { Rebalance::KeepParent };
    let values = [(Level::Baseline, baseline), (Level::Stretch, stretch)];
    match state.db.edit_target(&who.scope, &plan, cell, &values, rebalance).await {
        Ok(()) => {
            let plan = match plan_of(&state, &who, id).await {
                Ok(p) => p,
                Err(r) => return r,
            };
            let done = format!(
                "{} {}: {} / {}",
                tr.t("tgt.changed"),
                f.cell.trim_start_matches("store:").trim_start_matches("region:"),
                unit.format(baseline),
                unit.format(stretch)
            );
            plan_page(&state, &who, &plan, &view, None, Some(done)).await
        }
        Err(e) => plan_page(&state, &who, &plan, &view, Some(e.message(tr.lang)), None).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct LockForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    cell: String,
    #[serde(default)]
    locked: String,
    #[serde(default)]
    view_store: String,
    #[serde(default)]
    view_month: String,
}

pub(crate) async fn lock(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<LockForm>,
) -> Response {
    let (who, plan) = match plan_form(&state, &headers, id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(cell) = cell_of(&state, &who, &f.cell).await else {
        return failed(&who, AppError::BadRequest(format!("{}: {}", who.tr.t("tgt.no_cell"), f.cell)));
    };
    let view = view_of(&f.view_store, &f.view_month);
    match state.db.lock_target(&who.scope, &plan, cell, f.locked == "true").await {
        Ok(()) => see_other(&format!("/targets/{id}{}", view.query())),
        Err(e) => plan_page(&state, &who, &plan, &view, Some(e.message(who.tr.lang)), None).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    bonus_per_point: String,
    #[serde(default)]
    bonus_cap: String,
    #[serde(default)]
    floor: String,
    #[serde(default)]
    penalty_per_point: String,
    #[serde(default)]
    penalty_cap: String,
}

pub(crate) async fn rule(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<RuleForm>,
) -> Response {
    let (who, plan) = match plan_form(&state, &headers, id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let money = |t: &str| opsdesk_domain::Money::parse_yuan(t).ok().map(|m| m.fen());
    let cap = |t: &str| if t.trim().is_empty() { Some(None) } else { money(t).map(Some) };
    let parsed = (|| {
        Some(RewardRule {
            bonus_per_point: money(&f.bonus_per_point)?,
            bonus_cap: cap(&f.bonus_cap)?,
            floor: money(&f.floor)?,
            penalty_per_point: money(&f.penalty_per_point)?,
            penalty_cap: cap(&f.penalty_cap)?,
        })
    })();
    let view = PlanQuery::default();
    let Some(rule) = parsed else {
        return plan_page(&state, &who, &plan, &view, Some(who.tr.t("tgt.bad_rule").to_string()), None).await;
    };
    match state.db.set_reward_rule(&who.scope, &plan, &rule).await {
        Ok(()) => see_other(&format!("/targets/{id}")),
        Err(e) => plan_page(&state, &who, &plan, &view, Some(e.message(who.tr.lang)), None).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let (who, plan) = match plan_form(&state, &headers, id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state.db.delete_target_plan(&who.scope, &plan).await {
        Ok(()) => see_other("/targets"),
        Err(e) => plan_page(&state, &who, &plan, &PlanQuery::default(), Some(e.message(who.tr.lang)), None).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct PayoutForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    month: String,
}

pub(crate) async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<PayoutForm>,
) -> Response {
    let (who, plan) = match plan_form(&state, &headers, id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(month) = parse_month(&f.month) else {
        return failed(&who, AppError::BadRequest(format!("month: {}", f.month)));
    };
    match state.db.approve_payout(&who.scope, &plan, month).await {
        Ok(_) => see_other(&format!("/reports/target-payout?plan={id}&month={}", month_text(month))),
        Err(e) => failed(&who, AppError::BadRequest(e.message(who.tr.lang))),
    }
}

// ------------------------------------------------------- the spreadsheet

#[derive(Deserialize)]
pub(crate) struct DownloadQuery {
    grain: Option<String>,
    month: Option<String>,
    format: Option<String>,
}

pub(crate) async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<DownloadQuery>,
) -> Response {
    let (who, plan) = match plan_reader(&state, &headers, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let grain = match (q.grain.as_deref(), q.month.as_deref().and_then(parse_month)) {
        (Some("day"), Some(m)) if m / 100 == i64::from(plan.year) => Grain::Day(m),
        (Some("day"), _) => return failed(&who, AppError::BadRequest("month: YYYY-MM".into())),
        _ => Grain::Month,
    };
    let rows = match state.db.target_rows(&who.scope, &plan, grain).await {
        Ok(r) => r,
        Err(e) => return failed(&who, AppError::internal(e)),
    };
    let table = super::cells_table(&plan, grain, &rows);
    let stem = match grain {
        Grain::Month => format!("targets_{}_{}", plan.year, plan.metric.key),
        Grain::Day(m) => format!("targets_{}_{}_{}", plan.year, plan.metric.key, month_text(m)),
    };
    match q.format.as_deref() {
        Some("xlsx") => match crate::export::xlsx_for_editing(&table, who.tr.lang) {
            Ok(bytes) => attachment(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &format!("{stem}.xlsx"),
            ),
            Err(e) => failed(&who, AppError::internal(e)),
        },
        _ => attachment(table.to_csv().into_bytes(), "text/csv; charset=utf-8", &format!("{stem}.csv")),
    }
}

struct ChangeView {
    store: String,
    period: String,
    level: &'static str,
    before: String,
    after: String,
}

struct ErrorView {
    row: u64,
    column: String,
    value: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "targets/import.html")]
struct ImportPage {
    c: Chrome,
    id: i64,
    title: String,
    file: String,
    changes: Vec<ChangeView>,
    errors: Vec<ErrorView>,
    more_errors: u64,
    token: String,
}

/// The largest target file taken (a store × day month of 5,000 stores is ~8 MB).
const MAX_FILE: usize = 32 << 20;

pub(crate) async fn import(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    // Signed in first: a stranger's upload is not read at all.
    let headers = request.headers().clone();
    let who = match signed_in(&state, &headers, &format!("/targets/{id}")).await {
        Ok(w) => w,
        Err(f) => return f.into_response(),
    };
    let mut form = match Multipart::from_request(request, &state).await {
        Ok(m) => m,
        // Not a form upload, so no form token either.
        Err(_) => return failed(&who, AppError::Csrf),
    };
    let (mut csrf, mut file, mut name) = (String::new(), None, String::new());
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.unwrap_or_default(),
                Some("file") => {
                    name = field.file_name().unwrap_or("targets").to_string();
                    match field.bytes().await {
                        Ok(b) if b.len() <= MAX_FILE => file = Some(b),
                        _ => return failed(&who, AppError::BadRequest(who.tr.t("tgt.too_big").into())),
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(e) => return failed(&who, AppError::BadRequest(e.to_string())),
        }
    }
    if let Err(f) = check_csrf(&who, &csrf) {
        return f.into_response();
    }
    if let Some(r) = unless_planner(&who) {
        return r;
    }
    let plan = match plan_of(&state, &who, id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return plan_page(&state, &who, &plan, &PlanQuery::default(), Some(who.tr.t("tgt.no_file").into()), None).await;
    };
    // The readers take a path: the file goes to a private temporary folder.
    let dir = std::env::temp_dir().join(format!("opsdesk-targets-{}", crate::session::random_token()));
    let safe: String = name.chars().filter(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-')).collect();
    let path = dir.join(if safe.is_empty() { "targets".to_string() } else { safe });
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, &bytes)) {
        return failed(&who, AppError::internal(e));
    }
    let checked =
        opsdesk_ingest::targets::read_targets(&state.db, &who.scope, &path, &name, &plan.metric.key, who.tr.lang).await;
    let _ = std::fs::remove_dir_all(&dir);
    let lang = who.tr.lang;
    let title = format!("{} {}", plan.year, metric_name(&plan, lang));
    let c = Chrome::of(&who, "nav.targets", format!("/targets/{id}"));
    let mut page = ImportPage {
        c,
        id,
        title,
        file: name.clone(),
        changes: Vec::new(),
        errors: Vec::new(),
        more_errors: 0,
        token: String::new(),
    };
    match checked {
        Err(e) => {
            page.errors.push(ErrorView {
                row: 0,
                column: String::new(),
                value: String::new(),
                reason: e.message(lang),
            });
        }
        Ok(Err(report)) => {
            page.more_errors = report.total.saturating_sub(report.errors.len() as u64);
            page.errors = report
                .errors
                .into_iter()
                .map(|e| ErrorView { row: e.row, column: e.column, value: e.value, reason: e.reason })
                .collect();
        }
        Ok(Ok(file)) if file.plan.id != plan.id => {
            let other = format!("{} {}", file.plan.year, metric_name(&file.plan, lang));
            page.errors.push(ErrorView {
                row: 0,
                column: String::new(),
                value: other,
                reason: who.tr.t("tgt.other_plan").into(),
            });
        }
        Ok(Ok(file)) => {
            let unit = plan.metric.unit;
            page.changes = file
                .changes
                .iter()
                .map(|d| ChangeView {
                    store: d.store_code.clone(),
                    period: d.period.clone(),
                    level: who.tr.t(if d.level == Level::Baseline { "tgt.baseline" } else { "tgt.stretch" }),
                    before: amount(unit, d.before, lang),
                    after: amount(unit, d.after, lang),
                })
                .collect();
            if !file.changes.is_empty() {
                page.token = state.pending.put(who.session.user.id, file);
            }
        }
    }
    render(&who, page)
}

#[derive(Deserialize)]
pub(crate) struct ApplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

pub(crate) async fn apply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ApplyForm>,
) -> Response {
    let (who, plan) = match plan_form(&state, &headers, id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(file) = state.pending.take(who.session.user.id, &f.token).filter(|p| p.plan.id == plan.id) else {
        return plan_page(&state, &who, &plan, &PlanQuery::default(), Some(who.tr.t("tgt.expired").into()), None).await;
    };
    match opsdesk_ingest::targets::apply_targets(&state.db, &who.scope, &file, "web").await {
        Ok(n) => {
            let plan = match plan_of(&state, &who, id).await {
                Ok(p) => p,
                Err(r) => return r,
            };
            let done = format!("{} {n}", who.tr.t("tgt.applied"));
            plan_page(&state, &who, &plan, &PlanQuery::default(), None, Some(done)).await
        }
        Err(e) => plan_page(&state, &who, &plan, &PlanQuery::default(), Some(e.message(who.tr.lang)), None).await,
    }
}

// ---------------------------------------------------------------- holidays

struct HolidayLine {
    date: String,
    weekday: &'static str,
    kind: &'static str,
    name: String,
    uplift: String,
}

#[derive(Template)]
#[template(path = "targets/holidays.html")]
struct HolidaysPage {
    c: Chrome,
    year: i32,
    years: Vec<i32>,
    days: Vec<HolidayLine>,
    may_plan: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct YearQuery {
    year: Option<i32>,
}

async fn holidays_page(state: &AppState, who: &SignedIn, year: i32, error: Option<String>) -> Response {
    let lang = who.tr.lang;
    let days = match state.db.holidays(Some(year)).await {
        Ok(d) => d,
        Err(e) => return failed(who, AppError::internal(e)),
    };
    let days = days
        .into_iter()
        .map(|d| HolidayLine {
            date: d.date.to_string(),
            weekday: weekday_name(d.date, lang),
            kind: who.tr.t(if d.kind == DayKind::Holiday { "tgt.holiday" } else { "tgt.workday" }),
            name: d.name,
            uplift: format!("{:.3}", d.uplift_pm as f64 / 1000.0),
        })
        .collect();
    let c = Chrome::of(who, "nav.targets", format!("/holidays?year={year}"));
    render(
        who,
        HolidaysPage { c, year, years: (year - 2..=year + 1).collect(), days, may_plan: who.scope.plans(), error },
    )
}

pub(crate) async fn holidays(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<YearQuery>,
) -> Response {
    let who = match signed_in(&state, &headers, "/holidays").await {
        Ok(w) => w,
        Err(f) => return f.into_response(),
    };
    let year = q.year.unwrap_or_else(|| chrono::Datelike::year(&chrono::Local::now().date_naive()));
    holidays_page(&state, &who, year, None).await
}

#[derive(Deserialize)]
pub(crate) struct HolidayForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    uplift: String,
    #[serde(default)]
    delete: String,
}

pub(crate) async fn save_holiday(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<HolidayForm>,
) -> Response {
    let who = match signed_in_form(&state, &headers, "/holidays", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    if let Some(r) = unless_planner(&who) {
        return r;
    }
    let Ok(date) = parse_date(&f.date) else {
        let year = chrono::Datelike::year(&chrono::Local::now().date_naive());
        return holidays_page(&state, &who, year, Some(format!("{}: '{}'", who.tr.t("tgt.date"), f.date))).await;
    };
    let year = chrono::Datelike::year(&date);
    let result = if f.delete == "true" {
        state.db.delete_holiday(&who.scope, date).await.map(|_| ())
    } else {
        let (Some(kind), Some(uplift_pm)) =
            (DayKind::parse(&f.kind), parse_uplift(if f.uplift.trim().is_empty() { "1" } else { &f.uplift }))
        else {
            return holidays_page(&state, &who, year, Some(who.tr.t("tgt.bad_uplift").into())).await;
        };
        state.db.save_holiday(&who.scope, &CalendarDay { date, kind, name: f.name.trim().to_string(), uplift_pm }).await
    };
    match result {
        Ok(()) => see_other(&format!("/holidays?year={year}")),
        Err(e) => holidays_page(&state, &who, year, Some(e.message(who.tr.lang))).await,
    }
}
