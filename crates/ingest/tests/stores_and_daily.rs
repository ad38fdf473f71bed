//! The store list and store × day summary imports.

mod common;

use common::*;
use opsdesk_db::testing::TestDb;
use opsdesk_ingest::{ImportOptions, Outcome};

fn write(dir: &tempdir::Dir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_list_builds_the_region_tree_and_audits_each_change() {
    let dir = tempdir::Dir::new();
    let first = write(
        &dir,
        "stores.csv",
        "门店编码,门店名称,区域,营业面积(㎡),员工数,开业日期,渠道\nA01,\"徐汇店,一号\",华东/上海,120,8,2020-05-01,门店\nA02,天猫旗舰店,线上,1,5,2021-01-01,网店\n",
    );
    let second = write(
        &dir,
        "stores2.csv",
        "store_code,store_name,region,area_sqm,staff_count,open_date,status\nA01,\"徐汇店,一号\",华东/上海,150,9,2020-05-01,open\nA02,天猫旗舰店,线上,1,5,2021-01-01,open\nA03,杭州店,华东/杭州,80,5,2024-03-01,停业\n",
    );
    for backend in TestDb::backends() {
        let t = TestDb::new(backend).await;
        let s =
            opsdesk_ingest::stores::import_stores(&t.db, &scope(), &first, &ImportOptions::default()).await.unwrap();
        assert_eq!(s.records.unwrap().added, 2);
        let s =
            opsdesk_ingest::stores::import_stores(&t.db, &scope(), &second, &ImportOptions::default()).await.unwrap();
        let c = s.records.unwrap();
        assert_eq!((c.added, c.updated, c.unchanged), (1, 1, 1), "{backend:?}");
        let stores = t.db.stores(&scope()).await.unwrap();
        let codes: Vec<&str> = stores.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["A01", "A02", "A03"]);
        assert_eq!(stores[0].region_path, ["华东", "上海"]);
        assert_eq!(stores[0].name, "徐汇店,一号");
        assert_eq!((stores[0].area_sqm, stores[0].staff_count), (150, 9));
        assert_eq!(stores[1].channel, "online");
        assert_eq!(stores[2].status, "closed");
        // A region manager of 华东 reaches the stores of 上海 and 杭州, not the online shop.
        let regions = t.db.regions().await.unwrap();
        let east = regions.iter().find(|r| r.name == "华东" && r.parent_id.is_none()).unwrap().id;
        let manager = opsdesk_db::Scope::new("rm", opsdesk_db::scope::Reach::Regions(vec![east]));
        let reached: Vec<String> = t.db.stores(&manager).await.unwrap().into_iter().map(|s| s.code).collect();
        assert_eq!(reached, ["A01", "A03"]);
        let store_manager = opsdesk_db::Scope::new("sm", opsdesk_db::scope::Reach::Store(stores[1].id));
        assert_eq!(t.db.stores(&store_manager).await.unwrap().len(), 1);
        let events = t.db.audit_events(&scope(), 10).await.unwrap();
        let update = events.iter().find(|e| e.action == "update" && e.entity_id == "A01").unwrap();
        assert_eq!(update.before_json().unwrap()["area_sqm"], 120);
        assert_eq!(update.after_json().unwrap()["area_sqm"], 150);
        assert_eq!(events.iter().filter(|e| e.action == "create").count(), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_store_row_refuses_the_whole_list() {
    let dir = tempdir::Dir::new();
    let f = write(
        &dir,
        "stores.csv",
        "store_code,store_name,region,area_sqm,staff_count,open_date\nB1,一店,华南,100,6,2020-01-01\nB2,二店,华南,-3,6,2020-01-01\nB1,重复,华南,90,6,2020-02-30\n",
    );
    for backend in TestDb::backends() {
        let t = TestDb::new(backend).await;
        let s = opsdesk_ingest::stores::import_stores(&t.db, &scope(), &f, &ImportOptions::default()).await.unwrap();
        assert_eq!(s.outcome, Outcome::Refused);
        let got: Vec<(u64, &str, &str, &str)> =
            s.errors.errors.iter().map(|e| (e.row, e.column.as_str(), e.value.as_str(), e.reason.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (2, "area_sqm", "-3", "must be greater than 0"),
                (3, "open_date", "2020-02-30", "no such calendar date or time")
            ]
        );
        assert!(t.db.stores(&scope()).await.unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_summaries_replace_store_days_and_keep_what_they_lack_empty() {
    let dir = tempdir::Dir::new();
    let f = write(
        &dir,
        "daily.csv",
        "门店编码,日期,销售额,成本,客流,数量\nS0001,2026-10-30,1000.50,600.25,20,41\nS0002,2026-10-30,800,500,10,\n",
    );
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        import_sales(&t.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let before = t.db.rollup_snapshot(&scope()).await.unwrap();
        let s = opsdesk_ingest::daily::import_daily(&t.db, &scope(), &f, &ImportOptions::default()).await.unwrap();
        assert_eq!((s.outcome, s.pairs_new, s.pairs_replaced), (Outcome::Imported, 0, 2), "{backend:?}");
        let after = t.db.rollup_snapshot(&scope()).await.unwrap();
        assert_eq!(after.days.len(), before.days.len());
        // Summaries carry no categories: the month rollup loses those two days.
        assert_eq!(after.months, after.months_from_days(), "{backend:?}");
        assert_eq!(after.month_totals, after.month_totals_from_days(), "{backend:?}");
        assert!(after.months != before.months);
        // A whole month's sums from the rollup equal the days' own, including
        // the quantity and member revenue a summary day lacks.
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let month = t.db.period_sums(d("2026-10-01"), d("2026-10-31")).await.unwrap();
        let (a, b) = (
            t.db.period_sums(d("2026-10-01"), d("2026-10-30")).await.unwrap(),
            t.db.period_sums(d("2026-10-31"), d("2026-10-31")).await.unwrap(),
        );
        assert!(!month.is_empty());
        for (store, m) in &month {
            let parts: Vec<_> = [a.get(store), b.get(store)].into_iter().flatten().collect();
            let sum =
                |f: fn(&opsdesk_domain::reports::period::PeriodSums) -> i64| parts.iter().map(|p| f(p)).sum::<i64>();
            let opt = |f: fn(&opsdesk_domain::reports::period::PeriodSums) -> Option<i64>| {
                parts.iter().try_fold(0, |acc, p| f(p).map(|v| acc + v))
            };
            assert_eq!(
                (m.revenue, m.cost, m.tickets, m.days, m.qty, m.member_revenue),
                (
                    sum(|p| p.revenue),
                    sum(|p| p.cost),
                    sum(|p| p.tickets),
                    sum(|p| p.days),
                    opt(|p| p.qty),
                    opt(|p| p.member_revenue)
                ),
                "{backend:?} store {store}"
            );
        }
        assert!(month.values().any(|m| m.qty.is_none()), "a summary day without quantities");
        let day = after
            .days
            .iter()
            .find(|d| d.d.to_string() == "2026-10-30" && d.source == "summary" && d.revenue_c == 100050)
            .unwrap();
        assert_eq!(
            (day.cost_c, day.tickets, day.qty, day.member_revenue_c, day.lines),
            (60025, 20, Some(41), None, None)
        );
        let other = after.days.iter().find(|d| d.revenue_c == 80000).unwrap();
        assert_eq!(other.qty, None);
        // The summarised days no longer have category or member detail.
        let ids: Vec<i64> = vec![day.store_id, other.store_id];
        assert!(!after.categories.iter().any(|c| ids.contains(&c.store_id) && c.d == day.d));
        assert!(!after.members.iter().any(|m| ids.contains(&m.store_id) && m.d == day.d));
        assert!(before.categories.iter().any(|c| ids.contains(&c.store_id) && c.d == day.d));
        // Counted by the month rollup for whole months, from the packed
        // days for a month the range cuts; within reach only.
        let counted = |from: &str, to: &str, scope: opsdesk_db::Scope| {
            let db = &t.db;
            let (from, to) = (d(from), d(to));
            async move { db.summary_days(&scope, from, to).await.unwrap() }
        };
        let months: Vec<(i64, i64)> =
            after.month_totals.iter().filter(|m| m.summary_days > 0).map(|m| (m.month, m.summary_days)).collect();
        assert_eq!(months, vec![(202610, 1), (202610, 1)], "{backend:?}");
        assert_eq!(counted("2026-10-01", "2026-10-31", scope()).await, 2, "{backend:?}");
        assert_eq!(counted("1900-01-01", "9999-12-31", scope()).await, 2, "{backend:?}");
        assert_eq!(counted("2026-10-30", "2026-10-30", scope()).await, 2, "{backend:?}");
        assert_eq!(counted("2026-09-15", "2026-10-30", scope()).await, 2, "{backend:?}");
        assert_eq!(counted("2026-10-31", "2026-11-30", scope()).await, 0, "{backend:?}");
        assert_eq!(counted("2026-10-01", "2026-10-29", scope()).await, 0, "{backend:?}");
        let own = opsdesk_db::Scope::new("sm", opsdesk_db::scope::Reach::Store(day.store_id));
        assert_eq!(counted("2026-10-01", "2026-10-31", own.clone()).await, 1, "{backend:?}");
        assert_eq!(counted("2026-10-30", "2026-10-31", own).await, 1, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_day_twice_in_one_summary_file_is_a_bad_row() {
    let dir = tempdir::Dir::new();
    let f = write(
        &dir,
        "daily.csv",
        "store_code,date,revenue,cost,tickets\nS0001,2026-10-30,10,5,1\nS0001,2026-10-30,11,5,1\nS0002,2026-10-30,1.234,5,1\n",
    );
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        let opts = ImportOptions { skip_bad_rows: true, ..ImportOptions::default() };
        let s = opsdesk_ingest::daily::import_daily(&t.db, &scope(), &f, &opts).await.unwrap();
        assert_eq!((s.outcome, s.rows_imported, s.rows_rejected), (Outcome::Imported, 1, 2));
        let reasons: Vec<&str> = s.errors.errors.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, ["this store and date appear earlier in the file", "more than two decimal places"]);
        let rejects = std::fs::read_to_string(s.rejects_path.unwrap()).unwrap();
        assert_eq!(rejects.lines().count(), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sku_counts_and_opening_hours_are_kept_until_a_file_names_them() {
    let dir = tempdir::Dir::new();
    let first = write(
        &dir,
        "a.csv",
        "门店编码,门店名称,区域,面积,员工数,开业日期,品规数,营业时长\nC1,一店,华北,90,6,2021-01-01,2400,13.5\nC2,二店,华北,60,4,2021-01-01,,24\n",
    );
    let second = write(
        &dir,
        "b.csv",
        "store_code,store_name,region,area_sqm,staff_count,open_date\nC1,一店,华北,95,6,2021-01-01\n",
    );
    let bad = write(
        &dir,
        "c.csv",
        "store_code,store_name,region,area_sqm,staff_count,open_date,opening_hours\nC1,一店,华北,95,6,2021-01-01,25\n",
    );
    for backend in TestDb::backends() {
        let t = TestDb::new(backend).await;
        for f in [&first, &second] {
            let s = opsdesk_ingest::stores::import_stores(&t.db, &scope(), f, &ImportOptions::default()).await.unwrap();
            assert_eq!(s.outcome, Outcome::Imported);
        }
        let stores = t.db.stores(&scope()).await.unwrap();
        assert_eq!(
            (stores[0].area_sqm, stores[0].sku_count, stores[0].open_minutes),
            (95, Some(2400), Some(810)),
            "{backend:?}"
        );
        assert_eq!((stores[1].sku_count, stores[1].open_minutes), (None, Some(1440)));
        let s = opsdesk_ingest::stores::import_stores(&t.db, &scope(), &bad, &ImportOptions::default()).await.unwrap();
        assert_eq!(s.errors.errors[0].reason, "expected opening hours a day, 0 to 24 (e.g. 14, 13.5)");
    }
}
