//! Where stores stand against a plan on a day: the month and the year to
//! date, target by the plan's own days.

use super::*;

/// A period's target and actual for one store on a day: what tracking,
/// forecast and alerts are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeriodPace {
    /// The whole period's baseline and stretch.
    pub baseline: i64,
    pub stretch: i64,
    /// The baseline and stretch of the days up to and including the day.
    pub baseline_to_date: i64,
    pub stretch_to_date: i64,
    /// The actual from the period's first day to the day.
    pub actual: i64,
    /// Days of the period up to the day, and after it.
    pub days_gone: i64,
    pub days_left: i64,
}

impl PeriodPace {
    pub fn add(&mut self, o: &PeriodPace) {
        self.baseline += o.baseline;
        self.stretch += o.stretch;
        self.baseline_to_date += o.baseline_to_date;
        self.stretch_to_date += o.stretch_to_date;
        self.actual += o.actual;
        self.days_gone = o.days_gone;
        self.days_left = o.days_left;
    }

    /// Against the baseline (the target a store must reach).
    pub fn pace(&self) -> opsdesk_domain::targets::Pace {
        opsdesk_domain::targets::Pace {
            actual: self.actual,
            target_to_date: self.baseline_to_date,
            target: self.baseline,
            days_left: self.days_left,
        }
    }
}

/// A store's month and year on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePace {
    pub store_id: i64,
    pub store_code: String,
    pub store_name: String,
    /// The store's top region (the one totals group by).
    pub region: String,
    pub month: PeriodPace,
    pub year: PeriodPace,
}

impl Db {
    /// Where each store within reach stands on `date` against a plan: the
    /// month and the year to date, target by the plan's own days.
    pub async fn target_pace(&self, scope: &Scope, plan: &Plan, date: NaiveDate) -> Result<Vec<StorePace>> {
        let Some(measure) = plan.metric.actual else {
            return Err(DbError::refused(
                format!("销售数据中没有{}的实际值，只能下达、不能跟踪", plan.metric.name_zh),
                format!("the sales data hold no actual {}: it can be set, not tracked", plan.metric.name_en),
            ));
        };
        if date.year() != plan.year {
            return Err(DbError::refused(
                format!("{date} 不在 {} 年计划内", plan.year),
                format!("{date} is outside the {} plan", plan.year),
            ));
        }
        let month = month_key(date);
        let (month_first, month_last) = opsdesk_domain::calendar::month_bounds(month).unwrap_or((date, date));
        let year_first = NaiveDate::from_ymd_opt(plan.year, 1, 1).unwrap_or(date);
        let year_last = NaiveDate::from_ymd_opt(plan.year, 12, 31).unwrap_or(date);
        let id = Arg::Int(plan.id);
        let month_targets: Vec<(i64, i64, i64, i64, i64)> = self
            .fetch_rows(
                "SELECT store_id, CAST(SUM(baseline) AS BIGINT), CAST(SUM(stretch) AS BIGINT),
                        CAST(SUM(CASE WHEN d <= $3 THEN baseline ELSE 0 END) AS BIGINT),
                        CAST(SUM(CASE WHEN d <= $3 THEN stretch ELSE 0 END) AS BIGINT)
                 FROM target_day WHERE plan_id = $1 AND month = $2 GROUP BY store_id",
                &[id, Arg::Int(month), Arg::Date(date)],
            )
            .await?;
        let year_to_date: Vec<(i64, i64, i64)> = self
            .fetch_rows(
                "SELECT store_id, CAST(SUM(baseline) AS BIGINT), CAST(SUM(stretch) AS BIGINT)
                 FROM target_day WHERE plan_id = $1 AND d <= $2 GROUP BY store_id",
                &[id, Arg::Date(date)],
            )
            .await?;
        let year: Vec<(i64, i64, i64)> =
            self.fetch_rows("SELECT store_id, baseline, stretch FROM target_store WHERE plan_id = $1", &[id]).await?;
        let month_actual = self.measure_by_store(measure, month_first, date).await?;
        let year_actual = self.measure_by_store(measure, year_first, date).await?;
        let month_t: HashMap<i64, (i64, i64, i64, i64)> =
            month_targets.into_iter().map(|(s, b, st, bd, sd)| (s, (b, st, bd, sd))).collect();
        let ytd: HashMap<i64, (i64, i64)> = year_to_date.into_iter().map(|(s, b, st)| (s, (b, st))).collect();
        let year_t: HashMap<i64, (i64, i64)> = year.into_iter().map(|(s, b, st)| (s, (b, st))).collect();
        let days = |a: NaiveDate, b: NaiveDate| (b - a).num_days();
        let mut out = Vec::new();
        for s in self.stores(scope).await? {
            let Some(&(yb, ys)) = year_t.get(&s.id) else { continue };
            let (mb, ms, mbd, msd) = month_t.get(&s.id).copied().unwrap_or_default();
            let (yb_d, ys_d) = ytd.get(&s.id).copied().unwrap_or_default();
            out.push(StorePace {
                region: s.top_region().to_string(),
                store_id: s.id,
                store_code: s.code,
                store_name: s.name,
                month: PeriodPace {
                    baseline: mb,
                    stretch: ms,
                    baseline_to_date: mbd,
                    stretch_to_date: msd,
                    actual: month_actual.get(&s.id).copied().unwrap_or(0),
                    days_gone: days(month_first, date) + 1,
                    days_left: days(date, month_last),
                },
                year: PeriodPace {
                    baseline: yb,
                    stretch: ys,
                    baseline_to_date: yb_d,
                    stretch_to_date: ys_d,
                    actual: year_actual.get(&s.id).copied().unwrap_or(0),
                    days_gone: days(year_first, date) + 1,
                    days_left: days(date, year_last),
                },
            });
        }
        Ok(out)
    }
}

/// One day of a month over the stores within reach: the plan's baseline and
/// stretch for the day and the actual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayProgress {
    pub date: NaiveDate,
    pub baseline: i64,
    pub stretch: i64,
    /// `None` after the last date with sales.
    pub actual: Option<i64>,
}

impl Db {
    /// The days of a month of a plan over the stores within reach: what the
    /// cumulative attainment chart draws.
    pub async fn target_days(&self, scope: &Scope, plan: &Plan, month: i64) -> Result<Vec<DayProgress>> {
        let (first, last) = opsdesk_domain::calendar::month_bounds(month)
            .filter(|_| month / 100 == i64::from(plan.year))
            .ok_or_else(|| DbError::refused("月份不在计划年度内", "the month is outside the plan's year"))?;
        let allowed: HashSet<i64> = self.stores(scope).await?.into_iter().map(|s| s.id).collect();
        let targets: Vec<(i64, NaiveDate, i64, i64)> = self
            .fetch_rows(
                "SELECT store_id, d, baseline, stretch FROM target_day WHERE plan_id = $1 AND month = $2",
                &[Arg::Int(plan.id), Arg::Int(month)],
            )
            .await?;
        let mut days: BTreeMap<NaiveDate, DayProgress> = first
            .iter_days()
            .take_while(|d| *d <= last)
            .map(|date| (date, DayProgress { date, baseline: 0, stretch: 0, actual: None }))
            .collect();
        for (s, d, b, st) in targets {
            if let Some(day) = days.get_mut(&d).filter(|_| allowed.contains(&s)) {
                day.baseline += b;
                day.stretch += st;
            }
        }
        let last_sales = self.last_sales_date(scope).await?;
        if let Some(measure) = plan.metric.actual {
            let stored = self.stored_days(first, last).await?;
            for day in days.values_mut().filter(|d| last_sales.is_some_and(|l| d.date <= l)) {
                day.actual = Some(0);
            }
            for d in stored {
                if let Some(day) = days.get_mut(&d.date).filter(|_| allowed.contains(&d.store)) {
                    *day.actual.get_or_insert(0) += day_measure(measure, &d.day);
                }
            }
        }
        Ok(days.into_values().collect())
    }
}

impl Db {
    /// Each store's baseline over the plan's days from `from` to `to`, by store id.
    pub async fn target_sums(&self, plan: &Plan, from: NaiveDate, to: NaiveDate) -> Result<HashMap<i64, i64>> {
        let args = [Arg::Int(plan.id), Arg::Date(from), Arg::Date(to)];
        if !matches!(self.pool, crate::Pool::Sqlite(_)) {
            // PostgreSQL hashes the groups, and sends one row per store.
            let rows: Vec<(i64, i64)> = self
                .fetch_rows(
                    "SELECT store_id, CAST(SUM(baseline) AS BIGINT) FROM target_day
                     WHERE plan_id = $1 AND d BETWEEN $2 AND $3 GROUP BY store_id",
                    &args,
                )
                .await?;
            return Ok(rows.into_iter().collect());
        }
        // SQLite's GROUP BY would sort the range's cells by store (the
        // covering index gives them by date): the daily report's
        // month-to-date target at 1,000 stores is 28,000 cells.
        let cells: Vec<(i64, i64)> = self
            .fetch_rows("SELECT store_id, baseline FROM target_day WHERE plan_id = $1 AND d BETWEEN $2 AND $3", &args)
            .await?;
        let mut sums: HashMap<i64, i64> = HashMap::with_capacity(1024);
        for (store, baseline) in cells {
            *sums.entry(store).or_insert(0) += baseline;
        }
        Ok(sums)
    }

    /// Each store's baseline per month (`YYYYMM`) of the plan, for the
    /// months `from` to `to`.
    pub async fn target_month_sums(&self, plan: &Plan, from: i64, to: i64) -> Result<HashMap<(i64, i64), i64>> {
        let rows: Vec<(i64, i64, i64)> = self
            .fetch_rows(
                "SELECT store_id, month, baseline FROM target_month WHERE plan_id = $1 AND month BETWEEN $2 AND $3",
                &[Arg::Int(plan.id), Arg::Int(from), Arg::Int(to)],
            )
            .await?;
        Ok(rows.into_iter().map(|(s, m, b)| ((s, m), b)).collect())
    }
}
