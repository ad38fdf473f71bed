//! Region comparison (区域对比) for a month: each top-level region's sales,
//! share, margin, traffic, revenue per store and per m², growth, and its rank
//! (`docs/reports.md`).

use crate::rdiv;
use crate::reports::daily::{pct, pct_change};
use crate::reports::period::PeriodSums;
use crate::reports::table::{Cell, Kind, ReportTable, col};

/// One store's month, the month before and the same month a year earlier.
#[derive(Debug, Clone)]
pub struct RegionStore {
    pub region: String,
    pub area_sqm: i64,
    pub month: PeriodSums,
    pub previous: PeriodSums,
    pub last_year: PeriodSums,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Acc {
    cur: PeriodSums,
    prev: PeriodSums,
    ly: PeriodSums,
    /// Stores that sold in the month, and their area.
    stores: i64,
    area: i64,
}

impl Acc {
    fn zero() -> Acc {
        Acc { cur: PeriodSums::zero(), prev: PeriodSums::zero(), ly: PeriodSums::zero(), stores: 0, area: 0 }
    }

    fn add(&mut self, s: &RegionStore) {
        self.cur.add(&s.month);
        self.prev.add(&s.previous);
        self.ly.add(&s.last_year);
        if s.month.days > 0 {
            self.stores += 1;
            self.area += s.area_sqm;
        }
    }

    fn cells(&self, rank: Cell, name: String, company_revenue: i64) -> Vec<Cell> {
        let c = &self.cur;
        let rev = i128::from(c.revenue);
        vec![
            rank,
            Cell::Text(name),
            Cell::Int(self.stores),
            Cell::Fixed2(c.revenue),
            Cell::opt2(pct(c.revenue, company_revenue)),
            Cell::Fixed2(c.gross_profit()),
            Cell::opt2(c.margin_pct()),
            Cell::Int(c.tickets),
            Cell::opt2(c.aov()),
            Cell::opt2(rdiv(rev, self.stores.into())),
            Cell::opt2(rdiv(rev, self.area.into())),
            Cell::opt2(pct_change(c.revenue, self.prev.revenue)),
            Cell::opt2(pct_change(c.revenue, self.ly.revenue)),
        ]
    }
}

/// Regions ranked by revenue (ties: name in byte order), then the company.
pub fn regions_table(month_label: &str, stores: &[RegionStore]) -> ReportTable {
    let mut regions: Vec<(String, Acc)> = Vec::new();
    let mut company = Acc::zero();
    for s in stores {
        company.add(s);
        match regions.iter_mut().find(|(r, _)| *r == s.region) {
            Some((_, a)) => a.add(s),
            None => {
                let mut a = Acc::zero();
                a.add(s);
                regions.push((s.region.clone(), a));
            }
        }
    }
    regions.sort_by(|a, b| (-a.1.cur.revenue, a.0.as_bytes()).cmp(&(-b.1.cur.revenue, b.0.as_bytes())));
    let total = company.cur.revenue;
    ReportTable {
        name: "regions",
        title_zh: format!("区域对比 {month_label}"),
        title_en: format!("Regions {month_label}"),
        columns: vec![
            col("rank", "排名", "rank", Kind::Int),
            col("region", "区域", "region", Kind::Text),
            col("stores", "门店数", "stores", Kind::Int),
            col("revenue", "销售额", "revenue", Kind::Money),
            col("share_pct", "占比%", "share %", Kind::Pct),
            col("gross_profit", "毛利", "gross profit", Kind::Money),
            col("margin_pct", "毛利率%", "margin %", Kind::Pct),
            col("tickets", "客流", "tickets", Kind::Int),
            col("aov", "客单价", "AOV", Kind::Fixed2),
            col("revenue_per_store", "店均销售额", "revenue / store", Kind::Money),
            col("revenue_per_sqm", "坪效", "revenue / m²", Kind::Money),
            col("mom_pct", "环比%", "MoM %", Kind::Growth),
            col("yoy_pct", "同比%", "YoY %", Kind::Growth),
        ],
        rows: regions
            .iter()
            .enumerate()
            .map(|(i, (name, a))| a.cells(Cell::Int(i as i64 + 1), name.clone(), total))
            .collect(),
        totals: vec![company.cells(Cell::Null, "Σ".into(), total)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(region: &str, revenue: i64, previous: i64) -> RegionStore {
        let s = |r| PeriodSums {
            revenue: r,
            cost: r / 2,
            tickets: 10,
            qty: Some(20),
            member_revenue: Some(0),
            days: i64::from(r > 0),
        };
        RegionStore {
            region: region.into(),
            area_sqm: 100,
            month: s(revenue),
            previous: s(previous),
            last_year: PeriodSums::zero(),
        }
    }

    #[test]
    fn regions_rank_by_revenue_and_count_only_stores_that_sold() {
        let t = regions_table(
            "2026-10",
            &[store("华南", 1000, 800), store("华东", 3000, 3000), store("华南", 2000, 0), store("华南", 0, 5)],
        );
        let rows = t.rows.to_vec();
        let names: Vec<&Cell> = rows.iter().map(|r| &r[1]).collect();
        assert_eq!(names, [&Cell::Text("华东".into()), &Cell::Text("华南".into())]);
        let south = &rows[1];
        assert_eq!(
            (&south[0], &south[2], &south[3], &south[4]),
            (&Cell::Int(2), &Cell::Int(2), &Cell::Fixed2(3000), &Cell::Fixed2(5000))
        );
        assert_eq!(south[9], Cell::Fixed2(1500));
        assert_eq!(south[11], Cell::Fixed2(27267)); // 3000 vs 805
        assert_eq!(t.totals[0][4], Cell::Fixed2(10000));
    }
}
