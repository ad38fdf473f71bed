//! The tables of appraisal: a cycle's progress, grade distribution, payout sheet, the review list and an employee's history.

use opsdesk_db::appraisal::{CycleUnit, PayoutLine};
use opsdesk_db::staff::Employee;
use opsdesk_domain::appraisal::Grade;
use opsdesk_domain::calendar::month_label;
use opsdesk_domain::reports::table::{Cell, Kind, ReportTable, col};

/// A month's appraisal payout sheet for finance: employee, unit, score,
/// grade, base, coefficient and pay (= base × coefficient, rounded once).
pub fn payout_table(month: i64, lines: &[PayoutLine]) -> ReportTable {
    let label = month_label(month);
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

/// Where each unit of a cycle stands, with each step's signature.
pub fn status_table(month: i64, deadline: Option<chrono::NaiveDate>, units: &[CycleUnit]) -> ReportTable {
    let columns = vec![
        col("unit", "单位", "Unit", Kind::Text),
        col("state", "状态", "State", Kind::Text),
        col("signed", "负责人签字", "Signed", Kind::Text),
        col("reviewed", "运营审核", "Reviewed", Kind::Text),
        col("approved", "总经理批准", "Approved", Kind::Text),
        col("paid", "财务发放", "Paid", Kind::Text),
        col("note", "退回意见", "Sent back with", Kind::Text),
        col("reason", "A+ 理由", "A+ reason", Kind::Text),
    ];
    let sig = |u: &CycleUnit, step: &str| {
        u.signatures
            .iter()
            .find(|s| s.0 == step)
            .map_or(Cell::Null, |(_, by, at)| Cell::Text(format!("{by} {}", at.format("%Y-%m-%d %H:%M"))))
    };
    let rows = units
        .iter()
        .map(|u| {
            vec![
                Cell::Text(u.unit.clone()),
                Cell::Text(u.state.key().into()),
                sig(u, "signed"),
                sig(u, "reviewed"),
                sig(u, "approved"),
                sig(u, "paid"),
                Cell::Text(u.note.clone()),
                Cell::Text(u.reason.clone()),
            ]
        })
        .collect();
    let due = deadline.map(|d| d.to_string()).unwrap_or_default();
    ReportTable {
        name: "appraisal_status",
        title_zh: format!("绩效考核进度 {}（截止 {due}）", month_label(month)),
        title_en: format!("Appraisal progress {} (due {due})", month_label(month)),
        columns,
        rows,
        totals: Vec::new(),
    }
}

/// Each unit's grade distribution against the rules: counts per grade, the
/// pool and what the grades pay, and whether an A+ stands beside no C.
pub fn grades_table(month: i64, results: &[PayoutLine]) -> ReportTable {
    let mut columns = vec![col("unit", "单位", "Unit", Kind::Text), col("staff", "人数", "Staff", Kind::Int)];
    for g in Grade::ALL {
        columns.push(col(g.label(), g.label(), g.label(), Kind::Int));
    }
    columns.extend([
        col("pay_bases", "基数合计", "Pay bases", Kind::Money),
        col("pay", "绩效工资合计", "Pay", Kind::Money),
        col("a_plus_without_c", "有 A+ 无 C", "A+ beside no C", Kind::Text),
    ]);
    let mut units: Vec<&str> = results.iter().map(|r| r.unit.as_str()).collect();
    units.dedup();
    let rows = units
        .iter()
        .map(|unit| {
            let mine: Vec<&PayoutLine> = results.iter().filter(|r| r.unit == *unit && !r.excluded).collect();
            let count = |g: Grade| mine.iter().filter(|r| r.grade.as_deref() == Some(g.label())).count() as i64;
            let mut row = vec![Cell::Text(unit.to_string()), Cell::Int(mine.len() as i64)];
            row.extend(Grade::ALL.iter().map(|g| Cell::Int(count(*g))));
            let flagged = count(Grade::APlus) > 0 && count(Grade::C) + count(Grade::D) == 0;
            row.extend([
                Cell::Fixed2(mine.iter().map(|r| r.base).sum()),
                Cell::Fixed2(mine.iter().map(|r| r.pay).sum()),
                Cell::Text(if flagged { "✓".into() } else { String::new() }),
            ]);
            row
        })
        .collect();
    ReportTable {
        name: "appraisal_grades",
        title_zh: format!("等级分布 {}", month_label(month)),
        title_en: format!("Grade distribution {}", month_label(month)),
        columns,
        rows,
        totals: Vec::new(),
    }
}

/// The review list: employees whose last three grades are C or below.
pub fn review_list_table(list: &[(Employee, Vec<i64>)]) -> ReportTable {
    ReportTable {
        name: "appraisal_review_list",
        title_zh: "待面谈名单（连续三次 C 及以下）".into(),
        title_en: "Review list (three grades of C or below in a row)".into(),
        columns: vec![
            col("employee_code", "工号", "Employee", Kind::Text),
            col("employee_name", "姓名", "Name", Kind::Text),
            col("unit", "单位", "Unit", Kind::Text),
            col("months", "月份", "Months", Kind::Text),
        ],
        rows: list
            .iter()
            .map(|(e, months)| {
                let months: Vec<String> = months.iter().map(|m| month_label(*m)).collect();
                vec![
                    Cell::Text(e.code.clone()),
                    Cell::Text(e.name.clone()),
                    Cell::Text(e.unit.clone()),
                    Cell::Text(months.join(", ")),
                ]
            })
            .collect(),
        totals: Vec::new(),
    }
}

/// An employee's history: score, grade and pay by month.
pub fn history_table(e: &Employee, lines: &[(i64, PayoutLine)]) -> ReportTable {
    ReportTable {
        name: "appraisal_history",
        title_zh: format!("{} {} 的考核记录", e.code, e.name),
        title_en: format!("Appraisal history of {} {}", e.code, e.name),
        columns: vec![
            col("month", "月份", "Month", Kind::Text),
            col("unit", "单位", "Unit", Kind::Text),
            col("score", "得分", "Score", Kind::Fixed2),
            col("grade", "等级", "Grade", Kind::Text),
            col("pay_base", "绩效基数", "Pay base", Kind::Money),
            col("coefficient_pct", "系数%", "Coefficient %", Kind::Pct),
            col("pay", "绩效工资", "Performance pay", Kind::Money),
        ],
        rows: lines
            .iter()
            .map(|(m, l)| {
                vec![
                    Cell::Text(month_label(*m)),
                    Cell::Text(l.unit.clone()),
                    Cell::opt2(l.score),
                    Cell::Text(l.grade.clone().unwrap_or_else(|| "—".into())),
                    Cell::Fixed2(l.base),
                    Cell::Fixed2(l.coefficient * 10),
                    Cell::Fixed2(l.pay),
                ]
            })
            .collect(),
        totals: Vec::new(),
    }
}
