//! Typed fields from text cells, each refusal with its reason in both languages.

use opsdesk_domain::Money;
use opsdesk_domain::calendar::{parse_date, parse_datetime};
use opsdesk_domain::i18n::Lang;

use chrono::{NaiveDate, NaiveDateTime};

/// The longest code (ticket, SKU, member, store) accepted.
const MAX_CODE: usize = 64;

#[inline]
pub fn code(v: &str, lang: Lang) -> Result<&str, String> {
    if v.is_empty() {
        Err(lang.pick("必填，不能为空", "required, must not be empty").to_string())
    } else if v.len() > MAX_CODE && v.chars().count() > MAX_CODE {
        Err(lang.pick("过长（最多 64 个字符）", "too long (at most 64 characters)").to_string())
    } else {
        Ok(v)
    }
}

#[inline]
pub fn optional_code(v: &str, lang: Lang) -> Result<Option<&str>, String> {
    if v.is_empty() { Ok(None) } else { code(v, lang).map(Some) }
}

#[inline]
pub fn money(v: &str, lang: Lang) -> Result<i64, String> {
    Money::parse_yuan(v).map(Money::fen).map_err(|e| e.text(lang).to_string())
}

/// A whole number: an optional `-` and at most 12 digits, nothing else.
pub fn integer(v: &str, lang: Lang) -> Result<i64, String> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if v.is_empty() {
        return Err(lang.pick("必填，不能为空", "required, must not be empty").to_string());
    }
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(lang.pick("不是整数（如 1、-2）", "not a whole number (e.g. 1, -2)").to_string());
    }
    digits.parse::<i64>().map(|n| if v.starts_with('-') { -n } else { n }).map_err(|e| e.to_string())
}

pub fn non_negative(v: &str, lang: Lang) -> Result<i64, String> {
    match integer(v, lang)? {
        n if n < 0 => Err(lang.pick("不能为负数", "must not be negative").to_string()),
        n => Ok(n),
    }
}

pub fn positive(v: &str, lang: Lang) -> Result<i64, String> {
    match integer(v, lang)? {
        n if n <= 0 => Err(lang.pick("必须大于 0", "must be greater than 0").to_string()),
        n => Ok(n),
    }
}

pub fn datetime(v: &str, lang: Lang) -> Result<NaiveDateTime, String> {
    parse_datetime(v).map_err(|e| e.text(lang, true).to_string())
}

pub fn date(v: &str, lang: Lang) -> Result<NaiveDate, String> {
    parse_date(v).map_err(|e| e.text(lang, false).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_whole_numbers_only() {
        let en = Lang::En;
        assert_eq!(integer("3", en), Ok(3));
        assert_eq!(integer("-2", en), Ok(-2));
        for bad in ["1.5", "x", "二", "1e3", "-", "+1", "1 000"] {
            assert_eq!(integer(bad, en), Err("not a whole number (e.g. 1, -2)".to_string()), "{bad}");
        }
        assert_eq!(integer("", en), Err("required, must not be empty".to_string()));
    }
}
