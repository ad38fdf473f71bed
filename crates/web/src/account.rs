//! The user's own account: API tokens.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::pages::Chrome;
use crate::server::{AppError, AppState, Failed, SignedIn, signed_in, signed_in_form};
use crate::session::{random_token, token_hash};

struct TokenView {
    id: i64,
    name: String,
    created: String,
    used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    c: Chrome,
    tokens: Vec<TokenView>,
    new_token: Option<String>,
    error: Option<String>,
}

async fn page(state: &AppState, who: &SignedIn, new_token: Option<String>, error: Option<String>) -> Response {
    let fail = |e: AppError| Failed { error: e, lang: who.tr.lang }.into_response();
    let tokens = match state.db.api_tokens(&who.session.user).await {
        Ok(t) => t,
        Err(e) => return fail(AppError::internal(e)),
    };
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string();
    let tokens = tokens
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            created: fmt(t.created_at),
            used: t.last_used_at.map(fmt).unwrap_or_else(|| "—".into()),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let c = Chrome::of(who, "nav.tokens", "/account/tokens".into());
    match (TokensPage { c, tokens, new_token, error }).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => fail(AppError::internal(e)),
    }
}

pub(crate) async fn tokens(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers, "/account/tokens").await {
        Ok(who) => page(&state, &who, None, None).await,
        Err(f) => f.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct NewToken {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

pub(crate) async fn create(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<NewToken>) -> Response {
    let who = match signed_in_form(&state, &headers, "/account/tokens", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let token = format!("odk_{}", random_token());
    match state.db.create_api_token(&who.session.user, &f.name, &token_hash(&token)).await {
        Ok(_) => page(&state, &who, Some(token), None).await,
        Err(e) => page(&state, &who, None, Some(e.message(who.tr.lang))).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let who = match signed_in_form(&state, &headers, "/account/tokens", &f.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    match state.db.revoke_api_token(&who.session.user, id).await {
        Ok(true) => (StatusCode::SEE_OTHER, [(LOCATION, "/account/tokens")]).into_response(),
        Ok(false) => Failed { error: AppError::NotFound, lang: who.tr.lang }.into_response(),
        Err(e) => Failed { error: AppError::internal(e), lang: who.tr.lang }.into_response(),
    }
}
