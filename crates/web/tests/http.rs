//! The desk over real HTTP: a real server on port 0, a real database (both
//! backends), requests as a browser sends them.

mod common;

use common::{Browser, PASSWORDS, browse, data, desk, hidden, password, staff};
use opsdesk_db::testing::TestDb;
use opsdesk_db::{Backend, Scope};
use opsdesk_web::server::{Access, ROUTES};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_and_out() {
    for backend in TestDb::backends() {
        let (addr, db, _url, _guard) = desk(backend).await;
        browse(move || {
            let mut b = Browser::new(addr);
            // Not signed in: every page sends to the sign-in page, and back after.
            let r = b.get("/reports/daily?date=2026-10-31");
            assert_eq!((r.status, r.header("location")), (303, Some("/login?next=%2Freports%2Fdaily")));

            let r = b.sign_in("admin", "wrong password!");
            assert_eq!(r.status, 401);
            assert!(r.text().contains("Wrong user name or password"));
            assert!(!b.cookies.contains_key("opsdesk_session"));

            let r = b.sign_in("admin", password("admin"));
            assert_eq!((r.status, r.header("location")), (303, Some("/")), "{backend:?}");
            let set = r.headers.iter().find(|(k, v)| k == "set-cookie" && v.starts_with("opsdesk_session=")).unwrap();
            assert!(set.1.contains("HttpOnly") && set.1.contains("SameSite=Lax"), "{}", set.1);
            let first = b.cookies["opsdesk_session"].clone();
            let home = b.get("/");
            assert_eq!(home.status, 200);
            assert!(home.text().contains("admin") && home.text().contains("Yesterday"));

            // Signing in again gives a new session id.
            assert_eq!(b.sign_in("admin", password("admin")).status, 303);
            assert_ne!(b.cookies["opsdesk_session"], first);

            // Sign-out needs the page's token, and then the session is gone.
            let token = b.csrf();
            assert_eq!(b.post("/logout", &[("csrf", "forged")]).status, 403);
            assert_eq!(b.get("/").status, 200, "a refused sign-out leaves the session");
            let kept = b.cookies["opsdesk_session"].clone();
            let r = b.post("/logout", &[("csrf", &token)]);
            assert_eq!((r.status, r.header("location")), (303, Some("/login")));
            assert_eq!(b.get("/").status, 303);
            // The old cookie, replayed, is dead.
            b.cookies.insert("opsdesk_session".into(), kept);
            assert_eq!(b.get("/").status, 303);
        })
        .await;
        let events = db.audit_events(&Scope::system("test"), 50).await.unwrap();
        let count = |a: &str| events.iter().filter(|e| e.action == a).count();
        assert_eq!((count("sign-in"), count("sign-in-failed"), count("sign-out")), (2, 1, 1), "{backend:?}");
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_our_token_are_refused_and_sign_in_is_rate_limited() {
    for backend in TestDb::backends() {
        let (addr, db, _url, _guard) = desk(backend).await;
        browse(move || {
            let mut b = Browser::new(addr);
            // A sign-in posted from elsewhere carries no token of ours.
            let r = b.post("/login", &[("name", "admin"), ("password", password("admin"))]);
            assert_eq!(r.status, 403);
            assert!(r.text().contains("The form expired"));
            assert!(!b.cookies.contains_key("opsdesk_session"));

            // Five failures lock the account for a while, even with the right password.
            for _ in 0..5 {
                assert_eq!(b.sign_in("ops", "not the password").status, 401);
            }
            let r = b.sign_in("ops", password("ops"));
            assert_eq!(r.status, 429);
            assert!(r.text().contains("Too many failed sign-ins"));
            // Another account from the same address is not locked yet.
            assert_eq!(b.sign_in("fin", password("fin")).status, 303);
        })
        .await;
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends() {
    for backend in TestDb::backends() {
        let (addr, db, url, _guard) = desk(backend).await;
        let cookie = browse(move || {
            let mut b = Browser::new(addr);
            assert_eq!(b.sign_in("fin", password("fin")).status, 303);
            assert_eq!(b.get("/").status, 200);
            b.cookies["opsdesk_session"].clone()
        })
        .await;
        // Three hours without a request.
        let old = chrono::Utc::now() - chrono::Duration::hours(3);
        match backend {
            Backend::Sqlite => {
                let p = sqlx::SqlitePool::connect(&url).await.unwrap();
                sqlx::query("UPDATE user_session SET seen_at = $1").bind(old).execute(&p).await.unwrap();
                p.close().await;
            }
            Backend::Postgres => {
                let p = sqlx::PgPool::connect(&url).await.unwrap();
                sqlx::query("UPDATE user_session SET seen_at = $1").bind(old).execute(&p).await.unwrap();
                p.close().await;
            }
        }
        browse(move || {
            let mut b = Browser::new(addr);
            b.cookies.insert("opsdesk_session".into(), cookie);
            let r = b.get("/");
            assert_eq!((r.status, r.header("location")), (303, Some("/login?next=%2F")), "{backend:?}");
        })
        .await;
        let events = db.audit_events(&Scope::system("test"), 50).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.action == "session-expired").count(), 1, "{backend:?}");
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_and_downloads_only_its_reach() {
    for backend in TestDb::backends() {
        let (addr, db, _url, _guard) = desk(backend).await;
        let oracle = std::fs::read_to_string(data("small/oracle/r1_daily.csv")).unwrap();
        browse(move || {
            let codes = |csv: &str| -> Vec<String> {
                csv.lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()).collect()
            };
            let all = codes(&oracle);
            let south: Vec<String> = std::fs::read_to_string(data("small/stores.csv"))
                .unwrap()
                .lines()
                .filter(|l| l.split(',').nth(2) == Some("华南"))
                .map(|l| l.split(',').next().unwrap().to_string())
                .filter(|c| all.contains(c))
                .collect();
            for (user, want) in [
                ("admin", all.clone()),
                ("fin", all.clone()),
                ("south", south.clone()),
                ("s0002", vec!["S0002".to_string()]),
            ] {
                let mut b = Browser::new(addr);
                assert_eq!(b.sign_in(user, password(user)).status, 303, "{user}");
                let r = b.get("/reports/daily/download?format=csv&date=2026-10-31");
                assert_eq!(r.status, 200, "{user}");
                assert_eq!(r.header("content-disposition"), Some("attachment; filename=\"r1_daily.csv\""));
                assert_eq!(codes(&r.text()), want, "{backend:?} {user}");
                if user == "admin" {
                    assert_eq!(r.text(), oracle, "the download is the command line's file, byte for byte");
                }
                let page = b.get("/reports/daily?date=2026-10-31").text();
                let company_total = page.contains("<td class=\"\">Σ</td>");
                assert_eq!(company_total, matches!(user, "admin" | "fin"), "{user}: company total shown?");
                for other in all.iter().filter(|c| !want.contains(c)) {
                    assert!(!page.contains(&format!(">{other}<")), "{user} sees {other}");
                }
                // A store's own page opens only within reach; an unknown one is not found.
                let own = b.get(&format!("/stores/{}", want[0]));
                assert_eq!(own.status, 200, "{user}");
                assert!(own.text().contains("data-chart="), "its trend chart");
                let outside = all.iter().find(|c| !want.contains(c));
                if let Some(other) = outside {
                    assert_eq!(b.get(&format!("/stores/{other}")).status, 403, "{user} opens {other}");
                }
                assert_eq!(b.get("/stores/S9999").status, 404);
                let stores = b.get("/reports/stores/download?format=csv").text();
                assert_eq!(stores.lines().count() - 1, if want.len() == all.len() { 8 } else { want.len() }, "{user}");
                let x = b.get("/reports/monthly/download?format=xlsx&from=2026-10&to=2026-10");
                assert_eq!(x.status, 200);
                assert!(x.body.starts_with(b"PK"), "an XLSX workbook");
            }
        })
        .await;
        db.close().await;
    }
}

/// What every route answers, signed out and signed in as each role. A route
/// missing here fails the test: adding one means deciding who may use it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_as_its_access_says() {
    let samples: &[(&str, &str, &str)] = &[
        ("GET", "/login", "/login"),
        ("POST", "/login", "/login"),
        ("POST", "/logout", "/logout"),
        ("GET", "/lang/{code}", "/lang/zh?next=/"),
        ("GET", "/static/app.css", "/static/app.css"),
        ("GET", "/static/app.js", "/static/app.js"),
        ("GET", "/static/vendor/echarts.min.js", "/static/vendor/echarts.min.js"),
        ("GET", "/static/vendor/htmx.min.js", "/static/vendor/htmx.min.js"),
        ("GET", "/stores/{code}", "/stores/S0002"),
        ("GET", "/imports", "/imports"),
        ("POST", "/imports/upload", "/imports/upload?kind=sales&name=x.csv"),
        ("GET", "/imports/jobs/{id}", "/imports/jobs/0123"),
        ("GET", "/", "/"),
        ("GET", "/reports/{name}", "/reports/traffic?month=2026-10"),
        ("GET", "/reports/{name}/download", "/reports/rfm-segments/download?asof=2026-10-31"),
        ("GET", "/account/tokens", "/account/tokens"),
        ("POST", "/account/tokens", "/account/tokens"),
        ("POST", "/account/tokens/{id}/revoke", "/account/tokens/1/revoke"),
        ("GET", "/admin/users", "/admin/users"),
        ("POST", "/admin/users", "/admin/users"),
        ("POST", "/admin/users/{id}/role", "/admin/users/1/role"),
        ("POST", "/admin/users/{id}/active", "/admin/users/1/active"),
        ("GET", "/admin/audit", "/admin/audit"),
        ("GET", "/admin/settings", "/admin/settings"),
        ("POST", "/admin/settings", "/admin/settings"),
        ("GET", "/api/openapi.json", "/api/openapi.json"),
        ("GET", "/api/me", "/api/me"),
        ("GET", "/api/dashboard", "/api/dashboard"),
        ("GET", "/api/stores", "/api/stores"),
        ("GET", "/api/imports", "/api/imports"),
        ("GET", "/api/reports/{name}", "/api/reports/category?from=2026-10&to=2026-10"),
        ("GET", "/targets", "/targets"),
        ("POST", "/targets", "/targets"),
        ("GET", "/targets/{id}", "/targets/1"),
        ("POST", "/targets/{id}/edit", "/targets/1/edit"),
        ("POST", "/targets/{id}/lock", "/targets/1/lock"),
        ("POST", "/targets/{id}/rule", "/targets/1/rule"),
        ("POST", "/targets/{id}/delete", "/targets/1/delete"),
        ("POST", "/targets/{id}/payout", "/targets/1/payout"),
        ("GET", "/targets/{id}/download", "/targets/1/download?grain=day&month=2026-10&format=xlsx"),
        ("POST", "/targets/{id}/import", "/targets/1/import"),
        ("POST", "/targets/{id}/import/apply", "/targets/1/import/apply"),
        ("GET", "/holidays", "/holidays?year=2026"),
        ("POST", "/holidays", "/holidays"),
        ("GET", "/appraisal", "/appraisal"),
        ("POST", "/appraisal", "/appraisal"),
        ("GET", "/appraisal/{month}", "/appraisal/2026-10?unit=store:S0002"),
        ("POST", "/appraisal/{month}/score", "/appraisal/2026-10/score"),
        ("POST", "/appraisal/{month}/step", "/appraisal/2026-10/step"),
        ("GET", "/staff", "/staff"),
        ("POST", "/staff/departments/{id}/head", "/staff/departments/1/head"),
        ("GET", "/staff/employees/{code}", "/staff/employees/E1"),
        ("POST", "/staff/employees", "/staff/employees"),
        ("GET", "/staff/positions", "/staff/positions"),
        ("POST", "/staff/positions", "/staff/positions"),
        ("GET", "/staff/positions/{code}", "/staff/positions/SM"),
        ("POST", "/staff/positions/{code}/scorecard", "/staff/positions/SM/scorecard"),
    ];
    for r in ROUTES {
        assert!(
            samples.iter().any(|s| s.0 == r.method && s.1 == r.path),
            "route {} {} has no entry in this test",
            r.method,
            r.path
        );
    }
    for backend in TestDb::backends() {
        let (addr, db, _url, _guard) = desk(backend).await;
        // A plan for the plan's routes to show.
        let plan = db.create_target_plan(&Scope::system("test"), &revenue_plan(2026, "equal")).await.unwrap();
        assert_eq!(plan.id, 1);
        // …and a cycle with a unit for the appraisal routes.
        staff(&db).await;
        db.open_cycle(&Scope::system("test"), 202610).await.unwrap();
        let routes: Vec<(String, String, Access)> =
            ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string(), r.access)).collect();
        let samples: Vec<(String, String, String)> =
            samples.iter().map(|(m, p, s)| (m.to_string(), p.to_string(), s.to_string())).collect();
        browse(move || {
            let _ = backend;
            for (method, path, access) in &routes {
                let sample = &samples.iter().find(|s| &s.0 == method && &s.1 == path).unwrap().2;
                // Signed out.
                let mut b = Browser::new(addr);
                let r = b.send(method, sample, (method == "POST").then_some(&[][..]));
                match access {
                    Access::SignedIn | Access::Admin => assert_eq!(
                        (r.status, r.header("location").map(|l| l.starts_with("/login?next="))),
                        (303, Some(true)),
                        "{method} {path} signed out"
                    ),
                    Access::Api | Access::SessionJson => {
                        assert_eq!(r.status, 401, "{method} {path} signed out");
                        assert!(r.text().starts_with("{\"error\":"), "a JSON error");
                    }
                    // Public routes answer exactly: a sign-in posted without the
                    // sign-in page's token is refused, the language switch
                    // redirects, everything else is served.
                    Access::Public => {
                        let want = match (method.as_str(), path.as_str()) {
                            ("POST", "/login") => 403,
                            (_, "/lang/{code}") => 303,
                            _ => 200,
                        };
                        assert_eq!(r.status, want, "{backend:?} {method} {path} signed out");
                    }
                }
                // Signed in, each role.
                for (user, _, pw) in PASSWORDS {
                    let mut b = Browser::new(addr);
                    assert_eq!(b.sign_in(user, pw).status, 303);
                    if method == "POST" {
                        // Unsafe methods need the page's token: without it, refused.
                        let r = b.send(method, sample, Some(&[]));
                        assert_eq!(r.status, 403, "{method} {path} as {user} without a token");
                        continue;
                    }
                    let r = b.get(sample);
                    let want = match access {
                        _ if path.starts_with("/lang") => 303,
                        // Nobody's job: nothing to show.
                        _ if path.starts_with("/imports/jobs/") => 404,
                        Access::Admin if *user != "admin" => 403,
                        _ => 200,
                    };
                    assert_eq!(r.status, want, "{backend:?} {method} {path} as {user}");
                }
            }
        })
        .await;
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_speak_the_browsers_language_until_switched() {
    let backend = TestDb::backends()[0];
    let (addr, db, _url, _guard) = desk(backend).await;
    browse(move || {
        let mut b = Browser::new(addr);
        b.lang = "zh-CN,zh;q=0.9";
        assert!(b.get("/login").text().contains("用户名"));
        b.lang = "en-US";
        assert!(b.get("/login").text().contains("User name"));
        let r = b.get("/lang/zh?next=/login");
        assert_eq!((r.status, r.header("location")), (303, Some("/login")));
        assert!(b.get("/login").text().contains("用户名"), "the chosen language wins over the browser's");
        // Only paths of this site are followed.
        assert_eq!(b.get("/lang/en?next=//evil.example").header("location"), Some("/"));
        assert_eq!(b.sign_in("ops", password("ops")).status, 303);
        let page = b.get("/reports/daily?date=2026-10-31").text();
        assert!(page.contains("日报") || page.contains("Daily"), "a report page");
        let bad = b.get("/reports/daily?date=2026-13-01");
        assert_eq!(bad.status, 400);
        assert!(bad.text().contains("2026-13-01"));
        assert_eq!(b.get("/reports/nonsense").status, 404);
        // The traffic monitor as a store × day grid, flags coloured.
        let traffic = b.get("/reports/traffic?month=2026-10").text();
        assert!(traffic.contains("<table class=\"report grid\">"));
        assert!(traffic.contains("class=\"num flag-low\""), "S0002's low day is marked");
        // A segment's member list, from the segments page to its download.
        let segments = b.get("/reports/rfm-segments?asof=2026-10-31").text();
        let link =
            segments.split("href=\"/reports/rfm?").nth(1).unwrap().split('"').next().unwrap().replace("&#38;", "&");
        let list = b.get(&format!("/reports/rfm/download?{link}")).text();
        let all = b.get("/reports/rfm/download?asof=2026-10-31").text();
        let segment = link.split("segment=").nth(1).unwrap();
        assert!(
            list.lines().count() > 1 && list.lines().count() < all.lines().count(),
            "{segment} {} {} {link}",
            list.lines().count(),
            all.lines().count()
        );
        let name = list.lines().nth(1).unwrap().rsplit(',').next().unwrap().to_string();
        assert!(list.lines().skip(1).all(|l| l.ends_with(&format!(",{name}"))), "one segment only");
        // Its page sorted by spend, largest first: the member who spent most
        // (the first such in the list) heads it, twice over (kept).
        let spend = |l: &str| -> i64 { l.split(',').nth(3).unwrap().replace('.', "").parse().unwrap() };
        let top = list.lines().skip(1).fold(None::<&str>, |best, l| match best {
            Some(b) if spend(b) >= spend(l) => Some(b),
            _ => Some(l),
        });
        let top = top.unwrap().split(',').next().unwrap();
        for _ in 0..2 {
            let page = b.get(&format!("/reports/rfm?{link}&sort=monetary&dir=desc")).text();
            let first_row = page.split("<tbody>").nth(1).unwrap().split("</tr>").next().unwrap();
            assert!(first_row.contains(&format!(">{top}<")), "{top} first: {first_row}");
        }
    })
    .await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_made_in_the_desk_read_reports_within_their_owners_reach() {
    for backend in TestDb::backends() {
        let (addr, db, _url, _guard) = desk(backend).await;
        browse(move || {
            let mut b = Browser::new(addr);
            assert_eq!(b.sign_in("s0002", password("s0002")).status, 303);
            let page = b.get("/account/tokens").text();
            let csrf = common::hidden(&page, "csrf");
            assert_eq!(b.post("/account/tokens", &[("name", "bi tool")]).status, 403, "no token, no token");
            let made = b.post("/account/tokens", &[("csrf", &csrf), ("name", "bi tool")]);
            assert_eq!(made.status, 200);
            let html = made.text();
            let at = html.find("<code id=\"new-token\">").unwrap() + "<code id=\"new-token\">".len();
            let token = html[at..].split('<').next().unwrap().to_string();
            assert!(token.starts_with("odk_") && token.len() == 68, "{token}");

            // The API with the token alone, no cookies.
            let mut api = Browser::new(addr);
            let call = |api: &mut Browser, path: &str, token: &str| {
                api.send_with("GET", path, None, &[("Authorization", &format!("Bearer {token}"))])
            };
            let r = call(&mut api, "/api/reports/daily?date=2026-10-31", &token);
            assert_eq!(r.status, 200, "{}", r.text());
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(v["report"], "r1_daily");
            let stores: Vec<&str> =
                v["rows"].as_array().unwrap().iter().map(|r| r["store_code"].as_str().unwrap()).collect();
            assert_eq!(stores, ["S0002"]);
            assert!(v["totals"].as_array().unwrap().iter().all(|t| t["store_code"] != "Σ"), "no company total");
            assert_eq!(v["rows"][0]["revenue"], serde_json::json!(1743.6));
            assert_eq!(v["rows"][0]["tickets"], serde_json::json!(17), "a count is a whole number");
            let me: serde_json::Value = serde_json::from_slice(&call(&mut api, "/api/me", &token).body).unwrap();
            assert_eq!(me, serde_json::json!({"name": "s0002", "role": "store-manager", "sees_all_stores": false}));
            let trend = b.get("/reports/trend/download?format=csv&date=2026-10-31").text();
            assert!(trend.starts_with("date,revenue,tickets,aov\n"), "{trend}");
            assert!(trend.contains("\n2026-10-31,1743.60,17,102.56\n"), "the store manager's own day: {trend}");
            let dash: serde_json::Value =
                serde_json::from_slice(&call(&mut api, "/api/dashboard", &token).body).unwrap();
            assert_eq!((dash["date"].as_str(), dash["all_stores"].as_bool()), (Some("2026-10-31"), Some(false)));
            assert_eq!(dash["total"]["revenue"], serde_json::json!(1743.6));
            assert_eq!(dash["top"][0]["store_code"], "S0002");
            let imports: serde_json::Value =
                serde_json::from_slice(&call(&mut api, "/api/imports", &token).body).unwrap();
            assert_eq!(imports["imports"], serde_json::json!([]), "a store manager reads only her own imports");
            assert_eq!(call(&mut api, "/api/reports/daily?date=31.10.2026", &token).status, 400);
            assert_eq!(call(&mut api, "/api/reports/nothing", &token).status, 404);
            assert_eq!(call(&mut api, "/api/me", "odk_forged").status, 401);

            // Revoked, it opens nothing.
            let list = b.get("/account/tokens").text();
            let id = list.split("/account/tokens/").nth(1).unwrap().split('/').next().unwrap().to_string();
            let r = b.post(&format!("/account/tokens/{id}/revoke"), &[("csrf", &csrf)]);
            assert_eq!(r.status, 303);
            assert_eq!(call(&mut api, "/api/me", &token).status, 401);
        })
        .await;
        let events = db.audit_events(&Scope::system("test"), 50).await.unwrap();
        assert!(events.iter().any(|e| e.entity == "api_token" && e.action == "revoke"), "{backend:?}");
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_api_route() {
    let backend = TestDb::backends()[0];
    let (addr, db, _url, _guard) = desk(backend).await;
    let doc = browse(move || Browser::new(addr).get("/api/openapi.json")).await;
    assert_eq!(doc.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&doc.body).unwrap();
    assert_eq!(v["openapi"], "3.1.0");
    let paths = v["paths"].as_object().unwrap();
    for r in ROUTES.iter().filter(|r| r.access == Access::Api) {
        if r.path == "/api/reports/{name}" {
            for name in
                ["daily", "weekly", "monthly", "traffic", "category", "rfm", "rfm-segments", "efficiency", "regions"]
            {
                assert!(paths.contains_key(&format!("/api/reports/{name}")), "{name}");
            }
        } else {
            assert!(paths.contains_key(r.path), "{}", r.path);
        }
    }
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_adds_people_changes_their_reach_and_stops_them() {
    for backend in TestDb::backends() {
        let (addr, db, _url, _guard) = desk(backend).await;
        browse(move || {
            let mut admin = Browser::new(addr);
            assert_eq!(admin.sign_in("admin", password("admin")).status, 303);
            let page = admin.get("/admin/users").text();
            let csrf = common::hidden(&page, "csrf");
            let add = |b: &mut Browser, name: &str, role: &str, reach: &str, pw: &str| {
                b.post(
                    "/admin/users",
                    &[("csrf", &csrf), ("name", name), ("role", role), ("reach", reach), ("password", pw)],
                )
            };
            let r = add(&mut admin, "zhao", "store-manager", "S0009", "a fine passphrase");
            assert!(r.text().contains("no store with code S0009"), "refused with its reason");
            let r = add(&mut admin, "zhao", "store-manager", "S0001", "short");
            assert!(r.text().contains("too short"));
            let r = add(&mut admin, "zhao", "store-manager", "S0001", "a fine passphrase");
            assert!(r.text().contains("User added: zhao"), "{}", r.text());

            let mut zhao = Browser::new(addr);
            assert_eq!(zhao.sign_in("zhao", "a fine passphrase").status, 303);
            let codes = |b: &mut Browser| -> Vec<String> {
                b.get("/reports/daily/download?date=2026-10-31")
                    .text()
                    .lines()
                    .skip(1)
                    .map(|l| l.split(',').next().unwrap().to_string())
                    .collect()
            };
            assert_eq!(codes(&mut zhao), ["S0001"]);
            assert_eq!(zhao.get("/admin/users").status, 403, "not an administrator");

            // Now a region manager of 华东: the same session sees the region.
            let id = page_id(&admin.get("/admin/users").text(), "zhao");
            let r = admin.post(
                &format!("/admin/users/{id}/role"),
                &[("csrf", &csrf), ("role", "region-manager"), ("reach", "华东")],
            );
            assert_eq!(r.status, 303);
            let east = codes(&mut zhao);
            assert!(east.len() > 1 && !east.contains(&"S0002".to_string()), "{east:?}");

            // Stopped: her session ends at once and she cannot sign in.
            let r = admin.post(&format!("/admin/users/{id}/active"), &[("csrf", &csrf), ("active", "false")]);
            assert_eq!(r.status, 303);
            assert_eq!(zhao.get("/").status, 303);
            assert_eq!(zhao.sign_in("zhao", "a fine passphrase").status, 401);
            // An administrator cannot stop herself.
            let me = page_id(&admin.get("/admin/users").text(), "admin");
            let r = admin.post(&format!("/admin/users/{me}/active"), &[("csrf", &csrf), ("active", "false")]);
            assert!(r.text().contains("you cannot deactivate yourself"));

            let audit = admin.get("/admin/audit").text();
            assert!(audit.contains("app_user") && audit.contains("sign-in-failed"), "the audit log shows it all");
            // As a sortable table with downloads, for administrators only —
            // even right after an administrator's request filled the cache.
            let csv = admin.get("/reports/audit/download?format=csv");
            assert_eq!(csv.status, 200);
            assert!(csv.text().starts_with("at,actor,action,object,before,after\n"));
            let mut ops = Browser::new(addr);
            assert_eq!(ops.sign_in("ops", password("ops")).status, 303);
            assert_eq!(ops.get("/reports/audit").status, 403);
            assert_eq!(ops.get("/reports/audit/download?format=csv").status, 403);
            assert_eq!(ops.get("/reports/users").status, 403);
            let users = admin.get("/reports/users/download?format=csv").text();
            assert!(users.starts_with("name,role,reach,active,created_at\n"), "{users}");
            assert!(users.contains("\nzhao,region-manager,华东,no,"), "{users}");
        })
        .await;
        db.close().await;
    }
}

/// The id in the forms of a user's row on the users page.
fn page_id(html: &str, name: &str) -> String {
    let row = html.split("<tr>").find(|r| r.contains(&format!("<td>{name}</td>"))).unwrap();
    row.split("/admin/users/").nth(1).unwrap().split('/').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_uploaded_in_the_desk_import_with_progress_and_their_errors_listed() {
    for backend in TestDb::backends() {
        let (addr, db, _url, _guard) = desk(backend).await;
        browse(move || {
            let dirty = std::fs::read(data("small_dirty/sales_lines.csv")).unwrap();
            let clean = std::fs::read(data("small/sales_lines.csv")).unwrap();
            let mut ops = Browser::new(addr);
            assert_eq!(ops.sign_in("ops", password("ops")).status, 303);
            let page = ops.get("/imports").text();
            assert!(page.contains("id=\"upload\""), "operations may import");
            let csrf = page.split("data-csrf=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
            let upload = |b: &mut Browser, name: &str, bytes: &[u8], token: &str| {
                b.send_bytes(
                    "POST",
                    &format!("/imports/upload?kind=sales&name={name}"),
                    bytes,
                    &[("X-CSRF-Token", token)],
                )
            };
            assert_eq!(upload(&mut ops, "x.csv", &clean, "forged").status, 403);
            let follow = |b: &mut Browser, r: common::Res| -> serde_json::Value {
                let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                let id = v["job"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();
                loop {
                    let s: serde_json::Value =
                        serde_json::from_slice(&b.get(&format!("/imports/jobs/{id}")).body).unwrap();
                    if s["finished"] == true {
                        return s;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            };
            let r = upload(&mut ops, "dirty%20day.csv", &dirty, &csrf);
            assert_eq!(r.status, 200);
            let s = follow(&mut ops, r);
            assert_eq!(s["ok"], false);
            assert_eq!(s["error_total"], 240);
            assert_eq!(s["errors"].as_array().unwrap().len(), 240);
            assert!(
                s["message"].as_str().unwrap().contains("dirty day.csv has 240 errors; nothing was imported"),
                "{s}"
            );
            let e = &s["errors"][0];
            assert!(
                e["row"].as_u64().unwrap() > 0
                    && !e["column"].as_str().unwrap().is_empty()
                    && !e["reason"].as_str().unwrap().is_empty()
            );
            assert_eq!(s["done"], s["total"], "progress reached the end");

            let r = upload(&mut ops, "sales_lines.csv", &clean, &csrf);
            let s = follow(&mut ops, r);
            assert_eq!((s["ok"].as_bool(), s["outcome"].as_str()), (Some(true), Some("AlreadyImported")), "{s}");

            // Someone else cannot read the job, and a store manager cannot import.
            let mut store = Browser::new(addr);
            assert_eq!(store.sign_in("s0002", password("s0002")).status, 303);
            let page = store.get("/imports").text();
            assert!(!page.contains("id=\"upload\""));
            let token = common::hidden(&store.get("/account/tokens").text(), "csrf");
            let r = upload(&mut store, "x.csv", &clean, &token);
            assert_eq!(r.status, 403);
            assert!(r.text().contains("your role does not import data"));

            let history = ops.get("/imports").text();
            assert!(history.contains("dirty day.csv") && history.contains("refused"), "the history shows the refusal");
            let csv = ops.get("/reports/imports/download?format=csv").text();
            assert!(csv.starts_with("started_at,kind,file_name,actor,result,"), "{csv}");
            assert!(csv.lines().any(|l| l.contains(",dirty day.csv,") && l.contains(",refused,")), "{csv}");
        })
        .await;
        db.close().await;
    }
}

fn revenue_plan(year: i32, method: &str) -> opsdesk_db::targets::NewPlan {
    opsdesk_db::targets::NewPlan {
        year,
        metric: "revenue".into(),
        baseline: 100_000_000,
        stretch: 110_000_000,
        method: opsdesk_domain::targets::Method::parse(method).unwrap(),
        month_method: opsdesk_domain::targets::MonthMethod::Hand,
        tiers: Vec::new(),
        rule: opsdesk_domain::targets::RewardRule::default(),
    }
}

/// A multipart form body with a CSRF field and one file.
fn multipart(csrf: &str, name: &str, file: &[u8]) -> (Vec<u8>, String) {
    let boundary = "----opsdesk-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_plans_and_edits_targets_and_each_role_reads_its_reach() {
    for backend in TestDb::backends() {
        let (addr, db, _url, _guard) = desk(backend).await;
        let db2 = db.clone();
        let id = browse(move || {
            let mut ops = Browser::new(addr);
            ops.sign_in("ops", password("ops"));
            let list = ops.get("/targets");
            assert_eq!(list.status, 200);
            let csrf = hidden(&list.text(), "csrf");
            let made = ops.post(
                "/targets",
                &[
                    ("csrf", &csrf),
                    ("year", "2026"),
                    ("metric", "revenue"),
                    ("baseline", "1000000"),
                    ("stretch", "1100000"),
                    ("method", "area"),
                    ("months", "hand"),
                    ("tiers", ""),
                ],
            );
            assert_eq!(made.status, 303, "{}", made.text());
            let to = made.header("location").unwrap().to_string();
            let id: i64 = to.trim_start_matches("/targets/").parse().unwrap();
            let page = ops.get(&to).text();
            for code in ["S0001", "S0002", "S0008"] {
                assert!(page.contains(&format!(">{code}<")), "{code} listed");
            }
            // A store's year set by hand: its region's other stores give way.
            let r = ops.post(
                &format!("/targets/{id}/edit"),
                &[
                    ("csrf", &csrf),
                    ("cell", "store:S0002"),
                    ("baseline", "200000.00"),
                    ("stretch", "220000"),
                    ("view_store", ""),
                    ("view_month", ""),
                ],
            );
            assert_eq!(r.status, 200);
            assert!(r.text().contains("class=\"fresh\""), "{}", r.text());
            // A locked month refuses a new value, with the reason.
            let lock = ops.post(
                &format!("/targets/{id}/lock"),
                &[
                    ("csrf", &csrf),
                    ("cell", "store:S0002/2026-03"),
                    ("locked", "true"),
                    ("view_store", "S0002"),
                    ("view_month", ""),
                ],
            );
            assert_eq!(
                (lock.status, lock.header("location")),
                (303, Some(format!("/targets/{id}?store=S0002").as_str()))
            );
            let refused = ops.post(
                &format!("/targets/{id}/edit"),
                &[
                    ("csrf", &csrf),
                    ("cell", "store:S0002/2026-03"),
                    ("baseline", "1"),
                    ("stretch", "1"),
                    ("view_store", "S0002"),
                    ("view_month", ""),
                ],
            );
            assert!(refused.text().contains("is locked: unlock it first"), "{}", refused.text());

            // The store manager reads her store only, and changes nothing.
            let mut her = Browser::new(addr);
            her.sign_in("s0002", password("s0002"));
            let mine = her.get(&format!("/targets/{id}")).text();
            assert!(mine.contains(">S0002<") && !mine.contains(">S0001<"));
            assert!(
                !mine.contains("action=\"/targets/1/edit\"") && !mine.contains(&format!("/targets/{id}/edit")),
                "no edit forms"
            );
            assert_eq!(her.get(&format!("/targets/{id}?store=S0001")).status, 404);
            let her_csrf = her.csrf();
            let r = her.post(
                &format!("/targets/{id}/edit"),
                &[("csrf", &her_csrf), ("cell", "store:S0002"), ("baseline", "1"), ("stretch", "1")],
            );
            assert_eq!(r.status, 403);
            let cells = her.get(&format!("/targets/{id}/download?grain=month&format=csv")).text();
            assert_eq!(cells.lines().count(), 1 + 12);
            assert!(cells.lines().skip(1).all(|l| l.starts_with("S0002,")));
            let tracking = her.get(&format!("/reports/target-tracking?plan={id}&date=2026-10-20")).text();
            assert!(tracking.contains(">S0002<") && !tracking.contains(">S0001<"));
            let r = her.post(
                "/holidays",
                &[("csrf", &her_csrf), ("date", "2027-01-01"), ("kind", "holiday"), ("name", "元旦")],
            );
            assert_eq!(r.status, 403);

            // Through a spreadsheet: the file is checked, previewed, then applied.
            let csv = ops.get(&format!("/targets/{id}/download?grain=month&format=csv")).text();
            assert_eq!(csv.lines().count(), 1 + 8 * 12);
            let line = csv.lines().find(|l| l.starts_with("S0001,2026-05,")).unwrap().to_string();
            let f: Vec<&str> = line.split(',').collect();
            let edited = csv.replacen(&line, &format!("S0001,2026-05,{},{}", "100.00", f[3]), 1);
            let (body, ct) = multipart(&csrf, "plan.csv", edited.as_bytes());
            let preview = ops.send_bytes("POST", &format!("/targets/{id}/import"), &body, &[("Content-Type", &ct)]);
            assert_eq!(preview.status, 200);
            let html = preview.text();
            assert!(html.contains(">S0001<") && html.contains(">2026-05<") && html.contains(">100.00<"), "{html}");
            let token = hidden(&html, "token");
            assert_eq!(
                ops.get(&format!("/targets/{id}/download?grain=month&format=csv")).text(),
                csv,
                "a preview changes nothing"
            );
            let done = ops.post(&format!("/targets/{id}/import/apply"), &[("csrf", &csrf), ("token", &token)]);
            assert!(done.text().contains("class=\"fresh\""), "{}", done.text());
            let again = ops.post(&format!("/targets/{id}/import/apply"), &[("csrf", &csrf), ("token", &token)]);
            assert!(again.text().contains("has expired or is unknown"), "a token is used once");
            // A bad file is refused row by row.
            let (body, ct) = multipart(&csrf, "bad.csv", b"store_code,period,baseline,stretch\nS9999,2026-01,1,2\n");
            let bad = ops.send_bytes("POST", &format!("/targets/{id}/import"), &body, &[("Content-Type", &ct)]).text();
            assert!(bad.contains("unknown store, or outside your reach") && bad.contains(">S9999<"), "{bad}");

            // The calendar: operations adds a date.
            let r = ops.post(
                "/holidays",
                &[("csrf", &csrf), ("date", "2027-01-01"), ("kind", "holiday"), ("name", "元旦"), ("uplift", "1.2")],
            );
            assert_eq!((r.status, r.header("location")), (303, Some("/holidays?year=2027")));
            assert!(ops.get("/holidays?year=2027").text().contains("1.200"));
            id
        })
        .await;
        let plan = db2.target_plan(id).await.unwrap().unwrap();
        let all = Scope::system("test");
        let (_, stores) = db2.target_overview(&all, &plan).await.unwrap();
        assert_eq!(stores.iter().find(|s| s.store_code == "S0002").unwrap().baseline, 20_000_000);
        assert_eq!(stores.iter().map(|s| s.baseline).sum::<i64>(), 100_000_000);
        let months = db2.target_rows(&all, &plan, opsdesk_db::targets::Grain::Month).await.unwrap();
        assert_eq!(months.iter().find(|r| r.store_code == "S0001" && r.period == "2026-05").unwrap().baseline, 10_000);
        let events = db2.audit_events(&all, 20).await.unwrap();
        for action in ["create", "edit", "lock", "import"] {
            assert!(
                events.iter().any(|e| e.entity == "target_plan" && e.action == action && e.actor == "user:ops"),
                "{action} audited"
            );
        }
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_goes_along_the_appraisal_chain_in_the_desk_each_step_by_its_signer() {
    for backend in TestDb::backends() {
        let (addr, db, _url, _guard) = desk(backend).await;
        staff(&db).await;
        db.set_setting(&Scope::system("test"), "appraisal.executives", "admin").await.unwrap();
        browse(move || {
            let page = "/appraisal/2026-10?unit=store:S0002";
            let step = |b: &mut Browser, step: &str, extra: &[(&str, &str)]| {
                let csrf = b.csrf();
                let mut form = vec![("csrf", csrf.as_str()), ("unit", "store:S0002"), ("step", step)];
                form.extend_from_slice(extra);
                b.post("/appraisal/2026-10/step", &form).text()
            };
            let mut ops = Browser::new(addr);
            ops.sign_in("ops", password("ops"));
            let csrf = ops.csrf();
            assert_eq!(ops.post("/appraisal", &[("csrf", &csrf), ("month", "2026-10")]).status, 303);
            let cycles = ops.get("/appraisal").text();
            // Due on 2026-11-05, long past: the unit head is late, and the page says so.
            assert!(cycles.contains("store:S0002") && cycles.contains("s0002 · overdue"), "{cycles}");

            // The store manager scores her staff below her own level and signs.
            let mut head = Browser::new(addr);
            head.sign_in("s0002", password("s0002"));
            let home = head.get("/").text();
            assert!(home.contains("Waiting for you: 1 · overdue 1"), "the dashboard reminds her: {home}");
            let mine = head.get("/appraisal").text();
            assert!(mine.contains("2026-10 store:S0002</a> — Sign"), "{mine}");
            let hcsrf = head.csrf();
            let score = |b: &mut Browser, csrf: &str, e: &str, i: &str, p: &str| {
                let form = [
                    ("csrf", csrf),
                    ("unit", "store:S0002"),
                    ("employee", e),
                    ("indicator", i),
                    ("points", p),
                    ("comment", ""),
                ];
                b.post("/appraisal/2026-10/score", &form).text()
            };
            for (e, w, g) in [("E2", "85", "85"), ("E3", "75", "72")] {
                for (i, p) in [("work", w), ("gsp", g)] {
                    let r = score(&mut head, &hcsrf, e, i, p);
                    assert!(r.contains("class=\"fresh\""), "{e} {i}: {r}");
                }
            }
            // Her own level (manager) is scored by the chain above her, and
            // she is not offered the form.
            let r = score(&mut head, &hcsrf, "E1", "work", "90");
            assert!(r.contains("you may not score E1"), "{r}");
            assert!(!r.contains("name=\"employee\" value=\"E1\""), "no form for E1");
            let ocsrf = ops.csrf();
            for i in ["work", "gsp"] {
                assert!(score(&mut ops, &ocsrf, "E1", i, "90").contains("class=\"fresh\""));
            }
            let signed = step(&mut head, "sign", &[]);
            assert!(signed.contains("class=\"fresh\""), "{signed}");
            assert!(
                step(&mut head, "review", &[]).contains("this step is not yours to sign"),
                "a store manager does not review"
            );
            assert!(ops.get("/appraisal").text().contains("2026-10 store:S0002</a> — Review"), "ops is waited for");
            // E1 90.00 → B+ (500 × 105 % = 525.00), E2 85.00 → B (300.00), E3 74.10 → C (255.00): 1 080 ≤ 1 100.
            // The head sees her staff's pay, not her own level's; operations sees all.
            let after = head.get(page).text();
            assert!(after.contains("74.10 → C") && after.contains("= <strong>255.00</strong>"), "{after}");
            assert!(!after.contains("90.00 → B+") && !after.contains("525.00"), "{after}");
            let seen = ops.get(page).text();
            assert!(seen.contains("90.00 → B+") && seen.contains("= <strong>525.00</strong>"), "{seen}");

            // The executive cannot skip the review; finance cannot approve.
            let mut fin = Browser::new(addr);
            fin.sign_in("fin", password("fin"));
            let mut exec = Browser::new(addr);
            exec.sign_in("admin", password("admin"));
            assert!(step(&mut exec, "approve", &[]).contains("that step cannot be taken now"));
            assert!(step(&mut ops, "review", &[]).contains("class=\"fresh\""));
            assert!(step(&mut fin, "approve", &[]).contains("this step is not yours to sign"));
            assert!(step(&mut exec, "approve", &[]).contains("class=\"fresh\""));
            assert!(
                step(&mut ops, "send-back", &[("comment", "重打")]).contains("cannot be taken now"),
                "approved is locked"
            );
            assert!(step(&mut fin, "pay", &[]).contains("class=\"fresh\""));
            let sheet = fin.get("/reports/appraisal-payout/download?format=csv&month=2026-10").text();
            assert_eq!(sheet.lines().count(), 4, "{sheet}");
            assert!(sheet.contains("E1,员工E1,store:S0002,90.00,B+,500.00,105.00,525.00"), "{sheet}");
            // The store manager's pay sheet holds her staff, not her own level.
            let theirs = head.get("/reports/appraisal-payout/download?format=csv&month=2026-10").text();
            assert_eq!(theirs.lines().count(), 3, "{theirs}");
            assert!(theirs.contains(",255.00") && !theirs.contains("E1,"), "{theirs}");
            let status = fin.get("/reports/appraisal-status?month=2026-10").text();
            assert!(status.contains(">paid<"), "{status}");
        })
        .await;
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_and_employees_are_imported_in_the_desk() {
    let backend = TestDb::backends()[0];
    let (addr, db, _url, _guard) = desk(backend).await;
    let db2 = db.clone();
    browse(move || {
        let mut ops = Browser::new(addr);
        ops.sign_in("ops", password("ops"));
        let page = ops.get("/imports").text();
        assert!(page.contains("value=\"employees\""), "the kinds offered");
        let csrf = page.split("data-csrf=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let upload = |b: &mut Browser, kind: &str, text: &str| -> serde_json::Value {
            let r = b.send_bytes("POST", &format!("/imports/upload?kind={kind}&name={kind}.csv"), text.as_bytes(), &[("X-CSRF-Token", &csrf)]);
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            let id = v["job"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();
            loop {
                let s: serde_json::Value = serde_json::from_slice(&b.get(&format!("/imports/jobs/{id}")).body).unwrap();
                if s["finished"] == true {
                    return s;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        };
        let p = upload(&mut ops, "positions", "岗位编码,岗位名称,岗位职责\nSM,店长,门店经营\n");
        assert!(p["message"].as_str().unwrap().contains("1 added, 0 updated, 0 unchanged"), "{p}");
        let e = upload(&mut ops, "employees", "工号,姓名,所属单位,岗位,职级,入职日期\nE1,甲,S0002,SM,manager,2021-01-01\nE2,乙,S0002,XX,manager,2021-01-01\n");
        assert_eq!(e["ok"], false, "an unknown position refuses the file");
        assert_eq!(e["errors"][0]["column"], "岗位");
    })
    .await;
    assert!(db2.employees(&Scope::system("test")).await.unwrap().is_empty(), "nothing half saved");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_keeps_staff_positions_scorecards_and_heads_in_the_desk_and_each_reads_her_reach() {
    for backend in TestDb::backends() {
        let (addr, db, _url, _guard) = desk(backend).await;
        staff(&db).await;
        let db2 = db.clone();
        browse(move || {
            let mut ops = Browser::new(addr);
            ops.sign_in("ops", password("ops"));
            let csrf = ops.csrf();
            assert!(ops.get("/staff/employees/new").text().contains("name=\"start_date\""));

            // A position, then its scorecard: weights must sum to 100, rows are named.
            let r = ops.post(
                "/staff/positions",
                &[("csrf", &csrf), ("code", "CL"), ("name", "营业员"), ("duties", "陈列、销售")],
            );
            assert_eq!((r.status, r.header("location")), (303, Some("/staff/positions/CL")));
            let card = |b: &mut Browser, w1: &str, w2: &str| {
                let form = [
                    ("csrf", csrf.as_str()),
                    ("key0", "service"),
                    ("name0", "服务"),
                    ("weight0", w1),
                    ("source0", "hand"),
                    ("key1", "aov"),
                    ("name1", "客单价增长"),
                    ("weight1", w2),
                    ("source1", "aov_growth"),
                    ("key2", ""),
                    ("name2", ""),
                    ("weight2", ""),
                    ("source2", "hand"),
                ];
                b.post("/staff/positions/CL/scorecard", &form).text().replace("&#39;", "'")
            };
            let bad = card(&mut ops, "x", "40");
            assert!(bad.contains("Indicator row 1 · Weight 'x'"), "{bad}");
            assert!(card(&mut ops, "60", "30").contains("the scorecard is wrong"), "90 is not 100");
            assert!(card(&mut ops, "60", "40").contains("Scorecard saved"));
            let positions = ops.get("/staff/positions").text();
            assert!(
                positions.contains("服务 60 · by hand") && positions.contains("客单价增长 40 · average-ticket growth"),
                "{positions}"
            );

            // An employee: a bad field is named with its value; a good one is saved, then changed.
            let employee = |b: &mut Browser, existing: &str, code: &str, unit: &str, level: &str, start: &str| {
                let form = [
                    ("csrf", csrf.as_str()),
                    ("existing", existing),
                    ("code", code),
                    ("name", "新员工"),
                    ("unit", unit),
                    ("position", "CL"),
                    ("level", level),
                    ("pay_base", ""),
                    ("start_date", start),
                    ("end_date", ""),
                ];
                b.post("/staff/employees", &form)
            };
            let r = employee(&mut ops, "", "E9", "S0002", "specialist", "2026-13-01");
            assert!(r.text().replace("&#39;", "'").contains("start_date '2026-13-01'"), "{}", r.text());
            let r = employee(&mut ops, "", "E9", "S0002", "intern", "2026-01-01");
            assert!(r.text().contains("no pay base for this level"), "{}", r.text());
            let r = employee(&mut ops, "", "E9", "S0002", "specialist", "2026-01-01");
            assert_eq!((r.status, r.header("location")), (303, Some("/staff/employees/E9")));
            assert!(
                employee(&mut ops, "", "E9", "S0002", "specialist", "2026-01-01")
                    .text()
                    .contains("That code belongs to another employee")
            );
            let r = employee(&mut ops, "E9", "E9", "S0002", "supervisor", "2026-01-01");
            assert_eq!(r.status, 303);
            let r = employee(&mut ops, "", "H1", "客服中心", "specialist", "2026-01-01");
            assert_eq!(r.status, 303, "a new department path creates the department");

            // The store manager reads her store's staff; her staff's pay base, not her own level's.
            let mut store = Browser::new(addr);
            store.sign_in("s0002", password("s0002"));
            let list = store.get("/staff").text();
            assert!(list.contains(">E9<") && !list.contains(">H1<"), "{list}");
            let e1 = list.split(">E1<").nth(1).unwrap().split("</tr>").next().unwrap();
            assert!(e1.contains("—") && !e1.contains("500.00"), "{e1}");
            let e9 = list.split(">E9<").nth(1).unwrap().split("</tr>").next().unwrap();
            assert!(e9.contains("400.00"), "{e9}");
            assert_eq!(store.get("/staff/employees/H1").status, 404);
            let scsrf = store.csrf();
            let r = store.post(
                "/staff/employees",
                &[
                    ("csrf", scsrf.as_str()),
                    ("code", "E10"),
                    ("name", "x"),
                    ("unit", "S0002"),
                    ("position", "CL"),
                    ("level", "specialist"),
                    ("start_date", "2026-01-01"),
                ],
            );
            assert!(r.text().contains("only operations may change staff"), "{}", r.text());

            // A department's head: the region manager named, she sees and scores its staff.
            let mut south = Browser::new(addr);
            south.sign_in("south", password("south"));
            assert!(!south.get("/staff").text().contains(">H1<"));
            let list = ops.get("/staff").text();
            let id = list.split("/staff/departments/").nth(1).unwrap().split('/').next().unwrap().to_string();
            let r = ops.post(&format!("/staff/departments/{id}/head"), &[("csrf", csrf.as_str()), ("head", "nobody")]);
            assert!(r.text().contains("there is no active user nobody"), "{}", r.text());
            let r = ops.post(&format!("/staff/departments/{id}/head"), &[("csrf", csrf.as_str()), ("head", "south")]);
            assert_eq!(r.status, 303);
            assert!(south.get("/staff").text().contains(">H1<"), "the head reads her department");
            // …and scores and signs it: a data indicator without data (no store) takes hand points with a word.
            assert_eq!(ops.post("/appraisal", &[("csrf", csrf.as_str()), ("month", "2026-10")]).status, 303);
            let hcsrf = south.csrf();
            let mut score = |i: &str, comment: &str| {
                let form = [
                    ("csrf", hcsrf.as_str()),
                    ("unit", "dept:客服中心"),
                    ("employee", "H1"),
                    ("indicator", i),
                    ("points", "90"),
                    ("comment", comment),
                ];
                south.post("/appraisal/2026-10/score", &form).text()
            };
            assert!(score("service", "").contains("class=\"fresh\""));
            assert!(score("aov", "").contains("hand points for missing data need a comment"));
            assert!(score("aov", "无门店数据").contains("class=\"fresh\""));
            let form = [("csrf", hcsrf.as_str()), ("unit", "dept:客服中心"), ("step", "sign"), ("scale", "on")];
            let signed = south.post("/appraisal/2026-10/step", &form).text();
            assert!(signed.contains("class=\"fresh\"") && signed.contains("90.00 → B+"), "{signed}");
        })
        .await;
        let all = Scope::system("test");
        let e9 = db2.employees(&all).await.unwrap().into_iter().find(|e| e.code == "E9").unwrap();
        assert_eq!((e9.unit.as_str(), e9.level.as_str(), e9.position.as_str()), ("S0002", "supervisor", "CL"));
        let heads: Vec<_> = db2.department_list().await.unwrap().into_iter().map(|d| (d.name, d.head)).collect();
        assert_eq!(heads, vec![("客服中心".to_string(), Some("south".to_string()))]);
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_changes_the_appraisal_policy_in_the_desk_each_value_checked() {
    let backend = TestDb::backends()[0];
    let (addr, db, _url, _guard) = desk(backend).await;
    let db2 = db.clone();
    browse(move || {
        let mut admin = Browser::new(addr);
        admin.sign_in("admin", password("admin"));
        let page = admin.get("/admin/settings").text();
        assert!(page.contains("appraisal.grade_bands") && page.contains("A+:97,A:94,A-:91,B+:88,B:84,B-:81,C:71"));
        let csrf = admin.csrf();
        let set = |b: &mut Browser, key: &str, value: &str| {
            b.post("/admin/settings", &[("csrf", csrf.as_str()), ("key", key), ("value", value)]).text()
        };
        assert!(set(&mut admin, "appraisal.grade_bands", "A+:97,A:98").contains("class=\"error\""));
        assert!(set(&mut admin, "appraisal.executives", "admin, nobody").contains("there is no user nobody"));
        assert!(set(&mut admin, "no.such", "1").contains("unknown setting"));
        let ok = set(&mut admin, "appraisal.grade_bands", "A+:96,A:93,A-:90,B+:87,B:83,B-:80,C:70");
        assert!(ok.contains("class=\"fresh\""), "{ok}");
        assert!(set(&mut admin, "appraisal.executives", "admin, ops").contains("class=\"fresh\""));
        // Not an administrator: not even the page.
        let mut ops = Browser::new(addr);
        ops.sign_in("ops", password("ops"));
        assert_eq!(ops.get("/admin/settings").status, 403);
    })
    .await;
    let policy = db2.appraisal_policy().await.unwrap();
    assert_eq!(policy.grade(9_600), opsdesk_domain::appraisal::Grade::APlus, "96 is A+ under the new bands");
    assert_eq!(db2.setting("appraisal.executives").await.unwrap().as_deref(), Some("admin, ops"));
    db.close().await;
}
