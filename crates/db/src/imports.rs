//! The import history (导入记录): one row per file an import was asked to take,
//! whatever the outcome, with its sha256 so that a file imported twice is
//! recognised.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{Db, Result, Scope, on_pool};

/// What an import knows about its file before it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMeta {
    /// `sales`, `daily` or `stores`.
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub started_at: DateTime<Utc>,
    pub rows_read: i64,
    pub rows_imported: i64,
    pub rows_rejected: i64,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    pub message: String,
    /// Add the rows to the store-days already stored instead of replacing
    /// them (for a file of fixed rejects).
    pub add: bool,
}

/// How an import ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportResult {
    Imported,
    Refused,
    AlreadyImported,
    Failed,
}

impl ImportResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportResult::Imported => "imported",
            ImportResult::Refused => "refused",
            ImportResult::AlreadyImported => "already_imported",
            ImportResult::Failed => "failed",
        }
    }
}

/// One row of the import history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportRecord {
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub actor: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub result: String,
    pub rows_read: i64,
    pub rows_imported: i64,
    pub rows_rejected: i64,
    pub pairs_new: i64,
    pub pairs_replaced: i64,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    pub message: String,
}

pub(crate) const INSERT_BATCH: &str = "INSERT INTO import_batch
    (kind, file_name, sha256, actor, started_at, duration_ms, result, rows_read, rows_imported,
     rows_rejected, pairs_new, pairs_replaced, first_date, last_date, message)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id";

/// Binds a [`BatchMeta`] and its outcome to [`INSERT_BATCH`].
macro_rules! bind_batch {
    ($meta:expr, $actor:expr, $result:expr, $pairs_new:expr, $pairs_replaced:expr) => {
        sqlx::query_scalar::<_, i64>($crate::imports::INSERT_BATCH)
            .bind(&$meta.kind)
            .bind(&$meta.file_name)
            .bind(&$meta.sha256)
            .bind($actor)
            .bind($meta.started_at)
            .bind($crate::imports::elapsed_ms($meta.started_at))
            .bind($result.as_str())
            .bind($meta.rows_read)
            .bind($meta.rows_imported)
            .bind($meta.rows_rejected)
            .bind($pairs_new)
            .bind($pairs_replaced)
            .bind($meta.first_date)
            .bind($meta.last_date)
            .bind(&$meta.message)
    };
}
pub(crate) use bind_batch;

pub(crate) fn elapsed_ms(since: DateTime<Utc>) -> i64 {
    (Utc::now() - since).num_milliseconds().max(0)
}

impl Db {
    /// Records an import that wrote nothing (refused, already imported,
    /// failed) or a stores import, and returns its id.
    pub async fn record_import(&self, scope: &Scope, meta: &BatchMeta, result: ImportResult) -> Result<i64> {
        Ok(on_pool!(self, p => bind_batch!(meta, scope.actor(), result, 0i64, 0i64).fetch_one(p).await?))
    }

    /// The import history, newest first. A scope that does not see every
    /// store reads only its own imports.
    pub async fn imports(&self, scope: &Scope, limit: i64) -> Result<Vec<ImportRecord>> {
        const COLS: &str = "SELECT id, kind, file_name, sha256, actor, started_at, duration_ms, result, rows_read,
            rows_imported, rows_rejected, pairs_new, pairs_replaced, first_date, last_date, message FROM import_batch";
        Ok(if scope.sees_all() {
            let sql = sqlx::AssertSqlSafe(format!("{COLS} ORDER BY id DESC LIMIT $1"));
            on_pool!(self, p => sqlx::query_as(sql).bind(limit).fetch_all(p).await?)
        } else {
            let sql = sqlx::AssertSqlSafe(format!("{COLS} WHERE actor = $2 ORDER BY id DESC LIMIT $1"));
            on_pool!(self, p => sqlx::query_as(sql).bind(limit).bind(scope.actor()).fetch_all(p).await?)
        })
    }
}
