//! R4, the category report per month (`bench/REPORTS.md` §6): mix, share,
//! margin, rank and ABC class.

use crate::reports::daily::pct;
use crate::reports::monthly::month_label;
use crate::reports::table::{Cell, Kind, ReportTable, col};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryMonth {
    pub month: i64,
    pub category: String,
    pub revenue: i64,
    pub cost: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRow {
    pub month: i64,
    pub category: String,
    pub revenue: i64,
    pub gross_profit: i64,
    pub margin_pct: Option<i64>,
    pub share_pct: Option<i64>,
    pub rank: i64,
    pub cum_share_pct: Option<i64>,
    /// `A`, `B` or `C`; `None` when the month's revenue is not positive.
    pub abc_class: Option<char>,
}

/// R4 rows, ordered by month and rank, from category-months in any order.
pub fn category_report(cats: &[CategoryMonth]) -> Vec<CategoryRow> {
    let mut sorted: Vec<&CategoryMonth> = cats.iter().collect();
    sorted.sort_by(|a, b| {
        (a.month, -a.revenue, a.category.as_bytes()).cmp(&(b.month, -b.revenue, b.category.as_bytes()))
    });
    let mut out = Vec::with_capacity(sorted.len());
    for month in sorted.chunk_by(|a, b| a.month == b.month) {
        let total: i64 = month.iter().map(|c| c.revenue).sum();
        let mut cum = 0i64;
        for (i, c) in month.iter().enumerate() {
            let before = cum;
            cum += c.revenue;
            let abc = (total > 0).then(|| {
                let (p, t) = (i128::from(before), i128::from(total));
                if 100 * p < 70 * t {
                    'A'
                } else if 100 * p < 90 * t {
                    'B'
                } else {
                    'C'
                }
            });
            out.push(CategoryRow {
                month: c.month,
                category: c.category.clone(),
                revenue: c.revenue,
                gross_profit: c.revenue - c.cost,
                margin_pct: pct(c.revenue - c.cost, c.revenue),
                share_pct: pct(c.revenue, total),
                rank: i as i64 + 1,
                cum_share_pct: pct(cum, total),
                abc_class: abc,
            });
        }
    }
    out
}

/// R4 as a table.
pub fn category_table(rows: &[CategoryRow]) -> ReportTable {
    ReportTable {
        name: "r4_category",
        title_zh: "品类分析".into(),
        title_en: "Category report".into(),
        columns: vec![
            col("month", "月份", "month", Kind::Text),
            col("category", "品类", "category", Kind::Text),
            col("revenue", "销售额", "revenue", Kind::Money),
            col("gross_profit", "毛利", "gross profit", Kind::Money),
            col("margin_pct", "毛利率%", "margin %", Kind::Pct),
            col("share_pct", "占比%", "share %", Kind::Pct),
            col("rank", "排名", "rank", Kind::Int),
            col("cum_share_pct", "累计占比%", "cumulative %", Kind::Pct),
            col("abc_class", "ABC", "ABC", Kind::Text),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(month_label(r.month)),
                    Cell::Text(r.category.clone()),
                    Cell::Fixed2(r.revenue),
                    Cell::Fixed2(r.gross_profit),
                    Cell::opt2(r.margin_pct),
                    Cell::opt2(r.share_pct),
                    Cell::Int(r.rank),
                    Cell::opt2(r.cum_share_pct),
                    r.abc_class.map_or(Cell::Null, |c| Cell::Text(c.to_string())),
                ]
            })
            .collect(),
        totals: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(cat: &str, revenue: i64) -> CategoryMonth {
        CategoryMonth { month: 202610, category: cat.into(), revenue, cost: 0 }
    }

    #[test]
    fn the_category_that_crosses_seventy_percent_is_still_a() {
        let rows = category_report(&[cm("c", 10), cm("a", 60), cm("b", 20), cm("d", 10)]);
        let got: Vec<(&str, i64, Option<char>)> =
            rows.iter().map(|r| (r.category.as_str(), r.rank, r.abc_class)).collect();
        // c and d tie on revenue: byte order decides.
        assert_eq!(got, vec![("a", 1, Some('A')), ("b", 2, Some('A')), ("c", 3, Some('B')), ("d", 4, Some('C'))]);
        assert_eq!(rows[1].cum_share_pct, Some(8000));
    }
}
