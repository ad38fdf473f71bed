//! What the reports read from the rollups, scoped.

use std::collections::HashMap;

use chrono::NaiveDate;
use opsdesk_domain::calendar::{month_start, same_date_last_year, same_weekday_last_week};
use opsdesk_domain::reports::daily::{DayFigures, StoreDayInput};

use crate::{Db, Result, Scope, on_pool};

type DayFigureRow = (i64, i64, i64, i64, Option<i64>, Option<i64>);

impl Db {
    async fn day_figures(&self, date: NaiveDate) -> Result<HashMap<i64, DayFigures>> {
        let rows: Vec<DayFigureRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT store_id, revenue_c, cost_c, tickets, qty, member_revenue_c FROM sales_day WHERE d = $1")
            .bind(date).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(s, revenue, cost, tickets, qty, member_revenue)| {
                (s, DayFigures { revenue, cost, tickets, qty, member_revenue })
            })
            .collect())
    }

    /// The inputs of the daily report for `date`: every store within reach
    /// that had opened by then, in code order.
    pub async fn daily_inputs(&self, scope: &Scope, date: NaiveDate) -> Result<Vec<StoreDayInput>> {
        let stores = self.stores(scope).await?;
        let day = self.day_figures(date).await?;
        let lw = self.day_figures(same_weekday_last_week(date)).await?;
        let ly = self.day_figures(same_date_last_year(date)).await?;
        let mtd: Vec<(i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT store_id, CAST(SUM(revenue_c) AS BIGINT) FROM sales_day WHERE d BETWEEN $1 AND $2 GROUP BY store_id")
            .bind(month_start(date)).bind(date).fetch_all(p).await?);
        let mtd: HashMap<i64, i64> = mtd.into_iter().collect();
        Ok(stores
            .into_iter()
            .filter(|s| s.open_date <= date)
            .map(|s| StoreDayInput {
                region: s.top_region().to_string(),
                day: day.get(&s.id).copied(),
                mtd_revenue: mtd.get(&s.id).copied().unwrap_or(0),
                lw_revenue: lw.get(&s.id).map(|f| f.revenue),
                ly_revenue: ly.get(&s.id).map(|f| f.revenue),
                store_code: s.code,
            })
            .collect())
    }

    /// The last business date with sales within reach, if any.
    pub async fn last_sales_date(&self, scope: &Scope) -> Result<Option<NaiveDate>> {
        let stores: std::collections::HashSet<i64> = self.store_codes(scope).await?.into_values().collect();
        let rows: Vec<(i64, NaiveDate)> = on_pool!(self, p => sqlx::query_as(
            "SELECT store_id, MAX(d) FROM sales_day GROUP BY store_id").fetch_all(p).await?);
        Ok(rows.into_iter().filter(|(s, _)| stores.contains(s)).map(|(_, d)| d).max())
    }
}
