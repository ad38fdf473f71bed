//! R5, member RFM (`bench/REPORTS.md` §7): what the reports read. Each
//! member's recency, frequency and spend are summed from a year of packed
//! member-days (`sales_detail`), store by store on every core; the rules
//! of `domain::reports::rfm` score them.
//!
//! R5 kept (schema step 15): the whole company's scored members for an
//! as-of date, stored once computed and read back while no import has come
//! since. Summing a year of member-days takes 0.6–1.2 s at 1,000 stores (a
//! million members); reading the kept rows back is a fraction of that, and
//! the segments are eight numbers. Each sales import keeps its latest date
//! ([`Db::keep_rfm`]), the date the reports open with.
//!
//! Kept only for a scope that sees every store: a narrower reach sums its
//! own stores' members (and a member's spend at the stores it reaches),
//! which no company-wide figure gives.
//!
//! Validity: a kept row records the last imported batch (`version`) as it
//! was read *before* the member-days were, and is read only while that is
//! still the last one. Member-days read after a newer import are newer than
//! their label says; such a row is never stored (the write checks the
//! version again under the write lock) and never read.

use std::time::Duration;

use chrono::NaiveDate;
use opsdesk_domain::calendar::{month_bounds, month_key};
use opsdesk_domain::reports::rfm::{
    MemberList, MemberWindow, PackedMembers, RfmRow, SegmentSums, rfm, scored, segment_sums,
};
use opsdesk_domain::sales::codec::{
    CodecError, for_each_member_prefixed, pack_rfm_rows, pack_segment_sums, unpack_segment_sums,
};
use opsdesk_domain::text::{short_code, short_key};
use rustc_hash::FxHashMap;
use sqlx::Connection;

use super::damaged;
use crate::fetch::Arg;
use crate::{BeginWrite, Db, DbError, Pool, Result, Scope, on_pool};

/// Members packed to a row of `rfm_kept_part`.
const PART_ROWS: usize = 1 << 16;

/// The version kept figures are of: the last imported batch.
const LAST_IMPORT: &str = "SELECT MAX(id) FROM import_batch WHERE result = 'imported'";

/// As-of dates kept at once; the oldest kept goes first.
const KEPT_DATES: i64 = 4;

fn kept_damaged(_: CodecError) -> DbError {
    DbError::Rule("a kept RFM value is damaged".into())
}

impl Db {
    /// R5 members over the 365 days to `asof` within reach: scored, in code
    /// order, with their segments.
    pub async fn rfm_rows(&self, scope: &Scope, asof: NaiveDate) -> Result<Vec<RfmRow>> {
        Ok(self.rfm_members(scope, asof).await?.into_rows())
    }

    /// [`Db::rfm_rows`] as a list for a table: kept rows stay packed (each
    /// part checked whole here) and are unpacked as the table is read.
    pub async fn rfm_members(&self, scope: &Scope, asof: NaiveDate) -> Result<MemberList> {
        if !scope.sees_all() {
            return Ok(MemberList::Rows(rfm(self.member_windows(scope, asof).await?)));
        }
        let version = self.import_version().await?;
        if let Some(head) = self.kept(asof, version).await? {
            return self.kept_members(&head).await.map(MemberList::Packed);
        }
        let rows = rfm(self.member_windows(scope, asof).await?);
        self.keep(asof, version, &rows).await?;
        Ok(MemberList::Rows(rows))
    }

    /// R5 segments' members and spend over the 365 days to `asof` within reach.
    pub async fn rfm_segment_sums(&self, scope: &Scope, asof: NaiveDate) -> Result<SegmentSums> {
        if !scope.sees_all() {
            // No member's code: the segments count members.
            return Ok(segment_sums(&scored(self.member_figures(scope, asof).await?)));
        }
        let version = self.import_version().await?;
        if let Some(head) = self.kept(asof, version).await? {
            return Ok(head.segments);
        }
        let rows = rfm(self.member_windows(scope, asof).await?);
        self.keep(asof, version, &rows).await?;
        Ok(segment_sums(&rows))
    }

    /// Keeps R5 for the company's last date with sales, unless kept already:
    /// what an import does once its batch is in, so that the reports open
    /// on figures ready to read.
    pub async fn keep_rfm(&self) -> Result<()> {
        let scope = Scope::system("rfm");
        if let Some(last) = self.last_sales_date(&scope).await? {
            self.rfm_segment_sums(&scope, last).await?;
        }
        Ok(())
    }

    /// The last imported batch: the data of the reports changes only with
    /// one (a file of sales, of store-day summaries; any other kind moves it
    /// too, which only costs a recomputation).
    async fn import_version(&self) -> Result<i64> {
        let v: Option<i64> = on_pool!(self, p => sqlx::query_scalar(LAST_IMPORT).fetch_one(p).await?);
        Ok(v.unwrap_or(0))
    }

    /// The kept row of `asof` at `version`.
    async fn kept(&self, asof: NaiveDate, version: i64) -> Result<Option<KeptHead>> {
        let row: Option<(i64, i64, Vec<u8>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, members, segments FROM rfm_kept WHERE asof = $1 AND version = $2"
        )
        .bind(asof)
        .bind(version)
        .fetch_optional(p)
        .await?);
        let Some((id, members, segments)) = row else { return Ok(None) };
        let segments = unpack_segment_sums(&segments).map_err(kept_damaged)?;
        if segments.iter().map(|s| s.0).sum::<i64>() != members {
            return Err(kept_damaged(CodecError));
        }
        Ok(Some(KeptHead { id, members, segments }))
    }

    /// The members of a kept row, every part checked; all of them, or an
    /// error.
    async fn kept_members(&self, head: &KeptHead) -> Result<PackedMembers> {
        let parts: Vec<Vec<u8>> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT members FROM rfm_kept_part WHERE kept_id = $1 ORDER BY part"
        )
        .bind(head.id)
        .fetch_all(p)
        .await?);
        let members = PackedMembers::new(parts).map_err(kept_damaged)?;
        if members.len() as i64 != head.members {
            return Err(kept_damaged(CodecError));
        }
        Ok(members)
    }

    /// Stores `rows`, computed for `asof` from the data of `version`, if that
    /// is still the last import; drops what other versions kept, and the
    /// oldest as-of dates beyond [`KEPT_DATES`].
    ///
    /// On SQLite it waits for the write lock [`KEEPER_WAIT`] at most and
    /// otherwise keeps nothing: a report that keeps what it summed must not
    /// wait behind an import, which holds the lock for seconds and then
    /// makes the figures of no use anyway.
    async fn keep(&self, asof: NaiveDate, version: i64, rows: &[RfmRow]) -> Result<()> {
        let kept = Kept {
            asof,
            version,
            members: rows.len() as i64,
            segments: pack_segment_sums(&segment_sums(rows)),
            parts: rows.chunks(PART_ROWS).map(pack_rfm_rows).collect(),
        };
        match &self.pool {
            Pool::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                let wait = |d: Duration| sqlx::AssertSqlSafe(format!("PRAGMA busy_timeout = {}", d.as_millis()));
                sqlx::query(wait(KEEPER_WAIT)).execute(&mut *conn).await?;
                let written = async {
                    let mut tx = match conn.begin_with("BEGIN IMMEDIATE").await {
                        Err(e) if is_busy(&e) => return Ok(()),
                        begun => begun?,
                    };
                    write_kept!(tx, kept);
                    Ok(())
                }
                .await;
                if sqlx::query(wait(crate::BUSY_TIMEOUT)).execute(&mut *conn).await.is_err() {
                    // Not back in the pool with the short wait.
                    drop(conn.detach());
                }
                written
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin_write().await?;
                // One keeper at a time (two could insert the same date).
                sqlx::query("SELECT pg_advisory_xact_lock(7402003)").execute(&mut *tx).await?;
                write_kept!(tx, kept);
                Ok(())
            }
        }
    }
}

/// How long a keeper waits for SQLite's write lock.
const KEEPER_WAIT: Duration = Duration::from_millis(200);

/// SQLite's "database is locked" (`SQLITE_BUSY`, with its extended codes).
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5)
}

/// A kept row's head: its id, member count and segments.
struct KeptHead {
    id: i64,
    members: i64,
    segments: SegmentSums,
}

/// R5 of one as-of date, packed to be stored.
struct Kept {
    asof: NaiveDate,
    version: i64,
    members: i64,
    segments: Vec<u8>,
    parts: Vec<Vec<u8>>,
}

/// Stores `$kept` in the write transaction `$tx` and commits, unless an
/// import came since its version (then returns, which rolls back).
macro_rules! write_kept {
    ($tx:ident, $kept:ident) => {{
        let now: Option<i64> = sqlx::query_scalar(LAST_IMPORT).fetch_one(&mut *$tx).await?;
        if now.unwrap_or(0) != $kept.version {
            // An import came meanwhile: these figures may be of either.
            return Ok(());
        }
        // Another version's rows, and this date's at this version (a
        // keeper that came first), go.
        sqlx::query(
            "DELETE FROM rfm_kept_part WHERE kept_id IN (SELECT id FROM rfm_kept WHERE asof = $1 OR version <> $2)",
        )
        .bind($kept.asof)
        .bind($kept.version)
        .execute(&mut *$tx)
        .await?;
        sqlx::query("DELETE FROM rfm_kept WHERE asof = $1 OR version <> $2")
            .bind($kept.asof)
            .bind($kept.version)
            .execute(&mut *$tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rfm_kept (asof, version, members, segments) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind($kept.asof)
        .bind($kept.version)
        .bind($kept.members)
        .bind(&$kept.segments)
        .fetch_one(&mut *$tx)
        .await?;
        for (part, packed) in $kept.parts.iter().enumerate() {
            sqlx::query("INSERT INTO rfm_kept_part (kept_id, part, members) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(part as i64)
                .bind(packed)
                .execute(&mut *$tx)
                .await?;
        }
        const NEWEST: &str = "SELECT id FROM rfm_kept ORDER BY id DESC LIMIT $1";
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM rfm_kept_part WHERE kept_id NOT IN ({NEWEST})")))
            .bind(KEPT_DATES)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM rfm_kept WHERE id NOT IN ({NEWEST})")))
            .bind(KEPT_DATES)
            .execute(&mut *$tx)
            .await?;
        $tx.commit().await?;
    }};
}
use write_kept;

// Summing a year of member-days.

impl Db {
    /// Each member's recency, frequency and spend over the 365 days to
    /// `asof`, with her code.
    pub async fn member_windows(&self, scope: &Scope, asof: NaiveDate) -> Result<Vec<MemberWindow>> {
        self.members_in_window(scope, asof).await?.windows(asof).map_err(damaged)
    }

    /// The same figures with every code left empty: for the segments, which
    /// count members (no string per member).
    pub async fn member_figures(&self, scope: &Scope, asof: NaiveDate) -> Result<Vec<MemberWindow>> {
        Ok(self.members_in_window(scope, asof).await?.figures(asof))
    }

    /// Every member's running figures over the 365 days to `asof`.
    async fn members_in_window(&self, scope: &Scope, asof: NaiveDate) -> Result<Members> {
        let from = asof - chrono::Duration::days(364);
        let allowed: std::collections::HashSet<i64> = self.store_codes(scope).await?.into_values().collect();
        let sql = "SELECT store_id, month, members FROM sales_detail WHERE month BETWEEN $1 AND $2";
        let months = [Arg::Int(month_key(from)), Arg::Int(month_key(asof))];
        if matches!(self.pool, Pool::Sqlite(_)) {
            // Row by row as SQLite steps them, each store-month handed to a
            // worker: a year of packed members is read once, never held, and
            // decoded on every core. Store by store, through the index of
            // schema step 14, so that a worker sums a store's members at a
            // time (see `MemberAcc`). SQLite's own choice, the primary key,
            // gave them month by month: a store's members laid out once per
            // month, or, with a map kept per store, nearly every member-day
            // a cache miss (at 1,000 stores, RFM segments 727 ms that way,
            // 605 ms this way).
            let sql = "SELECT store_id, month, members FROM sales_detail INDEXED BY sales_detail_by_store
                       WHERE month BETWEEN $1 AND $2 ORDER BY store_id, month";
            let mut workers = MemberWorkers::start();
            self.sqlite_each(sql, &months, |s| {
                let store = <i64 as crate::fetch::Col>::read(s, 0)?;
                if allowed.contains(&store) {
                    let month = <i64 as crate::fetch::Col>::read(s, 1)?;
                    let part = window_part(store, month, (from, asof)).ok_or_else(|| damaged(CodecError))?;
                    workers.push(part, crate::fetch::bytes(s, 2));
                }
                Ok(())
            })
            .await?;
            workers.finish()
        } else {
            let rows: Vec<(i64, i64, Vec<u8>)> = self.fetch_rows(sql, &months).await?;
            let mut rows: Vec<&(i64, i64, Vec<u8>)> = rows.iter().filter(|r| allowed.contains(&r.0)).collect();
            rows.sort_unstable_by_key(|r| (r.0, r.1));
            // The stores dealt out to a thread per core.
            let n = member_threads();
            std::thread::scope(|s| {
                let parts: Vec<_> = (0..n)
                    .map(|i| {
                        let mine: Vec<&(i64, i64, Vec<u8>)> =
                            rows.iter().filter(|r| r.0.rem_euclid(n as i64) as usize == i).copied().collect();
                        s.spawn(move || {
                            let mut acc = MemberAcc::new();
                            for (store, month, packed) in mine {
                                let part = window_part(*store, *month, (from, asof)).ok_or(CodecError)?;
                                add_month(&mut acc, &part, packed)?;
                            }
                            Ok(acc.sorted())
                        })
                    })
                    .collect();
                merged(parts.into_iter().map(|p| p.join()))
            })
        }
    }
}

/// The members each thread summed, merged; a thread that failed, or met
/// damaged bytes, fails them all.
fn merged(
    parts: impl Iterator<Item = std::thread::Result<std::result::Result<Members, CodecError>>>,
) -> Result<Members> {
    let mut out = Members { short: Vec::new(), long: Vec::new() };
    for part in parts {
        let part = part.map_err(|_| crate::DbError::Rule("a member worker failed".into()))?;
        out = out.merge(part.map_err(damaged)?);
    }
    Ok(out)
}

/// How many threads decode members: one per core, at most four.
fn member_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 4)
}

/// A store-month of packed members to sum: its store, its first date, and
/// its first and last days of the month within the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MonthPart {
    store: i64,
    first: NaiveDate,
    days: (u8, u8),
}

/// The part of `store`'s month `month` (`YYYYMM`) within `from..=to`.
fn window_part(store: i64, month: i64, (from, to): (NaiveDate, NaiveDate)) -> Option<MonthPart> {
    use chrono::Datelike;
    let (first, last) = month_bounds(month)?;
    let days = (first.max(from).day() as u8, last.min(to).day() as u8);
    Some(MonthPart { store, first, days })
}

/// Adds a store-month's packed members (each day's behind its day of the
/// month) within its part of the window.
fn add_month(acc: &mut MemberAcc, part: &MonthPart, packed: &[u8]) -> std::result::Result<(), CodecError> {
    acc.store(part.store);
    let (lo, hi) = part.days;
    let mut day: (u8, NaiveDate) = (0, part.first);
    for_each_member_prefixed(packed, 1, |prefix, member, m| {
        let d = prefix[0];
        if d < lo || d > hi {
            return;
        }
        if d != day.0 {
            // Within the month: lo is at least 1, hi at most its last day.
            day = (d, part.first + chrono::Days::new(u64::from(d - 1)));
        }
        acc.add(day.1, member, m);
    })
}

/// Last purchase date, purchase tickets, net amount: 16 bytes, so that a
/// member's entry is half a cache line.
type Acc = (Option<NaiveDate>, u32, i64);

/// Each member's figures as the member-days are read. Member codes of up to
/// 15 bytes (nearly all) are keyed by one 128-bit word; longer ones by their
/// bytes. Codes are checked as UTF-8 once per member, at the end.
///
/// Member-days come store by store, and a member mostly shops at one store:
/// a store's members are summed in a small map that stays in cache, and
/// each store's sums are laid end to end, to be sorted by code and added up
/// once at the end. A map of all members (megabytes, a cache miss per probe)
/// took a fifth of a year's RFM at 10 M lines, and its members had to be
/// sorted anyway.
struct MemberAcc {
    store: Option<i64>,
    here: FxHashMap<u128, Acc>,
    /// Each store's members in turn, a member once per store she shopped at.
    short: Vec<(u128, Acc)>,
    long: FxHashMap<Vec<u8>, Acc>,
}

/// A member's window from her running figures.
fn window(member: String, (last, frequency, monetary): Acc, asof: NaiveDate) -> MemberWindow {
    MemberWindow {
        member,
        recency_days: last.map_or(0, |d: NaiveDate| (asof - d).num_days()),
        frequency: i64::from(frequency),
        monetary,
    }
}

/// Adds `b` to `a`.
fn merge_acc(a: &mut Acc, b: Acc) {
    a.0 = a.0.max(b.0);
    a.1 = a.1.saturating_add(b.1);
    a.2 += b.2;
}

impl MemberAcc {
    fn new() -> MemberAcc {
        MemberAcc {
            store: None,
            here: FxHashMap::with_capacity_and_hasher(1 << 12, Default::default()),
            short: Vec::with_capacity(1 << 16),
            long: FxHashMap::default(),
        }
    }

    /// The member-days that follow are `store`'s.
    fn store(&mut self, store: i64) {
        if self.store != Some(store) {
            self.flush();
            self.store = Some(store);
        }
    }

    fn flush(&mut self) {
        self.short.extend(self.here.drain());
    }

    fn add(&mut self, day: NaiveDate, member: &[u8], m: opsdesk_domain::sales::MemberDay) {
        let tickets = u32::try_from(m.tickets.max(0)).unwrap_or(u32::MAX);
        let acc: Acc = ((m.tickets > 0).then_some(day), tickets, m.net);
        match short_key(member) {
            Some(k) => merge_acc(self.here.entry(k).or_insert((None, 0, 0)), acc),
            None => {
                // A code is copied only the first time it is met.
                if !self.long.contains_key(member) {
                    self.long.insert(member.to_vec(), (None, 0, 0));
                }
                merge_acc(self.long.get_mut(member).expect("inserted just above"), acc);
            }
        }
    }

    /// The members in code order (a short key sorts as its code's bytes do).
    fn sorted(mut self) -> Members {
        self.flush();
        let mut short = self.short;
        short.sort_unstable_by_key(|e| e.0);
        // A member of several stores: her sums side by side, added into one.
        short.dedup_by(|later, first| {
            let same = later.0 == first.0;
            if same {
                merge_acc(&mut first.1, later.1);
            }
            same
        });
        let mut long: Vec<(Vec<u8>, Acc)> = self.long.into_iter().collect();
        long.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Members { short, long }
    }
}

/// Members' figures: those with short codes and those with long ones, each
/// list in code order.
struct Members {
    short: Vec<(u128, Acc)>,
    long: Vec<(Vec<u8>, Acc)>,
}

/// Two lists in key order as one, a key in both summed.
fn merge_sorted<K: Ord>(a: Vec<(K, Acc)>, b: Vec<(K, Acc)>) -> Vec<(K, Acc)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => match x.0.cmp(&y.0) {
                std::cmp::Ordering::Less => a.next(),
                std::cmp::Ordering::Greater => b.next(),
                std::cmp::Ordering::Equal => {
                    let (k, mut acc) = a.next().expect("peeked");
                    merge_acc(&mut acc, b.next().expect("peeked").1);
                    Some((k, acc))
                }
            },
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => break,
        };
        out.extend(next);
    }
    out
}

impl Members {
    fn merge(self, other: Members) -> Members {
        Members { short: merge_sorted(self.short, other.short), long: merge_sorted(self.long, other.long) }
    }

    /// The members' figures, codes left empty.
    fn figures(self, asof: NaiveDate) -> Vec<MemberWindow> {
        let accs = self.short.into_iter().map(|e| e.1).chain(self.long.into_iter().map(|e| e.1));
        accs.map(|acc| window(String::new(), acc, asof)).collect()
    }

    /// The members with their codes, the short ones and then the long ones,
    /// each in code order, so that the rules' own sort by code finds the
    /// work nearly done.
    fn windows(self, asof: NaiveDate) -> std::result::Result<Vec<MemberWindow>, CodecError> {
        let window = |code: &[u8], acc: Acc| {
            Ok(window(std::str::from_utf8(code).map_err(|_| CodecError)?.to_string(), acc, asof))
        };
        let mut out: Vec<MemberWindow> = Vec::with_capacity(self.short.len() + self.long.len());
        for (k, acc) in self.short {
            let (w, n) = short_code(k);
            out.push(window(&w[..n], acc)?);
        }
        for (code, acc) in self.long {
            out.push(window(&code, acc)?);
        }
        Ok(out)
    }
}

/// Store-months of packed members gathered into batches for one worker.
#[derive(Default)]
struct Batch {
    /// Each store-month's part of the window, and where its members end in `bytes`.
    months: Vec<(MonthPart, usize)>,
    bytes: Vec<u8>,
}

/// Bytes of packed members a batch gathers before it is handed over.
const BATCH_BYTES: usize = 1 << 16;

/// Threads, one per core, that decode and sum store-months of packed
/// members. A store's months always go to the same worker, so that a member's days
/// mostly meet in one worker's maps; each worker sorts its members at the
/// end and the sorted lists are merged.
struct MemberWorkers {
    filling: Vec<Batch>,
    senders: Vec<std::sync::mpsc::SyncSender<Batch>>,
    threads: Vec<std::thread::JoinHandle<std::result::Result<Members, CodecError>>>,
}

impl MemberWorkers {
    fn start() -> MemberWorkers {
        let n = member_threads();
        let mut w = MemberWorkers { filling: Vec::new(), senders: Vec::new(), threads: Vec::new() };
        for _ in 0..n {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(2);
            w.threads.push(std::thread::spawn(move || {
                let mut acc = MemberAcc::new();
                for batch in rx {
                    let mut start = 0;
                    for (part, end) in &batch.months {
                        add_month(&mut acc, part, &batch.bytes[start..*end])?;
                        start = *end;
                    }
                }
                Ok(acc.sorted())
            }));
            w.senders.push(tx);
            w.filling.push(Batch::default());
        }
        w
    }

    fn push(&mut self, part: MonthPart, members: &[u8]) {
        let i = part.store.rem_euclid(self.senders.len() as i64) as usize;
        let batch = &mut self.filling[i];
        batch.bytes.extend_from_slice(members);
        batch.months.push((part, batch.bytes.len()));
        if batch.bytes.len() >= BATCH_BYTES {
            // A worker that stopped has met damaged bytes; `finish` says so.
            let _ = self.senders[i].send(std::mem::take(batch));
        }
    }

    /// Every member's figures.
    fn finish(self) -> Result<Members> {
        for (tx, batch) in self.senders.into_iter().zip(self.filling) {
            let _ = tx.send(batch);
        }
        merged(self.threads.into_iter().map(|t| t.join()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;
    #[test]
    fn member_windows_sum_each_code_and_refuse_a_damaged_one() {
        use opsdesk_domain::sales::MemberDay;
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        let long = "110101199001011234X";
        let filled = || {
            let mut acc = MemberAcc::new();
            acc.store(1);
            acc.add(day(1), long.as_bytes(), MemberDay { tickets: 1, net: 500 });
            acc.add(day(3), b"M2", MemberDay { tickets: 2, net: 900 });
            acc.add(day(4), b"M3", MemberDay { tickets: 1, net: 300 });
            acc.store(2);
            acc.add(day(5), long.as_bytes(), MemberDay { tickets: 1, net: 700 });
            acc.add(day(2), b"M3", MemberDay { tickets: 1, net: 50 });
            acc.add(day(9), b"M2", MemberDay { tickets: -1, net: -100 });
            acc.store(1);
            acc.add(day(8), b"M3", MemberDay { tickets: 0, net: -20 });
            acc
        };
        let got: Vec<(String, i64, i64, i64)> = filled()
            .sorted()
            .windows(day(10))
            .unwrap()
            .into_iter()
            .map(|w| (w.member, w.recency_days, w.frequency, w.monetary))
            .collect();
        // Summed across stores: the latest purchase, the tickets, the spend
        // (a day without a purchase ticket is no purchase).
        assert_eq!(got, [("M2".to_string(), 7, 2, 800), ("M3".to_string(), 6, 2, 330), (long.to_string(), 5, 2, 1200)]);
        // Without codes: the same figures, no string per member.
        let mut figures: Vec<(i64, i64, i64)> =
            filled().sorted().figures(day(10)).into_iter().map(|w| (w.recency_days, w.frequency, w.monetary)).collect();
        figures.sort_unstable();
        assert_eq!(figures, [(5, 2, 1200), (6, 2, 330), (7, 2, 800)]);
        let mut bad = MemberAcc::new();
        bad.add(day(1), b"M\xff", MemberDay { tickets: 1, net: 1 });
        assert_eq!(bad.sorted().windows(day(10)).err(), Some(CodecError));
    }

    #[test]
    fn members_summed_apart_merge_into_the_same_figures() {
        use opsdesk_domain::sales::MemberDay;
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        let long = |c: char| format!("{c}10101199001011234X");
        // Member-days of three stores, as a worker each or all in one.
        let days = [
            (1, 1, "M2".to_string(), 1, 500),
            (1, 2, long('2'), 1, 40),
            (2, 3, "M2".to_string(), 2, 900),
            (2, 4, "M1".to_string(), 0, -30),
            (3, 5, "M2".to_string(), -1, -100),
            (3, 6, long('1'), 1, 10),
            (3, 7, long('2'), 2, 70),
            (3, 8, "M3".to_string(), 1, 60),
        ];
        let fill = |stores: &[i64]| {
            let mut acc = MemberAcc::new();
            for (store, d, member, tickets, net) in days.iter().filter(|x| stores.contains(&x.0)) {
                acc.store(*store);
                acc.add(day(*d), member.as_bytes(), MemberDay { tickets: *tickets, net: *net });
            }
            acc.sorted()
        };
        let figures = |m: Members| -> Vec<(String, i64, i64, i64)> {
            m.windows(day(10))
                .unwrap()
                .into_iter()
                .map(|w| (w.member, w.recency_days, w.frequency, w.monetary))
                .collect()
        };
        let apart = fill(&[1]).merge(fill(&[3])).merge(fill(&[2]));
        let together = figures(fill(&[1, 2, 3]));
        assert_eq!(figures(apart), together);
        assert_eq!(
            together,
            [
                ("M1".to_string(), 0, 0, -30),
                ("M2".to_string(), 7, 3, 1300),
                ("M3".to_string(), 2, 1, 60),
                (long('1'), 4, 1, 10),
                (long('2'), 3, 3, 110),
            ]
        );
    }

    #[test]
    fn a_months_members_count_only_within_the_window() {
        use opsdesk_domain::sales::MemberDay;
        use opsdesk_domain::sales::codec::{join_sections, pack_members};
        let oct = |d: u32| NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        let m = |net| pack_members(&[("M1", MemberDay { tickets: 1, net })]);
        let (a, b, c) = (m(100), m(20), m(3));
        let packed = join_sections([(1, a.as_slice()), (15, b.as_slice()), (31, c.as_slice())]);
        // The window's first month from its 15th; its last month to its 30th.
        let part = window_part(7, 202610, (oct(15), oct(30))).unwrap();
        assert_eq!(part, MonthPart { store: 7, first: oct(1), days: (15, 30) });
        let mut acc = MemberAcc::new();
        add_month(&mut acc, &part, &packed).unwrap();
        let w = acc.sorted().windows(oct(30)).unwrap();
        let got: Vec<_> = w.iter().map(|w| (w.member.as_str(), w.recency_days, w.frequency, w.monetary)).collect();
        assert_eq!(got, [("M1", 15, 1, 20)]);
        // February 2026 ends on the 28th: a window through March keeps it whole.
        let feb = window_part(7, 202602, (oct(1) - chrono::Days::new(365), oct(30))).unwrap();
        assert_eq!(feb.days, (1, 28));
        assert_eq!(window_part(7, 202613, (oct(1), oct(30))), None);
        assert_eq!(add_month(&mut MemberAcc::new(), &part, &packed[..packed.len() - 1]), Err(CodecError));
    }

    fn row(member: &str, recency_days: i64, scores: [i64; 3]) -> RfmRow {
        RfmRow::new(member.into(), recency_days, 2, -150, scores)
    }

    /// Figures summed before an import came (labelled with the version read
    /// before it) are not stored; figures of the last import are, in parts
    /// read back in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_figures_of_the_last_import_are_kept_and_read_back_whole() {
        for backend in TestDb::backends() {
            let t = TestDb::new(backend).await;
            let asof = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
            let rows: Vec<RfmRow> =
                (0..PART_ROWS + 3).map(|i| row(&format!("M{i:07}"), (i % 365) as i64, [1, 3, 5])).collect();
            // No import yet: the version is 0.
            t.db.keep(asof, 7, &rows).await.unwrap();
            assert_eq!(t.kept_rfm().await.unwrap(), [], "{backend:?}: a version other than the last");
            t.db.keep(asof, 0, &rows).await.unwrap();
            assert_eq!(t.kept_rfm().await.unwrap(), [(asof, rows.len() as i64)]);
            let head = t.db.kept(asof, 0).await.unwrap().unwrap();
            assert_eq!(head.segments, segment_sums(&rows));
            let members = MemberList::Packed(t.db.kept_members(&head).await.unwrap());
            // A page across the seam of the parts holds the rows there.
            let table = opsdesk_domain::reports::rfm::rfm_members_table(asof, members.clone());
            let page = table.rows.map_range(PART_ROWS - 1..PART_ROWS + 2, |r| r[0].text());
            assert_eq!(page, ["M0065535", "M0065536", "M0065537"], "{backend:?}");
            assert_eq!(members.into_rows(), rows, "{backend:?}: two parts, in order");
            assert!(t.db.kept(asof, 1).await.unwrap().is_none());
            // A part gone is damage, not a shorter list.
            t.execute("DELETE FROM rfm_kept_part WHERE part = 1").await.unwrap();
            let e = t.db.kept_members(&head).await.unwrap_err();
            assert_eq!(e.to_string(), "a kept RFM value is damaged", "{backend:?}");
        }
    }

    /// While another connection holds SQLite's write lock (an import), a
    /// keeper gives up within its short wait instead of the 30 s every
    /// other writer waits, which would have made it fail "database is
    /// locked"; once the lock is free it keeps.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_keeper_does_not_wait_behind_a_writer() {
        let t = TestDb::new(crate::Backend::Sqlite).await;
        let asof = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        let rows = vec![row("M1", 3, [5, 1, 2])];
        let other = Db::open(&t.url).await.unwrap();
        let Pool::Sqlite(p) = &other.pool else { unreachable!() };
        let mut writer = p.begin_write().await.unwrap();
        sqlx::query("INSERT INTO setting (key, value) VALUES ('probe', '1')").execute(&mut *writer).await.unwrap();
        t.db.keep(asof, 0, &rows).await.unwrap();
        assert_eq!(t.kept_rfm().await.unwrap(), [], "nothing kept while the lock is held");
        writer.rollback().await.unwrap();
        t.db.keep(asof, 0, &rows).await.unwrap();
        assert_eq!(t.kept_rfm().await.unwrap(), [(asof, 1)]);
        // The connection went back to the pool waiting as long as before.
        let waits: Vec<i64> = {
            let Pool::Sqlite(p) = &t.db.pool else { unreachable!() };
            let mut all = Vec::new();
            for _ in 0..4 {
                all.push(sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(p).await.unwrap());
            }
            all
        };
        assert!(waits.iter().all(|w| *w == crate::BUSY_TIMEOUT.as_millis() as i64), "{waits:?}");
    }
}
