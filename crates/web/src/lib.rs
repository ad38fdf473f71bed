//! The web desk's crate: what the pages, the JSON API and the command line
//! share — the report service ([`reports`]) and the XLSX rendering of
//! reports ([`export`]).

pub mod export;
pub mod reports;
