//! The stores import (门店清单): adds new stores and updates changed ones, all
//! or nothing.

use std::cell::OnceCell;
use std::collections::HashSet;
use std::path::Path;

use opsdesk_db::{Db, Scope};
use opsdesk_domain::stores::{Channel, StoreRecord, StoreStatus, region_path};

use crate::options::{ImportOptions, ImportSummary};
use crate::run::{Read, Run};
use crate::source::{Encoding, Record, read_file};
use crate::{ErrorReport, ImportKind, IngestError, Mapping, RowError, rows};

/// Reads every record of a small file on this thread, with its mapping.
pub(crate) fn each_record(
    path: &Path,
    kind: ImportKind,
    saved: &[(String, String)],
    mut f: impl FnMut(&Mapping, Record<'_>),
) -> Result<(String, Encoding, Mapping), IngestError> {
    let file = path.display().to_string();
    let mapping: OnceCell<Mapping> = OnceCell::new();
    let mut encoding = Encoding::Utf8;
    let sha = read_file(
        path,
        |h, enc| {
            encoding = enc;
            let _ = mapping.set(Mapping::build(kind, h, saved, &file)?);
            Ok(None)
        },
        |chunk, _| {
            let m = mapping.get().expect("the header is mapped before the first chunk");
            chunk.for_each_record(|rec| f(m, rec));
            Ok(())
        },
    )?;
    let m = mapping.into_inner().expect("a file that was read has a header");
    Ok((sha, encoding, m))
}

/// Records a row error from a field number and a reason.
pub(crate) fn row_error(
    m: &Mapping,
    rec: &Record<'_>,
    field: Option<usize>,
    reason: String,
    lang: opsdesk_domain::i18n::Lang,
) -> RowError {
    let (column, value) = match field {
        Some(fi) => (m.column_name(fi), m.col(fi).map(|c| rec.fields.get(c).to_string()).unwrap_or_default()),
        None => (lang.pick("(整行)", "(record)").to_string(), rec.fields.to_strings().join(",")),
    };
    RowError { row: rec.line - 1, line: rec.line, column, value, reason }
}

/// Checks the shape every record must have: decodable, and as many fields as the header.
pub(crate) fn record_shape(m: &Mapping, rec: &Record<'_>, lang: opsdesk_domain::i18n::Lang) -> Result<(), String> {
    if rec.bad_encoding {
        Err(lang
            .pick("含有无法按文件编码解读的字节", "holds bytes that are not valid in the file's encoding")
            .to_string())
    } else if rec.fields.len() != m.header.len() {
        Err(format!(
            "{} {}, {} {}",
            lang.pick("应有字段数", "expected fields:"),
            m.header.len(),
            lang.pick("实际", "found"),
            rec.fields.len()
        ))
    } else {
        Ok(())
    }
}

fn parse_store(
    m: &Mapping,
    rec: &Record<'_>,
    lang: opsdesk_domain::i18n::Lang,
) -> Result<StoreRecord, (Option<usize>, String)> {
    let get = |field: usize| m.col(field).map(|c| rec.fields.get(c)).unwrap_or("");
    let code = rows::code(get(0), lang).map_err(|e| (Some(0), e))?.to_string();
    let name = get(1);
    if name.is_empty() {
        return Err((Some(1), lang.pick("必填，不能为空", "required, must not be empty").into()));
    }
    let region = region_path(get(2));
    if region.is_empty() {
        return Err((Some(2), lang.pick("必填，不能为空", "required, must not be empty").into()));
    }
    let area_sqm = rows::positive(get(3), lang).map_err(|e| (Some(3), e))?;
    let staff_count = rows::non_negative(get(4), lang).map_err(|e| (Some(4), e))?;
    let open_date = rows::date(get(5), lang).map_err(|e| (Some(5), e))?;
    let channel = match m.col(6) {
        None => None,
        Some(_) => Some(Channel::parse(get(6)).ok_or_else(|| {
            (Some(6), lang.pick("应为 store/门店 或 online/网店", "expected store/门店 or online/网店").to_string())
        })?),
    };
    let status = match m.col(7) {
        None => None,
        Some(_) => Some(StoreStatus::parse(get(7)).ok_or_else(|| {
            (Some(7), lang.pick("应为 open/营业 或 closed/停业", "expected open/营业 or closed/停业").to_string())
        })?),
    };
    let sku_count = match (m.col(8), get(8)) {
        (None, _) => None,
        (Some(_), "") => Some(None),
        (Some(_), v) => Some(Some(rows::non_negative(v, lang).map_err(|e| (Some(8), e))?)),
    };
    let open_minutes = match (m.col(9), get(9)) {
        (None, _) => None,
        (Some(_), "") => Some(None),
        (Some(_), v) => Some(Some(opening_minutes(v, lang).map_err(|e| (Some(9), e))?)),
    };
    Ok(StoreRecord {
        code,
        name: name.to_string(),
        region_path: region,
        area_sqm,
        staff_count,
        open_date,
        channel,
        status,
        sku_count,
        open_minutes,
    })
}

/// Hours a day (`14`, `13.5`) as minutes; at most 24 hours.
fn opening_minutes(v: &str, lang: opsdesk_domain::i18n::Lang) -> Result<i64, String> {
    let bad = || {
        lang.pick("应为每天营业小时数，0 到 24（如 14、13.5）", "expected opening hours a day, 0 to 24 (e.g. 14, 13.5)")
            .to_string()
    };
    let hundredths = opsdesk_domain::Money::parse_yuan(v).map_err(|_| bad())?.fen();
    if !(0..=2400).contains(&hundredths) {
        return Err(bad());
    }
    Ok((hundredths * 60 + 50) / 100)
}

/// A small file of records (stores, positions, employees) read whole: each
/// row of the right shape parsed, a key seen before refused with `repeated`.
/// Returns the run, its summary (refused while it has errors) and the records.
pub(crate) async fn read_records<T>(
    db: &Db,
    kind: ImportKind,
    path: &Path,
    opts: &ImportOptions<'_>,
    mut parse: impl FnMut(&Mapping, &Record<'_>) -> Result<T, (Option<usize>, String)>,
    key: impl Fn(&T) -> &str,
    repeated: (&str, &str),
) -> Result<(Run, ImportSummary, Vec<T>), IngestError> {
    let run = Run::begin(db, kind, path, opts).await?;
    let lang = opts.lang;
    let mut records = Vec::new();
    let mut errors = ErrorReport::default();
    let mut seen = HashSet::new();
    let mut rows_read = 0u64;
    let (sha256, encoding, _) = crate::options::blocking(|| {
        each_record(path, kind, &run.saved, |m, rec| {
            rows_read += 1;
            match record_shape(m, &rec, lang).map_err(|e| (None, e)).and_then(|()| parse(m, &rec)) {
                Ok(r) if !seen.insert(key(&r).to_string()) => {
                    errors.push(row_error(m, &rec, Some(0), lang.pick(repeated.0, repeated.1).to_string(), lang));
                }
                Ok(r) => records.push(r),
                Err((field, reason)) => errors.push(row_error(m, &rec, field, reason, lang)),
            }
        })
    })?;
    let read = Read { sha256, encoding, rows_read, errors, first_date: None, last_date: None, rejects_path: None };
    let summary = run.summary(read, opts)?;
    Ok((run, summary, records))
}

/// Imports a store list (CSV or XLSX).
pub async fn import_stores(
    db: &Db,
    scope: &Scope,
    path: &Path,
    opts: &ImportOptions<'_>,
) -> Result<ImportSummary, IngestError> {
    let lang = opts.lang;
    let repeated = ("门店编码在文件中重复", "this store code appears earlier in the file");
    let (run, mut summary, records) =
        read_records(db, ImportKind::Stores, path, opts, |m, rec| parse_store(m, rec, lang), |s| &s.code, repeated)
            .await?;
    if !summary.errors.is_empty() {
        return run.refuse(db, scope, summary).await;
    }
    summary.records = Some(db.save_stores(scope, &records).await?);
    run.record(db, scope, summary, records.len() as u64).await
}
