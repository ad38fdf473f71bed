//! R5 kept: the whole company's scored members for an as-of date, stored
//! once computed and read back while no import has come since (schema step
//! 15). Summing a year of member-days takes 0.6–1.2 s at 1,000 stores (a
//! million members); reading the kept rows back is a fraction of that, and
//! the segments are eight numbers. Each sales import keeps its latest date
//! ([`Db::keep_rfm`]), the date the reports open with.
//!
//! Kept only for a scope that sees every store: a narrower reach sums its
//! own stores' members (and a member's spend at the stores it reaches),
//! which no company-wide figure gives.
//!
//! Validity: a kept row records the last imported batch (`version`) as it
//! was read *before* the member-days were, and is read only while that is
//! still the last one. Member-days read after a newer import are newer than
//! their label says; such a row is never stored (the write checks the
//! version again under the write lock) and never read.

use std::time::Duration;

use chrono::NaiveDate;
use opsdesk_domain::reports::rfm::{RfmRow, SegmentSums, rfm, scored, segment_sums};
use opsdesk_domain::sales::codec::{
    CodecError, pack_rfm_rows, pack_segment_sums, unpack_rfm_rows, unpack_segment_sums,
};
use sqlx::Connection;

use crate::{BeginWrite, Db, DbError, Pool, Result, Scope, on_pool};

/// Members packed to a row of `rfm_kept_part`.
const PART_ROWS: usize = 1 << 16;

/// As-of dates kept at once; the oldest kept goes first.
const KEPT_DATES: i64 = 4;

fn damaged(_: CodecError) -> DbError {
    DbError::Rule("a kept RFM value is damaged".into())
}

impl Db {
    /// R5 members over the 365 days to `asof` within reach: scored, in code
    /// order, with their segments.
    pub async fn rfm_rows(&self, scope: &Scope, asof: NaiveDate) -> Result<Vec<RfmRow>> {
        if !scope.sees_all() {
            return Ok(rfm(self.member_windows(scope, asof).await?));
        }
        let version = self.import_version().await?;
        if let Some(head) = self.kept(asof, version).await? {
            return self.kept_rows(&head).await;
        }
        let rows = rfm(self.member_windows(scope, asof).await?);
        self.keep(asof, version, &rows).await?;
        Ok(rows)
    }

    /// R5 segments' members and spend over the 365 days to `asof` within reach.
    pub async fn rfm_segment_sums(&self, scope: &Scope, asof: NaiveDate) -> Result<SegmentSums> {
        if !scope.sees_all() {
            // No member's code: the segments count members.
            return Ok(segment_sums(&scored(self.member_figures(scope, asof).await?)));
        }
        let version = self.import_version().await?;
        if let Some(head) = self.kept(asof, version).await? {
            return Ok(head.segments);
        }
        let rows = rfm(self.member_windows(scope, asof).await?);
        self.keep(asof, version, &rows).await?;
        Ok(segment_sums(&rows))
    }

    /// Keeps R5 for the company's last date with sales, unless kept already:
    /// what an import does once its batch is in, so that the reports open
    /// on figures ready to read.
    pub async fn keep_rfm(&self) -> Result<()> {
        let scope = Scope::system("rfm");
        if let Some(last) = self.last_sales_date(&scope).await? {
            self.rfm_segment_sums(&scope, last).await?;
        }
        Ok(())
    }

    /// The last imported batch: the data of the reports changes only with
    /// one (a file of sales, of store-day summaries; any other kind moves it
    /// too, which only costs a recomputation).
    async fn import_version(&self) -> Result<i64> {
        let v: Option<i64> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT MAX(id) FROM import_batch WHERE result = 'imported'"
        )
        .fetch_one(p)
        .await?);
        Ok(v.unwrap_or(0))
    }

    /// The kept row of `asof` at `version`.
    async fn kept(&self, asof: NaiveDate, version: i64) -> Result<Option<KeptHead>> {
        let row: Option<(i64, i64, Vec<u8>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, members, segments FROM rfm_kept WHERE asof = $1 AND version = $2"
        )
        .bind(asof)
        .bind(version)
        .fetch_optional(p)
        .await?);
        let Some((id, members, segments)) = row else { return Ok(None) };
        let segments = unpack_segment_sums(&segments).map_err(damaged)?;
        if segments.iter().map(|s| s.0).sum::<i64>() != members {
            return Err(damaged(CodecError));
        }
        Ok(Some(KeptHead { id, members, segments }))
    }

    /// The members of a kept row, its parts unpacked on every core; all of
    /// them, or an error.
    async fn kept_rows(&self, head: &KeptHead) -> Result<Vec<RfmRow>> {
        let parts: Vec<(Vec<u8>,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT members FROM rfm_kept_part WHERE kept_id = $1 ORDER BY part"
        )
        .bind(head.id)
        .fetch_all(p)
        .await?);
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 4);
        let per_thread = parts.len().div_ceil(threads).max(1);
        let unpacked: Vec<std::result::Result<Vec<RfmRow>, CodecError>> = std::thread::scope(|s| {
            let handles: Vec<_> = parts
                .chunks(per_thread)
                .map(|mine| {
                    s.spawn(move || {
                        let mut rows = Vec::new();
                        for (packed,) in mine {
                            rows.extend(unpack_rfm_rows(packed)?);
                        }
                        Ok(rows)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        });
        let mut out = Vec::new();
        for rows in unpacked {
            let rows = rows.map_err(damaged)?;
            if out.is_empty() {
                out = rows;
            } else {
                out.extend(rows);
            }
        }
        if out.len() as i64 != head.members {
            return Err(damaged(CodecError));
        }
        Ok(out)
    }

    /// Stores `rows`, computed for `asof` from the data of `version`, if that
    /// is still the last import; drops what other versions kept, and the
    /// oldest as-of dates beyond [`KEPT_DATES`].
    ///
    /// On SQLite it waits for the write lock [`KEEPER_WAIT`] at most and
    /// otherwise keeps nothing: a report that keeps what it summed must not
    /// wait behind an import, which holds the lock for seconds and then
    /// makes the figures of no use anyway.
    async fn keep(&self, asof: NaiveDate, version: i64, rows: &[RfmRow]) -> Result<()> {
        let kept = Kept {
            asof,
            version,
            members: rows.len() as i64,
            segments: pack_segment_sums(&segment_sums(rows)),
            parts: rows.chunks(PART_ROWS).map(pack_rfm_rows).collect(),
        };
        match &self.pool {
            Pool::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                let wait = |d: Duration| sqlx::AssertSqlSafe(format!("PRAGMA busy_timeout = {}", d.as_millis()));
                sqlx::query(wait(KEEPER_WAIT)).execute(&mut *conn).await?;
                let written = async {
                    let mut tx = match conn.begin_with("BEGIN IMMEDIATE").await {
                        Err(e) if is_busy(&e) => return Ok(()),
                        begun => begun?,
                    };
                    write_kept!(tx, kept);
                    Ok(())
                }
                .await;
                if sqlx::query(wait(crate::BUSY_TIMEOUT)).execute(&mut *conn).await.is_err() {
                    // Not back in the pool with the short wait.
                    drop(conn.detach());
                }
                written
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin_write().await?;
                // One keeper at a time (two could insert the same date).
                sqlx::query("SELECT pg_advisory_xact_lock(7402003)").execute(&mut *tx).await?;
                write_kept!(tx, kept);
                Ok(())
            }
        }
    }
}

/// How long a keeper waits for SQLite's write lock.
const KEEPER_WAIT: Duration = Duration::from_millis(200);

/// SQLite's "database is locked" (`SQLITE_BUSY`, with its extended codes).
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5)
}

/// A kept row's head: its id, member count and segments.
struct KeptHead {
    id: i64,
    members: i64,
    segments: SegmentSums,
}

/// R5 of one as-of date, packed to be stored.
struct Kept {
    asof: NaiveDate,
    version: i64,
    members: i64,
    segments: Vec<u8>,
    parts: Vec<Vec<u8>>,
}

/// Stores `$kept` in the write transaction `$tx` and commits, unless an
/// import came since its version (then returns, which rolls back).
macro_rules! write_kept {
    ($tx:ident, $kept:ident) => {{
        let now: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM import_batch WHERE result = 'imported'")
            .fetch_one(&mut *$tx)
            .await?;
        if now.unwrap_or(0) != $kept.version {
            // An import came meanwhile: these figures may be of either.
            return Ok(());
        }
        // Another version's rows, and this date's at this version (a
        // keeper that came first), go.
        sqlx::query(
            "DELETE FROM rfm_kept_part WHERE kept_id IN (SELECT id FROM rfm_kept WHERE asof = $1 OR version <> $2)",
        )
        .bind($kept.asof)
        .bind($kept.version)
        .execute(&mut *$tx)
        .await?;
        sqlx::query("DELETE FROM rfm_kept WHERE asof = $1 OR version <> $2")
            .bind($kept.asof)
            .bind($kept.version)
            .execute(&mut *$tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rfm_kept (asof, version, members, segments) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind($kept.asof)
        .bind($kept.version)
        .bind($kept.members)
        .bind(&$kept.segments)
        .fetch_one(&mut *$tx)
        .await?;
        for (part, packed) in $kept.parts.iter().enumerate() {
            sqlx::query("INSERT INTO rfm_kept_part (kept_id, part, members) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(part as i64)
                .bind(packed)
                .execute(&mut *$tx)
                .await?;
        }
        const NEWEST: &str = "SELECT id FROM rfm_kept ORDER BY id DESC LIMIT $1";
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM rfm_kept_part WHERE kept_id NOT IN ({NEWEST})")))
            .bind(KEPT_DATES)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM rfm_kept WHERE id NOT IN ({NEWEST})")))
            .bind(KEPT_DATES)
            .execute(&mut *$tx)
            .await?;
        $tx.commit().await?;
    }};
}
use write_kept;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    fn row(member: &str, recency_days: i64, scores: [i64; 3]) -> RfmRow {
        RfmRow::new(member.into(), recency_days, 2, -150, scores)
    }

    /// Figures summed before an import came (labelled with the version read
    /// before it) are not stored; figures of the last import are, in parts
    /// read back in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_figures_of_the_last_import_are_kept_and_read_back_whole() {
        for backend in TestDb::backends() {
            let t = TestDb::new(backend).await;
            let asof = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
            let rows: Vec<RfmRow> =
                (0..PART_ROWS + 3).map(|i| row(&format!("M{i:07}"), (i % 365) as i64, [1, 3, 5])).collect();
            // No import yet: the version is 0.
            t.db.keep(asof, 7, &rows).await.unwrap();
            assert_eq!(t.kept_rfm().await.unwrap(), [], "{backend:?}: a version other than the last");
            t.db.keep(asof, 0, &rows).await.unwrap();
            assert_eq!(t.kept_rfm().await.unwrap(), [(asof, rows.len() as i64)]);
            let head = t.db.kept(asof, 0).await.unwrap().unwrap();
            assert_eq!(head.segments, segment_sums(&rows));
            assert_eq!(t.db.kept_rows(&head).await.unwrap(), rows, "{backend:?}: two parts, in order");
            assert!(t.db.kept(asof, 1).await.unwrap().is_none());
            // A part gone is damage, not a shorter list.
            t.execute("DELETE FROM rfm_kept_part WHERE part = 1").await.unwrap();
            let e = t.db.kept_rows(&head).await.unwrap_err();
            assert_eq!(e.to_string(), "a kept RFM value is damaged", "{backend:?}");
        }
    }

    /// While another connection holds SQLite's write lock (an import), a
    /// keeper gives up within its short wait instead of the 30 s every
    /// other writer waits, which would have made it fail "database is
    /// locked"; once the lock is free it keeps.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_keeper_does_not_wait_behind_a_writer() {
        let t = TestDb::new(crate::Backend::Sqlite).await;
        let asof = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let rows = vec![row("M1", 3, [5, 1, 2])];
        let other = Db::open(&t.url).await.unwrap();
        let Pool::Sqlite(p) = &other.pool else { unreachable!() };
        let mut writer = p.begin_write().await.unwrap();
        sqlx::query("INSERT INTO setting (key, value) VALUES ('probe', '1')").execute(&mut *writer).await.unwrap();
        t.db.keep(asof, 0, &rows).await.unwrap();
        assert_eq!(t.kept_rfm().await.unwrap(), [], "nothing kept while the lock is held");
        writer.rollback().await.unwrap();
        t.db.keep(asof, 0, &rows).await.unwrap();
        assert_eq!(t.kept_rfm().await.unwrap(), [(asof, 1)]);
        // The connection went back to the pool waiting as long as before.
        let waits: Vec<i64> = {
            let Pool::Sqlite(p) = &t.db.pool else { unreachable!() };
            let mut all = Vec::new();
            for _ in 0..4 {
                all.push(sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(p).await.unwrap());
            }
            all
        };
        assert!(waits.iter().all(|w| *w == crate::BUSY_TIMEOUT.as_millis() as i64), "{waits:?}");
    }
}
