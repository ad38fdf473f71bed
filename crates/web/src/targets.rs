//! Targets in the desk: the tables a plan is shown and downloaded as, shared
//! by the pages, the JSON API and the command line.

use opsdesk_db::targets::{Grain, Plan, PlanRegion, PlanStore, TargetRow};
use opsdesk_domain::reports::table::{Cell, Column, Kind, ReportTable, col};
use opsdesk_domain::targets::Unit;

fn value_kind(unit: Unit) -> Kind {
    match unit {
        Unit::Fen => Kind::Money,
        Unit::Count => Kind::Int,
    }
}

fn value(unit: Unit, v: i64) -> Cell {
    match unit {
        Unit::Fen => Cell::Fixed2(v),
        Unit::Count => Cell::Int(v),
    }
}

fn plan_title(plan: &Plan) -> (String, String) {
    (format!("{} 年{}目标", plan.year, plan.metric.name_zh), format!("{} {} targets", plan.year, plan.metric.name_en))
}

/// The plan's cells at a grain, in the file layout a plan is exported and
/// imported in: `store_code, period, baseline, stretch`.
pub fn cells_table(plan: &Plan, grain: Grain, rows: &[TargetRow]) -> ReportTable {
    let kind = value_kind(plan.metric.unit);
    let columns: Vec<Column> = vec![
        col("store_code", "门店编码", "Store code", Kind::Text),
        col("period", "期间", "Period", Kind::Text),
        col("baseline", "保底", "Baseline", kind),
        col("stretch", "力争", "Stretch", kind),
    ];
    let (zh, en) = plan_title(plan);
    let (suffix_zh, suffix_en) = match grain {
        Grain::Month => ("（按月）".to_string(), " by month".to_string()),
        Grain::Day(m) => {
            (format!("（{}-{:02} 按日）", m / 100, m % 100), format!(" by day, {}-{:02}", m / 100, m % 100))
        }
    };
    ReportTable {
        name: "targets",
        title_zh: zh + &suffix_zh,
        title_en: en + &suffix_en,
        columns,
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.store_code.clone()),
                    Cell::Text(r.period.clone()),
                    value(plan.metric.unit, r.baseline),
                    value(plan.metric.unit, r.stretch),
                ]
            })
            .collect(),
        totals: Vec::new(),
    }
}

/// A plan by region and store for the year, with how each store was shaped.
pub fn overview_table(plan: &Plan, regions: &[PlanRegion], stores: &[PlanStore]) -> ReportTable {
    let kind = value_kind(plan.metric.unit);
    let columns = vec![
        col("store_code", "门店编码", "Store code", Kind::Text),
        col("store_name", "门店名称", "Store", Kind::Text),
        col("region", "区域", "Region", Kind::Text),
        col("baseline", "保底", "Baseline", kind),
        col("stretch", "力争", "Stretch", kind),
        col("locked", "锁定", "Locked", Kind::Text),
        col("new_store", "新店（按备用规则）", "New (fallback rule)", Kind::Text),
        col("tier", "分级", "Tier", Kind::Text),
        col("season", "季节性来源", "Seasonality from", Kind::Text),
        col("weekdays", "星期分布来源", "Weekday profile from", Kind::Text),
    ];
    let yes = |b: bool| Cell::Text(if b { "✓".into() } else { String::new() });
    let rows = stores
        .iter()
        .map(|s| {
            vec![
                Cell::Text(s.store_code.clone()),
                Cell::Text(s.store_name.clone()),
                Cell::Text(s.region.clone()),
                value(plan.metric.unit, s.baseline),
                value(plan.metric.unit, s.stretch),
                yes(s.locked),
                yes(s.fallback),
                Cell::Text(s.tier.clone().unwrap_or_default()),
                Cell::Text(s.season.clone()),
                Cell::Text(s.weekdays.clone()),
            ]
        })
        .collect();
    let mut totals: Vec<Vec<Cell>> = regions
        .iter()
        .map(|r| {
            let mut row = vec![Cell::Null, Cell::Text(format!("Σ {}", r.region)), Cell::Text(r.region.clone())];
            row.extend([value(plan.metric.unit, r.baseline), value(plan.metric.unit, r.stretch), yes(r.locked)]);
            row.extend([Cell::Null, Cell::Null, Cell::Null, Cell::Null]);
            row
        })
        .collect();
    if !regions.is_empty() {
        let mut row = vec![Cell::Null, Cell::Text("Σ 公司 / company".into()), Cell::Null];
        row.extend([value(plan.metric.unit, plan.baseline), value(plan.metric.unit, plan.stretch), Cell::Null]);
        row.extend([Cell::Null, Cell::Null, Cell::Null, Cell::Null]);
        totals.push(row);
    }
    let (zh, en) = plan_title(plan);
    ReportTable { name: "target_plan", title_zh: zh, title_en: en, columns, rows, totals }
}
