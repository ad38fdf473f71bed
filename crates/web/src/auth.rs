//! Passwords: argon2id with a fresh random salt, stored as a PHC string
//! (`$argon2id$v=19$m=19456,t=2,p=1$…`, the OWASP parameters).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// The PHC string of `password`.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` matches the stored `hash`. A damaged hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify_only_their_password() {
        let a = hash_password("门店经理的好密码123").unwrap();
        let b = hash_password("门店经理的好密码123").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("门店经理的好密码123", &a));
        assert!(!verify_password("门店经理的好密码124", &a));
        assert!(!verify_password("门店经理的好密码123", "not a hash"));
    }
}
