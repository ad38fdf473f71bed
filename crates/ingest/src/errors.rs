use std::io::Write;
use std::path::Path;

use opsdesk_domain::i18n::Lang;

/// One bad row: where it is and why it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Data record number, 1-based, header excluded (= physical line − 1
    /// for files whose records each take one line).
    pub row: u64,
    /// Physical line in the file (the header is line 1); for XLSX, the sheet row.
    pub line: u64,
    /// The column's name as the file's header has it (or the field's name).
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// The bad rows of a file: the first [`ErrorReport::KEEP`] in file order, and
/// how many there were in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorReport {
    pub errors: Vec<RowError>,
    pub total: u64,
}

impl ErrorReport {
    pub const KEEP: usize = 1000;

    pub fn push(&mut self, e: RowError) {
        self.total += 1;
        if self.errors.len() < Self::KEEP {
            self.errors.push(e);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Writes the kept errors as CSV: file, row, line, column, value, reason.
    pub fn write_csv(&self, path: &Path, file_name: &str, lang: Lang) -> std::io::Result<()> {
        let mut w = csv::Writer::from_path(path)?;
        w.write_record(match lang {
            Lang::Zh => ["文件", "行号", "物理行", "列", "值", "原因"],
            Lang::En => ["file", "row", "line", "column", "value", "reason"],
        })?;
        for e in &self.errors {
            w.write_record([
                file_name,
                &e.row.to_string(),
                &e.line.to_string(),
                &e.column,
                &opsdesk_domain::reports::table::neutralise(&e.value),
                &e.reason,
            ])?;
        }
        if self.total > self.errors.len() as u64 {
            let more = self.total - self.errors.len() as u64;
            let note = lang.pick("条错误未列出", "more errors not listed");
            w.write_record([file_name, "", "", "", "", &format!("{more} {note}")])?;
        }
        w.flush()?;
        Ok(())
    }
}

/// A problem with a file as a whole.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error(transparent)]
    Db(#[from] opsdesk_db::DbError),
}

impl IngestError {
    pub fn file(file: &str, message: impl Into<String>) -> IngestError {
        IngestError::File { file: file.to_string(), message: message.into() }
    }

    pub fn io(file: &str, source: std::io::Error) -> IngestError {
        IngestError::Io { file: file.to_string(), source }
    }

    /// Whether the input (not the machine) is at fault: exit code 2.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, IngestError::File { .. })
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            IngestError::Db(e) => e.message(lang),
            IngestError::Io { file, source } => {
                format!("{file}: {} {source}", lang.pick("读取失败：", "cannot be read:"))
            }
            IngestError::File { .. } => self.to_string(),
        }
    }
}

/// Writes rows set aside by `--skip-bad-rows`: the file's own header plus a
/// `reject_reason` column, each bad record as it was read, so the file can be
/// fixed and imported again.
pub(crate) struct RejectsWriter {
    w: csv::Writer<Box<dyn Write + Send>>,
    pub count: u64,
}

impl RejectsWriter {
    pub fn create(path: &Path, header: &[String]) -> std::io::Result<RejectsWriter> {
        let f: Box<dyn Write + Send> = Box::new(std::io::BufWriter::new(std::fs::File::create(path)?));
        let mut w = csv::WriterBuilder::new().flexible(true).from_writer(f);
        let mut h: Vec<&str> = header.iter().map(String::as_str).collect();
        h.push("reject_reason");
        w.write_record(&h)?;
        Ok(RejectsWriter { w, count: 0 })
    }

    pub fn write(&mut self, fields: &[String], reason: &str) -> std::io::Result<()> {
        let mut rec: Vec<&str> = fields.iter().map(String::as_str).collect();
        rec.push(reason);
        self.w.write_record(&rec)?;
        self.count += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}
