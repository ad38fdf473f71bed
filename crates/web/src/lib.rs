//! The web desk's crate: what the pages, the JSON API and the command line
//! share — the report service ([`reports`]), the XLSX rendering of reports
//! ([`export`]) and passwords ([`auth`]).

pub mod auth;
pub mod export;
pub mod reports;
