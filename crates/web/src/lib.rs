//! The web desk: sign-in, sessions and CSRF ([`session`], [`auth`]), the
//! pages and downloads ([`server`], [`pages`]), and what the pages, the JSON
//! API and the command line share — the report service ([`reports`]) and
//! the XLSX rendering of reports ([`export`]).

mod account;
mod api;
pub mod appraisal;
pub mod auth;
mod cache;
pub mod export;
pub mod i18n;
mod imports;
mod pages;
mod people;
pub mod reports;
pub mod server;
pub mod session;
mod staff;
mod stores;
pub mod targets;
