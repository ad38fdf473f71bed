use opsdesk_domain::i18n::Lang;

/// What can go wrong in the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://USER@HOST/DB")]
    BadUrl(String),
    #[error("no opsdesk database at {0}: run `opsdesk init` first")]
    NotInitialised(String),
    #[error("the database schema is version {found}, newer than this opsdesk knows ({known}); use a newer opsdesk")]
    TooNew { found: i64, known: i64 },
    #[error(
        "the database schema is version {found}, older than this opsdesk ({known}); run `opsdesk init` to upgrade it"
    )]
    Outdated { found: i64, known: i64 },
    #[error("{0}")]
    Rule(String),
    /// A request refused by a rule, with the reason in Chinese and English.
    #[error("{en}")]
    Refused { zh: String, en: String },
}

impl DbError {
    pub(crate) fn refused(zh: impl Into<String>, en: impl Into<String>) -> DbError {
        DbError::Refused { zh: zh.into(), en: en.into() }
    }
}

impl DbError {
    /// The message for a user in her language.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (DbError::Sqlx(e), Lang::Zh) => format!("数据库错误：{e}"),
            (DbError::BadUrl(u), Lang::Zh) => {
                format!("不支持的数据库地址 '{u}'：请用 sqlite://路径 或 postgres://用户@主机/库名")
            }
            (DbError::NotInitialised(p), Lang::Zh) => {
                format!("{p} 处没有 opsdesk 数据库：请先运行 `opsdesk init`")
            }
            (DbError::TooNew { found, known }, Lang::Zh) => {
                format!("数据库结构版本为 {found}，比本程序所知的版本 {known} 新；请使用更新版本的 opsdesk")
            }
            (DbError::Outdated { found, known }, Lang::Zh) => {
                format!("数据库结构版本为 {found}，比本程序的版本 {known} 旧；请运行 `opsdesk init` 升级")
            }
            (DbError::Rule(m), Lang::Zh) => m.clone(),
            (DbError::Refused { zh, .. }, Lang::Zh) => zh.clone(),
        }
    }
}
