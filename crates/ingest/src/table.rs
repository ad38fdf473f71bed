//! Small text helpers shared by the importers.

/// A cell value made safe for a spreadsheet: text starting with `=`, `+`,
/// `-` or `@` gets a leading apostrophe so that it is never run as a formula.
/// Numbers (`-5.00`) are left as they are.
pub fn neutralise(value: &str) -> String {
    let risky = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && value.parse::<f64>().is_err() { format!("'{value}") } else { value.to_string() }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("-5.00"), "-5.00");
        assert_eq!(neutralise("--5"), "'--5");
        assert_eq!(neutralise("12.3元"), "12.3元");
    }
}
