//! Appraisal in the desk: the tables of a cycle, shared with the command line.

use opsdesk_db::appraisal::PayoutLine;
use opsdesk_domain::reports::table::{Cell, Kind, ReportTable, col};

/// A month's appraisal payout sheet for finance: employee, unit, score,
/// grade, base, coefficient and pay (= base × coefficient, rounded once).
pub fn payout_table(month: i64, lines: &[PayoutLine]) -> ReportTable {
    let label = format!("{}-{:02}", month / 100, month % 100);
    let columns = vec![
        col("employee_code", "工号", "Employee", Kind::Text),
        col("employee_name", "姓名", "Name", Kind::Text),
        col("unit", "单位", "Unit", Kind::Text),
        col("score", "得分", "Score", Kind::Fixed2),
        col("grade", "等级", "Grade", Kind::Text),
        col("pay_base", "绩效基数", "Pay base", Kind::Money),
        col("coefficient_pct", "系数%", "Coefficient %", Kind::Pct),
        col("pay", "绩效工资", "Performance pay", Kind::Money),
    ];
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                Cell::Text(l.employee.clone()),
                Cell::Text(l.name.clone()),
                Cell::Text(l.unit.clone()),
                Cell::opt2(l.score),
                Cell::Text(if l.excluded { "—".into() } else { l.grade.clone().unwrap_or_default() }),
                Cell::Fixed2(l.base),
                Cell::Fixed2(l.coefficient * 10),
                Cell::Fixed2(l.pay),
            ]
        })
        .collect();
    let total: i64 = lines.iter().map(|l| l.pay).sum();
    let bases: i64 = lines.iter().filter(|l| !l.excluded).map(|l| l.base).sum();
    let totals = if lines.is_empty() {
        Vec::new()
    } else {
        vec![vec![
            Cell::Text("Σ".into()),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Fixed2(bases),
            Cell::Null,
            Cell::Fixed2(total),
        ]]
    };
    ReportTable {
        name: "appraisal_payout",
        title_zh: format!("绩效工资表 {label}"),
        title_en: format!("Performance pay {label}"),
        columns,
        rows,
        totals,
    }
}
