//! `opsdesk import …` and `opsdesk imports`.

use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use opsdesk_db::imports::ImportRecord;
use opsdesk_db::{Db, Scope};
use opsdesk_domain::money::hundredths;
use opsdesk_ingest::{ImportKind, ImportOptions, ImportSummary, IngestError, Outcome, Progress, beside};

use crate::table::Table;
use crate::{Failure, ImportArgs, ImportCommand, Ui};

/// How many errors the terminal shows; the report file holds the first 1,000.
const SHOWN_ERRORS: usize = 20;

fn parse_maps(maps: &[String], ui: &Ui) -> Result<Vec<(String, String)>, Failure> {
    maps.iter()
        .map(|m| match m.split_once('=') {
            Some((h, f)) if !h.trim().is_empty() && !f.trim().is_empty() => {
                Ok((h.trim().to_string(), f.trim().to_string()))
            }
            _ => Err(Failure::BadInput(format!(
                "--map '{m}': {}",
                ui.lang.pick("应为 表头=字段", "expected HEADER=FIELD")
            ))),
        })
        .collect()
}

pub(crate) async fn run(db: &Db, scope: &Scope, cmd: ImportCommand, ui: &Ui) -> Result<(), Failure> {
    let (kind, args) = match cmd {
        ImportCommand::Stores(a) => (ImportKind::Stores, a),
        ImportCommand::Sales(a) => (ImportKind::Sales, a),
        ImportCommand::Daily(a) => (ImportKind::Daily, a),
        ImportCommand::Positions(a) => (ImportKind::Positions, a),
        ImportCommand::Employees(a) => (ImportKind::Employees, a),
    };
    let lang = ui.lang;
    let ImportArgs { file, skip_bad_rows, rejects, add, error_report, maps, save_mapping } = args;
    let mappings = parse_maps(&maps, ui)?;
    if save_mapping {
        for (h, f) in &mappings {
            if !kind.fields().iter().any(|s| s.name == f) {
                let names: Vec<&str> = kind.fields().iter().map(|s| s.name).collect();
                return Err(Failure::BadInput(format!(
                    "--map '{h}={f}': {} {}",
                    lang.pick("可用字段：", "fields are:"),
                    names.join(", ")
                )));
            }
            db.save_column_mapping(scope, kind.as_str(), h, f).await.map_err(|e| Failure::Other(e.message(lang)))?;
        }
    }
    let bar = (ui.terminal && !ui.quiet).then(|| {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{spinner} {bar:40} {percent:>3}% {msg} [{elapsed_precise} / {eta}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    });
    let last_tenth = AtomicU64::new(0);
    let progress = |p: Progress| {
        if let Some(b) = &bar {
            b.set_length(p.total);
            b.set_position(p.done);
            b.set_message(format!("{} {}", p.rows, lang.pick("行", "rows")));
        } else if !ui.quiet && p.total > 0 {
            let tenth = p.done * 10 / p.total;
            if tenth > last_tenth.swap(tenth, Ordering::Relaxed) {
                eprintln!("{}% ({} {})", tenth * 10, p.rows, lang.pick("行", "rows"));
            }
        }
    };
    let opts = ImportOptions {
        skip_bad_rows,
        add,
        rejects_path: rejects,
        error_report_path: error_report.then(|| beside(&file, "errors.csv")),
        mappings,
        lang,
        progress: Some(&progress),
    };
    let result = match kind {
        ImportKind::Stores => opsdesk_ingest::stores::import_stores(db, scope, &file, &opts).await,
        ImportKind::Sales => opsdesk_ingest::sales::import_sales(db, scope, &file, &opts).await,
        ImportKind::Daily => opsdesk_ingest::daily::import_daily(db, scope, &file, &opts).await,
        ImportKind::Positions => opsdesk_ingest::staff::import_positions(db, scope, &file, &opts).await,
        ImportKind::Employees => opsdesk_ingest::staff::import_employees(db, scope, &file, &opts).await,
        ImportKind::Targets => {
            return Err(Failure::BadInput(
                lang.pick("目标文件请用 `opsdesk targets import` 导入", "import targets with `opsdesk targets import`")
                    .into(),
            ));
        }
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match result {
        Ok(summary) => report(&summary, ui),
        Err(e @ IngestError::File { .. }) => Err(Failure::BadInput(e.message(lang))),
        Err(e) => Err(Failure::Other(e.message(lang))),
    }
}

fn report(s: &ImportSummary, ui: &Ui) -> Result<(), Failure> {
    let lang = ui.lang;
    let dates = match (s.first_date, s.last_date) {
        (Some(a), Some(b)) => format!(" {a} … {b}"),
        _ => String::new(),
    };
    match s.outcome {
        Outcome::Imported => {
            ui.say(
                &format!(
                    "已导入 {}（{}）：{} 行，编码 {}{dates}",
                    s.file_name,
                    s.kind,
                    s.rows_imported,
                    s.encoding.label()
                ),
                &format!(
                    "imported {} ({}): {} rows, encoding {}{dates}",
                    s.file_name,
                    s.kind,
                    s.rows_imported,
                    s.encoding.label()
                ),
            );
            if let Some(c) = &s.records {
                ui.say(
                    &format!("{}：新增 {}，更新 {}，未变 {}", s.kind, c.added, c.updated, c.unchanged),
                    &format!("{}: {} added, {} updated, {} unchanged", s.kind, c.added, c.updated, c.unchanged),
                );
            } else {
                ui.say(
                    &format!(
                        "门店·日：新增 {}，替换 {}；销售额 {} 元",
                        s.pairs_new,
                        s.pairs_replaced,
                        hundredths(s.revenue)
                    ),
                    &format!(
                        "store-days: {} new, {} replaced; revenue {} yuan",
                        s.pairs_new,
                        s.pairs_replaced,
                        hundredths(s.revenue)
                    ),
                );
            }
            if s.rows_rejected > 0 {
                let path = s.rejects_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
                ui.say(
                    &format!("{} 行有误已剔除，存于 {path}；修正后用 --add 导入该文件", s.rows_rejected),
                    &format!(
                        "{} bad rows set aside in {path}; fix them and import that file with --add",
                        s.rows_rejected
                    ),
                );
                print_errors(&s.errors, ui);
            }
            let (read, all) = (s.read_time.as_secs_f64(), s.duration.as_secs_f64());
            ui.say(
                &format!("耗时 {all:.2} 秒（读取校验 {read:.2} 秒，写入 {:.2} 秒）", all - read),
                &format!("took {all:.2} s (reading {read:.2} s, writing {:.2} s)", all - read),
            );
            Ok(())
        }
        Outcome::AlreadyImported => {
            ui.say(
                &format!("{} 已导入过（批次 {}），未做任何更改", s.file_name, s.batch_id.unwrap_or(0)),
                &format!("{} was already imported (batch {}); nothing changed", s.file_name, s.batch_id.unwrap_or(0)),
            );
            Ok(())
        }
        Outcome::Refused => {
            print_errors(&s.errors, ui);
            eprintln!(
                "{}",
                lang.pick(
                    &format!("{} 有 {} 行错误（共读 {} 行），整个文件未导入。可加 --skip-bad-rows 只导入正确的行。", s.file_name, s.errors.total, s.rows_read),
                    &format!("{} has {} bad rows (of {} read); nothing was imported. Add --skip-bad-rows to import the good rows only.", s.file_name, s.errors.total, s.rows_read),
                )
            );
            if let Some(p) = &s.error_report_path {
                eprintln!("{} {}", lang.pick("错误报告：", "error report:"), p.display());
            }
            Err(Failure::BadInput(String::new()))
        }
    }
}

pub(crate) fn print_errors(errors: &opsdesk_ingest::ErrorReport, ui: &Ui) {
    let lang = ui.lang;
    let mut t = Table::new(vec![
        lang.pick("行号", "row").into(),
        lang.pick("列", "column").into(),
        lang.pick("值", "value").into(),
        lang.pick("原因", "reason").into(),
    ]);
    for e in errors.errors.iter().take(SHOWN_ERRORS) {
        let value: String = e.value.chars().take(40).collect();
        t.row(vec![e.row.to_string(), e.column.clone(), value, e.reason.clone()]);
    }
    eprint!("{}", t.render());
    if errors.total > SHOWN_ERRORS as u64 {
        let more = errors.total - SHOWN_ERRORS as u64;
        eprintln!(
            "{}",
            lang.pick(
                &format!("…… 另有 {more} 条（--error-report 可写出前 1000 条）"),
                &format!("… and {more} more (--error-report writes the first 1,000)")
            )
        );
    }
}

pub(crate) fn print_history(list: &[ImportRecord], ui: &Ui) {
    let lang = ui.lang;
    let mut t = Table::new(
        [
            ("批次", "batch"),
            ("时间", "when (UTC)"),
            ("人", "who"),
            ("类型", "kind"),
            ("文件", "file"),
            ("结果", "result"),
            ("行", "rows"),
            ("剔除", "rejected"),
            ("新增店日", "new days"),
            ("替换店日", "replaced"),
            ("毫秒", "ms"),
            ("sha256", "sha256"),
        ]
        .iter()
        .map(|(zh, en)| lang.pick(zh, en).to_string())
        .collect(),
    );
    for r in list {
        t.row(vec![
            r.id.to_string(),
            r.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            r.actor.clone(),
            r.kind.clone(),
            r.file_name.clone(),
            r.result.clone(),
            r.rows_imported.to_string(),
            r.rows_rejected.to_string(),
            r.pairs_new.to_string(),
            r.pairs_replaced.to_string(),
            r.duration_ms.to_string(),
            r.sha256.chars().take(12).collect(),
        ]);
    }
    print!("{}", t.render());
}
