//! A plan's cells: read whole into the domain's tree, changed there by its
//! rules, written back (only the stores whose months or days moved) in one
//! transaction with the audit event; and listed within the reader's reach.

use super::*;

pub(super) struct Cells {
    regions: Vec<(i64, i64, i64, bool, i64)>,
    stores: Vec<StoreCell>,
    months: Vec<(i64, i64, i64, i64, bool, i64)>,
    days: Vec<(i64, NaiveDate, i64, i64, bool, i64)>,
}

#[derive(Debug, Clone)]
pub(super) struct StoreCell {
    pub(super) store: i64,
    pub(super) region: i64,
    pub(super) baseline: i64,
    pub(super) stretch: i64,
    pub(super) locked: bool,
    pub(super) weight: i64,
    pub(super) fallback: bool,
    pub(super) tier: Option<String>,
    pub(super) season: String,
    pub(super) weekdays: String,
}

/// The rows of a tree: regions, stores, months, days (days of the stores in `only`, all when `None`).
pub(super) fn rows_of(tree: &Node, notes: &HashMap<i64, StoreCell>, only: Option<&HashSet<i64>>) -> Cells {
    let mut cells = Cells { regions: Vec::new(), stores: Vec::new(), months: Vec::new(), days: Vec::new() };
    for r in &tree.children {
        let Key::Region(region) = r.key else { continue };
        cells.regions.push((region, r.baseline, r.stretch, r.locked, r.weight));
        for s in &r.children {
            let Key::Store(store) = s.key else { continue };
            let note = notes.get(&store);
            cells.stores.push(StoreCell {
                store,
                region,
                baseline: s.baseline,
                stretch: s.stretch,
                locked: s.locked,
                weight: s.weight,
                fallback: note.is_some_and(|n| n.fallback),
                tier: note.and_then(|n| n.tier.clone()),
                season: note.map_or_else(|| "flat".to_string(), |n| n.season.clone()),
                weekdays: note.map_or_else(|| "flat".to_string(), |n| n.weekdays.clone()),
            });
            if only.is_some_and(|o| !o.contains(&store)) {
                continue;
            }
            for m in &s.children {
                let Key::Month(month) = m.key else { continue };
                cells.months.push((store, month, m.baseline, m.stretch, m.locked, m.weight));
                for d in &m.children {
                    let Key::Day(date) = d.key else { continue };
                    cells.days.push((store, date, d.baseline, d.stretch, d.locked, d.weight));
                }
            }
        }
    }
    cells
}

/// The stores whose months or days differ between two trees of one plan.
fn stores_changed_below(a: &Node, b: &Node) -> HashSet<i64> {
    let mut out = HashSet::new();
    let stores = |n: &Node| -> Vec<(i64, Node)> {
        n.children
            .iter()
            .flat_map(|r| r.children.iter())
            .filter_map(|s| match s.key {
                Key::Store(id) => Some((id, s.clone())),
                _ => None,
            })
            .collect()
    };
    let before: HashMap<i64, Node> = stores(a).into_iter().collect();
    for (id, s) in stores(b) {
        if before.get(&id).is_none_or(|old| old.children != s.children) {
            out.insert(id);
        }
    }
    out
}

pub(super) async fn sqlite_write(conn: &mut SqliteConnection, plan: i64, cells: &Cells, fresh: bool) -> Result<()> {
    use crate::sqlite_bulk::{Value, insert};
    if fresh {
        insert(
            conn,
            "INSERT INTO target_region (plan_id, region_id, baseline, stretch, locked, weight) VALUES (?,?,?,?,?,?)",
            &cells.regions,
            |r, v| {
                v.extend([
                    Value::Int(plan),
                    Value::Int(r.0),
                    Value::Int(r.1),
                    Value::Int(r.2),
                    Value::Int(i64::from(r.3)),
                    Value::Int(r.4),
                ])
            },
        )
        .await?;
        insert(
            conn,
            "INSERT INTO target_store (plan_id, store_id, region_id, baseline, stretch, locked, weight, fallback, tier, season, weekdays)
             VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            &cells.stores,
            |s, v| {
                v.extend([
                    Value::Int(plan),
                    Value::Int(s.store),
                    Value::Int(s.region),
                    Value::Int(s.baseline),
                    Value::Int(s.stretch),
                    Value::Int(i64::from(s.locked)),
                    Value::Int(s.weight),
                    Value::Int(i64::from(s.fallback)),
                    Value::OptText(s.tier.as_deref()),
                    Value::Text(&s.season),
                    Value::Text(&s.weekdays),
                ])
            },
        )
        .await?;
    }
    insert(
        conn,
        "INSERT INTO target_month (plan_id, store_id, month, baseline, stretch, locked, weight) VALUES (?,?,?,?,?,?,?)",
        &cells.months,
        |m, v| {
            v.extend([
                Value::Int(plan),
                Value::Int(m.0),
                Value::Int(m.1),
                Value::Int(m.2),
                Value::Int(m.3),
                Value::Int(i64::from(m.4)),
                Value::Int(m.5),
            ])
        },
    )
    .await?;
    insert(
        conn,
        "INSERT INTO target_day (plan_id, store_id, d, month, baseline, stretch, locked, weight) VALUES (?,?,?,?,?,?,?,?)",
        &cells.days,
        |d, v| {
            v.extend([
                Value::Int(plan),
                Value::Int(d.0),
                Value::Date(d.1),
                Value::Int(month_key(d.1)),
                Value::Int(d.2),
                Value::Int(d.3),
                Value::Int(i64::from(d.4)),
                Value::Int(d.5),
            ])
        },
    )
    .await
}

pub(super) async fn pg_write(conn: &mut PgConnection, plan: i64, cells: &Cells, fresh: bool) -> Result<()> {
    use crate::sales::{copy_text, pg_copy};
    let b = |v: bool| if v { 't' } else { 'f' };
    if fresh {
        pg_copy(
            conn,
            "COPY target_region (plan_id, region_id, baseline, stretch, locked, weight) FROM STDIN",
            &cells.regions,
            |o, r| {
                let _ = writeln!(o, "{plan}\t{}\t{}\t{}\t{}\t{}", r.0, r.1, r.2, b(r.3), r.4);
            },
        )
        .await?;
        pg_copy(
            conn,
            "COPY target_store (plan_id, store_id, region_id, baseline, stretch, locked, weight, fallback, tier, season, weekdays) FROM STDIN",
            &cells.stores,
            |o, s| {
                let _ = write!(o, "{plan}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t", s.store, s.region, s.baseline, s.stretch, b(s.locked), s.weight, b(s.fallback));
                match &s.tier {
                    Some(t) => copy_text(o, t),
                    None => o.push_str("\\N"),
                }
                let _ = writeln!(o, "\t{}\t{}", s.season, s.weekdays);
            },
        )
        .await?;
    }
    pg_copy(
        conn,
        "COPY target_month (plan_id, store_id, month, baseline, stretch, locked, weight) FROM STDIN",
        &cells.months,
        |o, m| {
            let _ = writeln!(o, "{plan}\t{}\t{}\t{}\t{}\t{}\t{}", m.0, m.1, m.2, m.3, b(m.4), m.5);
        },
    )
    .await?;
    pg_copy(
        conn,
        "COPY target_day (plan_id, store_id, d, month, baseline, stretch, locked, weight) FROM STDIN",
        &cells.days,
        |o, d| {
            let _ = writeln!(o, "{plan}\t{}\t{}\t{}\t{}\t{}\t{}\t{}", d.0, d.1, month_key(d.1), d.2, d.3, b(d.4), d.5);
        },
    )
    .await
}

/// Writes a changed tree over the stored one: the plan's totals, every region
/// and store row, and the months and days of the stores whose months or days
/// moved (deleted and written again), then the audit event; one transaction.
macro_rules! save_tree {
    ($tx:ident, $write:ident, $plan:expr, $tree:expr, $old:expr, $notes:expr, $actor:expr, $action:expr, $before:expr, $after:expr) => {{
        let changed = stores_changed_below($old, $tree);
        let cells = rows_of($tree, $notes, Some(&changed));
        sqlx::query("UPDATE target_plan SET baseline = $2, stretch = $3 WHERE id = $1")
            .bind($plan)
            .bind($tree.baseline)
            .bind($tree.stretch)
            .execute(&mut *$tx)
            .await?;
        for r in &cells.regions {
            sqlx::query("UPDATE target_region SET baseline = $3, stretch = $4, locked = $5 WHERE plan_id = $1 AND region_id = $2")
                .bind($plan).bind(r.0).bind(r.1).bind(r.2).bind(r.3)
                .execute(&mut *$tx).await?;
        }
        for s in &cells.stores {
            sqlx::query("UPDATE target_store SET baseline = $3, stretch = $4, locked = $5 WHERE plan_id = $1 AND store_id = $2")
                .bind($plan).bind(s.store).bind(s.baseline).bind(s.stretch).bind(s.locked)
                .execute(&mut *$tx).await?;
        }
        for &store in &changed {
            sqlx::query("DELETE FROM target_day WHERE plan_id = $1 AND store_id = $2").bind($plan).bind(store).execute(&mut *$tx).await?;
            sqlx::query("DELETE FROM target_month WHERE plan_id = $1 AND store_id = $2").bind($plan).bind(store).execute(&mut *$tx).await?;
        }
        $write(&mut *$tx, $plan, &cells, false).await?;
        audit!(&mut *$tx, $actor, $action, "target_plan", $plan.to_string(), $before, $after);
        $tx.commit().await?;
    }};
}

impl Db {
    /// A plan read whole into its tree, with each store's notes.
    async fn plan_tree(&self, plan: &Plan) -> Result<(Node, HashMap<i64, StoreCell>)> {
        let id = Arg::Int(plan.id);
        let regions: Vec<(i64, i64, i64, bool, i64)> = self
            .fetch_rows("SELECT region_id, baseline, stretch, locked, weight FROM target_region WHERE plan_id = $1 ORDER BY region_id", &[id])
            .await?;
        type S = (i64, i64, i64, i64, bool, i64, bool, Option<String>, String, String);
        let stores: Vec<S> = self
            .fetch_rows(
                "SELECT store_id, region_id, baseline, stretch, locked, weight, fallback, tier, season, weekdays
                 FROM target_store WHERE plan_id = $1 ORDER BY region_id, store_id",
                &[id],
            )
            .await?;
        let months: Vec<(i64, i64, i64, i64, bool, i64)> = self
            .fetch_rows(
                "SELECT store_id, month, baseline, stretch, locked, weight FROM target_month WHERE plan_id = $1 ORDER BY store_id, month",
                &[id],
            )
            .await?;
        let days: Vec<(i64, NaiveDate, i64, i64, bool, i64)> = self
            .fetch_rows(
                "SELECT store_id, d, baseline, stretch, locked, weight FROM target_day WHERE plan_id = $1 ORDER BY store_id, d",
                &[id],
            )
            .await?;
        let node = |key, baseline, stretch, locked, weight| Node {
            key,
            baseline,
            stretch,
            locked,
            weight,
            children: Vec::new(),
        };
        let mut day_nodes: HashMap<(i64, i64), Vec<Node>> = HashMap::new();
        for (s, d, b, st, l, w) in days {
            day_nodes.entry((s, month_key(d))).or_default().push(node(Key::Day(d), b, st, l, w));
        }
        let mut month_nodes: HashMap<i64, Vec<Node>> = HashMap::new();
        for (s, m, b, st, l, w) in months {
            let mut n = node(Key::Month(m), b, st, l, w);
            n.children = day_nodes.remove(&(s, m)).unwrap_or_default();
            month_nodes.entry(s).or_default().push(n);
        }
        let mut store_nodes: BTreeMap<i64, Vec<Node>> = BTreeMap::new();
        let mut notes = HashMap::new();
        for (s, r, b, st, l, w, fallback, tier, season, weekdays) in stores {
            let mut n = node(Key::Store(s), b, st, l, w);
            n.children = month_nodes.remove(&s).unwrap_or_default();
            store_nodes.entry(r).or_default().push(n);
            notes.insert(
                s,
                StoreCell {
                    store: s,
                    region: r,
                    baseline: b,
                    stretch: st,
                    locked: l,
                    weight: w,
                    fallback,
                    tier,
                    season,
                    weekdays,
                },
            );
        }
        let mut tree = node(Key::Company, plan.baseline, plan.stretch, false, 1);
        for (r, b, st, l, w) in regions {
            let mut n = node(Key::Region(r), b, st, l, w);
            n.children = store_nodes.remove(&r).unwrap_or_default();
            tree.children.push(n);
        }
        Ok((tree, notes))
    }

    async fn names(&self) -> Result<Names> {
        let stores = self.stores(&Scope::system("targets")).await?;
        let regions = self.regions().await?;
        Ok(Names {
            regions: regions.into_iter().map(|r| (r.id, r.name)).collect(),
            stores: stores.into_iter().map(|s| (s.id, s.code)).collect(),
        })
    }

    /// Changes a plan's tree with `change` and saves what moved.
    async fn change_plan(
        &self,
        scope: &Scope,
        plan: &Plan,
        action: &str,
        detail: serde_json::Value,
        change: impl FnOnce(&mut Node) -> std::result::Result<(), EditError>,
    ) -> Result<()> {
        may_plan(scope)?;
        let (old, notes) = self.plan_tree(plan).await?;
        let mut tree = old.clone();
        if let Err(e) = change(&mut tree) {
            return Err(self.names().await?.edit_error(e));
        }
        debug_assert!(tree.balanced());
        let before = json!({ "baseline": old.baseline, "stretch": old.stretch });
        let mut after = detail;
        after["plan_baseline"] = json!(tree.baseline);
        after["plan_stretch"] = json!(tree.stretch);
        match &self.pool {
            Pool::Sqlite(p) => {
                let mut tx = p.begin_write().await?;
                save_tree!(
                    tx,
                    sqlite_write,
                    plan.id,
                    &tree,
                    &old,
                    &notes,
                    scope.actor(),
                    action,
                    Some(before),
                    Some(after)
                );
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin_write().await?;
                sqlx::query("SELECT id FROM target_plan WHERE id = $1 FOR UPDATE")
                    .bind(plan.id)
                    .execute(&mut *tx)
                    .await?;
                save_tree!(
                    tx,
                    pg_write,
                    plan.id,
                    &tree,
                    &old,
                    &notes,
                    scope.actor(),
                    action,
                    Some(before),
                    Some(after)
                );
            }
        }
        Ok(())
    }

    /// Sets one cell of a plan. Its siblings rebalance so that the parent
    /// stays (or the parent moves, and its siblings rebalance); locked cells
    /// stay put; the change flows down to the cell's months and days.
    pub async fn edit_target(
        &self,
        scope: &Scope,
        plan: &Plan,
        cell: CellRef,
        values: &[(Level, i64)],
        rebalance: Rebalance,
    ) -> Result<()> {
        let detail = json!({ "cell": cell_text(cell),
            "values": values.iter().map(|(l, v)| json!({ "level": l.key(), "value": v })).collect::<Vec<_>>(),
            "rebalance": match rebalance { Rebalance::KeepParent => "keep-parent", Rebalance::MoveParent => "move-parent" } });
        self.change_plan(scope, plan, "edit", detail, |tree| {
            if cell == CellRef::Company {
                return values.iter().try_for_each(|&(level, value)| tree.set_total(level, value));
            }
            let (parent, child) = locate(tree, cell).ok_or(EditError::NoSuchCell)?;
            let changes: Vec<Change> = values.iter().map(|&(level, value)| Change { child, level, value }).collect();
            tree.edit(&parent, &changes, rebalance)
        })
        .await
    }

    /// Locks or unlocks one cell of a plan.
    pub async fn lock_target(&self, scope: &Scope, plan: &Plan, cell: CellRef, locked: bool) -> Result<()> {
        let detail = json!({ "cell": cell_text(cell), "locked": locked });
        self.change_plan(scope, plan, if locked { "lock" } else { "unlock" }, detail, |tree| {
            let (parent, child) = locate(tree, cell).ok_or(EditError::NoSuchCell)?;
            let mut path = parent;
            path.push(child);
            let mut node = tree;
            for i in path {
                node = node.children.get_mut(i).ok_or(EditError::NoSuchCell)?;
            }
            node.locked = locked;
            Ok(())
        })
        .await
    }

    /// Applies many cells at once (a file brought back): the cells changed
    /// under each parent are pinned and the parent's other unlocked cells
    /// absorb the difference. All or nothing.
    pub async fn apply_target_cells(
        &self,
        scope: &Scope,
        plan: &Plan,
        cells: &[(CellRef, Level, i64)],
        source: &str,
    ) -> Result<usize> {
        let detail = json!({ "cells": cells.len(), "source": source });
        self.change_plan(scope, plan, "import", detail, |tree| {
            let mut groups: BTreeMap<Vec<usize>, Vec<Change>> = BTreeMap::new();
            for &(cell, level, value) in cells {
                let (parent, child) = locate(tree, cell).ok_or(EditError::NoSuchCell)?;
                groups.entry(parent).or_default().push(Change { child, level, value });
            }
            for (parent, changes) in groups {
                tree.edit(&parent, &changes, Rebalance::KeepParent)?;
            }
            Ok(())
        })
        .await?;
        Ok(cells.len())
    }

    /// What a set of cells would change, without changing anything: the cells
    /// whose values differ from the plan's.
    pub async fn diff_target_cells(&self, plan: &Plan, cells: &[(CellRef, Level, i64)]) -> Result<Vec<CellDiff>> {
        let (tree, _) = self.plan_tree(plan).await?;
        let names = self.names().await?;
        let mut out = Vec::new();
        for &(cell, level, value) in cells {
            let Some((parent, child)) = locate(&tree, cell) else { continue };
            let before = tree.at(&parent).and_then(|p| p.children.get(child)).map(|c| c.value(level)).unwrap_or(0);
            if before != value {
                let (store, period) = match cell {
                    CellRef::Month { store, month } => (store, month_label(month)),
                    CellRef::Day { store, date } => (store, date.to_string()),
                    _ => continue,
                };
                out.push(CellDiff {
                    store_code: names.stores.get(&store).cloned().unwrap_or_default(),
                    period,
                    level,
                    before,
                    after: value,
                });
            }
        }
        Ok(out)
    }

    /// Whether a cell is locked (for checking a file against the plan).
    pub async fn locked_target_cells(&self, plan: &Plan) -> Result<HashSet<CellRef>> {
        let (tree, _) = self.plan_tree(plan).await?;
        let mut out = HashSet::new();
        for r in &tree.children {
            for s in &r.children {
                let Key::Store(store) = s.key else { continue };
                for m in &s.children {
                    let Key::Month(month) = m.key else { continue };
                    if m.locked {
                        out.insert(CellRef::Month { store, month });
                    }
                    for d in m.children.iter().filter(|d| d.locked) {
                        if let Key::Day(date) = d.key {
                            out.insert(CellRef::Day { store, date });
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// A plan's rows at a grain, for the stores within reach, ordered by
    /// store code then period.
    pub async fn target_rows(&self, scope: &Scope, plan: &Plan, grain: Grain) -> Result<Vec<TargetRow>> {
        let stores: HashMap<i64, (String, String)> =
            self.stores(scope).await?.into_iter().map(|s| (s.id, (s.code, s.name))).collect();
        let mut out = Vec::new();
        match grain {
            Grain::Month => {
                let rows: Vec<(i64, i64, i64, i64, bool)> = self
                    .fetch_rows(
                        "SELECT store_id, month, baseline, stretch, locked FROM target_month WHERE plan_id = $1",
                        &[Arg::Int(plan.id)],
                    )
                    .await?;
                for (s, m, b, st, l) in rows {
                    if let Some((code, name)) = stores.get(&s) {
                        out.push(TargetRow {
                            store_id: s,
                            store_code: code.clone(),
                            store_name: name.clone(),
                            period: month_label(m),
                            baseline: b,
                            stretch: st,
                            locked: l,
                        });
                    }
                }
            }
            Grain::Day(month) => {
                let rows: Vec<(i64, NaiveDate, i64, i64, bool)> = self
                    .fetch_rows(
                        "SELECT store_id, d, baseline, stretch, locked FROM target_day WHERE plan_id = $1 AND month = $2",
                        &[Arg::Int(plan.id), Arg::Int(month)],
                    )
                    .await?;
                for (s, d, b, st, l) in rows {
                    if let Some((code, name)) = stores.get(&s) {
                        out.push(TargetRow {
                            store_id: s,
                            store_code: code.clone(),
                            store_name: name.clone(),
                            period: d.to_string(),
                            baseline: b,
                            stretch: st,
                            locked: l,
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| a.store_code.as_bytes().cmp(b.store_code.as_bytes()).then_with(|| a.period.cmp(&b.period)));
        Ok(out)
    }

    /// A plan's regions and stores within reach (regions only for those who see every store).
    pub async fn target_overview(&self, scope: &Scope, plan: &Plan) -> Result<(Vec<PlanRegion>, Vec<PlanStore>)> {
        let stores = self.stores(scope).await?;
        let regions: HashMap<i64, String> = self.regions().await?.into_iter().map(|r| (r.id, r.name)).collect();
        let by_id: HashMap<i64, &crate::stores::Store> = stores.iter().map(|s| (s.id, s)).collect();
        type S = (i64, i64, i64, i64, bool, bool, Option<String>, String, String);
        let rows: Vec<S> = self
            .fetch_rows(
                "SELECT store_id, region_id, baseline, stretch, locked, fallback, tier, season, weekdays FROM target_store WHERE plan_id = $1",
                &[Arg::Int(plan.id)],
            )
            .await?;
        let mut out: Vec<PlanStore> = rows
            .into_iter()
            .filter_map(|(s, r, b, st, l, fallback, tier, season, weekdays)| {
                let store = by_id.get(&s)?;
                Some(PlanStore {
                    store_id: s,
                    store_code: store.code.clone(),
                    store_name: store.name.clone(),
                    region_id: r,
                    region: regions.get(&r).cloned().unwrap_or_default(),
                    baseline: b,
                    stretch: st,
                    locked: l,
                    fallback,
                    tier,
                    season,
                    weekdays,
                })
            })
            .collect();
        out.sort_by(|a, b| a.store_code.as_bytes().cmp(b.store_code.as_bytes()));
        let mut region_rows = Vec::new();
        if scope.sees_all() {
            let rows: Vec<(i64, i64, i64, bool)> = self
                .fetch_rows("SELECT region_id, baseline, stretch, locked FROM target_region WHERE plan_id = $1 ORDER BY region_id", &[Arg::Int(plan.id)])
                .await?;
            region_rows = rows
                .into_iter()
                .map(|(r, b, st, l)| PlanRegion {
                    region_id: r,
                    region: regions.get(&r).cloned().unwrap_or_default(),
                    baseline: b,
                    stretch: st,
                    locked: l,
                })
                .collect();
        }
        Ok((region_rows, out))
    }
}

/// The parent path and child index of a cell in a plan's tree.
fn locate(tree: &Node, cell: CellRef) -> Option<(Vec<usize>, usize)> {
    let key = match cell {
        CellRef::Company => return None,
        CellRef::Region(r) => Key::Region(r),
        CellRef::Store(s) | CellRef::Month { store: s, .. } | CellRef::Day { store: s, .. } => Key::Store(s),
    };
    let mut path = tree.find(key)?;
    match cell {
        CellRef::Month { month, .. } => {
            let store = tree.at(&path)?;
            let i = store.children.iter().position(|m| m.key == Key::Month(month))?;
            Some((path, i))
        }
        CellRef::Day { date, .. } => {
            let store = tree.at(&path)?;
            let m = store.children.iter().position(|m| m.key == Key::Month(month_key(date)))?;
            let d = store.children[m].children.iter().position(|d| d.key == Key::Day(date))?;
            path.push(m);
            Some((path, d))
        }
        _ => {
            let last = path.pop()?;
            Some((path, last))
        }
    }
}

fn cell_text(cell: CellRef) -> String {
    match cell {
        CellRef::Company => "company".into(),
        CellRef::Region(r) => format!("region:{r}"),
        CellRef::Store(s) => format!("store:{s}"),
        CellRef::Month { store, month } => format!("store:{store}/{}", month_label(month)),
        CellRef::Day { store, date } => format!("store:{store}/{date}"),
    }
}
