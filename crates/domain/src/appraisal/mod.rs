//! Performance appraisal (绩效考核): the grade a score earns, the pay a grade
//! earns, the scorecard that makes the score, and the fairness rules checked
//! per unit and cycle. Every number is a setting; the defaults are the
//! department's policy. Scores are hundredths of a point (9700 = 97.00),
//! coefficients per mille of the pay base (1150 = 115 %), money in fen.

pub mod cycle;
pub mod rules;
pub mod scoring;

use std::fmt;

/// A grade (等级), best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    APlus,
    A,
    AMinus,
    BPlus,
    B,
    BMinus,
    C,
    D,
}

impl Grade {
    pub const ALL: [Grade; 8] =
        [Grade::APlus, Grade::A, Grade::AMinus, Grade::BPlus, Grade::B, Grade::BMinus, Grade::C, Grade::D];

    pub fn label(self) -> &'static str {
        match self {
            Grade::APlus => "A+",
            Grade::A => "A",
            Grade::AMinus => "A-",
            Grade::BPlus => "B+",
            Grade::B => "B",
            Grade::BMinus => "B-",
            Grade::C => "C",
            Grade::D => "D",
        }
    }

    pub fn parse(text: &str) -> Option<Grade> {
        let t = text.trim().replace('−', "-");
        Grade::ALL.into_iter().find(|g| g.label() == t)
    }

    /// C or below: what the fairness rules count as a low grade.
    pub fn low(self) -> bool {
        self >= Grade::C
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a score or a setting is not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// Not a number with at most two decimals.
    NotAScore(String),
    /// Outside 0–100.
    OutOfRange(String),
    /// A setting's text that does not parse, with what was expected.
    Setting { key: &'static str, text: String, expected: &'static str },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::NotAScore(t) => write!(f, "'{t}' is not a score (a number such as 92.5)"),
            PolicyError::OutOfRange(t) => write!(f, "score {t} is outside 0–100"),
            PolicyError::Setting { key, text, expected } => write!(f, "{key} = '{text}': expected {expected}"),
        }
    }
}

impl PolicyError {
    /// The message in the reader's language.
    pub fn message(&self, lang: crate::i18n::Lang) -> String {
        match (self, lang) {
            (_, crate::i18n::Lang::En) => self.to_string(),
            (PolicyError::NotAScore(t), _) => format!("“{t}”不是分数（应为数字，如 92.5）"),
            (PolicyError::OutOfRange(t), _) => format!("分数 {t} 超出 0–100"),
            (PolicyError::Setting { key, text, expected }, _) => {
                format!("{key} = “{text}” 格式不对，应为：{expected}")
            }
        }
    }
}

/// Parses a score `0`–`100` with up to two decimals into hundredths.
pub fn parse_score(text: &str) -> Result<i64, PolicyError> {
    let t = text.trim();
    let v = crate::Money::parse_yuan(t).map_err(|_| PolicyError::NotAScore(t.to_string()))?.fen();
    if !(0..=10_000).contains(&v) {
        return Err(PolicyError::OutOfRange(t.to_string()));
    }
    Ok(v)
}

/// The appraisal settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The lowest score (hundredths) of each grade, A+ to C; below C's is D.
    pub bands: [(Grade, i64); 7],
    /// Per mille of the pay base, for each grade.
    pub coefficients: [(Grade, i64); 8],
    /// Monthly pay base (fen) per level (职级).
    pub pay_bases: Vec<(String, i64)>,
    /// A hand score below this (hundredths) needs a comment.
    pub comment_below: i64,
}

pub const BANDS_KEY: &str = "appraisal.grade_bands";
pub const COEFFICIENTS_KEY: &str = "appraisal.coefficients";
pub const PAY_BASES_KEY: &str = "appraisal.pay_bases";
pub const COMMENT_BELOW_KEY: &str = "appraisal.comment_below";
/// The levels (职级) of a unit's head: the head neither scores nor sees the
/// pay of staff at these levels in her own unit; operations scores them.
pub const HEAD_LEVELS_KEY: &str = "appraisal.head_levels";

/// The policy's grade bands: ≥ 97 A+, ≥ 94 A, ≥ 91 A−, ≥ 88 B+, ≥ 84 B, ≥ 81 B−, ≥ 71 C, else D.
pub const DEFAULT_BANDS: &str = "A+:97,A:94,A-:91,B+:88,B:84,B-:81,C:71";
/// A is 115 % by policy; the others are opsdesk's defaults, documented in docs/appraisal.md.
pub const DEFAULT_COEFFICIENTS: &str = "A+:125,A:115,A-:110,B+:105,B:100,B-:95,C:85,D:70";
/// The policy's pay bases in yuan a month.
pub const DEFAULT_PAY_BASES: &str = "manager:500,supervisor:400,specialist:300,team-lead:300,cleaning:50,security:50";
pub const DEFAULT_COMMENT_BELOW: &str = "60";
pub const DEFAULT_HEAD_LEVELS: &str = "manager";

/// The head levels from their setting's text (comma-separated names).
pub fn parse_head_levels(text: &str) -> Result<Vec<String>, PolicyError> {
    let levels: Vec<String> = text.split(',').map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    if levels.is_empty() || levels.iter().any(|l| l.contains(':')) {
        return Err(PolicyError::Setting {
            key: HEAD_LEVELS_KEY,
            text: text.to_string(),
            expected: "level names, comma-separated, e.g. manager",
        });
    }
    Ok(levels)
}

fn pairs<'a>(text: &'a str) -> impl Iterator<Item = Option<(&'a str, &'a str)>> + 'a {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.rsplit_once(':').map(|(a, b)| (a.trim(), b.trim())))
}

impl Policy {
    /// The policy from its settings' texts (`None`: the default).
    pub fn from_settings(
        bands: Option<&str>,
        coefficients: Option<&str>,
        pay_bases: Option<&str>,
        comment_below: Option<&str>,
    ) -> Result<Policy, PolicyError> {
        Ok(Policy {
            bands: parse_bands(bands.unwrap_or(DEFAULT_BANDS))?,
            coefficients: parse_coefficients(coefficients.unwrap_or(DEFAULT_COEFFICIENTS))?,
            pay_bases: parse_pay_bases(pay_bases.unwrap_or(DEFAULT_PAY_BASES))?,
            comment_below: {
                let t = comment_below.unwrap_or(DEFAULT_COMMENT_BELOW);
                parse_score(t).map_err(|_| PolicyError::Setting {
                    key: COMMENT_BELOW_KEY,
                    text: t.to_string(),
                    expected: "a score 0–100",
                })?
            },
        })
    }

    /// The grade of a score (hundredths).
    pub fn grade(&self, score: i64) -> Grade {
        self.bands.iter().find(|(_, min)| score >= *min).map_or(Grade::D, |(g, _)| *g)
    }

    /// The coefficient (per mille) of a grade.
    pub fn coefficient(&self, grade: Grade) -> i64 {
        self.coefficients.iter().find(|(g, _)| *g == grade).map_or(1000, |(_, c)| *c)
    }

    /// The pay base (fen) of a level, if the level is known.
    pub fn pay_base(&self, level: &str) -> Option<i64> {
        self.pay_bases.iter().find(|(l, _)| l == level.trim()).map(|(_, b)| *b)
    }
}

/// Checks a setting's text before it is saved; `Ok(false)` for keys that are not appraisal's.
pub fn check_setting(key: &str, text: &str) -> Result<bool, PolicyError> {
    match key {
        BANDS_KEY => parse_bands(text).map(|_| true),
        COEFFICIENTS_KEY => parse_coefficients(text).map(|_| true),
        PAY_BASES_KEY => parse_pay_bases(text).map(|_| true),
        COMMENT_BELOW_KEY => Policy::from_settings(None, None, None, Some(text)).map(|_| true),
        HEAD_LEVELS_KEY => parse_head_levels(text).map(|_| true),
        _ => Ok(false),
    }
}

fn parse_bands(text: &str) -> Result<[(Grade, i64); 7], PolicyError> {
    let bad = || PolicyError::Setting {
        key: BANDS_KEY,
        text: text.to_string(),
        expected: "seven falling lower bounds A+ to C, e.g. A+:97,A:94,A-:91,B+:88,B:84,B-:81,C:71",
    };
    let mut out = Vec::new();
    for p in pairs(text) {
        let (g, v) = p.ok_or_else(bad)?;
        out.push((Grade::parse(g).ok_or_else(bad)?, parse_score(v).map_err(|_| bad())?));
    }
    let arr: [(Grade, i64); 7] = out.try_into().map_err(|_| bad())?;
    let in_order = arr.iter().map(|x| x.0).eq(Grade::ALL[..7].iter().copied());
    let falling = arr.windows(2).all(|w| w[0].1 > w[1].1);
    if in_order && falling { Ok(arr) } else { Err(bad()) }
}

fn parse_coefficients(text: &str) -> Result<[(Grade, i64); 8], PolicyError> {
    let bad = || PolicyError::Setting {
        key: COEFFICIENTS_KEY,
        text: text.to_string(),
        expected: "a percent for each grade A+ to D, e.g. A+:125,A:115,…,D:70",
    };
    let mut out = Vec::new();
    for p in pairs(text) {
        let (g, v) = p.ok_or_else(bad)?;
        let pct = crate::Money::parse_yuan(v).map_err(|_| bad())?.fen();
        if !(0..=100_000).contains(&pct) {
            return Err(bad());
        }
        out.push((Grade::parse(g).ok_or_else(bad)?, pct / 10));
    }
    let arr: [(Grade, i64); 8] = out.try_into().map_err(|_| bad())?;
    if arr.iter().map(|x| x.0).eq(Grade::ALL.iter().copied()) { Ok(arr) } else { Err(bad()) }
}

fn parse_pay_bases(text: &str) -> Result<Vec<(String, i64)>, PolicyError> {
    let bad = || PolicyError::Setting {
        key: PAY_BASES_KEY,
        text: text.to_string(),
        expected: "level:yuan pairs, e.g. manager:500,supervisor:400",
    };
    let mut out: Vec<(String, i64)> = Vec::new();
    for p in pairs(text) {
        let (level, v) = p.ok_or_else(bad)?;
        let fen = crate::Money::parse_yuan(v).map_err(|_| bad())?.fen();
        if level.is_empty() || fen < 0 || out.iter().any(|(l, _)| l == level) {
            return Err(bad());
        }
        out.push((level.to_string(), fen));
    }
    if out.is_empty() { Err(bad()) } else { Ok(out) }
}

impl Default for Policy {
    fn default() -> Policy {
        Policy::from_settings(None, None, None, None).unwrap_or_else(|_| unreachable!("the defaults parse"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn grade(text: &str) -> Grade {
        Policy::default().grade(parse_score(text).unwrap())
    }

    #[test]
    fn grades_at_every_band_edge() {
        for (score, want) in [
            ("100", "A+"),
            ("97", "A+"),
            ("96.99", "A"),
            ("94", "A"),
            ("93.99", "A-"),
            ("91", "A-"),
            ("90.99", "B+"),
            ("88", "B+"),
            ("87.99", "B"),
            ("84", "B"),
            ("83.99", "B-"),
            ("81", "B-"),
            ("80.99", "C"),
            ("71", "C"),
            ("70.99", "D"),
            ("70.5", "D"),
            ("0", "D"),
        ] {
            assert_eq!(grade(score).label(), want, "{score}");
        }
    }

    #[test]
    fn scores_outside_0_to_100_or_not_numbers_are_refused() {
        assert_eq!(parse_score("100.01"), Err(PolicyError::OutOfRange("100.01".into())));
        assert_eq!(parse_score("-1"), Err(PolicyError::OutOfRange("-1".into())));
        assert!(matches!(parse_score("abc"), Err(PolicyError::NotAScore(_))));
        assert!(matches!(parse_score("92.555"), Err(PolicyError::NotAScore(_))));
        assert_eq!(parse_score(" 92.5 "), Ok(9250));
    }

    #[test]
    fn the_policy_is_a_set_of_checked_settings() {
        let p = Policy::default();
        assert_eq!(p.coefficient(Grade::A), 1150);
        assert_eq!(p.pay_base("manager"), Some(50_000));
        assert_eq!(p.pay_base("cleaning"), Some(5_000));
        let custom = Policy::from_settings(Some("A+:98,A:95,A-:90,B+:85,B:80,B-:75,C:60"), None, None, None).unwrap();
        assert_eq!(custom.grade(9799), Grade::A);
        assert!(check_setting(BANDS_KEY, "A+:97,A:98,A-:91,B+:88,B:84,B-:81,C:71").is_err(), "bands must fall");
        assert!(check_setting(COEFFICIENTS_KEY, "A:115").is_err(), "every grade");
        assert!(check_setting(PAY_BASES_KEY, "manager:500,manager:400").is_err());
        assert_eq!(check_setting("sales.keep_line_detail", "true"), Ok(false));
    }

    proptest! {
        #[test]
        fn every_score_has_exactly_the_grade_of_its_band(score in 0i64..=10_000) {
            let p = Policy::default();
            let g = p.grade(score);
            let lower = p.bands.iter().find(|b| b.0 == g).map_or(0, |b| b.1);
            prop_assert!(score >= lower);
            // No better grade's band would take it.
            prop_assert!(p.bands.iter().filter(|b| b.0 < g).all(|b| score < b.1));
        }
    }
}
