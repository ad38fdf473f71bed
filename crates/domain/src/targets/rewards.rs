//! Rewards and penalties (奖罚) on attainment: a bonus per point above 100 %,
//! a penalty per point below a floor, each capped. Amounts in fen, points in
//! hundredths (so 103.25 % is 325 hundredths of a point above), rounded once.

use crate::rdiv;

/// A plan's reward rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewardRule {
    /// Bonus per percentage point above 100 %.
    pub bonus_per_point: i64,
    /// The largest bonus; `None` for no cap.
    pub bonus_cap: Option<i64>,
    /// Below this attainment (hundredths of a percent, 9000 = 90 %) the
    /// penalty applies.
    pub floor: i64,
    /// Penalty per percentage point below the floor.
    pub penalty_per_point: i64,
    /// The largest penalty; `None` for no cap.
    pub penalty_cap: Option<i64>,
}

impl Default for RewardRule {
    /// ¥100 a point above 100 % up to ¥2 000; ¥50 a point below 90 % up to ¥1 000.
    fn default() -> RewardRule {
        RewardRule {
            bonus_per_point: 10_000,
            bonus_cap: Some(200_000),
            floor: 9000,
            penalty_per_point: 5_000,
            penalty_cap: Some(100_000),
        }
    }
}

impl RewardRule {
    /// The payout for an attainment: positive a bonus, negative a penalty,
    /// zero between the floor and 100 %; `None` attainment (no target) pays nothing.
    pub fn payout(&self, attainment: Option<i64>) -> i64 {
        let Some(a) = attainment else { return 0 };
        if a > 10_000 {
            let bonus = rdiv(i128::from(a - 10_000) * i128::from(self.bonus_per_point), 100).unwrap_or(0);
            self.bonus_cap.map_or(bonus, |cap| bonus.min(cap))
        } else if a < self.floor {
            let penalty = rdiv(i128::from(self.floor - a) * i128::from(self.penalty_per_point), 100).unwrap_or(0);
            -self.penalty_cap.map_or(penalty, |cap| penalty.min(cap))
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bonus_above_100_penalty_below_the_floor_both_capped() {
        let rule = RewardRule::default();
        assert_eq!(rule.payout(Some(10_325)), 32_500); // 3.25 points × ¥100
        assert_eq!(rule.payout(Some(14_000)), 200_000); // capped at ¥2 000
        assert_eq!(rule.payout(Some(9_500)), 0);
        assert_eq!(rule.payout(Some(10_000)), 0);
        assert_eq!(rule.payout(Some(8_750)), -12_500); // 2.5 points below 90 % × ¥50
        assert_eq!(rule.payout(Some(0)), -100_000);
        assert_eq!(rule.payout(None), 0);
        let uncapped = RewardRule { bonus_cap: None, ..rule };
        assert_eq!(uncapped.payout(Some(14_000)), 400_000);
    }
}
