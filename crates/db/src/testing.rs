//! Test databases: a fresh SQLite file, and a fresh PostgreSQL database when
//! `OPSDESK_TEST_PG` names a server (e.g. `postgres://postgres@127.0.0.1/postgres`).
//! Each is removed when its [`TestDb`] is dropped, also after a failed test.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Backend, Db};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

enum Cleanup {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A database that exists for one test.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Option<Cleanup>,
}

/// The server to test PostgreSQL against, when one is configured.
pub fn pg_admin_url() -> Option<String> {
    std::env::var("OPSDESK_TEST_PG").ok().filter(|s| !s.is_empty() && s != "off")
}

/// Creates the database at `url` as opsdesk's schema `version` left it: to
/// test what the steps after it do to data stored before them.
pub async fn init_at(url: &str, version: i64) -> crate::Result<Db> {
    let db = Db::connect(url, true).await?;
    db.migrate_to(version).await?;
    Ok(db)
}

/// A URL naming another database on the same server.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    format!("{base}/{name}{query}")
}

impl TestDb {
    /// A URL for a database that does not exist yet on `backend`, and its cleanup.
    pub async fn fresh_url(backend: Backend) -> (String, TestDbGuard) {
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique("opsdesk_test")));
                (format!("sqlite://{}", path.display()), TestDbGuard(Some(Cleanup::File(path))))
            }
            Backend::Postgres => {
                let admin_url = pg_admin_url().expect("OPSDESK_TEST_PG is set");
                let name = unique("opsdesk_test");
                let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect to OPSDESK_TEST_PG");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                (with_database(&admin_url, &name), TestDbGuard(Some(Cleanup::Postgres { admin_url, name })))
            }
        }
    }

    /// A migrated, empty database on `backend`.
    pub async fn new(backend: Backend) -> TestDb {
        let (url, mut guard) = TestDb::fresh_url(backend).await;
        let (db, _) = Db::init(&url).await.expect("initialise test database");
        TestDb { db, url, cleanup: guard.0.take() }
    }

    /// The backends this run tests: SQLite always, PostgreSQL when configured.
    pub fn backends() -> Vec<Backend> {
        let mut v = vec![Backend::Sqlite];
        if pg_admin_url().is_some() {
            v.push(Backend::Postgres);
        }
        v
    }
}

impl TestDb {
    /// Runs one statement as it is written: for tests that damage or look
    /// at stored values directly.
    pub async fn execute(&self, sql: &str) -> crate::Result<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        Ok(crate::on_pool!(self.db, p => sqlx::query(sql).execute(p).await?.rows_affected()))
    }

    /// The as-of dates R5 is kept for, with their member counts, by date.
    pub async fn kept_rfm(&self) -> crate::Result<Vec<(chrono::NaiveDate, i64)>> {
        const SQL: &str = "SELECT asof, members FROM rfm_kept ORDER BY asof";
        Ok(crate::on_pool!(self.db, p => sqlx::query_as(SQL).fetch_all(p).await?))
    }
}

/// Removes a test database when dropped.
pub struct TestDbGuard(Option<Cleanup>);

impl Drop for TestDbGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            remove(c);
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(c) = self.cleanup.take() {
            remove(c);
        }
    }
}

fn remove(c: Cleanup) {
    match c {
        Cleanup::File(path) => {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        Cleanup::Postgres { admin_url, name } => {
            // Drop may run inside a runtime (or while unwinding): use a thread
            // with a runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let admin = sqlx::PgPool::connect(&admin_url).await.ok()?;
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await;
                    admin.close().await;
                    Some(())
                })
            })
            .join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_replace_the_path() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/postgres?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
