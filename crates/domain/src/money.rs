//! Money is an exact count of fen (分, 1/100 yuan) in an `i64`. It is parsed
//! from decimal text, never from a float, and formatted only at the edge.
//! `rdiv` is the one rounding rule of every ratio a report shows.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use serde::{Deserialize, Serialize};

/// An amount of money in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

/// The largest amount a single cell may hold: 10¹³ yuan. Far beyond any sale,
/// and small enough that sums of billions of lines cannot overflow an `i64`.
const MAX_FEN: i64 = 1_000_000_000_000_000;

/// Why a text is not an amount of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyError {
    Empty,
    /// Anything but an optional `-`, digits, and at most one `.` (no `+`,
    /// thousands separators, currency signs, exponents or spaces inside).
    NotADecimal,
    /// More than two digits after the point.
    TooManyDecimals,
    TooLarge,
}

impl MoneyError {
    pub fn text(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            MoneyError::Empty => lang.pick("金额为空", "the amount is empty"),
            MoneyError::NotADecimal => lang.pick(
                "不是金额：只允许数字、负号和小数点（如 12.30、-5）",
                "not an amount: only digits, a leading minus and a decimal point (e.g. 12.30, -5)",
            ),
            MoneyError::TooManyDecimals => lang.pick("小数超过两位", "more than two decimal places"),
            MoneyError::TooLarge => lang.pick("金额过大", "the amount is too large"),
        }
    }
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn fen(self) -> i64 {
        self.0
    }

    /// Parses decimal yuan text exactly: `12`, `12.3`, `12.30`, `-0.05`.
    /// Leading and trailing ASCII whitespace is ignored.
    pub fn parse_yuan(text: &str) -> Result<Money, MoneyError> {
        let t = text.trim_ascii().as_bytes();
        if let Some(fen) = two_place_fen(t) {
            return Ok(Money(fen));
        }
        if t.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (neg, digits) = match t[0] {
            b'-' => (true, &t[1..]),
            _ => (false, t),
        };
        let (int_part, frac_part) = match digits.iter().position(|&b| b == b'.') {
            Some(p) => (&digits[..p], Some(&digits[p + 1..])),
            None => (digits, None),
        };
        if int_part.is_empty() || !int_part.iter().all(u8::is_ascii_digit) {
            return Err(MoneyError::NotADecimal);
        }
        let frac = match frac_part {
            None => 0,
            Some(f) if f.is_empty() || !f.iter().all(u8::is_ascii_digit) => {
                return Err(MoneyError::NotADecimal);
            }
            Some(f) if f.len() > 2 => return Err(MoneyError::TooManyDecimals),
            Some(f) if f.len() == 1 => i64::from(f[0] - b'0') * 10,
            Some(f) => i64::from(f[0] - b'0') * 10 + i64::from(f[1] - b'0'),
        };
        if int_part.len() > 14 {
            return Err(MoneyError::TooLarge);
        }
        let whole = int_part.iter().fold(0i64, |acc, &b| acc * 10 + i64::from(b - b'0'));
        let fen = whole * 100 + frac;
        if fen > MAX_FEN {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money(if neg { -fen } else { fen }))
    }
}

/// The spelling of nearly every POS amount, `[-]d….dd` with at most 12
/// integer digits, read in one pass; `None` for anything else, which the
/// general reader then judges.
#[inline]
fn two_place_fen(t: &[u8]) -> Option<i64> {
    let (neg, d) = match t.first()? {
        b'-' => (true, &t[1..]),
        _ => (false, t),
    };
    let n = d.len();
    if !(4..=15).contains(&n) || d[n - 3] != b'.' {
        return None;
    }
    let mut fen: i64 = 0;
    for &c in d[..n - 3].iter().chain(&d[n - 2..]) {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        fen = fen * 10 + i64::from(digit);
    }
    Some(if neg { -fen } else { fen })
}

impl fmt::Display for Money {
    /// Yuan with exactly two decimals: `1234` fen → `12.34`, `-5` → `-0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_hundredths(self.0, f)
    }
}

/// Writes an integer count of hundredths as a decimal with two places.
pub fn fmt_hundredths(n: i64, f: &mut impl fmt::Write) -> fmt::Result {
    let sign = if n < 0 { "-" } else { "" };
    let a = n.unsigned_abs();
    write!(f, "{sign}{}.{:02}", a / 100, a % 100)
}

/// Appends `n` in decimal, as `{n}` writes it, without the formatting
/// machinery (a report of 200,000 rows writes a million numbers).
pub fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_digits(out, n.unsigned_abs(), 1);
}

/// Appends `n` with at least `width` digits, zeros in front.
fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut at = buf.len();
    while n > 0 || buf.len() - at < width {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.push_str(std::str::from_utf8(&buf[at..]).expect("ASCII digits"));
}

/// Appends an integer count of hundredths as [`fmt_hundredths`] writes it.
pub fn push_hundredths(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let a = n.unsigned_abs();
    push_digits(out, a / 100, 1);
    out.push('.');
    push_digits(out, a % 100, 2);
}

/// An integer count of hundredths as text: `1234` → `12.34`.
pub fn hundredths(n: i64) -> String {
    let mut s = String::new();
    push_hundredths(&mut s, n);
    s
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}
impl SubAssign for Money {
    fn sub_assign(&mut self, o: Money) {
        self.0 -= o.0;
    }
}
impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

/// The integer nearest to `a / b`, halves away from zero; `None` when `b ≤ 0`.
/// The only division whose result a report shows (`bench/REPORTS.md` §2).
pub fn rdiv(a: i128, b: i128) -> Option<i64> {
    if b <= 0 {
        return None;
    }
    let q = if a >= 0 { (2 * a + b) / (2 * b) } else { -((2 * (-a) + b) / (2 * b)) };
    i64::try_from(q).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_at_the_edges_are_pushed_whole() {
        for n in [0, 5, -5, 100, -100, 1234, i64::MIN, i64::MAX] {
            let (mut int, mut fixed) = (String::new(), String::new());
            push_int(&mut int, n);
            push_hundredths(&mut fixed, n);
            assert_eq!((int, fixed), (n.to_string(), Money(n).to_string()));
        }
        let mut s = String::new();
        push_hundredths(&mut s, -5);
        assert_eq!(s, "-0.05");
    }

    #[test]
    fn parses_exact_decimal_yuan() {
        assert_eq!(Money::parse_yuan("12.30"), Ok(Money(1230)));
        assert_eq!(Money::parse_yuan("12.3"), Ok(Money(1230)));
        assert_eq!(Money::parse_yuan("12"), Ok(Money(1200)));
        assert_eq!(Money::parse_yuan("-0.05"), Ok(Money(-5)));
        assert_eq!(Money::parse_yuan(" 7.01\r"), Ok(Money(701)));
        assert_eq!(Money::parse_yuan("0"), Ok(Money(0)));
    }

    #[test]
    fn refuses_what_is_not_a_plain_decimal() {
        for bad in ["12.3元", "N/A", "abc", "1,234.50", "￥15.00", "12.3.4", "--5", "+5", ".5", "5.", "1e3", "- 5"] {
            assert_eq!(Money::parse_yuan(bad), Err(MoneyError::NotADecimal), "{bad}");
        }
        assert_eq!(Money::parse_yuan(""), Err(MoneyError::Empty));
        assert_eq!(Money::parse_yuan("1.234"), Err(MoneyError::TooManyDecimals));
        assert_eq!(Money::parse_yuan("99999999999999999"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn formats_two_decimals() {
        assert_eq!(Money(1234).to_string(), "12.34");
        assert_eq!(Money(-5).to_string(), "-0.05");
        assert_eq!(Money(0).to_string(), "0.00");
        assert_eq!(hundredths(-120), "-1.20");
    }

    #[test]
    fn rdiv_rounds_halves_away_from_zero() {
        assert_eq!(rdiv(5, 2), Some(3));
        assert_eq!(rdiv(-5, 2), Some(-3));
        assert_eq!(rdiv(4, 3), Some(1));
        assert_eq!(rdiv(-4, 3), Some(-1));
        assert_eq!(rdiv(1, 0), None);
        assert_eq!(rdiv(1, -3), None);
    }

    proptest! {
        #[test]
        fn rdiv_matches_exact_rational_rounding(a in -1_000_000_000i64..1_000_000_000, b in 1i64..1_000_000) {
            let q = rdiv(a.into(), b.into()).unwrap();
            // |a/b - q| <= 1/2, and at exactly 1/2 q lies away from zero.
            let twice_diff = 2 * (i128::from(a) - i128::from(q) * i128::from(b));
            prop_assert!(twice_diff.abs() <= i128::from(b));
            if twice_diff.abs() == i128::from(b) {
                prop_assert!(q.abs() * b >= a.abs());
            }
        }

        #[test]
        fn numbers_are_pushed_as_the_formatter_writes_them(n in any::<i64>()) {
            let (mut int, mut fixed) = (String::new(), String::new());
            push_int(&mut int, n);
            push_hundredths(&mut fixed, n);
            prop_assert_eq!(int, n.to_string());
            prop_assert_eq!(fixed, Money(n).to_string());
        }

        #[test]
        fn display_and_parse_round_trip(fen in -MAX_FEN..MAX_FEN) {
            prop_assert_eq!(Money::parse_yuan(&Money(fen).to_string()), Ok(Money(fen)));
        }
    }
}
