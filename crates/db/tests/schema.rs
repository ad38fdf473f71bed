//! Creating, upgrading and opening databases on both backends.

use opsdesk_db::testing::TestDb;
use opsdesk_db::{Backend, Db, DbError, SCHEMA_VERSION, SchemaStatus};
use opsdesk_domain::i18n::Lang;

#[tokio::test]
async fn init_creates_the_schema_and_a_second_init_changes_nothing() {
    for backend in TestDb::backends() {
        let (url, _guard) = TestDb::fresh_url(backend).await;
        let (db, before) = Db::init(&url).await.unwrap();
        assert_eq!(before, 0);
        assert_eq!(db.schema_status().await.unwrap(), SchemaStatus::Current);
        db.close().await;
        let (db, before) = Db::init(&url).await.unwrap();
        assert_eq!(before, SCHEMA_VERSION, "{backend:?}");
        assert_eq!(db.integrity_check().await.unwrap(), "ok");
        db.close().await;
        Db::open(&url).await.unwrap().close().await;
    }
}

#[tokio::test]
async fn a_schema_newer_than_the_binary_is_refused_with_a_clear_message() {
    for backend in TestDb::backends() {
        let t = TestDb::new(backend).await;
        match backend {
            Backend::Sqlite => {
                let p = sqlx::SqlitePool::connect(&t.url).await.unwrap();
                sqlx::query("INSERT INTO schema_migration (version, name, applied_at) VALUES (999, 'future', 'x')")
                    .execute(&p)
                    .await
                    .unwrap();
                p.close().await;
            }
            Backend::Postgres => {
                let p = sqlx::PgPool::connect(&t.url).await.unwrap();
                sqlx::query("INSERT INTO schema_migration (version, name, applied_at) VALUES (999, 'future', 'x')")
                    .execute(&p)
                    .await
                    .unwrap();
                p.close().await;
            }
        }
        let err = Db::open(&t.url).await.unwrap_err();
        assert!(matches!(err, DbError::TooNew { found: 999, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "the database schema is version 999, newer than this opsdesk knows ({SCHEMA_VERSION}); use a newer opsdesk"
            )
        );
        assert!(err.message(Lang::Zh).contains("请使用更新版本的 opsdesk"));
        assert!(matches!(Db::init(&t.url).await.unwrap_err(), DbError::TooNew { .. }));
    }
}

#[tokio::test]
async fn opening_a_database_that_does_not_exist_says_to_run_init() {
    let (url, _guard) = TestDb::fresh_url(Backend::Sqlite).await;
    let err = Db::open(&url).await.unwrap_err();
    assert!(err.to_string().ends_with(": run `opsdesk init` first"), "{err}");
    assert!(!std::path::Path::new(url.trim_start_matches("sqlite://")).exists(), "open must not create the file");
}

#[tokio::test]
async fn an_unknown_url_scheme_is_refused() {
    let err = Db::open("mysql://root@localhost/x").await.unwrap_err();
    assert!(matches!(err, DbError::BadUrl(_)));
}

#[tokio::test]
async fn sqlite_files_use_the_write_ahead_log() {
    let t = TestDb::new(Backend::Sqlite).await;
    let p = sqlx::SqlitePool::connect(&t.url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&p).await.unwrap();
    assert_eq!(mode, "wal");
    p.close().await;
}

#[tokio::test]
async fn upgrading_to_the_month_rollup_builds_it_from_the_stored_days() {
    use chrono::NaiveDate;
    use opsdesk_db::Scope;
    use opsdesk_db::imports::BatchMeta;
    use opsdesk_db::sales::SalesData;
    use opsdesk_domain::sales::codec::{pack_categories, pack_members};
    use opsdesk_domain::sales::{CategoryTotals, DayKey, DayRow, DaySource, DayTotals};
    use opsdesk_domain::stores::StoreRecord;
    for backend in TestDb::backends() {
        let (url, _guard) = TestDb::fresh_url(backend).await;
        let (db, _) = Db::init(&url).await.unwrap();
        let all = Scope::system("test");
        let day = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let store = StoreRecord {
            code: "S1".into(),
            name: "一店".into(),
            region_path: vec!["华东".into()],
            area_sqm: 100,
            staff_count: 5,
            open_date: day,
            channel: None,
            status: None,
            sku_count: None,
            open_minutes: None,
        };
        db.save_stores(&all, &[store]).await.unwrap();
        let id = db.store_codes(&all).await.unwrap()["S1"];
        let t = |revenue| CategoryTotals { revenue, cost: revenue / 2, qty: 1, lines: 1 };
        let days: Vec<DayRow> = [(1, 100), (2, 250), (31, 400)]
            .iter()
            .map(|&(n, revenue)| {
                let date = day + chrono::Duration::days(n - 1);
                let mut r = DayRow::from_totals(DayKey { store: id, date }, &DayTotals::default());
                r.source = DaySource::Lines;
                r.categories = Some(pack_categories(&[("处方药", t(revenue)), ("母婴", t(7))]));
                r.members = Some(pack_members(&[]));
                r
            })
            .collect();
        let meta = BatchMeta {
            kind: "sales".into(),
            file_name: "t".into(),
            sha256: "t".into(),
            started_at: chrono::Utc::now(),
            rows_read: 3,
            rows_imported: 3,
            rows_rejected: 0,
            first_date: Some(day),
            last_date: Some(day),
            message: String::new(),
            add: false,
        };
        db.write_sales(&all, &meta, &SalesData { days, lines: Vec::new() }).await.unwrap();
        let written = db.rollup_snapshot(&all).await.unwrap();
        assert_eq!(written.months, written.months_from_days(), "{backend:?}");
        assert_eq!(written.month_totals, written.month_totals_from_days(), "{backend:?}");
        let rx: Vec<_> = written.months.iter().map(|m| (m.month, m.category.as_str(), m.revenue_c)).collect();
        assert_eq!(
            rx,
            vec![(202609, "处方药", 350), (202609, "母婴", 14), (202610, "处方药", 400), (202610, "母婴", 7)]
        );
        db.close().await;

        // The database as the step before left it: no month rollup.
        let undo = [
            "DROP TABLE sales_month",
            "DROP INDEX sales_day_summary",
            "DELETE FROM schema_migration WHERE version >= 7",
        ];
        match backend {
            Backend::Sqlite => {
                let p = sqlx::SqlitePool::connect(&url).await.unwrap();
                for sql in undo {
                    sqlx::query(sql).execute(&p).await.unwrap();
                }
                p.close().await;
            }
            Backend::Postgres => {
                let p = sqlx::PgPool::connect(&url).await.unwrap();
                for sql in undo {
                    sqlx::query(sql).execute(&p).await.unwrap();
                }
                p.close().await;
            }
        }
        let (db, before) = Db::init(&url).await.unwrap();
        assert_eq!(before, 6);
        assert_eq!(db.rollup_snapshot(&all).await.unwrap(), written, "rebuilt from the days, {backend:?}");
        db.close().await;
    }
}

/// Neither backend checks `sales_day`'s store and batch by foreign key (a
/// probe per bulk-written row); the one writer refuses a store the user does
/// not reach, or that does not exist, before writing anything.
#[tokio::test]
async fn store_days_are_checked_by_their_writer_not_by_foreign_keys() {
    use chrono::NaiveDate;
    use opsdesk_db::Scope;
    use opsdesk_db::imports::BatchMeta;
    use opsdesk_db::sales::SalesData;
    use opsdesk_domain::sales::{DayKey, DayRow, DayTotals};
    for backend in TestDb::backends() {
        let (url, _guard) = TestDb::fresh_url(backend).await;
        let (db, _) = Db::init(&url).await.unwrap();
        let keys: i64 = match backend {
            Backend::Sqlite => {
                let p = sqlx::SqlitePool::connect(&url).await.unwrap();
                let n = sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_list('sales_day')")
                    .fetch_one(&p)
                    .await
                    .unwrap();
                p.close().await;
                n
            }
            Backend::Postgres => {
                let p = sqlx::PgPool::connect(&url).await.unwrap();
                let n = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.table_constraints
                     WHERE table_name = 'sales_day' AND constraint_type = 'FOREIGN KEY'",
                )
                .fetch_one(&p)
                .await
                .unwrap();
                p.close().await;
                n
            }
        };
        assert_eq!(keys, 0, "{backend:?}");

        let all = Scope::system("test");
        let date = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let day = DayRow::from_totals(DayKey { store: 999, date }, &DayTotals::default());
        let meta = BatchMeta {
            kind: "sales".into(),
            file_name: "t".into(),
            sha256: "t".into(),
            started_at: chrono::Utc::now(),
            rows_read: 1,
            rows_imported: 1,
            rows_rejected: 0,
            first_date: Some(date),
            last_date: Some(date),
            message: String::new(),
            add: false,
        };
        let err = db.write_sales(&all, &meta, &SalesData { days: vec![day], lines: Vec::new() }).await.unwrap_err();
        assert_eq!(err.to_string(), "store id 999 is outside the reach of test", "{backend:?}");
        assert!(db.rollup_snapshot(&all).await.unwrap().days.is_empty(), "{backend:?}");
        db.close().await;
    }
}
