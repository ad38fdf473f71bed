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

use super::reach::Viewer;
use crate::audit::audit;
use crate::staff::Employee;
use crate::{BeginWrite, Db, DbError, Result, Scope, on_pool};

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

/// A stored result: unit, score, grade, base, coefficient, pay, excluded.
type ResultRow = (String, Option<i64>, Option<String>, i64, i64, i64, bool);

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

impl PayoutLine {
    fn of(e: &Employee, (unit, score, grade, base, coefficient, pay, excluded): ResultRow) -> PayoutLine {
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
        }
    }
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
            let mut tx = p.begin_write().await?;
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

    /// Who may score and sign: the unit's head for her staff below the head
    /// levels, the heads above, and operations (see [`super::reach`]).
    fn may_score(viewer: &Viewer, e: &Employee) -> Result<()> {
        if viewer.may_score(e) {
            Ok(())
        } else {
            Err(refused(
                format!("您不能给 {} 打分：由单位负责人（本人职级由上级）或运营部打分", e.code),
                format!(
                    "you may not score {}: the unit head scores her staff, the chain above scores the head's level",
                    e.code
                ),
            ))
        }
    }

    /// Gives hand indicators' points (hundredths) while their units are
    /// scoring: all of them, or none when one is refused.
    pub async fn set_scores(&self, scope: &Scope, month: i64, entries: &[ScoreEntry], policy: &Policy) -> Result<()> {
        let viewer = self.viewer(scope).await?;
        let staff: HashMap<String, Employee> =
            self.employees(scope).await?.into_iter().map(|e| (e.code.clone(), e)).collect();
        let mut cards: HashMap<String, Vec<opsdesk_domain::appraisal::scoring::Indicator>> = HashMap::new();
        let mut states: HashMap<String, State> = HashMap::new();
        let mut rows = Vec::with_capacity(entries.len());
        for entry in entries {
            let e = staff.get(&entry.employee).ok_or_else(|| {
                refused(
                    format!("没有员工 {}（或不在您的范围内）", entry.employee),
                    format!("no employee {} within your reach", entry.employee),
                )
            })?;
            Self::may_score(&viewer, e)?;
            let unit = unit_of(e);
            let state = match states.get(&unit) {
                Some(s) => *s,
                None => {
                    let s = self.unit_state(month, &unit).await?;
                    states.insert(unit.clone(), s);
                    s
                }
            };
            if !state.editable() {
                return Err(refused(
                    format!("{unit} 已签字，不能再改分"),
                    format!("{unit} is signed: scores cannot change"),
                ));
            }
            if !cards.contains_key(&e.position) {
                cards.insert(e.position.clone(), self.scorecard(&e.position).await?);
            }
            let Some(indicator) = cards[&e.position].iter().find(|i| i.key == entry.indicator) else {
                return Err(refused(
                    format!("岗位 {} 没有指标 {}", e.position, entry.indicator),
                    format!("position {} has no indicator {}", e.position, entry.indicator),
                ));
            };
            // A data indicator takes hand points only where its data is
            // missing (a new store without last year, a month without a
            // plan), and then with a word on how they were given.
            if indicator.source != Source::Hand {
                if self.indicator_attainment(e, month, indicator.source).await?.is_some() {
                    return Err(refused(
                        format!("{}/{} 由数据计算，不能手工打分", e.code, entry.indicator),
                        format!("{}/{} is computed from the data: it takes no hand points", e.code, entry.indicator),
                    ));
                }
                if entry.comment.trim().is_empty() {
                    return Err(refused(
                        format!("{}/{}：缺少数据时手工打分需要说明", e.code, entry.indicator),
                        format!("{}/{}: hand points for missing data need a comment", e.code, entry.indicator),
                    ));
                }
            }
            if !(0..=10_000).contains(&entry.points) {
                return Err(refused("分数应在 0–100 之间".into(), "points lie between 0 and 100".into()));
            }
            if entry.points < policy.comment_below && entry.comment.trim().is_empty() {
                let below = opsdesk_domain::money::hundredths(policy.comment_below);
                return Err(refused(
                    format!("{}/{}：低于 {below} 分需要填写评语", e.code, entry.indicator),
                    format!("{}/{}: points below {below} need a comment", e.code, entry.indicator),
                ));
            }
            rows.push((e, entry));
        }
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            for (e, entry) in &rows {
                sqlx::query("INSERT INTO appraisal_score (month, employee_id, indicator, points, comment) VALUES ($1, $2, $3, $4, $5)
                             ON CONFLICT (month, employee_id, indicator) DO UPDATE SET points = excluded.points, comment = excluded.comment")
                    .bind(month).bind(e.id).bind(&entry.indicator).bind(entry.points).bind(entry.comment.trim())
                    .execute(&mut *tx).await?;
                let after = json!({ "month": month, "employee": e.code, "indicator": entry.indicator, "points": entry.points, "comment": entry.comment });
                audit!(&mut *tx, scope.actor(), "score", "appraisal_score", format!("{month}/{}", e.code), None, Some(after));
            }
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
            self.unit_staff(scope, unit).await?.into_iter().filter(|e| active(e, month)).collect();
        let Some(first) = staff.first() else {
            return Err(refused(
                format!("{unit} 不在您的范围内或没有员工"),
                format!("{unit} is outside your reach or has no staff"),
            ));
        };
        let state = self.unit_state(month, unit).await?;
        if !self.viewer(scope).await?.may_step(Step::Sign, state, first) {
            return Err(DbError::refused(
                "只有单位负责人或运营部可以签字",
                "only the unit head or operations may sign",
            ));
        }
        let next = state.after(Step::Sign).ok_or_else(|| {
            refused(
                format!("{unit} 当前为 {}，不能签字", state.key()),
                format!("{unit} is {}: it cannot be signed", state.key()),
            )
        })?;
        // The unit's hand scores (ids are numbers: safe to spell out).
        let ids: Vec<String> = staff.iter().map(|e| e.id.to_string()).collect();
        let sql = format!(
            "SELECT employee_id, indicator, points, comment FROM appraisal_score WHERE month = $1 AND employee_id IN ({})",
            ids.join(",")
        );
        let hand: Vec<(i64, String, i64, String)> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(month).fetch_all(p).await?);
        let hand: HashMap<(i64, String), (i64, String)> =
            hand.into_iter().map(|(e, i, p, c)| ((e, i), (p, c))).collect();
        let curve = Curve::default();
        let mut cards: HashMap<String, Vec<opsdesk_domain::appraisal::scoring::Indicator>> = HashMap::new();
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
            if !cards.contains_key(&e.position) {
                cards.insert(e.position.clone(), self.scorecard(&e.position).await?);
            }
            let card = &cards[&e.position];
            if card.is_empty() {
                missing.push(format!("{}: {}", e.code, e.position));
                scores.push(None);
                continue;
            }
            let data = self.data_points(e, month, &curve).await?;
            let mut items = Vec::new();
            for i in card {
                let given = || hand.get(&(e.id, i.key.clone())).map(|(p, _)| *p);
                let points = match i.source {
                    Source::Hand => given(),
                    // Data first; hand points where the data is missing.
                    _ => data.get(&i.key).copied().flatten().or_else(given),
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
                format!("还有未打分的指标（缺少数据的数据指标请手工打分）：{}", missing.join("、")),
                format!(
                    "indicators without points (a data indicator without data is scored by hand): {}",
                    missing.join(", ")
                ),
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
            let mut tx = p.begin_write().await?;
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

    /// One of a unit's staff (any), to tell whom the unit belongs to.
    async fn unit_member(&self, unit: &str) -> Result<Employee> {
        self.unit_staff(&Scope::system("appraisal"), unit)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| refused(format!("单位 {unit} 没有员工"), format!("the unit {unit} has no staff")))
    }

    /// What the reader may do in a unit of a cycle: the employees whose hand
    /// scores she may give, and the steps she may take now.
    pub async fn appraisal_rights(&self, scope: &Scope, month: i64, unit: &str) -> Result<(Vec<String>, Vec<Step>)> {
        let state = self.unit_state(month, unit).await?;
        let viewer = self.viewer(scope).await?;
        let staff = self.unit_staff(scope, unit).await?;
        let Some(member) = staff.first() else { return Ok((Vec::new(), Vec::new())) };
        let scores = if state.editable() {
            staff.iter().filter(|e| viewer.may_score(e)).map(|e| e.code.clone()).collect()
        } else {
            Vec::new()
        };
        let steps = [Step::Sign, Step::Review, Step::Approve, Step::SendBack, Step::Pay]
            .into_iter()
            .filter(|s| state.after(*s).is_some() && viewer.may_step(*s, state, member))
            .collect();
        Ok((scores, steps))
    }

    /// Operations reviews a signed unit, an executive approves a reviewed one,
    /// finance marks an approved one paid; review and approval may instead
    /// send it back to scoring with a comment.
    pub async fn advance_unit(&self, scope: &Scope, month: i64, unit: &str, step: Step, comment: &str) -> Result<()> {
        let state = self.unit_state(month, unit).await?;
        let next = state.after(step).ok_or_else(|| {
            refused(
                format!("{unit} 当前为 {}，不能进行这一步", state.key()),
                format!("{unit} is {}: that step cannot be taken now", state.key()),
            )
        })?;
        // Signing computes the results: only `sign_unit` takes that step.
        if step == Step::Sign {
            return Err(refused("签字请用签字操作".into(), "signing goes through the unit head's signature".into()));
        }
        let member = self.unit_member(unit).await?;
        if !self.viewer(scope).await?.may_step(step, state, &member) {
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
            let mut tx = p.begin_write().await?;
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
        if !self.viewer(scope).await?.sees_pay(&e) {
            return Ok(None);
        }
        type R = (i64, String, Option<i64>, Option<String>, i64, i64, i64, bool);
        let rows: Vec<R> = on_pool!(self, p => sqlx::query_as(
            "SELECT month, unit, score, grade, base, coefficient, pay, excluded FROM appraisal_result WHERE employee_id = $1 ORDER BY month")
            .bind(e.id).fetch_all(p).await?);
        let lines = rows
            .into_iter()
            .map(|(m, unit, score, grade, base, coefficient, pay, excluded)| {
                (m, PayoutLine::of(&e, (unit, score, grade, base, coefficient, pay, excluded)))
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
        let viewer = self.viewer(scope).await?;
        let staff: HashMap<i64, Employee> =
            self.employees(scope).await?.into_iter().filter(|e| viewer.sees_pay(e)).map(|e| (e.id, e)).collect();
        let mut out: Vec<PayoutLine> = rows
            .into_iter()
            .filter_map(|(id, unit, score, grade, base, coefficient, pay, excluded)| {
                Some(PayoutLine::of(staff.get(&id)?, (unit, score, grade, base, coefficient, pay, excluded)))
            })
            .collect();
        out.sort_by(|a, b| (a.unit.as_str(), a.employee.as_str()).cmp(&(b.unit.as_str(), b.employee.as_str())));
        Ok(out)
    }
}

/// A unit waiting in a cycle for its next step, and who holds that step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub month: i64,
    pub unit: String,
    pub state: State,
    pub deadline: chrono::NaiveDate,
    /// The users who may take the next step: the store's managers or the
    /// department's head (operations without one) to sign, operations to
    /// review, the executives to approve, finance to pay.
    pub holders: Vec<String>,
}

impl Waiting {
    /// Days past the deadline on `today` (0 while in time).
    pub fn days_late(&self, today: chrono::NaiveDate) -> i64 {
        (today - self.deadline).num_days().max(0)
    }
}

impl Db {
    /// Every unit not yet paid, of one cycle or all, with the users who hold
    /// its next step; oldest cycle first, then by unit.
    pub async fn appraisal_waiting(&self, month: Option<i64>) -> Result<Vec<Waiting>> {
        let rows: Vec<(i64, String, String, chrono::NaiveDate)> = on_pool!(self, p => sqlx::query_as(
            "SELECT u.month, u.unit, u.state, c.deadline FROM appraisal_unit u JOIN appraisal_cycle c ON c.month = u.month
             WHERE u.state <> 'paid' AND ($1 IS NULL OR u.month = $1) ORDER BY u.month, u.unit")
            .bind(month).fetch_all(p).await?);
        let users: Vec<_> = self.users().await?.into_iter().filter(|u| u.active).collect();
        let with_role = |r: Role| users.iter().filter(|u| u.role == r).map(|u| u.name.clone()).collect::<Vec<_>>();
        let operations = with_role(Role::Operations);
        let finance = with_role(Role::Finance);
        let executives = self.executives().await?;
        let stores = self.store_codes(&Scope::system("appraisal")).await?;
        let heads: HashMap<String, Option<String>> = {
            let paths = self.departments().await?;
            self.department_list()
                .await?
                .into_iter()
                .filter_map(|d| Some((paths.get(&d.id)?.join("/"), d.head)))
                .collect()
        };
        Ok(rows
            .into_iter()
            .filter_map(|(month, unit, state, deadline)| {
                let state = State::parse(&state)?;
                let holders = match state {
                    State::Scoring => {
                        let own: Vec<String> = if let Some(code) = unit.strip_prefix("store:") {
                            let id = stores.get(code).copied();
                            users
                                .iter()
                                .filter(|u| u.role == Role::StoreManager && u.store_id.is_some() && u.store_id == id)
                                .map(|u| u.name.clone())
                                .collect()
                        } else {
                            let path = unit.strip_prefix("dept:").unwrap_or(&unit);
                            heads.get(path).cloned().flatten().into_iter().collect()
                        };
                        if own.is_empty() { operations.clone() } else { own }
                    }
                    State::Signed => operations.clone(),
                    State::Reviewed => executives.clone(),
                    State::Approved => finance.clone(),
                    State::Paid => return None,
                };
                Some(Waiting { month, unit, state, deadline, holders })
            })
            .collect())
    }

    /// Writes a reminder to the audit log for each unit past its deadline on
    /// `today`, naming who holds its step; returns those units.
    pub async fn remind_late(
        &self,
        scope: &Scope,
        month: Option<i64>,
        today: chrono::NaiveDate,
    ) -> Result<Vec<Waiting>> {
        let late: Vec<Waiting> =
            self.appraisal_waiting(month).await?.into_iter().filter(|w| w.days_late(today) > 0).collect();
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            for w in &late {
                let after = json!({ "state": w.state.key(), "deadline": w.deadline.to_string(),
                    "days_late": w.days_late(today), "to": w.holders });
                audit!(&mut *tx, scope.actor(), "remind", "appraisal_unit", format!("{}/{}", w.month, w.unit), None, Some(after));
            }
            tx.commit().await?;
        });
        Ok(late)
    }
}
