//! The web desk: routes, sign-in, pages and downloads.
//!
//! Every route is listed once in [`ROUTES`], which builds the router and
//! which the access test walks, so a route cannot be added without saying
//! who may use it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use opsdesk_db::people::Session;
use opsdesk_db::{Db, Scope};
use opsdesk_domain::i18n::Lang;
use serde::Deserialize;

use crate::i18n::{Tr, from_accept_language};
use crate::session::{
    LANG_COOKIE, LOGIN_CSRF_COOKIE, RateLimit, SESSION_COOKIE, cookie, expired, needs_touch, random_token, same,
    set_cookie, token_hash,
};
use crate::{account, api, appraisal, imports, pages, people, staff, stores, targets};

/// How the desk is served.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Mark cookies `Secure` (the desk is behind TLS). Requests that arrive
    /// with `X-Forwarded-Proto: https` get secure cookies in any case.
    pub secure_cookies: bool,
}

pub(crate) struct Inner {
    pub db: Db,
    pub config: Config,
    /// Failed sign-ins per client address…
    pub by_ip: RateLimit,
    /// …and per account name.
    pub by_account: RateLimit,
    pub results: crate::cache::Results,
    pub jobs: crate::imports::Jobs,
    /// Target files checked and waiting to be applied.
    pub pending: crate::targets::PendingImports,
}

pub(crate) type AppState = Arc<Inner>;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user; the data she gets is cut to her reach.
    SignedIn,
    /// A bearer token or a signed-in session; JSON answers, cut to reach.
    Api,
    /// Administrators only.
    Admin,
    /// A signed-in session; JSON answers (the import page's own calls).
    SessionJson,
}

/// Every route: method, path, who may use it, handler.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    handler: fn() -> MethodRouter<AppState>,
}

pub const ROUTES: &[Route] = &[
    Route { method: "GET", path: "/login", access: Access::Public, handler: || get(login_page) },
    Route { method: "POST", path: "/login", access: Access::Public, handler: || post(login) },
    Route { method: "POST", path: "/logout", access: Access::SignedIn, handler: || post(logout) },
    Route { method: "GET", path: "/lang/{code}", access: Access::Public, handler: || get(switch_lang) },
    Route { method: "GET", path: "/static/app.css", access: Access::Public, handler: || get(css) },
    Route { method: "GET", path: "/static/app.js", access: Access::Public, handler: || get(js) },
    Route { method: "GET", path: "/static/vendor/echarts.min.js", access: Access::Public, handler: || get(echarts) },
    Route { method: "GET", path: "/static/vendor/htmx.min.js", access: Access::Public, handler: || get(htmx) },
    Route { method: "GET", path: "/", access: Access::SignedIn, handler: || get(pages::dashboard) },
    Route { method: "GET", path: "/reports/{name}", access: Access::SignedIn, handler: || get(pages::report) },
    Route {
        method: "GET",
        path: "/reports/{name}/download",
        access: Access::SignedIn,
        handler: || get(pages::download),
    },
    Route { method: "GET", path: "/stores/{code}", access: Access::SignedIn, handler: || get(stores::page) },
    Route { method: "GET", path: "/imports", access: Access::SignedIn, handler: || get(imports::page) },
    Route { method: "POST", path: "/imports/upload", access: Access::SessionJson, handler: || post(imports::upload) },
    Route { method: "GET", path: "/imports/jobs/{id}", access: Access::SessionJson, handler: || get(imports::status) },
    Route { method: "GET", path: "/account/tokens", access: Access::SignedIn, handler: || get(account::tokens) },
    Route { method: "POST", path: "/account/tokens", access: Access::SignedIn, handler: || post(account::create) },
    Route {
        method: "POST",
        path: "/account/tokens/{id}/revoke",
        access: Access::SignedIn,
        handler: || post(account::revoke),
    },
    Route { method: "GET", path: "/targets", access: Access::SignedIn, handler: || get(targets::list) },
    Route { method: "POST", path: "/targets", access: Access::SignedIn, handler: || post(targets::create) },
    Route { method: "GET", path: "/targets/{id}", access: Access::SignedIn, handler: || get(targets::plan) },
    Route { method: "POST", path: "/targets/{id}/edit", access: Access::SignedIn, handler: || post(targets::edit) },
    Route { method: "POST", path: "/targets/{id}/lock", access: Access::SignedIn, handler: || post(targets::lock) },
    Route { method: "POST", path: "/targets/{id}/rule", access: Access::SignedIn, handler: || post(targets::rule) },
    Route { method: "POST", path: "/targets/{id}/delete", access: Access::SignedIn, handler: || post(targets::delete) },
    Route {
        method: "POST",
        path: "/targets/{id}/payout",
        access: Access::SignedIn,
        handler: || post(targets::approve),
    },
    Route {
        method: "GET",
        path: "/targets/{id}/download",
        access: Access::SignedIn,
        handler: || get(targets::download),
    },
    Route { method: "POST", path: "/targets/{id}/import", access: Access::SignedIn, handler: || post(targets::import) },
    Route {
        method: "POST",
        path: "/targets/{id}/import/apply",
        access: Access::SignedIn,
        handler: || post(targets::apply),
    },
    Route { method: "GET", path: "/holidays", access: Access::SignedIn, handler: || get(targets::holidays) },
    Route { method: "GET", path: "/appraisal", access: Access::SignedIn, handler: || get(appraisal::list) },
    Route { method: "POST", path: "/appraisal", access: Access::SignedIn, handler: || post(appraisal::open) },
    Route { method: "GET", path: "/appraisal/{month}", access: Access::SignedIn, handler: || get(appraisal::unit) },
    Route {
        method: "POST",
        path: "/appraisal/{month}/score",
        access: Access::SignedIn,
        handler: || post(appraisal::score),
    },
    Route {
        method: "POST",
        path: "/appraisal/{month}/step",
        access: Access::SignedIn,
        handler: || post(appraisal::step),
    },
    Route { method: "POST", path: "/holidays", access: Access::SignedIn, handler: || post(targets::save_holiday) },
    Route { method: "GET", path: "/staff", access: Access::SignedIn, handler: || get(staff::list) },
    Route {
        method: "POST",
        path: "/staff/departments/{id}/head",
        access: Access::SignedIn,
        handler: || post(staff::set_head),
    },
    Route {
        method: "GET",
        path: "/staff/employees/{code}",
        access: Access::SignedIn,
        handler: || get(staff::employee),
    },
    Route {
        method: "POST",
        path: "/staff/employees",
        access: Access::SignedIn,
        handler: || post(staff::save_employee),
    },
    Route { method: "GET", path: "/staff/positions", access: Access::SignedIn, handler: || get(staff::positions) },
    Route {
        method: "POST",
        path: "/staff/positions",
        access: Access::SignedIn,
        handler: || post(staff::save_position),
    },
    Route {
        method: "GET",
        path: "/staff/positions/{code}",
        access: Access::SignedIn,
        handler: || get(staff::position),
    },
    Route {
        method: "POST",
        path: "/staff/positions/{code}/scorecard",
        access: Access::SignedIn,
        handler: || post(staff::save_scorecard),
    },
    Route { method: "GET", path: "/admin/users", access: Access::Admin, handler: || get(people::users) },
    Route { method: "POST", path: "/admin/users", access: Access::Admin, handler: || post(people::add) },
    Route { method: "POST", path: "/admin/users/{id}/role", access: Access::Admin, handler: || post(people::set_role) },
    Route {
        method: "POST",
        path: "/admin/users/{id}/active",
        access: Access::Admin,
        handler: || post(people::set_active),
    },
    Route { method: "GET", path: "/admin/audit", access: Access::Admin, handler: || get(people::audit) },
    Route { method: "GET", path: "/admin/settings", access: Access::Admin, handler: || get(people::settings) },
    Route { method: "POST", path: "/admin/settings", access: Access::Admin, handler: || post(people::save_setting) },
    Route { method: "GET", path: "/api/openapi.json", access: Access::Public, handler: || get(api::openapi) },
    Route { method: "GET", path: "/api/me", access: Access::Api, handler: || get(api::me) },
    Route { method: "GET", path: "/api/dashboard", access: Access::Api, handler: || get(api::dashboard) },
    Route { method: "GET", path: "/api/stores", access: Access::Api, handler: || get(api::stores) },
    Route { method: "GET", path: "/api/imports", access: Access::Api, handler: || get(api::imports) },
    Route { method: "GET", path: "/api/reports/{name}", access: Access::Api, handler: || get(api::report) },
];

/// The router of the desk over `db`.
pub fn router(db: Db, config: Config) -> Router {
    let state = Arc::new(Inner {
        db,
        config,
        by_ip: RateLimit::new(20, Duration::from_secs(15 * 60)),
        by_account: RateLimit::new(5, Duration::from_secs(15 * 60)),
        results: crate::cache::Results::new(),
        jobs: crate::imports::Jobs::default(),
        pending: crate::targets::PendingImports::default(),
    });
    let mut r = Router::new();
    for route in ROUTES {
        r = r.route(route.path, (route.handler)());
    }
    r.fallback(not_found).with_state(state)
}

/// Serves the desk on `listener` until the process is stopped.
pub async fn serve(db: Db, listener: tokio::net::TcpListener, config: Config) -> std::io::Result<()> {
    let app = router(db, config).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}

/// The language of a request: the user's setting, else the language cookie,
/// else the browser's, else Chinese.
pub(crate) fn request_lang(headers: &HeaderMap, session: Option<&Session>) -> Lang {
    session
        .and_then(|s| s.user.lang)
        .or_else(|| cookie(headers, LANG_COOKIE).map(Lang::from_locale))
        .or_else(|| headers.get("accept-language").and_then(|v| v.to_str().ok()).and_then(from_accept_language))
        .unwrap_or(Lang::Zh)
}

fn secure(state: &Inner, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p == "https")
}

/// Why a request fails, and how the desk answers it.
#[derive(Debug)]
pub(crate) enum AppError {
    /// Not signed in (or the session ended): to the sign-in page.
    SignIn {
        next: String,
    },
    /// Signed in, but the page is not for her role.
    Forbidden,
    NotFound,
    BadRequest(String),
    Csrf,
    Internal(String),
}

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }
}

/// A page for an error, in the request's language.
pub(crate) struct Failed {
    pub error: AppError,
    pub lang: Lang,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    c: pages::Chrome,
    heading: &'a str,
    message: &'a str,
}

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        let tr = Tr { lang: self.lang };
        let (status, heading, message) = match &self.error {
            AppError::SignIn { next } => {
                let to = format!("/login?next={}", pages::url_encode(next));
                return (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response();
            }
            AppError::Forbidden => {
                (StatusCode::FORBIDDEN, tr.t("err.forbidden"), tr.t("err.forbidden_text").to_string())
            }
            AppError::NotFound => {
                (StatusCode::NOT_FOUND, tr.t("err.not_found"), tr.t("err.not_found_text").to_string())
            }
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, tr.t("err.bad_request"), m.clone()),
            AppError::Csrf => (StatusCode::FORBIDDEN, tr.t("err.forbidden"), tr.t("err.csrf").to_string()),
            AppError::Internal(detail) => {
                eprintln!("opsdesk: internal error: {detail}");
                (StatusCode::INTERNAL_SERVER_ERROR, tr.t("err.internal"), tr.t("err.internal_text").to_string())
            }
        };
        let page = ErrorPage { c: pages::Chrome::anonymous(tr, "/"), heading, message: &message };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, heading.to_string()).into_response(),
        }
    }
}

/// The signed-in user of a request, with what every page needs.
pub(crate) struct SignedIn {
    pub session: Session,
    pub scope: Scope,
    pub tr: Tr,
}

/// The session of the request, if it has a live one. A session past its
/// timeouts is ended here.
pub(crate) async fn session_of(state: &Inner, headers: &HeaderMap) -> Result<Option<Session>, AppError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let Some(s) = state.db.session(&token_hash(token)).await.map_err(AppError::internal)? else { return Ok(None) };
    if expired(&s) {
        state.db.end_session(&s, false).await.map_err(AppError::internal)?;
        return Ok(None);
    }
    if needs_touch(&s) {
        state.db.touch_session(&s.token_hash).await.map_err(AppError::internal)?;
    }
    Ok(Some(s))
}

/// The signed-in user, or a failure that sends the browser to sign in.
pub(crate) async fn signed_in(state: &Inner, headers: &HeaderMap, here: &str) -> Result<SignedIn, Failed> {
    let lang = request_lang(headers, None);
    match session_of(state, headers).await {
        Ok(Some(session)) => {
            let tr = Tr { lang: request_lang(headers, Some(&session)) };
            Ok(SignedIn { scope: session.user.scope(), session, tr })
        }
        Ok(None) => Err(Failed { error: AppError::SignIn { next: here.to_string() }, lang }),
        Err(error) => Err(Failed { error, lang }),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only a path on this site: never an open redirect.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') { next.to_string() } else { "/".into() }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: pages::Chrome,
    csrf: String,
    next: String,
    name: String,
    error: Option<String>,
}

fn login_form(state: &Inner, headers: &HeaderMap, status: StatusCode, page: LoginPage) -> Response {
    let mut h = HeaderMap::new();
    set_cookie(&mut h, LOGIN_CSRF_COOKIE, &page.csrf, None, secure(state, headers));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    match page.render() {
        Ok(html) => (status, h, Html(html)).into_response(),
        Err(e) => Failed { error: AppError::internal(e), lang: page.c.tr.lang }.into_response(),
    }
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let tr = Tr { lang: request_lang(&headers, None) };
    let next = safe_next(&q.next);
    let page = LoginPage {
        c: pages::Chrome::anonymous(tr, &format!("/login?next={}", pages::url_encode(&next))),
        csrf: random_token(),
        next,
        name: String::new(),
        error: None,
    };
    login_form(&state, &headers, StatusCode::OK, page)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let tr = Tr { lang: request_lang(&headers, None) };
    let ip = peer.ip().to_string();
    let next = safe_next(&f.next);
    let again = |error: &str, status: StatusCode| {
        let page = LoginPage {
            c: pages::Chrome::anonymous(tr, "/login"),
            csrf: random_token(),
            next: next.clone(),
            name: f.name.clone(),
            error: Some(error.to_string()),
        };
        login_form(&state, &headers, status, page)
    };
    // The form must come from our own sign-in page (double-submit token).
    if f.csrf.is_empty() || !cookie(&headers, LOGIN_CSRF_COOKIE).is_some_and(|c| same(c, &f.csrf)) {
        return again(tr.t("login.expired"), StatusCode::FORBIDDEN);
    }
    let account = f.name.trim().to_string();
    if !state.by_ip.allows(&ip) || !state.by_account.allows(&account) {
        return again(tr.t("login.too_many"), StatusCode::TOO_MANY_REQUESTS);
    }
    let user = match state.db.user_by_name(&account).await {
        Ok(u) => u.filter(|u| u.active),
        Err(e) => return Failed { error: AppError::internal(e), lang: tr.lang }.into_response(),
    };
    let password = f.password.clone();
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    // Verify off the async threads; an unknown name costs the same time.
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(h) => crate::auth::verify_password(&password, &h),
        None => {
            let _ = crate::auth::hash_password(&password);
            false
        }
    })
    .await
    .unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        state.by_ip.fail(&ip);
        state.by_account.fail(&account);
        if let Err(e) = state.db.record_failed_sign_in(&account, &ip).await {
            return Failed { error: AppError::internal(e), lang: tr.lang }.into_response();
        }
        return again(tr.t("login.failed"), StatusCode::UNAUTHORIZED);
    };
    state.by_account.clear(&account);
    // A new token at every sign-in: a session id planted before cannot be kept.
    let token = random_token();
    if let Err(e) = state.db.create_session(&user, &token_hash(&token), &random_token(), &ip).await {
        return Failed { error: AppError::internal(e), lang: tr.lang }.into_response();
    }
    let mut h = HeaderMap::new();
    let secure = secure(&state, &headers);
    set_cookie(&mut h, SESSION_COOKIE, &token, None, secure);
    set_cookie(&mut h, LOGIN_CSRF_COOKIE, "", Some(0), secure);
    if let Ok(v) = HeaderValue::from_str(&next) {
        h.insert(LOCATION, v);
    }
    (StatusCode::SEE_OTHER, h).into_response()
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Checks the form's CSRF token against the session's.
pub(crate) fn check_csrf(who: &SignedIn, token: &str) -> Result<(), Failed> {
    if same(&who.session.csrf, token) && !token.is_empty() {
        Ok(())
    } else {
        Err(Failed { error: AppError::Csrf, lang: who.tr.lang })
    }
}

/// The signed-in user of a form post whose CSRF token matches her session's.
pub(crate) async fn signed_in_form(
    state: &Inner,
    headers: &HeaderMap,
    here: &str,
    csrf: &str,
) -> Result<SignedIn, Response> {
    let who = signed_in(state, headers, here).await.map_err(IntoResponse::into_response)?;
    check_csrf(&who, csrf).map_err(IntoResponse::into_response)?;
    Ok(who)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    let who = match signed_in_form(&state, &headers, "/", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    if let Err(e) = state.db.end_session(&who.session, true).await {
        return Failed { error: AppError::internal(e), lang: who.tr.lang }.into_response();
    }
    let mut h = HeaderMap::new();
    set_cookie(&mut h, SESSION_COOKIE, "", Some(0), secure(&state, &headers));
    h.insert(LOCATION, HeaderValue::from_static("/login"));
    (StatusCode::SEE_OTHER, h).into_response()
}

async fn switch_lang(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let lang = match code.as_str() {
        "zh" => "zh",
        "en" => "en",
        _ => return Failed { error: AppError::NotFound, lang: request_lang(&headers, None) }.into_response(),
    };
    // A signed-in user keeps her choice on every device.
    if let Ok(Some(s)) = session_of(&state, &headers).await
        && let Err(e) = state.db.set_user_lang(&s.user, Lang::from_locale(lang)).await
    {
        return Failed { error: AppError::internal(e), lang: Lang::from_locale(lang) }.into_response();
    }
    let mut h = HeaderMap::new();
    set_cookie(&mut h, LANG_COOKIE, lang, Some(365 * 24 * 3600), secure(&state, &headers));
    if let Ok(v) = HeaderValue::from_str(&safe_next(&q.next)) {
        h.insert(LOCATION, v);
    }
    (StatusCode::SEE_OTHER, h).into_response()
}

/// An embedded file: our own for an hour, vendored libraries for a day.
fn asset(content_type: &'static str, max_age: u32, body: &'static str) -> Response {
    let cache = if max_age >= 86_400 { "public, max-age=86400" } else { "public, max-age=3600" };
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, cache)], body).into_response()
}

const JS: &str = "text/javascript; charset=utf-8";

async fn css() -> Response {
    asset("text/css; charset=utf-8", 3600, include_str!("../static/app.css"))
}

async fn js() -> Response {
    asset(JS, 3600, include_str!("../static/app.js"))
}

async fn echarts() -> Response {
    asset(JS, 86_400, include_str!("../static/vendor/echarts.min.js"))
}

async fn htmx() -> Response {
    asset(JS, 86_400, include_str!("../static/vendor/htmx.min.js"))
}

async fn not_found(headers: HeaderMap) -> Response {
    Failed { error: AppError::NotFound, lang: request_lang(&headers, None) }.into_response()
}

/// A file to download.
pub(crate) fn attachment(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    (StatusCode::OK, h, Body::from(bytes)).into_response()
}
