//! The daily summary import (门店日汇总), for POS systems that export only
//! store × day totals. Each row replaces its store-day like a sales import
//! does; reports that need line detail (categories, members) know these days
//! lack it.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use chrono::Utc;
use opsdesk_db::imports::{BatchMeta, ImportResult};
use opsdesk_db::sales::{SalesData, WriteOutcome};
use opsdesk_db::{Db, Scope};
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::sales::{DayKey, DayRow, DaySource, StoreId};

use crate::errors::RejectsWriter;
use crate::options::{ImportOptions, ImportSummary, Outcome, blocking};
use crate::source::Record;
use crate::stores::{each_record, record_shape, row_error};
use crate::{ErrorReport, ImportKind, IngestError, Mapping, rows};

// Field numbers in `DAILY_FIELDS` order.
const STORE: usize = 0;
const DATE: usize = 1;
const REVENUE: usize = 2;
const COST: usize = 3;
const TICKETS: usize = 4;
const QTY: usize = 5;
const MEMBER_REVENUE: usize = 6;

fn parse_day(
    m: &Mapping,
    rec: &Record<'_>,
    stores: &std::collections::HashMap<String, StoreId>,
    lang: Lang,
) -> Result<DayRow, (Option<usize>, String)> {
    record_shape(m, rec, lang).map_err(|e| (None, e))?;
    let get = |field: usize| m.col(field).map(|c| rec.fields.get(c)).unwrap_or("");
    let code = rows::code(get(STORE), lang).map_err(|e| (Some(STORE), e))?;
    let store = *stores.get(code).ok_or_else(|| {
        (
            Some(STORE),
            lang.pick("未知门店编码（不在门店清单中）", "unknown store code (not in the store list)").to_string(),
        )
    })?;
    let date = rows::date(get(DATE), lang).map_err(|e| (Some(DATE), e))?;
    let optional =
        |field: usize, parse: fn(&str, Lang) -> Result<i64, String>| -> Result<Option<i64>, (Option<usize>, String)> {
            match get(field) {
                "" => Ok(None),
                v => parse(v, lang).map(Some).map_err(|e| (Some(field), e)),
            }
        };
    Ok(DayRow {
        key: DayKey { store, date },
        revenue: rows::money(get(REVENUE), lang).map_err(|e| (Some(REVENUE), e))?,
        cost: rows::money(get(COST), lang).map_err(|e| (Some(COST), e))?,
        tickets: rows::non_negative(get(TICKETS), lang).map_err(|e| (Some(TICKETS), e))?,
        qty: optional(QTY, rows::integer)?,
        member_revenue: optional(MEMBER_REVENUE, rows::money)?,
        member_tickets: None,
        returns: None,
        lines: None,
        source: DaySource::Summary,
    })
}

/// Imports a file of store × day summaries (CSV or XLSX).
pub async fn import_daily(
    db: &Db,
    scope: &Scope,
    path: &Path,
    opts: &ImportOptions<'_>,
) -> Result<ImportSummary, IngestError> {
    let started = Instant::now();
    let started_at = Utc::now();
    let lang = opts.lang;
    let file_name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let stores = db.store_codes(scope).await?;
    let mut saved = db.column_mappings(ImportKind::Daily.as_str()).await?;
    saved.extend(opts.mappings.iter().cloned());
    let mut days: Vec<DayRow> = Vec::new();
    let mut errors = ErrorReport::default();
    let mut seen: HashSet<DayKey> = HashSet::new();
    let mut rows_read = 0u64;
    let mut rejects: Option<RejectsWriter> = None;
    let rejects_path = opts.rejects_file(path);
    let mut io_error: Option<std::io::Error> = None;
    let (sha256, encoding, _) = blocking(|| {
        each_record(path, ImportKind::Daily, &saved, |m, rec| {
            rows_read += 1;
            let parsed = parse_day(m, &rec, &stores, lang).and_then(|d| {
                if seen.insert(d.key) {
                    Ok(d)
                } else {
                    Err((
                        Some(DATE),
                        lang.pick("该门店该日在文件中重复", "this store and date appear earlier in the file")
                            .to_string(),
                    ))
                }
            });
            match parsed {
                Ok(d) => days.push(d),
                Err((field, reason)) => {
                    if opts.skip_bad_rows && io_error.is_none() {
                        let w = match rejects.take() {
                            Some(w) => Ok(w),
                            None => RejectsWriter::create(&rejects_path, &m.header),
                        };
                        match w.and_then(|mut w| w.write(&rec.fields.to_strings(), &reason).map(|_| w)) {
                            Ok(w) => rejects = Some(w),
                            Err(e) => io_error = Some(e),
                        }
                    }
                    errors.push(row_error(m, &rec, field, reason, lang));
                }
            }
        })
    })?;
    let io = |e: std::io::Error| IngestError::io(&rejects_path.display().to_string(), e);
    if let Some(e) = io_error {
        return Err(io(e));
    }
    let rejected = rejects.as_ref().map(|w| w.count).unwrap_or(0);
    if let Some(w) = rejects {
        w.finish().map_err(io)?;
    }
    days.sort_unstable_by_key(|d| d.key);
    let refused = !errors.is_empty() && !opts.skip_bad_rows;
    let first_date = days.iter().map(|d| d.key.date).min();
    let last_date = days.iter().map(|d| d.key.date).max();
    let meta = BatchMeta {
        kind: ImportKind::Daily.as_str().to_string(),
        file_name: file_name.clone(),
        sha256: sha256.clone(),
        started_at,
        rows_read: rows_read as i64,
        rows_imported: if refused { 0 } else { days.len() as i64 },
        rows_rejected: errors.total as i64,
        first_date,
        last_date,
        message: String::new(),
    };
    let mut summary = ImportSummary {
        kind: ImportKind::Daily.as_str(),
        file_name,
        sha256,
        encoding,
        outcome: Outcome::Refused,
        batch_id: None,
        rows_read,
        rows_imported: 0,
        rows_rejected: errors.total,
        pairs_new: 0,
        pairs_replaced: 0,
        first_date,
        last_date,
        revenue: 0,
        errors,
        rejects_path: (rejected > 0).then_some(rejects_path.clone()),
        error_report_path: None,
        stores: None,
        read_time: started.elapsed(),
        duration: started.elapsed(),
    };
    summary.write_error_report(opts)?;
    if refused {
        summary.batch_id = Some(db.record_import(scope, &meta, ImportResult::Refused).await?);
        return Ok(summary);
    }
    let revenue = days.iter().map(|d| d.revenue).sum();
    let data = SalesData { days, ..SalesData::default() };
    match db.write_sales(scope, &meta, &data).await? {
        WriteOutcome::Imported { batch_id, pairs_new, pairs_replaced } => {
            summary.outcome = Outcome::Imported;
            summary.batch_id = Some(batch_id);
            summary.pairs_new = pairs_new;
            summary.pairs_replaced = pairs_replaced;
            summary.rows_imported = data.days.len() as u64;
            summary.revenue = revenue;
        }
        WriteOutcome::AlreadyImported { batch_id } => {
            summary.outcome = Outcome::AlreadyImported;
            summary.batch_id = Some(batch_id);
        }
    }
    summary.duration = started.elapsed();
    Ok(summary)
}
