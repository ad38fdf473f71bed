//! Shared helpers of the import tests: the committed test data and a fresh
//! database per backend.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use opsdesk_db::testing::TestDb;
use opsdesk_db::{Backend, Db, Scope};
use opsdesk_ingest::{ImportOptions, ImportSummary, Outcome};

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

pub fn scope() -> Scope {
    Scope::system("test")
}

pub fn manifest(dir: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(data(&format!("{dir}/manifest.json"))).unwrap()).unwrap()
}

/// Every record number the manifest lists as bad.
pub fn bad_records(dir: &str) -> BTreeSet<u64> {
    let m = manifest(dir);
    m["bad_records"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap().iter().map(|n| n.as_u64().unwrap()))
        .collect()
}

/// `"1290586.66"` → fen.
pub fn fen(text: &str) -> i64 {
    opsdesk_domain::Money::parse_yuan(text).unwrap().fen()
}

/// A copy of a data file in a fresh temporary folder (so that rejects and
/// error reports land beside it, not in the repository).
pub fn scratch_copy(rel: &str) -> (tempdir::Dir, PathBuf) {
    let dir = tempdir::Dir::new();
    let to = dir.path().join(PathBuf::from(rel).file_name().unwrap());
    std::fs::copy(data(rel), &to).unwrap();
    (dir, to)
}

/// A file holding `text` in a fresh temporary folder.
pub fn scratch_file(name: &str, text: &str) -> (tempdir::Dir, PathBuf) {
    let dir = tempdir::Dir::new();
    let to = dir.path().join(name);
    std::fs::write(&to, text).unwrap();
    (dir, to)
}

pub mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};

    static N: AtomicU64 = AtomicU64::new(0);

    /// A temporary folder, removed when dropped.
    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!(
                "opsdesk_t_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A fresh database with the stores of the small data set.
pub async fn with_stores(backend: Backend) -> TestDb {
    let t = TestDb::new(backend).await;
    let s =
        opsdesk_ingest::stores::import_stores(&t.db, &scope(), &data("small/stores.csv"), &ImportOptions::default())
            .await
            .unwrap();
    assert_eq!(s.outcome, Outcome::Imported);
    t
}

pub async fn import_sales(db: &Db, path: &std::path::Path, opts: &ImportOptions<'_>) -> ImportSummary {
    opsdesk_ingest::sales::import_sales(db, &scope(), path, opts).await.unwrap()
}
