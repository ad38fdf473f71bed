//! Files in: CSV and XLSX readers, encodings, header mapping, row validation,
//! and the streaming aggregation of POS lines into rollups.
//!
//! Error policy: a problem with one row is a [`RowError`] (row, column,
//! value, reason) collected into an [`ErrorReport`]; a problem with the file
//! as a whole (unreadable, unknown encoding, missing columns, a zip bomb) is
//! an [`IngestError`]. Neither ever panics, and a file with a bad row writes
//! nothing unless the caller asked to set bad rows aside.

pub mod daily;
mod errors;
mod fields;
mod options;
mod progress;
mod rows;
mod run;
pub mod sales;
mod source;
pub mod staff;
pub mod stores;
pub mod targets;
mod tickets;
mod xlsx;

pub use errors::{ErrorReport, IngestError, RowError};
pub use fields::{FieldSpec, ImportKind, Mapping};
pub use options::{ImportOptions, ImportSummary, Outcome, beside};
pub use progress::{Progress, ProgressFn};
pub use source::Encoding;
