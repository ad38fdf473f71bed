//! Sign-in state: random tokens, cookies, timeouts, CSRF and the sign-in
//! rate limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, SET_COOKIE};
use chrono::Utc;
use opsdesk_db::people::Session;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "opsdesk_session";
pub const LOGIN_CSRF_COOKIE: &str = "opsdesk_login_csrf";
pub const LANG_COOKIE: &str = "opsdesk_lang";

/// A session ends after this long without a request…
pub const IDLE: chrono::Duration = chrono::Duration::hours(2);
/// …and this long after sign-in, whatever happens.
pub const ABSOLUTE: chrono::Duration = chrono::Duration::hours(12);
/// Activity is written back at most this often.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal strings, compared in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie of the request.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when the
/// desk is served over TLS; `max_age` 0 deletes the cookie.
pub fn set_cookie(headers: &mut HeaderMap, name: &str, value: &str, max_age: Option<i64>, secure: bool) {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    if let Ok(v) = c.parse() {
        headers.append(SET_COOKIE, v);
    }
}

/// Whether the session is past one of its timeouts.
pub fn expired(s: &Session) -> bool {
    let now = Utc::now();
    now - s.seen_at > IDLE || now - s.created_at > ABSOLUTE
}

/// Whether the session's last activity should be written back.
pub fn needs_touch(s: &Session) -> bool {
    Utc::now() - s.seen_at > TOUCH_EVERY
}

/// Failed sign-ins per key (an address, or an account) within a window.
pub struct RateLimit {
    max: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl RateLimit {
    pub fn new(max: usize, window: Duration) -> RateLimit {
        RateLimit { max, window, failures: Mutex::new(HashMap::new()) }
    }

    fn recent(&self, map: &mut HashMap<String, Vec<Instant>>, key: &str) -> usize {
        let window = self.window;
        match map.get_mut(key) {
            Some(v) => {
                v.retain(|t| t.elapsed() < window);
                v.len()
            }
            None => 0,
        }
    }

    /// Whether `key` may try again now.
    pub fn allows(&self, key: &str) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        self.recent(&mut map, key) < self.max
    }

    pub fn fail(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Bound the memory an attacker can make us hold.
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, v| v.last().is_some_and(|t| t.elapsed() < window));
        }
        map.entry(key.to_string()).or_default().push(Instant::now());
    }

    pub fn clear(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_several_headers() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, "a=1; opsdesk_session=abc".parse().unwrap());
        h.append(COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn the_rate_limit_counts_failures_in_its_window() {
        let r = RateLimit::new(2, Duration::from_secs(60));
        assert!(r.allows("ip"));
        r.fail("ip");
        r.fail("ip");
        assert!(!r.allows("ip"));
        assert!(r.allows("other"));
        r.clear("ip");
        assert!(r.allows("ip"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(same(&a, &a.clone()) && !same(&a, &b));
    }
}
