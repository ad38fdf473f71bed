//! A month's appraisal cycle: open it, score, and take each unit along the
//! chain — the unit head signs (results computed and the fairness rules
//! checked), operations reviews, an executive approves, finance pays. A step
//! out of order is refused; an approved unit is locked.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use opsdesk_domain::appraisal::cycle::{State, Step, deadline};
use opsdesk_domain::appraisal::rules::{Appraised, needs_reason, pay, pool, scale_to_fit};
use opsdesk_domain::appraisal::scoring::{Curve, Scored, Source, total};
use opsdesk_domain::appraisal::{Grade, Policy};
use opsdesk_domain::calendar::month_bounds;
use opsdesk_domain::people::Role;
use serde_json::json;

use crate::audit::audit;
use crate::staff::Employee;
use crate::{Db, DbError, Result, Scope, on_pool};

/// A unit's place in a cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleUnit {
    /// `store:CODE` or `dept:PATH`.
    pub unit: String,
    pub state: State,
    pub reason: String,
    /// The last send-back comment.
    pub note: String,
    /// (step, who, when) for each step taken.
    pub signatures: Vec<(&'static str, String, DateTime<Utc>)>,
}

/// A hand score given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreEntry {
    pub employee: String,
    pub indicator: String,
    pub points: i64,
    pub comment: String,
}

/// A line of the payout sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutLine {
    pub employee: String,
    pub name: String,
    pub unit: String,
    pub score: Option<i64>,
    pub grade: Option<String>,
    pub base: i64,
    pub coefficient: i64,
    pub pay: i64,
    pub excluded: bool,
}

fn unit_of(e: &Employee) -> String {
    if e.store_id.is_some() { format!("store:{}", e.unit) } else { format!("dept:{}", e.unit) }
}

fn refused(zh: String, en: String) -> DbError {
    DbError::refused(zh, en)
}

/// Whether the employee works in the month.
fn active(e: &Employee, month: i64) -> bool {
    month_bounds(month).is_some_and(|(first, last)| e.start_date <= last && e.end_date.is_none_or(|end| end >= first))
}

type UnitRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
);

impl Db {
    /// Who the scope's user is, by role (`None` for the command line).
    async fn actor_role(&self, scope: &Scope) -> Result<Option<Role>> {
        match scope.user_name() {
            Some(name) => Ok(self.user_by_name(name).await?.map(|u| u.role)),
            None => Ok(None),
        }
    }

    /// Opens a month's cycle for every unit with staff at work in the month.
    pub async fn open_cycle(&self, scope: &Scope, month: i64) -> Result<Vec<String>> {
        if !scope.plans() {
            return Err(DbError::refused("只有运营部可以开启考核周期", "only operations may open a cycle"));
        }
        let due = deadline(month).ok_or_else(|| refused("月份不对".into(), "not a month".into()))?;
        let mut units: Vec<String> = self
            .employees(&Scope::system("appraisal"))
            .await?
            .iter()
            .filter(|e| active(e, month))
            .map(unit_of)
            .collect();
        units.sort();
        units.dedup();
        if units.is_empty() {
            return Err(refused("该月没有在职员工".into(), "no staff at work in that month".into()));
        }
        let exists: Option<i64> = on_pool!(self, p => sqlx::query_scalar("SELECT month FROM appraisal_cycle WHERE month = $1")
            .bind(month).fetch_optional(p).await?);
        if exists.is_some() {
            return Err(refused(format!("{month} 的考核周期已开启"), format!("the {month} cycle is open already")));
        }
        let after = json!({ "month": month, "deadline": due.to_string(), "units": units });
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO appraisal_cycle (month, deadline, opened_by, opened_at) VALUES ($1, $2, $3, $4)")
                .bind(month).bind(due).bind(scope.actor()).bind(Utc::now()).execute(&mut *tx).await?;
            for u in &units {
                sqlx::query("INSERT INTO appraisal_unit (month, unit, state) VALUES ($1, $2, 'scoring')")
                    .bind(month).bind(u).execute(&mut *tx).await?;
            }
            audit!(&mut *tx, scope.actor(), "open", "appraisal_cycle", month.to_string(), None, Some(after));
            tx.commit().await?;
        });
        Ok(units)
    }

    /// The units of a cycle within reach, with their signatures.
    pub async fn cycle_units(&self, scope: &Scope, month: i64) -> Result<Vec<CycleUnit>> {
        let rows: Vec<UnitRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT unit, state, reason, note, signed_by, signed_at, reviewed_by, reviewed_at, approved_by, approved_at, paid_by, paid_at
             FROM appraisal_unit WHERE month = $1 ORDER BY unit").bind(month).fetch_all(p).await?);
        let reach: std::collections::HashSet<String> = self.employees(scope).await?.iter().map(unit_of).collect();
        Ok(rows
            .into_iter()
            .filter(|r| reach.contains(&r.0))
            .map(|r| {
                let mut signatures = Vec::new();
                for (step, by, at) in
                    [("signed", r.4, r.5), ("reviewed", r.6, r.7), ("approved", r.8, r.9), ("paid", r.10, r.11)]
                {
                    if let (Some(by), Some(at)) = (by, at) {
                        signatures.push((step, by, at));
                    }
                }
                CycleUnit {
                    state: State::parse(&r.1).unwrap_or(State::Scoring),
                    unit: r.0,
                    reason: r.2,
                    note: r.3,
                    signatures,
                }
            })
            .collect())
    }

    async fn unit_state(&self, month: i64, unit: &str) -> Result<State> {
        let s: Option<String> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT state FROM appraisal_unit WHERE month = $1 AND unit = $2").bind(month).bind(unit).fetch_optional(p).await?);
        s.and_then(|s| State::parse(&s)).ok_or_else(|| {
            refused(format!("{month} 周期中没有单位 {unit}"), format!("the {month} cycle has no unit {unit}"))
        })
    }

    /// The employee by code, if within reach and the scope may score her:
    /// operations, or the store manager of her store.
    async fn scorable(&self, scope: &Scope, code: &str) -> Result<Employee> {
        let e = self.employees(scope).await?.into_iter().find(|e| e.code == code).ok_or_else(|| {
            refused(format!("没有员工 {code}（或不在您的范围内）"), format!("no employee {code} within your reach"))
        })?;
        let head = matches!(self.actor_role(scope).await?, Some(Role::StoreManager)) && e.store_id.is_some();
        if scope.plans() || head {
            Ok(e)
        } else {
            Err(DbError::refused("只有单位负责人或运营部可以打分", "only the unit head or operations may score"))
        }
    }

    /// Gives a hand indicator's points (hundredths) while the unit is scoring.
    pub async fn set_score(&self, scope: &Scope, month: i64, entry: &ScoreEntry, policy: &Policy) -> Result<()> {
        let e = self.scorable(scope, &entry.employee).await?;
        let unit = unit_of(&e);
        if !self.unit_state(month, &unit).await?.editable() {
            return Err(refused(
                format!("{unit} 已签字，不能再改分"),
                format!("{unit} is signed: scores cannot change"),
            ));
        }
        let card = self.scorecard(&e.position).await?;
        if !card.iter().any(|i| i.key == entry.indicator && i.source == Source::Hand) {
            return Err(refused(
                format!("岗位 {} 没有手工指标 {}", e.position, entry.indicator),
                format!("position {} has no hand indicator {}", e.position, entry.indicator),
            ));
        }
        if !(0..=10_000).contains(&entry.points) {
            return Err(refused("分数应在 0–100 之间".into(), "points lie between 0 and 100".into()));
        }
        if entry.points < policy.comment_below && entry.comment.trim().is_empty() {
            return Err(refused(
                format!("低于 {} 分需要填写评语", opsdesk_domain::money::hundredths(policy.comment_below)),
                format!("points below {} need a comment", opsdesk_domain::money::hundredths(policy.comment_below)),
            ));
        }
        let after = json!({ "month": month, "employee": e.code, "indicator": entry.indicator, "points": entry.points, "comment": entry.comment });
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO appraisal_score (month, employee_id, indicator, points, comment) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (month, employee_id, indicator) DO UPDATE SET points = excluded.points, comment = excluded.comment")
                .bind(month).bind(e.id).bind(&entry.indicator).bind(entry.points).bind(entry.comment.trim())
                .execute(&mut *tx).await?;
            audit!(&mut *tx, scope.actor(), "score", "appraisal_score", format!("{month}/{}", e.code), None, Some(after));
            tx.commit().await?;
        });
        Ok(())
    }

    /// The unit head signs: every employee's month is scored (hand and data),
    /// graded and paid, and the rules are checked — the pool (refused with the
    /// amount over, unless `scale` takes the proposed coefficients) and an A+
    /// beside no C (refused without a written reason).
    pub async fn sign_unit(&self, scope: &Scope, month: i64, unit: &str, reason: &str, scale: bool) -> Result<()> {
        let policy = self.appraisal_policy().await?;
        let staff: Vec<Employee> =
            self.employees(scope).await?.into_iter().filter(|e| unit_of(e) == unit && active(e, month)).collect();
        let Some(first) = staff.first() else {
            return Err(refused(
                format!("{unit} 不在您的范围内或没有员工"),
                format!("{unit} is outside your reach or has no staff"),
            ));
        };
        self.scorable(scope, &first.code).await?;
        let state = self.unit_state(month, unit).await?;
        let next = state.after(Step::Sign).ok_or_else(|| {
            refused(
                format!("{unit} 当前为 {}，不能签字", state.key()),
                format!("{unit} is {}: it cannot be signed", state.key()),
            )
        })?;
        let hand: Vec<(i64, String, i64, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT employee_id, indicator, points, comment FROM appraisal_score WHERE month = $1").bind(month).fetch_all(p).await?);
        let hand: HashMap<(i64, String), (i64, String)> =
            hand.into_iter().map(|(e, i, p, c)| ((e, i), (p, c))).collect();
        let curve = Curve::default();
        let mut appraised = Vec::new();
        let mut scores = Vec::new();
        let mut missing = Vec::new();
        for e in &staff {
            let base = e.pay_base.or_else(|| policy.pay_base(&e.level)).unwrap_or(0);
            if e.excluded {
                appraised.push(Appraised { employee: e.code.clone(), base, grade: Grade::B, excluded: true });
                scores.push(None);
                continue;
            }
            let card = self.scorecard(&e.position).await?;
            if card.is_empty() {
                missing.push(format!("{}: {}", e.code, e.position));
                scores.push(None);
                continue;
            }
            let data = self.data_points(e, month, &curve).await?;
            let mut items = Vec::new();
            for i in &card {
                let points = match i.source {
                    Source::Hand => hand.get(&(e.id, i.key.clone())).map(|(p, _)| *p),
                    _ => data.get(&i.key).copied().flatten(),
                };
                match points {
                    Some(p) => items.push(Scored { weight: i.weight, points: p }),
                    None => missing.push(format!("{}/{}", e.code, i.key)),
                }
            }
            let score = total(&items).ok();
            let grade = policy.grade(score.unwrap_or(0));
            appraised.push(Appraised { employee: e.code.clone(), base, grade, excluded: false });
            scores.push(score);
        }
        if !missing.is_empty() {
            return Err(refused(
                format!("还有未打分的指标：{}", missing.join("、")),
                format!("indicators without points: {}", missing.join(", ")),
            ));
        }
        let mut coefficients = policy.coefficients;
        if let Some(over) = pool(&appraised, &policy).over() {
            match scale_to_fit(&appraised, &policy) {
                Some(fit) if scale => coefficients = fit,
                _ => {
                    let yuan = opsdesk_domain::money::hundredths(over);
                    return Err(refused(
                        format!(
                            "{unit} 的绩效工资总额超出基数合计 {yuan} 元：调整等级，或按比例缩放（--scale-to-fit）"
                        ),
                        format!("{unit} pays {yuan} yuan more than its pay bases: change grades, or scale to fit"),
                    ));
                }
            }
        }
        if needs_reason(&appraised) && reason.trim().is_empty() {
            return Err(refused(
                format!("{unit} 有 A+ 而没有 C 及以下：请写明理由"),
                format!("{unit} has an A+ and nobody at C or below: give a written reason"),
            ));
        }
        let coef = |g: Grade| coefficients.iter().find(|c| c.0 == g).map_or(1000, |c| c.1);
        let after = json!({ "month": month, "unit": unit, "reason": reason, "scaled": scale,
            "grades": appraised.iter().map(|a| json!({"employee": a.employee, "grade": (!a.excluded).then(|| a.grade.label())})).collect::<Vec<_>>() });
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM appraisal_result WHERE month = $1 AND unit = $2").bind(month).bind(unit).execute(&mut *tx).await?;
            for ((e, a), score) in staff.iter().zip(&appraised).zip(&scores) {
                let (grade, c) = if a.excluded { (None, 0) } else { (Some(a.grade.label()), coef(a.grade)) };
                sqlx::query("INSERT INTO appraisal_result (month, employee_id, unit, score, grade, base, coefficient, pay, excluded)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(month).bind(e.id).bind(unit).bind(*score).bind(grade).bind(a.base).bind(c)
                    .bind(if a.excluded { 0 } else { pay(a.base, c) }).bind(a.excluded)
                    .execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE appraisal_unit SET state = $3, reason = $4, signed_by = $5, signed_at = $6 WHERE month = $1 AND unit = $2")
                .bind(month).bind(unit).bind(next.key()).bind(reason.trim()).bind(scope.actor()).bind(Utc::now())
                .execute(&mut *tx).await?;
            audit!(&mut *tx, scope.actor(), "sign", "appraisal_unit", format!("{month}/{unit}"), None, Some(after));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Operations reviews a signed unit, an executive approves a reviewed one,
    /// finance marks an approved one paid; review and approval may instead
    /// send it back to scoring with a comment.
    pub async fn advance_unit(&self, scope: &Scope, month: i64, unit: &str, step: Step, comment: &str) -> Result<()> {
        let role = self.actor_role(scope).await?;
        let executives: Vec<String> = self
            .setting(crate::settings::EXECUTIVES)
            .await?
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let state = self.unit_state(month, unit).await?;
        let next = state.after(step).ok_or_else(|| {
            refused(
                format!("{unit} 当前为 {}，不能进行这一步", state.key()),
                format!("{unit} is {}: that step cannot be taken now", state.key()),
            )
        })?;
        let allowed = scope.is_system()
            || match (step, state) {
                (Step::Review, _) | (Step::SendBack, State::Signed) => scope.plans(),
                (Step::Approve, _) | (Step::SendBack, _) => {
                    scope.user_name().is_some_and(|n| executives.iter().any(|e| e == n))
                }
                (Step::Pay, _) => role == Some(Role::Finance),
                (Step::Sign, _) => false,
            };
        if !allowed {
            return Err(DbError::refused("您不能在这一步签字", "this step is not yours to sign"));
        }
        if step == Step::SendBack && comment.trim().is_empty() {
            return Err(refused("退回需要写明意见".into(), "sending back needs a comment".into()));
        }
        let (by, at) = match step {
            Step::Review => ("reviewed_by", "reviewed_at"),
            Step::Approve => ("approved_by", "approved_at"),
            Step::Pay => ("paid_by", "paid_at"),
            _ => ("signed_by", "signed_at"),
        };
        let sql = if step == Step::SendBack {
            "UPDATE appraisal_unit SET state = $3, note = $4, signed_by = NULL, signed_at = NULL, reviewed_by = NULL, reviewed_at = NULL
             WHERE month = $1 AND unit = $2".to_string()
        } else {
            format!(
                "UPDATE appraisal_unit SET state = $3, note = $4, {by} = $5, {at} = $6 WHERE month = $1 AND unit = $2"
            )
        };
        let after = json!({ "month": month, "unit": unit, "from": state.key(), "to": next.key(), "comment": comment });
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let q = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(month).bind(unit).bind(next.key()).bind(comment.trim());
            let q = if step == Step::SendBack { q } else { q.bind(scope.actor()).bind(Utc::now()) };
            q.execute(&mut *tx).await?;
            audit!(&mut *tx, scope.actor(), next.key(), "appraisal_unit", format!("{month}/{unit}"), None, Some(after));
            tx.commit().await?;
        });
        Ok(())
    }

    /// An employee's signed results by month, oldest first (within reach).
    pub async fn appraisal_history(
        &self,
        scope: &Scope,
        code: &str,
    ) -> Result<Option<(Employee, Vec<(i64, PayoutLine)>)>> {
        let Some(e) = self.employees(scope).await?.into_iter().find(|e| e.code == code) else { return Ok(None) };
        type R = (i64, String, Option<i64>, Option<String>, i64, i64, i64, bool);
        let rows: Vec<R> = on_pool!(self, p => sqlx::query_as(
            "SELECT month, unit, score, grade, base, coefficient, pay, excluded FROM appraisal_result WHERE employee_id = $1 ORDER BY month")
            .bind(e.id).fetch_all(p).await?);
        let lines = rows
            .into_iter()
            .map(|(m, unit, score, grade, base, coefficient, pay, excluded)| {
                (
                    m,
                    PayoutLine {
                        employee: e.code.clone(),
                        name: e.name.clone(),
                        unit,
                        score,
                        grade,
                        base,
                        coefficient,
                        pay,
                        excluded,
                    },
                )
            })
            .collect();
        Ok(Some((e, lines)))
    }

    /// The employees within reach whose last three signed results are all C
    /// or below (the review list), with those grades' months.
    pub async fn review_list(&self, scope: &Scope) -> Result<Vec<(Employee, Vec<i64>)>> {
        let rows: Vec<(i64, i64, Option<String>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT employee_id, month, grade FROM appraisal_result WHERE NOT excluded ORDER BY employee_id, month")
            .fetch_all(p).await?);
        let mut history: HashMap<i64, Vec<(i64, Grade)>> = HashMap::new();
        for (e, m, g) in rows {
            if let Some(g) = g.as_deref().and_then(Grade::parse) {
                history.entry(e).or_default().push((m, g));
            }
        }
        let mut out = Vec::new();
        for e in self.employees(scope).await? {
            let Some(h) = history.get(&e.id) else { continue };
            let grades: Vec<Grade> = h.iter().map(|x| x.1).collect();
            if opsdesk_domain::appraisal::rules::on_review_list(&grades) {
                let months = h[h.len() - 3..].iter().map(|x| x.0).collect();
                out.push((e, months));
            }
        }
        Ok(out)
    }

    /// A month's hand scores within reach, by (employee code, indicator).
    pub async fn appraisal_scores(
        &self,
        scope: &Scope,
        month: i64,
    ) -> Result<HashMap<(String, String), (i64, String)>> {
        let rows: Vec<(i64, String, i64, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT employee_id, indicator, points, comment FROM appraisal_score WHERE month = $1").bind(month).fetch_all(p).await?);
        let staff: HashMap<i64, String> = self.employees(scope).await?.into_iter().map(|e| (e.id, e.code)).collect();
        Ok(rows
            .into_iter()
            .filter_map(|(id, i, p, c)| staff.get(&id).map(|code| ((code.clone(), i), (p, c))))
            .collect())
    }

    /// The months with a cycle, newest first.
    pub async fn appraisal_cycles(&self) -> Result<Vec<(i64, chrono::NaiveDate)>> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT month, deadline FROM appraisal_cycle ORDER BY month DESC").fetch_all(p).await?),
        )
    }

    /// The payout sheet of a month: every employee of the approved (or paid)
    /// units within reach, ordered by unit and employee.
    pub async fn appraisal_payout(&self, scope: &Scope, month: i64) -> Result<Vec<PayoutLine>> {
        self.appraisal_results(scope, month, true).await
    }

    /// A month's signed results within reach (of approved units only, when asked).
    pub async fn appraisal_results(&self, scope: &Scope, month: i64, approved_only: bool) -> Result<Vec<PayoutLine>> {
        type R = (i64, String, Option<i64>, Option<String>, i64, i64, i64, bool);
        let states = if approved_only { "('approved', 'paid')" } else { "('signed', 'reviewed', 'approved', 'paid')" };
        let sql = format!(
            "SELECT r.employee_id, r.unit, r.score, r.grade, r.base, r.coefficient, r.pay, r.excluded
             FROM appraisal_result r JOIN appraisal_unit u ON u.month = r.month AND u.unit = r.unit
             WHERE r.month = $1 AND u.state IN {states}"
        );
        let rows: Vec<R> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(month).fetch_all(p).await?);
        let staff: HashMap<i64, Employee> = self.employees(scope).await?.into_iter().map(|e| (e.id, e)).collect();
        let mut out: Vec<PayoutLine> = rows
            .into_iter()
            .filter_map(|(id, unit, score, grade, base, coefficient, pay, excluded)| {
                let e = staff.get(&id)?;
                Some(PayoutLine {
                    employee: e.code.clone(),
                    name: e.name.clone(),
                    unit,
                    score,
                    grade,
                    base,
                    coefficient,
                    pay,
                    excluded,
                })
            })
            .collect();
        out.sort_by(|a, b| (a.unit.as_str(), a.employee.as_str()).cmp(&(b.unit.as_str(), b.employee.as_str())));
        Ok(out)
    }
}
