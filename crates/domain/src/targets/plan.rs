//! A target plan as a tree: company → regions → stores (the year) → months →
//! days. Every node holds a baseline (保底) and a stretch (力争) value, and
//! every node equals the sum of its children, to the fen, always. Building
//! apportions each level by weights; editing a cell rebalances its siblings
//! so that the parent stays fixed (or moves the parent, when asked), and the
//! new values flow down to the children. Locked cells never move.

use std::fmt;

use chrono::NaiveDate;

use super::apportion::apportion;

/// Which of a cell's two values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// 保底: the value a store must reach.
    Baseline,
    /// 力争: the value it should strive for.
    Stretch,
}

impl Level {
    pub const BOTH: [Level; 2] = [Level::Baseline, Level::Stretch];

    pub fn key(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Stretch => "stretch",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        match text.trim() {
            "baseline" | "保底" => Some(Level::Baseline),
            "stretch" | "力争" => Some(Level::Stretch),
            _ => None,
        }
    }
}

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Company,
    Region(i64),
    Store(i64),
    /// A month of the plan's year, as `YYYYMM`.
    Month(i64),
    Day(NaiveDate),
}

/// A node of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub key: Key,
    pub baseline: i64,
    pub stretch: i64,
    /// A locked cell keeps its values when its siblings or parent change.
    pub locked: bool,
    /// The weight the plan was built with: the shape a cell's children take
    /// again when all of them had fallen to zero.
    pub weight: i64,
    pub children: Vec<Node>,
}

impl Node {
    pub fn leaf(key: Key, weight: i64) -> Node {
        Node { key, baseline: 0, stretch: 0, locked: false, weight, children: Vec::new() }
    }

    pub fn value(&self, level: Level) -> i64 {
        match level {
            Level::Baseline => self.baseline,
            Level::Stretch => self.stretch,
        }
    }

    fn set(&mut self, level: Level, v: i64) {
        match level {
            Level::Baseline => self.baseline = v,
            Level::Stretch => self.stretch = v,
        }
    }

    /// The node at `path` (child indices from here), if there is one.
    pub fn at(&self, path: &[usize]) -> Option<&Node> {
        path.iter().try_fold(self, |n, &i| n.children.get(i))
    }

    fn at_mut(&mut self, path: &[usize]) -> Option<&mut Node> {
        path.iter().try_fold(self, |n, &i| n.children.get_mut(i))
    }

    /// The path to the node with `key`, searching depth first.
    pub fn find(&self, key: Key) -> Option<Vec<usize>> {
        if self.key == key {
            return Some(Vec::new());
        }
        for (i, c) in self.children.iter().enumerate() {
            if let Some(mut p) = c.find(key) {
                p.insert(0, i);
                return Some(p);
            }
        }
        None
    }

    /// Sets this node's value of `level` and apportions it over its children
    /// by `weight`, all the way down (used when building a plan).
    pub fn fill(&mut self, level: Level, total: i64) {
        self.set(level, total);
        let weights: Vec<i128> = self.children.iter().map(|c| i128::from(c.weight)).collect();
        for (c, v) in self.children.iter_mut().zip(apportion(total, &weights)) {
            c.fill(level, v);
        }
    }

    /// Spreads this node's value over its unlocked children after it changed:
    /// in proportion to their current values (their build weights when all
    /// are zero), and on down through every child that moved.
    fn spread(&mut self, level: Level) -> Result<(), EditError> {
        if self.children.is_empty() {
            return Ok(());
        }
        let locked: i64 = self.children.iter().filter(|c| c.locked).map(|c| c.value(level)).sum();
        let free: Vec<usize> = (0..self.children.len()).filter(|&i| !self.children[i].locked).collect();
        let room = self.value(level) - locked;
        if free.is_empty() {
            return if room == 0 { Ok(()) } else { Err(EditError::AllLocked { parent: self.key }) };
        }
        if room < 0 {
            return Err(EditError::LockedExceed { parent: self.key });
        }
        let shares = self.shares(&free, level, room);
        for (&i, v) in free.iter().zip(shares) {
            let child = &mut self.children[i];
            if child.value(level) != v {
                child.set(level, v);
                child.spread(level)?;
            }
        }
        Ok(())
    }

    /// `room` apportioned over the children at `idx` by their current values,
    /// else by their build weights, else equally.
    fn shares(&self, idx: &[usize], level: Level, room: i64) -> Vec<i64> {
        let by_value: Vec<i128> = idx.iter().map(|&i| i128::from(self.children[i].value(level).max(0))).collect();
        if by_value.iter().any(|&w| w > 0) {
            return apportion(room, &by_value);
        }
        let by_weight: Vec<i128> = idx.iter().map(|&i| i128::from(self.children[i].weight.max(0))).collect();
        apportion(room, &by_weight)
    }

    /// Checks that every node equals the sum of its children, for both values.
    pub fn balanced(&self) -> bool {
        self.children.is_empty()
            || (Level::BOTH.iter().all(|&l| self.children.iter().map(|c| c.value(l)).sum::<i64>() == self.value(l))
                && self.children.iter().all(Node::balanced))
    }

    /// Calls `f` on this node and every node below it, parents first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Node, usize)) {
        fn go<'a>(n: &'a Node, depth: usize, f: &mut impl FnMut(&'a Node, usize)) {
            f(n, depth);
            for c in &n.children {
                go(c, depth + 1, f);
            }
        }
        go(self, 0, f)
    }
}

/// What happens above an edited cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebalance {
    /// The parent stays as it is; the unlocked siblings absorb the change.
    KeepParent,
    /// The parent takes the change (the user unlocked it); the parent's own
    /// siblings absorb it, so the level above stays fixed.
    MoveParent,
}

/// Why an edit cannot be made. The plan is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    NoSuchCell,
    /// The cell is locked: unlock it first.
    Locked(Key),
    /// Targets are not negative.
    Negative(Key),
    /// No unlocked sibling is left to absorb the change.
    NoneToAbsorb {
        parent: Key,
    },
    /// The unlocked siblings would have to fall below zero.
    SiblingsTooSmall {
        parent: Key,
        short: i64,
    },
    /// The parent is locked and cannot take the change.
    ParentLocked(Key),
    /// Every child of this cell is locked and they do not add up to it.
    AllLocked {
        parent: Key,
    },
    /// The locked children of this cell add up to more than it.
    LockedExceed {
        parent: Key,
    },
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Company => write!(f, "company"),
            Key::Region(id) => write!(f, "region #{id}"),
            Key::Store(id) => write!(f, "store #{id}"),
            Key::Month(m) => f.write_str(&crate::calendar::month_label(*m)),
            Key::Day(d) => write!(f, "{d}"),
        }
    }
}

/// One cell's new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Index of the cell among its parent's children.
    pub child: usize,
    pub level: Level,
    pub value: i64,
}

impl Node {
    /// Sets cells that share the parent at `parent` (a path from this node)
    /// to new values. The cells changed are pinned; the parent's other
    /// unlocked children absorb the difference in proportion to their values
    /// (`KeepParent`), or the parent takes it and its own siblings absorb it
    /// (`MoveParent`). Every cell that moved spreads its new value down.
    /// On error nothing is changed.
    pub fn edit(&mut self, parent: &[usize], changes: &[Change], rebalance: Rebalance) -> Result<(), EditError> {
        let mut work = self.clone();
        work.edit_in_place(parent, changes, rebalance)?;
        *self = work;
        Ok(())
    }

    /// Sets this node's own value (the company total of a plan, say) and
    /// spreads it down. On error nothing is changed.
    pub fn set_total(&mut self, level: Level, value: i64) -> Result<(), EditError> {
        if value < 0 {
            return Err(EditError::Negative(self.key));
        }
        let mut work = self.clone();
        work.set(level, value);
        work.spread(level)?;
        *self = work;
        Ok(())
    }

    fn edit_in_place(
        &mut self,
        parent_path: &[usize],
        changes: &[Change],
        rebalance: Rebalance,
    ) -> Result<(), EditError> {
        let parent = self.at(parent_path).ok_or(EditError::NoSuchCell)?;
        for c in changes {
            let cell = parent.children.get(c.child).ok_or(EditError::NoSuchCell)?;
            if c.value < 0 {
                return Err(EditError::Negative(cell.key));
            }
            if cell.locked && cell.value(c.level) != c.value {
                return Err(EditError::Locked(cell.key));
            }
        }
        for level in Level::BOTH {
            let mine: Vec<&Change> = changes.iter().filter(|c| c.level == level).collect();
            if mine.is_empty() {
                continue;
            }
            let parent = self.at_mut(parent_path).ok_or(EditError::NoSuchCell)?;
            let delta: i64 = mine.iter().map(|c| c.value - parent.children[c.child].value(level)).sum();
            for c in &mine {
                let child = &mut parent.children[c.child];
                if child.value(level) != c.value {
                    child.set(level, c.value);
                    child.spread(level)?;
                }
            }
            if delta == 0 {
                // Moves among the cells changed: the parent is unchanged.
                continue;
            }
            match rebalance {
                Rebalance::KeepParent => {
                    let pinned: Vec<usize> = mine.iter().map(|c| c.child).collect();
                    absorb(parent, &pinned, level, delta)?;
                }
                Rebalance::MoveParent => {
                    if parent.locked {
                        return Err(EditError::ParentLocked(parent.key));
                    }
                    let new = parent.value(level) + delta;
                    parent.set(level, new);
                    if let Some((&i, up)) = parent_path.split_last() {
                        let grand = self.at_mut(up).ok_or(EditError::NoSuchCell)?;
                        absorb(grand, &[i], level, delta)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Takes `delta` out of the children of `parent` other than `pinned` and
/// the locked ones, in proportion to their values, and spreads each change down.
fn absorb(parent: &mut Node, pinned: &[usize], level: Level, delta: i64) -> Result<(), EditError> {
    let free: Vec<usize> =
        (0..parent.children.len()).filter(|i| !pinned.contains(i) && !parent.children[*i].locked).collect();
    if free.is_empty() {
        return Err(EditError::NoneToAbsorb { parent: parent.key });
    }
    let have: i64 = free.iter().map(|&i| parent.children[i].value(level)).sum();
    let room = have - delta;
    if room < 0 {
        return Err(EditError::SiblingsTooSmall { parent: parent.key, short: -room });
    }
    let shares = parent.shares(&free, level, room);
    for (&i, v) in free.iter().zip(shares) {
        let child = &mut parent.children[i];
        if child.value(level) != v {
            child.set(level, v);
            child.spread(level)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// company → 2 regions → 2–3 stores → 3 months → 4 days.
    fn plan(weights: &[i64]) -> Node {
        let mut w = weights.iter().copied().cycle();
        let mut company = Node::leaf(Key::Company, 1);
        for r in 0..2 {
            let mut region = Node::leaf(Key::Region(r), 0);
            for s in 0..(2 + r) {
                let mut store = Node::leaf(Key::Store(r * 10 + s), w.next().unwrap_or(1));
                for m in 1..=3 {
                    let mut month = Node::leaf(Key::Month(202600 + m), w.next().unwrap_or(1));
                    for d in 1..=4 {
                        let day = NaiveDate::from_ymd_opt(2026, m as u32, d).unwrap_or_default();
                        month.children.push(Node::leaf(Key::Day(day), w.next().unwrap_or(1)));
                    }
                    store.children.push(month);
                }
                region.weight += store.weight;
                region.children.push(store);
            }
            company.children.push(region);
        }
        company.fill(Level::Baseline, 1_000_000);
        company.fill(Level::Stretch, 1_200_000);
        company
    }

    fn locked_values(n: &Node) -> Vec<(Key, i64, i64)> {
        let mut out = Vec::new();
        n.walk(&mut |c, _| {
            if c.locked {
                out.push((c.key, c.baseline, c.stretch));
            }
        });
        out
    }

    #[test]
    fn building_apportions_every_level_by_weight() {
        let p = plan(&[1, 2, 3]);
        assert!(p.balanced());
        let regions: Vec<i128> = p.children.iter().map(|r| i128::from(r.weight)).collect();
        assert_eq!(p.children.iter().map(|r| r.baseline).collect::<Vec<_>>(), apportion(1_000_000, &regions));
        let store = &p.children[1].children[2];
        let months: Vec<i128> = store.children.iter().map(|m| i128::from(m.weight)).collect();
        assert_eq!(store.children.iter().map(|m| m.stretch).collect::<Vec<_>>(), apportion(store.stretch, &months));
    }

    #[test]
    fn an_edit_keeps_the_parent_and_moves_the_unlocked_siblings() {
        let mut p = plan(&[1]);
        p.children[1].children[0].locked = true;
        let locked = p.children[1].children[0].baseline;
        let change = Change { child: 1, level: Level::Baseline, value: 250_000 };
        p.edit(&[1], &[change], Rebalance::KeepParent).unwrap();
        assert!(p.balanced());
        assert_eq!(p.children[1].baseline, 600_000);
        assert_eq!(locked, 200_000);
        assert_eq!(p.children[1].children[0].baseline, 200_000);
        assert_eq!(p.children[1].children[1].baseline, 250_000);
        assert_eq!(p.children[1].children[2].baseline, 150_000);
    }

    #[test]
    fn moving_the_parent_keeps_the_level_above() {
        let mut p = plan(&[1]);
        let change = Change { child: 0, level: Level::Stretch, value: 0 };
        p.edit(&[0, 0], &[change], Rebalance::MoveParent).unwrap();
        assert!(p.balanced());
        assert_eq!(p.stretch, 1_200_000);
        assert_eq!(p.children[0].stretch, 480_000);
        assert_eq!(p.children[0].children[0].stretch, 160_000);
        assert_eq!(p.children[0].children[1].stretch, 320_000);
    }

    #[test]
    fn edits_that_cannot_balance_are_refused_and_change_nothing() {
        let mut p = plan(&[1]);
        let before = p.clone();
        let too_big = Change { child: 0, level: Level::Baseline, value: 600_000 };
        assert_eq!(
            p.edit(&[0], &[too_big], Rebalance::KeepParent),
            Err(EditError::SiblingsTooSmall { parent: Key::Region(0), short: 200_000 })
        );
        p.children[0].children[1].locked = true;
        let alone = Change { child: 0, level: Level::Baseline, value: 1 };
        assert_eq!(
            p.edit(&[0], &[alone], Rebalance::KeepParent),
            Err(EditError::NoneToAbsorb { parent: Key::Region(0) })
        );
        let locked = Change { child: 1, level: Level::Baseline, value: 1 };
        assert_eq!(p.edit(&[0], &[locked], Rebalance::KeepParent), Err(EditError::Locked(Key::Store(1))));
        p.children[0].children[1].locked = false;
        assert_eq!(p, before);
    }

    #[test]
    fn a_zero_month_takes_its_days_shape_again() {
        let mut p = plan(&[1, 3]);
        let path = [0, 0];
        let zero = Change { child: 0, level: Level::Baseline, value: 0 };
        p.edit(&path, &[zero], Rebalance::KeepParent).unwrap();
        let back = Change { child: 0, level: Level::Baseline, value: 800 };
        p.edit(&path, &[back], Rebalance::KeepParent).unwrap();
        let days: Vec<i64> = p.at(&[0, 0, 0]).unwrap().children.iter().map(|d| d.baseline).collect();
        let weights: Vec<i64> = p.at(&[0, 0, 0]).unwrap().children.iter().map(|d| d.weight).collect();
        let weights: Vec<i128> = weights.into_iter().map(i128::from).collect();
        assert_eq!(days, apportion(800, &weights));
    }

    fn arb_edit() -> impl Strategy<Value = (Vec<usize>, usize, bool, i64, bool, Option<Vec<usize>>)> {
        (
            prop::collection::vec(0usize..4, 0..4),
            0usize..4,
            any::<bool>(),
            0i64..400_000,
            any::<bool>(),
            prop::option::of(prop::collection::vec(0usize..4, 1..5)),
        )
    }

    proptest! {
        #[test]
        fn every_level_sums_to_its_parent_and_locks_hold_after_any_edits(
            weights in prop::collection::vec(0i64..1_000, 1..30),
            edits in prop::collection::vec(arb_edit(), 1..12),
        ) {
            let mut p = plan(&weights);
            prop_assert!(p.balanced());
            for (parent, child, stretch, value, move_parent, lock) in edits {
                if let Some(n) = lock.and_then(|lock| p.at_mut(&lock)) {
                    n.locked = !n.locked;
                }
                let before = p.clone();
                let locks = locked_values(&p);
                let level = if stretch { Level::Stretch } else { Level::Baseline };
                let rebalance = if move_parent { Rebalance::MoveParent } else { Rebalance::KeepParent };
                let change = Change { child, level, value };
                match p.edit(&parent, &[change], rebalance) {
                    Ok(()) => {
                        prop_assert!(p.balanced());
                        prop_assert_eq!(locked_values(&p), locks);
                        prop_assert_eq!(p.at(&parent).and_then(|n| n.children.get(child)).map(|c| c.value(level)), Some(value));
                        if rebalance == Rebalance::KeepParent {
                            prop_assert_eq!(p.at(&parent).map(|n| n.value(level)), before.at(&parent).map(|n| n.value(level)));
                        }
                        if !parent.is_empty() {
                            prop_assert_eq!(p.value(level), before.value(level));
                        }
                    }
                    Err(_) => prop_assert_eq!(&p, &before),
                }
            }
        }
    }
}
