//! The command line as a user runs it: real processes, real databases.

use std::path::PathBuf;
use std::process::{Command, Output};

use opsdesk_db::Backend;
use opsdesk_db::testing::TestDb;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

fn opsdesk(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsdesk"))
        .args(args)
        .env("OPSDESK_DATABASE_URL", db)
        .env_remove("OPSDESK_LANG")
        .env("LANG", "C")
        .output()
        .expect("run opsdesk")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}\nstderr: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn small_company(backend: Backend) -> (String, opsdesk_db::testing::TestDbGuard) {
    let (url, guard) = TestDb::fresh_url(backend).await;
    ok(&opsdesk(&url, &["init"]));
    ok(&opsdesk(&url, &["import", "stores", data("small/stores.csv").to_str().unwrap()]));
    ok(&opsdesk(&url, &["import", "sales", data("small/sales_lines.csv").to_str().unwrap()]));
    (url, guard)
}

#[tokio::test]
async fn the_daily_report_csv_is_byte_identical_to_the_reference() {
    for backend in TestDb::backends() {
        let (url, _guard) = small_company(backend).await;
        for (date, oracle) in
            [("2026-10-31", "small/oracle/r1_daily.csv"), ("2026-08-15", "small/oracle_2026-08-15/r1_daily.csv")]
        {
            let got = ok(&opsdesk(&url, &["report", "daily", "--date", date, "--format", "csv"]));
            assert_eq!(got, std::fs::read_to_string(data(oracle)).unwrap(), "{backend:?} {date}");
        }
    }
}

#[tokio::test]
async fn every_report_csv_is_byte_identical_to_the_reference() {
    for backend in TestDb::backends() {
        let (url, _guard) = small_company(backend).await;
        for (args, file) in [
            (vec!["monthly"], "r2_monthly"),
            (vec!["traffic", "--month", "2026-10"], "r3_traffic"),
            (vec!["category"], "r4_category"),
            (vec!["rfm", "--asof", "2026-10-31"], "r5_rfm_members"),
            (vec!["rfm-segments", "--asof", "2026-10-31"], "r5_rfm_segments"),
        ] {
            let mut all = vec!["report"];
            all.extend(args);
            all.extend(["--format", "csv"]);
            let got = ok(&opsdesk(&url, &all));
            let want = std::fs::read_to_string(data(&format!("small/oracle/{file}.csv"))).unwrap();
            assert!(got == want, "{backend:?} {file} differs:\n{}", first_difference(&got, &want));
        }
    }
}

#[tokio::test]
async fn weekly_efficiency_and_region_reports_match_an_independent_duckdb_computation() {
    for backend in TestDb::backends() {
        let (url, _guard) = small_company(backend).await;
        for (args, golden) in [
            (vec!["weekly", "--week", "2026-W44"], "weekly_2026-W44"),
            (vec!["weekly", "--week", "2026-W33"], "weekly_2026-W33"),
            (vec!["efficiency", "--from", "2026-10-01", "--to", "2026-10-31"], "efficiency_2026-10"),
            (vec!["regions", "--month", "2026-10"], "regions_2026-10"),
            (vec!["regions", "--month", "2026-08"], "regions_2026-08"),
        ] {
            let mut all = vec!["report"];
            all.extend(args);
            all.extend(["--format", "csv"]);
            let got = ok(&opsdesk(&url, &all));
            let want = std::fs::read_to_string(data(&format!("small/golden/{golden}.csv"))).unwrap();
            assert!(got == want, "{backend:?} {golden} differs:\n{}", first_difference(&got, &want));
        }
    }
}

/// A folder of its own for a test's files, gone when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let dir = std::env::temp_dir().join(format!("opsdesk_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Folder(dir)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.0.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_pack_writes_every_report_as_its_own_command_would() {
    for backend in TestDb::backends() {
        let (url, _guard) = small_company(backend).await;
        let dir = Folder::new(&format!("pack_{backend:?}"));
        let out = opsdesk(&url, &["report", "pack", "--out", dir.0.to_str().unwrap(), "--date", "2026-10-31"]);
        ok(&out);
        for (file, want) in [
            ("r1_daily.csv", "small/oracle/r1_daily.csv"),
            ("r2_monthly.csv", "small/oracle/r2_monthly.csv"),
            ("r3_traffic.csv", "small/oracle/r3_traffic.csv"),
            ("r4_category.csv", "small/oracle/r4_category.csv"),
            ("r5_rfm_members.csv", "small/oracle/r5_rfm_members.csv"),
            ("r5_rfm_segments.csv", "small/oracle/r5_rfm_segments.csv"),
            ("weekly.csv", "small/golden/weekly_2026-W44.csv"),
            ("efficiency.csv", "small/golden/efficiency_2026-10.csv"),
            ("regions.csv", "small/golden/regions_2026-10.csv"),
        ] {
            let (got, want) = (dir.read(file), std::fs::read_to_string(data(want)).unwrap());
            assert!(got == want, "{backend:?} {file} differs:\n{}", first_difference(&got, &want));
        }
        assert_eq!(dir.files().len(), 9, "{:?}", dir.files());
        // Named in the order of the reports, whichever was made first.
        let stderr = text(&out);
        let said: Vec<&str> = stderr.lines().map(|l| l.rsplit('/').next().unwrap()).collect();
        assert_eq!(
            said,
            [
                "r1_daily.csv (8 rows)",
                "weekly.csv (8 rows)",
                "r2_monthly.csv (32 rows)",
                "r3_traffic.csv (245 rows)",
                "efficiency.csv (8 rows)",
                "regions.csv (3 rows)",
                "r4_category.csv (48 rows)",
                "r5_rfm_members.csv (2612 rows)",
                "r5_rfm_segments.csv (8 rows)",
            ]
        );
    }
}

#[tokio::test]
async fn a_pack_of_some_reports_in_json_holds_what_their_commands_print() {
    let (url, _guard) = small_company(Backend::Sqlite).await;
    let dir = Folder::new("pack_json");
    let out = opsdesk(
        &url,
        &[
            "report",
            "pack",
            "--out",
            dir.0.to_str().unwrap(),
            "--only",
            "rfm-segments,traffic",
            "--month",
            "2026-08",
            "--asof",
            "2026-08-15",
            "--format",
            "json",
            "-q",
        ],
    );
    ok(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out));
    assert_eq!(dir.files(), ["r3_traffic.json", "r5_rfm_segments.json"]);
    let traffic = ok(&opsdesk(&url, &["report", "traffic", "--month", "2026-08", "--format", "json"]));
    assert_eq!(dir.read("r3_traffic.json"), traffic);
    let segments = ok(&opsdesk(&url, &["report", "rfm-segments", "--asof", "2026-08-15", "--format", "json"]));
    assert_eq!(dir.read("r5_rfm_segments.json"), segments);
    let table = opsdesk(&url, &["report", "pack", "--out", dir.0.to_str().unwrap(), "--format", "table"]);
    assert_eq!(table.status.code(), Some(2));
    assert!(text(&table).contains("a pack is written as files: --format csv, json or xlsx"), "{}", text(&table));
}

fn first_difference(got: &str, want: &str) -> String {
    match got.lines().zip(want.lines()).enumerate().find(|(_, (a, b))| a != b) {
        Some((i, (a, b))) => format!("line {}: got {a:?}, want {b:?}", i + 1),
        None => format!("{} lines vs {}", got.lines().count(), want.lines().count()),
    }
}

#[tokio::test]
async fn a_report_as_xlsx_holds_the_same_numbers_as_its_csv() {
    let (url, _guard) = small_company(Backend::Sqlite).await;
    let file = std::env::temp_dir().join(format!("opsdesk_monthly_{}.xlsx", std::process::id()));
    let out =
        opsdesk(&url, &["report", "monthly", "--format", "xlsx", "--out", file.to_str().unwrap(), "--lang", "zh"]);
    ok(&out);
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&file).unwrap();
    let range = book.worksheet_range("r2_monthly").unwrap();
    let _ = std::fs::remove_file(&file);
    assert_eq!(range.get_value((1, 0)), Some(&Data::String("门店".into())));
    assert_eq!(range.get_value((1, 9)), Some(&Data::String("人效".into())));
    let csv = std::fs::read_to_string(data("small/oracle/r2_monthly.csv")).unwrap();
    for (i, line) in csv.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let row = (i + 2) as u32;
        assert_eq!(range.get_value((row, 0)), Some(&Data::String(f[0].into())));
        assert_eq!(range.get_value((row, 2)), Some(&Data::Float(f[2].parse().unwrap())), "row {row}");
        match f[8] {
            "" => assert!(matches!(range.get_value((row, 8)), None | Some(Data::Empty))),
            v => assert_eq!(range.get_value((row, 8)), Some(&Data::Float(v.parse().unwrap()))),
        }
    }
}

#[tokio::test]
async fn a_dirty_file_exits_2_names_its_bad_rows_and_imports_nothing() {
    let (url, _guard) = TestDb::fresh_url(Backend::Sqlite).await;
    ok(&opsdesk(&url, &["init"]));
    ok(&opsdesk(&url, &["import", "stores", data("small/stores.csv").to_str().unwrap()]));
    let out = opsdesk(&url, &["import", "sales", data("small_dirty/sales_lines.csv").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out);
    assert!(err.contains("sales_lines.csv has 240 bad rows (of 20548 read); nothing was imported."), "{err}");
    assert!(err.contains("2025-03-01T25:61:00") || err.contains("sold_at"), "{err}");
    assert!(err.contains("… and 220 more"), "{err}");
    let history = ok(&opsdesk(&url, &["imports"]));
    assert!(history.lines().nth(2).unwrap().contains("refused"), "{history}");
    let out = opsdesk(&url, &["report", "daily", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2), "no sales means no report");
}

#[tokio::test]
async fn importing_the_same_file_twice_says_so_and_exits_0() {
    let (url, _guard) = small_company(Backend::Sqlite).await;
    let out = opsdesk(&url, &["import", "sales", data("small/sales_lines.csv").to_str().unwrap()]);
    assert!(out.status.success());
    assert!(text(&out).contains("sales_lines.csv was already imported (batch 2); nothing changed"), "{}", text(&out));
}

#[tokio::test]
async fn flags_go_before_or_after_the_subcommand_and_speak_chinese() {
    let (url, _guard) = small_company(Backend::Sqlite).await;
    let out = Command::new(env!("CARGO_BIN_EXE_opsdesk"))
        .args(["import", "sales", data("small/sales_lines.csv").to_str().unwrap(), "--db", &url, "--lang", "zh"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(text(&out).contains("已导入过（批次 2），未做任何更改"), "{}", text(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_opsdesk"))
        .args(["--lang", "zh", "--db", &url, "--quiet", "imports"])
        .output()
        .unwrap();
    assert!(ok(&out).starts_with("批次"));
}

#[tokio::test]
async fn bad_usage_exits_2() {
    let (url, _guard) = TestDb::fresh_url(Backend::Sqlite).await;
    assert_eq!(opsdesk("mysql://x@y/z", &["init"]).status.code(), Some(2));
    assert_eq!(opsdesk(&url, &["import", "sales"]).status.code(), Some(2));
    let out = opsdesk(&url, &["imports"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("run `opsdesk init` first"));
    ok(&opsdesk(&url, &["init"]));
    let out = opsdesk(&url, &["import", "sales", "/nonexistent/sales.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("/nonexistent/sales.csv: cannot be read:"), "{}", text(&out));
}

#[tokio::test]
async fn skip_bad_rows_writes_the_rejects_where_asked() {
    let (url, _guard) = TestDb::fresh_url(Backend::Sqlite).await;
    ok(&opsdesk(&url, &["init"]));
    ok(&opsdesk(&url, &["import", "stores", data("small/stores.csv").to_str().unwrap()]));
    let rejects = std::env::temp_dir().join(format!("opsdesk_rejects_{}.csv", std::process::id()));
    let out = opsdesk(
        &url,
        &[
            "import",
            "sales",
            data("small_dirty/sales_lines.csv").to_str().unwrap(),
            "--skip-bad-rows",
            "--rejects",
            rejects.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("imported sales_lines.csv (sales): 20308 rows"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&rejects).unwrap().lines().count(), 241);
    let _ = std::fs::remove_file(rejects);
}

#[tokio::test]
async fn the_demo_builds_a_company_and_prints_its_daily_report() {
    let (url, _guard) = TestDb::fresh_url(Backend::Sqlite).await;
    let out =
        opsdesk(&url, &["demo", "--no-serve", "--stores", "4", "--days", "60", "--end", "2026-10-31", "--lang", "zh"]);
    let table = ok(&out);
    assert!(text(&out).contains("演示公司已建立：4 家门店，2026-09-02 至 2026-10-31"), "{}", text(&out));
    // Its people: two appraisal cycles, the older paid in every unit, the
    // latest still scoring in the demo store manager's store.
    assert!(text(&out).contains("名员工，考核周期 2026-08、2026-09"), "{}", text(&out));
    let paid = ok(&opsdesk(&url, &["appraisal", "status", "--cycle", "2026-08"]));
    let units = paid.lines().skip(2).count();
    assert!(units >= 4 + 3 && paid.lines().skip(2).all(|l| l.contains(" paid ")), "{paid}");
    let latest = ok(&opsdesk(&url, &["appraisal", "status", "--cycle", "2026-09"]));
    assert!(latest.lines().any(|l| l.starts_with("store:S0001") && l.contains("scoring")), "{latest}");
    assert!(table.lines().any(|l| l.starts_with("门店    日期")), "{table}");
    // Region totals and the company total follow the stores.
    let totals = table.lines().filter(|l| l.starts_with("Σ ")).count();
    assert!(totals >= 2, "{table}");
    assert_eq!(table.lines().count(), 2 + 4 + totals, "{table}");
    assert_eq!(table.lines().filter(|l| l.starts_with("S000")).count(), 4);
    // A second run finds the company and only prints.
    let again = opsdesk(&url, &["demo", "--no-serve", "--lang", "en"]);
    assert!(text(&again).contains("already holds a company"));
    assert_eq!(ok(&again).lines().count(), table.lines().count());
}

#[tokio::test]
async fn summary_only_data_gives_the_store_reports_and_refuses_those_that_need_lines() {
    let (url, _guard) = TestDb::fresh_url(Backend::Sqlite).await;
    ok(&opsdesk(&url, &["init"]));
    ok(&opsdesk(&url, &["import", "stores", data("small/stores.csv").to_str().unwrap()]));
    let file = std::env::temp_dir().join(format!("opsdesk_daily_{}.csv", std::process::id()));
    std::fs::write(
        &file,
        "门店编码,日期,销售额,成本,客流,数量,会员销售额\nS0001,2026-10-24,1000.00,600.00,10,25,400.00\nS0001,2026-10-31,1500.00,900.00,12,30,\nS0002,2026-10-31,800.00,500.00,8,,200.00\n",
    )
    .unwrap();
    ok(&opsdesk(&url, &["import", "daily", file.to_str().unwrap()]));
    let _ = std::fs::remove_file(&file);
    let daily = ok(&opsdesk(&url, &["report", "daily", "--date", "2026-10-31", "--format", "csv"]));
    let s1 = daily.lines().find(|l| l.starts_with("S0001,")).unwrap();
    // Items per ticket from 30 / 12; member share unknown for a day without it; +50% on last week.
    assert_eq!(s1, "S0001,2026-10-31,1500.00,600.00,40.00,12,125.00,2.50,,2500.00,1000.00,50.00,0.00,");
    let s2 = daily.lines().find(|l| l.starts_with("S0002,")).unwrap();
    assert_eq!(s2, "S0002,2026-10-31,800.00,300.00,37.50,8,100.00,,25.00,800.00,0.00,,0.00,");
    let monthly = ok(&opsdesk(&url, &["report", "monthly", "--format", "csv"]));
    assert!(monthly.contains("S0001,2026-10,2500.00,1000.00,40.00,22,113.64,"), "{monthly}");
    let weekly = ok(&opsdesk(&url, &["report", "weekly", "--week", "2026-W44", "--format", "csv"]));
    assert!(weekly.contains("S0001,2026-W44,1,1500.00,600.00,40.00,12,125.00,2.50,,1000.00,50.00,0.00,"), "{weekly}");
    ok(&opsdesk(&url, &["report", "traffic", "--month", "2026-10", "--format", "csv"]));
    ok(&opsdesk(&url, &["report", "efficiency", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "csv"]));
    for report in ["category", "rfm", "rfm-segments"] {
        let out = opsdesk(&url, &["report", report, "--format", "csv"]);
        assert_eq!(out.status.code(), Some(2), "{report}");
        assert!(text(&out).contains("3 store-days came as daily summaries without category or member detail: this report cannot be made from them"), "{}", text(&out));
        assert!(out.stdout.is_empty());
    }
    // A pack makes what it can, then names what it could not and fails.
    let dir = Folder::new("pack_summaries");
    let out = opsdesk(&url, &["report", "pack", "--out", dir.0.to_str().unwrap(), "--date", "2026-10-31"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        dir.files(),
        ["efficiency.csv", "r1_daily.csv", "r2_monthly.csv", "r3_traffic.csv", "regions.csv", "weekly.csv"]
    );
    assert_eq!(dir.read("r1_daily.csv"), daily);
    let cannot = "3 store-days came as daily summaries without category or member detail: this report cannot be made from them; import POS lines";
    assert!(
        text(&out).ends_with(&format!(
            "opsdesk: these reports were not made:\n  category: {cannot}\n  rfm: {cannot}\n  rfm-segments: {cannot}\n"
        )),
        "{}",
        text(&out)
    );
}
