//! The JSON API under `/api/`: every report and list, for a bearer token
//! made in the desk (or the browser's own session), cut to its user's
//! reach. The OpenAPI document is at `/api/openapi.json`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use opsdesk_db::Scope;
use opsdesk_db::people::User;
use opsdesk_domain::i18n::Lang;
use serde_json::{Value, json};

use crate::pages::{ReportQuery, request};
use crate::reports::{self, table_json};
use crate::server::{AppError, AppState, request_lang, session_of};
use crate::session::token_hash;

/// A JSON error: `{"error": message}` with its status.
pub(crate) struct ApiError(pub(crate) StatusCode, pub(crate) String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn from_app(e: AppError, lang: Lang) -> ApiError {
    match e {
        AppError::SignIn { .. } => ApiError(StatusCode::UNAUTHORIZED, "sign in or send a bearer token".into()),
        AppError::NotFound => ApiError(StatusCode::NOT_FOUND, "no such report".into()),
        AppError::BadRequest(m) => ApiError(StatusCode::BAD_REQUEST, m),
        AppError::Csrf | AppError::Forbidden => ApiError(StatusCode::FORBIDDEN, "forbidden".into()),
        AppError::Internal(detail) => {
            eprintln!("opsdesk: internal error: {detail}");
            ApiError(StatusCode::INTERNAL_SERVER_ERROR, lang.pick("服务器出错", "internal error").into())
        }
    }
}

/// The user a request acts for: a bearer token's, or the signed-in session's.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<(User, Scope, Lang), ApiError> {
    let lang = request_lang(headers, None);
    let bearer = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let user = match bearer {
        Some(token) => state
            .db
            .user_by_api_token(&token_hash(token.trim()))
            .await
            .map_err(|e| from_app(AppError::internal(e), lang))?
            .ok_or_else(|| ApiError(StatusCode::UNAUTHORIZED, "the token is unknown or revoked".into()))?,
        None => session_of(state, headers)
            .await
            .map_err(|e| from_app(e, lang))?
            .map(|s| s.user)
            .ok_or_else(|| from_app(AppError::SignIn { next: String::new() }, lang))?,
    };
    let lang = user.lang.unwrap_or(lang);
    let scope = user.scope();
    Ok((user, scope, lang))
}

pub(crate) async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Value>, ApiError> {
    let (_, scope, lang) = caller(&state, &headers).await?;
    let (req, _) = request(&state, &scope, lang, &name, &q).await.map_err(|e| from_app(e, lang))?;
    let rep = state.results.report(&state.db, &scope, &req).await.map_err(|e| {
        if matches!(e, reports::ReportError::Forbidden) {
            ApiError(StatusCode::FORBIDDEN, e.message(lang))
        } else if e.is_bad_input() {
            ApiError(StatusCode::BAD_REQUEST, e.message(lang))
        } else {
            from_app(AppError::internal(e.message(Lang::En)), lang)
        }
    })?;
    let mut v = table_json(&rep.table);
    v["note"] = rep.note(lang).map_or(Value::Null, Value::String);
    Ok(Json(v))
}

/// Yuan with two decimals as a JSON number.
fn yuan(fen: i64) -> Value {
    json!(fen as f64 / 100.0)
}

fn pct(v: Option<i64>) -> Value {
    v.map_or(Value::Null, |p| json!(p as f64 / 100.0))
}

pub(crate) async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let (_, scope, lang) = caller(&state, &headers).await?;
    let d = state
        .results
        .dashboard(&state.db, &scope)
        .await
        .map_err(|e| from_app(AppError::internal(e.message(Lang::En)), lang))?;
    let Some(d) = d else { return Ok(Json(json!({ "date": null }))) };
    let store = |s: &opsdesk_domain::reports::daily::DailyRow| json!({"store_code": s.label, "revenue": yuan(s.revenue), "tickets": s.tickets, "lw_pct": pct(s.lw_pct)});
    let t = &d.total;
    Ok(Json(json!({
        "date": d.date.to_string(),
        "all_stores": scope.sees_all(),
        "total": {
            "revenue": yuan(t.revenue), "gross_profit": yuan(t.gross_profit), "margin_pct": pct(t.margin_pct),
            "tickets": t.tickets, "aov": t.aov.map_or(Value::Null, yuan), "mtd_revenue": yuan(t.mtd_revenue),
            "lw_pct": pct(t.lw_pct), "ly_pct": pct(t.ly_pct),
        },
        "target": d.target.map_or(Value::Null, |g| json!({
            "day": yuan(g.day), "month_to_date": yuan(g.to_date), "month": yuan(g.month),
            "mtd_attainment_pct": pct(g.attainment(t.mtd_revenue)), "time_progress_pct": pct(g.time_progress()),
        })),
        "top": d.top.iter().map(store).collect::<Vec<_>>(),
        "bottom": d.bottom.iter().map(store).collect::<Vec<_>>(),
        "traffic_anomalies": d.anomalies.iter().map(|(code, r)| json!({
            "store_code": code, "tickets": r.tickets, "baseline_mean": pct(r.baseline_mean), "flag": r.flag.as_str(),
        })).collect::<Vec<_>>(),
    })))
}

pub(crate) async fn stores(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let (_, scope, lang) = caller(&state, &headers).await?;
    let stores = state.db.stores(&scope).await.map_err(|e| from_app(AppError::internal(e), lang))?;
    Ok(Json(json!({
        "stores": stores.iter().map(|s| json!({
            "code": s.code, "name": s.name, "region": s.region_path.join("/"), "area_sqm": s.area_sqm,
            "staff": s.staff_count, "open_date": s.open_date.to_string(),
        })).collect::<Vec<_>>()
    })))
}

/// The import history within reach (a user who does not see every store
/// reads her own imports), newest first.
pub(crate) async fn imports(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let (_, scope, lang) = caller(&state, &headers).await?;
    let list = state.db.imports(&scope, 500).await.map_err(|e| from_app(AppError::internal(e), lang))?;
    Ok(Json(json!({
        "imports": list.iter().map(|r| json!({
            "id": r.id, "kind": r.kind, "file": r.file_name, "sha256": r.sha256, "actor": r.actor,
            "started_at": r.started_at.to_rfc3339(), "duration_ms": r.duration_ms, "result": r.result,
            "rows_read": r.rows_read, "rows_imported": r.rows_imported, "rows_rejected": r.rows_rejected,
            "store_days_new": r.pairs_new, "store_days_replaced": r.pairs_replaced,
            "first_date": r.first_date.map(|d| d.to_string()), "last_date": r.last_date.map(|d| d.to_string()),
            "message": r.message,
        })).collect::<Vec<_>>()
    })))
}

pub(crate) async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let (user, scope, _) = caller(&state, &headers).await?;
    Ok(Json(json!({ "name": user.name, "role": user.role.key(), "sees_all_stores": scope.sees_all() })))
}

/// The OpenAPI 3.1 description of the API.
pub(crate) async fn openapi() -> Json<Value> {
    let p = |name: &str, desc: &str, pattern: &str| {
        json!({"name": name, "in": "query", "required": false, "description": desc,
               "schema": {"type": "string", "pattern": pattern}})
    };
    let date = "^\\d{4}-\\d{2}-\\d{2}$";
    let month = "^\\d{4}-\\d{2}$";
    let report = |summary: &str, params: Vec<Value>| {
        json!({"get": {
            "summary": summary,
            "security": [{"bearer": []}],
            "parameters": params,
            "responses": {
                "200": {"description": "the report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}}},
                "400": {"description": "bad parameters", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "no or unknown token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        }})
    };
    let mut paths = serde_json::Map::new();
    let reports: Vec<(&str, &str, Vec<Value>)> = vec![
        ("daily", "R1 daily report (default: the last date with sales)", vec![p("date", "business date", date)]),
        ("weekly", "Weekly report by ISO week", vec![p("week", "ISO week, e.g. 2026-W44", "^\\d{4}-W\\d{2}$")]),
        ("monthly", "R2 monthly report", vec![p("from", "first month", month), p("to", "last month", month)]),
        ("traffic", "R3 traffic and average-ticket monitor", vec![p("month", "month", month)]),
        ("category", "R4 categories per month", vec![p("from", "first month", month), p("to", "last month", month)]),
        ("rfm", "R5 member RFM scores", vec![p("asof", "as-of date", date)]),
        ("rfm-segments", "R5 RFM segments", vec![p("asof", "as-of date", date)]),
        ("efficiency", "Ten efficiencies over a period", vec![p("from", "first day", date), p("to", "last day", date)]),
        ("regions", "Region comparison for a month", vec![p("month", "month", month)]),
        ("stores", "The store list as a report table", vec![]),
        ("target-plan", "A target plan by store, with region and company totals", vec![p("plan", "plan id", "^\\d+$")]),
        (
            "target-tracking",
            "Each store's month and year against its target on a day: attainment, time progress, forecast, need per day",
            vec![p("plan", "plan id", "^\\d+$"), p("date", "day", date)],
        ),
        (
            "target-alerts",
            "Stores forecast to miss their month",
            vec![p("plan", "plan id", "^\\d+$"), p("date", "day", date)],
        ),
        (
            "target-progress",
            "A month day by day: target, actual, cumulative attainment",
            vec![p("plan", "plan id", "^\\d+$"), p("month", "month", month)],
        ),
        (
            "target-payout",
            "A month's reward and penalty sheet",
            vec![p("plan", "plan id", "^\\d+$"), p("month", "month", month)],
        ),
        ("appraisal-status", "Where each unit of an appraisal cycle stands", vec![p("month", "cycle month", month)]),
        (
            "appraisal-grades",
            "Each unit's grade distribution against the rules",
            vec![p("month", "cycle month", month)],
        ),
        (
            "appraisal-payout",
            "The cycle's performance pay sheet (approved units)",
            vec![p("month", "cycle month", month)],
        ),
        ("appraisal-review-list", "Employees with three grades of C or below in a row", vec![]),
        (
            "appraisal-history",
            "An employee's scores, grades and pay by month",
            vec![p("employee", "employee code", ".+")],
        ),
    ];
    for (name, summary, params) in reports {
        paths.insert(format!("/api/reports/{name}"), report(summary, params));
    }
    paths.insert(
        "/api/stores".into(),
        json!({"get": {"summary": "Stores within reach", "security": [{"bearer": []}],
                        "responses": {"200": {"description": "the stores"}}}}),
    );
    paths.insert(
        "/api/dashboard".into(),
        json!({"get": {"summary": "Yesterday's totals, top and bottom stores, traffic anomalies, within reach",
                        "security": [{"bearer": []}], "responses": {"200": {"description": "the dashboard"}}}}),
    );
    paths.insert(
        "/api/imports".into(),
        json!({"get": {"summary": "The import history within reach, newest first", "security": [{"bearer": []}],
                        "responses": {"200": {"description": "the imports"}}}}),
    );
    paths.insert(
        "/api/me".into(),
        json!({"get": {"summary": "The caller", "security": [{"bearer": []}],
                        "responses": {"200": {"description": "name, role and reach"}}}}),
    );
    Json(json!({
        "openapi": "3.1.0",
        "info": {"title": "opsdesk API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Reports and lists of the operations desk, cut to the token owner's reach. Money in yuan with two decimals; percentages in percent with two decimals."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "a token made under Account → API tokens"}},
            "schemas": {
                "Report": {"type": "object", "required": ["report", "title", "rows", "totals"], "properties": {
                    "report": {"type": "string"}, "title": {"type": "string"},
                    "rows": {"type": "array", "items": {"type": "object"}},
                    "totals": {"type": "array", "items": {"type": "object"}},
                    "note": {"type": ["string", "null"]}}},
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}}
            }
        }
    }))
}
