//! Scorecards (考核表): a position's indicators with weights summing to 100;
//! each scored by hand or computed from data through a scoring curve; the
//! total is the weighted sum, rounded once to hundredths of a point.

use crate::rdiv;

/// How attainment (hundredths of a percent) turns into points (hundredths):
/// points at 80 %, 100 % and 120 %, linear between, from nothing at 0 %,
/// and no more than the 120 % points above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Curve {
    pub at_80: i64,
    pub at_100: i64,
    pub at_120: i64,
}

impl Default for Curve {
    /// 60 points at 80 %, 90 at 100 %, 100 at 120 % and above.
    fn default() -> Curve {
        Curve { at_80: 6_000, at_100: 9_000, at_120: 10_000 }
    }
}

impl Curve {
    /// The points of an attainment; `None` attainment (no target) scores nothing.
    pub fn points(&self, attainment: Option<i64>) -> i64 {
        let Some(a) = attainment else { return 0 };
        let line = |x0: i64, y0: i64, x1: i64, y1: i64| {
            y0 + rdiv(i128::from(y1 - y0) * i128::from(a - x0), i128::from(x1 - x0)).unwrap_or(0)
        };
        match a {
            _ if a <= 0 => 0,
            _ if a < 8_000 => line(0, 0, 8_000, self.at_80),
            _ if a < 10_000 => line(8_000, self.at_80, 10_000, self.at_100),
            _ if a < 12_000 => line(10_000, self.at_100, 12_000, self.at_120),
            _ => self.at_120,
        }
    }
}

/// Where an indicator's points come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Entered by the unit head (a comment is needed below the policy's threshold).
    Hand,
    /// The employee's store's revenue against its target for the month, through the curve.
    RevenueAttainment,
    /// The same for gross profit.
    GrossProfitAttainment,
    /// Tickets against the same month last year: +5 % scores as 105 % on the curve.
    TrafficGrowth,
    /// Average ticket against the same month last year, likewise.
    AovGrowth,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::Hand,
        Source::RevenueAttainment,
        Source::GrossProfitAttainment,
        Source::TrafficGrowth,
        Source::AovGrowth,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Source::Hand => "hand",
            Source::RevenueAttainment => "revenue_attainment",
            Source::GrossProfitAttainment => "gross_profit_attainment",
            Source::TrafficGrowth => "traffic_growth",
            Source::AovGrowth => "aov_growth",
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.key() == text.trim())
    }
}

/// An indicator of a position's scorecard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub key: String,
    pub name: String,
    /// Whole points of 100.
    pub weight: i64,
    pub source: Source,
}

/// Checks a scorecard: keys unique and present, weights positive and summing to 100.
pub fn check_scorecard(items: &[Indicator]) -> Result<(), ScoreError> {
    let weights: i64 = items.iter().map(|i| i.weight).sum();
    let mut keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.len() != items.len() || items.iter().any(|i| i.key.trim().is_empty() || i.name.trim().is_empty()) {
        return Err(ScoreError::Keys);
    }
    if weights != 100 || items.iter().any(|i| i.weight <= 0) {
        return Err(ScoreError::Weights(weights));
    }
    Ok(())
}

/// Parses `key:name:weight:source,…`.
pub fn parse_scorecard(text: &str) -> Result<Vec<Indicator>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let f: Vec<&str> = part.split(':').map(str::trim).collect();
        let [key, name, weight, source] = f[..] else {
            return Err(format!("'{part}': expected key:name:weight:source"));
        };
        let weight = weight.parse().map_err(|_| format!("'{part}': weight '{weight}' is not a whole number"))?;
        let source = Source::parse(source).ok_or_else(|| {
            let known: Vec<&str> = Source::ALL.iter().map(|s| s.key()).collect();
            format!("'{part}': source '{source}' is not one of {}", known.join(", "))
        })?;
        out.push(Indicator { key: key.to_string(), name: name.to_string(), weight, source });
    }
    check_scorecard(&out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// An indicator's weight (whole points of 100) and its points (hundredths, 0–10 000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scored {
    pub weight: i64,
    pub points: i64,
}

/// Why a scorecard cannot be totalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreError {
    /// The weights add up to this, not 100 (or one is not positive).
    Weights(i64),
    /// An indicator's points lie outside 0–100.
    Points(i64),
    /// Keys missing or repeated, or a name missing.
    Keys,
}

impl std::fmt::Display for ScoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScoreError::Weights(w) => write!(f, "the weights add up to {w}, not 100 (each above 0)"),
            ScoreError::Points(p) => write!(f, "points {} lie outside 0–100", crate::money::hundredths(*p)),
            ScoreError::Keys => write!(f, "every indicator needs its own key and a name"),
        }
    }
}

/// The weighted total in hundredths of a point: Σ weight × points / 100, rounded once.
pub fn total(items: &[Scored]) -> Result<i64, ScoreError> {
    let weights: i64 = items.iter().map(|i| i.weight).sum();
    if weights != 100 || items.iter().any(|i| i.weight < 0) {
        return Err(ScoreError::Weights(weights));
    }
    if let Some(bad) = items.iter().find(|i| !(0..=10_000).contains(&i.points)) {
        return Err(ScoreError::Points(bad.points));
    }
    let sum: i128 = items.iter().map(|i| i128::from(i.weight) * i128::from(i.points)).sum();
    Ok(rdiv(sum, 100).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_curve_is_linear_between_its_points_and_capped() {
        let c = Curve::default();
        assert_eq!(c.points(Some(8_000)), 6_000);
        assert_eq!(c.points(Some(9_000)), 7_500);
        assert_eq!(c.points(Some(10_000)), 9_000);
        assert_eq!(c.points(Some(11_000)), 9_500);
        assert_eq!(c.points(Some(12_000)), 10_000);
        assert_eq!(c.points(Some(15_000)), 10_000);
        assert_eq!(c.points(Some(4_000)), 3_000);
        assert_eq!(c.points(Some(-500)), 0);
        assert_eq!(c.points(None), 0);
    }

    #[test]
    fn a_scorecard_totals_its_weighted_points_once() {
        let items = [Scored { weight: 60, points: 9_333 }, Scored { weight: 40, points: 8_001 }];
        // 0.6 × 93.33 + 0.4 × 80.01 = 55.998 + 32.004 = 88.002 → 88.00
        assert_eq!(total(&items), Ok(8_800));
        assert_eq!(total(&[Scored { weight: 90, points: 100 }]), Err(ScoreError::Weights(90)));
        assert_eq!(total(&[Scored { weight: 100, points: 10_001 }]), Err(ScoreError::Points(10_001)));
    }

    #[test]
    fn a_scorecard_reads_from_text_and_its_weights_sum_to_100() {
        let card =
            parse_scorecard("revenue:销售达成:50:revenue_attainment, service:服务:30:hand, gsp:GSP:20:hand").unwrap();
        assert_eq!(card.len(), 3);
        assert_eq!(card[0].source, Source::RevenueAttainment);
        assert!(parse_scorecard("a:A:50:hand,b:B:40:hand").unwrap_err().contains("add up to 90"));
        assert!(parse_scorecard("a:A:50:hand,a:B:50:hand").unwrap_err().contains("its own key"));
        assert!(parse_scorecard("a:A:100:magic").unwrap_err().contains("not one of"));
    }

    proptest! {
        #[test]
        fn the_curve_never_falls_as_attainment_rises(a in -1_000i64..20_000, d in 0i64..5_000) {
            let c = Curve::default();
            prop_assert!(c.points(Some(a)) <= c.points(Some(a + d)));
            prop_assert!((0..=10_000).contains(&c.points(Some(a))));
        }

        #[test]
        fn a_total_lies_between_its_lowest_and_highest_points(points in prop::collection::vec(0i64..=10_000, 1..6)) {
            let n = points.len() as i64;
            let mut items: Vec<Scored> = points.iter().map(|&p| Scored { weight: 100 / n, points: p }).collect();
            items[0].weight += 100 - (100 / n) * n;
            let t = total(&items).unwrap();
            prop_assert!(t >= *points.iter().min().unwrap() && t <= *points.iter().max().unwrap());
        }
    }
}
