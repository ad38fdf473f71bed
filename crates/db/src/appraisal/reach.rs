//! Who scores whom, and who sees whose pay. The chain of a unit is its head
//! (a store's manager, a department's named head), the heads of the
//! departments above it, the region managers over a store, operations (who
//! review every unit), the executives who approve, and finance. A head
//! neither scores nor sees the pay of staff at a head level
//! (`appraisal.head_levels`) in her own unit: that is her own level, and the
//! chain above her scores it.

use std::collections::{HashMap, HashSet};

use opsdesk_domain::appraisal::cycle::{State, Step};
use opsdesk_domain::appraisal::{DEFAULT_HEAD_LEVELS, HEAD_LEVELS_KEY, parse_head_levels};
use opsdesk_domain::people::Role;

use crate::staff::Employee;
use crate::{Db, DbError, Result, Scope};

/// The reader, as the appraisal's rules see her.
pub(crate) struct Viewer {
    system: bool,
    plans: bool,
    role: Option<Role>,
    /// The store a store manager runs.
    store: Option<i64>,
    executive: bool,
    /// The departments she heads.
    heads: HashSet<i64>,
    /// Each department's parent.
    parents: HashMap<i64, Option<i64>>,
    head_levels: Vec<String>,
}

impl Viewer {
    fn head_level(&self, e: &Employee) -> bool {
        self.head_levels.iter().any(|l| l == e.level.trim())
    }

    /// Whether she heads the employee's own unit.
    pub(crate) fn heads_unit(&self, e: &Employee) -> bool {
        match e.department_id {
            Some(d) => self.heads.contains(&d),
            // Reach holds a store manager to her one store.
            None => self.role == Some(Role::StoreManager) && self.store.is_some() && self.store == e.store_id,
        }
    }

    /// Whether she heads a department above the employee's.
    fn heads_above(&self, e: &Employee) -> bool {
        let Some(d) = e.department_id else { return false };
        let mut cur = self.parents.get(&d).copied().flatten();
        for _ in 0..64 {
            let Some(p) = cur else { return false };
            if self.heads.contains(&p) {
                return true;
            }
            cur = self.parents.get(&p).copied().flatten();
        }
        false
    }

    /// Whether she may give the employee's hand scores.
    pub(crate) fn may_score(&self, e: &Employee) -> bool {
        self.system || self.plans || (self.heads_unit(e) && !self.head_level(e)) || self.heads_above(e)
    }

    /// Whether she may take `step` on a unit in `state` of which `member`
    /// is one of the staff.
    pub(crate) fn may_step(&self, step: Step, state: State, member: &Employee) -> bool {
        self.system
            || match (step, state) {
                (Step::Sign, _) => self.plans || self.heads_unit(member),
                (Step::Review, _) | (Step::SendBack, State::Signed) => self.plans,
                (Step::Approve, _) | (Step::SendBack, _) => self.executive,
                (Step::Pay, _) => self.role == Some(Role::Finance),
            }
    }

    /// Whether she may see the employee's appraisal result and pay.
    pub(crate) fn sees_pay(&self, e: &Employee) -> bool {
        self.system
            || self.plans
            || self.executive
            || self.role == Some(Role::Finance)
            || (self.role == Some(Role::RegionManager) && e.store_id.is_some())
            || (self.heads_unit(e) && !self.head_level(e))
            || self.heads_above(e)
    }
}

impl Db {
    /// The users named as executives (`appraisal.executives`).
    pub(crate) async fn executives(&self) -> Result<Vec<String>> {
        Ok(self
            .setting(crate::settings::EXECUTIVES)
            .await?
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect())
    }

    /// The head levels as the settings have them.
    pub(crate) async fn head_levels(&self) -> Result<Vec<String>> {
        let text = self.setting(HEAD_LEVELS_KEY).await?.unwrap_or_else(|| DEFAULT_HEAD_LEVELS.to_string());
        parse_head_levels(&text).map_err(|e| DbError::Rule(e.to_string()))
    }

    /// The reader of `scope`, for the appraisal's rules.
    pub(crate) async fn viewer(&self, scope: &Scope) -> Result<Viewer> {
        let name = scope.user_name();
        let user = match name {
            Some(n) => self.user_by_name(n).await?,
            None => None,
        };
        let (role, store) = (user.as_ref().map(|u| u.role), user.and_then(|u| u.store_id));
        let departments = self.department_list().await?;
        Ok(Viewer {
            system: scope.is_system(),
            plans: scope.plans(),
            role,
            store,
            executive: match name {
                Some(n) => self.executives().await?.iter().any(|e| e == n),
                None => false,
            },
            heads: departments.iter().filter(|d| name.is_some() && d.head.as_deref() == name).map(|d| d.id).collect(),
            parents: departments.iter().map(|d| (d.id, d.parent_id)).collect(),
            head_levels: self.head_levels().await?,
        })
    }
}

impl Db {
    /// The ids of the employees within reach whose pay (pay base, results)
    /// the reader may see.
    pub async fn pay_visible(&self, scope: &Scope) -> Result<HashSet<i64>> {
        let viewer = self.viewer(scope).await?;
        Ok(self.employees(scope).await?.iter().filter(|e| viewer.sees_pay(e)).map(|e| e.id).collect())
    }
}
