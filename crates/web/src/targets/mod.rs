//! Targets in the desk: the tables a plan is shown, downloaded and served
//! as (shared with the JSON API and the command line), and the pages where
//! operations makes, edits and approves plans and everyone follows them.

mod pages;
mod tables;

pub(crate) use pages::*;
pub use tables::*;
