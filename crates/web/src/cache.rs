//! Reports computed once per state of the data. A report is a pure function
//! of the stored rollups and the reach it is cut to, so a result stays good
//! until the data changes — and every change of data writes an audit event
//! (DESIGN: the audit log records every change), so the last audit event's
//! id is the data's version. Each request still asks for that version (one
//! primary-key lookup), so an import is seen by the very next request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use opsdesk_db::{Db, Scope};

use crate::reports::{self, Dashboard, Report, ReportError, ReportRequest};

/// At most this many results are kept; the oldest go first.
const MAX_ENTRIES: usize = 512;

struct Entry<V> {
    version: i64,
    stamp: u64,
    value: Arc<V>,
}

struct Shelf<V> {
    entries: HashMap<String, Entry<V>>,
    clock: u64,
}

pub(crate) struct Cache<V> {
    shelf: Mutex<Shelf<V>>,
}

impl<V> Cache<V> {
    pub fn new() -> Cache<V> {
        Cache { shelf: Mutex::new(Shelf { entries: HashMap::new(), clock: 0 }) }
    }

    fn get(&self, key: &str, version: i64) -> Option<Arc<V>> {
        let mut s = self.shelf.lock().unwrap_or_else(|e| e.into_inner());
        s.clock += 1;
        let now = s.clock;
        let e = s.entries.get_mut(key).filter(|e| e.version == version)?;
        e.stamp = now;
        Some(e.value.clone())
    }

    fn put(&self, key: String, version: i64, value: Arc<V>) {
        let mut s = self.shelf.lock().unwrap_or_else(|e| e.into_inner());
        s.clock += 1;
        let stamp = s.clock;
        let full = s.entries.len() >= MAX_ENTRIES && !s.entries.contains_key(&key);
        if let Some(oldest) =
            full.then(|| s.entries.iter().min_by_key(|(_, e)| e.stamp).map(|(k, _)| k.clone())).flatten()
        {
            s.entries.remove(&oldest);
        }
        s.entries.insert(key, Entry { version, stamp, value });
    }
}

/// The cached results of the desk.
pub(crate) struct Results {
    reports: Cache<Report>,
    dashboards: Cache<Dashboard>,
}

impl Results {
    pub fn new() -> Results {
        Results { reports: Cache::new(), dashboards: Cache::new() }
    }

    /// The report, computed unless the data has not changed since it last was.
    pub async fn report(&self, db: &Db, scope: &Scope, req: &ReportRequest) -> Result<Arc<Report>, ReportError> {
        let version = db.data_version().await?;
        // The key holds everything a result depends on besides the data:
        // the reach, whether the user administers (the audit log), the request.
        let key = format!("{:?}|{}|{req:?}", scope.reach(), scope.administers());
        if let Some(r) = self.reports.get(&key, version) {
            return Ok(r);
        }
        let r = Arc::new(reports::build(db, scope, req).await?);
        self.reports.put(key, version, r.clone());
        Ok(r)
    }

    /// The dashboard; `None` before any sales.
    pub async fn dashboard(&self, db: &Db, scope: &Scope) -> Result<Option<Arc<Dashboard>>, ReportError> {
        let version = db.data_version().await?;
        let key = format!("{:?}", scope.reach());
        if let Some(d) = self.dashboards.get(&key, version) {
            return Ok(Some(d));
        }
        let Some(d) = reports::dashboard(db, scope).await? else { return Ok(None) };
        let d = Arc::new(d);
        self.dashboards.put(key, version, d.clone());
        Ok(Some(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_is_good_for_its_version_only_and_the_oldest_goes_first() {
        let c: Cache<i32> = Cache::new();
        c.put("a".into(), 1, Arc::new(10));
        assert_eq!(c.get("a", 1).as_deref(), Some(&10));
        assert_eq!(c.get("a", 2), None, "the data changed");
        for i in 0..MAX_ENTRIES {
            c.put(format!("k{i}"), 1, Arc::new(i as i32));
        }
        assert_eq!(c.get("a", 1), None, "the least recently used went first");
        assert_eq!(c.get("k1", 1).as_deref(), Some(&1));
    }
}
