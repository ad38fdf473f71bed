//! Reading many rows at once. On PostgreSQL through sqlx; on SQLite straight
//! through SQLite's C interface on a pooled connection, because sqlx's SQLite
//! driver hands every row from its worker thread to the caller through a
//! channel: for the tens of thousands of rollup rows a report reads, the
//! thread switches cost several times the query (the traffic monitor of
//! 1,000 stores, 86 k store-days: 310 ms through sqlx, see bench/README.md).
//!
//! The handle is locked away from sqlx's worker while the rows are read
//! (`LockedSqliteHandle`), as in [`crate::sqlite_bulk`].

use std::ffi::{CString, c_int};
use std::ptr;

use chrono::NaiveDate;
use libsqlite3_sys as ffi;
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgRow;

use crate::{Db, DbError, Pool, Result};

/// A bound parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg {
    Date(NaiveDate),
    Int(i64),
}

use crate::sqlite_bulk::{Statement as Stmt, error as sqlite_error};

fn damaged(what: &str) -> DbError {
    DbError::Rule(format!("a stored value is not a valid {what}"))
}

/// A value read from column `i` of the current SQLite row.
pub(crate) trait Col: Sized {
    fn read(s: &Stmt, i: c_int) -> Result<Self>;
}

fn is_null(s: &Stmt, i: c_int) -> bool {
    // SAFETY: `s` is stepped onto a row and `i` is within its columns.
    unsafe { ffi::sqlite3_column_type(s.0, i) == ffi::SQLITE_NULL }
}

pub(crate) fn bytes(s: &Stmt, i: c_int) -> &[u8] {
    // SAFETY: as above. The pointer is valid until the next step; the slice
    // borrows `s`, which is not stepped while it lives. Blob first, then
    // bytes, as SQLite's documentation prescribes.
    unsafe {
        let p = ffi::sqlite3_column_blob(s.0, i);
        let n = ffi::sqlite3_column_bytes(s.0, i);
        if p.is_null() || n <= 0 { &[] } else { std::slice::from_raw_parts(p.cast::<u8>(), n as usize) }
    }
}

impl Col for i64 {
    fn read(s: &Stmt, i: c_int) -> Result<i64> {
        // SAFETY: as in `is_null`. A NULL reads as 0, as SUM over no rows would not.
        Ok(unsafe { ffi::sqlite3_column_int64(s.0, i) })
    }
}

impl Col for bool {
    fn read(s: &Stmt, i: c_int) -> Result<bool> {
        i64::read(s, i).map(|v| v != 0)
    }
}

impl Col for NaiveDate {
    fn read(s: &Stmt, i: c_int) -> Result<NaiveDate> {
        let b = bytes(s, i);
        std::str::from_utf8(b)
            .ok()
            .and_then(|t| opsdesk_domain::calendar::parse_date(t).ok())
            .ok_or_else(|| damaged("date"))
    }
}

impl Col for String {
    fn read(s: &Stmt, i: c_int) -> Result<String> {
        String::from_utf8(bytes(s, i).to_vec()).map_err(|_| damaged("text"))
    }
}

impl Col for Vec<u8> {
    fn read(s: &Stmt, i: c_int) -> Result<Vec<u8>> {
        Ok(bytes(s, i).to_vec())
    }
}

impl<T: Col> Col for Option<T> {
    fn read(s: &Stmt, i: c_int) -> Result<Option<T>> {
        if is_null(s, i) { Ok(None) } else { T::read(s, i).map(Some) }
    }
}

/// A row type both drivers can read.
pub(crate) trait Row: Sized + Send + Unpin + for<'r> sqlx::FromRow<'r, PgRow> {
    fn read(s: &Stmt) -> Result<Self>;
}

macro_rules! tuple_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t),+> Row for ($($t,)+)
        where
            $($t: Col + Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,)+
        {
            fn read(s: &Stmt) -> Result<Self> {
                Ok(($($t::read(s, $i)?,)+))
            }
        }
    };
}

tuple_row!(A 0);
tuple_row!(A 0, B 1);
tuple_row!(A 0, B 1, C 2);
tuple_row!(A 0, B 1, C 2, D 3);
tuple_row!(A 0, B 1, C 2, D 3, E 4);
tuple_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);

impl Db {
    /// Every row of `sql` (with `$1…` placeholders, bound to `args` in order).
    pub(crate) async fn fetch_rows<T: Row>(&self, sql: &str, args: &[Arg]) -> Result<Vec<T>> {
        match &self.pool {
            Pool::Postgres(p) => {
                let mut q = sqlx::query_as::<_, T>(AssertSqlSafe(sql.to_string()));
                for a in args {
                    q = match *a {
                        Arg::Date(d) => q.bind(d),
                        Arg::Int(n) => q.bind(n),
                    };
                }
                Ok(q.fetch_all(p).await?)
            }
            Pool::Sqlite(_) => {
                let mut rows = Vec::new();
                self.sqlite_each(sql, args, |s| {
                    rows.push(T::read(s)?);
                    Ok(())
                })
                .await?;
                Ok(rows)
            }
        }
    }

    /// Calls `each` on every row of `sql` on SQLite as it is stepped, keeping
    /// none: for reads too large to hold row by row.
    pub(crate) async fn sqlite_each(
        &self,
        sql: &str,
        args: &[Arg],
        mut each: impl FnMut(&Stmt) -> Result<()>,
    ) -> Result<()> {
        let Pool::Sqlite(p) = &self.pool else {
            return Err(DbError::Rule("a SQLite read on another database".into()));
        };
        let mut conn = p.acquire().await?;
        let mut handle = conn.lock_handle().await?;
        let db = handle.as_raw_handle().as_ptr();
        let c_sql = CString::new(sql).map_err(|e| DbError::Rule(e.to_string()))?;
        let mut raw = ptr::null_mut();
        // SAFETY: `db` is locked for us; the statement is finalized by `Stmt`'s drop.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db, c_sql.as_ptr(), -1, &mut raw, ptr::null_mut()) };
        if rc != ffi::SQLITE_OK {
            return Err(sqlite_error(db, rc));
        }
        let stmt = Stmt(raw);
        // Dates are bound as sqlx stores them: `YYYY-MM-DD` text, copied by SQLite.
        for (i, a) in args.iter().enumerate() {
            // `$N` is a named parameter to SQLite, numbered by first appearance.
            let name = CString::new(format!("${}", i + 1)).map_err(|e| DbError::Rule(e.to_string()))?;
            // SAFETY: the statement is live and `name` NUL-terminated.
            let col = unsafe { ffi::sqlite3_bind_parameter_index(stmt.0, name.as_ptr()) };
            if col == 0 {
                continue;
            }
            // SAFETY: the statement is live; SQLITE_TRANSIENT makes SQLite copy the text.
            let rc = unsafe {
                match *a {
                    Arg::Date(d) => {
                        let t = d.format("%Y-%m-%d").to_string();
                        ffi::sqlite3_bind_text(
                            stmt.0,
                            col,
                            t.as_ptr().cast(),
                            t.len() as c_int,
                            ffi::SQLITE_TRANSIENT(),
                        )
                    }
                    Arg::Int(n) => ffi::sqlite3_bind_int64(stmt.0, col, n),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(sqlite_error(db, rc));
            }
        }
        loop {
            // SAFETY: the statement is bound and belongs to the locked handle.
            match unsafe { ffi::sqlite3_step(stmt.0) } {
                ffi::SQLITE_ROW => each(&stmt)?,
                ffi::SQLITE_DONE => break,
                rc => return Err(sqlite_error(db, rc)),
            }
        }
        Ok(())
    }
}
