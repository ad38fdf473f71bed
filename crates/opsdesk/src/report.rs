//! `opsdesk report …`: reports on the terminal, as CSV or as JSON.

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Subcommand, ValueEnum};
use opsdesk_db::{Db, Scope};
use opsdesk_domain::money::hundredths;
use opsdesk_domain::reports::daily::{DailyReport, DailyRow, daily_report};
use serde_json::json;

use crate::table::Table;
use crate::{Failure, Ui};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum ReportCommand {
    /// R1, the daily report: per store, by region and for the company.
    Daily {
        /// The business date (default: the last date with sales).
        #[arg(long)]
        date: Option<NaiveDate>,
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn opt(v: Option<i64>) -> String {
    v.map(hundredths).unwrap_or_default()
}

/// The columns of R1, as `bench/REPORTS.md` §8 names them.
const R1_HEADER: &str = "store_code,date,revenue,gross_profit,margin_pct,tickets,aov,items_per_ticket,member_revenue_share_pct,mtd_revenue,lw_revenue,lw_pct,ly_revenue,ly_pct";

fn csv_line(r: &DailyRow) -> String {
    [
        r.label.clone(),
        r.date.to_string(),
        hundredths(r.revenue),
        hundredths(r.gross_profit),
        opt(r.margin_pct),
        r.tickets.to_string(),
        opt(r.aov),
        opt(r.items_per_ticket),
        opt(r.member_revenue_share_pct),
        hundredths(r.mtd_revenue),
        hundredths(r.lw_revenue),
        opt(r.lw_pct),
        hundredths(r.ly_revenue),
        opt(r.ly_pct),
    ]
    .join(",")
}

fn json_row(r: &DailyRow) -> serde_json::Value {
    let n = |v: Option<i64>| v.map(|x| json!(hundredths(x)));
    json!({
        "label": r.label, "date": r.date.to_string(), "revenue": hundredths(r.revenue),
        "gross_profit": hundredths(r.gross_profit), "margin_pct": n(r.margin_pct), "tickets": r.tickets,
        "aov": n(r.aov), "items_per_ticket": n(r.items_per_ticket),
        "member_revenue_share_pct": n(r.member_revenue_share_pct), "mtd_revenue": hundredths(r.mtd_revenue),
        "lw_revenue": hundredths(r.lw_revenue), "lw_pct": n(r.lw_pct),
        "ly_revenue": hundredths(r.ly_revenue), "ly_pct": n(r.ly_pct),
    })
}

/// The daily report as a terminal table: stores, then region totals, then the company.
pub(crate) fn daily_table(rep: &DailyReport, ui: &Ui) -> String {
    let l = ui.lang;
    let header = [
        ("门店", "store"),
        ("销售额", "revenue"),
        ("毛利率%", "margin %"),
        ("客流", "tickets"),
        ("客单价", "AOV"),
        ("客单量", "items/tkt"),
        ("会员占比%", "member %"),
        ("月累计", "MTD"),
        ("周同比%", "vs LW %"),
        ("年同比%", "vs LY %"),
    ];
    let mut t = Table::new(header.iter().map(|(zh, en)| l.pick(zh, en).to_string()).collect())
        .right_align(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let cells = |label: String, r: &DailyRow| {
        vec![
            label,
            hundredths(r.revenue),
            opt(r.margin_pct),
            r.tickets.to_string(),
            opt(r.aov),
            opt(r.items_per_ticket),
            opt(r.member_revenue_share_pct),
            hundredths(r.mtd_revenue),
            opt(r.lw_pct),
            opt(r.ly_pct),
        ]
    };
    for r in &rep.stores {
        t.row(cells(r.label.clone(), r));
    }
    for r in &rep.regions {
        t.row(cells(format!("{} {}", l.pick("合计", "Σ"), r.label), r));
    }
    t.row(cells(l.pick("公司合计", "Σ company").to_string(), &rep.company));
    t.render()
}

pub(crate) async fn daily(
    db: &Db,
    scope: &Scope,
    date: Option<NaiveDate>,
    ui: &Ui,
) -> Result<Option<DailyReport>, Failure> {
    let lang = ui.lang;
    let date = match date {
        Some(d) => d,
        None => match db.last_sales_date(scope).await.map_err(|e| Failure::Other(e.message(lang)))? {
            Some(d) => d,
            None => return Ok(None),
        },
    };
    let inputs = db.daily_inputs(scope, date).await.map_err(|e| Failure::Other(e.message(lang)))?;
    Ok(Some(daily_report(date, &inputs)))
}

pub(crate) async fn run(db: &Db, scope: &Scope, cmd: ReportCommand, ui: &Ui) -> Result<(), Failure> {
    let lang = ui.lang;
    match cmd {
        ReportCommand::Daily { date, format, out } => {
            let Some(rep) = daily(db, scope, date, ui).await? else {
                return Err(Failure::BadInput(
                    lang.pick("还没有销售数据：请先导入", "no sales yet: import some first").into(),
                ));
            };
            let format = format.unwrap_or(if out.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                Format::Table
            } else {
                Format::Csv
            });
            let text = match format {
                Format::Table => daily_table(&rep, ui),
                Format::Csv => {
                    let mut s = format!("{R1_HEADER}\n");
                    for r in &rep.stores {
                        s.push_str(&csv_line(r));
                        s.push('\n');
                    }
                    s
                }
                Format::Json => {
                    let v = json!({
                        "report": "daily", "date": rep.company.date.to_string(),
                        "stores": rep.stores.iter().map(json_row).collect::<Vec<_>>(),
                        "regions": rep.regions.iter().map(json_row).collect::<Vec<_>>(),
                        "company": json_row(&rep.company),
                    });
                    format!("{v:#}\n")
                }
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?
                }
                None => {
                    let mut o = std::io::stdout().lock();
                    let _ = o.write_all(text.as_bytes());
                }
            }
            Ok(())
        }
    }
}
