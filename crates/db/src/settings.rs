//! Settings (key → value) and saved column mappings for imports.

use serde_json::json;

use opsdesk_domain::appraisal;

use crate::audit::audit;
use crate::{BeginWrite, Db, DbError, Result, Scope, on_pool};

/// Whether sales imports also keep every POS line (for drill-down). Off by
/// default: reports read rollups only.
pub const KEEP_LINE_DETAIL: &str = "sales.keep_line_detail";

/// The users (names, comma-separated) who approve appraisal cycles as the executive (总经理).
pub const EXECUTIVES: &str = "appraisal.executives";

/// The settings opsdesk knows, with their defaults.
pub const KNOWN: &[(&str, &str)] = &[
    (KEEP_LINE_DETAIL, "false"),
    (appraisal::BANDS_KEY, appraisal::DEFAULT_BANDS),
    (appraisal::COEFFICIENTS_KEY, appraisal::DEFAULT_COEFFICIENTS),
    (appraisal::PAY_BASES_KEY, appraisal::DEFAULT_PAY_BASES),
    (appraisal::COMMENT_BELOW_KEY, appraisal::DEFAULT_COMMENT_BELOW),
    (appraisal::HEAD_LEVELS_KEY, appraisal::DEFAULT_HEAD_LEVELS),
    (EXECUTIVES, ""),
];

impl Db {
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            on_pool!(self, p => sqlx::query_scalar("SELECT value FROM setting WHERE key = $1").bind(key).fetch_optional(p).await?),
        )
    }

    pub async fn setting_bool(&self, key: &str) -> Result<bool> {
        Ok(matches!(self.setting(key).await?.as_deref(), Some("true" | "1" | "yes" | "on")))
    }

    pub async fn set_setting(&self, scope: &Scope, key: &str, value: &str) -> Result<()> {
        if !scope.administers() {
            return Err(DbError::refused("只有管理员可以修改设置", "only an administrator may change settings"));
        }
        if !KNOWN.iter().any(|(k, _)| *k == key) {
            let known: Vec<&str> = KNOWN.iter().map(|(k, _)| *k).collect();
            return Err(DbError::Rule(format!("unknown setting '{key}' (known: {})", known.join(", "))));
        }
        if let Err(e) = appraisal::check_setting(key, value) {
            use opsdesk_domain::i18n::Lang;
            return Err(DbError::refused(e.message(Lang::Zh), e.message(Lang::En)));
        }
        if key == EXECUTIVES {
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if self.user_by_name(name).await?.is_none() {
                    return Err(DbError::refused(format!("没有用户 {name}"), format!("there is no user {name}")));
                }
            }
        }
        let before = self.setting(key).await?;
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO setting (key, value) VALUES ($1, $2)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            audit!(&mut *tx, scope.actor(), "update", "setting", key, before.map(|b| json!(b)), Some(json!(value)));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Saved header → field mappings of an import kind.
    pub async fn column_mappings(&self, kind: &str) -> Result<Vec<(String, String)>> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT header, field FROM column_mapping WHERE kind = $1 ORDER BY header")
            .bind(kind)
            .fetch_all(p)
            .await?),
        )
    }

    pub async fn save_column_mapping(&self, scope: &Scope, kind: &str, header: &str, field: &str) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO column_mapping (kind, header, field) VALUES ($1, $2, $3)
                         ON CONFLICT (kind, header) DO UPDATE SET field = excluded.field")
                .bind(kind)
                .bind(header)
                .bind(field)
                .execute(&mut *tx)
                .await?;
            audit!(&mut *tx, scope.actor(), "update", "column_mapping", format!("{kind}:{header}"), None, Some(json!(field)));
            tx.commit().await?;
        });
        Ok(())
    }
}
