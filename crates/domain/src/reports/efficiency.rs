//! The ten efficiencies (十效) of each store over any period, with region and
//! company totals (`docs/reports.md`): revenue per staff (人效), per m² (坪效),
//! per opening hour (时效), per SKU in range (品效), traffic per m², AOV,
//! items per ticket, margin, member share and growth.

use chrono::NaiveDate;

use crate::rdiv;
use crate::reports::daily::pct_change;
use crate::reports::period::{PERIOD_COLUMNS, PeriodSums};
use crate::reports::table::{Cell, Column, Kind, ReportTable, col};

/// The bases a store's efficiencies divide by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreBase {
    pub staff: i64,
    pub area_sqm: i64,
    pub sku_count: Option<i64>,
    pub open_minutes: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct EfficiencyInput {
    pub store_code: String,
    pub region: String,
    pub base: StoreBase,
    pub period: PeriodSums,
    /// The same dates a year earlier.
    pub last_year: PeriodSums,
}

/// What a row (a store or a group of stores) is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Acc {
    cur: PeriodSums,
    ly: PeriodSums,
    staff: i64,
    area: i64,
    skus: Option<i64>,
    /// Σ days with sales × opening minutes a day.
    open_minutes: Option<i64>,
}

impl Acc {
    fn of(i: &EfficiencyInput) -> Acc {
        Acc {
            cur: i.period,
            ly: i.last_year,
            staff: i.base.staff,
            area: i.base.area_sqm,
            skus: i.base.sku_count,
            open_minutes: i.base.open_minutes.map(|m| m * i.period.days),
        }
    }

    fn zero() -> Acc {
        Acc { cur: PeriodSums::zero(), ly: PeriodSums::zero(), staff: 0, area: 0, skus: Some(0), open_minutes: Some(0) }
    }

    fn add(&mut self, o: &Acc) {
        self.cur.add(&o.cur);
        self.ly.add(&o.ly);
        self.staff += o.staff;
        self.area += o.area;
        self.skus = self.skus.zip(o.skus).map(|(a, b)| a + b);
        self.open_minutes = self.open_minutes.zip(o.open_minutes).map(|(a, b)| a + b);
    }

    fn cells(&self, label: String, region: String) -> Vec<Cell> {
        let c = &self.cur;
        let rev = i128::from(c.revenue);
        let mut v = vec![Cell::Text(label), Cell::Text(region), Cell::Int(c.days)];
        v.extend(c.cells());
        v.extend([
            Cell::opt2(rdiv(rev, self.staff.into())),
            Cell::opt2(rdiv(rev, self.area.into())),
            Cell::opt2(self.open_minutes.and_then(|m| rdiv(rev * 60, m.into()))),
            Cell::opt2(self.skus.and_then(|s| rdiv(rev, s.into()))),
            Cell::opt2(rdiv(100 * i128::from(c.tickets), self.area.into())),
            Cell::opt2(pct_change(c.revenue, self.ly.revenue)),
        ]);
        v
    }
}

fn columns() -> Vec<Column> {
    let mut v = vec![
        col("store_code", "门店", "store", Kind::Text),
        col("region", "区域", "region", Kind::Text),
        col("days", "营业天数", "days", Kind::Int),
    ];
    v.extend(PERIOD_COLUMNS);
    v.extend([
        col("revenue_per_staff", "人效", "revenue / staff", Kind::Money),
        col("revenue_per_sqm", "坪效", "revenue / m²", Kind::Money),
        col("revenue_per_hour", "时效", "revenue / opening hour", Kind::Money),
        col("revenue_per_sku", "品效", "revenue / SKU", Kind::Money),
        col("tickets_per_sqm", "每平米客流", "tickets / m²", Kind::Fixed2),
        col("yoy_pct", "同比%", "YoY %", Kind::Growth),
    ]);
    v
}

/// The efficiency report: stores in the order given, then region totals and
/// the company total.
pub fn efficiency_table(from: NaiveDate, to: NaiveDate, inputs: &[EfficiencyInput]) -> ReportTable {
    let mut regions: Vec<(String, Acc)> = Vec::new();
    let mut company = Acc::zero();
    let mut rows = Vec::with_capacity(inputs.len());
    for i in inputs {
        let a = Acc::of(i);
        rows.push(a.cells(i.store_code.clone(), i.region.clone()));
        company.add(&a);
        match regions.iter_mut().find(|(r, _)| *r == i.region) {
            Some((_, r)) => r.add(&a),
            None => {
                let mut r = Acc::zero();
                r.add(&a);
                regions.push((i.region.clone(), r));
            }
        }
    }
    let mut totals: Vec<Vec<Cell>> =
        regions.iter().map(|(name, a)| a.cells(format!("Σ {name}"), name.clone())).collect();
    totals.push(company.cells("Σ".into(), String::new()));
    ReportTable {
        name: "efficiency",
        title_zh: format!("十效分析 {from} 至 {to}"),
        title_en: format!("Efficiency {from} to {to}"),
        columns: columns(),
        rows: rows.into(),
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_efficiency_divides_by_its_base_and_totals_add_the_bases() {
        let d = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let sums = |revenue, tickets, days| PeriodSums {
            revenue,
            cost: revenue / 2,
            tickets,
            qty: Some(tickets * 2),
            member_revenue: Some(0),
            days,
        };
        let a = EfficiencyInput {
            store_code: "S1".into(),
            region: "华东".into(),
            base: StoreBase { staff: 4, area_sqm: 100, sku_count: Some(2000), open_minutes: Some(14 * 60) },
            period: sums(2_800_000, 200, 10),
            last_year: sums(2_000_000, 150, 10),
        };
        let b = EfficiencyInput { store_code: "S2".into(), base: StoreBase { sku_count: None, ..a.base }, ..a.clone() };
        let t = efficiency_table(d, d, &[a, b]);
        let rows = t.rows.to_vec();
        let s1 = &rows[0];
        assert_eq!(s1[10], Cell::Fixed2(700_000)); // 28,000 yuan / 4 staff
        assert_eq!(s1[11], Cell::Fixed2(28_000));
        assert_eq!(s1[12], Cell::Fixed2(20_000)); // 28,000 yuan / 140 hours
        assert_eq!(s1[13], Cell::Fixed2(1_400));
        assert_eq!(s1[14], Cell::Fixed2(200));
        assert_eq!(s1[15], Cell::Fixed2(4_000));
        assert_eq!(rows[1][13], Cell::Null);
        let company = t.totals.last().unwrap();
        assert_eq!(company[10], Cell::Fixed2(700_000));
        assert_eq!(company[12], Cell::Fixed2(20_000));
        assert_eq!(company[13], Cell::Null, "a store without its SKU range leaves the total unknown");
    }
}
