//! The appraisal pages: the cycles (and opening one), and a unit's page in a
//! cycle — its staff with their scorecards, hand scores while scoring, the
//! results once signed, and the step its reader may take next. The database
//! layer decides who may do what; a refusal is shown with its reason.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use opsdesk_db::appraisal::ScoreEntry;
use opsdesk_domain::appraisal::cycle::{State as UnitState, Step};
use opsdesk_domain::appraisal::parse_score;
use opsdesk_domain::appraisal::scoring::{Curve, Source};
use opsdesk_domain::calendar::{month_label as label, parse_month};
use opsdesk_domain::money::hundredths;
use serde::Deserialize;

use crate::pages::{Chrome, failed, render, url_encode};
use crate::server::{AppError, AppState, SignedIn, signed_in, signed_in_form};

struct CycleLine {
    month: String,
    deadline: String,
    /// Unit, its page, its state, who holds the next step, and whether that is late.
    units: Vec<(String, String, &'static str, String, bool)>,
}

/// A unit waiting for the reader: month, unit, its page, the step, and days late.
struct Mine {
    month: String,
    unit: String,
    href: String,
    step: &'static str,
    late: i64,
}

#[derive(Template)]
#[template(path = "appraisal/list.html")]
struct ListPage {
    c: Chrome,
    mine: Vec<Mine>,
    cycles: Vec<CycleLine>,
    may_open: bool,
    error: Option<String>,
}

/// The step a unit in `s` waits for, as a text key.
fn waiting_key(s: UnitState) -> &'static str {
    match s {
        UnitState::Scoring => "apr.sign",
        UnitState::Signed => "apr.review",
        UnitState::Reviewed => "apr.approve",
        UnitState::Approved => "apr.pay",
        UnitState::Paid => "apr.state_paid",
    }
}

fn unit_href(month: i64, unit: &str) -> String {
    format!("/appraisal/{}?unit={}", label(month), url_encode(unit))
}

/// The units whose next step the signed-in user holds, within her reach,
/// oldest first: the desk's reminder to whoever is late.
pub(crate) async fn waiting_for(
    state: &AppState,
    who: &SignedIn,
) -> Result<Vec<(i64, opsdesk_db::appraisal::Waiting)>, opsdesk_db::DbError> {
    let today = chrono::Local::now().date_naive();
    let name = &who.session.user.name;
    let mut out = Vec::new();
    for w in state.db.appraisal_waiting(None).await? {
        if w.holders.iter().any(|h| h == name) {
            out.push((w.days_late(today), w));
        }
    }
    Ok(out)
}

async fn list_page(state: &AppState, who: &SignedIn, error: Option<String>) -> Response {
    let (cycles, waiting, mine) = match (
        state.db.appraisal_cycles().await,
        state.db.appraisal_waiting(None).await,
        waiting_for(state, who).await,
    ) {
        (Ok(c), Ok(w), Ok(m)) => (c, w, m),
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => return failed(who, AppError::internal(e)),
    };
    let holders: HashMap<(i64, String), (String, bool)> = {
        let today = chrono::Local::now().date_naive();
        waiting
            .into_iter()
            .map(|w| {
                let late = w.days_late(today) > 0;
                let names = if w.holders.is_empty() { "—".to_string() } else { w.holders.join(", ") };
                ((w.month, w.unit), (names, late))
            })
            .collect()
    };
    let mut lines = Vec::new();
    for (month, deadline) in cycles {
        let units = match state.db.cycle_units(&who.scope, month).await {
            Ok(u) => u,
            Err(e) => return failed(who, AppError::internal(e)),
        };
        lines.push(CycleLine {
            month: label(month),
            deadline: deadline.to_string(),
            units: units
                .into_iter()
                .map(|u| {
                    let (names, late) = holders.get(&(month, u.unit.clone())).cloned().unwrap_or_default();
                    let href = unit_href(month, &u.unit);
                    (u.unit, href, who.tr.t(state_key(u.state)), names, late)
                })
                .collect(),
        });
    }
    let mine = mine
        .into_iter()
        .map(|(late, w)| Mine {
            month: label(w.month),
            href: unit_href(w.month, &w.unit),
            unit: w.unit,
            step: who.tr.t(waiting_key(w.state)),
            late,
        })
        .collect();
    let c = Chrome::of(who, "nav.appraisal", "/appraisal".into());
    render(who, ListPage { c, mine, cycles: lines, may_open: who.scope.plans(), error })
}

fn state_key(s: UnitState) -> &'static str {
    match s {
        UnitState::Scoring => "apr.state_scoring",
        UnitState::Signed => "apr.state_signed",
        UnitState::Reviewed => "apr.state_reviewed",
        UnitState::Approved => "apr.state_approved",
        UnitState::Paid => "apr.state_paid",
    }
}

pub(crate) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers, "/appraisal").await {
        Ok(who) => list_page(&state, &who, None).await,
        Err(f) => f.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct OpenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    month: String,
}

pub(crate) async fn open(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<OpenForm>) -> Response {
    let who = match signed_in_form(&state, &headers, "/appraisal", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(month) = parse_month(&f.month) else {
        return list_page(&state, &who, Some(format!("{}: '{}'", who.tr.t("report.month"), f.month))).await;
    };
    match state.db.open_cycle(&who.scope, month).await {
        Ok(_) => (StatusCode::SEE_OTHER, [(LOCATION, "/appraisal")]).into_response(),
        Err(e) => list_page(&state, &who, Some(e.message(who.tr.lang))).await,
    }
}

struct IndicatorView {
    key: String,
    name: String,
    weight: i64,
    hand: bool,
    /// A data indicator whose data is missing: hand points, with a comment.
    no_data: bool,
    points: String,
    comment: String,
}

struct EmployeeView {
    code: String,
    name: String,
    position: String,
    excluded: bool,
    /// The reader may give this employee's hand scores now.
    may_score: bool,
    indicators: Vec<IndicatorView>,
    result: Option<(String, String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "appraisal/unit.html")]
struct UnitPage {
    c: Chrome,
    month: String,
    unit: String,
    state: &'static str,
    note: String,
    reason: String,
    signatures: Vec<(String, String)>,
    staff: Vec<EmployeeView>,
    steps: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    done: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct UnitQuery {
    #[serde(default)]
    unit: String,
}

async fn unit_page(
    state: &AppState,
    who: &SignedIn,
    month: i64,
    unit: &str,
    error: Option<String>,
    done: Option<String>,
) -> Response {
    let db = &state.db;
    let units = match db.cycle_units(&who.scope, month).await {
        Ok(u) => u,
        Err(e) => return failed(who, AppError::internal(e)),
    };
    let Some(u) = units.into_iter().find(|u| u.unit == unit) else { return failed(who, AppError::NotFound) };
    let (staff, results, scores, rights) = match (
        db.employees(&who.scope).await,
        db.appraisal_results(&who.scope, month, false).await,
        db.appraisal_scores(&who.scope, month).await,
        db.appraisal_rights(&who.scope, month, unit).await,
    ) {
        (Ok(s), Ok(r), Ok(sc), Ok(x)) => (s, r, sc, x),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => return failed(who, AppError::internal(e)),
    };
    let results: HashMap<String, opsdesk_db::appraisal::PayoutLine> =
        results.into_iter().filter(|r| r.unit == unit).map(|r| (r.employee.clone(), r)).collect();
    let mut views = Vec::new();
    for e in staff.into_iter().filter(|e| {
        let key = if e.store_id.is_some() { format!("store:{}", e.unit) } else { format!("dept:{}", e.unit) };
        key == unit
    }) {
        let card = match db.scorecard(&e.position).await {
            Ok(c) => c,
            Err(err) => return failed(who, AppError::internal(err)),
        };
        let data = match db.data_points(&e, month, &Curve::default()).await {
            Ok(d) => d,
            Err(err) => return failed(who, AppError::internal(err)),
        };
        let indicators = card
            .into_iter()
            .map(|i| {
                // A data indicator without data is scored by hand.
                let computed = data.get(&i.key).copied().flatten();
                let hand = i.source == Source::Hand || computed.is_none();
                let (points, comment) = match computed {
                    Some(p) => (hundredths(p), String::new()),
                    None => scores
                        .get(&(e.code.clone(), i.key.clone()))
                        .map(|(p, c)| (hundredths(*p), c.clone()))
                        .unwrap_or_default(),
                };
                let no_data = i.source != Source::Hand && computed.is_none();
                IndicatorView { key: i.key, name: i.name, weight: i.weight, hand, no_data, points, comment }
            })
            .collect();
        let result = results.get(&e.code).map(|r| {
            (
                r.score.map(hundredths).unwrap_or_default(),
                r.grade.clone().unwrap_or_else(|| "—".into()),
                hundredths(r.base),
                hundredths(r.coefficient * 10),
                hundredths(r.pay),
            )
        });
        views.push(EmployeeView {
            may_score: rights.0.contains(&e.code),
            code: e.code,
            name: e.name,
            position: e.position,
            excluded: e.excluded,
            indicators,
            result,
        });
    }
    let steps = rights
        .1
        .into_iter()
        .map(|s| match s {
            Step::Sign => ("sign", "apr.sign"),
            Step::Review => ("review", "apr.review"),
            Step::Approve => ("approve", "apr.approve"),
            Step::SendBack => ("send-back", "apr.send_back"),
            Step::Pay => ("pay", "apr.pay"),
        })
        .collect();
    let page = UnitPage {
        c: Chrome::of(who, "nav.appraisal", format!("/appraisal/{}?unit={}", label(month), url_encode(unit))),
        month: label(month),
        unit: unit.to_string(),
        state: who.tr.t(state_key(u.state)),
        note: u.note,
        reason: u.reason,
        signatures: u
            .signatures
            .iter()
            .map(|(s, by, at)| (s.to_string(), format!("{by} {}", at.format("%Y-%m-%d %H:%M"))))
            .collect(),
        staff: views,
        steps,
        error,
        done,
    };
    render(who, page)
}

pub(crate) async fn unit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(month): Path<String>,
    Query(q): Query<UnitQuery>,
) -> Response {
    let here = format!("/appraisal/{month}?unit={}", url_encode(&q.unit));
    let who = match signed_in(&state, &headers, &here).await {
        Ok(w) => w,
        Err(f) => return f.into_response(),
    };
    let Some(m) = parse_month(&month) else { return failed(&who, AppError::NotFound) };
    unit_page(&state, &who, m, &q.unit, None, None).await
}

#[derive(Deserialize)]
pub(crate) struct ScoreForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    employee: String,
    #[serde(default)]
    indicator: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    comment: String,
}

pub(crate) async fn score(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(month): Path<String>,
    Form(f): Form<ScoreForm>,
) -> Response {
    let who = match signed_in_form(&state, &headers, "/appraisal", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(m) = parse_month(&month) else { return failed(&who, AppError::NotFound) };
    let points = match parse_score(&f.points) {
        Ok(p) => p,
        Err(e) => return unit_page(&state, &who, m, &f.unit, Some(e.message(who.tr.lang)), None).await,
    };
    let policy = match state.db.appraisal_policy().await {
        Ok(p) => p,
        Err(e) => return failed(&who, AppError::internal(e)),
    };
    let entry =
        ScoreEntry { employee: f.employee.clone(), indicator: f.indicator.clone(), points, comment: f.comment.clone() };
    match state.db.set_scores(&who.scope, m, std::slice::from_ref(&entry), &policy).await {
        Ok(()) => {
            let done = format!("{} {} {}: {}", who.tr.t("apr.scored"), f.employee, f.indicator, hundredths(points));
            unit_page(&state, &who, m, &f.unit, None, Some(done)).await
        }
        Err(e) => unit_page(&state, &who, m, &f.unit, Some(e.message(who.tr.lang)), None).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    scale: String,
    #[serde(default)]
    comment: String,
}

pub(crate) async fn step(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(month): Path<String>,
    Form(f): Form<StepForm>,
) -> Response {
    let who = match signed_in_form(&state, &headers, "/appraisal", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(m) = parse_month(&month) else { return failed(&who, AppError::NotFound) };
    let db = &state.db;
    let result = match f.step.as_str() {
        "sign" => db.sign_unit(&who.scope, m, &f.unit, &f.reason, f.scale == "on").await,
        "review" => db.advance_unit(&who.scope, m, &f.unit, Step::Review, "").await,
        "approve" => db.advance_unit(&who.scope, m, &f.unit, Step::Approve, "").await,
        "pay" => db.advance_unit(&who.scope, m, &f.unit, Step::Pay, "").await,
        "send-back" => db.advance_unit(&who.scope, m, &f.unit, Step::SendBack, &f.comment).await,
        other => return failed(&who, AppError::BadRequest(format!("step: {other}"))),
    };
    match result {
        Ok(()) => unit_page(&state, &who, m, &f.unit, None, Some(who.tr.t("apr.stepped").to_string())).await,
        Err(e) => unit_page(&state, &who, m, &f.unit, Some(e.message(who.tr.lang)), None).await,
    }
}
