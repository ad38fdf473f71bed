//! R1, the daily report (精准日报表): per store for one date, with month-to-date,
//! same weekday last week and same date last year (`bench/REPORTS.md` §3), and
//! totals by region and for the company computed from the exact sums.

use chrono::NaiveDate;

use crate::rdiv;
use crate::reports::period::PERIOD_COLUMNS;
use crate::reports::table::{Cell, Column, Kind, ReportTable, col};

/// A store-day's figures as the daily report reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayFigures {
    pub revenue: i64,
    pub cost: i64,
    pub tickets: i64,
    /// `None` when the day came from a summary without quantities.
    pub qty: Option<i64>,
    /// `None` when the day came from a summary without member figures.
    pub member_revenue: Option<i64>,
}

/// What the report needs of one store.
#[derive(Debug, Clone)]
pub struct StoreDayInput {
    pub store_code: String,
    pub region: String,
    /// The day itself; `None` when the store sold nothing (closed, renovation).
    pub day: Option<DayFigures>,
    pub mtd_revenue: i64,
    pub lw_revenue: Option<i64>,
    pub ly_revenue: Option<i64>,
}

/// Sums a daily row or total is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DailySums {
    pub revenue: i64,
    pub cost: i64,
    pub tickets: i64,
    pub qty: Option<i64>,
    pub member_revenue: Option<i64>,
    pub mtd_revenue: i64,
    pub lw_revenue: i64,
    pub ly_revenue: i64,
}

impl DailySums {
    fn add(&mut self, o: &DailySums) {
        self.revenue += o.revenue;
        self.cost += o.cost;
        self.tickets += o.tickets;
        self.qty = self.qty.zip(o.qty).map(|(a, b)| a + b);
        self.member_revenue = self.member_revenue.zip(o.member_revenue).map(|(a, b)| a + b);
        self.mtd_revenue += o.mtd_revenue;
        self.lw_revenue += o.lw_revenue;
        self.ly_revenue += o.ly_revenue;
    }

    fn empty() -> DailySums {
        DailySums { qty: Some(0), member_revenue: Some(0), ..DailySums::default() }
    }
}

/// A row of the daily report; money in fen, percentages and per-ticket
/// figures in hundredths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyRow {
    /// The store code, or the region name / `None` for a total.
    pub label: String,
    pub date: NaiveDate,
    pub revenue: i64,
    pub gross_profit: i64,
    pub margin_pct: Option<i64>,
    pub tickets: i64,
    pub aov: Option<i64>,
    pub items_per_ticket: Option<i64>,
    pub member_revenue_share_pct: Option<i64>,
    pub mtd_revenue: i64,
    pub lw_revenue: i64,
    pub lw_pct: Option<i64>,
    pub ly_revenue: i64,
    pub ly_pct: Option<i64>,
}

/// Percentage change of `cur` against `base` in hundredths of a percent;
/// `None` when the base is zero or negative (no data).
pub fn pct_change(cur: i64, base: i64) -> Option<i64> {
    rdiv(10000 * (i128::from(cur) - i128::from(base)), base.into())
}

/// `num / den` as a percentage in hundredths.
pub fn pct(num: i64, den: i64) -> Option<i64> {
    rdiv(10000 * i128::from(num), den.into())
}

fn row(label: String, date: NaiveDate, s: &DailySums) -> DailyRow {
    let gp = s.revenue - s.cost;
    DailyRow {
        label,
        date,
        revenue: s.revenue,
        gross_profit: gp,
        margin_pct: pct(gp, s.revenue),
        tickets: s.tickets,
        aov: rdiv(s.revenue.into(), s.tickets.into()),
        items_per_ticket: s.qty.and_then(|q| rdiv(100 * i128::from(q), s.tickets.into())),
        member_revenue_share_pct: s.member_revenue.and_then(|m| pct(m, s.revenue)),
        mtd_revenue: s.mtd_revenue,
        lw_revenue: s.lw_revenue,
        lw_pct: pct_change(s.revenue, s.lw_revenue),
        ly_revenue: s.ly_revenue,
        ly_pct: pct_change(s.revenue, s.ly_revenue),
    }
}

fn sums(i: &StoreDayInput) -> DailySums {
    let d = i.day.unwrap_or(DayFigures { qty: Some(0), member_revenue: Some(0), ..DayFigures::default() });
    DailySums {
        revenue: d.revenue,
        cost: d.cost,
        tickets: d.tickets,
        qty: d.qty,
        member_revenue: d.member_revenue,
        mtd_revenue: i.mtd_revenue,
        lw_revenue: i.lw_revenue.unwrap_or(0),
        ly_revenue: i.ly_revenue.unwrap_or(0),
    }
}

/// The daily report: store rows (in the order given), region totals (in
/// order of first appearance) and the company total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyReport {
    pub stores: Vec<DailyRow>,
    pub regions: Vec<DailyRow>,
    pub company: DailyRow,
}

pub fn daily_report(date: NaiveDate, inputs: &[StoreDayInput]) -> DailyReport {
    let mut regions: Vec<(String, DailySums)> = Vec::new();
    let mut company = DailySums::empty();
    let mut stores = Vec::with_capacity(inputs.len());
    for i in inputs {
        let s = sums(i);
        stores.push(row(i.store_code.clone(), date, &s));
        company.add(&s);
        match regions.iter_mut().find(|(r, _)| *r == i.region) {
            Some((_, r)) => r.add(&s),
            None => {
                let mut r = DailySums::empty();
                r.add(&s);
                regions.push((i.region.clone(), r));
            }
        }
    }
    DailyReport {
        stores,
        regions: regions.into_iter().map(|(name, s)| row(name, date, &s)).collect(),
        company: row(String::new(), date, &company),
    }
}

/// The columns of R1 (`bench/REPORTS.md` §8).
fn columns() -> Vec<Column> {
    let mut v = vec![col("store_code", "门店", "store", Kind::Text), col("date", "日期", "date", Kind::Date)];
    v.extend(PERIOD_COLUMNS);
    v.extend([
        col("mtd_revenue", "月累计销售额", "MTD revenue", Kind::Money),
        col("lw_revenue", "上周同日销售额", "same day last week", Kind::Money),
        col("lw_pct", "周同比%", "vs last week %", Kind::Growth),
        col("ly_revenue", "去年同日销售额", "same date last year", Kind::Money),
        col("ly_pct", "年同比%", "vs last year %", Kind::Growth),
    ]);
    v
}

fn daily_cells(label: Cell, r: &DailyRow) -> Vec<Cell> {
    vec![
        label,
        Cell::Date(r.date),
        Cell::Fixed2(r.revenue),
        Cell::Fixed2(r.gross_profit),
        Cell::opt2(r.margin_pct),
        Cell::Int(r.tickets),
        Cell::opt2(r.aov),
        Cell::opt2(r.items_per_ticket),
        Cell::opt2(r.member_revenue_share_pct),
        Cell::Fixed2(r.mtd_revenue),
        Cell::Fixed2(r.lw_revenue),
        Cell::opt2(r.lw_pct),
        Cell::Fixed2(r.ly_revenue),
        Cell::opt2(r.ly_pct),
    ]
}

/// R1 as a table; region and company totals follow the store rows.
pub fn daily_table(rep: &DailyReport) -> ReportTable {
    let date = rep.company.date;
    let mut totals: Vec<Vec<Cell>> =
        rep.regions.iter().map(|r| daily_cells(Cell::Text(format!("Σ {}", r.label)), r)).collect();
    totals.push(daily_cells(Cell::Text("Σ".into()), &rep.company));
    ReportTable {
        name: "r1_daily",
        title_zh: format!("日报 {date}"),
        title_en: format!("Daily report {date}"),
        columns: columns(),
        rows: rep.stores.iter().map(|r| daily_cells(Cell::Text(r.label.clone()), r)).collect(),
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(code: &str, region: &str, revenue: i64, cost: i64, tickets: i64, qty: i64, mem: i64) -> StoreDayInput {
        StoreDayInput {
            store_code: code.into(),
            region: region.into(),
            day: Some(DayFigures { revenue, cost, tickets, qty: Some(qty), member_revenue: Some(mem) }),
            mtd_revenue: revenue * 3,
            lw_revenue: Some(revenue / 2),
            ly_revenue: None,
        }
    }

    #[test]
    fn a_total_is_computed_from_sums_not_from_rounded_rows() {
        let date = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let r = daily_report(date, &[input("S1", "华东", 1000, 667, 3, 4, 500), input("S2", "华东", 1001, 0, 3, 5, 0)]);
        assert_eq!(r.stores[0].aov, Some(333));
        assert_eq!(r.stores[1].aov, Some(334));
        // (1000 + 1001) / 6 = 333.5 → 334, not 333 + 334.
        assert_eq!(r.regions[0].aov, Some(334));
        assert_eq!(r.company.revenue, 2001);
        assert_eq!(r.company.margin_pct, Some(6667));
        assert_eq!(r.company.items_per_ticket, Some(150));
        assert_eq!(r.company.member_revenue_share_pct, Some(2499));
        assert_eq!(r.company.lw_pct, Some(10010));
        assert_eq!(r.company.ly_pct, None);
    }

    #[test]
    fn a_store_without_sales_shows_zero_revenue_and_no_ratios() {
        let date = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let closed = StoreDayInput {
            store_code: "S3".into(),
            region: "华南".into(),
            day: None,
            mtd_revenue: 0,
            lw_revenue: None,
            ly_revenue: Some(100),
        };
        let r = daily_report(date, &[closed]);
        let s = &r.stores[0];
        assert_eq!((s.revenue, s.tickets, s.margin_pct, s.aov, s.items_per_ticket), (0, 0, None, None, None));
        assert_eq!(s.ly_pct, Some(-10000));
    }
}
