//! R5 kept (schema step 15): an import keeps the company's scored members
//! for its last date; the reports read them back while no import has come
//! since. Against real SQLite files and PostgreSQL databases.

mod common;

use chrono::NaiveDate;
use common::*;
use opsdesk_db::testing::TestDb;
use opsdesk_db::{Reach, Scope};
use opsdesk_domain::reports::rfm::{RfmRow, rfm, segment_sums};
use opsdesk_ingest::{ImportOptions, Outcome};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// R5 summed from the year of member-days, as without anything kept.
async fn summed(db: &opsdesk_db::Db, scope: &Scope, asof: NaiveDate) -> Vec<RfmRow> {
    rfm(db.member_windows(scope, asof).await.unwrap())
}

/// The members of the oracle file, one line each.
fn oracle_members() -> Vec<String> {
    let csv = std::fs::read_to_string(data("small/oracle/r5_rfm_members.csv")).unwrap();
    csv.lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_keeps_r5_for_its_last_date_and_the_next_import_renews_it() {
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        import_sales(&t.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let asof = date(2026, 10, 31);
        let oracle = oracle_members();
        assert_eq!(t.kept_rfm().await.unwrap(), [(asof, oracle.len() as i64)], "{backend:?}");

        // Read back: the rows summing the year gives, in the oracle's order.
        let kept = t.db.rfm_rows(&scope(), asof).await.unwrap();
        assert_eq!(kept, summed(&t.db, &scope(), asof).await, "{backend:?}");
        assert_eq!(kept.iter().map(|r| r.member.clone()).collect::<Vec<_>>(), oracle);
        assert_eq!(t.db.rfm_segment_sums(&scope(), asof).await.unwrap(), segment_sums(&kept));

        // A store manager sums her store's members over her store only.
        let s1 = t.db.store_codes(&scope()).await.unwrap()["S0001"];
        let manager = Scope::new("user:s1", Reach::Store(s1));
        let hers = t.db.rfm_rows(&manager, asof).await.unwrap();
        assert_eq!(hers, summed(&t.db, &manager, asof).await, "{backend:?}");
        assert!(!hers.is_empty() && hers.len() < kept.len(), "{} of {}", hers.len(), kept.len());
        assert_eq!(
            t.db.rfm_segment_sums(&manager, asof).await.unwrap(),
            segment_sums(&hers),
            "the segments of her reach"
        );
        assert_eq!(t.kept_rfm().await.unwrap().len(), 1, "nothing kept for a narrower reach");

        // Another date: summed at the first request, kept beside the first.
        let earlier = date(2026, 8, 15);
        let rows = t.db.rfm_rows(&scope(), earlier).await.unwrap();
        assert_eq!(t.kept_rfm().await.unwrap(), [(earlier, rows.len() as i64), (asof, oracle.len() as i64)]);
        assert_eq!(t.db.rfm_rows(&scope(), earlier).await.unwrap(), rows);

        // A new day with a new member: the import keeps its own last date,
        // and what was kept before goes with the data it was of.
        let (_dir, file) = scratch_file(
            "next_day.csv",
            "ticket_no,store_code,sold_at,member_id,sku,category,qty,amount,cost\n\
             S0001-20261101-000001,S0001,2026-11-01 09:30:00,MNEW00001,P000001,保健品,2,88.80,50.00\n\
             S0001-20261101-000001,S0001,2026-11-01 09:30:00,MNEW00001,P000002,保健品,-1,-10.00,-6.00\n",
        );
        let s = import_sales(&t.db, &file, &ImportOptions::default()).await;
        assert_eq!(s.outcome, Outcome::Imported);
        let next = date(2026, 11, 1);
        let kept = t.kept_rfm().await.unwrap();
        let rows = t.db.rfm_rows(&scope(), next).await.unwrap();
        assert_eq!(kept, [(next, rows.len() as i64)], "{backend:?}: kept by the import, before any report");
        assert_eq!(rows, summed(&t.db, &scope(), next).await, "{backend:?}");
        let new = rows.iter().find(|r| r.member == "MNEW00001").expect("the new member is listed");
        assert_eq!((new.recency_days, new.frequency, new.monetary), (0, 1, 7880));
        // The date before, summed anew for the new data: still the oracle's
        // members (the new day lies after its window).
        let before: Vec<String> = t.db.rfm_rows(&scope(), asof).await.unwrap().into_iter().map(|r| r.member).collect();
        assert_eq!(before, oracle, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_four_as_of_dates_are_kept_the_latest_asked() {
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        import_sales(&t.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let dates = [date(2026, 9, 1), date(2026, 9, 2), date(2026, 9, 3), date(2026, 9, 4), date(2026, 9, 5)];
        for d in dates {
            let members = t.db.rfm_rows(&scope(), d).await.unwrap().len() as i64;
            assert!(t.kept_rfm().await.unwrap().contains(&(d, members)), "{backend:?} {d}");
        }
        let kept: Vec<NaiveDate> = t.kept_rfm().await.unwrap().into_iter().map(|k| k.0).collect();
        assert_eq!(kept, dates[1..], "{backend:?}: the import's own date went first");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_kept_value_is_an_error_never_wrong_figures() {
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        import_sales(&t.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let asof = date(2026, 10, 31);
        assert_eq!(t.execute("UPDATE rfm_kept_part SET members = substr(members, 1, 40)").await.unwrap(), 1);
        let e = t.db.rfm_rows(&scope(), asof).await.unwrap_err();
        assert_eq!(e.to_string(), "a kept RFM value is damaged", "{backend:?}");
        t.execute("UPDATE rfm_kept SET segments = substr(segments, 1, 3)").await.unwrap();
        let e = t.db.rfm_segment_sums(&scope(), asof).await.unwrap_err();
        assert_eq!(e.to_string(), "a kept RFM value is damaged", "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_kept_before_the_last_import_is_never_read() {
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        import_sales(&t.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let asof = date(2026, 10, 31);
        t.execute("UPDATE rfm_kept_part SET members = substr(members, 1, 40)").await.unwrap();
        // Any import moves the version, this one without keeping anything.
        let s = opsdesk_ingest::stores::import_stores(
            &t.db,
            &scope(),
            &data("small/stores.csv"),
            &ImportOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(s.outcome, Outcome::Imported);
        let rows = t.db.rfm_rows(&scope(), asof).await.unwrap();
        assert_eq!(rows, summed(&t.db, &scope(), asof).await, "{backend:?}");
        assert_eq!(t.kept_rfm().await.unwrap(), [(asof, rows.len() as i64)], "kept anew");
        assert_eq!(t.db.rfm_rows(&scope(), asof).await.unwrap(), rows);
    }
}
