//! The desk over real HTTP: a real server on port 0, a real database (both
//! backends), requests as a browser sends them.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;

use opsdesk_db::people::{NewUser, ReachRef};
use opsdesk_db::testing::{TestDb, TestDbGuard};
use opsdesk_db::{Backend, Db, Scope};
use opsdesk_domain::people::Role;
use opsdesk_ingest::ImportOptions;
use opsdesk_web::server::{Access, Config, ROUTES, serve};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

/// An HTTP response, as read off the socket.
struct Res {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Res {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The cookies this response sets: name → value.
    fn cookies(&self) -> HashMap<String, String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next()?.split_once('=').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect()
    }
}

/// A browser of one: keeps cookies, speaks HTTP/1.1 over a fresh connection per request.
struct Browser {
    addr: SocketAddr,
    cookies: HashMap<String, String>,
    lang: &'static str,
}

impl Browser {
    fn new(addr: SocketAddr) -> Browser {
        Browser { addr, cookies: HashMap::new(), lang: "en" }
    }

    fn send(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Res {
        let body = form
            .map(|f| f.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&"))
            .unwrap_or_default();
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept-Language: {}\r\n",
            self.addr, self.lang
        );
        if !cookie.is_empty() {
            req.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        if form.is_some() {
            req.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(&body);
        let mut s = TcpStream::connect(self.addr).expect("connect");
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header end");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
            .collect();
        let res = Res { status, headers, body: raw[split + 4..].to_vec() };
        assert!(res.header("transfer-encoding").is_none(), "bodies come with a length");
        for (k, v) in res.cookies() {
            if v.is_empty() {
                self.cookies.remove(&k);
            } else {
                self.cookies.insert(k, v);
            }
        }
        res
    }

    fn get(&mut self, path: &str) -> Res {
        self.send("GET", path, None)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Res {
        self.send("POST", path, Some(form))
    }

    /// Opens the sign-in page and signs in.
    fn sign_in(&mut self, name: &str, password: &str) -> Res {
        let page = self.get("/login");
        assert_eq!(page.status, 200);
        let csrf = hidden(&page.text(), "csrf");
        self.post("/login", &[("csrf", &csrf), ("name", name), ("password", password), ("next", "/")])
    }

    /// The CSRF token of the signed-in pages.
    fn csrf(&mut self) -> String {
        hidden(&self.get("/").text(), "csrf")
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value of a hidden input of a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}

const PASSWORDS: &[(&str, Role, &str)] = &[
    ("admin", Role::Admin, "admin passphrase 1"),
    ("ops", Role::Operations, "ops passphrase 12"),
    ("fin", Role::Finance, "finance passphrase"),
    ("south", Role::RegionManager, "region passphrase"),
    ("s0002", Role::StoreManager, "store passphrase 2"),
];

/// The small company with a user per role, served on a free port.
async fn desk(backend: Backend) -> (SocketAddr, Db, String, TestDbGuard) {
    let (url, guard) = TestDb::fresh_url(backend).await;
    let (db, _) = Db::init(&url).await.unwrap();
    let scope = Scope::system("test");
    let opts = ImportOptions::default();
    opsdesk_ingest::stores::import_stores(&db, &scope, &data("small/stores.csv"), &opts).await.unwrap();
    opsdesk_ingest::sales::import_sales(&db, &scope, &data("small/sales_lines.csv"), &opts).await.unwrap();
    for (name, role, password) in PASSWORDS {
        let reach = match role {
            Role::RegionManager => ReachRef::Region("华南".into()),
            Role::StoreManager => ReachRef::Store("S0002".into()),
            _ => ReachRef::None,
        };
        let password_hash = opsdesk_web::auth::hash_password(password).unwrap();
        db.create_user(&scope, &NewUser { name: name.to_string(), role: *role, reach, password_hash }).await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(db.clone(), listener, Config::default()));
    (addr, db, url, guard)
}

/// Runs blocking browser steps off the server's runtime.
async fn browse<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn password(name: &str) -> &'static str {
    PASSWORDS.iter().find(|p| p.0 == name).unwrap().2
}

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
        ("GET", "/", "/"),
        ("GET", "/reports/{name}", "/reports/traffic?month=2026-10"),
        ("GET", "/reports/{name}/download", "/reports/rfm-segments/download?asof=2026-10-31"),
    ];
    for r in ROUTES {
        assert!(
            samples.iter().any(|s| s.0 == r.method && s.1 == r.path),
            "route {} {} has no entry in this test",
            r.method,
            r.path
        );
    }
    let backend = TestDb::backends()[0];
    let (addr, db, _url, _guard) = desk(backend).await;
    let routes: Vec<(String, String, Access)> =
        ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string(), r.access)).collect();
    let samples: Vec<(String, String, String)> =
        samples.iter().map(|(m, p, s)| (m.to_string(), p.to_string(), s.to_string())).collect();
    browse(move || {
        for (method, path, access) in &routes {
            let sample = &samples.iter().find(|s| &s.0 == method && &s.1 == path).unwrap().2;
            // Signed out.
            let mut b = Browser::new(addr);
            let r = b.send(method, sample, (method == "POST").then_some(&[][..]));
            match access {
                Access::SignedIn => assert_eq!(
                    (r.status, r.header("location").map(|l| l.starts_with("/login?next="))),
                    (303, Some(true)),
                    "{method} {path} signed out"
                ),
                Access::Public => {
                    assert!(r.status < 500 && r.status != 303 || path.starts_with("/lang"), "{method} {path}")
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
                let ok = if path.starts_with("/lang") { r.status == 303 } else { r.status == 200 };
                assert!(ok, "{method} {path} as {user}: {}", r.status);
            }
        }
    })
    .await;
    db.close().await;
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
    })
    .await;
    db.close().await;
}
