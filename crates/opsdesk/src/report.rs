//! `opsdesk report …`: the reports on the terminal, as CSV or as JSON, all
//! drawn from one [`ReportTable`].

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use opsdesk_db::{Db, Scope};
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::reports::table::{Kind, ReportTable};
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
}

impl ReportCommand {
    /// The request for the report service, and where its output goes.
    fn split(self) -> (ReportRequest, Output) {
        match self {
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
        }
    }
}

pub(crate) fn failure(e: ReportError, lang: Lang) -> Failure {
    if e.is_bad_input() { Failure::BadInput(e.message(lang)) } else { Failure::Other(e.message(lang)) }
}

pub(crate) async fn run(db: &Db, scope: &Scope, cmd: ReportCommand, ui: &Ui) -> Result<(), Failure> {
    let (req, output) = cmd.split();
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
pub(crate) fn text_table(t: &ReportTable, ui: &Ui) -> String {
    let right: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !matches!(c.kind, Kind::Text | Kind::Date))
        .map(|(i, _)| i)
        .collect();
    let mut table = Table::new(t.columns.iter().map(|c| c.heading(ui.lang).to_string()).collect()).right_align(&right);
    for r in t.rows.iter().chain(&t.totals) {
        table.row(r.iter().map(|c| c.text()).collect());
    }
    table.render()
}

pub(crate) fn emit(t: &ReportTable, output: Output, ui: &Ui) -> Result<(), Failure> {
    let terminal = output.out.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let format = output.format.unwrap_or(if terminal { Format::Table } else { Format::Csv });
    if format == Format::Xlsx {
        let path = output.out.unwrap_or_else(|| PathBuf::from(format!("{}.xlsx", t.name)));
        let bytes =
            opsdesk_web::export::xlsx(t, ui.lang, chrono::Local::now()).map_err(|e| Failure::Other(e.to_string()))?;
        std::fs::write(&path, bytes).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?;
        ui.say(&format!("已写出 {}", path.display()), &format!("wrote {}", path.display()));
        return Ok(());
    }
    let text = match format {
        Format::Table => format!("{}\n{}", t.title(ui.lang), text_table(t, ui)),
        Format::Csv => t.to_csv(),
        Format::Json => format!("{:#}\n", reports::table_json(t)),
        Format::Xlsx => unreachable!("written above"),
    };
    match output.out {
        Some(path) => std::fs::write(&path, text).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?,
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    Ok(())
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
