//! Staff: departments, positions and employees. Operations keeps them (from
//! files or the desk); a reader sees the employees of the stores within her
//! reach, and department staff only when she sees every store.

use std::collections::HashMap;

use chrono::NaiveDate;
use opsdesk_domain::staff::{EmployeeRecord, PositionRecord, Unit};
use serde_json::json;

use crate::audit::audit;
use crate::{BeginWrite, Db, DbError, RecordChanges, Result, Scope, on_pool};

/// A stored position.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Position {
    pub code: String,
    pub name: String,
    pub duties: String,
}

/// A stored employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employee {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub store_id: Option<i64>,
    /// The store's code or the department's path, as the unit's name.
    pub unit: String,
    pub department_id: Option<i64>,
    pub position: String,
    pub level: String,
    pub pay_base: Option<i64>,
    pub excluded: bool,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// A department of the unit tree, with its head (a user's name), if named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub id: i64,
    pub name: String,
    pub parent_id: Option<i64>,
    pub head: Option<String>,
}

type EmployeeRow =
    (i64, String, String, Option<i64>, Option<i64>, String, String, Option<i64>, bool, NaiveDate, Option<NaiveDate>);

fn may_keep(scope: &Scope) -> Result<()> {
    if scope.plans() {
        Ok(())
    } else {
        Err(DbError::refused("只有运营部可以维护员工和岗位", "only operations may change staff and positions"))
    }
}

impl Db {
    pub async fn positions(&self) -> Result<Vec<Position>> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT code, name, duties FROM position ORDER BY code").fetch_all(p).await?),
        )
    }

    /// Every department, by id.
    pub async fn department_list(&self) -> Result<Vec<Department>> {
        let rows: Vec<(i64, String, Option<i64>, Option<String>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, name, parent_id, head FROM department ORDER BY id").fetch_all(p).await?);
        Ok(rows.into_iter().map(|(id, name, parent_id, head)| Department { id, name, parent_id, head }).collect())
    }

    /// Names (or clears) a department's head, who must be an active user; audited.
    pub async fn set_department_head(&self, scope: &Scope, id: i64, head: Option<&str>) -> Result<()> {
        may_keep(scope)?;
        let Some(old) = self.department_list().await?.into_iter().find(|d| d.id == id) else {
            return Err(DbError::refused(format!("没有部门 {id}"), format!("there is no department {id}")));
        };
        let head = head.map(str::trim).filter(|h| !h.is_empty());
        if let Some(h) = head
            && !self.user_by_name(h).await?.is_some_and(|u| u.active)
        {
            return Err(DbError::refused(format!("没有在用的用户 {h}"), format!("there is no active user {h}")));
        }
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE department SET head = $2 WHERE id = $1").bind(id).bind(head).execute(&mut *tx).await?;
            audit!(&mut *tx, scope.actor(), "update", "department", old.name.clone(),
                Some(json!({ "head": old.head })), Some(json!({ "head": head })));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Departments by id with their paths from the top.
    pub async fn departments(&self) -> Result<HashMap<i64, Vec<String>>> {
        let by_id: HashMap<i64, (String, Option<i64>)> =
            self.department_list().await?.into_iter().map(|d| (d.id, (d.name, d.parent_id))).collect();
        Ok(by_id
            .keys()
            .map(|&id| {
                let mut path = Vec::new();
                let mut cur = Some(id);
                while let Some(c) = cur.filter(|_| path.len() < 64) {
                    let Some((name, parent)) = by_id.get(&c) else { break };
                    path.push(name.clone());
                    cur = *parent;
                }
                path.reverse();
                (id, path)
            })
            .collect())
    }

    /// Adds new positions and updates changed ones, in one transaction, audited.
    pub async fn save_positions(&self, scope: &Scope, records: &[PositionRecord]) -> Result<RecordChanges> {
        may_keep(scope)?;
        let existing: HashMap<String, Position> =
            self.positions().await?.into_iter().map(|p| (p.code.clone(), p)).collect();
        let mut changes = RecordChanges::default();
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            for r in records {
                let after = json!({ "code": r.code, "name": r.name, "duties": r.duties });
                match existing.get(&r.code) {
                    Some(old) if old.name == r.name && old.duties == r.duties => changes.unchanged += 1,
                    Some(old) => {
                        sqlx::query("UPDATE position SET name = $2, duties = $3 WHERE code = $1")
                            .bind(&r.code).bind(&r.name).bind(&r.duties).execute(&mut *tx).await?;
                        let before = json!({ "code": old.code, "name": old.name, "duties": old.duties });
                        audit!(&mut *tx, scope.actor(), "update", "position", r.code.clone(), Some(before), Some(after));
                        changes.updated += 1;
                    }
                    None => {
                        sqlx::query("INSERT INTO position (code, name, duties) VALUES ($1, $2, $3)")
                            .bind(&r.code).bind(&r.name).bind(&r.duties).execute(&mut *tx).await?;
                        audit!(&mut *tx, scope.actor(), "create", "position", r.code.clone(), None, Some(after));
                        changes.added += 1;
                    }
                }
            }
            tx.commit().await?;
        });
        Ok(changes)
    }

    /// Adds new employees and updates changed ones, in one transaction,
    /// audited; departments are created as named. Store codes must be known.
    pub async fn save_employees(&self, scope: &Scope, records: &[EmployeeRecord]) -> Result<RecordChanges> {
        may_keep(scope)?;
        let stores = self.store_codes(&Scope::system("staff")).await?;
        let existing: HashMap<String, Employee> =
            self.employees(&Scope::system("staff")).await?.into_iter().map(|e| (e.code.clone(), e)).collect();
        let mut changes = RecordChanges::default();
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let mut departments: HashMap<Vec<String>, i64> = HashMap::new();
            for r in records {
                let (store_id, department_id) = match &r.unit {
                    Unit::Store(code) => {
                        let id = stores.get(code).copied().ok_or_else(|| DbError::refused(
                            format!("员工 {} 的门店 {code} 不存在", r.code),
                            format!("employee {}: no store {code}", r.code),
                        ))?;
                        (Some(id), None)
                    }
                    Unit::Department(path) => {
                        let id = match departments.get(path) {
                            Some(&id) => id,
                            None => {
                                let mut parent: Option<i64> = None;
                                for name in path {
                                    let found: Option<i64> = sqlx::query_scalar(
                                        "SELECT id FROM department WHERE name = $1 AND parent_id IS NOT DISTINCT FROM $2")
                                        .bind(name).bind(parent).fetch_optional(&mut *tx).await?;
                                    parent = Some(match found {
                                        Some(id) => id,
                                        None => sqlx::query_scalar("INSERT INTO department (name, parent_id) VALUES ($1, $2) RETURNING id")
                                            .bind(name).bind(parent).fetch_one(&mut *tx).await?,
                                    });
                                }
                                let id = parent.ok_or_else(|| DbError::Rule(format!("employee {} has no unit", r.code)))?;
                                departments.insert(path.clone(), id);
                                id
                            }
                        };
                        (None, Some(id))
                    }
                };
                let after = json!({
                    "code": r.code, "name": r.name, "store_id": store_id, "department_id": department_id,
                    "position": r.position, "level": r.level, "pay_base": r.pay_base, "excluded": r.excluded,
                    "start_date": r.start_date.to_string(), "end_date": r.end_date.map(|d| d.to_string()),
                });
                match existing.get(&r.code) {
                    Some(old)
                        if old.name == r.name && old.store_id == store_id && old.department_id == department_id
                            && old.position == r.position && old.level == r.level && old.pay_base == r.pay_base
                            && old.excluded == r.excluded && old.start_date == r.start_date && old.end_date == r.end_date =>
                    {
                        changes.unchanged += 1;
                    }
                    Some(old) => {
                        sqlx::query("UPDATE employee SET name = $2, store_id = $3, department_id = $4, position = $5, level = $6,
                                     pay_base = $7, excluded = $8, start_date = $9, end_date = $10 WHERE code = $1")
                            .bind(&r.code).bind(&r.name).bind(store_id).bind(department_id).bind(&r.position).bind(&r.level)
                            .bind(r.pay_base).bind(r.excluded).bind(r.start_date).bind(r.end_date)
                            .execute(&mut *tx).await?;
                        let before = json!({ "name": old.name, "store_id": old.store_id, "department_id": old.department_id,
                            "position": old.position, "level": old.level, "pay_base": old.pay_base, "excluded": old.excluded });
                        audit!(&mut *tx, scope.actor(), "update", "employee", r.code.clone(), Some(before), Some(after));
                        changes.updated += 1;
                    }
                    None => {
                        sqlx::query("INSERT INTO employee (code, name, store_id, department_id, position, level, pay_base, excluded, start_date, end_date)
                                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                            .bind(&r.code).bind(&r.name).bind(store_id).bind(department_id).bind(&r.position).bind(&r.level)
                            .bind(r.pay_base).bind(r.excluded).bind(r.start_date).bind(r.end_date)
                            .execute(&mut *tx).await?;
                        audit!(&mut *tx, scope.actor(), "create", "employee", r.code.clone(), None, Some(after));
                        changes.added += 1;
                    }
                }
            }
            tx.commit().await?;
        });
        Ok(changes)
    }

    /// The employees within reach, ordered by code: those of the stores she
    /// reaches, and department staff when she sees every store or heads
    /// their department or one above it.
    pub async fn employees(&self, scope: &Scope) -> Result<Vec<Employee>> {
        self.employees_in(scope, None, None).await
    }

    /// The staff of one unit (`store:CODE`, `dept:PATH`) within reach, by code.
    pub async fn unit_staff(&self, scope: &Scope, unit: &str) -> Result<Vec<Employee>> {
        if let Some(code) = unit.strip_prefix("store:") {
            let id: Option<i64> = on_pool!(self, p => sqlx::query_scalar("SELECT id FROM store WHERE code = $1")
                .bind(code).fetch_optional(p).await?);
            return match id {
                Some(id) => self.employees_in(scope, Some(id), None).await,
                None => Ok(Vec::new()),
            };
        }
        let path = unit.strip_prefix("dept:").unwrap_or(unit);
        match self.departments().await?.into_iter().find(|(_, p)| p.join("/") == path) {
            Some((id, _)) => self.employees_in(scope, None, Some(id)).await,
            None => Ok(Vec::new()),
        }
    }

    /// The employees within reach, of one store or department when named.
    async fn employees_in(&self, scope: &Scope, store: Option<i64>, department: Option<i64>) -> Result<Vec<Employee>> {
        let rows: Vec<EmployeeRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, code, name, store_id, department_id, position, level, pay_base, excluded, start_date, end_date FROM employee
             WHERE ($1 IS NULL OR store_id = $1) AND ($2 IS NULL OR department_id = $2)")
            .bind(store).bind(department).fetch_all(p).await?);
        let stores: HashMap<i64, String> = self.stores(scope).await?.into_iter().map(|s| (s.id, s.code)).collect();
        let mut departments = self.departments().await?;
        if !scope.sees_all() {
            let headed: Vec<String> = match scope.user_name() {
                Some(name) => self
                    .department_list()
                    .await?
                    .into_iter()
                    .filter(|d| d.head.as_deref() == Some(name))
                    .filter_map(|d| departments.get(&d.id).map(|p| p.join("/")))
                    .collect(),
                None => Vec::new(),
            };
            departments.retain(|_, path| {
                let path = path.join("/");
                headed.iter().any(|h| path == *h || path.starts_with(&format!("{h}/")))
            });
        }
        let mut out: Vec<Employee> = rows
            .into_iter()
            .filter_map(
                |(
                    id,
                    code,
                    name,
                    store_id,
                    department_id,
                    position,
                    level,
                    pay_base,
                    excluded,
                    start_date,
                    end_date,
                )| {
                    let unit = match (store_id, department_id) {
                        (Some(s), _) => stores.get(&s)?.clone(),
                        (None, Some(d)) => departments.get(&d)?.join("/"),
                        _ => return None,
                    };
                    Some(Employee {
                        id,
                        code,
                        name,
                        store_id,
                        unit,
                        department_id,
                        position,
                        level,
                        pay_base,
                        excluded,
                        start_date,
                        end_date,
                    })
                },
            )
            .collect();
        out.sort_by(|a, b| a.code.as_bytes().cmp(b.code.as_bytes()));
        Ok(out)
    }
}
