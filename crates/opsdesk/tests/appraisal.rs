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
