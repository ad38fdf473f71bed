//! People and roles (人员与角色): who a user is, what her role lets her do,
//! and which stores she reaches.

use crate::i18n::Lang;

/// A user's role. Service-desk roles arrive with the service desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Manages users and settings; sees every store.
    Admin,
    /// The operations department: every store, edits targets and imports.
    Operations,
    /// Her regions' stores.
    RegionManager,
    /// Her one store.
    StoreManager,
    /// Every store's figures, payouts; no imports.
    Finance,
}

/// What a role's reach is tied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReachKind {
    AllStores,
    Region,
    Store,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Operations, Role::RegionManager, Role::StoreManager, Role::Finance];

    /// The stored and typed name.
    pub fn key(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operations => "operations",
            Role::RegionManager => "region-manager",
            Role::StoreManager => "store-manager",
            Role::Finance => "finance",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Role::Admin => lang.pick("系统管理员", "Administrator"),
            Role::Operations => lang.pick("运营部", "Operations"),
            Role::RegionManager => lang.pick("区域经理", "Region manager"),
            Role::StoreManager => lang.pick("店长", "Store manager"),
            Role::Finance => lang.pick("财务", "Finance"),
        }
    }

    /// A role from its key or its Chinese name.
    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim();
        Role::ALL.into_iter().find(|r| r.key() == s || r.label(Lang::Zh) == s || r.key().replace('-', "_") == s)
    }

    pub fn reach_kind(self) -> ReachKind {
        match self {
            Role::Admin | Role::Operations | Role::Finance => ReachKind::AllStores,
            Role::RegionManager => ReachKind::Region,
            Role::StoreManager => ReachKind::Store,
        }
    }

    /// May manage users, their reach and settings.
    pub fn administers(self) -> bool {
        self == Role::Admin
    }

    /// May make and change target plans and approve their payout sheets.
    pub fn plans_targets(self) -> bool {
        matches!(self, Role::Admin | Role::Operations)
    }

    /// May import data and change stores.
    pub fn imports(self) -> bool {
        matches!(self, Role::Admin | Role::Operations)
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;
/// The longest: argon2 hashes any length, but a sign-in form need not take megabytes.
pub const MAX_PASSWORD: usize = 256;

/// Why a password is refused, if it is.
pub fn password_problem(password: &str, name: &str, lang: Lang) -> Option<&'static str> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        Some(lang.pick("密码太短（至少 10 个字符）", "the password is too short (at least 10 characters)"))
    } else if n > MAX_PASSWORD {
        Some(lang.pick("密码太长（最多 256 个字符）", "the password is too long (at most 256 characters)"))
    } else if password.eq_ignore_ascii_case(name) || password.chars().all(|c| password.starts_with(c)) {
        Some(lang.pick("密码太容易猜到", "the password is too easy to guess"))
    } else {
        None
    }
}

/// Why a user name is refused, if it is: 1–64 characters, no spaces at
/// either end, no control characters.
pub fn name_problem(name: &str, lang: Lang) -> Option<&'static str> {
    let n = name.chars().count();
    if n == 0 {
        Some(lang.pick("用户名不能为空", "the user name must not be empty"))
    } else if n > 64 {
        Some(lang.pick("用户名太长（最多 64 个字符）", "the user name is too long (at most 64 characters)"))
    } else if name.trim() != name || name.chars().any(char::is_control) {
        Some(lang.pick(
            "用户名不能以空格开头或结尾，也不能含控制字符",
            "the user name must not start or end with a space or hold control characters",
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_key_or_chinese_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.key()), Some(r));
            assert_eq!(Role::parse(r.label(Lang::Zh)), Some(r));
        }
        assert_eq!(Role::parse("store_manager"), Some(Role::StoreManager));
        assert_eq!(Role::parse("boss"), None);
    }

    #[test]
    fn each_role_reaches_what_it_should() {
        assert_eq!(Role::StoreManager.reach_kind(), ReachKind::Store);
        assert_eq!(Role::RegionManager.reach_kind(), ReachKind::Region);
        assert_eq!(Role::Finance.reach_kind(), ReachKind::AllStores);
        assert!(Role::Admin.administers() && !Role::Operations.administers());
        assert!(Role::Operations.imports() && !Role::Finance.imports() && !Role::StoreManager.imports());
    }

    #[test]
    fn weak_passwords_and_bad_names_are_refused_with_a_reason() {
        let en = Lang::En;
        assert_eq!(password_problem("short", "li", en), Some("the password is too short (at least 10 characters)"));
        assert_eq!(password_problem("aaaaaaaaaaaa", "li", en), Some("the password is too easy to guess"));
        assert_eq!(password_problem("Wang.Fang.2026", "wang.fang.2026", en), Some("the password is too easy to guess"));
        assert_eq!(password_problem("门店经理的好密码123", "li", en), None);
        assert_eq!(name_problem("", en), Some("the user name must not be empty"));
        assert!(name_problem(" li", en).is_some() && name_problem("li\n", en).is_some());
        assert_eq!(name_problem("王芳", en), None);
    }
}
