//! Schema migrations, embedded in the binary: the same numbered steps for
//! SQLite and PostgreSQL. A database whose schema is newer than the binary is
//! refused rather than touched.

use chrono::Utc;

use crate::{BeginWrite, Db, Pool, Result, on_pool};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    /// Rows the step adds from data the code holds (the same on both backends).
    seed: fn() -> String,
    /// Rows the step derives from data already stored, in Rust.
    derive: Derive,
}

/// What a step derives from the data already stored, in its transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Derive {
    Nothing,
    /// The month rollup, from the store-days.
    MonthCategories,
    /// The store-days and their detail packed by month, from the tables of
    /// a row per store-day, which go.
    MonthPacks,
    /// Each store-month's count of summary days, from its packed days.
    MonthSummaryDays,
}

/// Fills `sales_month` from every stored store-day, in `$tx`.
macro_rules! derive_month_categories {
    ($tx:ident) => {{
        let days: Vec<crate::sales::StoredMonthDay> =
            sqlx::query_as(crate::sales::STORED_MONTH_DAYS).fetch_all(&mut *$tx).await?;
        let rows = crate::sales::month_rows(days.iter().map(crate::sales::MonthDay::stored))?;
        for r in &rows {
            let f = &r.figures;
            sqlx::query(
                "INSERT INTO sales_month (month, store_id, revenue_c, cost_c, tickets, qty, member_revenue_c,
                    days, days_with_qty, days_with_members, categories)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(r.month)
            .bind(r.store)
            .bind(f.revenue)
            .bind(f.cost)
            .bind(f.tickets)
            .bind(f.qty)
            .bind(f.member_revenue)
            .bind(f.days)
            .bind(f.days_with_qty)
            .bind(f.days_with_members)
            .bind(&r.categories)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// Packs the rows of `sales_day` and `sales_day_detail` by store and month
/// into `sales_days` and `sales_detail`, store by store (a store's rows at
/// a time in memory), and drops the two tables, in `$tx`.
macro_rules! derive_month_packs {
    ($tx:ident) => {{
        use crate::day_packs::{DAY_TABLE_ROWS, DETAIL_TABLE_ROWS, DayTableRow, DetailTableRow};
        let stores: Vec<i64> =
            sqlx::query_scalar("SELECT DISTINCT store_id FROM sales_day").fetch_all(&mut *$tx).await?;
        for store in stores {
            let rows: Vec<DayTableRow> = sqlx::query_as(DAY_TABLE_ROWS).bind(store).fetch_all(&mut *$tx).await?;
            for (month, days) in crate::day_packs::packs_of_table_rows(&rows) {
                sqlx::query("INSERT INTO sales_days (month, store_id, days) VALUES ($1, $2, $3)")
                    .bind(month)
                    .bind(store)
                    .bind(days)
                    .execute(&mut *$tx)
                    .await?;
            }
            let rows: Vec<DetailTableRow> = sqlx::query_as(DETAIL_TABLE_ROWS).bind(store).fetch_all(&mut *$tx).await?;
            for (month, members, categories) in crate::day_packs::detail_packs_of_table_rows(&rows) {
                sqlx::query("INSERT INTO sales_detail (month, store_id, members, categories) VALUES ($1, $2, $3, $4)")
                    .bind(month)
                    .bind(store)
                    .bind(members)
                    .bind(categories)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
        sqlx::query("DROP TABLE sales_day").execute(&mut *$tx).await?;
        sqlx::query("DROP TABLE sales_day_detail").execute(&mut *$tx).await?;
    }};
}

/// Counts each store-month's summary days in `sales_month`, from the
/// packed days of `sales_days`, in `$tx`.
macro_rules! derive_month_summary_days {
    ($tx:ident) => {{
        let packs: Vec<(i64, i64, Vec<u8>)> =
            sqlx::query_as("SELECT store_id, month, days FROM sales_days").fetch_all(&mut *$tx).await?;
        for (store, month, days) in packs {
            let n = crate::day_packs::summary_days_of_month(
                store,
                month,
                &days,
                (chrono::NaiveDate::MIN, chrono::NaiveDate::MAX),
            )?;
            if n > 0 {
                sqlx::query("UPDATE sales_month SET summary_days = $1 WHERE month = $2 AND store_id = $3")
                    .bind(n)
                    .bind(month)
                    .bind(store)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
    }};
}

fn no_seed() -> String {
    String::new()
}

/// The published holiday calendars.
fn holidays() -> String {
    use opsdesk_domain::targets::calendar::published;
    let mut sql = String::from("INSERT INTO holiday (d, kind, name, uplift_pm) VALUES\n");
    let rows: Vec<String> = published()
        .iter()
        .map(|d| format!("('{}', '{}', '{}', {})", d.date, d.kind.key(), d.name.replace('\'', "''"), d.uplift_pm))
        .collect();
    sql.push_str(&rows.join(",\n"));
    sql.push(';');
    sql
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../../../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../../../migrations/postgres/0001_foundation.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
    Migration {
        version: 2,
        name: "sales_day_by_date",
        sqlite: include_str!("../../../migrations/sqlite/0002_sales_day_by_date.sql"),
        postgres: include_str!("../../../migrations/postgres/0002_sales_day_by_date.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
    Migration {
        version: 3,
        name: "people",
        sqlite: include_str!("../../../migrations/sqlite/0003_people.sql"),
        postgres: include_str!("../../../migrations/postgres/0003_people.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
    Migration {
        version: 4,
        name: "targets",
        sqlite: include_str!("../../../migrations/sqlite/0004_targets.sql"),
        postgres: include_str!("../../../migrations/postgres/0004_targets.sql"),
        seed: holidays,
        derive: Derive::Nothing,
    },
    Migration {
        version: 5,
        name: "staff",
        sqlite: include_str!("../../../migrations/sqlite/0005_staff.sql"),
        postgres: include_str!("../../../migrations/postgres/0005_staff.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
    Migration {
        version: 6,
        name: "unit_heads",
        sqlite: include_str!("../../../migrations/sqlite/0006_unit_heads.sql"),
        postgres: include_str!("../../../migrations/postgres/0006_unit_heads.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
    Migration {
        version: 7,
        name: "sales_month",
        sqlite: include_str!("../../../migrations/sqlite/0007_sales_month.sql"),
        postgres: include_str!("../../../migrations/postgres/0007_sales_month.sql"),
        seed: no_seed,
        derive: Derive::MonthCategories,
    },
    Migration {
        version: 8,
        name: "target_day_covering",
        sqlite: include_str!("../../../migrations/sqlite/0008_target_day_covering.sql"),
        postgres: include_str!("../../../migrations/postgres/0008_target_day_covering.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
    Migration {
        version: 9,
        name: "summary_days",
        sqlite: include_str!("../../../migrations/sqlite/0009_summary_days.sql"),
        postgres: include_str!("../../../migrations/postgres/0009_summary_days.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
    Migration {
        version: 10,
        name: "sales_day_unchecked",
        sqlite: include_str!("../../../migrations/sqlite/0010_sales_day_unchecked.sql"),
        postgres: include_str!("../../../migrations/postgres/0010_sales_day_unchecked.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
    Migration {
        version: 11,
        name: "sqlite_sales_day_unchecked",
        sqlite: include_str!("../../../migrations/sqlite/0011_sales_day_unchecked.sql"),
        postgres: include_str!("../../../migrations/postgres/0011_sales_day_unchecked.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
    Migration {
        version: 12,
        name: "sales_days",
        sqlite: include_str!("../../../migrations/sqlite/0012_sales_days.sql"),
        postgres: include_str!("../../../migrations/postgres/0012_sales_days.sql"),
        seed: no_seed,
        derive: Derive::MonthPacks,
    },
    Migration {
        version: 13,
        name: "month_summary_days",
        sqlite: include_str!("../../../migrations/sqlite/0013_month_summary_days.sql"),
        postgres: include_str!("../../../migrations/postgres/0013_month_summary_days.sql"),
        seed: no_seed,
        derive: Derive::MonthSummaryDays,
    },
    Migration {
        version: 14,
        name: "sales_detail_by_store",
        sqlite: include_str!("../../../migrations/sqlite/0014_sales_detail_by_store.sql"),
        postgres: include_str!("../../../migrations/postgres/0014_sales_detail_by_store.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
    Migration {
        version: 15,
        name: "rfm_kept",
        sqlite: include_str!("../../../migrations/sqlite/0015_rfm_kept.sql"),
        postgres: include_str!("../../../migrations/postgres/0015_rfm_kept.sql"),
        seed: no_seed,
        derive: Derive::Nothing,
    },
];

/// The schema version this binary creates and expects.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaStatus {
    Empty,
    Current,
    Older(i64),
    Newer(i64),
}

const CREATE_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migration (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

/// Notes a step as applied, inside its transaction.
macro_rules! record_step {
    ($tx:ident, $m:ident) => {
        sqlx::query("INSERT INTO schema_migration (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind($m.version)
            .bind($m.name)
            .bind(Utc::now().to_rfc3339())
            .execute(&mut *$tx)
            .await?
    };
}

/// Applies step `$m` (its SQL `$sql`, seed rows and derived rows) and notes
/// it, inside the transaction `$tx`, which holds the database's write lock
/// (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's migration lock); nothing if the
/// step is recorded already: processes that start on a new database at once
/// wait for each other's steps and apply each once.
macro_rules! apply_step {
    ($tx:ident, $m:ident, $sql:expr) => {{
        let done: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM schema_migration").fetch_one(&mut *$tx).await?;
        if done.unwrap_or(0) < $m.version {
            sqlx::raw_sql($sql).execute(&mut *$tx).await?;
            let seed = ($m.seed)();
            if !seed.is_empty() {
                sqlx::raw_sql(sqlx::AssertSqlSafe(seed)).execute(&mut *$tx).await?;
            }
            match $m.derive {
                Derive::Nothing => {}
                Derive::MonthCategories => derive_month_categories!($tx),
                Derive::MonthPacks => derive_month_packs!($tx),
                Derive::MonthSummaryDays => derive_month_summary_days!($tx),
            }
            record_step!($tx, $m);
        }
    }};
}

/// Taken by every transaction that changes PostgreSQL's schema.
const PG_MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7402001)";

impl Db {
    async fn schema_version(&self) -> Result<i64> {
        let exists: i64 = match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migration'",
                )
                .fetch_one(p)
                .await?
            }
            Pool::Postgres(p) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.tables
                     WHERE table_schema = current_schema() AND table_name = 'schema_migration'",
                )
                .fetch_one(p)
                .await?
            }
        };
        if exists == 0 {
            return Ok(0);
        }
        let v: Option<i64> =
            on_pool!(self, p => sqlx::query_scalar("SELECT MAX(version) FROM schema_migration").fetch_one(p).await?);
        Ok(v.unwrap_or(0))
    }

    pub async fn schema_status(&self) -> Result<SchemaStatus> {
        let v = self.schema_version().await?;
        Ok(match v {
            0 => SchemaStatus::Empty,
            v if v == SCHEMA_VERSION => SchemaStatus::Current,
            v if v < SCHEMA_VERSION => SchemaStatus::Older(v),
            v => SchemaStatus::Newer(v),
        })
    }

    /// Applies the missing steps, each in its own transaction (all in one
    /// for a new database). Returns the version found before.
    pub(crate) async fn migrate(&self) -> Result<i64> {
        self.migrate_to(SCHEMA_VERSION).await
    }

    /// Applies the missing steps up to `target` (tests build a database as an
    /// earlier opsdesk left it).
    pub(crate) async fn migrate_to(&self, target: i64) -> Result<i64> {
        let before = self.schema_version().await?;
        if before > SCHEMA_VERSION {
            return Err(crate::DbError::TooNew { found: before, known: SCHEMA_VERSION });
        }
        match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query(CREATE_VERSION_TABLE).execute(p).await?;
            }
            Pool::Postgres(p) => {
                // Two `CREATE TABLE IF NOT EXISTS` at once can collide in
                // PostgreSQL's catalog: made under the lock.
                let mut tx = p.begin_write().await?;
                sqlx::query(PG_MIGRATION_LOCK).execute(&mut *tx).await?;
                sqlx::query(CREATE_VERSION_TABLE).execute(&mut *tx).await?;
                tx.commit().await?;
            }
        }
        // A new database takes every step in one transaction: one sync of
        // the log instead of one per step (`opsdesk init` on SQLite 40 →
        // 20 ms, on PostgreSQL 100 → 90 ms), and a schema built all or not
        // at all. PostgreSQL holds the migration lock for all of it.
        let (mut fresh, mut fresh_pg) = (None, None);
        match (&self.pool, before) {
            (Pool::Sqlite(p), 0) => fresh = Some(p.begin_write().await?),
            (Pool::Postgres(p), 0) => {
                let mut tx = p.begin_write().await?;
                sqlx::query(PG_MIGRATION_LOCK).execute(&mut *tx).await?;
                fresh_pg = Some(tx);
            }
            _ => {}
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > before && m.version <= target) {
            match &self.pool {
                Pool::Sqlite(_) if fresh.is_some() => {
                    let Some(tx) = fresh.as_mut() else { continue };
                    let conn: &mut sqlx::SqliteConnection = tx;
                    apply_step!(conn, m, m.sqlite);
                }
                Pool::Postgres(_) if fresh_pg.is_some() => {
                    let Some(tx) = fresh_pg.as_mut() else { continue };
                    let conn: &mut sqlx::PgConnection = tx;
                    apply_step!(conn, m, m.postgres);
                }
                Pool::Sqlite(p) => {
                    let mut tx = p.begin_write().await?;
                    apply_step!(tx, m, m.sqlite);
                    tx.commit().await?;
                }
                Pool::Postgres(p) => {
                    let mut tx = p.begin_write().await?;
                    sqlx::query(PG_MIGRATION_LOCK).execute(&mut *tx).await?;
                    apply_step!(tx, m, m.postgres);
                    tx.commit().await?;
                }
            }
        }
        if let Some(tx) = fresh {
            tx.commit().await?;
        }
        if let Some(tx) = fresh_pg {
            tx.commit().await?;
        }
        Ok(before)
    }
}
