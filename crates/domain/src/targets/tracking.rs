//! Tracking against a target: attainment (达成率), time progress (时间进度) by
//! the target's own daily weights, the forecast of the period's end from the
//! run rate shaped by those weights, and what a store needs per day from now
//! on to make it. Percentages are hundredths of a percent (`10000` = 100 %),
//! rounded once by `rdiv`.

use crate::rdiv;

/// Actual over target, in hundredths of a percent; `None` without a target.
pub fn attainment(actual: i64, target: i64) -> Option<i64> {
    rdiv(10_000 * i128::from(actual), i128::from(target))
}

/// How a period stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// The actual from the period's first day to the day (inclusive).
    pub actual: i64,
    /// The target over the same days.
    pub target_to_date: i64,
    /// The target of the whole period.
    pub target: i64,
    /// Days of the period after the day.
    pub days_left: i64,
}

impl Pace {
    /// The share of the period's target that falls on the days gone: a store
    /// whose weekend carries the week is not behind on a Friday.
    pub fn time_progress(&self) -> Option<i64> {
        attainment(self.target_to_date, self.target)
    }

    pub fn attainment(&self) -> Option<i64> {
        attainment(self.actual, self.target)
    }

    /// The period's end at the run rate so far, shaped like the target: the
    /// actual divided by the time progress. On a closed period it is the actual.
    pub fn forecast(&self) -> Option<i64> {
        if self.days_left == 0 {
            return Some(self.actual);
        }
        rdiv(i128::from(self.actual) * i128::from(self.target), i128::from(self.target_to_date))
    }

    /// What the store must take per remaining day, on average, to reach
    /// `goal` (rounded up to the fen): zero when reached, `None` when no days are left.
    pub fn daily_need(&self, goal: i64) -> Option<i64> {
        if self.days_left <= 0 {
            return None;
        }
        let short = goal - self.actual;
        Some(if short <= 0 { 0 } else { (short + self.days_left - 1) / self.days_left })
    }

    /// The store's own average per day so far.
    pub fn run_rate(&self, days_gone: i64) -> Option<i64> {
        rdiv(i128::from(self.actual), i128::from(days_gone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_by_the_targets_own_weights() {
        // A week of 100 on weekdays and 250 on Saturday and Sunday: 1 000;
        // by Friday 500 of it is due, not 5/7.
        let friday = Pace { actual: 480, target_to_date: 500, target: 1000, days_left: 2 };
        assert_eq!(friday.time_progress(), Some(5000));
        assert_eq!(friday.attainment(), Some(4800));
        assert_eq!(friday.forecast(), Some(960));
        assert_eq!(friday.daily_need(1000), Some(260));
        assert_eq!(friday.run_rate(5), Some(96));
    }

    #[test]
    fn a_closed_period_forecasts_its_actual() {
        let closed = Pace { actual: 12_345, target_to_date: 10_000, target: 10_000, days_left: 0 };
        assert_eq!(closed.forecast(), Some(12_345));
        assert_eq!(closed.daily_need(20_000), None);
        let nothing_due = Pace { actual: 0, target_to_date: 0, target: 10_000, days_left: 30 };
        assert_eq!(nothing_due.forecast(), None);
        assert_eq!(attainment(5, 0), None);
    }
}
