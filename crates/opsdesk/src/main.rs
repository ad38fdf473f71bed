//! The `opsdesk` command line: set up a database, import files, read the
//! import history, build the demo company and print reports.
//!
//! Exit codes: 0 success; 2 bad input or usage (with the error report);
//! 1 any other failure.

mod appraisal;
mod demo;
mod import;
mod report;
mod serve;
mod table;
mod targets;
mod user;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use opsdesk_db::{Db, DbError, Scope};
use opsdesk_domain::i18n::Lang;

#[derive(Parser)]
#[command(name = "opsdesk", version, about = "opsdesk (运营台): the operations desk of a chain business")]
struct Cli {
    /// Database URL: sqlite://PATH (sqlite:///abs/path.db for an absolute path) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "OPSDESK_DATABASE_URL",
        default_value = "sqlite://opsdesk.db",
        hide_env_values = true
    )]
    db: String,
    /// Print nothing but errors and the requested output.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Language of messages: zh or en (default: from OPSDESK_LANG or LANG).
    #[arg(long, global = true, env = "OPSDESK_LANG")]
    lang: Option<Lang>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database, or upgrade its schema.
    Init,
    /// Import a file (CSV or XLSX; UTF-8 or GBK; Chinese or English headers).
    #[command(subcommand)]
    Import(ImportCommand),
    /// The import history: who imported what, when, and how it ended.
    Imports {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Build a demo company (stores, two years of sales, a user per role) and serve the desk.
    Demo(demo::DemoArgs),
    /// Serve the web desk.
    Serve {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Mark cookies Secure (the desk is reached over HTTPS through a proxy).
        #[arg(long)]
        secure_cookies: bool,
    },
    /// Print a report.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Read or change a setting.
    #[command(subcommand)]
    Setting(SettingCommand),
    /// The people who sign in: add and list users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Performance appraisal: grades under the current settings.
    #[command(subcommand)]
    Appraisal(appraisal::AppraisalCommand),
    /// Targets: make a plan, show, edit and lock it, take it through a spreadsheet and back.
    #[command(subcommand)]
    Targets(targets::TargetsCommand),
    /// The employees within reach, with unit, position, level and pay base.
    Employees,
    /// Saved column mappings of an import kind.
    Mappings {
        /// stores, sales or daily
        kind: String,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// The store list: code, name, region, area, staff, open date.
    Stores(ImportArgs),
    /// POS sales lines: ticket, store, time, member, SKU, category, quantity, amount, cost.
    Sales(ImportArgs),
    /// Store × day summaries: store, date, revenue, cost, tickets (quantity, member revenue optional).
    Daily(ImportArgs),
    /// Positions: code, name, duties (岗位职责).
    Positions(ImportArgs),
    /// Employees: code, name, unit (a store code or a department path), position, level, start date
    /// (pay base, excluded, end date optional).
    Employees(ImportArgs),
}

#[derive(Args)]
struct ImportArgs {
    file: PathBuf,
    /// Import the good rows and set the bad ones aside in a file to fix and import again.
    #[arg(long)]
    skip_bad_rows: bool,
    /// Where set-aside rows go (default: FILE.rejects.csv beside the input).
    #[arg(long, value_name = "OUT.csv")]
    rejects: Option<PathBuf>,
    /// Add the rows to the store-days already imported instead of replacing them
    /// (for a fixed rejects file whose tickets are not imported yet).
    #[arg(long)]
    add: bool,
    /// Also write the error report beside the input (FILE.errors.csv).
    #[arg(long)]
    error_report: bool,
    /// Name a column: 'HEADER=FIELD', e.g. --map '交易编号=ticket_no'. Repeatable.
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    maps: Vec<String>,
    /// Save the --map pairs for later imports of this kind.
    #[arg(long)]
    save_mapping: bool,
}

#[derive(Subcommand)]
enum SettingCommand {
    Get { key: String },
    Set { key: String, value: String },
}

/// A failure and the exit code it earns.
pub(crate) enum Failure {
    /// Bad input or usage: exit 2. The message has been printed already when empty.
    BadInput(String),
    Other(String),
}

impl Failure {
    pub(crate) fn message(self) -> String {
        match self {
            Failure::BadInput(m) | Failure::Other(m) => m,
        }
    }

    pub(crate) fn db(e: DbError, lang: Lang) -> Failure {
        match e {
            DbError::Sqlx(_) => Failure::Other(e.message(lang)),
            _ => Failure::BadInput(e.message(lang)),
        }
    }
}

/// What every command needs to speak to the user.
pub(crate) struct Ui {
    pub lang: Lang,
    pub quiet: bool,
    pub terminal: bool,
}

impl Ui {
    /// A line for the user on stderr, unless quiet.
    pub fn say(&self, zh: &str, en: &str) {
        if !self.quiet {
            eprintln!("{}", self.lang.pick(zh, en));
        }
    }
}

fn default_lang() -> Lang {
    std::env::var("LC_ALL").or_else(|_| std::env::var("LANG")).map(|l| Lang::from_locale(&l)).unwrap_or_default()
}

pub(crate) fn actor() -> String {
    std::env::var("USER").map(|u| format!("cli:{u}")).unwrap_or_else(|_| "cli".into())
}

pub(crate) async fn open(url: &str, lang: Lang) -> Result<Db, Failure> {
    Db::open(url).await.map_err(|e| Failure::db(e, lang))
}

async fn run(cli: Cli, ui: &Ui) -> Result<(), Failure> {
    let lang = ui.lang;
    let scope = Scope::system(&actor());
    match cli.command {
        Command::Init => {
            let (db, before) = Db::init(&cli.db).await.map_err(|e| Failure::db(e, lang))?;
            let now = opsdesk_db::SCHEMA_VERSION;
            if before == now {
                ui.say(
                    &format!("数据库 {} 已是最新（结构版本 {now}）", db.display_url()),
                    &format!("database {} is up to date (schema version {now})", db.display_url()),
                );
            } else {
                ui.say(
                    &format!("数据库 {} 已就绪（结构版本 {before} → {now}）", db.display_url()),
                    &format!("database {} ready (schema version {before} → {now})", db.display_url()),
                );
            }
            db.close().await;
            Ok(())
        }
        Command::Import(cmd) => {
            let db = open(&cli.db, lang).await?;
            let r = import::run(&db, &scope, cmd, ui).await;
            db.close().await;
            r
        }
        Command::Imports { limit } => {
            let db = open(&cli.db, lang).await?;
            let list = db.imports(&scope, limit).await.map_err(|e| Failure::db(e, lang))?;
            import::print_history(&list, ui);
            db.close().await;
            Ok(())
        }
        Command::Demo(args) => demo::run(&cli.db, &scope, args, ui).await,
        Command::Serve { bind, secure_cookies } => {
            let db = open(&cli.db, lang).await?;
            serve::run(db, &bind, opsdesk_web::server::Config { secure_cookies }, ui).await
        }
        Command::Report(cmd) => {
            let db = open(&cli.db, lang).await?;
            let r = report::run(&db, &scope, cmd, ui).await;
            db.close().await;
            r
        }
        Command::Setting(cmd) => {
            let db = open(&cli.db, lang).await?;
            match cmd {
                SettingCommand::Get { key } => {
                    let default =
                        opsdesk_db::settings::KNOWN.iter().find(|(k, _)| *k == key).map(|(_, d)| d.to_string());
                    let v = db.setting(&key).await.map_err(|e| Failure::db(e, lang))?.or(default);
                    match v {
                        Some(v) => println!("{v}"),
                        None => {
                            return Err(Failure::BadInput(format!(
                                "{} '{key}'",
                                lang.pick("未知设置", "unknown setting")
                            )));
                        }
                    }
                }
                SettingCommand::Set { key, value } => {
                    db.set_setting(&scope, &key, &value).await.map_err(|e| Failure::db(e, lang))?
                }
            }
            db.close().await;
            Ok(())
        }
        Command::User(cmd) => {
            let db = open(&cli.db, lang).await?;
            let r = user::run(&db, &scope, cmd, ui).await;
            db.close().await;
            r
        }
        Command::Appraisal(cmd) => {
            let db = open(&cli.db, lang).await?;
            let r = appraisal::run(&db, &scope, cmd, ui).await;
            db.close().await;
            r
        }
        Command::Targets(cmd) => {
            let db = open(&cli.db, lang).await?;
            let r = targets::run(&db, &scope, cmd, ui).await;
            db.close().await;
            r
        }
        Command::Employees => {
            let db = open(&cli.db, lang).await?;
            let policy = db.appraisal_policy().await.map_err(|e| Failure::db(e, lang))?;
            let list = db.employees(&scope).await.map_err(|e| Failure::db(e, lang))?;
            let mut t = table::Table::new(
                ["code", "name", "unit", "position", "level", "pay base", "excluded", "start", "end"]
                    .map(String::from)
                    .to_vec(),
            );
            for e in list {
                let base = e.pay_base.or_else(|| policy.pay_base(&e.level)).map(opsdesk_domain::money::hundredths);
                t.row(vec![
                    e.code,
                    e.name,
                    e.unit,
                    e.position,
                    e.level,
                    base.unwrap_or_default(),
                    if e.excluded { "✓".into() } else { String::new() },
                    e.start_date.to_string(),
                    e.end_date.map(|d| d.to_string()).unwrap_or_default(),
                ]);
            }
            print!("{}", t.render());
            db.close().await;
            Ok(())
        }
        Command::Mappings { kind } => {
            let db = open(&cli.db, lang).await?;
            for (header, field) in db.column_mappings(&kind).await.map_err(|e| Failure::db(e, lang))? {
                println!("{header}={field}");
            }
            db.close().await;
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui =
        Ui { lang: cli.lang.unwrap_or_else(default_lang), quiet: cli.quiet, terminal: std::io::stderr().is_terminal() };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("opsdesk: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli, &ui)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(m)) => {
            if !m.is_empty() {
                eprintln!("opsdesk: {m}");
            }
            ExitCode::from(2)
        }
        Err(Failure::Other(m)) => {
            eprintln!("opsdesk: {m}");
            ExitCode::from(1)
        }
    }
}
