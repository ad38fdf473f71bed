//! `opsdesk appraisal grade`: the grade of a score under the current
//! settings, on both databases.

use std::process::{Command, Output};

use opsdesk_db::testing::TestDb;

fn opsdesk(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsdesk"))
        .args(args)
        .env("OPSDESK_DATABASE_URL", db)
        .env_remove("OPSDESK_LANG")
        .env("LANG", "C")
        .output()
        .expect("run opsdesk")
}

fn grade(db: &str, score: &str) -> (Option<i32>, String) {
    let out = opsdesk(db, &["appraisal", "grade", "--score", score]);
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
async fn grades_at_every_band_edge_under_the_current_settings() {
    for backend in TestDb::backends() {
        let (url, _guard) = TestDb::fresh_url(backend).await;
        assert!(opsdesk(&url, &["init"]).status.success());
        for (score, want) in [
            ("100", "A+"),
            ("97", "A+"),
            ("96.99", "A"),
            ("94", "A"),
            ("93.99", "A-"),
            ("91", "A-"),
            ("90.99", "B+"),
            ("88", "B+"),
            ("87.99", "B"),
            ("84", "B"),
            ("83.99", "B-"),
            ("81", "B-"),
            ("80.99", "C"),
            ("71", "C"),
            ("70.99", "D"),
            ("70.5", "D"),
            ("0", "D"),
        ] {
            assert_eq!(grade(&url, score), (Some(0), format!("{want}\n")), "{backend:?} {score}");
        }
        for bad in ["100.01", "-1", "abc", "", "92.555"] {
            assert_eq!(grade(&url, bad).0, Some(2), "{bad}");
        }
        // The bands are a setting: a changed one grades anew; a malformed one is refused.
        let set = opsdesk(&url, &["setting", "set", "appraisal.grade_bands", "A+:98,A:95,A-:90,B+:85,B:80,B-:75,C:60"]);
        assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
        assert_eq!(grade(&url, "97").1, "A\n");
        assert_eq!(grade(&url, "60").1, "C\n");
        let bad = opsdesk(&url, &["setting", "set", "appraisal.grade_bands", "A+:90,A:95"]);
        assert_eq!(bad.status.code(), Some(2));
        assert_eq!(grade(&url, "97").1, "A\n", "the refused setting changed nothing");
    }
}

fn csv_field(csv: &str, store: &str, col: &str) -> String {
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = head.iter().position(|h| *h == col).unwrap();
    lines.find(|l| l.starts_with(&format!("{store},"))).unwrap().split(',').nth(i).unwrap().to_string()
}

fn fen(text: &str) -> i64 {
    opsdesk_domain::Money::parse_yuan(text).unwrap().fen()
}

#[tokio::test]
async fn an_employees_month_is_scored_from_her_stores_data_and_paid_by_grade() {
    use opsdesk_domain::appraisal::Policy;
    use opsdesk_domain::appraisal::rules::pay;
    use opsdesk_domain::appraisal::scoring::Curve;
    use opsdesk_domain::targets::attainment;
    for backend in TestDb::backends() {
        let (url, _guard) = TestDb::fresh_url(backend).await;
        let run = |args: &[&str]| {
            let out = opsdesk(&url, args);
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        run(&["demo", "--no-serve", "--no-staff", "--stores", "6", "--days", "700", "--end", "2026-10-31"]);
        let dir = std::env::temp_dir().join(format!("opsdesk_appraisal_{}_{backend:?}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let positions = dir.join("positions.csv");
        std::fs::write(&positions, "岗位编码,岗位名称,岗位职责\nSM,店长,门店经营\n").unwrap();
        let employees = dir.join("employees.csv");
        std::fs::write(&employees, "工号,姓名,所属单位,岗位,职级,入职日期\nE001,王芳,S0001,SM,manager,2021-03-01\n")
            .unwrap();
        run(&["import", "positions", positions.to_str().unwrap()]);
        run(&["import", "employees", employees.to_str().unwrap()]);
        let bad = opsdesk(&url, &["appraisal", "scorecard", "--position", "SM", "--set", "a:A:60:hand,b:B:30:hand"]);
        assert_eq!(bad.status.code(), Some(2), "weights must sum to 100");
        run(&[
            "appraisal",
            "scorecard",
            "--position",
            "SM",
            "--set",
            "revenue:销售达成:50:revenue_attainment,traffic:客流增长:20:traffic_growth,service:服务:30:hand",
        ]);
        let out = run(&["appraisal", "preview", "--employee", "E001", "--month", "2026-10", "--hand", "service=88"]);

        // The same from the reports and the plan.
        let oct = run(&["report", "monthly", "--from", "2026-10", "--to", "2026-10", "--format", "csv"]);
        let last = run(&["report", "monthly", "--from", "2025-10", "--to", "2025-10", "--format", "csv"]);
        let revenue = fen(&csv_field(&oct, "S0001", "revenue"));
        let target = fen(&csv_field(&oct, "S0001", "target"));
        let tickets = csv_field(&oct, "S0001", "tickets").parse::<i64>().unwrap();
        let ly_tickets = csv_field(&last, "S0001", "tickets").parse::<i64>().unwrap();
        let curve = Curve::default();
        let revenue_points = curve.points(attainment(revenue, target));
        let traffic_points = curve.points(attainment(tickets, ly_tickets));
        let total =
            opsdesk_domain::rdiv(i128::from(50 * revenue_points + 20 * traffic_points + 30 * 8_800), 100).unwrap();
        let policy = Policy::default();
        let grade = policy.grade(total);
        let paid = pay(50_000, policy.coefficient(grade));
        let h = opsdesk_domain::money::hundredths;
        assert!(
            out.contains(&format!("revenue  销售达成  50      revenue_attainment  {}", h(revenue_points))),
            "{out}"
        );
        let want = format!(
            "total {} → {grade} · base 500.00 × {}% = {}",
            h(total),
            h(policy.coefficient(grade) * 10),
            h(paid)
        );
        assert!(out.contains(&want), "{want}\n{out}");
        let missing = opsdesk(&url, &["appraisal", "preview", "--employee", "E001", "--month", "2026-10"]);
        assert_eq!(missing.status.code(), Some(2), "a hand indicator without points");
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[tokio::test]
async fn a_cycle_goes_along_its_chain_with_the_fairness_rules_and_pays_base_times_coefficient() {
    use opsdesk_domain::appraisal::Policy;
    use opsdesk_domain::appraisal::rules::pay;
    for backend in TestDb::backends() {
        let (url, _guard) = TestDb::fresh_url(backend).await;
        let run = |args: &[&str]| -> Output { opsdesk(&url, args) };
        let ok = |args: &[&str]| {
            let out = run(args);
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        let refused = |args: &[&str], why: &str| {
            let out = run(args);
            assert_eq!(out.status.code(), Some(2), "{args:?} should be refused");
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(err.contains(why), "{args:?}: {err}");
        };
        ok(&["demo", "--no-serve", "--no-staff", "--stores", "3", "--days", "60", "--end", "2026-10-31"]);
        let dir = std::env::temp_dir().join(format!("opsdesk_cycle_{}_{backend:?}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p.to_str().unwrap().to_string()
        };
        ok(&["import", "positions", &file("p.csv", "岗位编码,岗位名称\nSM,店长\nPH,药师\nSA,导购\n")]);
        ok(&[
            "import",
            "employees",
            &file(
                "e.csv",
                "工号,姓名,所属单位,岗位,职级,不参与考核,入职日期\nE1,甲,S0001,SM,manager,,2020-01-01\nE2,乙,S0001,PH,specialist,,2020-01-01\nE3,丙,S0001,SA,specialist,是,2020-01-01\n",
            ),
        ]);
        for position in ["SM", "PH", "SA"] {
            ok(&["appraisal", "scorecard", "--position", position, "--set", "work:工作:70:hand,gsp:GSP:30:hand"]);
        }
        ok(&["appraisal", "open", "--cycle", "2026-10"]);
        let cycle = ["--cycle", "2026-10", "--unit", "store:S0001"];
        refused(
            &[&["appraisal", "sign"][..], &cycle[..]].concat(),
            "indicators without points (a data indicator without data is scored by hand): E1/gsp",
        );
        refused(
            &["appraisal", "score", "--cycle", "2026-10", "--employee", "E1", "--indicator", "work", "--points", "55"],
            "need a comment",
        );
        let score = |e: &str, i: &str, p: &str| {
            ok(&["appraisal", "score", "--cycle", "2026-10", "--employee", e, "--indicator", i, "--points", p])
        };
        // E1: 0.7 × 98 + 0.3 × 97 = 97.70 → A+; E2: 0.7 × 95 + 0.3 × 94 = 94.70 → A. Nobody at C: an A+ needs a reason,
        // and 500 × 125 % + 300 × 115 % = 970 is over the pool of 800 by 170.
        for (e, w, g) in [("E1", "98", "97"), ("E2", "95", "94")] {
            score(e, "work", w);
            score(e, "gsp", g);
        }
        refused(&[&["appraisal", "sign"][..], &cycle[..]].concat(), "pays 170.00 yuan more than its pay bases");
        refused(&[&["appraisal", "sign", "--scale-to-fit"][..], &cycle[..]].concat(), "give a written reason");
        // The chain cannot be skipped.
        refused(&[&["appraisal", "review"][..], &cycle[..]].concat(), "is scoring: that step cannot be taken now");
        ok(&[&["appraisal", "sign", "--scale-to-fit", "--reason", "旺季表现突出"][..], &cycle[..]].concat());
        refused(
            &["appraisal", "score", "--cycle", "2026-10", "--employee", "E1", "--indicator", "work", "--points", "80"],
            "is signed",
        );
        refused(&[&["appraisal", "approve"][..], &cycle[..]].concat(), "is signed: that step cannot be taken now");
        ok(&[&["appraisal", "review"][..], &cycle[..]].concat());
        ok(&[&["appraisal", "send-back", "--comment", "请复核 E2"][..], &cycle[..]].concat());
        score("E2", "work", "70");
        score("E2", "gsp", "80");
        // E2 now 0.7 × 70 + 0.3 × 80 = 73.00 → C: no reason needed, and 625 + 255 = 880 is still over 800.
        ok(&[&["appraisal", "sign", "--scale-to-fit"][..], &cycle[..]].concat());
        ok(&[&["appraisal", "review"][..], &cycle[..]].concat());
        ok(&[&["appraisal", "approve"][..], &cycle[..]].concat());
        refused(&[&["appraisal", "send-back", "--comment", "x"][..], &cycle[..]].concat(), "is approved");
        refused(
            &["appraisal", "score", "--cycle", "2026-10", "--employee", "E1", "--indicator", "work", "--points", "80"],
            "is signed",
        );
        let status = ok(&["appraisal", "status", "--cycle", "2026-10"]);
        assert!(
            status.contains("store:S0001  approved")
                && status.contains("signed cli")
                && status.contains("approved cli"),
            "{status}"
        );

        let sheet = ok(&["appraisal", "payout", "--cycle", "2026-10", "--format", "csv"]);
        let rows: Vec<Vec<&str>> = sheet.lines().skip(1).map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 3, "{sheet}");
        let policy = Policy::default();
        let mut paid = 0;
        for r in &rows {
            let (base, coef, pay_cell) = (fen(r[5]), fen(r[6]) / 10, fen(r[7]));
            assert_eq!(pay_cell, if r[0] == "E3" { 0 } else { pay(base, coef) }, "{r:?}");
            paid += pay_cell;
        }
        assert_eq!(rows[0][4], "A+");
        assert_eq!(rows[1][4], "C");
        assert_eq!((rows[1][6], rows[2][4]), ("85.00", "—"), "C keeps its 85 %; the excluded E3 has no grade");
        assert!(fen(rows[0][6]) < policy.coefficient(opsdesk_domain::appraisal::Grade::APlus) * 10, "A+ scaled down");
        assert!(paid <= 80_000, "within the pool: {paid}");

        // Three C grades in a row put E2 on the review list; two do not.
        for month in ["2026-08", "2026-09"] {
            ok(&["appraisal", "open", "--cycle", month]);
            for (e, w, g) in [("E1", "90", "90"), ("E2", "72", "72")] {
                ok(&["appraisal", "score", "--cycle", month, "--employee", e, "--indicator", "work", "--points", w]);
                ok(&["appraisal", "score", "--cycle", month, "--employee", e, "--indicator", "gsp", "--points", g]);
            }
            let unit = ["--cycle", month, "--unit", "store:S0001"];
            ok(&[&["appraisal", "sign"][..], &unit[..]].concat());
            if month == "2026-08" {
                let two = ok(&["appraisal", "review-list"]);
                assert!(!two.contains("E2"), "{two}");
            }
        }
        let list = ok(&["appraisal", "review-list"]);
        assert!(list.contains("E2") && list.contains("2026-08, 2026-09, 2026-10") && !list.contains("E1"), "{list}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
