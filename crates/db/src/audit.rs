//! The audit log: every change of business data writes who, when, what, and
//! the value before and after, in the same transaction as the change.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::{Db, Result, Scope, on_pool};

/// Writes one audit event with the given executor (a transaction).
macro_rules! audit {
    ($ex:expr, $actor:expr, $action:expr, $entity:expr, $entity_id:expr, $before:expr, $after:expr) => {
        sqlx::query(
            "INSERT INTO audit_event (at, actor, action, entity, entity_id, before, after)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(chrono::Utc::now())
        .bind($actor)
        .bind($action)
        .bind($entity)
        .bind($entity_id)
        .bind($before.map(|v: serde_json::Value| v.to_string()))
        .bind($after.map(|v: serde_json::Value| v.to_string()))
        .execute($ex)
        .await?
    };
}
pub(crate) use audit;

/// One change to audit among many: action, entity id, value before, value after.
pub(crate) type Change = (&'static str, String, Option<Value>, Option<Value>);

/// Audit events written by one multi-row `INSERT` (7 values each, well
/// within both backends' limits on bound values).
pub(crate) const EVENTS_PER_INSERT: usize = 500;

/// Writes an audit event per [`Change`] of one actor and kind of entity, in
/// the transaction `$tx`, many to a statement: a statement each is a round
/// trip to the driver's thread (200 stores' events took most of 28 ms).
macro_rules! audit_many {
    ($tx:ident, $actor:expr, $entity:expr, $changes:expr) => {{
        let at = chrono::Utc::now();
        for chunk in $changes.chunks(crate::audit::EVENTS_PER_INSERT) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO audit_event (at, actor, action, entity, entity_id, before, after) ",
            );
            q.push_values(chunk, |mut b, (action, id, before, after): &crate::audit::Change| {
                b.push_bind(at)
                    .push_bind($actor)
                    .push_bind(*action)
                    .push_bind($entity)
                    .push_bind(id)
                    .push_bind(before.as_ref().map(|v| v.to_string()))
                    .push_bind(after.as_ref().map(|v| v.to_string()));
            });
            q.build().execute(&mut *$tx).await?;
        }
    }};
}
pub(crate) use audit_many;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl AuditEvent {
    pub fn before_json(&self) -> Option<Value> {
        self.before.as_deref().and_then(|s| serde_json::from_str(s).ok())
    }
    pub fn after_json(&self) -> Option<Value> {
        self.after.as_deref().and_then(|s| serde_json::from_str(s).ok())
    }
}

impl Db {
    /// The newest audit events, newest first. Only a scope that sees every
    /// store reads the whole log; others read their own actions.
    pub async fn audit_events(&self, scope: &Scope, limit: i64) -> Result<Vec<AuditEvent>> {
        const ALL: &str = "SELECT id, at, actor, action, entity, entity_id, before, after
                           FROM audit_event ORDER BY id DESC LIMIT $1";
        const OWN: &str = "SELECT id, at, actor, action, entity, entity_id, before, after
                           FROM audit_event WHERE actor = $2 ORDER BY id DESC LIMIT $1";
        Ok(if scope.sees_all() {
            on_pool!(self, p => sqlx::query_as(ALL).bind(limit).fetch_all(p).await?)
        } else {
            on_pool!(self, p => sqlx::query_as(OWN).bind(limit).bind(scope.actor()).fetch_all(p).await?)
        })
    }
}

impl Db {
    /// The version of the data: the id of the last audit event. Every change
    /// of data writes one, so results computed at one version hold until it moves.
    pub async fn data_version(&self) -> Result<i64> {
        let v: Option<i64> =
            on_pool!(self, p => sqlx::query_scalar("SELECT MAX(id) FROM audit_event").fetch_one(p).await?);
        Ok(v.unwrap_or(0))
    }
}
