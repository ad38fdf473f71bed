//! Who may see what. Every query a user's request can reach takes a [`Scope`]
//! and applies it itself; there is no unscoped variant to forget.

use std::collections::HashMap;

/// The stores a scope reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every store (operations, finance, admin, the command line).
    All,
    /// The stores under these regions, at any depth (a region manager).
    Regions(Vec<i64>),
    /// One store (a store manager).
    Store(i64),
}

/// The signed-in actor and her reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    actor: String,
    reach: Reach,
    /// May manage users and settings (an administrator, or the command line
    /// run by whoever holds the database).
    administers: bool,
    /// May make and change target plans and approve their payouts (operations).
    plans: bool,
    /// The command line, run by whoever holds the database: may take every step.
    system: bool,
}

impl Scope {
    /// The command line run by whoever holds the database: every store.
    pub fn system(actor: &str) -> Scope {
        Scope { actor: actor.to_string(), reach: Reach::All, administers: true, plans: true, system: true }
    }

    pub fn new(actor: &str, reach: Reach) -> Scope {
        Scope { actor: actor.to_string(), reach, administers: false, plans: false, system: false }
    }

    /// The same scope, allowed (or not) to manage users and settings.
    pub fn administering(mut self, yes: bool) -> Scope {
        self.administers = yes;
        self
    }

    /// The same scope, allowed (or not) to change target plans.
    pub fn planning(mut self, yes: bool) -> Scope {
        self.plans = yes;
        self
    }

    pub fn plans(&self) -> bool {
        self.plans
    }

    /// The command line rather than a signed-in user.
    pub fn is_system(&self) -> bool {
        self.system
    }

    /// The signed-in user's name, when the actor is one (`user:NAME`).
    pub fn user_name(&self) -> Option<&str> {
        self.actor.strip_prefix("user:")
    }

    pub fn administers(&self) -> bool {
        self.administers
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    pub fn sees_all(&self) -> bool {
        self.reach == Reach::All
    }

    /// Whether a store in `region` is within reach; `parents` maps each
    /// region to its parent.
    pub(crate) fn allows(&self, store: i64, region: i64, parents: &HashMap<i64, Option<i64>>) -> bool {
        match &self.reach {
            Reach::All => true,
            Reach::Store(s) => *s == store,
            Reach::Regions(rs) => {
                let mut cur = Some(region);
                // A region tree is shallow; the bound guards against a cycle.
                for _ in 0..64 {
                    let Some(r) = cur else { return false };
                    if rs.contains(&r) {
                        return true;
                    }
                    cur = parents.get(&r).copied().flatten();
                }
                false
            }
        }
    }
}
