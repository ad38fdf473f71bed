//! The staff imports (岗位、员工): positions with their duties, then
//! employees with their unit, position, level and pay base. Every row is
//! checked against what the database knows (stores, positions, the levels
//! of the pay-base setting); a file with a bad row saves nothing.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use opsdesk_db::{Db, Scope};
use opsdesk_domain::appraisal::Policy;
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::staff::{EmployeeRecord, PositionRecord, Unit, parse_flag};
use opsdesk_domain::stores::region_path;

use crate::options::{ImportOptions, ImportSummary};
use crate::source::Record;
use crate::stores::read_records;
use crate::{ImportKind, IngestError, Mapping, rows};

fn required(v: &str, lang: Lang) -> Result<String, String> {
    let v = v.trim();
    if v.is_empty() {
        Err(lang.pick("必填，不能为空", "required, must not be empty").into())
    } else {
        Ok(v.to_string())
    }
}

/// A position from its fields (code, name, duties), or the failing field's
/// index and the reason — for a file's row and for the desk's form alike.
pub fn position_record(fields: [&str; 3], lang: Lang) -> Result<PositionRecord, (usize, String)> {
    let code = rows::code(fields[0], lang).map_err(|e| (0, e))?.to_string();
    let name = required(fields[1], lang).map_err(|e| (1, e))?;
    Ok(PositionRecord { code, name, duties: fields[2].trim().to_string() })
}

/// Checks employees' fields against what the database knows: its stores,
/// positions and the levels of the pay-base setting.
pub struct EmployeeCheck {
    stores: HashMap<String, i64>,
    positions: HashSet<String>,
    policy: Policy,
}

/// The employee's fields in the order of [`crate::fields::EMPLOYEE_FIELDS`]:
/// code, name, unit, position, level, pay base, excluded, start and end date.
pub type EmployeeFields<'a> = [&'a str; crate::fields::EMPLOYEE_FIELDS.len()];

impl EmployeeCheck {
    pub async fn load(db: &Db) -> Result<EmployeeCheck, IngestError> {
        Ok(EmployeeCheck {
            stores: db.store_codes(&Scope::system("staff")).await?,
            positions: db.positions().await?.into_iter().map(|p| p.code).collect(),
            policy: db.appraisal_policy().await?,
        })
    }

    /// An employee from her fields, or the failing
    /// field's index and the reason. The unit is a store's code, else a
    /// department's path.
    pub fn record(&self, f: EmployeeFields<'_>, lang: Lang) -> Result<EmployeeRecord, (usize, String)> {
        let code = rows::code(f[0], lang).map_err(|e| (0, e))?.to_string();
        let name = required(f[1], lang).map_err(|e| (1, e))?;
        let unit_text = required(f[2], lang).map_err(|e| (2, e))?;
        let unit = if self.stores.contains_key(&unit_text) {
            Unit::Store(unit_text)
        } else {
            Unit::Department(region_path(&unit_text))
        };
        let position = required(f[3], lang).map_err(|e| (3, e))?;
        if !self.positions.contains(&position) {
            return Err((3, lang.pick("未知岗位：请先建立岗位", "unknown position: add the position first").into()));
        }
        let level = required(f[4], lang).map_err(|e| (4, e))?;
        let pay_base = match f[5].trim() {
            "" => None,
            v => {
                let base = rows::money(v, lang).map_err(|e| (5, e))?;
                if base < 0 {
                    return Err((5, lang.pick("绩效基数不能为负", "the pay base cannot be negative").into()));
                }
                Some(base)
            }
        };
        if pay_base.is_none() && self.policy.pay_base(&level).is_none() {
            let known: Vec<&str> = self.policy.pay_bases.iter().map(|(l, _)| l.as_str()).collect();
            let reason = format!(
                "{} ({})",
                lang.pick(
                    "职级没有绩效基数：填写绩效基数，或在设置中加入此职级",
                    "no pay base for this level: give a pay base, or add the level to the settings"
                ),
                known.join(", ")
            );
            return Err((4, reason));
        }
        let excluded =
            parse_flag(f[6]).ok_or_else(|| (6, lang.pick("应为 是/否", "expected yes or no").to_string()))?;
        let start_date = rows::date(f[7], lang).map_err(|e| (7, e))?;
        let end_date = match f[8].trim() {
            "" => None,
            v => Some(rows::date(v, lang).map_err(|e| (8, e))?),
        };
        if end_date.is_some_and(|e| e < start_date) {
            return Err((8, lang.pick("离职日期早于入职日期", "the end date is before the start date").into()));
        }
        Ok(EmployeeRecord { code, name, unit, position, level, pay_base, excluded, start_date, end_date })
    }
}

/// Imports positions (CSV or XLSX): added or updated, all or nothing.
pub async fn import_positions(
    db: &Db,
    scope: &Scope,
    path: &Path,
    opts: &ImportOptions<'_>,
) -> Result<ImportSummary, IngestError> {
    let lang = opts.lang;
    let parse = |m: &Mapping, rec: &Record<'_>| -> Result<PositionRecord, (Option<usize>, String)> {
        let get = |field: usize| m.col(field).map(|c| rec.fields.get(c)).unwrap_or("");
        position_record([get(0), get(1), get(2)], lang).map_err(|(i, e)| (Some(i), e))
    };
    let repeated = ("岗位编码在文件中重复", "this position code appears earlier in the file");
    let (run, mut summary, records) =
        read_records(db, ImportKind::Positions, path, opts, parse, |p| &p.code, repeated).await?;
    if !summary.errors.is_empty() {
        return run.refuse(db, scope, summary).await;
    }
    summary.records = Some(db.save_positions(scope, &records).await?);
    run.record(db, scope, summary, records.len() as u64).await
}

/// Imports employees (CSV or XLSX): added or updated, all or nothing. The
/// unit is a store's code, else a department's path (created as named).
pub async fn import_employees(
    db: &Db,
    scope: &Scope,
    path: &Path,
    opts: &ImportOptions<'_>,
) -> Result<ImportSummary, IngestError> {
    let lang = opts.lang;
    let check = EmployeeCheck::load(db).await?;
    let parse = |m: &Mapping, rec: &Record<'_>| -> Result<EmployeeRecord, (Option<usize>, String)> {
        let get = |field: usize| m.col(field).map(|c| rec.fields.get(c)).unwrap_or("");
        let fields: EmployeeFields<'_> = std::array::from_fn(get);
        check.record(fields, lang).map_err(|(i, e)| (Some(i), e))
    };
    let repeated = ("工号在文件中重复", "this employee code appears earlier in the file");
    let (run, mut summary, records) =
        read_records(db, ImportKind::Employees, path, opts, parse, |e| &e.code, repeated).await?;
    if !summary.errors.is_empty() {
        return run.refuse(db, scope, summary).await;
    }
    summary.records = Some(db.save_employees(scope, &records).await?);
    run.record(db, scope, summary, records.len() as u64).await
}
