//! A target plan brought back from a sheet (目标导入): store × month or
//! store × day for one month, baseline and stretch. Every row is checked —
//! the store is in the plan and within reach, the period is the plan's and
//! of one grain, the values are amounts (or counts), a locked cell keeps its
//! value — and the cells that differ from the plan are listed for review
//! before anything is applied. Applying changes those cells; their siblings
//! that are neither changed nor locked absorb the difference, all or nothing.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use opsdesk_db::targets::{CellDiff, CellRef, Grain, Plan};
use opsdesk_db::{Db, Scope};
use opsdesk_domain::calendar::{month_key, parse_date};
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::targets::Level;

use crate::stores::{each_record, record_shape, row_error};
use crate::{ErrorReport, ImportKind, IngestError};

/// A checked file: the plan it belongs to and the cells that would change.
#[derive(Debug, Clone)]
pub struct TargetFile {
    pub plan: Plan,
    pub grain: Grain,
    pub sha256: String,
    pub rows: usize,
    /// The cells whose values differ from the plan's, in file order.
    pub changes: Vec<CellDiff>,
    cells: Vec<(CellRef, Level, i64)>,
}

impl TargetFile {
    /// The changed cells, as the plan applies them.
    pub fn cells(&self) -> &[(CellRef, Level, i64)] {
        &self.cells
    }
}

/// What a row says.
struct Line {
    store: i64,
    period: Period,
    baseline: i64,
    stretch: i64,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Period {
    Month(i64),
    Day(NaiveDate),
}

impl Period {
    fn parse(text: &str) -> Option<Period> {
        let t = text.trim();
        if t.len() == 7 {
            return opsdesk_domain::calendar::parse_month(t).map(Period::Month);
        }
        parse_date(t).ok().map(Period::Day)
    }

    fn year(self) -> i64 {
        match self {
            Period::Month(m) => m / 100,
            Period::Day(d) => month_key(d) / 100,
        }
    }

    fn grain(self) -> Grain {
        match self {
            Period::Month(_) => Grain::Month,
            Period::Day(d) => Grain::Day(month_key(d)),
        }
    }
}

/// Reads and checks a target file against the plan of `metric` for the
/// year its periods name. `Ok(Err(report))` when rows are bad: nothing can
/// be applied until they are fixed.
pub async fn read_targets(
    db: &Db,
    scope: &Scope,
    path: &Path,
    file: &str,
    metric: &str,
    lang: Lang,
) -> Result<Result<TargetFile, ErrorReport>, IngestError> {
    let codes = db.store_codes(scope).await?;
    let metrics = db.target_metrics().await?;
    let unit = metrics.iter().find(|m| m.key == metric).map(|m| m.unit).ok_or_else(|| {
        IngestError::file(file, lang.pick(&format!("没有指标 {metric}"), &format!("there is no metric {metric}")))
    })?;
    // First pass: parse every row; the plan is found from the first good period.
    let mut errors = ErrorReport::default();
    let mut lines: Vec<(u64, Line, Vec<String>)> = Vec::new();
    let mut seen: HashSet<(i64, Period)> = HashSet::new();
    let mut grain: Option<Grain> = None;
    let mut year: Option<i64> = None;
    let mut rows = 0usize;
    let (sha256, _, _) = crate::options::blocking(|| {
        each_record(path, ImportKind::Targets, &[], |m, rec| {
            rows += 1;
            let fail = |errors: &mut ErrorReport, field: Option<usize>, reason: &str| {
                errors.push(row_error(m, &rec, field, reason.to_string(), lang));
            };
            if let Err(e) = record_shape(m, &rec, lang) {
                return fail(&mut errors, None, &e);
            }
            let get = |field: usize| m.col(field).map(|c| rec.fields.get(c)).unwrap_or("").trim();
            let Some(&store) = codes.get(get(0)) else {
                return fail(
                    &mut errors,
                    Some(0),
                    lang.pick("未知门店，或不在您的范围内", "unknown store, or outside your reach"),
                );
            };
            let Some(period) = Period::parse(get(1)) else {
                return fail(
                    &mut errors,
                    Some(1),
                    lang.pick("期间应为 YYYY-MM 或 YYYY-MM-DD", "the period must be YYYY-MM or YYYY-MM-DD"),
                );
            };
            if *year.get_or_insert(period.year()) != period.year() {
                return fail(
                    &mut errors,
                    Some(1),
                    lang.pick("一个文件只能是一个年度的目标", "a file holds the targets of one year"),
                );
            }
            if *grain.get_or_insert(period.grain()) != period.grain() {
                return fail(
                    &mut errors,
                    Some(1),
                    lang.pick(
                        "一个文件只能全是月份，或全是同一个月的日期",
                        "a file holds months only, or the days of one month only",
                    ),
                );
            }
            let value = |field: usize| -> Result<i64, String> {
                match unit.parse_value(get(field)) {
                    Some(v) if v >= 0 => Ok(v),
                    Some(_) => Err(lang.pick("目标不能为负数", "a target cannot be negative").to_string()),
                    None => Err(match unit {
                        opsdesk_domain::targets::Unit::Fen => {
                            lang.pick("应为金额（元，最多两位小数）", "expected an amount in yuan (up to two decimals)")
                        }
                        opsdesk_domain::targets::Unit::Count => lang.pick("应为整数", "expected a whole number"),
                    }
                    .to_string()),
                }
            };
            let baseline = match value(2) {
                Ok(v) => v,
                Err(e) => return fail(&mut errors, Some(2), &e),
            };
            let stretch = match value(3) {
                Ok(v) => v,
                Err(e) => return fail(&mut errors, Some(3), &e),
            };
            if stretch < baseline {
                return fail(
                    &mut errors,
                    Some(3),
                    lang.pick("力争目标低于保底目标", "the stretch is below the baseline"),
                );
            }
            if !seen.insert((store, period)) {
                return fail(
                    &mut errors,
                    Some(1),
                    lang.pick("该门店的这个期间在文件中重复", "this store and period appear earlier in the file"),
                );
            }
            let names = [
                m.column_name(2),
                m.column_name(3),
                get(2).to_string(),
                get(3).to_string(),
                m.column_name(0),
                get(0).to_string(),
                m.column_name(1),
                get(1).to_string(),
            ];
            lines.push((rec.line, Line { store, period, baseline, stretch }, names.to_vec()));
        })
    })?;
    let Some(y) = year else {
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        return Err(IngestError::file(file, lang.pick("文件中没有目标行", "the file has no target rows")));
    };
    let plan = db.target_plan_for(y as i32, metric).await?.ok_or_else(|| {
        IngestError::file(
            file,
            lang.pick(&format!("{y} 年没有 {metric} 目标计划"), &format!("there is no {metric} plan for {y}")),
        )
    })?;
    // Second pass: against the plan — its stores, its locked cells.
    let in_plan: HashSet<i64> = db.target_overview(scope, &plan).await?.1.into_iter().map(|s| s.store_id).collect();
    let locked = db.locked_target_cells(&plan).await?;
    let current: HashMap<CellRef, (i64, i64)> = {
        let g = grain.unwrap_or(Grain::Month);
        let by_code = db.target_rows(scope, &plan, g).await?;
        by_code
            .into_iter()
            .filter_map(|r| {
                let cell = match Period::parse(&r.period)? {
                    Period::Month(month) => CellRef::Month { store: r.store_id, month },
                    Period::Day(date) => CellRef::Day { store: r.store_id, date },
                };
                Some((cell, (r.baseline, r.stretch)))
            })
            .collect()
    };
    let mut cells = Vec::new();
    for (line, l, names) in &lines {
        let at = |column: &str, value: &str, reason: &str| crate::RowError {
            row: line - 1,
            line: *line,
            column: column.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let cell = match l.period {
            Period::Month(month) => CellRef::Month { store: l.store, month },
            Period::Day(date) => CellRef::Day { store: l.store, date },
        };
        if !in_plan.contains(&l.store) {
            errors.push(at(
                &names[4],
                &names[5],
                lang.pick("该门店不在这个目标计划中", "this store is not in the plan"),
            ));
            continue;
        }
        let Some(&(baseline, stretch)) = current.get(&cell) else {
            errors.push(at(&names[6], &names[7], lang.pick("计划中没有这个期间", "the plan has no such period")));
            continue;
        };
        for (level, new, old, col) in
            [(Level::Baseline, l.baseline, baseline, 0), (Level::Stretch, l.stretch, stretch, 1)]
        {
            if new == old {
                continue;
            }
            if locked.contains(&cell) {
                errors.push(at(
                    &names[col],
                    &names[col + 2],
                    lang.pick("该单元格已锁定，不能修改", "this cell is locked and cannot change"),
                ));
                continue;
            }
            cells.push((cell, level, new));
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let changes = db.diff_target_cells(&plan, &cells).await?;
    Ok(Ok(TargetFile { plan, grain: grain.unwrap_or(Grain::Month), sha256, rows, changes, cells }))
}

/// Applies a checked file to its plan.
pub async fn apply_targets(db: &Db, scope: &Scope, file: &TargetFile, name: &str) -> Result<usize, IngestError> {
    if file.cells.is_empty() {
        return Ok(0);
    }
    Ok(db.apply_target_cells(scope, &file.plan, &file.cells, name).await?)
}
