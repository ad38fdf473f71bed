//! Reward and penalty sheets (奖罚表): per store and month, the month's
//! baseline, the actual, attainment and the payout the plan's rule gives,
//! with the store's managers named for finance. Computed live until the
//! sheet is approved; approving freezes the lines, and a frozen sheet no
//! longer changes with the data, the plan or the rule.

use super::*;

/// One store's line of a month's sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutLine {
    pub store_id: i64,
    pub store_code: String,
    pub store_name: String,
    /// The store managers (店长) signed up for the store, joined by `、`.
    pub managers: String,
    pub target: i64,
    pub actual: Option<i64>,
    /// Hundredths of a percent.
    pub attainment: Option<i64>,
    /// Fen: a bonus when positive, a penalty when negative.
    pub amount: i64,
}

/// A month's sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutSheet {
    pub month: i64,
    /// Who approved it and when; `None` while it is a draft.
    pub approved: Option<(String, DateTime<Utc>)>,
    pub lines: Vec<PayoutLine>,
}

fn may_approve(scope: &Scope) -> Result<()> {
    if scope.plans() {
        Ok(())
    } else {
        Err(DbError::refused("只有运营部可以审批奖罚表", "only operations may approve a payout sheet"))
    }
}

impl Db {
    /// Each store's managers, by store id.
    async fn store_managers(&self) -> Result<HashMap<i64, String>> {
        let rows: Vec<(i64, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT store_id, name FROM app_user WHERE role = 'store-manager' AND active AND store_id IS NOT NULL ORDER BY name")
            .fetch_all(p).await?);
        let mut out: HashMap<i64, String> = HashMap::new();
        for (store, name) in rows {
            let e = out.entry(store).or_default();
            if !e.is_empty() {
                e.push('、');
            }
            e.push_str(&name);
        }
        Ok(out)
    }

    /// A month's sheet for the stores within reach: the frozen one once
    /// approved, else computed from the plan, the rule and the data now.
    pub async fn payout_sheet(&self, scope: &Scope, plan: &Plan, month: i64) -> Result<PayoutSheet> {
        let (first, last) = opsdesk_domain::calendar::month_bounds(month)
            .filter(|_| month / 100 == i64::from(plan.year))
            .ok_or_else(|| DbError::refused("月份不在计划年度内", "the month is outside the plan's year"))?;
        let stores = self.stores(scope).await?;
        let approved: Option<(String, DateTime<Utc>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT approved_by, approved_at FROM target_payout WHERE plan_id = $1 AND month = $2")
            .bind(plan.id).bind(month).fetch_optional(p).await?);
        if approved.is_some() {
            type L = (i64, String, i64, Option<i64>, Option<i64>, i64);
            let rows: Vec<L> = on_pool!(self, p => sqlx::query_as(
                "SELECT store_id, managers, target, actual, attainment, amount FROM target_payout_line
                 WHERE plan_id = $1 AND month = $2").bind(plan.id).bind(month).fetch_all(p).await?);
            let mut by_id: HashMap<i64, L> = rows.into_iter().map(|r| (r.0, r)).collect();
            let lines = stores
                .into_iter()
                .filter_map(|s| {
                    let (_, managers, target, actual, attainment, amount) = by_id.remove(&s.id)?;
                    Some(PayoutLine {
                        store_id: s.id,
                        store_code: s.code,
                        store_name: s.name,
                        managers,
                        target,
                        actual,
                        attainment,
                        amount,
                    })
                })
                .collect();
            return Ok(PayoutSheet { month, approved, lines });
        }
        let targets: Vec<(i64, i64)> = self
            .fetch_rows(
                "SELECT store_id, baseline FROM target_month WHERE plan_id = $1 AND month = $2",
                &[Arg::Int(plan.id), Arg::Int(month)],
            )
            .await?;
        let targets: HashMap<i64, i64> = targets.into_iter().collect();
        let actuals: HashMap<i64, i64> = match plan.metric.actual {
            Some(measure) => self.measure_by_store(measure, first, last).await?,
            None => HashMap::new(),
        };
        let managers = self.store_managers().await?;
        let lines = stores
            .into_iter()
            .filter_map(|s| {
                let target = *targets.get(&s.id)?;
                let actual = plan.metric.actual.map(|_| actuals.get(&s.id).copied().unwrap_or(0));
                let attainment = actual.and_then(|a| opsdesk_domain::targets::attainment(a, target));
                Some(PayoutLine {
                    managers: managers.get(&s.id).cloned().unwrap_or_default(),
                    store_id: s.id,
                    store_code: s.code,
                    store_name: s.name,
                    target,
                    actual,
                    attainment,
                    amount: plan.rule.payout(attainment),
                })
            })
            .collect();
        Ok(PayoutSheet { month, approved: None, lines })
    }

    /// Approves a month's sheet for every store: its lines are frozen as they
    /// stand. Only once the month's sales are in (the last sales date is the
    /// month's last day or later), and only once.
    pub async fn approve_payout(&self, scope: &Scope, plan: &Plan, month: i64) -> Result<PayoutSheet> {
        may_approve(scope)?;
        if plan.metric.actual.is_none() {
            return Err(DbError::refused(
                format!("{}没有实际值，不能计算奖罚", plan.metric.name_zh),
                format!("{} has no actual to pay on", plan.metric.name_en),
            ));
        }
        let all = Scope::system(scope.actor());
        let sheet = self.payout_sheet(&all, plan, month).await?;
        if sheet.approved.is_some() {
            return Err(DbError::refused(
                "该月奖罚表已审批，已锁定",
                "this month's sheet is approved already and locked",
            ));
        }
        let (_, last) = opsdesk_domain::calendar::month_bounds(month).unwrap_or_default();
        if self.last_sales_date(&all).await?.is_none_or(|d| d < last) {
            return Err(DbError::refused(
                format!("{} 的销售数据还不完整，月末之后才能审批", last),
                format!("the month's sales are not all in (up to {last}): approve after the month ends"),
            ));
        }
        let total: i64 = sheet.lines.iter().map(|l| l.amount).sum();
        let after = json!({ "month": month, "stores": sheet.lines.len(), "total": total });
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO target_payout (plan_id, month, approved_by, approved_at) VALUES ($1, $2, $3, $4)")
                .bind(plan.id).bind(month).bind(scope.actor()).bind(Utc::now()).execute(&mut *tx).await?;
            for l in &sheet.lines {
                sqlx::query("INSERT INTO target_payout_line (plan_id, month, store_id, managers, target, actual, attainment, amount)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(plan.id).bind(month).bind(l.store_id).bind(&l.managers).bind(l.target)
                    .bind(l.actual).bind(l.attainment).bind(l.amount)
                    .execute(&mut *tx).await?;
            }
            audit!(&mut *tx, scope.actor(), "approve_payout", "target_plan", plan.id.to_string(), None, Some(after));
            tx.commit().await?;
        });
        self.payout_sheet(scope, plan, month).await
    }

    /// Changes a plan's reward rule. Approved sheets keep their amounts.
    pub async fn set_reward_rule(&self, scope: &Scope, plan: &Plan, rule: &RewardRule) -> Result<()> {
        may_plan(scope)?;
        let bad = rule.bonus_per_point < 0
            || rule.penalty_per_point < 0
            || rule.bonus_cap.is_some_and(|c| c < 0)
            || rule.penalty_cap.is_some_and(|c| c < 0)
            || !(0..=10_000).contains(&rule.floor);
        if bad {
            return Err(DbError::refused(
                "奖罚规则的金额不能为负，门槛应在 0% 到 100% 之间",
                "reward amounts cannot be negative and the floor lies between 0 % and 100 %",
            ));
        }
        let rule_json = |r: &RewardRule| {
            json!({ "bonus_per_point": r.bonus_per_point, "bonus_cap": r.bonus_cap, "floor": r.floor,
                    "penalty_per_point": r.penalty_per_point, "penalty_cap": r.penalty_cap })
        };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE target_plan SET bonus_per_point = $2, bonus_cap = $3, penalty_floor = $4, penalty_per_point = $5, penalty_cap = $6 WHERE id = $1")
                .bind(plan.id).bind(rule.bonus_per_point).bind(rule.bonus_cap).bind(rule.floor).bind(rule.penalty_per_point).bind(rule.penalty_cap)
                .execute(&mut *tx).await?;
            audit!(&mut *tx, scope.actor(), "set_rule", "target_plan", plan.id.to_string(), Some(rule_json(&plan.rule)), Some(rule_json(rule)));
            tx.commit().await?;
        });
        Ok(())
    }
}
