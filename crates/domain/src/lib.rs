//! The rules of opsdesk, free of I/O: money in fen, business dates, the sales
//! facts and their rollups, the report maths. Everything here is plain data and
//! plain functions, tested with examples and properties; the database, files and
//! HTTP live in the other crates.

pub mod appraisal;
pub mod calendar;
pub mod i18n;
pub mod money;
pub mod people;
pub mod reports;
pub mod sales;
pub mod staff;
pub mod stores;
pub mod targets;
pub mod text;

pub use money::{Money, rdiv};
