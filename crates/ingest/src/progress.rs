/// How far an import has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes (CSV) or rows (XLSX) done.
    pub done: u64,
    /// The file's size in bytes, or its sheet's row count.
    pub total: u64,
    pub rows: u64,
}

/// Called from the importing thread as work advances.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Sync);
