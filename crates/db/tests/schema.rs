//! Creating, upgrading and opening databases on both backends.

use opsdesk_db::testing::TestDb;
use opsdesk_db::{Backend, Db, DbError, SCHEMA_VERSION, SchemaStatus};
use opsdesk_domain::i18n::Lang;

/// Runs `$body` with `$p` a plain pool on the test database of `$backend`.
macro_rules! on_raw_pool {
    ($backend:expr, $url:expr, |$p:ident| $body:block) => {
        match $backend {
            Backend::Sqlite => {
                let $p = sqlx::SqlitePool::connect($url).await.unwrap();
                $body;
                $p.close().await;
            }
            Backend::Postgres => {
                let $p = sqlx::PgPool::connect($url).await.unwrap();
                $body;
                $p.close().await;
            }
        }
    };
}

/// The tables of a row per store-day that schema step 12 packed by month,
/// still in the database at `url`.
async fn day_tables(backend: Backend, url: &str) -> i64 {
    let n: i64;
    on_raw_pool!(backend, url, |p| {
        n = if backend == Backend::Sqlite {
            sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('sales_day', 'sales_day_detail')")
                .fetch_one(&p)
                .await
                .unwrap()
        } else {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name IN ('sales_day', 'sales_day_detail')",
            )
            .fetch_one(&p)
            .await
            .unwrap()
        };
    });
    n
}

#[tokio::test]
async fn init_creates_the_schema_and_a_second_init_changes_nothing() {
    for backend in TestDb::backends() {
        let (url, _guard) = TestDb::fresh_url(backend).await;
        let (db, before) = Db::init(&url).await.unwrap();
        assert_eq!(before, 0);
        assert_eq!(db.schema_status().await.unwrap(), SchemaStatus::Current);
        db.close().await;
        assert_eq!(day_tables(backend, &url).await, 0, "{backend:?}");
        let (db, before) = Db::init(&url).await.unwrap();
        assert_eq!(before, SCHEMA_VERSION, "{backend:?}");
        assert_eq!(db.integrity_check().await.unwrap(), "ok");
        db.close().await;
        Db::open(&url).await.unwrap().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inits_that_start_at_once_on_a_new_database_build_its_schema_once() {
    for backend in TestDb::backends() {
        let (url, _guard) = TestDb::fresh_url(backend).await;
        if backend == Backend::Sqlite {
            // The file exists and is in WAL mode, as after a first connection;
            // the schema is what the inits race to build.
            let opts = std::str::FromStr::from_str(&url).map(|o: sqlx::sqlite::SqliteConnectOptions| {
                o.create_if_missing(true).journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            });
            sqlx::SqlitePool::connect_with(opts.unwrap()).await.unwrap().close().await;
        }
        let inits: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Db::init(&url).await })
            })
            .collect();
        let mut built = 0;
        for init in inits {
            let (db, before) = init.await.unwrap().unwrap_or_else(|e| panic!("{backend:?}: {e}"));
            assert!(before == 0 || before == SCHEMA_VERSION, "{backend:?}: found {before}");
            built += i64::from(before == 0);
            assert_eq!(db.schema_status().await.unwrap(), SchemaStatus::Current);
            db.close().await;
        }
        assert!(built >= 1, "{backend:?}");
        let steps: i64;
        on_raw_pool!(backend, &url, |p| {
            steps = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migration").fetch_one(&p).await.unwrap();
        });
        assert_eq!(steps, SCHEMA_VERSION, "{backend:?}: each step recorded once");
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

/// Store-days stored one row each, as before schema step 12, go through the
/// month rollup (step 7) and into month packs (step 12) unchanged; a batch
/// written afterwards replaces its day and leaves the others of the month.
#[tokio::test]
async fn upgrading_builds_the_month_rollup_and_packs_the_stored_days_by_month() {
    use chrono::NaiveDate;
    use opsdesk_db::Scope;
    use opsdesk_db::imports::BatchMeta;
    use opsdesk_db::sales::{DaySnap, SalesData};
    use opsdesk_domain::sales::codec::{pack_categories, pack_members};
    use opsdesk_domain::sales::{CategoryTotals, DayKey, DayRow, DaySource, DayTotals, MemberDay};
    use opsdesk_domain::stores::StoreRecord;
    for backend in TestDb::backends() {
        let (url, _guard) = TestDb::fresh_url(backend).await;
        let db = opsdesk_db::testing::init_at(&url, 6).await.unwrap();
        let all = Scope::system("test");
        let sep = |n| NaiveDate::from_ymd_opt(2026, 9, n).unwrap();
        let store = StoreRecord {
            code: "S1".into(),
            name: "一店".into(),
            region_path: vec!["华东".into()],
            area_sqm: 100,
            staff_count: 5,
            open_date: sep(1),
            channel: None,
            status: None,
            sku_count: None,
            open_minutes: None,
        };
        db.save_stores(&all, &[store]).await.unwrap();
        let id = db.store_codes(&all).await.unwrap()["S1"];
        db.close().await;

        // The rows of step 6: one per store-day; the third day a summary.
        let t = |revenue| CategoryTotals { revenue, cost: revenue / 2, qty: 1, lines: 1 };
        let lines_days = [(sep(1), 100), (sep(2), 250), (NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(), 400)];
        on_raw_pool!(backend, &url, |p| {
            let batch: i64 = sqlx::query_scalar(
                "INSERT INTO import_batch (kind, file_name, sha256, actor, started_at, duration_ms, result,
                    rows_read, rows_imported, rows_rejected, pairs_new, pairs_replaced)
                 VALUES ('sales', 'old.csv', 'x', 'test', $1, 0, 'imported', 4, 4, 0, 4, 0) RETURNING id",
            )
            .bind(chrono::Utc::now())
            .fetch_one(&p)
            .await
            .unwrap();
            let day_sql = "INSERT INTO sales_day (store_id, d, month, iso_week, revenue_c, cost_c, qty, tickets,
                    member_revenue_c, member_tickets, returns_c, lines, source, batch_id)
                 VALUES ($1, $2, $3, 0, $4, $5, $6, 2, $7, $8, $9, $10, $11, $12)";
            for (d, revenue) in lines_days {
                let month = i64::from(chrono::Datelike::year(&d)) * 100 + i64::from(chrono::Datelike::month(&d));
                sqlx::query(day_sql)
                    .bind(id)
                    .bind(d)
                    .bind(month)
                    .bind(revenue + 7)
                    .bind((revenue + 7) / 2)
                    .bind(Some(2i64))
                    .bind(Some(30i64))
                    .bind(Some(1i64))
                    .bind(Some(-5i64))
                    .bind(Some(2i64))
                    .bind("lines")
                    .bind(batch)
                    .execute(&p)
                    .await
                    .unwrap();
                sqlx::query(
                    "INSERT INTO sales_day_detail (store_id, d, month, categories, members) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(d)
                .bind(month)
                .bind(pack_categories(&[("处方药", t(revenue)), ("母婴", t(7))]))
                .bind(pack_members(&[("M1", MemberDay { tickets: 1, net: 30 })]))
                .execute(&p)
                .await
                .unwrap();
            }
            sqlx::query(day_sql)
                .bind(id)
                .bind(sep(3))
                .bind(202609i64)
                .bind(90i64)
                .bind(40i64)
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind("summary")
                .bind(batch)
                .execute(&p)
                .await
                .unwrap();
        });

        let (db, before) = Db::init(&url).await.unwrap();
        assert_eq!(before, 6, "{backend:?}");
        assert_eq!(day_tables(backend, &url).await, 0, "{backend:?}");
        let snap = db.rollup_snapshot(&all).await.unwrap();
        let line_day = |d, revenue: i64| DaySnap {
            store_id: id,
            d,
            revenue_c: revenue + 7,
            cost_c: (revenue + 7) / 2,
            qty: Some(2),
            tickets: 2,
            member_revenue_c: Some(30),
            member_tickets: Some(1),
            returns_c: Some(-5),
            lines: Some(2),
            source: "lines".into(),
        };
        let summary = DaySnap {
            store_id: id,
            d: sep(3),
            revenue_c: 90,
            cost_c: 40,
            qty: None,
            tickets: 2,
            member_revenue_c: None,
            member_tickets: None,
            returns_c: None,
            lines: None,
            source: "summary".into(),
        };
        let expected =
            vec![line_day(sep(1), 100), line_day(sep(2), 250), summary.clone(), line_day(lines_days[2].0, 400)];
        assert_eq!(snap.days, expected, "{backend:?}");
        assert_eq!(snap.months, snap.months_from_days(), "{backend:?}");
        assert_eq!(snap.month_totals, snap.month_totals_from_days(), "{backend:?}");
        // Step 13 counted September's summary day from the packed days.
        let summaries: Vec<_> = snap.month_totals.iter().map(|m| (m.month, m.summary_days)).collect();
        assert_eq!(summaries, vec![(202609, 1), (202610, 0)], "{backend:?}");
        assert_eq!(db.summary_days(&all, sep(1), sep(30)).await.unwrap(), 1, "{backend:?}");
        assert_eq!(db.summary_days(&all, sep(3), sep(3)).await.unwrap(), 1, "{backend:?}");
        assert_eq!(db.summary_days(&all, sep(4), sep(30)).await.unwrap(), 0, "{backend:?}");
        let rx: Vec<_> = snap.months.iter().map(|m| (m.month, m.category.as_str(), m.revenue_c)).collect();
        assert_eq!(
            rx,
            vec![(202609, "处方药", 350), (202609, "母婴", 14), (202610, "处方药", 400), (202610, "母婴", 7)]
        );
        assert_eq!(snap.members.len(), 3, "{backend:?}");

        // A batch of 2 September replaces that day and keeps the month's others.
        let mut day = DayRow::from_totals(DayKey { store: id, date: sep(2) }, &DayTotals::default());
        day.revenue = 1_000;
        day.source = DaySource::Lines;
        day.categories = Some(pack_categories(&[("母婴", t(1_000))]));
        day.members = Some(pack_members(&[]));
        let meta = BatchMeta {
            kind: "sales".into(),
            file_name: "new.csv".into(),
            sha256: "y".into(),
            started_at: chrono::Utc::now(),
            rows_read: 1,
            rows_imported: 1,
            rows_rejected: 0,
            first_date: Some(sep(2)),
            last_date: Some(sep(2)),
            message: String::new(),
            add: false,
        };
        db.write_sales(&all, &meta, SalesData { days: vec![day], lines: Vec::new() }).await.unwrap();
        let after = db.rollup_snapshot(&all).await.unwrap();
        let revenues: Vec<_> = after.days.iter().map(|d| (d.d, d.revenue_c, d.source.as_str())).collect();
        assert_eq!(
            revenues,
            vec![
                (sep(1), 107, "lines"),
                (sep(2), 1_000, "lines"),
                (sep(3), 90, "summary"),
                (lines_days[2].0, 407, "lines")
            ],
            "{backend:?}"
        );
        assert_eq!(after.months, after.months_from_days(), "{backend:?}");
        assert_eq!(after.month_totals, after.month_totals_from_days(), "{backend:?}");
        assert_eq!(after.month_totals[0].summary_days, 1, "the kept summary day, {backend:?}");
        let rx: Vec<_> = after.months.iter().map(|m| (m.month, m.category.as_str(), m.revenue_c)).collect();
        assert_eq!(
            rx,
            vec![(202609, "处方药", 100), (202609, "母婴", 1_007), (202610, "处方药", 400), (202610, "母婴", 7)]
        );
        db.close().await;
    }
}

/// Neither backend checks the store-days' stores and batches by foreign
/// key (a probe per bulk-written row); the one writer refuses a store the user
/// does not reach, or that does not exist, before writing anything.
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
        let keys: i64;
        on_raw_pool!(backend, &url, |p| {
            keys = if backend == Backend::Sqlite {
                sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_list('sales_days')")
                    .fetch_one(&p)
                    .await
                    .unwrap()
            } else {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.table_constraints
                     WHERE table_name = 'sales_days' AND constraint_type = 'FOREIGN KEY'",
                )
                .fetch_one(&p)
                .await
                .unwrap()
            };
        });
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
        let err = db.write_sales(&all, &meta, SalesData { days: vec![day], lines: Vec::new() }).await.unwrap_err();
        assert_eq!(err.to_string(), "store id 999 is outside the reach of test", "{backend:?}");
        assert!(db.rollup_snapshot(&all).await.unwrap().days.is_empty(), "{backend:?}");
        db.close().await;
    }
}
