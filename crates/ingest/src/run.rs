//! The start and the end every importer shares: the clock, the file name and
//! the column mappings at the start; the summary, the history row and the
//! write of a batch of store-days at the end.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use opsdesk_db::imports::{BatchMeta, ImportResult};
use opsdesk_db::sales::{SalesData, WriteOutcome};
use opsdesk_db::{Db, Scope};

use crate::options::{ImportOptions, ImportSummary, Outcome};
use crate::{Encoding, ErrorReport, ImportKind, IngestError};

pub(crate) struct Run {
    kind: ImportKind,
    add: bool,
    started: Instant,
    started_at: DateTime<Utc>,
    file_name: String,
    /// Saved header → field mappings of the kind, then the caller's.
    pub saved: Vec<(String, String)>,
}

/// What reading a file found.
pub(crate) struct Read {
    pub sha256: String,
    pub encoding: Encoding,
    pub rows_read: u64,
    pub errors: ErrorReport,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    pub rejects_path: Option<PathBuf>,
}

impl Run {
    pub async fn begin(db: &Db, kind: ImportKind, path: &Path, opts: &ImportOptions<'_>) -> Result<Run, IngestError> {
        let started = Instant::now();
        let mut saved = db.column_mappings(kind.as_str()).await?;
        saved.extend(opts.mappings.iter().cloned());
        Ok(Run {
            kind,
            add: opts.add,
            started,
            started_at: Utc::now(),
            file_name: path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            saved,
        })
    }

    /// The summary of a file that has been read; it stays "refused" until a
    /// write says otherwise. Writes the error report when asked for.
    pub fn summary(&self, read: Read, opts: &ImportOptions<'_>) -> Result<ImportSummary, IngestError> {
        let mut s = ImportSummary {
            kind: self.kind.as_str(),
            file_name: self.file_name.clone(),
            sha256: read.sha256,
            encoding: read.encoding,
            outcome: Outcome::Refused,
            batch_id: None,
            rows_read: read.rows_read,
            rows_imported: 0,
            rows_rejected: read.errors.total,
            pairs_new: 0,
            pairs_replaced: 0,
            first_date: read.first_date,
            last_date: read.last_date,
            revenue: 0,
            errors: read.errors,
            rejects_path: read.rejects_path,
            error_report_path: None,
            records: None,
            read_time: self.started.elapsed(),
            duration: self.started.elapsed(),
        };
        s.write_error_report(opts)?;
        Ok(s)
    }

    /// The history row of an import that will take `rows_imported` rows.
    pub fn meta(&self, s: &ImportSummary, rows_imported: u64) -> BatchMeta {
        BatchMeta {
            kind: self.kind.as_str().to_string(),
            file_name: self.file_name.clone(),
            sha256: s.sha256.clone(),
            started_at: self.started_at,
            rows_read: s.rows_read as i64,
            rows_imported: rows_imported as i64,
            rows_rejected: s.errors.total as i64,
            first_date: s.first_date,
            last_date: s.last_date,
            message: if self.add { "added to the store-days already stored".into() } else { String::new() },
            add: self.add,
        }
    }

    /// Records a file that imports nothing.
    pub async fn refuse(&self, db: &Db, scope: &Scope, mut s: ImportSummary) -> Result<ImportSummary, IngestError> {
        let mut meta = self.meta(&s, 0);
        meta.message = format!("{} bad rows", s.errors.total);
        s.batch_id = Some(db.record_import(scope, &meta, ImportResult::Refused).await?);
        s.duration = self.started.elapsed();
        Ok(s)
    }

    /// Records a file that was taken whole, without store-days (a store list).
    pub async fn record(
        &self,
        db: &Db,
        scope: &Scope,
        mut s: ImportSummary,
        rows: u64,
    ) -> Result<ImportSummary, IngestError> {
        s.batch_id = Some(db.record_import(scope, &self.meta(&s, rows), ImportResult::Imported).await?);
        s.outcome = Outcome::Imported;
        s.rows_imported = rows;
        s.duration = self.started.elapsed();
        Ok(s)
    }

    /// Writes a batch of store-days (and their detail) that `rows` good rows made.
    pub async fn write_days(
        &self,
        db: &Db,
        scope: &Scope,
        s: ImportSummary,
        data: SalesData,
        rows: u64,
    ) -> Result<ImportSummary, IngestError> {
        let sha256 = s.sha256.clone();
        self.write_days_then_fingerprint(db, scope, s, data, rows, move || Ok(sha256)).await
    }

    /// [`Run::write_days`] for a file whose sha256 `fingerprint` gives
    /// only once the store-days are written (it is being computed meanwhile).
    pub async fn write_days_then_fingerprint(
        &self,
        db: &Db,
        scope: &Scope,
        mut s: ImportSummary,
        data: SalesData,
        rows: u64,
        fingerprint: impl FnOnce() -> Result<String, IngestError> + Send,
    ) -> Result<ImportSummary, IngestError> {
        let fingerprint = || fingerprint().map_err(|e| e.to_string());
        let revenue = data.days.iter().map(|d| d.revenue).sum();
        let (outcome, sha256) = db.write_sales_then_fingerprint(scope, &self.meta(&s, rows), data, fingerprint).await?;
        s.sha256 = sha256;
        match outcome {
            WriteOutcome::Imported { batch_id, pairs_new, pairs_replaced } => {
                s.outcome = Outcome::Imported;
                s.batch_id = Some(batch_id);
                s.pairs_new = pairs_new;
                s.pairs_replaced = pairs_replaced;
                s.rows_imported = rows;
                s.revenue = revenue;
                // R5 of the new last date, computed once now rather than at
                // the first report, while the batch's pages are copied from
                // SQLite's log into the database file. Failing here loses no
                // data: the report then computes R5 itself, and says what is
                // wrong; the log is copied when the database closes.
                let _ = tokio::join!(db.checkpoint_log(), db.keep_rfm());
            }
            WriteOutcome::AlreadyImported { batch_id } => {
                s.outcome = Outcome::AlreadyImported;
                s.batch_id = Some(batch_id);
            }
        }
        s.duration = self.started.elapsed();
        Ok(s)
    }
}
