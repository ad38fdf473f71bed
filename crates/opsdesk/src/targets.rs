//! `opsdesk targets …`: make a plan, show it, edit and lock cells, and take
//! it through a spreadsheet and back.

use std::io::Write;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use clap::{Args, Subcommand, ValueEnum};
use opsdesk_db::targets::{CellRef, Grain, NewPlan, Plan};
use opsdesk_db::{Db, Scope};
use opsdesk_domain::targets::calendar::parse_uplift;
use opsdesk_domain::targets::weights::parse_tiers;
use opsdesk_domain::targets::{
    CalendarDay, DayKind, Level, Measure, Method, Metric, MonthMethod, Rebalance, RewardRule, Unit,
};
use opsdesk_web::targets::{cells_table, overview_table, payout_table, tracking_table};

use crate::report::parse_month;
use crate::report::text_table;
use crate::{Failure, Ui};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FileFormat {
    Csv,
    Xlsx,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GrainArg {
    Month,
    Day,
}

fn parse_method(s: &str) -> Result<Method, String> {
    Method::parse(s).ok_or_else(|| format!("'{s}': expected last-year, area, tier, equal or hand"))
}

fn parse_month_method(s: &str) -> Result<MonthMethod, String> {
    MonthMethod::parse(s).ok_or_else(|| format!("'{s}': expected last-year or hand"))
}

/// Which plan: a year and a metric.
#[derive(Args)]
pub(crate) struct Which {
    #[arg(long)]
    year: i32,
    /// A metric key: revenue, gross_profit, profit_tax, tickets, member_revenue, …
    #[arg(long, default_value = "revenue")]
    metric: String,
}

#[derive(Subcommand)]
pub(crate) enum TargetsCommand {
    /// The plans made so far.
    List,
    /// Make a plan: the company's baseline (and stretch) decomposed to regions, stores, months and days.
    Plan {
        #[command(flatten)]
        which: Which,
        /// The company's baseline (保底), in yuan (or a count for count metrics).
        #[arg(long)]
        baseline: String,
        /// The company's stretch (力争); the baseline when left out.
        #[arg(long)]
        stretch: Option<String>,
        /// How the company is cut into stores: last-year, area, tier, equal or hand.
        #[arg(long, value_parser = parse_method, default_value = "last-year")]
        method: Method,
        /// How a store's year is cut into months: last-year (seasonality) or hand (by days).
        #[arg(long, value_parser = parse_month_method, default_value = "last-year")]
        months: MonthMethod,
        /// The tier rule: name:share-of-stores%:growth%, … (default A:20:3,B:50:6,C:30:10).
        #[arg(long)]
        tiers: Option<String>,
    },
    /// Delete a plan with all its cells and payout sheets.
    Delete {
        #[command(flatten)]
        which: Which,
    },
    /// The metrics plans can be set on; --key … adds one (or changes its names).
    Metrics {
        /// A new metric's key, e.g. `o2o_revenue`.
        #[arg(long, requires_all = ["zh", "en"])]
        key: Option<String>,
        #[arg(long)]
        zh: Option<String>,
        #[arg(long)]
        en: Option<String>,
        /// fen (money) or count
        #[arg(long, default_value = "fen")]
        unit: String,
        /// The sales measure its plans are shaped by: revenue, gross_profit, tickets, member_revenue.
        #[arg(long, default_value = "revenue")]
        basis: String,
        /// The sales measure that is its actual; left out when the sales data do not hold it.
        #[arg(long)]
        actual: Option<String>,
    },
    /// A plan by store (and the totals by region and for the company).
    Show {
        #[command(flatten)]
        which: Which,
    },
    /// Write a plan's cells: store × month, or store × day of one month.
    Export {
        #[command(flatten)]
        which: Which,
        #[arg(long, value_enum, default_value = "month")]
        grain: GrainArg,
        /// The month whose days are written (with --grain day).
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        month: Option<i64>,
        #[arg(long, value_enum, default_value = "csv")]
        format: FileFormat,
        /// Write to this file (XLSX: default targets.xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Bring back a plan's file from a spreadsheet: every row is checked, the cells it changes are
    /// listed, then applied (on a terminal, after you confirm).
    Import {
        file: PathBuf,
        #[arg(long, default_value = "revenue")]
        metric: String,
        /// Only list what would change.
        #[arg(long)]
        dry_run: bool,
        /// Apply without asking (a terminal asks otherwise).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Set one cell; the unlocked cells beside it rebalance so that its total stays.
    Edit {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        cell: CellArgs,
        /// baseline or stretch
        #[arg(long, default_value = "baseline")]
        level: String,
        /// The new value, in yuan (or a count).
        #[arg(long)]
        value: String,
        /// Let the total above change instead (its own neighbours rebalance).
        #[arg(long)]
        move_parent: bool,
    },
    /// Lock a cell so that rebalancing leaves it alone (--unlock to free it).
    Lock {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        cell: CellArgs,
        #[arg(long)]
        unlock: bool,
    },
    /// Where each store stands on a day: month and year to date against the baseline, time progress,
    /// the month-end and year-end forecast, and what it needs per day; --alerts lists the stores
    /// forecast to miss their month.
    Track {
        #[arg(long, default_value = "revenue")]
        metric: String,
        /// The day (default: the last date with sales).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Only the stores forecast to miss their month, largest shortfall first.
        #[arg(long)]
        alerts: bool,
        #[command(flatten)]
        output: crate::report::Output,
    },
    /// A month's reward and penalty sheet (奖罚表) by store and store manager; --approve freezes it.
    Payout {
        #[command(flatten)]
        which: Which,
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        month: i64,
        /// Approve the sheet: its lines are frozen as they stand.
        #[arg(long)]
        approve: bool,
        #[command(flatten)]
        output: crate::report::Output,
    },
    /// Show or change a plan's reward rule (amounts in yuan, the floor in percent; `none` for no cap).
    Rule {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        bonus_per_point: Option<String>,
        #[arg(long)]
        bonus_cap: Option<String>,
        #[arg(long)]
        floor: Option<String>,
        #[arg(long)]
        penalty_per_point: Option<String>,
        #[arg(long)]
        penalty_cap: Option<String>,
    },
    /// The holiday calendar the days are weighted by.
    Holidays {
        #[arg(long)]
        year: Option<i32>,
    },
    /// Add or change a date of the holiday calendar (plans made later read it).
    Holiday {
        #[arg(long)]
        date: NaiveDate,
        /// holiday (放假) or workday (调休上班)
        #[arg(long, default_value = "holiday")]
        kind: String,
        /// The holiday's name, e.g. 春节.
        #[arg(long)]
        name: String,
        /// How much more (or less) the day sells than a weekend day: 1.3 = 30 % more.
        #[arg(long, default_value = "1", allow_hyphen_values = true)]
        uplift: String,
        /// Remove the date from the calendar instead.
        #[arg(long)]
        delete: bool,
    },
}

/// A cell: a region, a store's year, a store's month or a store's day.
#[derive(Args)]
pub(crate) struct CellArgs {
    /// A region's name (its year total).
    #[arg(long, conflicts_with = "store")]
    region: Option<String>,
    /// A store's code: its year, or with --month / --date that month or day.
    #[arg(long)]
    store: Option<String>,
    #[arg(long, value_parser = parse_month, value_name = "YYYY-MM", requires = "store")]
    month: Option<i64>,
    #[arg(long, requires = "store", conflicts_with = "month")]
    date: Option<NaiveDate>,
}

fn db_failure(lang: opsdesk_domain::i18n::Lang) -> impl Fn(opsdesk_db::DbError) -> Failure {
    move |e| Failure::db(e, lang)
}

async fn find_plan(db: &Db, which: &Which, ui: &Ui) -> Result<Plan, Failure> {
    db.target_plan_for(which.year, &which.metric).await.map_err(db_failure(ui.lang))?.ok_or_else(|| {
        Failure::BadInput(
            ui.lang
                .pick(
                    &format!("{} 年没有 {} 目标计划：先运行 `opsdesk targets plan`", which.year, which.metric),
                    &format!("there is no {} plan for {}: run `opsdesk targets plan` first", which.metric, which.year),
                )
                .to_string(),
        )
    })
}

fn value(plan_unit: opsdesk_domain::targets::Unit, text: &str, ui: &Ui) -> Result<i64, Failure> {
    plan_unit.parse_value(text).filter(|v| *v >= 0).ok_or_else(|| {
        Failure::BadInput(
            ui.lang
                .pick(
                    &format!("'{text}' 不是有效的目标值（元，最多两位小数；或整数）"),
                    &format!("'{text}' is not a valid target (yuan with up to two decimals, or a whole count)"),
                )
                .to_string(),
        )
    })
}

async fn cell(db: &Db, scope: &Scope, args: &CellArgs, ui: &Ui) -> Result<CellRef, Failure> {
    let bad = |zh: &str, en: &str| Failure::BadInput(ui.lang.pick(zh, en).to_string());
    if let Some(name) = &args.region {
        let regions = db.regions().await.map_err(db_failure(ui.lang))?;
        let r = regions.iter().find(|r| &r.name == name).ok_or_else(|| bad("没有这个区域", "no such region"))?;
        return Ok(CellRef::Region(r.id));
    }
    let Some(code) = &args.store else { return Err(bad("请指定 --region 或 --store", "name --region or --store")) };
    let id = *db
        .store_codes(scope)
        .await
        .map_err(db_failure(ui.lang))?
        .get(code)
        .ok_or_else(|| bad("没有这个门店", "no such store"))?;
    Ok(match (args.month, args.date) {
        (Some(month), _) => CellRef::Month { store: id, month },
        (_, Some(date)) => CellRef::Day { store: id, date },
        _ => CellRef::Store(id),
    })
}

pub(crate) async fn run(db: &Db, scope: &Scope, cmd: TargetsCommand, ui: &Ui) -> Result<(), Failure> {
    let lang = ui.lang;
    let err = db_failure(lang);
    match cmd {
        TargetsCommand::List => {
            let mut t = crate::table::Table::new(
                ["year", "metric", "baseline", "stretch", "method", "basis", "created"].map(String::from).to_vec(),
            );
            for p in db.target_plans().await.map_err(&err)? {
                t.row(vec![
                    p.year.to_string(),
                    p.metric.key.clone(),
                    p.metric.unit.format(p.baseline),
                    p.metric.unit.format(p.stretch),
                    p.method.key().to_string(),
                    format!("{}..{}", p.basis_from, p.basis_to),
                    format!("{} {}", p.created_at.format("%Y-%m-%d %H:%M"), p.created_by),
                ]);
            }
            print!("{}", t.render());
            Ok(())
        }
        TargetsCommand::Plan { which, baseline, stretch, method, months, tiers } => {
            let metrics = db.target_metrics().await.map_err(&err)?;
            let metric = metrics.iter().find(|m| m.key == which.metric).ok_or_else(|| {
                Failure::BadInput(format!(
                    "{} '{}' ({})",
                    lang.pick("没有这个指标", "no such metric"),
                    which.metric,
                    metrics.iter().map(|m| m.key.as_str()).collect::<Vec<_>>().join(", ")
                ))
            })?;
            let baseline = value(metric.unit, &baseline, ui)?;
            let stretch = match stretch {
                Some(s) => value(metric.unit, &s, ui)?,
                None => baseline,
            };
            let tiers = match tiers {
                Some(t) => parse_tiers(&t).map_err(Failure::BadInput)?,
                None => Vec::new(),
            };
            let new = NewPlan {
                year: which.year,
                metric: which.metric.clone(),
                baseline,
                stretch,
                method,
                month_method: months,
                tiers,
                rule: RewardRule::default(),
            };
            let plan = db.create_target_plan(scope, &new).await.map_err(&err)?;
            let (regions, stores) = db.target_overview(scope, &plan).await.map_err(&err)?;
            let fallback = stores.iter().filter(|s| s.fallback).count();
            ui.say(
                &format!(
                    "已建立 {} 年{}目标：{} 个区域，{} 家门店（{} 家无完整历史，按备用规则），依据 {} 至 {}",
                    plan.year, plan.metric.name_zh, regions.len(), stores.len(), fallback, plan.basis_from, plan.basis_to
                ),
                &format!(
                    "made the {} {} plan: {} regions, {} stores ({} without a full year of history, by the fallback rule), shaped by {} to {}",
                    plan.year, plan.metric.name_en, regions.len(), stores.len(), fallback, plan.basis_from, plan.basis_to
                ),
            );
            print!("{}", text_table(&overview_table(&plan, &regions, &stores), ui.lang));
            Ok(())
        }
        TargetsCommand::Delete { which } => {
            let plan = find_plan(db, &which, ui).await?;
            db.delete_target_plan(scope, &plan).await.map_err(&err)?;
            ui.say("已删除", "deleted");
            Ok(())
        }
        TargetsCommand::Metrics { key, zh, en, unit, basis, actual } => {
            if let (Some(key), Some(zh), Some(en)) = (key, zh, en) {
                let bad = |what: &str, v: &str| Failure::BadInput(format!("--{what} '{v}'"));
                let metric = Metric {
                    unit: Unit::parse(&unit).ok_or_else(|| bad("unit", &unit))?,
                    basis: Measure::parse(&basis).ok_or_else(|| bad("basis", &basis))?,
                    actual: match &actual {
                        Some(a) => Some(Measure::parse(a).ok_or_else(|| bad("actual", a))?),
                        None => None,
                    },
                    key,
                    name_zh: zh,
                    name_en: en,
                };
                db.save_target_metric(scope, &metric).await.map_err(&err)?;
            }
            let mut t =
                crate::table::Table::new(["key", "名称", "name", "unit", "basis", "actual"].map(String::from).to_vec());
            for m in db.target_metrics().await.map_err(&err)? {
                let actual = m.actual.map(|a| a.key().to_string()).unwrap_or_else(|| "—".into());
                t.row(vec![m.key, m.name_zh, m.name_en, m.unit.key().into(), m.basis.key().into(), actual]);
            }
            print!("{}", t.render());
            Ok(())
        }
        TargetsCommand::Show { which } => {
            let plan = find_plan(db, &which, ui).await?;
            let (regions, stores) = db.target_overview(scope, &plan).await.map_err(&err)?;
            let t = overview_table(&plan, &regions, &stores);
            print!("{}\n{}", t.title(lang), text_table(&t, lang));
            Ok(())
        }
        TargetsCommand::Export { which, grain, month, format, out } => {
            let plan = find_plan(db, &which, ui).await?;
            let grain = match (grain, month) {
                (GrainArg::Month, _) => Grain::Month,
                (GrainArg::Day, Some(m)) if m / 100 == i64::from(plan.year) => Grain::Day(m),
                (GrainArg::Day, Some(_)) => {
                    return Err(Failure::BadInput(
                        lang.pick("--month 不在计划年度内", "--month is outside the plan's year").to_string(),
                    ));
                }
                (GrainArg::Day, None) => {
                    return Err(Failure::BadInput(
                        lang.pick("--grain day 需要 --month YYYY-MM", "--grain day needs --month YYYY-MM").to_string(),
                    ));
                }
            };
            let rows = db.target_rows(scope, &plan, grain).await.map_err(&err)?;
            let table = cells_table(&plan, grain, &rows);
            match format {
                FileFormat::Csv => {
                    let text = table.to_csv();
                    match out {
                        Some(path) => std::fs::write(&path, text)
                            .map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?,
                        None => {
                            let _ = std::io::stdout().lock().write_all(text.as_bytes());
                        }
                    }
                }
                FileFormat::Xlsx => {
                    let path = out.unwrap_or_else(|| PathBuf::from("targets.xlsx"));
                    let bytes = opsdesk_web::export::xlsx_for_editing(&table, lang)
                        .map_err(|e| Failure::Other(e.to_string()))?;
                    std::fs::write(&path, bytes).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?;
                    ui.say(&format!("已写出 {}", path.display()), &format!("wrote {}", path.display()));
                }
            }
            Ok(())
        }
        TargetsCommand::Import { file, metric, dry_run, yes } => {
            let checked =
                opsdesk_ingest::targets::read_targets(db, scope, &file, &file.display().to_string(), &metric, lang)
                    .await
                    .map_err(|e| {
                        if e.is_bad_input() {
                            Failure::BadInput(e.message(lang))
                        } else {
                            Failure::Other(e.message(lang))
                        }
                    })?;
            let checked = match checked {
                Ok(c) => c,
                Err(report) => {
                    eprintln!(
                        "{}",
                        lang.pick(
                            &format!("{}：{} 行有错，未做任何修改", file.display(), report.total),
                            &format!("{}: {} bad rows, nothing changed", file.display(), report.total)
                        )
                    );
                    crate::import::print_errors(&report, ui);
                    return Err(Failure::BadInput(String::new()));
                }
            };
            let unit = checked.plan.metric.unit;
            let mut t = crate::table::Table::new(
                [
                    lang.pick("门店", "store"),
                    lang.pick("期间", "period"),
                    lang.pick("目标", "target"),
                    lang.pick("原值", "before"),
                    lang.pick("新值", "after"),
                ]
                .map(String::from)
                .to_vec(),
            );
            for c in &checked.changes {
                let level = match c.level {
                    Level::Baseline => lang.pick("保底", "baseline"),
                    Level::Stretch => lang.pick("力争", "stretch"),
                };
                t.row(vec![
                    c.store_code.clone(),
                    c.period.clone(),
                    level.into(),
                    unit.format(c.before),
                    unit.format(c.after),
                ]);
            }
            if checked.changes.is_empty() {
                ui.say(
                    &format!("{} 与 {} 年计划一致，没有要修改的", file.display(), checked.plan.year),
                    &format!("{} matches the {} plan: nothing to change", file.display(), checked.plan.year),
                );
                return Ok(());
            }
            print!("{}", t.render());
            let n = checked.changes.len();
            ui.say(
                &format!("{n} 个单元格将被修改，同级未修改、未锁定的单元格按比例承接差额"),
                &format!(
                    "{n} cells change; the unchanged, unlocked cells beside them take up the difference in proportion"
                ),
            );
            if dry_run {
                ui.say("（试运行：未做任何修改）", "(dry run: nothing changed)");
                return Ok(());
            }
            if !yes && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprint!("{}", lang.pick("确认修改？[y/N] ", "Apply? [y/N] "));
                let mut answer = String::new();
                let _ = std::io::stdin().read_line(&mut answer);
                if !matches!(answer.trim(), "y" | "Y" | "yes" | "是") {
                    ui.say("未做任何修改", "nothing changed");
                    return Ok(());
                }
            }
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let n = opsdesk_ingest::targets::apply_targets(db, scope, &checked, &name).await.map_err(|e| {
                if e.is_bad_input() { Failure::BadInput(e.message(lang)) } else { Failure::Other(e.message(lang)) }
            })?;
            ui.say(&format!("已修改 {n} 个单元格"), &format!("changed {n} cells"));
            Ok(())
        }
        TargetsCommand::Edit { which, cell: args, level, value: v, move_parent } => {
            let plan = find_plan(db, &which, ui).await?;
            let level = Level::parse(&level).ok_or_else(|| {
                Failure::BadInput(
                    lang.pick("--level 应为 baseline 或 stretch", "--level is baseline or stretch").into(),
                )
            })?;
            let c = cell(db, scope, &args, ui).await?;
            let v = value(plan.metric.unit, &v, ui)?;
            let rebalance = if move_parent { Rebalance::MoveParent } else { Rebalance::KeepParent };
            db.edit_target(scope, &plan, c, &[(level, v)], rebalance).await.map_err(&err)?;
            ui.say("已修改", "changed");
            Ok(())
        }
        TargetsCommand::Lock { which, cell: args, unlock } => {
            let plan = find_plan(db, &which, ui).await?;
            let c = cell(db, scope, &args, ui).await?;
            db.lock_target(scope, &plan, c, !unlock).await.map_err(&err)?;
            ui.say(if unlock { "已解锁" } else { "已锁定" }, if unlock { "unlocked" } else { "locked" });
            Ok(())
        }
        TargetsCommand::Track { metric, date, alerts, output } => {
            let date =
                match date {
                    Some(d) => d,
                    None => db.last_sales_date(scope).await.map_err(&err)?.ok_or_else(|| {
                        Failure::BadInput(lang.pick("还没有销售数据", "there are no sales yet").into())
                    })?,
                };
            let which = Which { year: date.year(), metric };
            let plan = find_plan(db, &which, ui).await?;
            let paces = db.target_pace(scope, &plan, date).await.map_err(&err)?;
            let table = tracking_table(&plan, date, &paces, alerts, scope.sees_all());
            crate::report::emit(&table, output, ui)
        }
        TargetsCommand::Holiday { date, kind, name, uplift, delete } => {
            if delete {
                let removed = db.delete_holiday(scope, date).await.map_err(&err)?;
                ui.say(
                    if removed { "已删除" } else { "日历中没有这一天" },
                    if removed { "removed" } else { "the calendar has no such date" },
                );
                return Ok(());
            }
            let kind = DayKind::parse(&kind).ok_or_else(|| {
                Failure::BadInput(lang.pick("--kind 应为 holiday 或 workday", "--kind is holiday or workday").into())
            })?;
            let uplift_pm = parse_uplift(&uplift).ok_or_else(|| {
                Failure::BadInput(
                    lang.pick(
                        "--uplift 应为大于 0 的系数（最多三位小数），如 1.3",
                        "--uplift is a factor above 0 (up to three decimals), e.g. 1.3",
                    )
                    .into(),
                )
            })?;
            let day = CalendarDay { date, kind, name, uplift_pm };
            db.save_holiday(scope, &day).await.map_err(&err)?;
            ui.say("已保存", "saved");
            Ok(())
        }
        TargetsCommand::Payout { which, month, approve, output } => {
            let plan = find_plan(db, &which, ui).await?;
            let sheet = if approve {
                let s = db.approve_payout(scope, &plan, month).await.map_err(&err)?;
                ui.say("已审批并锁定", "approved and locked");
                s
            } else {
                db.payout_sheet(scope, &plan, month).await.map_err(&err)?
            };
            crate::report::emit(&payout_table(&plan, &sheet), output, ui)
        }
        TargetsCommand::Rule { which, bonus_per_point, bonus_cap, floor, penalty_per_point, penalty_cap } => {
            let plan = find_plan(db, &which, ui).await?;
            let money = |text: &str| -> Result<i64, Failure> {
                opsdesk_domain::Money::parse_yuan(text)
                    .map(|m| m.fen())
                    .map_err(|e| Failure::BadInput(format!("'{text}': {}", e.text(lang))))
            };
            let cap = |text: &str| -> Result<Option<i64>, Failure> {
                if text.trim() == "none" { Ok(None) } else { money(text).map(Some) }
            };
            let mut rule = plan.rule;
            let changed = bonus_per_point.is_some()
                || bonus_cap.is_some()
                || floor.is_some()
                || penalty_per_point.is_some()
                || penalty_cap.is_some();
            if let Some(v) = bonus_per_point {
                rule.bonus_per_point = money(&v)?;
            }
            if let Some(v) = bonus_cap {
                rule.bonus_cap = cap(&v)?;
            }
            if let Some(v) = floor {
                rule.floor = money(&v)?;
            }
            if let Some(v) = penalty_per_point {
                rule.penalty_per_point = money(&v)?;
            }
            if let Some(v) = penalty_cap {
                rule.penalty_cap = cap(&v)?;
            }
            if changed {
                db.set_reward_rule(scope, &plan, &rule).await.map_err(&err)?;
            }
            let yuan = |v: i64| opsdesk_domain::money::hundredths(v);
            let cap_text = |c: Option<i64>| c.map_or_else(|| lang.pick("不封顶", "no cap").to_string(), yuan);
            println!(
                "{}",
                lang.pick(
                    &format!(
                        "超过 100% 每个百分点奖 {} 元（上限 {}）；低于 {}% 每个百分点罚 {} 元（上限 {}）",
                        yuan(rule.bonus_per_point),
                        cap_text(rule.bonus_cap),
                        yuan(rule.floor),
                        yuan(rule.penalty_per_point),
                        cap_text(rule.penalty_cap)
                    ),
                    &format!(
                        "bonus {} a point above 100 % (cap {}); penalty {} a point below {} % (cap {})",
                        yuan(rule.bonus_per_point),
                        cap_text(rule.bonus_cap),
                        yuan(rule.penalty_per_point),
                        yuan(rule.floor),
                        cap_text(rule.penalty_cap)
                    ),
                )
            );
            Ok(())
        }
        TargetsCommand::Holidays { year } => {
            let mut t = crate::table::Table::new(["date", "kind", "name", "uplift"].map(String::from).to_vec());
            for d in db.holidays(year).await.map_err(&err)? {
                t.row(vec![
                    d.date.to_string(),
                    d.kind.key().into(),
                    d.name,
                    format!("{:.3}", d.uplift_pm as f64 / 1000.0),
                ]);
            }
            print!("{}", t.render());
            Ok(())
        }
    }
}
