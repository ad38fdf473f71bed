//! `opsdesk appraisal …`: the appraisal rules from the command line.

use std::collections::HashMap;

use clap::Subcommand;
use opsdesk_db::{Db, Scope};
use opsdesk_domain::appraisal::cycle::Step;
use opsdesk_domain::appraisal::parse_score;
use opsdesk_domain::appraisal::rules::pay;
use opsdesk_domain::appraisal::scoring::{Curve, Scored, Source, parse_scorecard, total};
use opsdesk_domain::calendar::month_label;
use opsdesk_domain::money::hundredths;

use crate::report::parse_month;
use crate::{Failure, Ui};

#[derive(Subcommand)]
pub(crate) enum AppraisalCommand {
    /// The grade a total score earns under the current settings (prints only the grade, e.g. A-).
    Grade {
        /// The total score, 0–100, up to two decimals.
        #[arg(long, allow_hyphen_values = true)]
        score: String,
    },
    /// A position's scorecard; --set replaces it: key:name:weight:source,… (weights sum to 100;
    /// sources hand, revenue_attainment, gross_profit_attainment, traffic_growth, aov_growth).
    Scorecard {
        #[arg(long)]
        position: String,
        #[arg(long)]
        set: Option<String>,
    },
    /// An employee's month scored: data indicators from her store, hand ones as given; the total,
    /// grade and performance pay under the current settings.
    Preview {
        #[arg(long)]
        employee: String,
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        month: i64,
        /// A hand indicator's points: KEY=POINTS (repeatable).
        #[arg(long = "hand", value_name = "KEY=POINTS")]
        hands: Vec<String>,
    },
    /// Open a month's cycle for every unit with staff (deadline: the 5th of the next month).
    Open {
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        cycle: i64,
    },
    /// Give a hand indicator's points while the unit is scoring (a comment below the threshold).
    Score {
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        cycle: i64,
        #[arg(long)]
        employee: String,
        #[arg(long)]
        indicator: String,
        #[arg(long, allow_hyphen_values = true)]
        points: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// The unit head signs: results computed, the pool and A+ rules checked.
    Sign {
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        cycle: i64,
        /// `store:CODE` or `dept:PATH`.
        #[arg(long)]
        unit: String,
        /// The written reason an A+ beside no C needs.
        #[arg(long, default_value = "")]
        reason: String,
        /// Take the proposed coefficients that fit the pool.
        #[arg(long)]
        scale_to_fit: bool,
    },
    /// Operations reviews a signed unit.
    Review {
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        cycle: i64,
        #[arg(long)]
        unit: String,
    },
    /// The executive approves a reviewed unit; it is locked from then on.
    Approve {
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        cycle: i64,
        #[arg(long)]
        unit: String,
    },
    /// Send a signed or reviewed unit back to scoring, with a comment.
    SendBack {
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        cycle: i64,
        #[arg(long)]
        unit: String,
        #[arg(long)]
        comment: String,
    },
    /// Finance marks an approved unit paid.
    Paid {
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        cycle: i64,
        #[arg(long)]
        unit: String,
    },
    /// The review list: employees whose last three grades are C or below.
    ReviewList,
    /// Units past their deadline and who holds each one's next step; the
    /// reminders are written to the audit log (exit 0 with none late).
    Remind {
        /// One cycle (default: every cycle not yet paid).
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        cycle: Option<i64>,
        /// The day to judge lateness on (default: today).
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
    },
    /// The departments with their heads; --department with --head names a
    /// department's head (a user), with --clear removes it.
    Heads {
        /// The department's path, e.g. 运营部/客服中心.
        #[arg(long)]
        department: Option<String>,
        #[arg(long, conflicts_with = "clear")]
        head: Option<String>,
        #[arg(long)]
        clear: bool,
    },
    /// Where each unit of a cycle stands, with who signed each step and when.
    Status {
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        cycle: i64,
    },
    /// The payout sheet of a cycle's approved units: employee, unit, score, grade, base, coefficient, pay.
    Payout {
        #[arg(long, value_parser = parse_month, value_name = "YYYY-MM")]
        cycle: i64,
        #[command(flatten)]
        output: crate::report::Output,
    },
}

pub(crate) async fn run(db: &Db, scope: &Scope, cmd: AppraisalCommand, ui: &Ui) -> Result<(), Failure> {
    let lang = ui.lang;
    let err = |e: opsdesk_db::DbError| Failure::db(e, lang);
    match cmd {
        AppraisalCommand::Scorecard { position, set } => {
            if let Some(text) = set {
                let items = parse_scorecard(&text).map_err(Failure::BadInput)?;
                db.set_scorecard(scope, &position, &items).await.map_err(err)?;
            }
            let mut t = crate::table::Table::new(["key", "name", "weight", "source"].map(String::from).to_vec());
            for i in db.scorecard(&position).await.map_err(err)? {
                t.row(vec![i.key, i.name, i.weight.to_string(), i.source.key().into()]);
            }
            print!("{}", t.render());
            Ok(())
        }
        AppraisalCommand::Open { cycle } => {
            let units = db.open_cycle(scope, cycle).await.map_err(err)?;
            ui.say(&format!("已开启，{} 个单位", units.len()), &format!("opened for {} units", units.len()));
            for u in units {
                println!("{u}");
            }
            Ok(())
        }
        AppraisalCommand::Score { cycle, employee, indicator, points, comment } => {
            let policy = db.appraisal_policy().await.map_err(err)?;
            let points = parse_score(&points).map_err(|e| Failure::BadInput(e.message(lang)))?;
            let entry = opsdesk_db::appraisal::ScoreEntry { employee, indicator, points, comment };
            db.set_scores(scope, cycle, std::slice::from_ref(&entry), &policy).await.map_err(err)
        }
        AppraisalCommand::Sign { cycle, unit, reason, scale_to_fit } => {
            db.sign_unit(scope, cycle, &unit, &reason, scale_to_fit).await.map_err(err)?;
            ui.say("已签字", "signed");
            Ok(())
        }
        AppraisalCommand::Review { cycle, unit } => step(db, scope, cycle, &unit, Step::Review, "", ui).await,
        AppraisalCommand::Approve { cycle, unit } => step(db, scope, cycle, &unit, Step::Approve, "", ui).await,
        AppraisalCommand::SendBack { cycle, unit, comment } => {
            step(db, scope, cycle, &unit, Step::SendBack, &comment, ui).await
        }
        AppraisalCommand::Paid { cycle, unit } => step(db, scope, cycle, &unit, Step::Pay, "", ui).await,
        AppraisalCommand::ReviewList => {
            let mut t = crate::table::Table::new(["employee", "name", "unit", "months"].map(String::from).to_vec());
            for (e, months) in db.review_list(scope).await.map_err(err)? {
                let months: Vec<String> = months.iter().map(|m| month_label(*m)).collect();
                t.row(vec![e.code, e.name, e.unit, months.join(", ")]);
            }
            print!("{}", t.render());
            Ok(())
        }
        AppraisalCommand::Remind { cycle, today } => {
            let today = today.unwrap_or_else(|| chrono::Local::now().date_naive());
            let late = db.remind_late(scope, cycle, today).await.map_err(err)?;
            let mut t = crate::table::Table::new(
                ["cycle", "unit", "waiting_for", "deadline", "days_late", "remind"].map(String::from).to_vec(),
            );
            for w in &late {
                let holders = if w.holders.is_empty() {
                    lang.pick("（无人）", "(nobody)").to_string()
                } else {
                    w.holders.join(", ")
                };
                t.row(vec![
                    month_label(w.month),
                    w.unit.clone(),
                    waiting_step(w.state).into(),
                    w.deadline.to_string(),
                    w.days_late(today).to_string(),
                    holders,
                ]);
            }
            print!("{}", t.render());
            ui.say(&format!("{} 个单位逾期", late.len()), &format!("{} units overdue", late.len()));
            Ok(())
        }
        AppraisalCommand::Heads { department, head, clear } => {
            if let Some(path) = department {
                let paths = db.departments().await.map_err(err)?;
                let id =
                    paths.iter().find(|(_, p)| p.join("/") == path.trim()).map(|(id, _)| *id).ok_or_else(|| {
                        Failure::BadInput(
                            lang.pick(&format!("没有部门 {path}"), &format!("there is no department {path}")).into(),
                        )
                    })?;
                if head.is_some() || clear {
                    db.set_department_head(scope, id, head.as_deref()).await.map_err(err)?;
                }
            }
            let paths = db.departments().await.map_err(err)?;
            let mut rows: Vec<(String, String)> = db
                .department_list()
                .await
                .map_err(err)?
                .into_iter()
                .map(|d| (paths.get(&d.id).map(|p| p.join("/")).unwrap_or(d.name), d.head.unwrap_or_default()))
                .collect();
            rows.sort();
            let mut t = crate::table::Table::new(["department", "head"].map(String::from).to_vec());
            for (p, h) in rows {
                t.row(vec![p, h]);
            }
            print!("{}", t.render());
            Ok(())
        }
        AppraisalCommand::Status { cycle } => {
            let mut t = crate::table::Table::new(["unit", "state", "signatures", "note"].map(String::from).to_vec());
            for u in db.cycle_units(scope, cycle).await.map_err(err)? {
                let signed: Vec<String> = u
                    .signatures
                    .iter()
                    .map(|(s, by, at)| format!("{s} {by} {}", at.format("%Y-%m-%d %H:%M")))
                    .collect();
                t.row(vec![u.unit, u.state.key().into(), signed.join("; "), u.note]);
            }
            print!("{}", t.render());
            Ok(())
        }
        AppraisalCommand::Payout { cycle, output } => {
            let lines = db.appraisal_payout(scope, cycle).await.map_err(err)?;
            crate::report::emit(&opsdesk_web::appraisal::payout_table(cycle, &lines), output, ui)
        }
        AppraisalCommand::Preview { employee, month, hands } => {
            let policy = db.appraisal_policy().await.map_err(err)?;
            let e =
                db.employees(scope).await.map_err(err)?.into_iter().find(|e| e.code == employee).ok_or_else(|| {
                    Failure::BadInput(
                        lang.pick(
                            &format!("没有员工 {employee}（或不在范围内）"),
                            &format!("no employee {employee} within reach"),
                        )
                        .into(),
                    )
                })?;
            let mut hand: HashMap<String, i64> = HashMap::new();
            for h in &hands {
                let (k, v) =
                    h.split_once('=').ok_or_else(|| Failure::BadInput(format!("--hand '{h}': expected KEY=POINTS")))?;
                hand.insert(k.trim().to_string(), parse_score(v).map_err(|e| Failure::BadInput(e.message(lang)))?);
            }
            let card = db.scorecard(&e.position).await.map_err(err)?;
            if card.is_empty() {
                return Err(Failure::BadInput(format!(
                    "{} {}",
                    lang.pick("岗位没有考核表：", "the position has no scorecard:"),
                    e.position
                )));
            }
            let data = db.data_points(&e, month, &Curve::default()).await.map_err(err)?;
            let mut t =
                crate::table::Table::new(["key", "name", "weight", "source", "points"].map(String::from).to_vec());
            let mut scored = Vec::new();
            let mut missing = Vec::new();
            for i in &card {
                let points = if i.source == Source::Hand {
                    hand.get(&i.key).copied()
                } else {
                    data.get(&i.key).copied().flatten()
                };
                match points {
                    Some(p) => scored.push(Scored { weight: i.weight, points: p }),
                    None => missing.push(i.key.clone()),
                }
                t.row(vec![
                    i.key.clone(),
                    i.name.clone(),
                    i.weight.to_string(),
                    i.source.key().into(),
                    points.map(hundredths).unwrap_or_default(),
                ]);
            }
            print!("{}", t.render());
            if !missing.is_empty() {
                return Err(Failure::BadInput(format!(
                    "{} {}",
                    lang.pick(
                        "这些指标没有分数（手工指标请用 --hand，数据指标需要门店数据和目标）：",
                        "no points for (hand indicators take --hand; data ones need the store's data and plan):"
                    ),
                    missing.join(", ")
                )));
            }
            let score = total(&scored).map_err(|e| Failure::BadInput(e.to_string()))?;
            let grade = policy.grade(score);
            if e.excluded {
                println!(
                    "{} {} → {grade} ({})",
                    lang.pick("总分", "total"),
                    hundredths(score),
                    lang.pick("不参与考核，不计绩效工资", "excluded from the scheme: no performance pay")
                );
                return Ok(());
            }
            let base = e.pay_base.or_else(|| policy.pay_base(&e.level)).unwrap_or(0);
            let coefficient = policy.coefficient(grade);
            println!(
                "{} {} → {grade} · {} {} × {}% = {}",
                lang.pick("总分", "total"),
                hundredths(score),
                lang.pick("基数", "base"),
                hundredths(base),
                hundredths(coefficient * 10),
                hundredths(pay(base, coefficient))
            );
            Ok(())
        }
        AppraisalCommand::Grade { score } => {
            let policy = db.appraisal_policy().await.map_err(|e| Failure::db(e, ui.lang))?;
            let score = parse_score(&score).map_err(|e| Failure::BadInput(e.message(ui.lang)))?;
            println!("{}", policy.grade(score));
            Ok(())
        }
    }
}

/// The step a unit in `state` waits for.
fn waiting_step(state: opsdesk_domain::appraisal::cycle::State) -> &'static str {
    use opsdesk_domain::appraisal::cycle::State;
    match state {
        State::Scoring => "sign",
        State::Signed => "review",
        State::Reviewed => "approve",
        State::Approved => "pay",
        State::Paid => "-",
    }
}

async fn step(
    db: &Db,
    scope: &Scope,
    cycle: i64,
    unit: &str,
    step: Step,
    comment: &str,
    ui: &Ui,
) -> Result<(), Failure> {
    db.advance_unit(scope, cycle, unit, step, comment).await.map_err(|e| Failure::db(e, ui.lang))?;
    ui.say("已签字", "done");
    Ok(())
}
