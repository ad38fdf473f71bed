//! The daily summary import (门店日汇总), for POS systems that export only
//! store × day totals. Each row replaces its store-day like a sales import
//! does; reports that need line detail (categories, members) know these days
//! lack it.

use std::collections::HashSet;
use std::path::Path;

use opsdesk_db::sales::SalesData;
use opsdesk_db::{Db, Scope};
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::sales::{DayKey, DayRow, DaySource, StoreId};

use crate::errors::RejectsWriter;
use crate::options::{ImportOptions, ImportSummary, blocking};
use crate::run::{Read, Run};
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
        categories: None,
        members: None,
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
    let run = Run::begin(db, ImportKind::Daily, path, opts).await?;
    let lang = opts.lang;
    let stores = db.store_codes(scope).await?;
    let mut days: Vec<DayRow> = Vec::new();
    let mut errors = ErrorReport::default();
    let mut seen: HashSet<DayKey> = HashSet::new();
    let mut rows_read = 0u64;
    let mut rejects: Option<RejectsWriter> = None;
    let rejects_path = opts.rejects_file(path);
    let mut io_error: Option<std::io::Error> = None;
    let (sha256, encoding, _) = blocking(|| {
        each_record(path, ImportKind::Daily, &run.saved, |m, rec| {
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
    let read = Read {
        sha256,
        encoding,
        rows_read,
        errors,
        first_date: days.iter().map(|d| d.key.date).min(),
        last_date: days.iter().map(|d| d.key.date).max(),
        rejects_path: (rejected > 0).then_some(rejects_path.clone()),
    };
    let summary = run.summary(read, opts)?;
    if refused {
        return run.refuse(db, scope, summary).await;
    }
    let rows = days.len() as u64;
    let data = SalesData { days, ..SalesData::default() };
    run.write_days(db, scope, summary, data, rows).await
}
