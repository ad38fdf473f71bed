//! The page of one store: its month so far and rank, its last 30 days, its
//! traffic anomalies. Refused for a store outside the user's reach.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use chrono::Duration;
use opsdesk_db::Scope;
use opsdesk_domain::calendar::month_start;
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::money::hundredths;
use opsdesk_domain::rdiv;
use opsdesk_domain::reports::traffic::{Flag, traffic_rows};
use serde_json::json;

use crate::pages::{Chrome, pct_text};
use crate::reports;
use crate::server::{AppError, AppState, Failed, signed_in};

#[derive(Template)]
#[template(path = "store.html")]
struct StorePage {
    c: Chrome,
    code: String,
    name: String,
    region: String,
    opened: String,
    area: i64,
    staff: i64,
    /// Label key, value, detail, detail class.
    kpis: Vec<(&'static str, String, String, &'static str)>,
    /// The chart's data as JSON; the same numbers are in `days`.
    chart: String,
    /// Date, revenue, tickets, AOV.
    days: Vec<(String, String, i64, String)>,
    /// Date, tickets, baseline, flag.
    anomalies: Vec<(String, i64, String, &'static str)>,
}

pub(crate) async fn page(State(state): State<AppState>, headers: HeaderMap, Path(code): Path<String>) -> Response {
    let here = format!("/stores/{code}");
    let who = match signed_in(&state, &headers, &here).await {
        Ok(w) => w,
        Err(f) => return f.into_response(),
    };
    let tr = who.tr;
    let fail = |e: AppError| Failed { error: e, lang: tr.lang }.into_response();
    let db = &state.db;
    // Whether the store exists at all is no secret; its figures are.
    let everyone = Scope::system("store-page");
    let all = match db.stores(&everyone).await {
        Ok(s) => s,
        Err(e) => return fail(AppError::internal(e)),
    };
    let Some(store) = all.iter().find(|s| s.code == code) else { return fail(AppError::NotFound) };
    let mine = match db.store_codes(&who.scope).await {
        Ok(m) => m,
        Err(e) => return fail(AppError::internal(e)),
    };
    if !mine.contains_key(&code) {
        return fail(AppError::Forbidden);
    }
    let Some(last) = (match db.last_sales_date(&who.scope).await {
        Ok(d) => d,
        Err(e) => return fail(AppError::internal(e)),
    }) else {
        return fail(AppError::BadRequest(tr.t("dash.no_data").into()));
    };
    // Her store's line of the daily report, and its rank in the chain by
    // month-to-date revenue (the rank alone shows nothing of other stores).
    let daily = match reports::daily(db, &everyone, Some(last)).await {
        Ok(r) => r,
        Err(e) => return fail(AppError::internal(e.message(Lang::En))),
    };
    let mut by_mtd: Vec<(i64, &str)> = daily.stores.iter().map(|r| (r.mtd_revenue, r.label.as_str())).collect();
    by_mtd.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.as_bytes().cmp(b.1.as_bytes())));
    let rank = by_mtd.iter().position(|(_, c)| *c == code).map(|i| i + 1);
    let row = daily.stores.iter().find(|r| r.label == code);
    let mut kpis = Vec::new();
    if let Some(r) = row {
        let (lw, lw_class) = pct_text(r.lw_pct);
        kpis.push((
            "dash.revenue",
            crate::i18n::group_digits(&hundredths(r.revenue), tr.lang),
            format!("{} {} {lw}", last, tr.t("dash.vs_lw")),
            lw_class,
        ));
        kpis.push(("dash.tickets", r.tickets.to_string(), String::new(), ""));
        kpis.push(("dash.aov", r.aov.map(hundredths).unwrap_or_default(), String::new(), ""));
        kpis.push(("dash.mtd", crate::i18n::group_digits(&hundredths(r.mtd_revenue), tr.lang), String::new(), ""));
    }
    if let Some(n) = rank {
        let of = tr.t("store.rank_of").replace("{n}", &by_mtd.len().to_string());
        kpis.push(("store.rank", n.to_string(), of, ""));
    }
    // The last 30 days, and the month's anomalies against 8-week baselines.
    let from = (last - Duration::days(29)).min(month_start(last));
    let days = match db.store_days(&who.scope, from - Duration::days(56), last).await {
        Ok(d) => d.into_iter().find(|(c, _)| *c == code).map(|(_, d)| d).unwrap_or_default(),
        Err(e) => return fail(AppError::internal(e)),
    };
    let recent: Vec<_> = days.iter().filter(|d| d.date > last - Duration::days(30)).collect();
    let chart = json!({
        "x": recent.iter().map(|d| d.date.format("%m-%d").to_string()).collect::<Vec<_>>(),
        "y": [tr.t("dash.revenue"), tr.t("dash.tickets")],
        "series": [
            {"name": tr.t("dash.revenue"), "type": "bar", "data": recent.iter().map(|d| d.revenue as f64 / 100.0).collect::<Vec<_>>()},
            {"name": tr.t("dash.tickets"), "type": "line", "y": 1, "data": recent.iter().map(|d| d.tickets).collect::<Vec<_>>()},
        ]
    })
    .to_string();
    let table = recent
        .iter()
        .rev()
        .map(|d| {
            let aov = rdiv(i128::from(d.revenue), i128::from(d.tickets)).map(hundredths).unwrap_or_default();
            (d.date.to_string(), crate::i18n::group_digits(&hundredths(d.revenue), tr.lang), d.tickets, aov)
        })
        .collect();
    let anomalies = traffic_rows(&days, month_start(last), last)
        .into_iter()
        .filter(|r| matches!(r.flag, Flag::High | Flag::Low))
        .map(|r| {
            let flag = tr.t(if r.flag == Flag::High { "flag.high" } else { "flag.low" });
            (r.date.to_string(), r.tickets, r.baseline_mean.map(hundredths).unwrap_or_default(), flag)
        })
        .collect();
    let page = StorePage {
        c: Chrome::of(&who, "nav.stores", here),
        code: store.code.clone(),
        name: store.name.clone(),
        region: store.region_path.join("/"),
        opened: store.open_date.to_string(),
        area: store.area_sqm,
        staff: store.staff_count,
        kpis,
        chart,
        days: table,
        anomalies,
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => fail(AppError::internal(e)),
    }
}
