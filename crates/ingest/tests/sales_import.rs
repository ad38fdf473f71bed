//! The sales import against real SQLite files and PostgreSQL databases, on
//! data from the benchmark's generator.

mod common;

use std::collections::BTreeSet;

use common::*;
use opsdesk_db::Scope;
use opsdesk_db::testing::TestDb;
use opsdesk_ingest::{Encoding, ImportOptions, Outcome};
use sha2::Digest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_file_imports_every_line_exactly() {
    let m = manifest("small");
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        let s = import_sales(&t.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        assert_eq!(s.outcome, Outcome::Imported, "{backend:?}");
        assert_eq!(s.encoding, Encoding::Utf8);
        assert_eq!(s.rows_read, m["clean_lines"].as_u64().unwrap());
        assert_eq!(s.rows_imported, s.rows_read);
        assert_eq!(s.revenue, fen(m["clean_amount_sum"].as_str().unwrap()));
        let snap = t.db.rollup_snapshot(&scope()).await.unwrap();
        assert_eq!(snap.revenue(), fen(m["clean_amount_sum"].as_str().unwrap()), "{backend:?}");
        assert_eq!(snap.lines(), m["clean_lines"].as_i64().unwrap());
        assert_eq!(s.pairs_new as usize, snap.days.len());
        assert_eq!(s.pairs_replaced, 0);
        // Each rollup adds up to the same totals as the store-days; the
        // month rollup is the days' categories summed.
        assert!(!snap.months.is_empty());
        assert_eq!(snap.months, snap.months_from_days(), "{backend:?}");
        assert_eq!(snap.month_totals, snap.month_totals_from_days(), "{backend:?}");
        let cat_rev: i64 = snap.categories.iter().map(|c| c.revenue_c).sum();
        let cat_lines: i64 = snap.categories.iter().map(|c| c.lines).sum();
        assert_eq!((cat_rev, cat_lines), (snap.revenue(), snap.lines()));
        let member_net: i64 = snap.members.iter().map(|m| m.net_c).sum();
        let member_rev: i64 = snap.days.iter().map(|d| d.member_revenue_c.unwrap()).sum();
        assert_eq!(member_net, member_rev);
        let member_tickets: i64 = snap.members.iter().map(|m| m.tickets).sum();
        assert_eq!(member_tickets, snap.days.iter().map(|d| d.member_tickets.unwrap()).sum::<i64>());
        assert_eq!(t.db.line_detail_count().await.unwrap(), 0, "line detail is off by default");
        let history = t.db.imports(&scope(), 10).await.unwrap();
        assert_eq!(history[0].result, "imported");
        assert_eq!(history[0].sha256, s.sha256);
        // Hashed as it was read: the sha256 of the file's bytes.
        let bytes = std::fs::read(data("small/sales_lines.csv")).unwrap();
        let sha: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(s.sha256, sha);
        assert_eq!(history[0].rows_imported as u64, s.rows_imported);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dirty_file_is_refused_with_exactly_its_bad_rows_and_writes_nothing() {
    let bad = bad_records("small_dirty");
    let m = manifest("small_dirty");
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        let (dir, file) = scratch_copy("small_dirty/sales_lines.csv");
        let report = dir.path().join("errors.csv");
        let opts = ImportOptions { error_report_path: Some(report.clone()), ..ImportOptions::default() };
        let s = import_sales(&t.db, &file, &opts).await;
        assert_eq!(s.outcome, Outcome::Refused);
        assert_eq!(s.errors.total, m["bad_rows_total"].as_u64().unwrap());
        let rows: BTreeSet<u64> = s.errors.errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, bad, "{backend:?}");
        assert!(s.errors.errors.iter().all(|e| e.line == e.row + 1));
        let snap = t.db.rollup_snapshot(&scope()).await.unwrap();
        assert!(snap.days.is_empty() && snap.categories.is_empty() && snap.members.is_empty());
        assert_eq!(t.db.imports(&scope(), 1).await.unwrap()[0].result, "refused");
        // The report names file, row, column, value and reason.
        let text = std::fs::read_to_string(&report).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("file,row,line,column,value,reason"));
        assert_eq!(lines.count() as u64, m["bad_rows_total"].as_u64().unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_bad_row_gets_its_column_and_reason() {
    let m = manifest("small_dirty");
    let t = with_stores(opsdesk_db::Backend::Sqlite).await;
    let s = import_sales(&t.db, &data("small_dirty/sales_lines.csv"), &ImportOptions::default()).await;
    let by_row: std::collections::HashMap<u64, &opsdesk_ingest::RowError> =
        s.errors.errors.iter().map(|e| (e.row, e)).collect();
    let first = |kind: &str| by_row[&m["bad_records"][kind][0].as_u64().unwrap()];
    assert_eq!(first("bad_date").column, "sold_at");
    assert_eq!(first("non_numeric_amount").column, "amount");
    assert_eq!(first("unknown_store").column, "store_code");
    assert_eq!(first("unknown_store").reason, "unknown store code (not in the store list)");
    assert_eq!(first("missing_columns").column, "(record)");
    assert!(first("missing_columns").reason.starts_with("expected fields: 9, found "));
    assert_eq!(first("duplicate_line").column, "sku");
    assert_eq!(first("bad_qty").column, "qty");
    for row in m["bad_records"]["bad_qty"].as_array().unwrap() {
        let e = by_row[&row.as_u64().unwrap()];
        assert!(e.reason == "not a whole number (e.g. 1, -2)" || e.reason == "required, must not be empty", "{e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_bad_rows_imports_exactly_the_good_rows_and_sets_the_rest_aside() {
    let m = manifest("small_dirty");
    for backend in TestDb::backends() {
        let clean = with_stores(backend).await;
        import_sales(&clean.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let t = with_stores(backend).await;
        let (dir, file) = scratch_copy("small_dirty/sales_lines.csv");
        let rejects = dir.path().join("set_aside.csv");
        let opts =
            ImportOptions { skip_bad_rows: true, rejects_path: Some(rejects.clone()), ..ImportOptions::default() };
        let s = import_sales(&t.db, &file, &opts).await;
        assert_eq!(s.outcome, Outcome::Imported);
        assert_eq!(s.rows_imported, m["clean_lines"].as_u64().unwrap());
        assert_eq!(s.rows_rejected, m["bad_rows_total"].as_u64().unwrap());
        assert_eq!(
            t.db.rollup_snapshot(&scope()).await.unwrap(),
            clean.db.rollup_snapshot(&scope()).await.unwrap(),
            "{backend:?}"
        );
        // The rejects file holds the bad records as they were, plus the reason.
        let original: Vec<String> = std::fs::read_to_string(&file).unwrap().lines().map(String::from).collect();
        let mut r = csv::ReaderBuilder::new().flexible(true).from_path(&rejects).unwrap();
        assert_eq!(r.headers().unwrap().iter().next_back(), Some("reject_reason"));
        let records: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(records.len() as u64, m["bad_rows_total"].as_u64().unwrap());
        let dup = m["bad_records"]["duplicate_line"][0].as_u64().unwrap() as usize;
        let fields: Vec<&str> = original[dup].split(',').collect();
        assert!(records.iter().any(|rec| rec.iter().take(fields.len()).eq(fields.iter().copied())));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gbk_twin_gives_the_same_rollups_as_the_utf8_file() {
    for backend in TestDb::backends() {
        let utf8 = with_stores(backend).await;
        import_sales(&utf8.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let gbk = TestDb::new(backend).await;
        let st = opsdesk_ingest::stores::import_stores(
            &gbk.db,
            &scope(),
            &data("small_gbk/stores.csv"),
            &ImportOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(st.encoding, Encoding::Gb18030);
        let s = import_sales(&gbk.db, &data("small_gbk/sales_lines.csv"), &ImportOptions::default()).await;
        assert_eq!(s.encoding, Encoding::Gb18030);
        assert_eq!(s.outcome, Outcome::Imported);
        assert_eq!(
            gbk.db.rollup_snapshot(&scope()).await.unwrap(),
            utf8.db.rollup_snapshot(&scope()).await.unwrap(),
            "{backend:?}"
        );
        assert_eq!(
            gbk.db.stores(&scope()).await.unwrap()[0].region_path,
            utf8.db.stores(&scope()).await.unwrap()[0].region_path
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reimporting_the_same_file_changes_nothing() {
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        let first = import_sales(&t.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let before = t.db.rollup_snapshot(&scope()).await.unwrap();
        let again = import_sales(&t.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        assert_eq!(again.outcome, Outcome::AlreadyImported, "{backend:?}");
        assert_eq!(again.batch_id, first.batch_id);
        assert_eq!(t.db.rollup_snapshot(&scope()).await.unwrap(), before);
        let history = t.db.imports(&scope(), 2).await.unwrap();
        assert_eq!((history[0].result.as_str(), history[1].result.as_str()), ("already_imported", "imported"));
    }
}

/// The small file's lines of one store-day, with every amount changed.
fn corrected_store_day(store: &str, date: &str) -> (String, i64, i64) {
    let text = std::fs::read_to_string(data("small/sales_lines.csv")).unwrap();
    let mut out = String::from(text.lines().next().unwrap());
    out.push('\n');
    let (mut old, mut new) = (0, 0);
    for line in text.lines().skip(1).filter(|l| l.contains(&format!(",{store},{date} "))) {
        let mut f: Vec<String> = line.split(',').map(String::from).collect();
        let amount = fen(&f[7]);
        old += amount;
        let changed = amount + amount.signum() * 100;
        new += changed;
        f[7] = opsdesk_domain::Money(changed).to_string();
        out.push_str(&f.join(","));
        out.push('\n');
    }
    (out, old, new)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_file_replaces_its_store_days_and_nothing_else() {
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        import_sales(&t.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let before = t.db.rollup_snapshot(&scope()).await.unwrap();
        let (text, old, new) = corrected_store_day("S0003", "2026-10-30");
        assert!(old > 0);
        let dir = common::tempdir::Dir::new();
        let file = dir.path().join("fix.csv");
        std::fs::write(&file, text).unwrap();
        let s = import_sales(&t.db, &file, &ImportOptions::default()).await;
        assert_eq!((s.outcome, s.pairs_new, s.pairs_replaced), (Outcome::Imported, 0, 1), "{backend:?}");
        let after = t.db.rollup_snapshot(&scope()).await.unwrap();
        assert_eq!(after.revenue() - before.revenue(), new - old);
        assert_eq!(after.days.len(), before.days.len());
        let changed: Vec<_> =
            after.days.iter().zip(&before.days).filter(|(a, b)| a != b).map(|(a, _)| a.d.to_string()).collect();
        assert_eq!(changed, vec!["2026-10-30"]);
        assert_eq!(after.categories.len(), before.categories.len());
        // The month rollup follows the one store-day: S0003's October, and nothing else.
        assert_eq!(after.months, after.months_from_days(), "{backend:?}");
        assert_eq!(after.month_totals, after.month_totals_from_days(), "{backend:?}");
        let s3 = t.db.store_codes(&scope()).await.unwrap()["S0003"];
        let moved: Vec<_> = after
            .months
            .iter()
            .zip(&before.months)
            .filter(|(a, b)| a != b)
            .map(|(a, _)| (a.store_id, a.month))
            .collect();
        assert!(!moved.is_empty() && moved.iter().all(|m| *m == (s3, 202610)), "{moved:?}");
        let month_revenue = |s: &opsdesk_db::sales::RollupSnapshot| s.months.iter().map(|m| m.revenue_c).sum::<i64>();
        assert_eq!(month_revenue(&after) - month_revenue(&before), new - old);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outside_the_users_reach_is_an_unknown_store() {
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        let stores = t.db.stores(&scope()).await.unwrap();
        let own = Scope::new("manager", opsdesk_db::scope::Reach::Store(stores[0].id));
        let s =
            opsdesk_ingest::sales::import_sales(&t.db, &own, &data("small/sales_lines.csv"), &ImportOptions::default())
                .await
                .unwrap();
        assert_eq!(s.outcome, Outcome::Refused);
        assert!(s.errors.errors.iter().all(|e| e.column == "store_code" && e.value != stores[0].code));
        assert!(t.db.rollup_snapshot(&scope()).await.unwrap().days.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_header_names_import_through_a_mapping() {
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        let text = std::fs::read_to_string(data("small/sales_lines.csv")).unwrap();
        let renamed = text.replacen("ticket_no,store_code,sold_at", "交易编号,门店编码,时间戳", 1);
        let dir = common::tempdir::Dir::new();
        let file = dir.path().join("pos.csv");
        std::fs::write(&file, renamed).unwrap();
        let err =
            opsdesk_ingest::sales::import_sales(&t.db, &scope(), &file, &ImportOptions::default()).await.unwrap_err();
        assert!(err.to_string().contains("missing column(s) ticket_no (单号), sold_at (销售时间)"), "{err}");
        assert!(err.is_bad_input());
        t.db.save_column_mapping(&scope(), "sales", "交易编号", "ticket_no").await.unwrap();
        let opts = ImportOptions { mappings: vec![("时间戳".into(), "sold_at".into())], ..ImportOptions::default() };
        let s = import_sales(&t.db, &file, &opts).await;
        assert_eq!(s.outcome, Outcome::Imported);
        assert_eq!(s.revenue, fen(manifest("small")["clean_amount_sum"].as_str().unwrap()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_of_a_ticket_in_two_places_refuse_the_file_even_when_skipping() {
    let t = with_stores(opsdesk_db::Backend::Sqlite).await;
    let text = std::fs::read_to_string(data("small/sales_lines.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let moved = lines.remove(1);
    lines.push(moved);
    if lines[1].split(',').next() != moved.split(',').next() {
        // The first ticket had one line: repeat it at the end instead.
        lines.insert(1, moved);
    }
    let dir = common::tempdir::Dir::new();
    let file = dir.path().join("shuffled.csv");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let opts = ImportOptions { skip_bad_rows: true, ..ImportOptions::default() };
    let s = import_sales(&t.db, &file, &opts).await;
    assert_eq!(s.outcome, Outcome::Refused);
    let e = &s.errors.errors[0];
    assert_eq!((e.column.as_str(), e.value.as_str()), ("ticket_no", moved.split(',').next().unwrap()));
    assert_eq!(e.row as usize, lines.len() - 1);
}

/// The header and the lines of the small data set's sales file.
fn small_sales_lines() -> (String, Vec<String>) {
    let text = std::fs::read_to_string(data("small/sales_lines.csv")).unwrap();
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_repeated_megabytes_later_refuses_the_file() {
    // Three copies of the small file (over several 4 MB chunks), their
    // tickets renumbered, then the very first line again. Renumbered
    // A-S0001-…, B-S0001-…, the tickets are in no order the import can
    // trust; renumbered S0001-A-…, S0001-B-…, each store's tickets rise
    // through the file and the stores' ranges stay apart, until the repeat.
    let t = with_stores(opsdesk_db::Backend::Sqlite).await;
    let (header, body) = small_sales_lines();
    let dir = common::tempdir::Dir::new();
    let file = dir.path().join("repeated.csv");
    let before = |copy: &str, line: &str| format!("{copy}-{line}");
    let within = |copy: &str, line: &str| format!("{}-{copy}{}", &line[..5], &line[5..]);
    for renumber in [before, within] {
        let mut out = vec![header.clone()];
        for copy in ["A", "B", "C"] {
            out.extend(body.iter().map(|l| renumber(copy, l)));
        }
        let again = renumber("A", &body[0]);
        out.push(again.clone());
        std::fs::write(&file, out.join("\n")).unwrap();
        assert!(std::fs::metadata(&file).unwrap().len() > 5 << 20, "more than one chunk");
        let s = import_sales(&t.db, &file, &ImportOptions::default()).await;
        assert_eq!(s.outcome, Outcome::Refused);
        assert_eq!(s.errors.total, 1);
        let e = &s.errors.errors[0];
        assert_eq!((e.column.as_str(), e.value.as_str()), ("ticket_no", again.split(',').next().unwrap()));
        assert_eq!(e.line as usize, out.len());
        // The same file without the repeat imports whole.
        out.pop();
        std::fs::write(&file, out.join("\n")).unwrap();
        let s = import_sales(&t.db, &file, &ImportOptions::default()).await;
        assert_eq!((s.outcome, s.rows_imported as usize), (Outcome::Imported, 3 * body.len()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_deep_in_a_file_are_named_by_their_exact_line() {
    // Three renumbered copies of the small file, over several 4 MB chunks
    // whose lines the reader does not count (the merge does): blank lines
    // early on, a quoted field in the third copy (its chunk goes through
    // the CSV reader), bad amounts in the second and third copies.
    let t = with_stores(opsdesk_db::Backend::Sqlite).await;
    let (header, body) = small_sales_lines();
    let mut out = vec![header];
    for copy in ["A", "B", "C"] {
        out.extend(body.iter().map(|l| format!("{copy}-{l}")));
        if copy == "A" {
            out.insert(10, String::new());
            out.insert(20, String::new());
        }
    }
    // A line of the third copy, past the first chunk.
    let quoted = out.len() * 5 / 6 - 3;
    let mut bad = vec![out.len() / 2, out.len() * 5 / 6, out.len() - 1];
    let mut set = |at: usize, field: usize, value: &dyn Fn(&str) -> String| {
        let mut f: Vec<String> = out[at].split(',').map(str::to_string).collect();
        f[field] = value(&f[field]);
        out[at] = f.join(",");
    };
    set(quoted, 4, &|sku| format!("\"{sku}\""));
    for &at in &bad {
        set(at, 7, &|_| "12.3.4".into());
    }
    let dir = common::tempdir::Dir::new();
    let file = dir.path().join("deep.csv");
    std::fs::write(&file, out.join("\n")).unwrap();
    assert!(std::fs::metadata(&file).unwrap().len() > 5 << 20, "more than one chunk");
    let s = import_sales(&t.db, &file, &ImportOptions::default()).await;
    assert_eq!(s.outcome, Outcome::Refused);
    let got: Vec<(u64, String)> = s.errors.errors.iter().map(|e| (e.line, e.value.clone())).collect();
    bad.sort_unstable();
    let want: Vec<(u64, String)> = bad.iter().map(|&at| (at as u64 + 1, "12.3.4".to_string())).collect();
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_of_over_64_mb_is_refused_at_the_line_it_starts() {
    // A thousand tickets, then one ticket whose lines run past 64 MB: the
    // reader, which numbers no chunk after the first, counts the lines to
    // where the run starts for the message.
    let t = with_stores(opsdesk_db::Backend::Sqlite).await;
    let mut text = String::from("ticket_no,store_code,sold_at,member_id,sku,category,qty,amount,cost\n");
    for n in 0..1000 {
        text.push_str(&format!("T{n:05},S0001,2026-07-04 12:16:23,,P1,处方药,1,1.00,0.50\n"));
    }
    let line = "TLONG,S0001,2026-07-04 12:16:23,,P1,处方药,1,1.00,0.50\n";
    text.push_str(&line.repeat((65 << 20) / line.len() + 1));
    let dir = common::tempdir::Dir::new();
    let file = dir.path().join("long.csv");
    std::fs::write(&file, text).unwrap();
    let err = opsdesk_ingest::sales::import_sales(&t.db, &scope(), &file, &ImportOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("from line 1002 on, one ticket or record runs over 64 MB"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_detail_is_kept_only_when_the_setting_asks_and_is_replaced_with_its_store_days() {
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        t.db.set_setting(&scope(), opsdesk_db::settings::KEEP_LINE_DETAIL, "true").await.unwrap();
        import_sales(&t.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let clean_lines = manifest("small")["clean_lines"].as_i64().unwrap();
        assert_eq!(t.db.line_detail_count().await.unwrap(), clean_lines, "{backend:?}");
        let (text, _, _) = corrected_store_day("S0003", "2026-10-30");
        let fixed_lines = text.lines().count() as i64 - 1;
        // Drop one line of the store-day: the detail follows the new file.
        let shorter: Vec<&str> = text.lines().take(fixed_lines as usize).collect();
        let dir = common::tempdir::Dir::new();
        let file = dir.path().join("fix.csv");
        std::fs::write(&file, shorter.join("\n")).unwrap();
        let s = import_sales(&t.db, &file, &ImportOptions::default()).await;
        assert_eq!(s.pairs_replaced, 1);
        assert_eq!(t.db.line_detail_count().await.unwrap(), clean_lines - 1, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_rejects_added_to_their_store_days_complete_them() {
    let text = std::fs::read_to_string(data("small/sales_lines.csv")).unwrap();
    let header = text.lines().next().unwrap();
    // Every ticket of S0002 on 2026-10-30 ending in 1 is held back, as if rejected and fixed later.
    let held = |l: &&str| l.starts_with("S0002-20261030-") && l.split(',').next().unwrap().ends_with('1');
    let (later, first): (Vec<&str>, Vec<&str>) = text.lines().skip(1).partition(held);
    assert!(!later.is_empty());
    let dir = common::tempdir::Dir::new();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("fixed.csv"));
    std::fs::write(&a, format!("{header}\n{}\n", first.join("\n"))).unwrap();
    std::fs::write(
        &b,
        format!(
            "{header},reject_reason\n{}\n",
            later.iter().map(|l| format!("{l},fixed")).collect::<Vec<_>>().join("\n")
        ),
    )
    .unwrap();
    for backend in TestDb::backends() {
        let whole = with_stores(backend).await;
        import_sales(&whole.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let t = with_stores(backend).await;
        import_sales(&t.db, &a, &ImportOptions::default()).await;
        let add = ImportOptions { add: true, ..ImportOptions::default() };
        let s = import_sales(&t.db, &b, &add).await;
        assert_eq!((s.outcome, s.pairs_new, s.pairs_replaced), (Outcome::Imported, 0, 1), "{backend:?}");
        assert_eq!(
            t.db.rollup_snapshot(&scope()).await.unwrap(),
            whole.db.rollup_snapshot(&scope()).await.unwrap(),
            "{backend:?}"
        );
        // The same file again is recognised and adds nothing.
        assert_eq!(import_sales(&t.db, &b, &add).await.outcome, Outcome::AlreadyImported);
        assert_eq!(t.db.rollup_snapshot(&scope()).await.unwrap(), whole.db.rollup_snapshot(&scope()).await.unwrap());
    }
}
