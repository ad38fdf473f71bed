//! Appraisal: each position's scorecard, and the points an employee's
//! indicators earn from the data of her store for a month.

use std::collections::HashMap;

use opsdesk_domain::appraisal::scoring::{Curve, Indicator, Source, check_scorecard};
use opsdesk_domain::calendar::month_bounds;
use opsdesk_domain::targets::attainment;
use serde_json::json;

use crate::audit::audit;
use crate::fetch::Arg;
use crate::staff::Employee;
use crate::{BeginWrite, Db, DbError, Result, Scope, on_pool};

impl Db {
    /// The appraisal policy as the settings have it now.
    pub async fn appraisal_policy(&self) -> Result<opsdesk_domain::appraisal::Policy> {
        let (b, c, p, m) = (
            self.setting(opsdesk_domain::appraisal::BANDS_KEY).await?,
            self.setting(opsdesk_domain::appraisal::COEFFICIENTS_KEY).await?,
            self.setting(opsdesk_domain::appraisal::PAY_BASES_KEY).await?,
            self.setting(opsdesk_domain::appraisal::COMMENT_BELOW_KEY).await?,
        );
        opsdesk_domain::appraisal::Policy::from_settings(b.as_deref(), c.as_deref(), p.as_deref(), m.as_deref())
            .map_err(|e| DbError::Rule(e.to_string()))
    }

    /// A position's scorecard, in its order of entry (by key).
    pub async fn scorecard(&self, position: &str) -> Result<Vec<Indicator>> {
        let rows: Vec<(String, String, i64, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT key, name, weight, source FROM indicator WHERE position = $1 ORDER BY key")
            .bind(position).fetch_all(p).await?);
        rows.into_iter()
            .map(|(key, name, weight, source)| {
                let source =
                    Source::parse(&source).ok_or_else(|| DbError::Rule(format!("indicator {key}: unknown source")))?;
                Ok(Indicator { key, name, weight, source })
            })
            .collect()
    }

    /// Replaces a position's scorecard (weights must sum to 100), audited.
    pub async fn set_scorecard(&self, scope: &Scope, position: &str, items: &[Indicator]) -> Result<()> {
        if !scope.plans() {
            return Err(DbError::refused("只有运营部可以修改考核表", "only operations may change scorecards"));
        }
        check_scorecard(items)
            .map_err(|e| DbError::refused(format!("考核表有误：{e}"), format!("the scorecard is wrong: {e}")))?;
        if !self.positions().await?.iter().any(|p| p.code == position) {
            return Err(DbError::refused(format!("没有岗位 {position}"), format!("there is no position {position}")));
        }
        let before = json!(
            self.scorecard(position)
                .await?
                .iter()
                .map(|i| json!({"key": i.key, "weight": i.weight, "source": i.source.key()}))
                .collect::<Vec<_>>()
        );
        let after = json!(
            items
                .iter()
                .map(|i| json!({"key": i.key, "name": i.name, "weight": i.weight, "source": i.source.key()}))
                .collect::<Vec<_>>()
        );
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM indicator WHERE position = $1").bind(position).execute(&mut *tx).await?;
            for i in items {
                sqlx::query("INSERT INTO indicator (position, key, name, weight, source) VALUES ($1, $2, $3, $4, $5)")
                    .bind(position).bind(&i.key).bind(&i.name).bind(i.weight).bind(i.source.key())
                    .execute(&mut *tx).await?;
            }
            audit!(&mut *tx, scope.actor(), "update", "scorecard", position.to_string(), Some(before), Some(after));
            tx.commit().await?;
        });
        Ok(())
    }

    /// The attainment (hundredths of a percent) an indicator measures for an
    /// employee in a month (`YYYYMM`): `None` for hand indicators, for staff
    /// outside a store, and where the data or the plan are missing.
    pub async fn indicator_attainment(&self, employee: &Employee, month: i64, source: Source) -> Result<Option<i64>> {
        let Some(store) = employee.store_id else { return Ok(None) };
        let Some((first, last)) = month_bounds(month) else { return Ok(None) };
        let sums = |from, to| async move {
            let days = self.stored_days_of(store, from, to).await?;
            let sum =
                |f: fn(&opsdesk_domain::sales::codec::PackedDay) -> i64| days.iter().map(|d| f(&d.day)).sum::<i64>();
            Ok::<_, DbError>((sum(|d| d.revenue), sum(|d| d.cost), sum(|d| d.tickets)))
        };
        let (revenue, cost, tickets) = sums(first, last).await?;
        let plan_target = |metric: &'static str| async move {
            let Some(plan) = self.target_plan_for((month / 100) as i32, metric).await? else {
                return Ok::<_, DbError>(None);
            };
            let rows: Vec<(i64,)> = self
                .fetch_rows(
                    "SELECT baseline FROM target_month WHERE plan_id = $1 AND store_id = $2 AND month = $3",
                    &[Arg::Int(plan.id), Arg::Int(store), Arg::Int(month)],
                )
                .await?;
            Ok(rows.first().map(|r| r.0))
        };
        Ok(match source {
            Source::Hand => None,
            Source::RevenueAttainment => plan_target("revenue").await?.and_then(|t| attainment(revenue, t)),
            Source::GrossProfitAttainment => {
                plan_target("gross_profit").await?.and_then(|t| attainment(revenue - cost, t))
            }
            Source::TrafficGrowth | Source::AovGrowth => {
                let ly = |d: chrono::NaiveDate| opsdesk_domain::calendar::same_date_last_year(d);
                let (ly_revenue, _, ly_tickets) = sums(ly(first), ly(last)).await?;
                if source == Source::TrafficGrowth {
                    attainment(tickets, ly_tickets)
                } else if tickets > 0 && ly_tickets > 0 && ly_revenue > 0 {
                    // (revenue / tickets) / (ly_revenue / ly_tickets), exactly.
                    crate::rdiv_ratio(
                        i128::from(revenue) * i128::from(ly_tickets),
                        i128::from(tickets) * i128::from(ly_revenue),
                    )
                } else {
                    None
                }
            }
        })
    }

    /// The points of each data indicator of an employee's scorecard for a month, by key.
    pub async fn data_points(
        &self,
        employee: &Employee,
        month: i64,
        curve: &Curve,
    ) -> Result<HashMap<String, Option<i64>>> {
        let mut out = HashMap::new();
        for i in self.scorecard(&employee.position).await? {
            if i.source != Source::Hand {
                let a = self.indicator_attainment(employee, month, i.source).await?;
                out.insert(i.key, a.map(|a| curve.points(Some(a))));
            }
        }
        Ok(out)
    }
}

mod cycle;
mod reach;
pub use cycle::{CycleUnit, PayoutLine, ScoreEntry, Waiting};
