//! The fairness rules checked per unit (store or department) and cycle: pay
//! after appraisal within the pool of pay bases (with a proposal that fits
//! when it is not), an A+ beside no C needs a written reason, and three low
//! grades in a row put an employee on the review list. Employees excluded
//! from the scheme (commission sales staff, say) are skipped by every rule.

use super::{Grade, Policy};
use crate::rdiv;

/// One employee's result in a cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appraised {
    pub employee: String,
    /// Monthly pay base, fen.
    pub base: i64,
    pub grade: Grade,
    /// Outside the scheme: no grade pay, not counted.
    pub excluded: bool,
}

/// Performance pay: the pay base times the grade's coefficient (per mille), rounded once.
pub fn pay(base: i64, coefficient: i64) -> i64 {
    rdiv(i128::from(base) * i128::from(coefficient), 1000).unwrap_or(0)
}

/// A unit's pool (the sum of its pay bases) against what the grades pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub bases: i64,
    pub paid: i64,
}

impl Pool {
    /// How much the grades pay beyond the pool, if they do.
    pub fn over(&self) -> Option<i64> {
        (self.paid > self.bases).then_some(self.paid - self.bases)
    }
}

fn paid(unit: &[Appraised], coefficient: impl Fn(Grade) -> i64) -> i64 {
    unit.iter().filter(|a| !a.excluded).map(|a| pay(a.base, coefficient(a.grade))).sum()
}

/// The unit's pool under the policy's coefficients.
pub fn pool(unit: &[Appraised], policy: &Policy) -> Pool {
    Pool {
        bases: unit.iter().filter(|a| !a.excluded).map(|a| a.base).sum(),
        paid: paid(unit, |g| policy.coefficient(g)),
    }
}

/// Coefficients for this unit that keep its pay within the pool, when the
/// policy's do not: the part of each coefficient above 100 % is scaled down
/// by one factor (the largest, in steps of 1/10 000, that fits), so the
/// grades keep their order and grades at or below 100 % are untouched.
pub fn scale_to_fit(unit: &[Appraised], policy: &Policy) -> Option<[(Grade, i64); 8]> {
    pool(unit, policy).over()?;
    let bases: i64 = unit.iter().filter(|a| !a.excluded).map(|a| a.base).sum();
    let scaled = |k: i64| -> [(Grade, i64); 8] {
        policy.coefficients.map(|(g, c)| (g, if c > 1000 { 1000 + (c - 1000) * k / 10_000 } else { c }))
    };
    let fits = |k: i64| {
        let cs = scaled(k);
        paid(unit, |g| cs.iter().find(|x| x.0 == g).map_or(1000, |x| x.1)) <= bases
    };
    // fits(0) holds: no coefficient above 100 % pays more than the bases.
    let (mut lo, mut hi) = (0i64, 10_000i64);
    while lo < hi {
        let mid = (lo + hi + 1) / 2;
        if fits(mid) { lo = mid } else { hi = mid - 1 }
    }
    Some(scaled(lo))
}

/// Whether the unit's grades need a written reason: someone is A+ and
/// nobody is C or below.
pub fn needs_reason(unit: &[Appraised]) -> bool {
    let graded = || unit.iter().filter(|a| !a.excluded);
    graded().any(|a| a.grade == Grade::APlus) && !graded().any(|a| a.grade.low())
}

/// Whether an employee's last three grades (oldest first) are all C or below.
pub fn on_review_list(history: &[Grade]) -> bool {
    history.len() >= 3 && history[history.len() - 3..].iter().all(|g| g.low())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn person(base_yuan: i64, grade: Grade) -> Appraised {
        Appraised { employee: String::new(), base: base_yuan * 100, grade, excluded: false }
    }

    #[test]
    fn a_unit_over_its_pool_says_by_how_much() {
        let p = Policy::default();
        let unit = [person(500, Grade::A), person(300, Grade::A), person(300, Grade::B)];
        // 575 + 345 + 300 = 1 220 against 1 100.
        assert_eq!(pool(&unit, &p), Pool { bases: 110_000, paid: 122_000 });
        assert_eq!(pool(&unit, &p).over(), Some(12_000));
        // 575 + 255 + 255 = 1 085: within.
        let fair = [person(500, Grade::A), person(300, Grade::C), person(300, Grade::C)];
        assert_eq!(pool(&fair, &p).over(), None);
        assert_eq!(scale_to_fit(&fair, &p), None);
    }

    #[test]
    fn scale_to_fit_lands_within_the_pool() {
        let p = Policy::default();
        let unit = [person(500, Grade::A), person(300, Grade::A), person(300, Grade::B)];
        let cs = scale_to_fit(&unit, &p).unwrap();
        let coef = |g: Grade| cs.iter().find(|x| x.0 == g).unwrap().1;
        assert_eq!(coef(Grade::B), 1000);
        assert_eq!(coef(Grade::C), 850);
        assert!(paid(&unit, coef) <= 110_000);
        // 800 of A and 300 of B at base already fill the 1 100: nothing is left above 100 %.
        assert_eq!(coef(Grade::A), 1000);
        // With a C beside them there is room: A keeps part of its 15 %.
        let roomy = [person(500, Grade::A), person(300, Grade::A), person(300, Grade::C)];
        let cs = scale_to_fit(&roomy, &p).unwrap();
        let coef = |g: Grade| cs.iter().find(|x| x.0 == g).unwrap().1;
        // 800 × a + 255 ≤ 1 100 → a ≤ 1.056 25: A keeps 56 of its 150 ‰ (1 057 would pay 1 100.60).
        assert_eq!(coef(Grade::A), 1056);
        assert!(paid(&roomy, coef) <= 110_000);
    }

    #[test]
    fn an_a_plus_beside_no_c_needs_a_reason_and_three_cs_flag() {
        let unit = [person(300, Grade::APlus), person(300, Grade::B)];
        assert!(needs_reason(&unit));
        let with_c = [person(300, Grade::APlus), person(300, Grade::C)];
        assert!(!needs_reason(&with_c));
        let excluded_c = [person(300, Grade::APlus), Appraised { excluded: true, ..person(300, Grade::C) }];
        assert!(needs_reason(&excluded_c), "an excluded C does not count");
        assert!(on_review_list(&[Grade::A, Grade::C, Grade::D, Grade::C]));
        assert!(!on_review_list(&[Grade::C, Grade::B, Grade::C, Grade::C]));
        assert!(!on_review_list(&[Grade::C, Grade::C]));
    }

    fn arb_unit() -> impl Strategy<Value = Vec<Appraised>> {
        prop::collection::vec((1i64..2000, 0usize..8, any::<bool>()), 1..20).prop_map(|v| {
            v.into_iter()
                .map(|(b, g, ex)| Appraised {
                    employee: String::new(),
                    base: b * 100,
                    grade: Grade::ALL[g],
                    excluded: ex && b % 7 == 0,
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn scale_to_fit_always_fits_and_keeps_the_grades_in_order(unit in arb_unit()) {
            let p = Policy::default();
            if let Some(cs) = scale_to_fit(&unit, &p) {
                let coef = |g: Grade| cs.iter().find(|x| x.0 == g).unwrap().1;
                prop_assert!(paid(&unit, coef) <= pool(&unit, &p).bases);
                prop_assert!(cs.windows(2).all(|w| w[0].1 >= w[1].1));
                for (g, c) in p.coefficients {
                    if c <= 1000 {
                        prop_assert_eq!(coef(g), c);
                    }
                }
            } else {
                prop_assert!(pool(&unit, &p).over().is_none());
            }
        }
    }
}
