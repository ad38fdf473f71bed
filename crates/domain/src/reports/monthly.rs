//! R2, the monthly report per store (`bench/REPORTS.md` §4): revenue, margin,
//! tickets, AOV, month-on-month and year-on-year growth, revenue per staff
//! (人效) and per m² (坪效).

use crate::rdiv;
use crate::reports::daily::{pct, pct_change};
use crate::reports::table::{Cell, Kind, ReportTable, col};

/// One store-month's sums, as the rollups hold them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreMonth {
    pub store_code: String,
    /// `yyyymm`, e.g. `202610`.
    pub month: i64,
    pub revenue: i64,
    pub cost: i64,
    pub tickets: i64,
    pub staff_count: i64,
    pub area_sqm: i64,
}

/// A row of R2; money in fen, ratios in hundredths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyRow {
    pub store_code: String,
    pub month: i64,
    pub revenue: i64,
    pub gross_profit: i64,
    pub margin_pct: Option<i64>,
    pub tickets: i64,
    pub aov: Option<i64>,
    pub mom_pct: Option<i64>,
    pub yoy_pct: Option<i64>,
    pub revenue_per_staff: Option<i64>,
    pub revenue_per_sqm: Option<i64>,
}

/// The month before `yyyymm`.
pub fn prev_month(m: i64) -> i64 {
    if m % 100 == 1 { m - 100 + 11 } else { m - 1 }
}

pub use crate::calendar::month_label;

/// R2 rows for store-months sorted by (store code, month).
pub fn monthly_report(months: &[StoreMonth]) -> Vec<MonthlyRow> {
    let find = |code: &str, m: i64| -> i64 {
        months
            .binary_search_by(|x| (x.store_code.as_bytes(), x.month).cmp(&(code.as_bytes(), m)))
            .map(|i| months[i].revenue)
            .unwrap_or(0)
    };
    months
        .iter()
        .map(|c| {
            let gp = c.revenue - c.cost;
            MonthlyRow {
                store_code: c.store_code.clone(),
                month: c.month,
                revenue: c.revenue,
                gross_profit: gp,
                margin_pct: pct(gp, c.revenue),
                tickets: c.tickets,
                aov: rdiv(c.revenue.into(), c.tickets.into()),
                mom_pct: pct_change(c.revenue, find(&c.store_code, prev_month(c.month))),
                yoy_pct: pct_change(c.revenue, find(&c.store_code, c.month - 100)),
                revenue_per_staff: rdiv(c.revenue.into(), c.staff_count.into()),
                revenue_per_sqm: rdiv(c.revenue.into(), c.area_sqm.into()),
            }
        })
        .collect()
}

/// R2 as a table.
pub fn monthly_table(rows: &[MonthlyRow]) -> ReportTable {
    let first = rows.iter().map(|r| r.month).min().map(month_label).unwrap_or_default();
    let last = rows.iter().map(|r| r.month).max().map(month_label).unwrap_or_default();
    ReportTable {
        name: "r2_monthly",
        title_zh: format!("月报 {first} … {last}"),
        title_en: format!("Monthly report {first} … {last}"),
        columns: vec![
            col("store_code", "门店", "store", Kind::Text),
            col("month", "月份", "month", Kind::Text),
            col("revenue", "销售额", "revenue", Kind::Money),
            col("gross_profit", "毛利", "gross profit", Kind::Money),
            col("margin_pct", "毛利率%", "margin %", Kind::Pct),
            col("tickets", "客流", "tickets", Kind::Int),
            col("aov", "客单价", "AOV", Kind::Fixed2),
            col("mom_pct", "环比%", "MoM %", Kind::Growth),
            col("yoy_pct", "同比%", "YoY %", Kind::Growth),
            col("revenue_per_staff", "人效", "revenue / staff", Kind::Money),
            col("revenue_per_sqm", "坪效", "revenue / m²", Kind::Money),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.store_code.clone()),
                    Cell::Text(month_label(r.month)),
                    Cell::Fixed2(r.revenue),
                    Cell::Fixed2(r.gross_profit),
                    Cell::opt2(r.margin_pct),
                    Cell::Int(r.tickets),
                    Cell::opt2(r.aov),
                    Cell::opt2(r.mom_pct),
                    Cell::opt2(r.yoy_pct),
                    Cell::opt2(r.revenue_per_staff),
                    Cell::opt2(r.revenue_per_sqm),
                ]
            })
            .collect(),
        totals: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sm(code: &str, month: i64, revenue: i64) -> StoreMonth {
        StoreMonth {
            store_code: code.into(),
            month,
            revenue,
            cost: revenue / 2,
            tickets: 10,
            staff_count: 4,
            area_sqm: 100,
        }
    }

    #[test]
    fn growth_compares_with_the_previous_month_and_the_same_month_last_year() {
        let rows = monthly_report(&[
            sm("S1", 202501, 1000),
            sm("S1", 202512, 800),
            sm("S1", 202601, 1200),
            sm("S2", 202601, 5),
        ]);
        let jan = &rows[2];
        assert_eq!(jan.mom_pct, Some(5000));
        assert_eq!(jan.yoy_pct, Some(2000));
        assert_eq!(rows[0].mom_pct, None);
        assert_eq!(rows[3].revenue_per_staff, Some(1));
        assert_eq!(prev_month(202601), 202512);
        assert_eq!(month_label(202601), "2026-01");
    }
}
