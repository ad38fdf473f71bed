//! Stores and the region tree.

use std::collections::HashMap;

use chrono::NaiveDate;
use opsdesk_domain::sales::StoreId;
use opsdesk_domain::stores::{Channel, StoreRecord, StoreStatus};
use serde_json::json;

use crate::audit::{Change, audit_many};
use crate::{BeginWrite, Db, DbError, RecordChanges, Result, Scope, on_pool};

/// New stores written by one multi-row `INSERT` (10 values each, well within
/// both backends' limits on bound values).
const STORES_PER_INSERT: usize = 500;

/// A store as the desk shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub id: StoreId,
    pub code: String,
    pub name: String,
    pub region_id: i64,
    /// From the top region down, e.g. `["华东", "上海"]`.
    pub region_path: Vec<String>,
    pub area_sqm: i64,
    pub staff_count: i64,
    pub open_date: NaiveDate,
    pub channel: String,
    pub status: String,
    /// SKUs in the store's range, when known.
    pub sku_count: Option<i64>,
    /// Opening minutes a day, when known.
    pub open_minutes: Option<i64>,
}

impl Store {
    /// The top-level region, the one totals group by.
    pub fn top_region(&self) -> &str {
        self.region_path.first().map(String::as_str).unwrap_or("")
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "code": self.code, "name": self.name, "region": self.region_path.join("/"),
            "area_sqm": self.area_sqm, "staff_count": self.staff_count,
            "open_date": self.open_date.to_string(), "channel": self.channel, "status": self.status,
            "sku_count": self.sku_count, "open_minutes": self.open_minutes,
        })
    }
}

#[derive(sqlx::FromRow)]
struct StoreRow {
    id: i64,
    code: String,
    name: String,
    region_id: i64,
    area_sqm: i64,
    staff_count: i64,
    open_date: NaiveDate,
    channel: String,
    status: String,
    sku_count: Option<i64>,
    open_minutes: Option<i64>,
}

/// A node of the region tree.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Region {
    pub id: i64,
    pub name: String,
    pub parent_id: Option<i64>,
}

pub(crate) struct RegionTree {
    pub parents: HashMap<i64, Option<i64>>,
    names: HashMap<i64, String>,
}

impl RegionTree {
    pub(crate) fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.names.keys().copied()
    }

    /// The names from the top region down to `id`.
    pub(crate) fn path(&self, mut id: i64) -> Vec<String> {
        let mut path = Vec::new();
        for _ in 0..64 {
            path.push(self.names.get(&id).cloned().unwrap_or_default());
            match self.parents.get(&id).copied().flatten() {
                Some(p) => id = p,
                None => break,
            }
        }
        path.reverse();
        path
    }
}

const STORE_COLUMNS: &str = "SELECT id, code, name, region_id, area_sqm, staff_count, open_date, channel, status, sku_count, open_minutes FROM store";

impl Db {
    pub(crate) async fn region_tree(&self) -> Result<RegionTree> {
        let rows = self.regions().await?;
        Ok(RegionTree {
            parents: rows.iter().map(|r| (r.id, r.parent_id)).collect(),
            names: rows.into_iter().map(|r| (r.id, r.name)).collect(),
        })
    }

    /// Every region, parents before children.
    pub async fn regions(&self) -> Result<Vec<Region>> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT id, name, parent_id FROM region ORDER BY id").fetch_all(p).await?),
        )
    }

    /// The stores within reach, ordered by code (byte order).
    pub async fn stores(&self, scope: &Scope) -> Result<Vec<Store>> {
        let tree = self.region_tree().await?;
        let rows: Vec<StoreRow> = on_pool!(self, p => sqlx::query_as(STORE_COLUMNS).fetch_all(p).await?);
        let mut stores: Vec<Store> = rows
            .into_iter()
            .filter(|r| scope.allows(r.id, r.region_id, &tree.parents))
            .map(|r| Store {
                region_path: tree.path(r.region_id),
                id: r.id,
                code: r.code,
                name: r.name,
                region_id: r.region_id,
                area_sqm: r.area_sqm,
                staff_count: r.staff_count,
                open_date: r.open_date,
                channel: r.channel,
                status: r.status,
                sku_count: r.sku_count,
                open_minutes: r.open_minutes,
            })
            .collect();
        stores.sort_by(|a, b| a.code.as_bytes().cmp(b.code.as_bytes()));
        Ok(stores)
    }

    /// Store code → id for the stores within reach.
    pub async fn store_codes(&self, scope: &Scope) -> Result<HashMap<String, StoreId>> {
        Ok(self.stores(scope).await?.into_iter().map(|s| (s.code, s.id)).collect())
    }

    /// Adds new stores and updates changed ones, all in one transaction, with
    /// an audit event for each change. Regions are created as named.
    pub async fn save_stores(&self, scope: &Scope, records: &[StoreRecord]) -> Result<RecordChanges> {
        if !scope.sees_all() {
            return Err(DbError::Rule("only operations or an administrator may change stores".into()));
        }
        let existing: HashMap<String, Store> =
            self.stores(scope).await?.into_iter().map(|s| (s.code.clone(), s)).collect();
        let mut changes = RecordChanges::default();
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let mut region_ids: HashMap<Vec<String>, i64> = HashMap::new();
            let mut added: Vec<Store> = Vec::new();
            // The changes in the file's order.
            let mut changes_made: Vec<Change> = Vec::new();
            for rec in records {
                let region_id = match region_ids.get(&rec.region_path) {
                    Some(&id) => id,
                    None => {
                        let mut parent: Option<i64> = None;
                        for name in &rec.region_path {
                            let found: Option<i64> = sqlx::query_scalar(
                                "SELECT id FROM region WHERE name = $1 AND parent_id IS NOT DISTINCT FROM $2")
                                .bind(name).bind(parent).fetch_optional(&mut *tx).await?;
                            let id = match found {
                                Some(id) => id,
                                None => sqlx::query_scalar("INSERT INTO region (name, parent_id) VALUES ($1, $2) RETURNING id")
                                    .bind(name).bind(parent).fetch_one(&mut *tx).await?,
                            };
                            parent = Some(id);
                        }
                        let id = parent.ok_or_else(|| DbError::Rule(format!("store {} has no region", rec.code)))?;
                        region_ids.insert(rec.region_path.clone(), id);
                        id
                    }
                };
                let new = Store {
                    id: 0,
                    code: rec.code.clone(),
                    name: rec.name.clone(),
                    region_id,
                    region_path: rec.region_path.clone(),
                    area_sqm: rec.area_sqm,
                    staff_count: rec.staff_count,
                    open_date: rec.open_date,
                    channel: match (rec.channel, existing.get(&rec.code)) {
                        (Some(c), _) => c.as_str().to_string(),
                        (None, Some(old)) => old.channel.clone(),
                        (None, None) => Channel::Store.as_str().to_string(),
                    },
                    status: match (rec.status, existing.get(&rec.code)) {
                        (Some(s), _) => s.as_str().to_string(),
                        (None, Some(old)) => old.status.clone(),
                        (None, None) => StoreStatus::Open.as_str().to_string(),
                    },
                    sku_count: match rec.sku_count {
                        Some(v) => v,
                        None => existing.get(&rec.code).and_then(|old| old.sku_count),
                    },
                    open_minutes: match rec.open_minutes {
                        Some(v) => v,
                        None => existing.get(&rec.code).and_then(|old| old.open_minutes),
                    },
                };
                match existing.get(&rec.code) {
                    None => {
                        changes_made.push(("create", new.code.clone(), None, Some(new.to_json())));
                        added.push(new);
                        changes.added += 1;
                    }
                    Some(old) if old.to_json() == new.to_json() => changes.unchanged += 1,
                    Some(old) => {
                        sqlx::query("UPDATE store SET name = $2, region_id = $3, area_sqm = $4, staff_count = $5,
                                     open_date = $6, channel = $7, status = $8, sku_count = $9, open_minutes = $10 WHERE code = $1")
                            .bind(&new.code).bind(&new.name).bind(region_id).bind(new.area_sqm).bind(new.staff_count)
                            .bind(new.open_date).bind(&new.channel).bind(&new.status).bind(new.sku_count).bind(new.open_minutes)
                            .execute(&mut *tx).await?;
                        changes_made.push(("update", new.code.clone(), Some(old.to_json()), Some(new.to_json())));
                        changes.updated += 1;
                    }
                }
            }
            // New stores many to a statement: a statement each took most of
            // 28 ms for 200 stores, each a round trip to the driver's thread.
            for chunk in added.chunks(STORES_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO store (code, name, region_id, area_sqm, staff_count, open_date, channel, status, sku_count, open_minutes) ",
                );
                q.push_values(chunk, |mut b, s| {
                    b.push_bind(&s.code).push_bind(&s.name).push_bind(s.region_id).push_bind(s.area_sqm)
                        .push_bind(s.staff_count).push_bind(s.open_date).push_bind(&s.channel).push_bind(&s.status)
                        .push_bind(s.sku_count).push_bind(s.open_minutes);
                });
                q.build().execute(&mut *tx).await?;
            }
            audit_many!(tx, scope.actor(), "store", changes_made);
            tx.commit().await?;
        });
        Ok(changes)
    }
}
