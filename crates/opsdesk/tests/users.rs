//! `opsdesk user`: adding people with a role and a reach, on both databases.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use opsdesk_db::testing::TestDb;
use opsdesk_db::{Db, Reach};
use opsdesk_domain::people::Role;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

fn opsdesk(db: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsdesk"))
        .args(args)
        .env("OPSDESK_DATABASE_URL", db)
        .env_remove("OPSDESK_LANG")
        .env("LANG", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run opsdesk");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn users_get_an_argon2id_password_a_role_and_the_reach_they_were_given() {
    for backend in TestDb::backends() {
        let (url, _guard) = TestDb::fresh_url(backend).await;
        assert!(opsdesk(&url, &["init"], "").status.success());
        let stores = data("small/stores.csv");
        assert!(opsdesk(&url, &["import", "stores", stores.to_str().unwrap()], "").status.success());

        let add = |args: &[&str], pw: &str| {
            let mut full = vec!["user", "add", "--password-stdin"];
            full.extend_from_slice(args);
            opsdesk(&url, &full, pw)
        };
        let out = add(&["--name", "wang.fang", "--role", "store-manager", "--store", "S0002"], "门店经理的好密码123\n");
        assert!(out.status.success(), "{backend:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "added user wang.fang (Store manager)\n");
        let out = add(&["--name", "li.region", "--role", "区域经理", "--region", "华南"], "a-long-passphrase\n");
        assert!(out.status.success(), "{backend:?}: {}", stderr(&out));
        assert!(add(&["--name", "ops", "--role", "operations"], "ops desk passphrase").status.success());

        // Refusals: exit 2, the reason named, nothing added.
        for (args, pw, reason) in [
            (
                vec!["--name", "x", "--role", "store-manager"],
                "long enough pw",
                "a store manager needs a store (--store)",
            ),
            (
                vec!["--name", "x", "--role", "store-manager", "--store", "S9999"],
                "long enough pw",
                "there is no store with code S9999",
            ),
            (
                vec!["--name", "x", "--role", "region-manager", "--region", "火星"],
                "long enough pw",
                "there is no region named 火星",
            ),
            (
                vec!["--name", "x", "--role", "finance", "--store", "S0001"],
                "long enough pw",
                "the finance role sees every store; it takes no store or region",
            ),
            (vec!["--name", "x", "--role", "boss"], "long enough pw", "unknown role 'boss'"),
            (vec!["--name", "x", "--role", "finance"], "short", "the password is too short (at least 10 characters)"),
            (vec!["--name", "ops", "--role", "finance"], "long enough pw", "the user name ops is taken"),
        ] {
            let out = add(&args, pw);
            assert_eq!(out.status.code(), Some(2), "{backend:?} {args:?}");
            assert!(stderr(&out).contains(reason), "{backend:?} {args:?}: {}", stderr(&out));
        }

        let db = Db::open(&url).await.unwrap();
        let users = db.users().await.unwrap();
        let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["li.region", "ops", "wang.fang"], "{backend:?}");
        let wang = db.user_by_name("wang.fang").await.unwrap().unwrap();
        assert_eq!(wang.role, Role::StoreManager);
        assert!(wang.password_hash.starts_with("$argon2id$"));
        assert!(opsdesk_web::auth::verify_password("门店经理的好密码123", &wang.password_hash));
        assert!(!opsdesk_web::auth::verify_password("门店经理的好密码124", &wang.password_hash));
        let s0002 = db.store_codes(&wang.scope()).await.unwrap();
        assert_eq!(s0002.keys().collect::<Vec<_>>(), ["S0002"], "a store manager reaches her store only");
        assert!(!wang.scope().administers());
        let li = db.user_by_name("li.region").await.unwrap().unwrap();
        assert!(matches!(li.scope().reach(), Reach::Regions(r) if r.len() == 1));
        let mut south: Vec<String> = db.store_codes(&li.scope()).await.unwrap().into_keys().collect();
        south.sort();
        let mut want: Vec<String> = std::fs::read_to_string(&stores)
            .unwrap()
            .lines()
            .filter(|l| l.split(',').nth(2) == Some("华南"))
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect();
        want.sort();
        assert_eq!(south, want, "{backend:?}: a region manager reaches her region's stores");
        let events = db.audit_events(&opsdesk_db::Scope::system("test"), 10).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.entity == "app_user" && e.action == "create").count(), 3);
        db.close().await;

        let list = opsdesk(&url, &["user", "list"], "");
        let text = String::from_utf8_lossy(&list.stdout);
        assert!(text.contains("wang.fang") && text.contains("S0002") && text.contains("华南"), "{text}");
    }
}
