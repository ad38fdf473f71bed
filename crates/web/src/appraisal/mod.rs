//! Appraisal in the desk: the tables of a cycle (shared with the command
//! line and the API) and the pages where units are scored and signed along
//! the approval chain.

mod pages;
mod tables;

pub(crate) use pages::*;
pub use tables::*;
