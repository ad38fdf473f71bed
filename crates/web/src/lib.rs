//! The web desk's crate. It holds what the pages and the command line share
//! for the outside world: the XLSX rendering of reports ([`export`]). Sign-in,
//! pages and the JSON API come with the web desk.

pub mod export;
