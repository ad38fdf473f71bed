//! `opsdesk report …`: the reports on the terminal, as CSV or as JSON, all
//! drawn from one [`ReportTable`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use opsdesk_db::{Db, Scope};
use opsdesk_domain::calendar::{month_bounds, month_key};
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::reports::table::{Cell, Kind, ReportTable};
use opsdesk_domain::reports::weekly::IsoWeek;
use opsdesk_web::reports::{self, ReportError, ReportRequest};

use crate::table::Table;
use crate::{Failure, Ui};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Csv,
    Json,
    /// A formatted workbook (to --out, or REPORT.xlsx in the current folder).
    Xlsx,
}

#[derive(Args)]
pub(crate) struct Output {
    /// table (default on a terminal), csv, json or xlsx.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `YYYY-MM` → `yyyymm`.
pub(crate) fn parse_month(s: &str) -> Result<i64, String> {
    opsdesk_domain::calendar::parse_month(s).ok_or_else(|| format!("'{s}' is not a month (YYYY-MM)"))
}

fn parse_week(s: &str) -> Result<IsoWeek, String> {
    IsoWeek::parse(s).ok_or_else(|| format!("'{s}' is not an ISO week (YYYY-Www, e.g. 2026-W44)"))
}

/// An optional range of months, both ends included.
#[derive(Args)]
pub(crate) struct MonthRange {
    /// First month shown.
    #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
    from: Option<i64>,
    /// Last month shown.
    #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
    to: Option<i64>,
}

#[derive(Subcommand)]
pub(crate) enum ReportCommand {
    /// R1, the daily report: per store, by region and for the company.
    Daily {
        /// The business date (default: the last date with sales).
        #[arg(long)]
        date: Option<NaiveDate>,
        #[command(flatten)]
        output: Output,
    },
    /// The weekly report by ISO week: per store, by region and for the company, with WoW and YoY.
    Weekly {
        /// The ISO week, e.g. 2026-W44 (default: the week of the last date with sales).
        #[arg(long, value_parser = parse_week, value_name = "YYYY-Www")]
        week: Option<IsoWeek>,
        #[command(flatten)]
        output: Output,
    },
    /// R2, the monthly report per store, with MoM, YoY, revenue per staff and per m².
    Monthly {
        #[command(flatten)]
        months: MonthRange,
        #[command(flatten)]
        output: Output,
    },
    /// R3, the traffic and AOV monitor: store × day against the same weekday of eight weeks.
    Traffic {
        /// The month (default: the month of the last date with sales).
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        month: Option<i64>,
        #[command(flatten)]
        output: Output,
    },
    /// The ten efficiencies (十效) per store over a period, by region and for the company.
    Efficiency {
        /// First day (default: the first of the month of the last date with sales).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day (default: the last date with sales).
        #[arg(long)]
        to: Option<NaiveDate>,
        #[command(flatten)]
        output: Output,
    },
    /// Region comparison for a month, ranked by revenue.
    Regions {
        /// The month (default: the month of the last date with sales).
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        month: Option<i64>,
        #[command(flatten)]
        output: Output,
    },
    /// R4, categories per month: share, margin, rank, ABC class.
    Category {
        #[command(flatten)]
        months: MonthRange,
        #[command(flatten)]
        output: Output,
    },
    /// R5, member RFM scores and segments over the 365 days to a date.
    Rfm {
        /// The as-of date (default: the last date with sales).
        #[arg(long)]
        asof: Option<NaiveDate>,
        #[command(flatten)]
        output: Output,
    },
    /// R5, the eight RFM segments with member counts and spend.
    RfmSegments {
        #[arg(long)]
        asof: Option<NaiveDate>,
        #[command(flatten)]
        output: Output,
    },
    /// The day's pack: several reports at once into a folder, a file each
    /// named as the report (r1_daily.csv, r5_rfm_members.csv …).
    Pack(Pack),
}

/// The reports a pack can hold, by their command names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PackReport {
    Daily,
    Weekly,
    Monthly,
    Traffic,
    Efficiency,
    Regions,
    Category,
    Rfm,
    RfmSegments,
}

#[derive(Args)]
pub(crate) struct Pack {
    /// The folder the files go to (made if missing).
    #[arg(long)]
    out: PathBuf,
    /// The reports, comma-separated (default: all nine).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<PackReport>,
    /// The pack's date: the daily report's, and the week, the month and the
    /// RFM as-of date unless given apart (default: the last date with sales).
    #[arg(long)]
    date: Option<NaiveDate>,
    /// The weekly report's ISO week (default: the week of --date).
    #[arg(long, value_parser = parse_week, value_name = "YYYY-Www")]
    week: Option<IsoWeek>,
    /// The month of the traffic monitor, the region comparison and the
    /// efficiencies (default: the month of --date; the efficiencies run to
    /// --date when it falls in that month).
    #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
    month: Option<i64>,
    /// The months of the monthly and category reports (default: every month).
    #[command(flatten)]
    months: MonthRange,
    /// The RFM reports' as-of date (default: --date).
    #[arg(long)]
    asof: Option<NaiveDate>,
    /// csv, json or xlsx.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
}

impl Pack {
    /// What each report of the pack asks the report service, in the order given.
    fn requests(&self) -> Vec<(PackReport, ReportRequest)> {
        let all = [
            PackReport::Daily,
            PackReport::Weekly,
            PackReport::Monthly,
            PackReport::Traffic,
            PackReport::Efficiency,
            PackReport::Regions,
            PackReport::Category,
            PackReport::Rfm,
            PackReport::RfmSegments,
        ];
        let mut chosen: Vec<PackReport> = if self.only.is_empty() { all.to_vec() } else { self.only.clone() };
        let mut seen = Vec::with_capacity(chosen.len());
        chosen.retain(|r| {
            let first = !seen.contains(r);
            seen.push(*r);
            first
        });
        let month = self.month.or(self.date.map(month_key));
        let (from, to) = efficiency_period(self.date, self.month);
        let asof = self.asof.or(self.date);
        chosen.into_iter().map(|r| (r, r.request(self, month, (from, to), asof))).collect()
    }
}

impl PackReport {
    /// The order a pack makes its reports in: the longest first.
    fn cost_rank(self) -> u8 {
        match self {
            PackReport::Rfm => 0,
            PackReport::Traffic => 1,
            PackReport::Monthly => 2,
            PackReport::Category => 3,
            PackReport::Weekly => 4,
            PackReport::Daily => 5,
            PackReport::Efficiency => 6,
            PackReport::Regions => 7,
            PackReport::RfmSegments => 8,
        }
    }

    /// The report's command name, as `--only` takes it.
    fn name(self) -> String {
        self.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
    }

    fn request(
        self,
        pack: &Pack,
        month: Option<i64>,
        (from, to): (Option<NaiveDate>, Option<NaiveDate>),
        asof: Option<NaiveDate>,
    ) -> ReportRequest {
        let (first, last) = (pack.months.from, pack.months.to);
        match self {
            PackReport::Daily => ReportRequest::Daily { date: pack.date },
            PackReport::Weekly => ReportRequest::Weekly { week: pack.week.or(pack.date.map(IsoWeek::of)) },
            PackReport::Monthly => ReportRequest::Monthly { from: first, to: last },
            PackReport::Traffic => ReportRequest::Traffic { month },
            PackReport::Efficiency => ReportRequest::Efficiency { from, to },
            PackReport::Regions => ReportRequest::Regions { month },
            PackReport::Category => ReportRequest::Category { from: first, to: last },
            PackReport::Rfm => ReportRequest::Rfm { asof },
            PackReport::RfmSegments => ReportRequest::RfmSegments { asof },
        }
    }
}

/// The efficiencies' period in a pack: the month to the pack's date when
/// the date falls in it, else the whole month; with neither, the service's
/// default (the month of the last date with sales, to that date).
fn efficiency_period(date: Option<NaiveDate>, month: Option<i64>) -> (Option<NaiveDate>, Option<NaiveDate>) {
    match (date, month.and_then(month_bounds)) {
        (Some(d), Some((first, last))) if d >= first && d <= last => (Some(first), Some(d)),
        (_, Some((first, last))) => (Some(first), Some(last)),
        (date, None) => (None, date),
    }
}

impl ReportCommand {
    /// The request for the report service, and where its output goes; a
    /// pack, which makes several, as it is.
    fn split(self) -> Result<(ReportRequest, Output), Pack> {
        Ok(match self {
            ReportCommand::Daily { date, output } => (ReportRequest::Daily { date }, output),
            ReportCommand::Weekly { week, output } => (ReportRequest::Weekly { week }, output),
            ReportCommand::Monthly { months, output } => {
                (ReportRequest::Monthly { from: months.from, to: months.to }, output)
            }
            ReportCommand::Traffic { month, output } => (ReportRequest::Traffic { month }, output),
            ReportCommand::Efficiency { from, to, output } => (ReportRequest::Efficiency { from, to }, output),
            ReportCommand::Regions { month, output } => (ReportRequest::Regions { month }, output),
            ReportCommand::Category { months, output } => {
                (ReportRequest::Category { from: months.from, to: months.to }, output)
            }
            ReportCommand::Rfm { asof, output } => (ReportRequest::Rfm { asof }, output),
            ReportCommand::RfmSegments { asof, output } => (ReportRequest::RfmSegments { asof }, output),
            ReportCommand::Pack(pack) => return Err(pack),
        })
    }
}

pub(crate) fn failure(e: ReportError, lang: Lang) -> Failure {
    if e.is_bad_input() { Failure::BadInput(e.message(lang)) } else { Failure::Other(e.message(lang)) }
}

pub(crate) async fn run(db: &Db, scope: &Scope, cmd: ReportCommand, ui: &Ui) -> Result<(), Failure> {
    let (req, output) = match cmd.split() {
        Ok(one) => one,
        Err(pack) => return run_pack(db, scope, pack, ui).await,
    };
    let report = reports::build(db, scope, &req).await.map_err(|e| failure(e, ui.lang))?;
    if let Some(note) = report.note(ui.lang) {
        eprintln!("{note}");
    }
    emit(&report.table, output, ui)?;
    // The command ends here: a long report's rows go back with the
    // process's memory, not freed one by one.
    std::mem::forget(report);
    Ok(())
}

/// The report as an aligned terminal table, headings in the user's language.
pub(crate) fn text_table(t: &ReportTable, lang: Lang) -> String {
    let right: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !matches!(c.kind, Kind::Text | Kind::Date))
        .map(|(i, _)| i)
        .collect();
    let mut table = Table::new(t.columns.iter().map(|c| c.heading(lang).to_string()).collect()).right_align(&right);
    t.rows.for_each(|r| table.row(r.iter().map(Cell::text).collect()));
    for r in &t.totals {
        table.row(r.iter().map(Cell::text).collect());
    }
    table.render()
}

/// The report in a format: the bytes of a file or of standard output.
fn render(t: &ReportTable, format: Format, lang: Lang) -> Result<Vec<u8>, Failure> {
    Ok(match format {
        Format::Table => format!("{}\n{}", t.title(lang), text_table(t, lang)).into_bytes(),
        Format::Csv => t.to_csv().into_bytes(),
        Format::Json => format!("{:#}\n", reports::table_json(t)).into_bytes(),
        Format::Xlsx => {
            opsdesk_web::export::xlsx(t, lang, chrono::Local::now()).map_err(|e| Failure::Other(e.to_string()))?
        }
    })
}

pub(crate) fn emit(t: &ReportTable, output: Output, ui: &Ui) -> Result<(), Failure> {
    let terminal = output.out.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let format = output.format.unwrap_or(if terminal { Format::Table } else { Format::Csv });
    // A workbook is never written to a terminal.
    let out = output.out.or_else(|| (format == Format::Xlsx).then(|| PathBuf::from(format!("{}.xlsx", t.name))));
    let bytes = render(t, format, ui.lang)?;
    match out {
        Some(path) => {
            std::fs::write(&path, bytes).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?;
            if format == Format::Xlsx {
                ui.say(&format!("已写出 {}", path.display()), &format!("wrote {}", path.display()));
            }
        }
        None => {
            let _ = std::io::stdout().lock().write_all(&bytes);
        }
    }
    Ok(())
}

/// How many reports of a pack are made at once: one per core. Each may
/// hold a pooled connection while it asks for another, and the pool has
/// four.
const PACK_AT_ONCE: usize = 2;

/// A pack's report, made and written: its file, rows and note.
type Made = Result<(PathBuf, usize, Option<String>), NotMade>;

/// A pack's report that was not made: its name and why.
struct NotMade {
    name: String,
    message: String,
    bad_input: bool,
}

/// `opsdesk report pack`: the reports made two at a time, each written to
/// its own file as soon as it is made. A report that cannot be made does
/// not stop the others; the command then names it and fails.
async fn run_pack(db: &Db, scope: &Scope, pack: Pack, ui: &Ui) -> Result<(), Failure> {
    if pack.format == Format::Table {
        return Err(Failure::BadInput(
            ui.lang
                .pick(
                    "报表包写成文件：--format 取 csv、json 或 xlsx",
                    "a pack is written as files: --format csv, json or xlsx",
                )
                .into(),
        ));
    }
    std::fs::create_dir_all(&pack.out).map_err(|e| Failure::Other(format!("{}: {e}", pack.out.display())))?;
    // The longest first (the member list), so that the others share the
    // second core meanwhile; they are printed in the order asked.
    let mut requests: Vec<(usize, PackReport, ReportRequest)> =
        pack.requests().into_iter().enumerate().map(|(i, (r, req))| (i, r, req)).collect();
    requests.sort_by_key(|(_, r, _)| r.cost_rank());
    let queue = Arc::new(Queue { requests, next: AtomicUsize::new(0) });
    let (format, lang) = (pack.format, ui.lang);
    // This task takes the first report before the others start: made on a
    // spawned task instead, the member list took 6 ms more at 1 M lines
    // (its memory then comes from another thread's heap).
    let first = queue.next.fetch_add(1, Ordering::Relaxed);
    let others: Vec<_> = (1..PACK_AT_ONCE.min(queue.requests.len()))
        .map(|_| {
            let (db, scope, queue, dir) = (db.clone(), scope.clone(), queue.clone(), pack.out.clone());
            tokio::spawn(async move {
                let first = queue.next.fetch_add(1, Ordering::Relaxed);
                queue.work(first, &db, &scope, format, &dir, lang).await
            })
        })
        .collect();
    let mut made = queue.work(first, db, scope, format, &pack.out, lang).await;
    for w in others {
        made.extend(w.await.map_err(|e| Failure::Other(format!("a report of the pack failed: {e}")))?);
    }
    made.sort_by_key(|(i, _)| *i);
    let mut failed: Vec<NotMade> = Vec::new();
    for (_, m) in made {
        match m {
            Ok((path, rows, note)) => {
                ui.say(
                    &format!("已写出 {}（{rows} 行）", path.display()),
                    &format!("wrote {} ({rows} rows)", path.display()),
                );
                if let Some(note) = note {
                    eprintln!("{}: {note}", path.display());
                }
            }
            Err(f) => failed.push(f),
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    let bad_input = failed.iter().all(|f| f.bad_input);
    let lines: Vec<String> = failed.iter().map(|f| format!("{}: {}", f.name, f.message)).collect();
    let head = ui.lang.pick("这些报表没有做出：", "these reports were not made:");
    let message = format!("{head}\n  {}", lines.join("\n  "));
    Err(if bad_input { Failure::BadInput(message) } else { Failure::Other(message) })
}

/// A pack's reports, taken in turn by its workers.
struct Queue {
    /// Each report with its place in the pack, in the order they are made.
    requests: Vec<(usize, PackReport, ReportRequest)>,
    next: AtomicUsize,
}

impl Queue {
    /// Makes the report `first` (taken from `next`) and then others until
    /// none is left: each with its place in the pack.
    async fn work(
        &self,
        first: usize,
        db: &Db,
        scope: &Scope,
        format: Format,
        dir: &Path,
        lang: Lang,
    ) -> Vec<(usize, Made)> {
        let mut made = Vec::new();
        let mut i = first;
        while let Some((place, report, req)) = self.requests.get(i) {
            made.push((*place, make_one(db, scope, (report.name(), req), format, dir, lang).await));
            i = self.next.fetch_add(1, Ordering::Relaxed);
        }
        made
    }
}

/// One report of a pack, made and written to `dir`.
async fn make_one(
    db: &Db,
    scope: &Scope,
    (name, req): (String, &ReportRequest),
    format: Format,
    dir: &Path,
    lang: Lang,
) -> Made {
    let report = match reports::build(db, scope, req).await {
        Ok(r) => r,
        Err(e) => return Err(NotMade { name, message: e.message(lang), bad_input: e.is_bad_input() }),
    };
    let ext = match format {
        Format::Json => "json",
        Format::Xlsx => "xlsx",
        Format::Table | Format::Csv => "csv",
    };
    let path = dir.join(format!("{}.{ext}", report.table.name));
    let written = render(&report.table, format, lang)
        .map_err(Failure::message)
        .and_then(|bytes| std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display())));
    if let Err(message) = written {
        return Err(NotMade { name, message, bad_input: false });
    }
    let (rows, note) = (report.table.rows.len(), report.note(lang));
    // The command ends soon: a long report's rows go back with the
    // process's memory, not freed one by one.
    std::mem::forget(report);
    Ok((path, rows, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse() {
        assert_eq!(parse_month("2026-10"), Ok(202610));
        assert!(parse_month("2026-13").is_err());
    }
}
