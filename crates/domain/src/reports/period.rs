//! Sums of store-days over a period, and the figures every period report
//! shows from them (weekly report, efficiency, regions). Ratios come from the
//! exact sums, so a region's or the company's figure is never an average of
//! rounded store figures.

use crate::rdiv;
use crate::reports::daily::{pct, pct_change};
use crate::reports::table::{Cell, Column, Kind, col};

/// The columns every period report shows from its period sums, in order.
pub const PERIOD_COLUMNS: [Column; 7] = [
    col("revenue", "销售额", "revenue", Kind::Money),
    col("gross_profit", "毛利", "gross profit", Kind::Money),
    col("margin_pct", "毛利率%", "margin %", Kind::Pct),
    col("tickets", "客流", "tickets", Kind::Int),
    col("aov", "客单价", "AOV", Kind::Fixed2),
    col("items_per_ticket", "客单量", "items / ticket", Kind::Fixed2),
    col("member_revenue_share_pct", "会员销售占比%", "member share %", Kind::Pct),
];

/// A store's (or a group's) sums over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeriodSums {
    pub revenue: i64,
    pub cost: i64,
    pub tickets: i64,
    /// `None` when some day of the period came from a summary without quantities.
    pub qty: Option<i64>,
    /// `None` when some day came from a summary without member figures.
    pub member_revenue: Option<i64>,
    /// Days with sales.
    pub days: i64,
}

impl PeriodSums {
    /// Nothing yet: quantities and member revenue known to be zero.
    pub fn zero() -> PeriodSums {
        PeriodSums { qty: Some(0), member_revenue: Some(0), ..PeriodSums::default() }
    }

    pub fn add(&mut self, o: &PeriodSums) {
        self.revenue += o.revenue;
        self.cost += o.cost;
        self.tickets += o.tickets;
        self.qty = self.qty.zip(o.qty).map(|(a, b)| a + b);
        self.member_revenue = self.member_revenue.zip(o.member_revenue).map(|(a, b)| a + b);
        self.days += o.days;
    }

    pub fn gross_profit(&self) -> i64 {
        self.revenue - self.cost
    }

    pub fn margin_pct(&self) -> Option<i64> {
        pct(self.gross_profit(), self.revenue)
    }

    /// 客单价 in fen.
    pub fn aov(&self) -> Option<i64> {
        rdiv(self.revenue.into(), self.tickets.into())
    }

    /// 客单量 in hundredths.
    pub fn items_per_ticket(&self) -> Option<i64> {
        self.qty.and_then(|q| rdiv(100 * i128::from(q), self.tickets.into()))
    }

    pub fn member_share_pct(&self) -> Option<i64> {
        self.member_revenue.and_then(|m| pct(m, self.revenue))
    }

    /// The cells of [`PERIOD_COLUMNS`].
    pub fn cells(&self) -> [Cell; 7] {
        [
            Cell::Fixed2(self.revenue),
            Cell::Fixed2(self.gross_profit()),
            Cell::opt2(self.margin_pct()),
            Cell::Int(self.tickets),
            Cell::opt2(self.aov()),
            Cell::opt2(self.items_per_ticket()),
            Cell::opt2(self.member_share_pct()),
        ]
    }

    /// Revenue change against a base period, in hundredths of a percent.
    pub fn growth_pct(&self, base: &PeriodSums) -> Option<i64> {
        pct_change(self.revenue, base.revenue)
    }
}

/// Sums `items` by a group name, keeping the order of first appearance.
pub fn group_sums<'a>(
    items: impl IntoIterator<Item = (&'a str, [&'a PeriodSums; 3])>,
) -> Vec<(String, [PeriodSums; 3])> {
    let mut out: Vec<(String, [PeriodSums; 3])> = Vec::new();
    for (name, sums) in items {
        let i = match out.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                out.push((name.to_string(), [PeriodSums::zero(); 3]));
                out.len() - 1
            }
        };
        for (acc, s) in out[i].1.iter_mut().zip(sums) {
            acc.add(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_day_without_quantities_leaves_items_per_ticket_unknown() {
        let mut a =
            PeriodSums { revenue: 1000, cost: 600, tickets: 4, qty: Some(9), member_revenue: Some(500), days: 1 };
        assert_eq!(
            (a.aov(), a.items_per_ticket(), a.member_share_pct(), a.margin_pct()),
            (Some(250), Some(225), Some(5000), Some(4000))
        );
        a.add(&PeriodSums { revenue: 1000, cost: 500, tickets: 6, qty: None, member_revenue: Some(0), days: 1 });
        assert_eq!((a.aov(), a.items_per_ticket(), a.member_share_pct()), (Some(200), None, Some(2500)));
        assert_eq!(a.growth_pct(&PeriodSums { revenue: 1600, ..PeriodSums::zero() }), Some(2500));
    }
}
