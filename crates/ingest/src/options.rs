//! What every importer takes and reports.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use opsdesk_db::RecordChanges;
use opsdesk_domain::i18n::Lang;

use crate::{Encoding, ErrorReport, ProgressFn};

/// How to import a file.
#[derive(Default)]
pub struct ImportOptions<'a> {
    /// Import the good rows and set the bad ones aside (in `rejects_path`).
    pub skip_bad_rows: bool,
    /// Where set-aside rows go; default `<file>.rejects.csv` beside the input.
    pub rejects_path: Option<PathBuf>,
    /// Also write the error report as CSV here.
    pub error_report_path: Option<PathBuf>,
    /// Add the rows to the store-days already stored instead of replacing
    /// them: for a file of fixed rejects whose tickets are not stored yet.
    pub add: bool,
    /// Header → field pairs for this file, over the saved ones.
    pub mappings: Vec<(String, String)>,
    pub lang: Lang,
    pub progress: Option<ProgressFn<'a>>,
}

impl ImportOptions<'_> {
    pub(crate) fn rejects_file(&self, input: &Path) -> PathBuf {
        self.rejects_path.clone().unwrap_or_else(|| beside(input, "rejects.csv"))
    }
}

/// `sales.csv` → `sales.<suffix>` in the same folder.
pub fn beside(input: &Path, suffix: &str) -> PathBuf {
    let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "import".into());
    input.with_file_name(format!("{stem}.{suffix}"))
}

/// How an import ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Imported,
    /// The same file was imported before and still stands: nothing changed.
    AlreadyImported,
    /// Bad rows, nothing written.
    Refused,
}

/// What an import did, for the command line and the web page.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    pub kind: &'static str,
    pub file_name: String,
    pub sha256: String,
    pub encoding: Encoding,
    pub outcome: Outcome,
    pub batch_id: Option<i64>,
    pub rows_read: u64,
    pub rows_imported: u64,
    pub rows_rejected: u64,
    pub pairs_new: i64,
    pub pairs_replaced: i64,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    /// Σ revenue of the imported rows, in fen.
    pub revenue: i64,
    pub errors: ErrorReport,
    pub rejects_path: Option<PathBuf>,
    pub error_report_path: Option<PathBuf>,
    pub records: Option<RecordChanges>,
    /// Time spent reading and checking the file, before any write.
    pub read_time: Duration,
    pub duration: Duration,
}

impl ImportSummary {
    /// Writes the error report where the options ask for one, if there are errors.
    pub(crate) fn write_error_report(&mut self, opts: &ImportOptions<'_>) -> Result<(), crate::IngestError> {
        if let Some(report) = &opts.error_report_path
            && !self.errors.is_empty()
        {
            self.errors
                .write_csv(report, &self.file_name, opts.lang)
                .map_err(|e| crate::IngestError::io(&report.display().to_string(), e))?;
            self.error_report_path = Some(report.clone());
        }
        Ok(())
    }
}

/// Runs CPU-bound parsing without stalling the async runtime's other tasks.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}
