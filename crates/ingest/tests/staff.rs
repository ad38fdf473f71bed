//! The staff imports: positions with duties, employees in stores and
//! departments, every bad row named, nothing half saved; on both databases.

mod common;

use common::*;
use opsdesk_db::Reach;
use opsdesk_db::Scope;
use opsdesk_db::testing::TestDb;
use opsdesk_ingest::{ImportOptions, Outcome};

fn write(dir: &tempdir::Dir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const POSITIONS: &str = "岗位编码,岗位名称,岗位职责\nSM,店长,门店经营、人员排班、GSP 合规\nPH,执业药师,处方审核、用药咨询\nCS,客服专员,来电受理、投诉回访\n";

const EMPLOYEES: &str = "工号,姓名,所属单位,岗位,职级,绩效基数,不参与考核,入职日期,离职日期
E001,王芳,S0002,SM,manager,,,2021-03-01,
E002,李娜,S0002,PH,specialist,,否,2022-07-15,
E003,张伟,S0001,PH,specialist,350.00,,2023-01-09,
E004,赵敏,运营部/客服中心,CS,specialist,,,2024-02-01,
E005,刘洋,S0002,PH,specialist,,是,2024-05-20,
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_then_employees_in_stores_and_departments() {
    let dir = tempdir::Dir::new();
    let positions = write(&dir, "positions.csv", POSITIONS);
    let employees = write(&dir, "employees.csv", EMPLOYEES);
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        let opts = ImportOptions::default();
        let p = opsdesk_ingest::staff::import_positions(&t.db, &scope(), &positions, &opts).await.unwrap();
        assert_eq!((p.outcome, p.records.unwrap().added), (Outcome::Imported, 3));
        let e = opsdesk_ingest::staff::import_employees(&t.db, &scope(), &employees, &opts).await.unwrap();
        assert_eq!((e.outcome, e.records.unwrap().added), (Outcome::Imported, 5), "{backend:?}");
        let all = t.db.employees(&scope()).await.unwrap();
        let units: Vec<(&str, &str, Option<i64>, bool)> =
            all.iter().map(|e| (e.code.as_str(), e.unit.as_str(), e.pay_base, e.excluded)).collect();
        assert_eq!(
            units,
            [
                ("E001", "S0002", None, false),
                ("E002", "S0002", None, false),
                ("E003", "S0001", Some(35_000), false),
                ("E004", "运营部/客服中心", None, false),
                ("E005", "S0002", None, true),
            ]
        );
        assert_eq!(t.db.positions().await.unwrap()[0].duties, "来电受理、投诉回访", "CS, first by code");
        // The same file again changes nothing; a changed row is an update.
        let again = opsdesk_ingest::staff::import_employees(&t.db, &scope(), &employees, &opts).await.unwrap();
        let c = again.records.unwrap();
        assert_eq!((c.added, c.updated, c.unchanged), (0, 0, 5));
        let moved = write(&dir, "moved.csv", &EMPLOYEES.replace("E002,李娜,S0002", "E002,李娜,S0001"));
        let c = opsdesk_ingest::staff::import_employees(&t.db, &scope(), &moved, &opts).await.unwrap().records.unwrap();
        assert_eq!((c.added, c.updated, c.unchanged), (0, 1, 4));
        // A store manager sees her store's staff; department staff only with every store in reach.
        let store = t.db.store_codes(&scope()).await.unwrap()["S0002"];
        let hers = t.db.employees(&Scope::new("user:s", Reach::Store(store))).await.unwrap();
        assert_eq!(hers.iter().map(|e| e.code.as_str()).collect::<Vec<_>>(), ["E001", "E005"]);
        let events = t.db.audit_events(&scope(), 50).await.unwrap();
        assert!(events.iter().any(|e| e.entity == "employee" && e.entity_id == "E002" && e.action == "update"));
        // Only operations keeps staff.
        let refused = t.db.save_positions(&Scope::new("user:s", Reach::Store(store)), &[]).await;
        assert!(refused.is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_bad_employee_rows_names_them_and_saves_nothing() {
    let dir = tempdir::Dir::new();
    let positions = write(&dir, "positions.csv", POSITIONS);
    let bad = write(
        &dir,
        "bad.csv",
        "工号,姓名,所属单位,岗位,职级,绩效基数,不参与考核,入职日期,离职日期
E001,王芳,S0002,SM,manager,,,2021-03-01,
E002,李娜,S0002,XX,specialist,,,2022-07-15,
E003,张伟,S0001,PH,intern,,,2023-01-09,
E004,赵敏,S0001,PH,specialist,-5,,2024-02-01,
E005,刘洋,S0002,PH,specialist,,也许,2024-05-20,
E006,陈静,S0002,PH,specialist,,,2024-13-01,
E007,周杰,S0002,PH,specialist,,,2024-05-01,2024-04-30
E001,王芳,S0002,SM,manager,,,2021-03-01,
E008,,S0002,PH,specialist,,,2024-05-01,
",
    );
    for backend in TestDb::backends() {
        let t = with_stores(backend).await;
        let opts = ImportOptions::default();
        opsdesk_ingest::staff::import_positions(&t.db, &scope(), &positions, &opts).await.unwrap();
        let s = opsdesk_ingest::staff::import_employees(&t.db, &scope(), &bad, &opts).await.unwrap();
        assert_eq!(s.outcome, Outcome::Refused);
        let got: Vec<(u64, &str, &str)> =
            s.errors.errors.iter().map(|e| (e.row, e.column.as_str(), e.value.as_str())).collect();
        assert_eq!(
            got,
            [
                (2, "岗位", "XX"),
                (3, "职级", "intern"),
                (4, "绩效基数", "-5"),
                (5, "不参与考核", "也许"),
                (6, "入职日期", "2024-13-01"),
                (7, "离职日期", "2024-04-30"),
                (8, "工号", "E001"),
                (9, "姓名", ""),
            ],
            "{backend:?}"
        );
        assert!(s.errors.errors[0].reason.contains("unknown position: add the position first"));
        assert!(s.errors.errors[1].reason.contains("manager, supervisor, specialist"));
        assert!(t.db.employees(&scope()).await.unwrap().is_empty(), "nothing saved");
    }
}
