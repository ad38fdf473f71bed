//! Staff (员工): the people appraised, each in a store or a department, in a
//! position with its duties (岗位职责), at a level that sets the pay base.

use chrono::NaiveDate;

/// Where an employee works.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A store, by code.
    Store(String),
    /// A department, by its path from the top (`运营部/客服中心`).
    Department(Vec<String>),
}

/// A position as a file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionRecord {
    pub code: String,
    pub name: String,
    pub duties: String,
}

/// An employee as a file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeRecord {
    pub code: String,
    pub name: String,
    pub unit: Unit,
    /// A position's code.
    pub position: String,
    pub level: String,
    /// Fen a month; `None` takes the level's pay base from the settings.
    pub pay_base: Option<i64>,
    pub excluded: bool,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// Reads a yes/no cell: empty is no.
pub fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" | "否" | "参与" => Some(false),
        "yes" | "y" | "true" | "1" | "是" | "不参与" | "排除" => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_in_both_languages() {
        assert_eq!(parse_flag("是"), Some(true));
        assert_eq!(parse_flag(""), Some(false));
        assert_eq!(parse_flag("No"), Some(false));
        assert_eq!(parse_flag("maybe"), None);
    }
}
