//! The import page: a file uploaded from the browser is imported in the
//! background while the page follows its progress; the history lists every
//! import within reach.

use std::collections::HashMap;
use std::path::Path as FsPath;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use opsdesk_db::people::User;
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::money::hundredths;
use opsdesk_ingest::{ImportOptions, ImportSummary, IngestError, Outcome, Progress};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::pages::Chrome;
use crate::server::{AppError, AppState, Failed, signed_in};
use crate::session::{random_token, same};

/// The largest file the desk takes (a year of a large chain's POS lines).
const MAX_UPLOAD: u64 = 4 << 30;

/// An import running in the background.
pub(crate) struct Job {
    owner: i64,
    lang: Lang,
    progress: Mutex<Progress>,
    result: Mutex<Option<Value>>,
}

/// The imports of this server, by job id.
#[derive(Default)]
pub(crate) struct Jobs(Mutex<HashMap<String, Arc<Job>>>);

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    c: Chrome,
    may_import: bool,
    history: Vec<HistoryRow>,
}

/// When, kind, file, who, result, rows, new, replaced, dates.
type HistoryRow = (String, String, String, String, String, i64, i64, i64, String);

pub(crate) async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = match signed_in(&state, &headers, "/imports").await {
        Ok(w) => w,
        Err(f) => return f.into_response(),
    };
    let lang = who.tr.lang;
    let records = match state.db.imports(&who.scope, 100).await {
        Ok(r) => r,
        Err(e) => return Failed { error: AppError::internal(e), lang }.into_response(),
    };
    let history = records
        .into_iter()
        .map(|r| {
            let dates = match (r.first_date, r.last_date) {
                (Some(a), Some(b)) => format!("{a} … {b}"),
                _ => String::new(),
            };
            let at = r.started_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string();
            (at, r.kind, r.file_name, r.actor, r.result, r.rows_imported, r.pairs_new, r.pairs_replaced, dates)
        })
        .collect();
    let c = Chrome::of(&who, "nav.imports", "/imports".into());
    match (ImportsPage { c, may_import: who.session.user.role.imports(), history }).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => Failed { error: AppError::internal(e), lang }.into_response(),
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    crate::api::ApiError(status, message.into()).into_response()
}

#[derive(Deserialize)]
pub(crate) struct UploadQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

/// A file name safe to keep: its last component, without path characters.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String =
        base.chars().filter(|c| !c.is_control() && !matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|')).collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    if clean.is_empty() { "upload.csv".into() } else { clean.chars().take(120).collect() }
}

/// Receives a file (the request body) and starts importing it.
pub(crate) async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<UploadQuery>,
    body: Body,
) -> Response {
    let who = match signed_in(&state, &headers, "/imports").await {
        Ok(w) => w,
        Err(_) => return error(StatusCode::UNAUTHORIZED, "sign in first"),
    };
    let tr = who.tr;
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if token.is_empty() || !same(token, &who.session.csrf) {
        return error(StatusCode::FORBIDDEN, tr.t("err.csrf"));
    }
    if !who.session.user.role.imports() {
        return error(StatusCode::FORBIDDEN, tr.t("imp.not_allowed"));
    }
    if !matches!(q.kind.as_str(), "sales" | "stores" | "daily" | "positions" | "employees") {
        return error(StatusCode::BAD_REQUEST, format!("kind: '{}'", q.kind));
    }
    // The file keeps its own name: the history shows what the user sent.
    let dir = std::env::temp_dir().join(format!("opsdesk-upload-{}", random_token()));
    let path = dir.join(safe_name(&q.name));
    match save(body, &dir, &path).await {
        Ok(0) => {
            let _ = tokio::fs::remove_dir_all(&dir).await;
            return error(StatusCode::BAD_REQUEST, tr.t("imp.no_file"));
        }
        Ok(_) => {}
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&dir).await;
            return error(StatusCode::BAD_REQUEST, e);
        }
    }
    let id = random_token();
    let job = Arc::new(Job {
        owner: who.session.user.id,
        lang: tr.lang,
        progress: Mutex::new(Progress { done: 0, total: 0, rows: 0 }),
        result: Mutex::new(None),
    });
    {
        let mut jobs = state.jobs.0.lock().unwrap_or_else(|e| e.into_inner());
        // Finished imports are kept for their pages to read, a hundred at most.
        if jobs.len() >= 100 {
            jobs.retain(|_, j| j.result.lock().map(|r| r.is_none()).unwrap_or(false));
        }
        jobs.insert(id.clone(), job.clone());
    }
    let user = who.session.user.clone();
    let kind = q.kind.clone();
    tokio::spawn(async move {
        let result = run(&state, &user, &kind, &path, &job).await;
        *job.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        let _ = tokio::fs::remove_dir_all(&dir).await;
    });
    Json(json!({ "job": id })).into_response()
}

/// Streams the body to `path`; the bytes written.
async fn save(body: Body, dir: &FsPath, path: &FsPath) -> Result<u64, String> {
    use http_body_util::BodyExt;
    tokio::fs::create_dir_all(dir).await.map_err(|e| e.to_string())?;
    let mut file = tokio::fs::File::create(path).await.map_err(|e| e.to_string())?;
    let mut body = body;
    let mut written = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Some(data) = frame.data_ref() {
            written += data.len() as u64;
            if written > MAX_UPLOAD {
                return Err(format!("the file is larger than {} GB", MAX_UPLOAD >> 30));
            }
            file.write_all(data).await.map_err(|e| e.to_string())?;
        }
    }
    file.flush().await.map_err(|e| e.to_string())?;
    Ok(written)
}

async fn run(state: &AppState, user: &User, kind: &str, path: &FsPath, job: &Arc<Job>) -> Value {
    let lang = job.lang;
    let report = |p: Progress| *job.progress.lock().unwrap_or_else(|e| e.into_inner()) = p;
    let opts = ImportOptions { lang, progress: Some(&report), ..ImportOptions::default() };
    let scope = user.scope();
    let result = match kind {
        "sales" => opsdesk_ingest::sales::import_sales(&state.db, &scope, path, &opts).await,
        "stores" => opsdesk_ingest::stores::import_stores(&state.db, &scope, path, &opts).await,
        "positions" => opsdesk_ingest::staff::import_positions(&state.db, &scope, path, &opts).await,
        "employees" => opsdesk_ingest::staff::import_employees(&state.db, &scope, path, &opts).await,
        _ => opsdesk_ingest::daily::import_daily(&state.db, &scope, path, &opts).await,
    };
    outcome(result, lang)
}

fn outcome(result: Result<ImportSummary, IngestError>, lang: Lang) -> Value {
    let s = match result {
        Ok(s) => s,
        Err(e) => return json!({ "ok": false, "message": e.message(lang), "errors": [] }),
    };
    let errors: Vec<Value> = s
        .errors
        .errors
        .iter()
        .take(500)
        .map(|e| json!({"row": e.row, "line": e.line, "column": e.column, "value": e.value, "reason": e.reason}))
        .collect();
    let message = match s.outcome {
        // Stores, positions, employees: records added, updated, unchanged.
        Outcome::Imported if s.records.is_some() => {
            let c = s.records.unwrap_or_default();
            lang.pick(
                &format!("已导入 {}：新增 {}，更新 {}，未变 {}", s.file_name, c.added, c.updated, c.unchanged),
                &format!(
                    "imported {}: {} added, {} updated, {} unchanged",
                    s.file_name, c.added, c.updated, c.unchanged
                ),
            )
            .to_string()
        }
        Outcome::Imported => lang
            .pick(
                &format!(
                    "已导入 {}：{} 行，新增 {} 个门店·日，替换 {} 个；销售额 {} 元（编码 {}，用时 {:.1} 秒）",
                    s.file_name,
                    s.rows_imported,
                    s.pairs_new,
                    s.pairs_replaced,
                    hundredths(s.revenue),
                    s.encoding.label(),
                    s.duration.as_secs_f64()
                ),
                &format!(
                    "imported {}: {} rows, {} store-days new, {} replaced; revenue {} yuan (encoding {}, {:.1} s)",
                    s.file_name,
                    s.rows_imported,
                    s.pairs_new,
                    s.pairs_replaced,
                    hundredths(s.revenue),
                    s.encoding.label(),
                    s.duration.as_secs_f64()
                ),
            )
            .to_string(),
        Outcome::AlreadyImported => lang
            .pick(
                &format!("{} 以前已导入过，没有任何改变", s.file_name),
                &format!("{} was imported before; nothing changed", s.file_name),
            )
            .to_string(),
        Outcome::Refused => lang
            .pick(
                &format!("{} 有 {} 处错误，整个文件没有导入；改正后再导入", s.file_name, s.errors.total),
                &format!(
                    "{} has {} errors; nothing was imported. Fix them and import again",
                    s.file_name, s.errors.total
                ),
            )
            .to_string(),
    };
    json!({
        "ok": s.outcome != Outcome::Refused,
        "outcome": format!("{:?}", s.outcome),
        "message": message,
        "rows": s.rows_read,
        "errors": errors,
        "error_total": s.errors.total,
    })
}

/// How far an import has come, for its owner.
pub(crate) async fn status(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let who = match signed_in(&state, &headers, "/imports").await {
        Ok(w) => w,
        Err(_) => return error(StatusCode::UNAUTHORIZED, "sign in first"),
    };
    let job = state.jobs.0.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned();
    let Some(job) = job.filter(|j| j.owner == who.session.user.id) else {
        return error(StatusCode::NOT_FOUND, who.tr.t("err.not_found"));
    };
    let p = *job.progress.lock().unwrap_or_else(|e| e.into_inner());
    let result = job.result.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut v = json!({ "finished": result.is_some(), "done": p.done, "total": p.total, "rows": p.rows });
    if let Some(Value::Object(r)) = result {
        for (k, x) in r {
            v[k] = x;
        }
    }
    Json(v).into_response()
}
