//! `opsdesk targets`: plans made on a demo company add up exactly at every
//! level for every method, hand edits rebalance and keep locks, and a plan
//! goes through a spreadsheet and back — on SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use opsdesk_db::targets::{Grain, Plan};
use opsdesk_db::testing::TestDb;
use opsdesk_db::{Db, Reach, Scope};

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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A demo company of 12 stores with sales from 2024-12-01 to 2026-10-31,
/// without the plans the demo makes.
async fn company(backend: opsdesk_db::Backend) -> (String, opsdesk_db::testing::TestDbGuard) {
    let (url, guard) = TestDb::fresh_url(backend).await;
    ok(&opsdesk(&url, &["demo", "--no-serve", "--stores", "12", "--days", "700", "--end", "2026-10-31"]));
    for metric in ["revenue", "gross_profit"] {
        ok(&opsdesk(&url, &["targets", "delete", "--year", "2026", "--metric", metric]));
    }
    (url, guard)
}

#[tokio::test]
async fn the_demo_makes_this_years_revenue_and_gross_profit_plans() {
    let backend = TestDb::backends()[0];
    let (url, _guard) = TestDb::fresh_url(backend).await;
    ok(&opsdesk(&url, &["demo", "--no-serve", "--stores", "6", "--days", "400", "--end", "2026-10-31"]));
    let list = ok(&opsdesk(&url, &["targets", "list"]));
    assert!(list.contains("2026  revenue") && list.contains("2026  gross_profit"), "{list}");
    let db = Db::open(&url).await.unwrap();
    for metric in ["revenue", "gross_profit"] {
        let plan = db.target_plan_for(2026, metric).await.unwrap().unwrap();
        assert_exact(&db, &plan).await;
        // Last twelve months grown 8 % (baseline) and 15 % (stretch).
        assert!(plan.stretch > plan.baseline && plan.baseline > 0, "{metric}");
    }
    db.close().await;
}

#[tokio::test]
async fn a_metric_is_data_a_user_adds() {
    let backend = TestDb::backends()[0];
    let (url, _guard) = company(backend).await;
    let listed = ok(&opsdesk(
        &url,
        &[
            "targets",
            "metrics",
            "--key",
            "o2o_revenue",
            "--zh",
            "O2O 销售额",
            "--en",
            "O2O revenue",
            "--basis",
            "revenue",
        ],
    ));
    assert!(listed.contains("o2o_revenue") && listed.contains("O2O 销售额"), "{listed}");
    ok(&opsdesk(&url, &["targets", "plan", "--year", "2026", "--metric", "o2o_revenue", "--baseline", "500000"]));
    let bad = opsdesk(&url, &["targets", "metrics", "--key", "Bad Key", "--zh", "x", "--en", "x"]);
    assert_eq!(bad.status.code(), Some(2));
    let untracked = opsdesk(&url, &["targets", "track", "--metric", "o2o_revenue", "--date", "2026-10-20"]);
    assert!(stderr(&untracked).contains("can be set, not tracked"), "{}", stderr(&untracked));
}

/// Checks that every level of a plan is the exact sum of the level below.
async fn assert_exact(db: &Db, plan: &Plan) {
    let all = Scope::system("test");
    let (regions, stores) = db.target_overview(&all, plan).await.unwrap();
    assert_eq!(regions.iter().map(|r| r.baseline).sum::<i64>(), plan.baseline);
    assert_eq!(regions.iter().map(|r| r.stretch).sum::<i64>(), plan.stretch);
    for r in &regions {
        let mine = stores.iter().filter(|s| s.region_id == r.region_id);
        assert_eq!(mine.clone().map(|s| s.baseline).sum::<i64>(), r.baseline, "region {}", r.region);
        assert_eq!(mine.map(|s| s.stretch).sum::<i64>(), r.stretch, "region {}", r.region);
    }
    let months = db.target_rows(&all, plan, Grain::Month).await.unwrap();
    let mut by_store: BTreeMap<&str, (i64, i64, usize)> = BTreeMap::new();
    for m in &months {
        let e = by_store.entry(&m.store_code).or_default();
        e.0 += m.baseline;
        e.1 += m.stretch;
        e.2 += 1;
    }
    for s in &stores {
        assert_eq!(by_store[s.store_code.as_str()], (s.baseline, s.stretch, 12), "store {}", s.store_code);
    }
    for month in 1..=12 {
        let key = i64::from(plan.year) * 100 + month;
        let days = db.target_rows(&all, plan, Grain::Day(key)).await.unwrap();
        let mut sums: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for d in &days {
            let e = sums.entry(&d.store_code).or_default();
            e.0 += d.baseline;
            e.1 += d.stretch;
        }
        for m in months.iter().filter(|m| m.period == format!("{}-{month:02}", plan.year)) {
            assert_eq!(sums[m.store_code.as_str()], (m.baseline, m.stretch), "{} {}", m.store_code, m.period);
        }
        // The reports' sums over a range of days (the whole month, its first
        // ten days) are the cells' sums, store by store.
        let first = chrono::NaiveDate::from_ymd_opt(plan.year, month as u32, 1).unwrap();
        let last = first.checked_add_months(chrono::Months::new(1)).unwrap().pred_opt().unwrap();
        for to in [last, first + chrono::Duration::days(9)] {
            let mut want: BTreeMap<i64, i64> = BTreeMap::new();
            for d in days.iter().filter(|d| d.period <= to.to_string()) {
                *want.entry(d.store_id).or_default() += d.baseline;
            }
            let got: BTreeMap<i64, i64> = db.target_sums(plan, first, to).await.unwrap().into_iter().collect();
            assert_eq!(got, want, "{first} to {to}");
        }
    }
}

#[tokio::test]
async fn plans_sum_exactly_at_every_level_for_every_method() {
    for backend in TestDb::backends() {
        let (url, _guard) = company(backend).await;
        let db = Db::open(&url).await.unwrap();
        for (year, metric, method, months, baseline, stretch) in [
            ("2026", "revenue", "last-year", "last-year", "36000000.01", "39600000.99"),
            ("2026", "gross_profit", "area", "last-year", "9000000", "9500000"),
            ("2026", "tickets", "tier", "last-year", "1000003", "1100007"),
            ("2026", "member_revenue", "equal", "hand", "12345678.91", "12345678.91"),
            ("2027", "revenue", "hand", "last-year", "40000000", "44000000"),
            ("2027", "profit_tax", "last-year", "last-year", "3000000", "3300000"),
        ] {
            let out = opsdesk(
                &url,
                &[
                    "targets",
                    "plan",
                    "--year",
                    year,
                    "--metric",
                    metric,
                    "--method",
                    method,
                    "--months",
                    months,
                    "--baseline",
                    baseline,
                    "--stretch",
                    stretch,
                ],
            );
            ok(&out);
            let plan = db.target_plan_for(year.parse().unwrap(), metric).await.unwrap().unwrap();
            assert_exact(&db, &plan).await;
        }
        // 2026 learns from calendar 2025; 2027 from the twelve months to October 2026.
        let p2026 = db.target_plan_for(2026, "revenue").await.unwrap().unwrap();
        assert_eq!(
            (p2026.basis_from.to_string(), p2026.basis_to.to_string()),
            ("2025-01-01".into(), "2025-12-31".into())
        );
        let p2027 = db.target_plan_for(2027, "revenue").await.unwrap().unwrap();
        assert_eq!(
            (p2027.basis_from.to_string(), p2027.basis_to.to_string()),
            ("2025-11-01".into(), "2026-10-31".into())
        );
        // A second plan for the same year and metric is refused.
        let again = opsdesk(&url, &["targets", "plan", "--year", "2026", "--baseline", "1"]);
        assert_eq!(again.status.code(), Some(2));
        assert!(stderr(&again).contains("a Revenue plan for 2026 exists already"), "{}", stderr(&again));
        db.close().await;
    }
}

#[tokio::test]
async fn a_store_without_a_full_year_takes_the_fallback_and_is_marked() {
    for backend in TestDb::backends() {
        let (url, _guard) = company(backend).await;
        ok(&opsdesk(&url, &["targets", "plan", "--year", "2026", "--baseline", "30000000"]));
        let db = Db::open(&url).await.unwrap();
        let plan = db.target_plan_for(2026, "revenue").await.unwrap().unwrap();
        let (_, stores) = db.target_overview(&Scope::system("test"), &plan).await.unwrap();
        let all = db.stores(&Scope::system("test")).await.unwrap();
        for s in &stores {
            let opened = all.iter().find(|a| a.id == s.store_id).unwrap().open_date;
            // Sales in every month of 2025: opened by the end of its January.
            let full = opened <= chrono::NaiveDate::from_ymd_opt(2025, 1, 31).unwrap();
            assert_eq!(s.fallback, !full, "{} opened {opened}", s.store_code);
            assert_eq!(s.season == "own", full, "{}", s.store_code);
        }
        assert!(stores.iter().any(|s| s.fallback), "the demo has a store opened in 2025");
        db.close().await;
    }
}

#[tokio::test]
async fn hand_edits_rebalance_their_neighbours_and_keep_locked_cells() {
    for backend in TestDb::backends() {
        let (url, _guard) = company(backend).await;
        ok(&opsdesk(&url, &["targets", "plan", "--year", "2026", "--baseline", "30000000", "--stretch", "33000000"]));
        let db = Db::open(&url).await.unwrap();
        let plan = db.target_plan_for(2026, "revenue").await.unwrap().unwrap();
        let all = Scope::system("test");
        let month = |rows: &[opsdesk_db::targets::TargetRow], p: &str| {
            rows.iter().find(|r| r.store_code == "S0001" && r.period == p).unwrap().baseline
        };
        let before = db.target_rows(&all, &plan, Grain::Month).await.unwrap();
        ok(&opsdesk(&url, &["targets", "lock", "--year", "2026", "--store", "S0001", "--month", "2026-04"]));
        ok(&opsdesk(
            &url,
            &["targets", "edit", "--year", "2026", "--store", "S0001", "--month", "2026-03", "--value", "500000"],
        ));
        let after = db.target_rows(&all, &plan, Grain::Month).await.unwrap();
        assert_eq!(month(&after, "2026-03"), 50_000_000);
        assert_eq!(month(&after, "2026-04"), month(&before, "2026-04"), "the locked month stays put");
        let year = |rows: &[opsdesk_db::targets::TargetRow]| {
            rows.iter().filter(|r| r.store_code == "S0001").map(|r| r.baseline).sum::<i64>()
        };
        assert_eq!(year(&after), year(&before), "the store's year stays");
        assert!(month(&after, "2026-01") < month(&before, "2026-01"), "the other months gave way");
        // Other stores are untouched.
        let others = |rows: &[opsdesk_db::targets::TargetRow]| {
            rows.iter().filter(|r| r.store_code != "S0001").cloned().collect::<Vec<_>>()
        };
        assert_eq!(others(&after), others(&before));
        assert_exact(&db, &plan).await;

        // Letting the store's year move: its region takes the change, the company stays.
        ok(&opsdesk(
            &url,
            &["targets", "edit", "--year", "2026", "--store", "S0002", "--value", "4000000", "--move-parent"],
        ));
        let plan = db.target_plan_for(2026, "revenue").await.unwrap().unwrap();
        assert_eq!(plan.baseline, 3_000_000_000);
        let (_, stores) = db.target_overview(&all, &plan).await.unwrap();
        assert_eq!(stores.iter().find(|s| s.store_code == "S0002").unwrap().baseline, 400_000_000);
        assert_exact(&db, &plan).await;

        // A locked cell cannot be edited; an edit the neighbours cannot absorb is refused.
        let locked = opsdesk(
            &url,
            &["targets", "edit", "--year", "2026", "--store", "S0001", "--month", "2026-04", "--value", "1"],
        );
        assert_eq!(locked.status.code(), Some(2));
        assert!(stderr(&locked).contains("is locked: unlock it first"), "{}", stderr(&locked));
        let too_big = opsdesk(&url, &["targets", "edit", "--year", "2026", "--store", "S0003", "--value", "99999999"]);
        assert_eq!(too_big.status.code(), Some(2));
        assert!(stderr(&too_big).contains("take up the difference"), "{}", stderr(&too_big));
        assert_exact(&db, &db.target_plan_for(2026, "revenue").await.unwrap().unwrap()).await;

        // Only operations (or an administrator) change plans.
        let store_manager = Scope::new("user:store", Reach::Store(stores[0].store_id));
        let refused = db
            .edit_target(
                &store_manager,
                &plan,
                opsdesk_db::targets::CellRef::Store(stores[0].store_id),
                &[(opsdesk_domain::targets::Level::Baseline, 1)],
                opsdesk_domain::targets::Rebalance::KeepParent,
            )
            .await;
        assert!(refused.is_err());
        // She reads her own store's cells only.
        let hers = db.target_rows(&store_manager, &plan, Grain::Month).await.unwrap();
        assert_eq!(hers.len(), 12);
        assert!(hers.iter().all(|r| r.store_id == stores[0].store_id));
        db.close().await;
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_plan_goes_through_a_spreadsheet_and_back() {
    for backend in TestDb::backends() {
        let (url, _guard) = company(backend).await;
        let dir = std::env::temp_dir().join(format!("opsdesk_targets_{}_{backend:?}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        ok(&opsdesk(&url, &["targets", "plan", "--year", "2026", "--baseline", "30000000", "--stretch", "33000000"]));
        let csv = ok(&opsdesk(&url, &["targets", "export", "--year", "2026"]));
        assert!(csv.starts_with("store_code,period,baseline,stretch\nS0001,2026-01,"), "{}", &csv[..80]);
        assert_eq!(csv.lines().count(), 1 + 12 * 12);

        // Nothing edited: nothing changes, through XLSX and through CSV.
        let xlsx = dir.join("plan.xlsx");
        ok(&opsdesk(
            &url,
            &["targets", "export", "--year", "2026", "--format", "xlsx", "--out", xlsx.to_str().unwrap()],
        ));
        let same = opsdesk(&url, &["targets", "import", xlsx.to_str().unwrap()]);
        ok(&same);
        assert!(stderr(&same).contains("matches the 2026 plan: nothing to change"), "{}", stderr(&same));
        assert_eq!(ok(&opsdesk(&url, &["targets", "export", "--year", "2026"])), csv);

        // One month raised: the preview lists it and changes nothing.
        let first = csv.lines().nth(3).unwrap().to_string(); // S0001,2026-03,…
        let fields: Vec<&str> = first.split(',').collect();
        let edited_line = format!("S0001,2026-03,{},{}", "1000.00", fields[3]);
        let edited = csv.replacen(&first, &edited_line, 1);
        let path = write(&dir, "edited.csv", &edited);
        let preview = ok(&opsdesk(&url, &["targets", "import", &path, "--dry-run"]));
        let listed = |l: &str| ["S0001", "2026-03", "baseline", fields[2], "1000.00"].iter().all(|x| l.contains(x));
        assert_eq!(preview.lines().filter(|l| listed(l)).count(), 1, "{preview}");
        assert_eq!(ok(&opsdesk(&url, &["targets", "export", "--year", "2026"])), csv, "a preview changes nothing");
        // Not on a terminal: applied as listed, without asking.
        let applied = ok(&opsdesk(&url, &["targets", "import", &path]));
        assert_eq!(
            applied.lines().filter(|l| listed(l)).count(),
            1,
            "the change is listed as it is applied: {applied}"
        );
        let now = ok(&opsdesk(&url, &["targets", "export", "--year", "2026"]));
        assert!(now.contains(&edited_line), "the edited cell holds its value");
        let store_sum = |text: &str| -> i64 {
            text.lines()
                .filter(|l| l.starts_with("S0001,"))
                .map(|l| opsdesk_domain::Money::parse_yuan(l.split(',').nth(2).unwrap()).unwrap().fen())
                .sum()
        };
        assert_eq!(store_sum(&now), store_sum(&csv), "the store's year is unchanged");

        // Bad rows: each named by row, column, value and reason; nothing applied.
        let bad = "store_code,period,baseline,stretch\nS9999,2026-01,1.00,2.00\nS0002,2026-13,1.00,2.00\n\
                   S0002,2026-02,-5,2.00\nS0002,2026-02,abc,2.00\nS0003,2026-05-01,1.00,2.00\n";
        let out = opsdesk(&url, &["targets", "import", &write(&dir, "bad.csv", bad)]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        for (row, column, value, reason) in [
            ("1", "store_code", "S9999", "unknown store, or outside your reach"),
            ("2", "period", "2026-13", "the period must be YYYY-MM or YYYY-MM-DD"),
            ("3", "baseline", "-5", "a target cannot be negative"),
            ("4", "baseline", "abc", "expected an amount in yuan (up to two decimals)"),
            ("5", "period", "2026-05-01", "a file holds months only, or the days of one month only"),
        ] {
            let named = |l: &str| {
                l.split_whitespace().next() == Some(row)
                    && l.contains(column)
                    && l.contains(value)
                    && l.contains(reason)
            };
            assert!(err.lines().any(named), "row {row} not named in\n{err}");
        }
        assert!(err.contains("5 bad rows, nothing changed"), "{err}");
        assert_eq!(ok(&opsdesk(&url, &["targets", "export", "--year", "2026"])), now);

        // A locked cell in the file keeps its value or the file is refused.
        ok(&opsdesk(&url, &["targets", "lock", "--year", "2026", "--store", "S0002", "--month", "2026-06"]));
        let line = now.lines().find(|l| l.starts_with("S0002,2026-06,")).unwrap().to_string();
        let f: Vec<&str> = line.split(',').collect();
        let changed = now.replacen(&line, &format!("S0002,2026-06,{},{}", "1.00", f[3]), 1);
        let out = opsdesk(&url, &["targets", "import", &write(&dir, "locked.csv", &changed)]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("this cell is locked and cannot change"), "{}", stderr(&out));

        // Days of one month go round too.
        let days = ok(&opsdesk(&url, &["targets", "export", "--year", "2026", "--grain", "day", "--month", "2026-10"]));
        assert_eq!(days.lines().count(), 1 + 12 * 31);
        let same = opsdesk(&url, &["targets", "import", &write(&dir, "days.csv", &days)]);
        assert!(stderr(&same).contains("nothing to change"), "{}", stderr(&same));
        std::fs::remove_dir_all(&dir).ok();
    }
}

fn fen(text: &str) -> i64 {
    opsdesk_domain::Money::parse_yuan(text).unwrap().fen()
}

/// CSV rows as maps from column key to text.
fn rows(csv: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines.map(|l| head.iter().map(|h| h.to_string()).zip(l.split(',').map(String::from)).collect()).collect()
}

#[tokio::test]
async fn a_closed_month_forecasts_its_actual_and_stores_falling_short_are_alerted_with_their_daily_need() {
    for backend in TestDb::backends() {
        let (url, _guard) = company(backend).await;
        // A year the demo cannot make: every store falls short.
        ok(&opsdesk(&url, &["targets", "plan", "--year", "2026", "--baseline", "90000000", "--stretch", "99000000"]));
        let closed = ok(&opsdesk(&url, &["targets", "track", "--date", "2026-10-31", "--format", "csv"]));
        let closed = rows(&closed);
        assert_eq!(closed.len(), 12);
        // The ranking by attainment: 1 to 12, best first.
        let mut ranked: Vec<(i64, i64)> =
            closed.iter().map(|r| (r["attainment_rank"].parse().unwrap(), fen(&r["mtd_attainment_pct"]))).collect();
        ranked.sort();
        assert_eq!(ranked.iter().map(|r| r.0).collect::<Vec<_>>(), (1..=12).collect::<Vec<_>>());
        assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1), "{ranked:?}");
        for r in &closed {
            assert_eq!(r["month_forecast"], r["mtd_actual"], "{}", r["store_code"]);
            assert_eq!(r["time_progress_pct"], "100.00");
            assert_eq!(r["need_per_day"], "", "no days are left");
        }
        let alerts =
            rows(&ok(&opsdesk(&url, &["targets", "track", "--date", "2026-10-20", "--alerts", "--format", "csv"])));
        let all = rows(&ok(&opsdesk(&url, &["targets", "track", "--date", "2026-10-20", "--format", "csv"])));
        let short: Vec<&BTreeMap<String, String>> =
            all.iter().filter(|r| fen(&r["month_forecast"]) < fen(&r["month_baseline"])).collect();
        assert!(!short.is_empty());
        assert_eq!(alerts.len(), short.len());
        let mut last_gap = i64::MIN;
        for r in &alerts {
            let (baseline, actual) = (fen(&r["month_baseline"]), fen(&r["mtd_actual"]));
            // Eleven days are left after the 20th; the need is rounded up to the fen.
            assert_eq!(fen(&r["need_per_day"]), (baseline - actual + 10) / 11, "{}", r["store_code"]);
            // Forecast: the actual over the share of the month's target due by now.
            let due = fen(&r["mtd_target"]);
            let forecast = opsdesk_domain::rdiv(i128::from(actual) * i128::from(baseline), i128::from(due)).unwrap();
            assert_eq!(fen(&r["month_forecast"]), forecast);
            let gap = fen(&r["month_forecast"]) - baseline;
            assert!(gap >= last_gap, "largest shortfall first");
            last_gap = gap;
        }
        // Profit and tax has no actual in the sales data: set, not tracked.
        ok(&opsdesk(&url, &["targets", "plan", "--year", "2026", "--metric", "profit_tax", "--baseline", "1000000"]));
        let untracked = opsdesk(&url, &["targets", "track", "--metric", "profit_tax", "--date", "2026-10-20"]);
        assert_eq!(untracked.status.code(), Some(2));
        assert!(stderr(&untracked).contains("it can be set, not tracked"), "{}", stderr(&untracked));
    }
}

#[tokio::test]
async fn a_holiday_added_to_the_calendar_weighs_on_the_days_of_plans_made_after() {
    for backend in TestDb::backends() {
        let (url, _guard) = company(backend).await;
        // 2027 is not published yet: New Year's Day is an ordinary Friday until entered.
        ok(&opsdesk(&url, &["targets", "holiday", "--date", "2027-01-01", "--name", "元旦", "--uplift", "2"]));
        let listed = ok(&opsdesk(&url, &["targets", "holidays", "--year", "2027"]));
        assert!(listed.contains("2027-01-01  holiday  元旦  2.000"), "{listed}");
        let bad = opsdesk(&url, &["targets", "holiday", "--date", "2027-01-02", "--name", "x", "--uplift", "0"]);
        assert_eq!(bad.status.code(), Some(2));
        ok(&opsdesk(&url, &["targets", "plan", "--year", "2027", "--baseline", "30000000"]));
        let days =
            rows(&ok(&opsdesk(&url, &["targets", "export", "--year", "2027", "--grain", "day", "--month", "2027-01"])));
        let day =
            |d: &str| fen(&days.iter().find(|r| r["store_code"] == "S0001" && r["period"] == d).unwrap()["baseline"]);
        // Twice the mean of a Saturday and a Sunday outweighs either of them.
        assert!(day("2027-01-01") > day("2027-01-02") && day("2027-01-01") > day("2027-01-03"));
        assert!(day("2027-01-08") < day("2027-01-02"), "an ordinary Friday sells less than a Saturday here");
        let db = Db::open(&url).await.unwrap();
        let events = db.audit_events(&Scope::system("test"), 10).await.unwrap();
        assert!(events.iter().any(|e| e.entity == "holiday" && e.entity_id == "2027-01-01"));
        assert!(events.iter().any(|e| e.entity == "target_plan" && e.action == "create"));
        db.close().await;
    }
}

#[tokio::test]
async fn a_payout_sheet_pays_by_the_rule_names_the_store_manager_and_is_frozen_once_approved() {
    for backend in TestDb::backends() {
        let (url, _guard) = company(backend).await;
        ok(&opsdesk(&url, &["targets", "plan", "--year", "2026", "--baseline", "45000000", "--stretch", "50000000"]));
        let db = Db::open(&url).await.unwrap();
        let scope = Scope::system("test");
        let new = opsdesk_db::people::NewUser {
            name: "li.na".into(),
            role: opsdesk_domain::people::Role::StoreManager,
            reach: opsdesk_db::people::ReachRef::Store("S0003".into()),
            password_hash: "x".into(),
        };
        db.create_user(&scope, &new).await.unwrap();
        let args = ["targets", "payout", "--year", "2026", "--month", "2026-10", "--format", "csv"];
        let draft = rows(&ok(&opsdesk(&url, &args)));
        assert_eq!(draft.len(), 12);
        let rule = opsdesk_domain::targets::RewardRule::default();
        for r in &draft {
            let target = fen(&r["month_baseline"]);
            let actual = fen(&r["actual"]);
            let attainment = opsdesk_domain::targets::attainment(actual, target);
            assert_eq!(fen(&r["attainment_pct"]), attainment.unwrap());
            assert_eq!(fen(&r["payout"]), rule.payout(attainment), "{}", r["store_code"]);
        }
        assert_eq!(draft.iter().find(|r| r["store_code"] == "S0003").unwrap()["managers"], "li.na");
        assert!(draft.iter().any(|r| fen(&r["payout"]) != 0), "the rule pays or charges someone");

        // November is not over: no approval.
        let early = opsdesk(&url, &["targets", "payout", "--year", "2026", "--month", "2026-11", "--approve"]);
        assert_eq!(early.status.code(), Some(2));
        assert!(stderr(&early).contains("approve after the month ends"), "{}", stderr(&early));

        let approved = ok(&opsdesk(&url, &[&args[..], &["--approve"]].concat()));
        assert_eq!(rows(&approved), draft);
        // A new rule changes drafts, not the approved sheet.
        ok(&opsdesk(
            &url,
            &["targets", "rule", "--year", "2026", "--bonus-per-point", "1", "--penalty-per-point", "1"],
        ));
        assert_eq!(rows(&ok(&opsdesk(&url, &args))), draft);
        let sept = rows(&ok(&opsdesk(
            &url,
            &["targets", "payout", "--year", "2026", "--month", "2026-09", "--format", "csv"],
        )));
        let changed = opsdesk_domain::targets::RewardRule { bonus_per_point: 100, penalty_per_point: 100, ..rule };
        for r in &sept {
            assert_eq!(fen(&r["payout"]), changed.payout(Some(fen(&r["attainment_pct"]))));
        }
        let again = opsdesk(&url, &[&args[..], &["--approve"]].concat());
        assert_eq!(again.status.code(), Some(2));
        assert!(stderr(&again).contains("approved already and locked"));
        // The store manager reads her line only; she cannot approve.
        let her = db.user_by_name("li.na").await.unwrap().unwrap().scope();
        let plan = db.target_plan_for(2026, "revenue").await.unwrap().unwrap();
        let sheet = db.payout_sheet(&her, &plan, 202610).await.unwrap();
        assert_eq!(sheet.lines.len(), 1);
        assert!(sheet.approved.is_some());
        assert!(db.approve_payout(&her, &plan, 202609).await.is_err());
        db.close().await;
    }
}
