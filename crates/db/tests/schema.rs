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
