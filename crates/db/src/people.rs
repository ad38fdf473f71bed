//! Users (用户): their role, reach and password hash. Hashing itself is the
//! caller's (argon2id in the web crate); this module stores and finds.

use chrono::{DateTime, Utc};
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::people::{ReachKind, Role, name_problem};
use serde_json::json;

use crate::audit::audit;
use crate::scope::Reach;
use crate::{BeginWrite, Db, DbError, Result, Scope, on_pool};

/// Where a new user's reach is tied, as the person creating her names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReachRef {
    None,
    /// A store code.
    Store(String),
    /// A region name, or its path `华东/上海` when the name alone is ambiguous.
    Region(String),
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub reach: ReachRef,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub region_id: Option<i64>,
    pub store_id: Option<i64>,
    pub password_hash: String,
    pub lang: Option<Lang>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl User {
    /// What this user may see: every query of her requests takes it.
    pub fn scope(&self) -> Scope {
        let reach = match (self.role.reach_kind(), self.store_id, self.region_id) {
            (ReachKind::Store, Some(s), _) => Reach::Store(s),
            (ReachKind::Region, _, Some(r)) => Reach::Regions(vec![r]),
            (ReachKind::AllStores, _, _) => Reach::All,
            // The schema forbids these; should one appear, she sees nothing.
            _ => Reach::Regions(Vec::new()),
        };
        Scope::new(&format!("user:{}", self.name), reach)
            .administering(self.role.administers())
            .planning(self.role.plans_targets())
    }
}

type UserRow = (i64, String, String, Option<i64>, Option<i64>, String, Option<String>, bool, DateTime<Utc>);

const USER_COLUMNS: &str =
    "SELECT id, name, role, region_id, store_id, password_hash, lang, active, created_at FROM app_user";

fn user(r: UserRow) -> Result<User> {
    let role = Role::parse(&r.2).ok_or_else(|| DbError::Rule(format!("user {} has an unknown role '{}'", r.1, r.2)))?;
    Ok(User {
        id: r.0,
        name: r.1,
        role,
        region_id: r.3,
        store_id: r.4,
        password_hash: r.5,
        lang: r.6.as_deref().map(Lang::from_locale),
        active: r.7,
        created_at: r.8,
    })
}

impl Db {
    /// Resolves where a role's reach is tied: a store by code, a region by
    /// name or path. Refuses a reach the role does not take or lacks.
    async fn resolve_reach(&self, role: Role, reach: &ReachRef) -> Result<(Option<i64>, Option<i64>)> {
        match (role.reach_kind(), reach) {
            (ReachKind::AllStores, ReachRef::None) => Ok((None, None)),
            (ReachKind::Store, ReachRef::Store(code)) => {
                let id: Option<i64> = on_pool!(self, p => sqlx::query_scalar("SELECT id FROM store WHERE code = $1")
                    .bind(code).fetch_optional(p).await?);
                let id = id.ok_or_else(|| {
                    DbError::refused(format!("没有编码为 {code} 的门店"), format!("there is no store with code {code}"))
                })?;
                Ok((None, Some(id)))
            }
            (ReachKind::Region, ReachRef::Region(name)) => {
                let tree = self.region_tree().await?;
                let wanted: Vec<&str> = name.split('/').map(str::trim).collect();
                let matches: Vec<i64> = tree
                    .ids()
                    .filter(|&id| {
                        let path = tree.path(id);
                        path.len() >= wanted.len() && path[path.len() - wanted.len()..].iter().eq(wanted.iter())
                    })
                    .collect();
                match matches.as_slice() {
                    [id] => Ok((Some(*id), None)),
                    [] => Err(DbError::refused(
                        format!("没有名为 {name} 的区域"),
                        format!("there is no region named {name}"),
                    )),
                    _ => Err(DbError::refused(
                        format!("有多个名为 {name} 的区域：请写出上级，如 华东/{name}"),
                        format!("several regions are named {name}: name its parent too, e.g. East/{name}"),
                    )),
                }
            }
            (ReachKind::Store, _) => {
                Err(DbError::refused("店长须指定门店（--store）", "a store manager needs a store (--store)"))
            }
            (ReachKind::Region, _) => {
                Err(DbError::refused("区域经理须指定区域（--region）", "a region manager needs a region (--region)"))
            }
            (ReachKind::AllStores, _) => Err(DbError::refused(
                format!("{} 角色看全部门店，不能指定门店或区域", role.label(Lang::Zh)),
                format!("the {} role sees every store; it takes no store or region", role.key()),
            )),
        }
    }

    /// Creates a user. Only the command line (system scope) or an
    /// administrator may; the name must be free.
    pub async fn create_user(&self, scope: &Scope, new: &NewUser) -> Result<User> {
        if !scope.administers() {
            return Err(DbError::refused("只有系统管理员可以添加用户", "only an administrator may add users"));
        }
        if let Some(problem) = name_problem(&new.name, Lang::En) {
            return Err(DbError::refused(name_problem(&new.name, Lang::Zh).unwrap_or(problem), problem));
        }
        let (region_id, store_id) = self.resolve_reach(new.role, &new.reach).await?;
        if self.user_by_name(&new.name).await?.is_some() {
            return Err(DbError::refused(
                format!("用户名 {} 已被使用", new.name),
                format!("the user name {} is taken", new.name),
            ));
        }
        let now = Utc::now();
        let id: i64 = on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO app_user (name, role, region_id, store_id, password_hash, active, created_at)
                 VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING id")
                .bind(&new.name).bind(new.role.key()).bind(region_id).bind(store_id).bind(&new.password_hash).bind(now)
                .fetch_one(&mut *tx).await?;
            let after = json!({"name": new.name, "role": new.role.key(), "region_id": region_id, "store_id": store_id});
            audit!(&mut *tx, scope.actor(), "create", "app_user", id.to_string(), None, Some(after));
            tx.commit().await?;
            id
        });
        self.user(id).await?.ok_or_else(|| DbError::Rule("the new user vanished".into()))
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let sql = sqlx::AssertSqlSafe(format!("{USER_COLUMNS} WHERE id = $1"));
        let row: Option<UserRow> = on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await?);
        row.map(user).transpose()
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let sql = sqlx::AssertSqlSafe(format!("{USER_COLUMNS} WHERE name = $1"));
        let row: Option<UserRow> = on_pool!(self, p => sqlx::query_as(sql).bind(name).fetch_optional(p).await?);
        row.map(user).transpose()
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = sqlx::AssertSqlSafe(format!("{USER_COLUMNS} ORDER BY name"));
        let rows: Vec<UserRow> = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?);
        rows.into_iter().map(user).collect()
    }
}

/// A signed-in session, found by the hash of its cookie token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user: User,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub seen_at: DateTime<Utc>,
}

type SessionRow = (String, i64, String, DateTime<Utc>, DateTime<Utc>);

impl Db {
    /// Starts a session for `user`, recording the sign-in.
    pub async fn create_session(&self, user: &User, token_hash: &str, csrf: &str, ip: &str) -> Result<()> {
        let now = Utc::now();
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO user_session (token_hash, user_id, csrf, created_at, seen_at, ip) VALUES ($1, $2, $3, $4, $4, $5)")
                .bind(token_hash).bind(user.id).bind(csrf).bind(now).bind(ip).execute(&mut *tx).await?;
            audit!(&mut *tx, format!("user:{}", user.name), "sign-in", "app_user", user.id.to_string(), None, Some(json!({"ip": ip})));
            tx.commit().await?;
        });
        Ok(())
    }

    /// The session with this token hash and its (active) user, if any.
    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let row: Option<SessionRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT token_hash, user_id, csrf, created_at, seen_at FROM user_session WHERE token_hash = $1")
            .bind(token_hash).fetch_optional(p).await?);
        let Some((token_hash, user_id, csrf, created_at, seen_at)) = row else { return Ok(None) };
        Ok(self.user(user_id).await?.filter(|u| u.active).map(|user| Session {
            token_hash,
            user,
            csrf,
            created_at,
            seen_at,
        }))
    }

    /// Marks the session as used now.
    pub async fn touch_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE user_session SET seen_at = $2 WHERE token_hash = $1")
                .bind(token_hash).bind(Utc::now()).execute(p).await?;
        });
        Ok(())
    }

    /// Ends a session; `signed_out` records it as the user's own sign-out
    /// (rather than a timeout).
    pub async fn end_session(&self, session: &Session, signed_out: bool) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM user_session WHERE token_hash = $1").bind(&session.token_hash).execute(&mut *tx).await?;
            let action = if signed_out { "sign-out" } else { "session-expired" };
            let u = &session.user;
            audit!(&mut *tx, format!("user:{}", u.name), action, "app_user", u.id.to_string(), None, None::<serde_json::Value>);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records a refused sign-in (unknown name or wrong password).
    pub async fn record_failed_sign_in(&self, name: &str, ip: &str) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            audit!(&mut *tx, "anonymous", "sign-in-failed", "app_user", name, None, Some(json!({"ip": ip})));
            tx.commit().await?;
        });
        Ok(())
    }
}

/// A bearer token of the JSON API, as its owner sees it listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

type TokenRow = (i64, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

impl Db {
    /// Records a new token of `user` (its hash), named by her.
    pub async fn create_api_token(&self, user: &User, name: &str, token_hash: &str) -> Result<i64> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(DbError::refused("令牌名称须为 1–64 个字符", "a token name has 1 to 64 characters"));
        }
        let now = Utc::now();
        Ok(on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_token (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(user.id).bind(name).bind(token_hash).bind(now).fetch_one(&mut *tx).await?;
            audit!(&mut *tx, format!("user:{}", user.name), "create", "api_token", id.to_string(), None, Some(json!({"name": name})));
            tx.commit().await?;
            id
        }))
    }

    /// The tokens of `user`, newest first.
    pub async fn api_tokens(&self, user: &User) -> Result<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, name, created_at, last_used_at, revoked_at FROM api_token WHERE user_id = $1 ORDER BY id DESC")
            .bind(user.id).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at, last_used_at, revoked_at)| ApiToken {
                id,
                name,
                created_at,
                last_used_at,
                revoked_at,
            })
            .collect())
    }

    /// Revokes one of `user`'s own tokens; `false` when she has no such live token.
    pub async fn revoke_api_token(&self, user: &User, id: i64) -> Result<bool> {
        let now = Utc::now();
        Ok(on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("UPDATE api_token SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL")
                .bind(id).bind(user.id).bind(now).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                audit!(&mut *tx, format!("user:{}", user.name), "revoke", "api_token", id.to_string(), None, None::<serde_json::Value>);
            }
            tx.commit().await?;
            n > 0
        }))
    }

    /// The active user a live token acts for, noting its use (at most once a minute).
    pub async fn user_by_api_token(&self, token_hash: &str) -> Result<Option<User>> {
        let row: Option<(i64, i64, Option<DateTime<Utc>>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, user_id, last_used_at FROM api_token WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash).fetch_optional(p).await?);
        let Some((id, user_id, last_used)) = row else { return Ok(None) };
        let now = Utc::now();
        if last_used.is_none_or(|t| now - t > chrono::Duration::seconds(60)) {
            on_pool!(self, p => {
                sqlx::query("UPDATE api_token SET last_used_at = $2 WHERE id = $1").bind(id).bind(now).execute(p).await?;
            });
        }
        Ok(self.user(user_id).await?.filter(|u| u.active))
    }
}

impl Db {
    /// Changes a user's role and reach. Administrators only; an
    /// administrator cannot take her own administration away.
    pub async fn set_user_role(&self, scope: &Scope, id: i64, role: Role, reach: &ReachRef) -> Result<User> {
        if !scope.administers() {
            return Err(DbError::refused("只有系统管理员可以修改用户", "only an administrator may change users"));
        }
        let before = self.user(id).await?.ok_or_else(|| DbError::refused("没有这个用户", "no such user"))?;
        if scope.actor() == format!("user:{}", before.name) && role != Role::Admin {
            return Err(DbError::refused("不能取消自己的管理员身份", "you cannot take your own administration away"));
        }
        let (region_id, store_id) = self.resolve_reach(role, reach).await?;
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE app_user SET role = $2, region_id = $3, store_id = $4 WHERE id = $1")
                .bind(id).bind(role.key()).bind(region_id).bind(store_id).execute(&mut *tx).await?;
            let was = json!({"role": before.role.key(), "region_id": before.region_id, "store_id": before.store_id});
            let now = json!({"role": role.key(), "region_id": region_id, "store_id": store_id});
            audit!(&mut *tx, scope.actor(), "update", "app_user", id.to_string(), Some(was), Some(now));
            tx.commit().await?;
        });
        self.user(id).await?.ok_or_else(|| DbError::Rule("the user vanished".into()))
    }

    /// Lets a user sign in again, or stops her (ending her sessions and tokens' use).
    pub async fn set_user_active(&self, scope: &Scope, id: i64, active: bool) -> Result<()> {
        if !scope.administers() {
            return Err(DbError::refused("只有系统管理员可以修改用户", "only an administrator may change users"));
        }
        let user = self.user(id).await?.ok_or_else(|| DbError::refused("没有这个用户", "no such user"))?;
        if !active && scope.actor() == format!("user:{}", user.name) {
            return Err(DbError::refused("不能停用自己", "you cannot deactivate yourself"));
        }
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE app_user SET active = $2 WHERE id = $1").bind(id).bind(active).execute(&mut *tx).await?;
            if !active {
                sqlx::query("DELETE FROM user_session WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            }
            audit!(&mut *tx, scope.actor(), "update", "app_user", id.to_string(),
                Some(json!({"active": user.active})), Some(json!({"active": active})));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Sets the language a user reads the desk in.
    pub async fn set_user_lang(&self, user: &User, lang: Lang) -> Result<()> {
        let code = if lang == Lang::Zh { "zh" } else { "en" };
        on_pool!(self, p => {
            sqlx::query("UPDATE app_user SET lang = $2 WHERE id = $1").bind(user.id).bind(code).execute(p).await?;
        });
        Ok(())
    }
}
