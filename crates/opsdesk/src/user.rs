//! `opsdesk user …`: the people who sign in to the desk.

use std::io::Read;

use clap::{Args, Subcommand};
use opsdesk_db::people::{NewUser, ReachRef};
use opsdesk_db::{Db, Scope};
use opsdesk_domain::people::{Role, password_problem};

use crate::table::Table;
use crate::{Failure, Ui};

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Add a user with a role and, for managers, her store or region.
    Add(AddArgs),
    /// List the users with their role and reach.
    List,
}

#[derive(Args)]
pub(crate) struct AddArgs {
    /// The sign-in name.
    #[arg(long)]
    name: String,
    /// admin, operations, region-manager, store-manager or finance.
    #[arg(long)]
    role: String,
    /// The store of a store manager (store code).
    #[arg(long, conflicts_with = "region")]
    store: Option<String>,
    /// The region of a region manager (its name, or a path such as 华东/上海).
    #[arg(long)]
    region: Option<String>,
    /// Read the password from standard input (its first line).
    #[arg(long, required = true)]
    password_stdin: bool,
}

fn read_password() -> Result<String, Failure> {
    let mut text = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| Failure::BadInput(format!("standard input: {e}")))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

pub(crate) async fn run(db: &Db, scope: &Scope, cmd: UserCommand, ui: &Ui) -> Result<(), Failure> {
    let lang = ui.lang;
    match cmd {
        UserCommand::Add(a) => {
            let role = Role::parse(&a.role).ok_or_else(|| {
                let keys: Vec<&str> = Role::ALL.iter().map(|r| r.key()).collect();
                Failure::BadInput(format!(
                    "{} '{}': {}",
                    lang.pick("未知角色", "unknown role"),
                    a.role,
                    keys.join(", ")
                ))
            })?;
            let password = read_password()?;
            if let Some(p) = password_problem(&password, &a.name, lang) {
                return Err(Failure::BadInput(p.to_string()));
            }
            let reach = match (a.store, a.region) {
                (Some(s), _) => ReachRef::Store(s),
                (_, Some(r)) => ReachRef::Region(r),
                _ => ReachRef::None,
            };
            let password_hash = opsdesk_web::auth::hash_password(&password).map_err(Failure::Other)?;
            let user = db
                .create_user(scope, &NewUser { name: a.name, role, reach, password_hash })
                .await
                .map_err(|e| Failure::db(e, lang))?;
            ui.say(
                &format!("已添加用户 {}（{}）", user.name, user.role.label(lang)),
                &format!("added user {} ({})", user.name, user.role.label(lang)),
            );
            Ok(())
        }
        UserCommand::List => {
            let users = db.users().await.map_err(|e| Failure::db(e, lang))?;
            let stores = db.stores(scope).await.map_err(|e| Failure::db(e, lang))?;
            let regions = db.regions().await.map_err(|e| Failure::db(e, lang))?;
            let mut t = Table::new(
                [lang.pick("用户名", "name"), lang.pick("角色", "role"), lang.pick("范围", "reach")]
                    .map(String::from)
                    .to_vec(),
            );
            for u in users {
                let reach = match (u.store_id, u.region_id) {
                    (Some(id), _) => stores.iter().find(|s| s.id == id).map(|s| s.code.clone()).unwrap_or_default(),
                    (_, Some(id)) => regions.iter().find(|r| r.id == id).map(|r| r.name.clone()).unwrap_or_default(),
                    _ => lang.pick("全部门店", "all stores").to_string(),
                };
                let mut role = u.role.label(lang).to_string();
                if !u.active {
                    role.push_str(lang.pick("（已停用）", " (inactive)"));
                }
                t.row(vec![u.name, role, reach]);
            }
            print!("{}", t.render());
            Ok(())
        }
    }
}
