//! Staff in the desk (员工与岗位): the unit tree with each department's head,
//! the employees within reach, and the positions with their duties and
//! scorecards. Operations adds and changes them here as in files, one at a
//! time; everyone else reads the staff of her reach, pay bases only where
//! she is in the employee's chain. The database layer refuses what a reader
//! may not do; a refusal is shown with its reason.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use opsdesk_db::staff::Employee;
use opsdesk_domain::appraisal::scoring::{Indicator, Source};
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::money::hundredths;
use opsdesk_ingest::ImportKind;
use opsdesk_ingest::staff::{EmployeeCheck, EmployeeFields, position_record};
use serde::Deserialize;

use crate::pages::{Chrome, failed, render, url_encode};
use crate::server::{AppError, AppState, SignedIn, signed_in, signed_in_form};

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response()
}

/// The cycle key of an employee's unit: `store:CODE` or `dept:PATH`.
fn unit_key(e: &Employee) -> String {
    if e.store_id.is_some() { format!("store:{}", e.unit) } else { format!("dept:{}", e.unit) }
}

/// A unit of the tree: its key, label, depth, head, staff count, and (for a
/// department) its id for naming the head.
struct UnitView {
    key: String,
    label: String,
    depth: usize,
    head: String,
    staff: usize,
    department: Option<i64>,
}

struct EmployeeRow {
    code: String,
    name: String,
    unit: String,
    position: String,
    level: String,
    pay_base: String,
    excluded: bool,
    start: String,
    end: String,
}

#[derive(Template)]
#[template(path = "staff/list.html")]
struct ListPage {
    c: Chrome,
    units: Vec<UnitView>,
    /// Staff within reach, all units.
    total: usize,
    unit: String,
    employees: Vec<EmployeeRow>,
    users: Vec<String>,
    may_keep: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    unit: String,
}

/// The pay base an employee's reader sees: her own, the level's, or nothing
/// outside the chain.
fn pay_base_text(e: &Employee, visible: &HashSet<i64>, policy: &opsdesk_domain::appraisal::Policy) -> String {
    if !visible.contains(&e.id) {
        return "—".into();
    }
    e.pay_base.or_else(|| policy.pay_base(&e.level)).map(hundredths).unwrap_or_default()
}

async fn list_page(state: &AppState, who: &SignedIn, unit: &str, error: Option<String>) -> Response {
    let db = &state.db;
    let loaded = async {
        Ok::<_, opsdesk_db::DbError>((
            db.employees(&who.scope).await?,
            db.department_list().await?,
            db.departments().await?,
            db.pay_visible(&who.scope).await?,
            db.appraisal_policy().await?,
            db.positions().await?,
            if who.scope.plans() { db.users().await? } else { Vec::new() },
        ))
    };
    let (staff, departments, paths, visible, policy, positions, users) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failed(who, AppError::internal(e)),
    };
    let mut counts: HashMap<String, usize> = HashMap::new();
    for e in &staff {
        *counts.entry(unit_key(e)).or_default() += 1;
    }
    // Departments in tree order (by path); those out of reach (no staff
    // seen, not seeing everything) are left out.
    let mut units: Vec<UnitView> = departments
        .iter()
        .filter_map(|d| {
            let path = paths.get(&d.id)?;
            let key = format!("dept:{}", path.join("/"));
            let below = staff.iter().filter(|e| unit_key(e).starts_with(&key)).count();
            (who.scope.sees_all() || below > 0).then(|| UnitView {
                staff: counts.get(&key).copied().unwrap_or(0),
                label: d.name.clone(),
                depth: path.len() - 1,
                head: d.head.clone().unwrap_or_default(),
                department: Some(d.id),
                key,
            })
        })
        .collect();
    units.sort_by(|a, b| a.key.cmp(&b.key));
    let mut stores: Vec<UnitView> = counts
        .iter()
        .filter(|(k, _)| k.starts_with("store:"))
        .map(|(k, n)| UnitView {
            label: k["store:".len()..].to_string(),
            key: k.clone(),
            depth: 0,
            head: String::new(),
            staff: *n,
            department: None,
        })
        .collect();
    stores.sort_by(|a, b| a.key.cmp(&b.key));
    units.extend(stores);
    let position_names: HashMap<String, String> = positions.into_iter().map(|p| (p.code, p.name)).collect();
    let employees = staff
        .iter()
        .filter(|e| unit.is_empty() || unit_key(e) == unit || unit_key(e).starts_with(&format!("{unit}/")))
        .map(|e| EmployeeRow {
            code: e.code.clone(),
            name: e.name.clone(),
            unit: e.unit.clone(),
            position: position_names.get(&e.position).cloned().unwrap_or_else(|| e.position.clone()),
            level: e.level.clone(),
            pay_base: pay_base_text(e, &visible, &policy),
            excluded: e.excluded,
            start: e.start_date.to_string(),
            end: e.end_date.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    let page = ListPage {
        c: Chrome::of(who, "nav.staff", format!("/staff?unit={}", url_encode(unit))),
        units,
        total: staff.len(),
        unit: unit.to_string(),
        employees,
        users: users.into_iter().filter(|u| u.active).map(|u| u.name).collect(),
        may_keep: who.scope.plans(),
        error,
    };
    render(who, page)
}

pub(crate) async fn list(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    match signed_in(&state, &headers, "/staff").await {
        Ok(who) => list_page(&state, &who, q.unit.trim(), None).await,
        Err(f) => f.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct HeadForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    head: String,
}

pub(crate) async fn set_head(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<HeadForm>,
) -> Response {
    let who = match signed_in_form(&state, &headers, "/staff", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let head = Some(f.head.trim()).filter(|h| !h.is_empty());
    match state.db.set_department_head(&who.scope, id, head).await {
        Ok(()) => see_other("/staff"),
        Err(e) => list_page(&state, &who, "", Some(e.message(who.tr.lang))).await,
    }
}

/// The employee form's values, as typed.
#[derive(Deserialize, Default, Clone)]
pub(crate) struct EmployeeForm {
    #[serde(default)]
    csrf: String,
    /// Set when an existing employee is edited (her code cannot change).
    #[serde(default)]
    existing: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    pay_base: String,
    #[serde(default)]
    excluded: String,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    end_date: String,
}

#[derive(Template)]
#[template(path = "staff/employee.html")]
struct EmployeePage {
    c: Chrome,
    f: EmployeeForm,
    editing: bool,
    may_keep: bool,
    units: Vec<String>,
    positions: Vec<(String, String)>,
    levels: Vec<String>,
    /// The pay base the reader sees (or "—").
    pay_base_seen: String,
    error: Option<String>,
    done: Option<String>,
}

async fn employee_page(
    state: &AppState,
    who: &SignedIn,
    f: EmployeeForm,
    editing: bool,
    error: Option<String>,
    done: Option<String>,
) -> Response {
    let db = &state.db;
    let loaded = async {
        Ok::<_, opsdesk_db::DbError>((
            db.employees(&who.scope).await?,
            db.departments().await?,
            db.positions().await?,
            db.appraisal_policy().await?,
            db.pay_visible(&who.scope).await?,
        ))
    };
    let (staff, paths, positions, policy, visible) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failed(who, AppError::internal(e)),
    };
    let pay_base_seen =
        staff.iter().find(|e| e.code == f.code).map(|e| pay_base_text(e, &visible, &policy)).unwrap_or_default();
    let mut units: Vec<String> = match db.stores(&who.scope).await {
        Ok(s) => s.into_iter().map(|s| s.code).collect(),
        Err(e) => return failed(who, AppError::internal(e)),
    };
    let mut depts: Vec<String> = paths.values().map(|p| p.join("/")).collect();
    depts.sort();
    units.extend(depts);
    let page = EmployeePage {
        c: Chrome::of(who, "nav.staff", format!("/staff/employees/{}", url_encode(&f.code))),
        f,
        editing,
        may_keep: who.scope.plans(),
        units,
        positions: positions.into_iter().map(|p| (p.code, p.name)).collect(),
        levels: policy.pay_bases.iter().map(|(l, _)| l.clone()).collect(),
        pay_base_seen,
        error,
        done,
    };
    render(who, page)
}

pub(crate) async fn employee(State(state): State<AppState>, headers: HeaderMap, Path(code): Path<String>) -> Response {
    let who = match signed_in(&state, &headers, &format!("/staff/employees/{}", url_encode(&code))).await {
        Ok(w) => w,
        Err(f) => return f.into_response(),
    };
    let staff = match state.db.employees(&who.scope).await {
        Ok(s) => s,
        Err(e) => return failed(&who, AppError::internal(e)),
    };
    let form = match staff.into_iter().find(|e| e.code == code) {
        Some(e) => EmployeeForm {
            csrf: String::new(),
            existing: e.code.clone(),
            code: e.code,
            name: e.name,
            unit: e.unit,
            position: e.position,
            level: e.level,
            // The form keeps the employee's own pay base; the level's shows beside it.
            pay_base: e.pay_base.map(hundredths).unwrap_or_default(),
            excluded: if e.excluded { "on".into() } else { String::new() },
            start_date: e.start_date.to_string(),
            end_date: e.end_date.map(|d| d.to_string()).unwrap_or_default(),
        },
        // A new employee: operations only.
        None if code == "new" && who.scope.plans() => EmployeeForm::default(),
        None => return failed(&who, AppError::NotFound),
    };
    let editing = !form.existing.is_empty();
    employee_page(&state, &who, form, editing, None, None).await
}

/// A field's name as the reader reads it, from the import's field list.
fn field_label(kind: ImportKind, index: usize, lang: Lang) -> &'static str {
    kind.fields().get(index).map_or("", |f| lang.pick(f.zh, f.name))
}

pub(crate) async fn save_employee(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<EmployeeForm>,
) -> Response {
    let who = match signed_in_form(&state, &headers, "/staff", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let lang = who.tr.lang;
    let editing = !f.existing.is_empty();
    if editing && f.existing != f.code {
        return employee_page(&state, &who, f, editing, Some(who.tr.t("staff.code_fixed").into()), None).await;
    }
    let check = match EmployeeCheck::load(&state.db).await {
        Ok(c) => c,
        Err(e) => return failed(&who, AppError::internal(e)),
    };
    let excluded = if f.excluded == "on" { "yes" } else { "no" };
    let fields: EmployeeFields<'_> =
        [&f.code, &f.name, &f.unit, &f.position, &f.level, &f.pay_base, excluded, &f.start_date, &f.end_date];
    let record = match check.record(fields, lang) {
        Ok(r) => r,
        Err((i, reason)) => {
            let value = fields[i].to_string();
            let msg = format!("{} '{value}': {reason}", field_label(ImportKind::Employees, i, lang));
            return employee_page(&state, &who, f, editing, Some(msg), None).await;
        }
    };
    if !editing
        && state
            .db
            .employees(&opsdesk_db::Scope::system("staff"))
            .await
            .is_ok_and(|s| s.iter().any(|e| e.code == f.code))
    {
        let msg = format!("{}: {}", who.tr.t("staff.code_taken"), f.code);
        return employee_page(&state, &who, f, editing, Some(msg), None).await;
    }
    match state.db.save_employees(&who.scope, std::slice::from_ref(&record)).await {
        Ok(_) => see_other(&format!("/staff/employees/{}", url_encode(&record.code))),
        Err(e) => employee_page(&state, &who, f, editing, Some(e.message(lang)), None).await,
    }
}

struct PositionView {
    code: String,
    name: String,
    duties: String,
    /// Indicator: name, weight and source, e.g. "销售达成 40 (revenue_attainment)".
    card: Vec<String>,
    staff: usize,
}

#[derive(Template)]
#[template(path = "staff/positions.html")]
struct PositionsPage {
    c: Chrome,
    positions: Vec<PositionView>,
    may_keep: bool,
    error: Option<String>,
}

fn source_label(s: Source, tr: crate::i18n::Tr) -> &'static str {
    tr.t(match s {
        Source::Hand => "staff.src_hand",
        Source::RevenueAttainment => "staff.src_revenue",
        Source::GrossProfitAttainment => "staff.src_gross_profit",
        Source::TrafficGrowth => "staff.src_traffic",
        Source::AovGrowth => "staff.src_aov",
    })
}

async fn positions_page(state: &AppState, who: &SignedIn, error: Option<String>) -> Response {
    let db = &state.db;
    let (positions, staff) = match (db.positions().await, db.employees(&who.scope).await) {
        (Ok(p), Ok(s)) => (p, s),
        (Err(e), _) | (_, Err(e)) => return failed(who, AppError::internal(e)),
    };
    let mut views = Vec::new();
    for p in positions {
        let card = match db.scorecard(&p.code).await {
            Ok(c) => c,
            Err(e) => return failed(who, AppError::internal(e)),
        };
        views.push(PositionView {
            staff: staff.iter().filter(|e| e.position == p.code).count(),
            card: card
                .iter()
                .map(|i| format!("{} {} · {}", i.name, i.weight, source_label(i.source, who.tr)))
                .collect(),
            code: p.code,
            name: p.name,
            duties: p.duties,
        });
    }
    let c = Chrome::of(who, "nav.staff", "/staff/positions".into());
    render(who, PositionsPage { c, positions: views, may_keep: who.scope.plans(), error })
}

pub(crate) async fn positions(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers, "/staff/positions").await {
        Ok(who) => positions_page(&state, &who, None).await,
        Err(f) => f.into_response(),
    }
}

/// A scorecard row of the form.
struct CardRow {
    key: String,
    name: String,
    weight: String,
    source: String,
}

#[derive(Template)]
#[template(path = "staff/position.html")]
struct PositionPage {
    c: Chrome,
    code: String,
    name: String,
    duties: String,
    rows: Vec<CardRow>,
    sources: Vec<(&'static str, &'static str)>,
    may_keep: bool,
    error: Option<String>,
    done: Option<String>,
}

const SOURCES: [Source; 5] =
    [Source::Hand, Source::RevenueAttainment, Source::GrossProfitAttainment, Source::TrafficGrowth, Source::AovGrowth];

async fn position_page(
    state: &AppState,
    who: &SignedIn,
    code: &str,
    rows: Option<Vec<CardRow>>,
    error: Option<String>,
    done: Option<String>,
) -> Response {
    let db = &state.db;
    let Some(p) = (match db.positions().await {
        Ok(ps) => ps.into_iter().find(|p| p.code == code),
        Err(e) => return failed(who, AppError::internal(e)),
    }) else {
        return failed(who, AppError::NotFound);
    };
    let mut rows = match rows {
        Some(r) => r,
        None => match db.scorecard(code).await {
            Ok(card) => card
                .into_iter()
                .map(|i| CardRow {
                    key: i.key,
                    name: i.name,
                    weight: i.weight.to_string(),
                    source: i.source.key().into(),
                })
                .collect(),
            Err(e) => return failed(who, AppError::internal(e)),
        },
    };
    if who.scope.plans() {
        // Room for new indicators.
        while rows.len() < 8 {
            rows.push(CardRow {
                key: String::new(),
                name: String::new(),
                weight: String::new(),
                source: "hand".into(),
            });
        }
    }
    let page = PositionPage {
        c: Chrome::of(who, "nav.staff", format!("/staff/positions/{}", url_encode(code))),
        code: p.code,
        name: p.name,
        duties: p.duties,
        rows,
        sources: SOURCES.iter().map(|s| (s.key(), source_label(*s, who.tr))).collect(),
        may_keep: who.scope.plans(),
        error,
        done,
    };
    render(who, page)
}

pub(crate) async fn position(State(state): State<AppState>, headers: HeaderMap, Path(code): Path<String>) -> Response {
    match signed_in(&state, &headers, &format!("/staff/positions/{}", url_encode(&code))).await {
        Ok(who) => position_page(&state, &who, &code, None, None, None).await,
        Err(f) => f.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct PositionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    duties: String,
}

/// Adds a position or changes its name and duties.
pub(crate) async fn save_position(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<PositionForm>,
) -> Response {
    let who = match signed_in_form(&state, &headers, "/staff/positions", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let lang = who.tr.lang;
    let record = match position_record([&f.code, &f.name, &f.duties], lang) {
        Ok(r) => r,
        Err((i, reason)) => {
            let value = [&f.code, &f.name, &f.duties][i];
            let msg = format!("{} '{value}': {reason}", field_label(ImportKind::Positions, i, lang));
            return positions_page(&state, &who, Some(msg)).await;
        }
    };
    match state.db.save_positions(&who.scope, std::slice::from_ref(&record)).await {
        Ok(_) => see_other(&format!("/staff/positions/{}", url_encode(&record.code))),
        Err(e) => positions_page(&state, &who, Some(e.message(lang))).await,
    }
}

/// Replaces a position's scorecard from the form's rows (`key0`, `name0`,
/// `weight0`, `source0`, …); empty rows are left out.
pub(crate) async fn save_scorecard(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let csrf = field("csrf").unwrap_or_default();
    let who = match signed_in_form(&state, &headers, "/staff/positions", &csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let mut rows = Vec::new();
    for n in 0..64 {
        let Some(key) = field(&format!("key{n}")) else { break };
        let row = CardRow {
            key,
            name: field(&format!("name{n}")).unwrap_or_default(),
            weight: field(&format!("weight{n}")).unwrap_or_default(),
            source: field(&format!("source{n}")).unwrap_or_default(),
        };
        if !(row.key.is_empty() && row.name.is_empty() && row.weight.is_empty()) {
            rows.push(row);
        }
    }
    let mut items = Vec::new();
    for (n, r) in rows.iter().enumerate() {
        let line = n + 1;
        let bad = |what: &str, value: &str| {
            Some(format!("{} {line} · {} '{value}'", who.tr.t("staff.indicator_row"), who.tr.t(what)))
        };
        let problem = if r.key.is_empty() || r.key.contains([':', ',']) {
            bad("staff.key", &r.key)
        } else if r.name.is_empty() {
            bad("staff.name", &r.name)
        } else {
            None
        };
        let weight = r.weight.parse::<i64>().ok().filter(|w| *w > 0);
        let source = Source::parse(&r.source);
        let problem = problem
            .or_else(|| weight.is_none().then(|| bad("apr.weight", &r.weight)).flatten())
            .or_else(|| source.is_none().then(|| bad("staff.source", &r.source)).flatten());
        match (problem, weight, source) {
            (None, Some(weight), Some(source)) => {
                items.push(Indicator { key: r.key.clone(), name: r.name.clone(), weight, source })
            }
            (p, ..) => return position_page(&state, &who, &code, Some(rows), p, None).await,
        }
    }
    match state.db.set_scorecard(&who.scope, &code, &items).await {
        Ok(()) => {
            let done = who.tr.t("staff.card_saved").to_string();
            position_page(&state, &who, &code, None, None, Some(done)).await
        }
        Err(e) => position_page(&state, &who, &code, Some(rows), Some(e.message(who.tr.lang)), None).await,
    }
}
