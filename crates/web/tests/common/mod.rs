//! What the web tests share: the small company served on a free port with
//! a user per role, and a minimal HTTP client that keeps cookies.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;

use opsdesk_db::people::{NewUser, ReachRef};
use opsdesk_db::testing::{TestDb, TestDbGuard};
use opsdesk_db::{Backend, Db, Scope};
use opsdesk_domain::people::Role;
use opsdesk_ingest::ImportOptions;
use opsdesk_web::server::{Config, serve};

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

/// An HTTP response, as read off the socket.
pub struct Res {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The cookies this response sets: name → value.
    pub fn cookies(&self) -> HashMap<String, String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next()?.split_once('=').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect()
    }
}

/// A browser of one: keeps cookies, speaks HTTP/1.1 over a fresh connection per request.
pub struct Browser {
    pub addr: SocketAddr,
    pub cookies: HashMap<String, String>,
    pub lang: &'static str,
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Browser {
        Browser { addr, cookies: HashMap::new(), lang: "en" }
    }

    pub fn send(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Res {
        self.send_with(method, path, form, &[])
    }

    pub fn send_with(
        &mut self,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
        extra: &[(&str, &str)],
    ) -> Res {
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
        for (k, v) in extra {
            req.push_str(&format!("{k}: {v}\r\n"));
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
        let res = read_response(s);
        for (k, v) in res.cookies() {
            if v.is_empty() {
                self.cookies.remove(&k);
            } else {
                self.cookies.insert(k, v);
            }
        }
        res
    }

    /// A request whose body is raw bytes (a file upload).
    pub fn send_bytes(&mut self, method: &str, path: &str, body: &[u8], extra: &[(&str, &str)]) -> Res {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept-Language: {}\r\nContent-Length: {}\r\n",
            self.addr,
            self.lang,
            body.len()
        );
        if !cookie.is_empty() {
            req.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        for (k, v) in extra {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let mut s = TcpStream::connect(self.addr).expect("connect");
        s.write_all(req.as_bytes()).unwrap();
        // A server that refuses the request may answer and close before
        // reading the whole body: its answer is still there to read.
        let _ = s.write_all(body);
        read_response(s)
    }

    pub fn get(&mut self, path: &str) -> Res {
        self.send("GET", path, None)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Res {
        self.send("POST", path, Some(form))
    }

    /// Opens the sign-in page and signs in.
    pub fn sign_in(&mut self, name: &str, password: &str) -> Res {
        let page = self.get("/login");
        assert_eq!(page.status, 200);
        let csrf = hidden(&page.text(), "csrf");
        self.post("/login", &[("csrf", &csrf), ("name", name), ("password", password), ("next", "/")])
    }

    /// The CSRF token of the signed-in pages.
    pub fn csrf(&mut self) -> String {
        hidden(&self.get("/").text(), "csrf")
    }
}

/// Reads one response off a connection the server closes after it.
pub fn read_response(mut s: TcpStream) -> Res {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    let res = Res { status, headers, body: raw[split + 4..].to_vec() };
    assert!(res.header("transfer-encoding").is_none(), "bodies come with a length");
    res
}

pub fn encode(s: &str) -> String {
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
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}

pub const PASSWORDS: &[(&str, Role, &str)] = &[
    ("admin", Role::Admin, "admin passphrase 1"),
    ("ops", Role::Operations, "ops passphrase 12"),
    ("fin", Role::Finance, "finance passphrase"),
    ("south", Role::RegionManager, "region passphrase"),
    ("s0002", Role::StoreManager, "store passphrase 2"),
];

/// The small company with a user per role, served on a free port.
pub async fn desk(backend: Backend) -> (SocketAddr, Db, String, TestDbGuard) {
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
pub async fn browse<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

pub fn password(name: &str) -> &'static str {
    PASSWORDS.iter().find(|p| p.0 == name).unwrap().2
}

/// Two positions with hand scorecards and three employees of S0002.
pub async fn staff(db: &opsdesk_db::Db) {
    use opsdesk_domain::appraisal::scoring::parse_scorecard;
    use opsdesk_domain::staff::{EmployeeRecord, PositionRecord, Unit};
    let all = Scope::system("test");
    let pos = |code: &str, name: &str| PositionRecord { code: code.into(), name: name.into(), duties: String::new() };
    db.save_positions(&all, &[pos("SM", "店长"), pos("PH", "药师")]).await.unwrap();
    for p in ["SM", "PH"] {
        db.set_scorecard(&all, p, &parse_scorecard("work:工作:70:hand,gsp:GSP:30:hand").unwrap()).await.unwrap();
    }
    let day = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let emp = |code: &str, position: &str, level: &str| EmployeeRecord {
        code: code.into(),
        name: format!("员工{code}"),
        unit: Unit::Store("S0002".into()),
        position: position.into(),
        level: level.into(),
        pay_base: None,
        excluded: false,
        start_date: day,
        end_date: None,
    };
    db.save_employees(
        &all,
        &[emp("E1", "SM", "manager"), emp("E2", "PH", "specialist"), emp("E3", "PH", "specialist")],
    )
    .await
    .unwrap();
}
