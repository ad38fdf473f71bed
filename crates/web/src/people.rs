//! People (人员) in the desk: administrators add users, set their role and
//! reach, stop them, and read the audit log. Administrators only.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{Html, IntoResponse, Response};
use opsdesk_db::people::{NewUser, ReachRef};
use opsdesk_domain::people::{ReachKind, Role, password_problem};
use serde::Deserialize;

use crate::pages::Chrome;
use crate::server::{AppError, AppState, Failed, SignedIn, signed_in, signed_in_form};

/// The signed-in administrator, or a refusal.
async fn admin(state: &AppState, headers: &HeaderMap, here: &str) -> Result<SignedIn, Response> {
    let who = signed_in(state, headers, here).await.map_err(IntoResponse::into_response)?;
    refuse_unless_admin(who).map_err(IntoResponse::into_response)
}

/// The administrator who sent a form with her session's CSRF token.
async fn admin_form(state: &AppState, headers: &HeaderMap, csrf: &str) -> Result<SignedIn, Response> {
    refuse_unless_admin(signed_in_form(state, headers, "/admin/users", csrf).await?)
        .map_err(IntoResponse::into_response)
}

fn refuse_unless_admin(who: SignedIn) -> Result<SignedIn, Failed> {
    if !who.session.user.role.administers() {
        return Err(Failed { error: AppError::Forbidden, lang: who.tr.lang });
    }
    Ok(who)
}

struct UserView {
    id: i64,
    name: String,
    role: &'static str,
    role_key: &'static str,
    reach: String,
    reach_ref: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserView>,
    roles: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    done: Option<String>,
}

async fn users_page(state: &AppState, who: &SignedIn, error: Option<String>, done: Option<String>) -> Response {
    let lang = who.tr.lang;
    let fail = |e: AppError| Failed { error: e, lang }.into_response();
    let (users, stores, regions) =
        match (state.db.users().await, state.db.stores(&who.scope).await, state.db.regions().await) {
            (Ok(u), Ok(s), Ok(r)) => (u, s, r),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return fail(AppError::internal(e)),
        };
    let users = users
        .into_iter()
        .map(|u| {
            let store = u.store_id.and_then(|id| stores.iter().find(|s| s.id == id)).map(|s| s.code.clone());
            let region = u.region_id.and_then(|id| regions.iter().find(|r| r.id == id)).map(|r| r.name.clone());
            let reach_ref = store.or(region).unwrap_or_default();
            UserView {
                id: u.id,
                role: u.role.label(lang),
                role_key: u.role.key(),
                reach: if reach_ref.is_empty() { who.tr.t("dash.reach_all").to_string() } else { reach_ref.clone() },
                reach_ref,
                active: u.active,
                name: u.name,
            }
        })
        .collect();
    let roles = Role::ALL.iter().map(|r| (r.key(), r.label(lang))).collect();
    let c = Chrome::of(who, "nav.users", "/admin/users".into());
    match (UsersPage { c, users, roles, error, done }).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => fail(AppError::internal(e)),
    }
}

pub(crate) async fn users(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match admin(&state, &headers, "/admin/users").await {
        Ok(who) => users_page(&state, &who, None, None).await,
        Err(r) => r,
    }
}

fn reach_ref(role: Role, reach: &str) -> ReachRef {
    let reach = reach.trim();
    match role.reach_kind() {
        _ if reach.is_empty() => ReachRef::None,
        ReachKind::Region => ReachRef::Region(reach.to_string()),
        // A store code for a store manager; for the others a reach they
        // should not have, which the database refuses with its reason.
        _ => ReachRef::Store(reach.to_string()),
    }
}

#[derive(Deserialize)]
pub(crate) struct AddUser {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    reach: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn add(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<AddUser>) -> Response {
    let who = match admin_form(&state, &headers, &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let lang = who.tr.lang;
    let Some(role) = Role::parse(&f.role) else {
        return users_page(&state, &who, Some(format!("{}: {}", who.tr.t("admin.role"), f.role)), None).await;
    };
    if let Some(p) = password_problem(&f.password, &f.name, lang) {
        return users_page(&state, &who, Some(p.to_string()), None).await;
    }
    let password = f.password.clone();
    let hash = match tokio::task::spawn_blocking(move || crate::auth::hash_password(&password)).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return Failed { error: AppError::internal(e), lang }.into_response(),
        Err(e) => return Failed { error: AppError::internal(e), lang }.into_response(),
    };
    let new = NewUser { name: f.name.trim().to_string(), role, reach: reach_ref(role, &f.reach), password_hash: hash };
    match state.db.create_user(&who.scope, &new).await {
        Ok(u) => users_page(&state, &who, None, Some(format!("{}: {}", who.tr.t("admin.added"), u.name))).await,
        Err(e) => users_page(&state, &who, Some(e.message(lang)), None).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct SetRole {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    reach: String,
}

pub(crate) async fn set_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<SetRole>,
) -> Response {
    let who = match admin_form(&state, &headers, &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(role) = Role::parse(&f.role) else {
        return users_page(&state, &who, Some(format!("{}: {}", who.tr.t("admin.role"), f.role)), None).await;
    };
    match state.db.set_user_role(&who.scope, id, role, &reach_ref(role, &f.reach)).await {
        Ok(_) => (StatusCode::SEE_OTHER, [(LOCATION, "/admin/users")]).into_response(),
        Err(e) => users_page(&state, &who, Some(e.message(who.tr.lang)), None).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct SetActive {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    active: String,
}

pub(crate) async fn set_active(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<SetActive>,
) -> Response {
    let who = match admin_form(&state, &headers, &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    match state.db.set_user_active(&who.scope, id, f.active == "true").await {
        Ok(()) => (StatusCode::SEE_OTHER, [(LOCATION, "/admin/users")]).into_response(),
        Err(e) => users_page(&state, &who, Some(e.message(who.tr.lang)), None).await,
    }
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    c: Chrome,
    /// When, who, what, object, before, after.
    events: Vec<(String, String, String, String, String, String)>,
}

pub(crate) async fn audit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = match admin(&state, &headers, "/admin/audit").await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let lang = who.tr.lang;
    let events = match state.db.audit_events(&who.scope, 500).await {
        Ok(e) => e,
        Err(e) => return Failed { error: AppError::internal(e), lang }.into_response(),
    };
    let events = events
        .into_iter()
        .map(|e| {
            let at = e.at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S").to_string();
            let object = format!("{} {}", e.entity, e.entity_id);
            (at, e.actor, e.action, object, e.before.unwrap_or_default(), e.after.unwrap_or_default())
        })
        .collect();
    let c = Chrome::of(&who, "nav.audit", "/admin/audit".into());
    match (AuditPage { c, events }).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => Failed { error: AppError::internal(e), lang }.into_response(),
    }
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    c: Chrome,
    /// Key, what it means, the value in force, the default.
    settings: Vec<(&'static str, String, String, &'static str)>,
    error: Option<String>,
    done: Option<String>,
}

async fn settings_page(state: &AppState, who: &SignedIn, error: Option<String>, done: Option<String>) -> Response {
    let mut settings = Vec::new();
    for (key, default) in opsdesk_db::settings::KNOWN {
        let value = match state.db.setting(key).await {
            Ok(v) => v.unwrap_or_else(|| default.to_string()),
            Err(e) => return Failed { error: AppError::internal(e), lang: who.tr.lang }.into_response(),
        };
        settings.push((*key, who.tr.t(&format!("setting.{key}")).to_string(), value, *default));
    }
    let c = Chrome::of(who, "nav.settings", "/admin/settings".into());
    crate::pages::render(who, SettingsPage { c, settings, error, done })
}

/// The settings an administrator may change: appraisal policy, executives,
/// line detail. Each value is checked before it is saved, and audited.
pub(crate) async fn settings(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match admin(&state, &headers, "/admin/settings").await {
        Ok(who) => settings_page(&state, &who, None, None).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub(crate) struct SetSetting {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
}

pub(crate) async fn save_setting(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SetSetting>,
) -> Response {
    let who = match admin_form(&state, &headers, &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    match state.db.set_setting(&who.scope, f.key.trim(), f.value.trim()).await {
        Ok(()) => {
            let done = format!("{}: {} = {}", who.tr.t("admin.saved"), f.key.trim(), f.value.trim());
            settings_page(&state, &who, None, Some(done)).await
        }
        Err(e) => settings_page(&state, &who, Some(e.message(who.tr.lang)), None).await,
    }
}
