//! `opsdesk report …`: the reports on the terminal, as CSV or as JSON, all
//! drawn from one [`ReportTable`].

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use opsdesk_db::{Db, DbError, Scope};
use opsdesk_domain::calendar::month_key;
use opsdesk_domain::reports::category::{category_report, category_table};
use opsdesk_domain::reports::daily::{DailyReport, daily_report, daily_table};
use opsdesk_domain::reports::efficiency::efficiency_table;
use opsdesk_domain::reports::monthly::{month_label, monthly_report, monthly_table};
use opsdesk_domain::reports::regions::regions_table;
use opsdesk_domain::reports::rfm::{rfm, rfm_members_table, rfm_segments_table, segments};
use opsdesk_domain::reports::table::{Kind, ReportTable};
use opsdesk_domain::reports::traffic::{traffic_rows, traffic_table};
use opsdesk_domain::reports::weekly::{IsoWeek, weekly_table};
use serde_json::{Map, Value, json};

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
fn parse_month(s: &str) -> Result<i64, String> {
    let d = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a month (YYYY-MM)"))?;
    Ok(month_key(d))
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

impl MonthRange {
    fn contains(&self, month: i64) -> bool {
        self.from.is_none_or(|f| month >= f) && self.to.is_none_or(|t| month <= t)
    }
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

fn db_failure(ui: &Ui) -> impl Fn(DbError) -> Failure + '_ {
    move |e| Failure::Other(e.message(ui.lang))
}

async fn last_date(db: &Db, scope: &Scope, ui: &Ui) -> Result<NaiveDate, Failure> {
    db.last_sales_date(scope).await.map_err(db_failure(ui))?.ok_or_else(|| {
        Failure::BadInput(ui.lang.pick("还没有销售数据：请先导入", "no sales yet: import some first").into())
    })
}

/// The daily report for a date (default: the last date with sales), or
/// `None` when there are no sales at all.
pub(crate) async fn daily(
    db: &Db,
    scope: &Scope,
    date: Option<NaiveDate>,
    ui: &Ui,
) -> Result<Option<DailyReport>, Failure> {
    let date = match date {
        Some(d) => d,
        None => match db.last_sales_date(scope).await.map_err(db_failure(ui))? {
            Some(d) => d,
            None => return Ok(None),
        },
    };
    let inputs = db.daily_inputs(scope, date).await.map_err(db_failure(ui))?;
    Ok(Some(daily_report(date, &inputs)))
}

/// Refuses or warns when the days a report needs line detail for came as summaries.
async fn check_detail(
    db: &Db,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    empty: bool,
    ui: &Ui,
) -> Result<(), Failure> {
    let summary = db.summary_days(scope, from, to).await.map_err(db_failure(ui))?;
    if summary == 0 {
        return Ok(());
    }
    let (zh, en) = (
        format!("{summary} 个门店·日的数据来自日汇总，没有品类和会员明细"),
        format!("{summary} store-days came as daily summaries without category or member detail"),
    );
    if empty {
        return Err(Failure::BadInput(format!(
            "{}{}",
            ui.lang.pick(&zh, &en),
            ui.lang.pick("：无法出此报表；请导入销售明细", ": this report cannot be made from them; import POS lines")
        )));
    }
    eprintln!(
        "{}",
        ui.lang.pick(&format!("注意：{zh}，不计入本表"), &format!("note: {en}; they are not in this report"))
    );
    Ok(())
}

/// The first day of a month that `parse_month` accepted.
fn first_of(month: i64) -> NaiveDate {
    opsdesk_domain::calendar::month_bounds(month).map(|b| b.0).unwrap_or_default()
}

/// The last day of a month that `parse_month` accepted.
fn last_of(month: i64) -> NaiveDate {
    opsdesk_domain::calendar::month_bounds(month).map(|b| b.1).unwrap_or_default()
}

pub(crate) async fn run(db: &Db, scope: &Scope, cmd: ReportCommand, ui: &Ui) -> Result<(), Failure> {
    let (table, output) = match cmd {
        ReportCommand::Daily { date, output } => match daily(db, scope, date, ui).await? {
            Some(rep) => (daily_table(&rep), output),
            None => {
                return Err(Failure::BadInput(
                    ui.lang.pick("还没有销售数据：请先导入", "no sales yet: import some first").into(),
                ));
            }
        },
        ReportCommand::Weekly { week, output } => {
            let week = match week {
                Some(w) => w,
                None => IsoWeek::of(last_date(db, scope, ui).await?),
            };
            let inputs = db.weekly_inputs(scope, week).await.map_err(db_failure(ui))?;
            (weekly_table(week, &inputs), output)
        }
        ReportCommand::Monthly { months: range, output } => {
            let MonthRange { from, to } = range;
            // Growth reaches back a year before the first month shown.
            let (lo, hi) = (from.map_or(0, |f| f - 100), to.unwrap_or(999_912));
            let months = db.store_months(scope, lo, hi).await.map_err(db_failure(ui))?;
            let rows: Vec<_> = monthly_report(&months).into_iter().filter(|r| range.contains(r.month)).collect();
            (monthly_table(&rows), output)
        }
        ReportCommand::Traffic { month, output } => {
            let month = match month {
                Some(m) => m,
                None => month_key(last_date(db, scope, ui).await?),
            };
            let (from, to) = (first_of(month), last_of(month));
            let days = db.store_days(scope, from - chrono::Duration::days(56), to).await.map_err(db_failure(ui))?;
            let stores: Vec<(String, Vec<_>)> = days
                .into_iter()
                .map(|(code, days)| (code, traffic_rows(&days, from, to)))
                .filter(|(_, rows)| !rows.is_empty())
                .collect();
            (traffic_table(&month_label(month), &stores), output)
        }
        ReportCommand::Efficiency { from, to, output } => {
            let to = match to {
                Some(d) => d,
                None => last_date(db, scope, ui).await?,
            };
            let from = from.unwrap_or_else(|| opsdesk_domain::calendar::month_start(to));
            if from > to {
                return Err(Failure::BadInput(ui.lang.pick("--from 晚于 --to", "--from is after --to").into()));
            }
            let inputs = db.efficiency_inputs(scope, from, to).await.map_err(db_failure(ui))?;
            (efficiency_table(from, to, &inputs), output)
        }
        ReportCommand::Regions { month, output } => {
            let month = match month {
                Some(m) => m,
                None => month_key(last_date(db, scope, ui).await?),
            };
            let stores = db.region_stores(scope, month).await.map_err(db_failure(ui))?.unwrap_or_default();
            (regions_table(&month_label(month), &stores), output)
        }
        ReportCommand::Category { months: range, output } => {
            let MonthRange { from, to } = range;
            // Bounds every database accepts.
            let (earliest, latest) = (NaiveDate::from_ymd_opt(1900, 1, 1), NaiveDate::from_ymd_opt(9999, 12, 31));
            let span =
                (from.map(first_of).or(earliest).unwrap_or_default(), to.map(last_of).or(latest).unwrap_or_default());
            let cats: Vec<_> = db
                .category_months(scope, span.0, span.1)
                .await
                .map_err(db_failure(ui))?
                .into_iter()
                .filter(|c| range.contains(c.month))
                .collect();
            check_detail(db, scope, span.0, span.1, cats.is_empty(), ui).await?;
            (category_table(&category_report(&cats)), output)
        }
        ReportCommand::Rfm { asof, output } => (rfm_table(db, scope, asof, false, ui).await?, output),
        ReportCommand::RfmSegments { asof, output } => (rfm_table(db, scope, asof, true, ui).await?, output),
    };
    emit(&table, output, ui)
}

async fn rfm_table(
    db: &Db,
    scope: &Scope,
    asof: Option<NaiveDate>,
    segments_only: bool,
    ui: &Ui,
) -> Result<ReportTable, Failure> {
    let asof = match asof {
        Some(d) => d,
        None => last_date(db, scope, ui).await?,
    };
    let windows = db.member_windows(scope, asof).await.map_err(db_failure(ui))?;
    check_detail(db, scope, asof - chrono::Duration::days(364), asof, windows.is_empty(), ui).await?;
    let rows = rfm(windows);
    Ok(if segments_only { rfm_segments_table(asof, &segments(&rows)) } else { rfm_members_table(asof, &rows) })
}

fn json_value(t: &ReportTable) -> Value {
    let row = |cells: &Vec<opsdesk_domain::reports::table::Cell>| -> Value {
        let mut m = Map::new();
        for (c, cell) in t.columns.iter().zip(cells) {
            let v = match (c.kind, cell.number()) {
                (Kind::Text | Kind::Date, _) | (_, None) if cell.text().is_empty() => Value::Null,
                (Kind::Text | Kind::Date, _) | (_, None) => Value::String(cell.text()),
                (_, Some(n)) => json!(n),
            };
            m.insert(c.key.to_string(), v);
        }
        Value::Object(m)
    };
    json!({
        "report": t.name,
        "title": t.title_en,
        "rows": t.rows.iter().map(row).collect::<Vec<_>>(),
        "totals": t.totals.iter().map(row).collect::<Vec<_>>(),
    })
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

fn emit(t: &ReportTable, output: Output, ui: &Ui) -> Result<(), Failure> {
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
        Format::Json => format!("{:#}\n", json_value(t)),
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
    use chrono::Datelike;

    #[test]
    fn months_parse_and_bound() {
        assert_eq!(parse_month("2026-10"), Ok(202610));
        assert!(parse_month("2026-13").is_err());
        assert_eq!(last_of(202612), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        assert_eq!(last_of(202402), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(first_of(202610).day(), 1);
    }
}
