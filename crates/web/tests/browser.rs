//! The desk in a real browser: headless Chromium driven over WebDriver
//! (ChromeDriver), on the desktop and at a phone's width. Screenshots go to
//! `target/screenshots/`.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{desk, password};
use opsdesk_db::testing::TestDb;
use serde_json::{Value, json};

/// ChromeDriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One JSON request to the driver.
fn call(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = TcpStream::connect(addr).expect("connect to chromedriver");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    // ChromeDriver keeps the connection open: read the header, then the
    // body by its length (or its chunks) rather than to the end.
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let split = loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "chromedriver closed the connection");
        raw.extend_from_slice(&buf[..n]);
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let length =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).map(|v| v.trim().parse::<usize>().unwrap());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let body = &raw[split + 4..];
        let done = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let mut payload = raw[split + 4..].to_vec();
    if chunked {
        payload = dechunk(&payload);
    }
    serde_json::from_slice(&payload)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", String::from_utf8_lossy(&payload)))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..line_end]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[line_end + 2..line_end + 2 + n]);
        b = &b[line_end + 2 + n + 2..];
    }
}

fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "chromedriver must be installed (scripts/test installs it; OPSDESK_TEST_BROWSER=off skips these tests)",
        );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let start = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver { child, addr }
}

/// A browser window, through the driver.
struct Window<'d> {
    driver: &'d Driver,
    session: String,
}

impl Window<'_> {
    fn open<'d>(driver: &'d Driver, downloads: &std::path::Path) -> Window<'d> {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--lang=zh-CN"],
                "prefs": {"download.default_directory": downloads.to_str().unwrap(),
                          "download.prompt_for_download": false,
                          "intl.accept_languages": "zh-CN,zh"}
            }
        }}});
        let v = call(driver.addr, "POST", "/session", Some(&caps));
        let session = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
        Window { driver, session }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = call(self.driver.addr, method, &format!("/session/{}{path}", self.session), body.as_ref());
        if let Some(err) = v["value"].get("error") {
            panic!("{method} {path}: {err} {}", v["value"]["message"]);
        }
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }

    /// Signs in as a test user and waits for the dashboard.
    fn sign_in(&self, base: &str, name: &str) {
        self.go(&format!("{base}/login"));
        self.type_into("input[name=name]", name);
        self.type_into("input[name=password]", password(name));
        self.click("button[type=submit]");
        wait_for("the dashboard", || self.url() == format!("{base}/"));
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", None).as_str().unwrap().to_string()
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        v.as_object().and_then(|o| o.values().next()).and_then(|e| e.as_str()).unwrap().to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.cmd("POST", &format!("/element/{el}/value"), Some(json!({"text": text})));
    }

    fn click(&self, css: &str) {
        let el = self.find(css);
        self.cmd("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    fn text(&self, css: &str) -> String {
        let el = self.find(css);
        self.cmd("GET", &format!("/element/{el}/text"), None).as_str().unwrap().to_string()
    }

    fn script(&self, js: &str) -> Value {
        self.cmd("POST", "/execute/sync", Some(json!({"script": js, "args": []})))
    }

    fn size(&self, width: u32, height: u32) {
        self.cmd("POST", "/window/rect", Some(json!({"width": width, "height": height})));
    }

    fn screenshot(&self, name: &str) {
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64_decode(b64.as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

impl Drop for Window<'_> {
    fn drop(&mut self) {
        let _ = call(self.driver.addr, "DELETE", &format!("/session/{}", self.session), None);
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'=' && !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let v: Vec<u32> = chunk.iter().map(|&c| u32::from(val(c))).collect();
        let n = v.iter().fold(0u32, |acc, &x| acc << 6 | x) << (6 * (4 - v.len()));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..v.len() - 1]);
    }
    out
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < Duration::from_secs(15), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_manager_and_an_analyst_use_the_desk_in_chromium() {
    if std::env::var("OPSDESK_TEST_BROWSER").is_ok_and(|v| v == "off") {
        return;
    }
    let backend = TestDb::backends()[0];
    let (addr, db, _url, _guard) = desk(backend).await;
    tokio::task::spawn_blocking(move || {
        let driver = start_driver();
        let downloads = tempdir();
        let base = format!("http://{addr}");

        // Operations, on a desktop: sign in, the dashboard, the daily report.
        let w = Window::open(&driver, &downloads);
        w.go(&format!("{base}/"));
        assert!(w.url().contains("/login?next="), "signed out, the desk asks to sign in first");
        assert_eq!(w.text("h1"), "登录");
        w.type_into("input[name=name]", "ops");
        w.type_into("input[name=password]", password("ops"));
        w.click("button[type=submit]");
        wait_for("the dashboard", || w.url() == format!("{base}/"));
        assert!(w.text("h1").starts_with("昨日经营 2026-10-31"), "{}", w.text("h1"));
        assert!(w.text(".kpis").contains("销售额"));
        let drawn = || w.script("return document.querySelectorAll('.chart svg').length;").as_i64().unwrap();
        wait_for("the trend chart", || drawn() == 1);
        w.screenshot("dashboard-desktop");
        w.go(&format!("{base}/reports/category?from=2026-10&to=2026-10"));
        wait_for("the Pareto chart", || drawn() == 1);
        w.screenshot("category-desktop");
        w.go(&format!("{base}/reports/traffic?month=2026-10"));
        assert!(w.text("table.grid").contains("S0002"));
        w.screenshot("traffic-grid-desktop");

        w.click("nav a[href='/reports/daily']");
        wait_for("the daily report", || w.url().ends_with("/reports/daily"));
        let body = w.text("table.report");
        assert!(body.contains("S0001") && body.contains("Σ"), "every store and the company total");
        w.screenshot("daily-desktop");

        // Sorting swaps the report in place (htmx), keeping the page: a mark
        // left on the window survives, and the address follows.
        w.script("window.stillHere = true;");
        let first_store = || w.text("table.report tbody tr:first-child td:first-child");
        w.click("table.report th:nth-child(3) a");
        wait_for("sorted by revenue", || w.url().contains("sort=revenue"));
        w.click("table.report th:nth-child(3) a");
        wait_for("sorted by revenue, descending", || w.url().contains("dir=desc"));
        assert_eq!(first_store(), "S0007", "the day's largest store first");
        assert_eq!(w.script("return window.stillHere === true;"), json!(true), "no page load");

        // Switch the language: the same page in English.
        w.click("a.lang");
        wait_for("English", || w.text("a.lang") == "中文");
        assert!(w.text("table.report thead").contains("revenue"), "{}", w.text("table.report thead"));
        w.screenshot("daily-desktop-en");

        // Download the XLSX the page offers.
        w.click(".downloads a[href*='format=xlsx']");
        let file = downloads.join("r1_daily.xlsx");
        wait_for("the XLSX download", || {
            file.exists() && std::fs::metadata(&file).map(|m| m.len() > 0).unwrap_or(false)
        });
        wait_for("the finished download", || !downloads.join("r1_daily.xlsx.crdownload").exists());
        let bytes = std::fs::read(&file).unwrap();
        assert!(bytes.starts_with(b"PK"), "an XLSX workbook");

        // Import a file with bad rows: the page follows it and lists them.
        w.go(&format!("{base}/imports"));
        let dirty = common::data("small_dirty/sales_lines.csv").canonicalize().unwrap();
        w.type_into("#upload input[type=file]", dirty.to_str().unwrap());
        w.click("#upload button[type=submit]");
        wait_for("the import's end", || w.text("#outcome").contains("240"));
        assert!(w.text("#errors").lines().count() >= 240, "every bad row listed");
        w.screenshot("import-errors");
        drop(w);

        // A store manager, on a phone 390 px wide: her store only, no company
        // total, and nothing wider than the screen but the table's own scroller.
        let w = Window::open(&driver, &downloads);
        w.size(390, 844);
        w.sign_in(&base, "s0002");
        w.screenshot("dashboard-phone");
        w.go(&format!("{base}/reports/daily"));
        let table = w.text("table.report tbody");
        assert!(table.contains("S0002") && !table.contains("S0001"), "{table}");
        let overflow = w.script("return document.documentElement.scrollWidth - window.innerWidth;");
        assert!(overflow.as_i64().unwrap() <= 0, "the page is wider than the phone: {overflow}");
        w.screenshot("daily-phone");
    })
    .await
    .unwrap();
    db.close().await;
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("opsdesk-downloads-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_makes_a_plan_edits_it_and_follows_it_in_chromium() {
    if std::env::var("OPSDESK_TEST_BROWSER").is_ok_and(|v| v == "off") {
        return;
    }
    let backend = TestDb::backends()[0];
    let (addr, db, _url, _guard) = desk(backend).await;
    tokio::task::spawn_blocking(move || {
        let driver = start_driver();
        let downloads = tempdir();
        let base = format!("http://{addr}");
        let w = Window::open(&driver, &downloads);
        w.sign_in(&base, "ops");

        // A plan for 2026 from the targets page.
        w.click("nav a[href='/targets']");
        wait_for("the targets page", || w.url().ends_with("/targets"));
        w.script("document.querySelector('form[action=\"/targets\"] input[name=year]').value = '';");
        w.type_into("form[action='/targets'] input[name=year]", "2026");
        w.type_into("form[action='/targets'] input[name=baseline]", "1000000");
        w.type_into("form[action='/targets'] input[name=stretch]", "1100000");
        w.script("document.querySelector('select[name=method]').value = 'area';");
        w.click("form[action='/targets'] button[type=submit]");
        wait_for("the plan's page", || w.url().ends_with("/targets/1"));
        let table = w.text("table.targets");
        assert!(table.contains("S0001") && table.contains("S0008") && table.contains("Σ"), "{table}");
        w.screenshot("target-plan-desktop");

        // Into a store's months; March set by hand, the other months give way.
        w.click("table.targets a[href='/targets/1?store=S0001']");
        wait_for("the store's months", || w.url().ends_with("?store=S0001"));
        w.script(
            "var f = document.querySelector('table.targets tbody tr:nth-child(3) form[action$=\"/edit\"]');
             f.querySelector('input[name=baseline]').value = '20000.00';
             f.querySelector('input[name=stretch]').value = '22000.00';
             f.submit();",
        );
        wait_for("the change", || w.script("return !!document.querySelector('p.fresh');").as_bool() == Some(true));
        let march = w.text("table.targets tbody tr:nth-child(3)");
        assert!(march.contains("2026-03") && march.contains("20,000.00") && march.contains("22,000.00"), "{march}");
        w.screenshot("target-store-months");

        // Follow it: the month day by day with its cumulative chart, and tracking.
        w.go(&format!("{base}/reports/target-progress?plan=1&month=2026-10"));
        let drawn = || w.script("return document.querySelectorAll('.chart svg').length;").as_i64().unwrap();
        wait_for("the cumulative chart", || drawn() == 1);
        w.screenshot("target-progress");
        w.go(&format!("{base}/reports/target-tracking?plan=1&date=2026-10-20"));
        assert!(w.text("table.report").contains("S0002"));
        w.screenshot("target-tracking");
        drop(w);

        // The store manager on a phone: her store's plan, no forms, nothing too wide.
        let w = Window::open(&driver, &downloads);
        w.size(390, 844);
        w.sign_in(&base, "s0002");
        w.go(&format!("{base}/targets/1"));
        let table = w.text("table.targets");
        assert!(table.contains("S0002") && !table.contains("S0001"), "{table}");
        assert_eq!(w.script("return document.querySelectorAll('form[action$=\"/edit\"]').length;"), json!(0));
        let overflow = w.script("return document.documentElement.scrollWidth - window.innerWidth;");
        assert!(overflow.as_i64().unwrap() <= 0, "the page is wider than the phone: {overflow}");
        w.screenshot("target-plan-phone");
    })
    .await
    .unwrap();
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scorecard_is_edited_and_a_store_manager_scores_on_her_phone_in_chromium() {
    if std::env::var("OPSDESK_TEST_BROWSER").is_ok_and(|v| v == "off") {
        return;
    }
    let backend = TestDb::backends()[0];
    let (addr, db, _url, _guard) = desk(backend).await;
    common::staff(&db).await;
    tokio::task::spawn_blocking(move || {
        let driver = start_driver();
        let downloads = tempdir();
        let base = format!("http://{addr}");

        // Operations: the pharmacist's scorecard gains an indicator, then the cycle opens.
        let w = Window::open(&driver, &downloads);
        w.sign_in(&base, "ops");
        w.click("nav a[href='/staff']");
        wait_for("the staff page", || w.url().ends_with("/staff"));
        assert!(w.text("main").contains("E2"));
        w.go(&format!("{base}/staff/positions/PH"));
        w.script(
            "var set = (n, v) => document.querySelector('[name=' + n + ']').value = v;
             set('weight0', '50'); set('weight1', '30');
             set('key2', 'advice'); set('name2', '用药咨询'); set('weight2', '20');",
        );
        w.click("form[action$='/scorecard'] button[type=submit]");
        wait_for("the saved card", || w.script("return !!document.querySelector('p.fresh');").as_bool() == Some(true));
        // Saved and shown in key order: advice, gsp, work.
        assert_eq!(w.script("return document.querySelector('[name=name0]').value;"), json!("用药咨询"));
        w.screenshot("scorecard-desktop");
        w.go(&format!("{base}/appraisal"));
        w.type_into("form[action='/appraisal'] input[name=month]", "2026-10");
        w.click("form[action='/appraisal'] button[type=submit]");
        let opened = || w.script("return document.body.innerText.includes('store:S0002');").as_bool() == Some(true);
        wait_for("the cycle", opened);
        drop(w);

        // The store manager on a phone: reminded, she scores her pharmacist.
        let w = Window::open(&driver, &downloads);
        w.size(390, 844);
        w.sign_in(&base, "s0002");
        assert!(w.text("main").contains("等待您处理: 1"), "{}", w.text("main"));
        w.click("main a[href='/appraisal']");
        wait_for("the appraisal page", || w.url().ends_with("/appraisal"));
        w.click("section.todo a");
        wait_for("the unit's page", || w.url().contains("unit=store%3AS0002"));
        assert_eq!(
            w.script("return document.querySelectorAll('input[name=employee][value=E1]').length;"),
            json!(0),
            "her own level is not hers to score"
        );
        w.script(
            "var f = [...document.querySelectorAll('form[action$=\"/score\"]')]
                 .find(f => f.querySelector('[name=employee]').value == 'E2' && f.querySelector('[name=indicator]').value == 'advice');
             f.querySelector('[name=points]').value = '88';
             f.submit();",
        );
        wait_for("the score", || w.script("return !!document.querySelector('p.fresh');").as_bool() == Some(true));
        assert!(w.text("p.fresh").contains("E2 advice: 88.00"), "{}", w.text("p.fresh"));
        let overflow = w.script("return document.documentElement.scrollWidth - window.innerWidth;");
        assert!(overflow.as_i64().unwrap() <= 0, "the page is wider than the phone: {overflow}");
        w.screenshot("appraisal-unit-phone");
    })
    .await
    .unwrap();
    db.close().await;
}
