//! `kill -9` in the middle of a large import, again and again: afterwards the
//! database is consistent and holds the whole batch or none of it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use opsdesk_db::testing::TestDb;
use opsdesk_db::{Db, Scope};

const CATEGORIES: [&str; 6] = ["处方药", "非处方药", "中成药", "保健品", "母婴", "日用品"];

/// A valid POS file for stores S0001–S0008: `days` days, `tickets` tickets a
/// store-day. Returns (lines, revenue in fen).
fn write_sales(path: &Path, days: u32, tickets: u32) -> (i64, i64) {
    let mut out = String::from("ticket_no,store_code,sold_at,member_id,sku,category,qty,amount,cost\n");
    let (mut lines, mut revenue) = (0i64, 0i64);
    let mut x: u64 = 42;
    let mut next = || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 33) as i64
    };
    let start = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    for day in 0..days {
        let d = start + chrono::Duration::days(i64::from(day));
        for s in 1..=8 {
            for t in 0..tickets {
                let member = if next() % 10 < 6 { format!("M{:05}", next() % 5000) } else { String::new() };
                let secs = 8 * 3600 + t * 50_000 / tickets;
                let head = format!(
                    "S{s:04}-{}-{:06},S{s:04},{d} {:02}:{:02}:{:02},{member}",
                    d.format("%Y%m%d"),
                    t + 1,
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60
                );
                for l in 0..(1 + next() % 4) {
                    let amount = 100 + next() % 20_000;
                    let _ = writeln!(
                        out,
                        "{head},P{:05},{},{},{}.{:02},{}.00",
                        l * 1000 + next() % 900,
                        CATEGORIES[(next() % 6) as usize],
                        1 + next() % 3,
                        amount / 100,
                        amount % 100,
                        amount / 200
                    );
                    lines += 1;
                    revenue += amount;
                }
            }
        }
    }
    std::fs::write(path, out).unwrap();
    (lines, revenue)
}

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

fn opsdesk(url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_opsdesk"));
    c.args(args).env("OPSDESK_DATABASE_URL", url).stdout(Stdio::null()).stderr(Stdio::null());
    c
}

async fn fresh(backend: opsdesk_db::Backend) -> (String, opsdesk_db::testing::TestDbGuard) {
    let (url, guard) = TestDb::fresh_url(backend).await;
    assert!(opsdesk(&url, &["init"]).status().unwrap().success());
    assert!(
        opsdesk(&url, &["import", "stores", data("small/stores.csv").to_str().unwrap()]).status().unwrap().success()
    );
    (url, guard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_import_leaves_the_whole_batch_or_none() {
    let dir = std::env::temp_dir().join(format!("opsdesk_crash_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sales.csv");
    let (lines, revenue) = write_sales(&file, 120, 150);
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    eprintln!("{lines} lines; kill times drawn with seed {seed}");
    let mut rng = u64::from(seed) | 1;
    for backend in TestDb::backends() {
        // How long a whole import takes here.
        let (url, _guard) = fresh(backend).await;
        let clock = Instant::now();
        assert!(opsdesk(&url, &["import", "sales", file.to_str().unwrap()]).status().unwrap().success());
        let full = clock.elapsed();
        let (mut whole, mut none) = (0, 0);
        for run in 0..8u32 {
            let (url, _guard) = fresh(backend).await;
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            // Spread the kills over the whole import, most of them late, where it writes.
            let fraction = 0.2 + 0.9 * f64::from(run) / 8.0 + (rng % 1000) as f64 / 1000.0 * 0.1;
            let at = full.mul_f64(fraction);
            let mut child = opsdesk(&url, &["import", "sales", file.to_str().unwrap()]).spawn().unwrap();
            std::thread::sleep(at);
            let _ = child.kill(); // SIGKILL
            let status = child.wait().unwrap();
            let db = Db::open(&url).await.unwrap();
            assert_eq!(db.integrity_check().await.unwrap(), "ok");
            let snap = db.rollup_snapshot(&Scope::system("test")).await.unwrap();
            let imported = db
                .imports(&Scope::system("test"), 10)
                .await
                .unwrap()
                .iter()
                .filter(|r| r.result == "imported" && r.kind == "sales")
                .count();
            if imported == 1 {
                assert_eq!(
                    (snap.revenue(), snap.lines()),
                    (revenue, lines),
                    "{backend:?} run {run}: a batch that is in is whole"
                );
                whole += 1;
            } else {
                assert_eq!(imported, 0);
                assert!(
                    snap.days.is_empty() && snap.categories.is_empty() && snap.members.is_empty(),
                    "{backend:?} run {run}: nothing of a batch that is out"
                );
                none += 1;
            }
            eprintln!(
                "{backend:?} run {run}: killed at {:?} of {full:?} ({status}) → {}",
                at,
                if imported == 1 { "whole batch" } else { "nothing" }
            );
            db.close().await;
        }
        eprintln!("{backend:?}: {whole} whole, {none} nothing");
    }
    let _ = std::fs::remove_dir_all(dir);
}
