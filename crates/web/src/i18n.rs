//! The words of the desk in Chinese and English, from the locale files
//! `locales/zh-CN.txt` and `locales/en.txt` (one `key = text` per line),
//! embedded in the binary. Both files hold the same keys; a test says so.

use std::collections::HashMap;
use std::sync::OnceLock;

use opsdesk_domain::i18n::Lang;

const ZH: &str = include_str!("../locales/zh-CN.txt");
const EN: &str = include_str!("../locales/en.txt");

fn parse(text: &'static str) -> HashMap<&'static str, &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim(), v.trim())))
        .collect()
}

fn table(lang: Lang) -> &'static HashMap<&'static str, &'static str> {
    static ZH_T: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    static EN_T: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    match lang {
        Lang::Zh => ZH_T.get_or_init(|| parse(ZH)),
        Lang::En => EN_T.get_or_init(|| parse(EN)),
    }
}

/// The texts of one language, as templates use them: `{{ tr.t("nav.daily") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    /// The text for `key`; the key itself when missing (the test below keeps
    /// that from happening).
    pub fn t<'k>(&self, key: &'k str) -> &'k str {
        table(self.lang).get(key).copied().unwrap_or(key)
    }

    /// `zh` or `en`, for the page's `lang` attribute and links.
    pub fn code(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch in the header.
    pub fn other(&self) -> Tr {
        Tr { lang: if self.lang == Lang::Zh { Lang::En } else { Lang::Zh } }
    }
}

/// A number as the pages show it in `lang`: digits grouped by thousands.
/// Chinese business writing groups by thousands with commas, as English
/// does, so both languages read `12,345.67`; downloads keep plain numbers.
pub fn group_digits(text: &str, lang: Lang) -> String {
    let sep = match lang {
        Lang::Zh | Lang::En => ',',
    };
    let (sign, rest) = text.strip_prefix('-').map_or(("", text), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// The language a browser asks for first among ours (`Accept-Language`).
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for part in header.split(',') {
        let mut it = part.split(';');
        let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse().ok()).unwrap_or(1.0);
        let lang = if tag.starts_with("zh") {
            Lang::Zh
        } else if tag.starts_with("en") {
            Lang::En
        } else {
            continue;
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locale_files_hold_the_same_keys_and_no_empty_text() {
        let (zh, en) = (parse(ZH), parse(EN));
        let mut zk: Vec<_> = zh.keys().collect();
        let mut ek: Vec<_> = en.keys().collect();
        zk.sort();
        ek.sort();
        assert_eq!(zk, ek);
        assert!(zh.values().chain(en.values()).all(|v| !v.is_empty()));
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        for (plain, grouped) in [
            ("1234567.89", "1,234,567.89"),
            ("-1234.5", "-1,234.5"),
            ("999", "999"),
            ("1000", "1,000"),
            ("0.05", "0.05"),
            ("", ""),
            ("—", "—"),
        ] {
            assert_eq!(group_digits(plain, Lang::Zh), grouped);
            assert_eq!(group_digits(plain, Lang::En), grouped);
        }
    }

    #[test]
    fn the_browser_language_is_read_with_its_weights() {
        assert_eq!(from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::Zh));
        assert_eq!(from_accept_language("en-US,en;q=0.9,zh-CN;q=0.5"), Some(Lang::En));
        assert_eq!(from_accept_language("fr;q=1,en;q=0.3"), Some(Lang::En));
        assert_eq!(from_accept_language("fr"), None);
    }
}
