//! The database: one [`Db`] handle over SQLite (the embedded default) or
//! PostgreSQL (production), the migrations of both, and one query module per
//! feature. SQL is written out with `$1…` placeholders, one text for both
//! backends where the dialects agree; where they differ, the two texts stand
//! side by side in the feature's module.
//!
//! Error policy: every function returns [`DbError`]. Driver errors pass
//! through with their detail for the log; the conditions a user can act on
//! (no database yet, a schema from a newer opsdesk, a bad URL) are variants of
//! their own with a message in both languages.

pub mod appraisal;
pub mod audit;
mod day_packs;
mod error;
mod fetch;
pub mod imports;
mod migrate;
pub mod people;
pub mod reports;
pub mod sales;
pub mod scope;
pub mod settings;
mod sqlite_bulk;
pub mod staff;
pub mod stores;
pub mod targets;
pub mod testing;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use error::DbError;
pub use migrate::{SCHEMA_VERSION, SchemaStatus};
pub use scope::{Reach, Scope};

pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// `a / b` in hundredths of a percent (10 000 = 100 %), rounded once; `None` when `b` is not positive.
pub(crate) fn rdiv_ratio(a: i128, b: i128) -> Option<i64> {
    opsdesk_domain::rdiv(a * 10_000, b)
}

/// What saving a file of records (stores, employees, positions) changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordChanges {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Which engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the opsdesk database. Cheap to clone (a connection pool).
#[derive(Clone)]
pub struct Db {
    pub(crate) pool: Pool,
    url: String,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("url", &redact(&self.url)).finish()
    }
}

/// Runs the same tokens against whichever pool the handle holds; each arm is
/// type-checked for its own driver.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match &$db.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// How long a SQLite connection waits for another's write lock.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Begins a transaction that writes. SQLite's plain `BEGIN` takes the write
/// lock at the first write; a transaction that has read by then fails at
/// once with "database is locked" if another connection wrote meanwhile
/// (its snapshot is stale, and no waiting mends that), whatever the busy
/// timeout. `BEGIN IMMEDIATE` takes the lock first, waiting for it as long
/// as the busy timeout allows. PostgreSQL's transactions need nothing of
/// the kind.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Database>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>>> + Send {
        self.begin()
    }
}

/// A database URL with its password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((auth, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The path a `sqlite://` URL names: `sqlite://opsdesk.db` is relative,
/// `sqlite:///var/lib/opsdesk.db` absolute.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let rest = rest.split('?').next().unwrap_or(rest);
    (!rest.is_empty()).then(|| PathBuf::from(rest))
}

impl Db {
    /// Connects and checks that the schema is the one this binary knows.
    pub async fn open(url: &str) -> Result<Db> {
        let db = Db::connect(url, false).await?;
        match db.schema_status().await? {
            SchemaStatus::Current => Ok(db),
            SchemaStatus::Empty => Err(DbError::NotInitialised(redact(url))),
            SchemaStatus::Older(found) => Err(DbError::Outdated { found, known: SCHEMA_VERSION }),
            SchemaStatus::Newer(found) => Err(DbError::TooNew { found, known: SCHEMA_VERSION }),
        }
    }

    /// Creates the database if need be and brings its schema up to date.
    /// Returns the handle and the schema version it found before.
    pub async fn init(url: &str) -> Result<(Db, i64)> {
        let db = Db::connect(url, true).await?;
        let before = db.migrate().await?;
        Ok((db, before))
    }

    async fn connect(url: &str, create: bool) -> Result<Db> {
        let pool = if url.starts_with("sqlite:") {
            let path = sqlite_path(url).ok_or_else(|| DbError::BadUrl(url.to_string()))?;
            if !create && !path.exists() {
                return Err(DbError::NotInitialised(path.display().to_string()));
            }
            let opts = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(create)
                .page_size(16384)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(BUSY_TIMEOUT)
                .foreign_keys(true)
                .pragma("temp_store", "memory")
                // 2 MiB of pages: a bulk write spills its dirty pages to the
                // log as it goes instead of holding them all until the commit
                // (a 10 M-line import peaked at 272 MiB with 64 MiB, 212 with
                // 8, 176–177 with 4, 174–175 with 2, each no slower than the
                // last; the 1 M-line import 82–87, 81–82, 80 MiB); reads are
                // served by the mapping below.
                .pragma("cache_size", "-2048")
                // Reads come straight from the file's pages in the kernel's
                // cache instead of being copied into SQLite's: reading a year
                // of packed members for the RFM segments at 10 M lines took
                // 12.6 k page faults instead of 21.7 k (RFM 296 → 260 ms,
                // segments 268 → 211 ms).
                .pragma("mmap_size", "1073741824");
            let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(|_| DbError::BadUrl(redact(url)))?;
            let pool = PgPoolOptions::new().max_connections(8).connect_with(opts).await?;
            Pool::Postgres(pool)
        } else {
            return Err(DbError::BadUrl(redact(url)));
        };
        Ok(Db { pool, url: url.to_string() })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL with its password hidden.
    pub fn display_url(&self) -> String {
        redact(&self.url)
    }

    /// Copies SQLite's write-ahead log into the database file now, on a
    /// connection of its own, instead of when the last connection closes
    /// (PostgreSQL: nothing to do). After a large import, while other work
    /// goes on: the copy of a 1 M-line import's pages took some 40 ms of
    /// closing the command line's database.
    pub async fn checkpoint_log(&self) -> Result<()> {
        if let Pool::Sqlite(p) = &self.pool {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(p).await?;
        }
        Ok(())
    }

    /// Closes every connection (SQLite checkpoints its log).
    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }

    /// SQLite's own consistency check (`PRAGMA integrity_check`); PostgreSQL
    /// guards its own files and answers `ok`.
    pub async fn integrity_check(&self) -> Result<String> {
        match &self.pool {
            Pool::Sqlite(p) => {
                let (s,): (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(p).await?;
                Ok(s)
            }
            Pool::Postgres(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
                Ok("ok".to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write transaction reads, another connection writes meanwhile, and
    /// the first then writes: it waits for the other and both land. With
    /// SQLite's plain `BEGIN` the first failed at once, "database is locked".
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_that_read_first_waits_for_another_writer_instead_of_failing() {
        use crate::testing::TestDb;
        for backend in TestDb::backends() {
            let t = TestDb::new(backend).await;
            on_pool!(t.db, p => {
                sqlx::query("CREATE TABLE probe (n BIGINT NOT NULL)").execute(p).await.unwrap();
            });
            let other = Db::open(&t.url).await.unwrap();
            on_pool!(t.db, p => {
                let mut tx = p.begin_write().await.unwrap();
                let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM probe").fetch_one(&mut *tx).await.unwrap();
                assert_eq!(before, 0);
                let writer = tokio::spawn(async move {
                    on_pool!(other, q => sqlx::query("INSERT INTO probe (n) VALUES (2)").execute(q).await.map(|_| ()))
                });
                tokio::time::sleep(Duration::from_millis(300)).await;
                sqlx::query("INSERT INTO probe (n) VALUES (1)").execute(&mut *tx).await.unwrap_or_else(|e| {
                    panic!("{backend:?}: {e}")
                });
                tx.commit().await.unwrap();
                writer.await.unwrap().unwrap();
            });
            let n: i64 = on_pool!(t.db, p => sqlx::query_scalar("SELECT CAST(SUM(n) AS BIGINT) FROM probe").fetch_one(p).await.unwrap());
            assert_eq!(n, 3, "{backend:?}");
        }
    }

    #[test]
    fn urls_hide_passwords_and_name_sqlite_files() {
        assert_eq!(redact("postgres://ops:s3cret@db:5432/opsdesk"), "postgres://ops:***@db:5432/opsdesk");
        assert_eq!(redact("postgres://ops@db/opsdesk"), "postgres://ops@db/opsdesk");
        assert_eq!(sqlite_path("sqlite://opsdesk.db"), Some(PathBuf::from("opsdesk.db")));
        assert_eq!(sqlite_path("sqlite:///var/lib/o.db"), Some(PathBuf::from("/var/lib/o.db")));
        assert_eq!(sqlite_path("sqlite://"), None);
    }
}
