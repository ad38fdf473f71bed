//! Targets beside the figures: the daily, weekly and monthly reports gain
//! the target of each row, its attainment, and (on the daily report) the
//! month to date against the time progress. The report's own columns and
//! rows are untouched; the target columns follow them.

use std::collections::HashMap;

use crate::reports::table::{Cell, Column, Kind, ReportTable, col};
use crate::targets::attainment;

/// A row's targets (baseline, fen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RowTarget {
    /// The target of the row's own period (day, week or month).
    pub target: i64,
    /// For a day: the month's target up to and including the day, and the whole month's.
    pub month: Option<(i64, i64)>,
}

impl RowTarget {
    pub fn add(&mut self, o: &RowTarget) {
        self.target += o.target;
        self.month = match (self.month, o.month) {
            (Some(a), Some(b)) => Some((a.0 + b.0, a.1 + b.1)),
            (a, b) => a.or(b),
        };
    }
}

const TARGET: Column = col("target", "目标", "target", Kind::Money);
const ATTAINMENT: Column = col("attainment_pct", "达成率%", "attainment %", Kind::Attainment);
const MTD_TARGET: Column = col("mtd_target", "月累计目标", "MTD target", Kind::Money);
const MTD_ATTAINMENT: Column = col("mtd_attainment_pct", "月达成率%", "month attainment %", Kind::Attainment);
const TIME_PROGRESS: Column = col("time_progress_pct", "时间进度%", "time progress %", Kind::Pct);

/// Appends the target columns to `t`. A row is found in `targets` by its
/// first cell's text (a store code, `Σ region` or `Σ`) and, when `period` names a column,
/// that column's text too; the actual is read from the `revenue` column
/// (and `mtd_revenue` for the month to date). Rows without a target get blanks.
pub fn add_target_columns(t: &mut ReportTable, targets: &HashMap<(String, String), RowTarget>, period: Option<&str>) {
    let find = |key: &str| t.columns.iter().position(|c| c.key == key);
    let (Some(revenue), mtd) = (find("revenue"), find("mtd_revenue")) else { return };
    let period_col = period.and_then(find);
    let with_month = mtd.is_some() && targets.values().any(|r| r.month.is_some());
    t.columns.extend([TARGET, ATTAINMENT]);
    if with_month {
        t.columns.extend([MTD_TARGET, MTD_ATTAINMENT, TIME_PROGRESS]);
    }
    let fen = |row: &[Cell], i: usize| match row.get(i) {
        Some(Cell::Fixed2(v)) | Some(Cell::Int(v)) => Some(*v),
        _ => None,
    };
    for row in t.rows.cells_mut().iter_mut().chain(t.totals.iter_mut()) {
        let key = (
            row.first().map(Cell::text).unwrap_or_default(),
            period_col.and_then(|i| row.get(i)).map(Cell::text).unwrap_or_default(),
        );
        let target = targets.get(&key);
        let actual = fen(row, revenue);
        let mtd_actual = mtd.and_then(|i| fen(row, i));
        let mut cells = vec![
            target.map_or(Cell::Null, |r| Cell::Fixed2(r.target)),
            Cell::opt2(target.zip(actual).and_then(|(r, a)| attainment(a, r.target))),
        ];
        if with_month {
            let month = target.and_then(|r| r.month);
            cells.extend([
                month.map_or(Cell::Null, |m| Cell::Fixed2(m.0)),
                Cell::opt2(month.zip(mtd_actual).and_then(|(m, a)| attainment(a, m.1))),
                Cell::opt2(month.and_then(|m| attainment(m.0, m.1))),
            ]);
        }
        row.extend(cells);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_columns_follow_the_report_and_attainment_uses_the_rows_own_sums() {
        let mut t = ReportTable {
            name: "r1_daily",
            title_zh: String::new(),
            title_en: String::new(),
            columns: vec![
                col("store_code", "门店", "store", Kind::Text),
                col("revenue", "销售额", "revenue", Kind::Money),
                col("mtd_revenue", "月累计销售额", "MTD revenue", Kind::Money),
            ],
            rows: vec![
                vec![Cell::Text("S1".into()), Cell::Fixed2(1_050), Cell::Fixed2(9_000)],
                vec![Cell::Text("S2".into()), Cell::Fixed2(700), Cell::Fixed2(5_000)],
            ]
            .into(),
            totals: vec![vec![Cell::Text("Σ".into()), Cell::Fixed2(1_750), Cell::Fixed2(14_000)]],
        };
        let mut targets = HashMap::new();
        let s1 = RowTarget { target: 1_000, month: Some((10_000, 30_000)) };
        targets.insert(("S1".to_string(), String::new()), s1);
        targets.insert(("Σ".to_string(), String::new()), s1);
        add_target_columns(&mut t, &targets, None);
        assert_eq!(t.columns.len(), 8);
        assert_eq!(
            &t.rows.to_vec()[0][3..],
            &[
                Cell::Fixed2(1_000),
                Cell::Fixed2(10_500),
                Cell::Fixed2(10_000),
                Cell::Fixed2(3_000),
                Cell::Fixed2(3_333)
            ]
        );
        assert_eq!(&t.rows.to_vec()[1][3..], &[Cell::Null, Cell::Null, Cell::Null, Cell::Null, Cell::Null]);
        assert_eq!(t.totals[0][4], Cell::Fixed2(17_500));
    }
}
