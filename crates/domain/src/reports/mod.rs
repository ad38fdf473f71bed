//! Report maths over rollups. Every ratio is computed from exact sums and
//! rounded once with [`crate::rdiv`]; values are integer hundredths until they
//! are printed.

pub mod category;
pub mod daily;
pub mod efficiency;
pub mod monthly;
pub mod period;
pub mod regions;
pub mod rfm;
pub mod table;
pub mod traffic;
pub mod weekly;
