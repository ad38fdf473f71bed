//! What the reports read from the rollups, scoped.

use std::collections::HashMap;

use chrono::NaiveDate;
use opsdesk_domain::calendar::{month_bounds, month_start, same_date_last_year, same_weekday_last_week};
use opsdesk_domain::reports::daily::{DayFigures, StoreDayInput};

use crate::day_packs::StoredDay;
use crate::fetch::Arg;
use crate::{Db, Pool, Result, Scope};
use opsdesk_domain::sales::DaySource;

impl Db {
    async fn day_figures(&self, date: NaiveDate) -> Result<HashMap<i64, DayFigures>> {
        Ok(self
            .stored_days(date, date)
            .await?
            .into_iter()
            .map(|StoredDay { store, day: d, .. }| {
                let f = DayFigures {
                    revenue: d.revenue,
                    cost: d.cost,
                    tickets: d.tickets,
                    qty: d.qty,
                    member_revenue: d.member_revenue,
                };
                (store, f)
            })
            .collect())
    }

    /// The inputs of the daily report for `date`: every store within reach
    /// that had opened by then, in code order.
    pub async fn daily_inputs(&self, scope: &Scope, date: NaiveDate) -> Result<Vec<StoreDayInput>> {
        let stores = self.stores(scope).await?;
        let day = self.day_figures(date).await?;
        let lw = self.day_figures(same_weekday_last_week(date)).await?;
        let ly = self.day_figures(same_date_last_year(date)).await?;
        let mtd: FxHashMap<i64, i64> =
            self.period_days(month_start(date), date).await?.into_iter().map(|r| (r.0, r.1)).collect();
        Ok(stores
            .into_iter()
            .filter(|s| s.open_date <= date)
            .map(|s| StoreDayInput {
                region: s.top_region().to_string(),
                day: day.get(&s.id).copied(),
                mtd_revenue: mtd.get(&s.id).copied().unwrap_or(0),
                lw_revenue: lw.get(&s.id).map(|f| f.revenue),
                ly_revenue: ly.get(&s.id).map(|f| f.revenue),
                store_code: s.code,
            })
            .collect())
    }

    /// The last business date with sales within reach, if any.
    pub async fn last_sales_date(&self, scope: &Scope) -> Result<Option<NaiveDate>> {
        let rows: Vec<(Option<i64>,)> = if scope.sees_all() {
            self.fetch_rows("SELECT MAX(month) FROM sales_days", &[]).await?
        } else {
            let ids: Vec<String> = self.store_codes(scope).await?.into_values().map(|id| id.to_string()).collect();
            if ids.is_empty() {
                return Ok(None);
            }
            // Ids are integers from the database, not user text.
            let sql = format!("SELECT MAX(month) FROM sales_days WHERE store_id IN ({})", ids.join(","));
            self.fetch_rows(&sql, &[]).await?
        };
        let Some((first, last)) = rows.into_iter().next().and_then(|r| r.0).and_then(month_bounds) else {
            return Ok(None);
        };
        let allowed: std::collections::HashSet<i64> = self.store_codes(scope).await?.into_values().collect();
        Ok(self
            .stored_days(first, last)
            .await?
            .into_iter()
            .filter(|d| allowed.contains(&d.store))
            .map(|d| d.date)
            .max())
    }
}

use opsdesk_domain::calendar::month_key;
use opsdesk_domain::reports::category::CategoryMonth;
use opsdesk_domain::reports::monthly::StoreMonth;
use opsdesk_domain::reports::rfm::MemberWindow;
use opsdesk_domain::reports::traffic::TrafficDay;
use opsdesk_domain::sales::codec::{CodecError, for_each_member_prefixed, unpack_categories};
use rustc_hash::FxHashMap;

fn damaged(_: CodecError) -> crate::DbError {
    crate::DbError::Rule("a packed rollup value is damaged".into())
}

impl Db {
    /// Every store-month with sales within reach from `from` to `to`
    /// (`yyyymm`, inclusive), sorted by store code and month.
    pub async fn store_months(&self, scope: &Scope, from: i64, to: i64) -> Result<Vec<StoreMonth>> {
        let stores: HashMap<i64, crate::stores::Store> =
            self.stores(scope).await?.into_iter().map(|s| (s.id, s)).collect();
        // From the month rollup: one row per store and month.
        let rows: Vec<(i64, i64, i64, i64, i64)> = self
            .fetch_rows(
                "SELECT store_id, month, revenue_c, cost_c, tickets FROM sales_month WHERE month BETWEEN $1 AND $2",
                &[Arg::Int(from), Arg::Int(to)],
            )
            .await?;
        let mut out: Vec<StoreMonth> = rows
            .into_iter()
            .filter_map(|(id, month, revenue, cost, tickets)| {
                let s = stores.get(&id)?;
                Some(StoreMonth {
                    store_code: s.code.clone(),
                    month,
                    revenue,
                    cost,
                    tickets,
                    staff_count: s.staff_count,
                    area_sqm: s.area_sqm,
                })
            })
            .collect();
        out.sort_by(|a, b| (a.store_code.as_bytes(), a.month).cmp(&(b.store_code.as_bytes(), b.month)));
        Ok(out)
    }

    /// Each store's days from `from` to `to`, sorted; stores in code order.
    pub async fn store_days(
        &self,
        scope: &Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, Vec<TrafficDay>)>> {
        let stores = self.stores(scope).await?;
        // Not sorted by the database: the date index yields each store's
        // days in date order already, and sorting them all by store cost
        // SQLite a temporary B-tree (a third of the traffic report).
        let mut by_store: FxHashMap<i64, Vec<TrafficDay>> = FxHashMap::default();
        for d in self.stored_days(from, to).await? {
            let day = TrafficDay { date: d.date, tickets: d.day.tickets, revenue: d.day.revenue };
            by_store.entry(d.store).or_default().push(day);
        }
        for days in by_store.values_mut().filter(|d| !d.is_sorted_by_key(|d| d.date)) {
            days.sort_unstable_by_key(|d| d.date);
        }
        Ok(stores.into_iter().filter_map(|s| by_store.remove(&s.id).map(|days| (s.code, days))).collect())
    }

    /// Revenue and cost per month and category within reach, for the months
    /// `from` to `to` (`YYYYMM`), from the month rollup.
    pub async fn category_months(&self, scope: &Scope, from: i64, to: i64) -> Result<Vec<CategoryMonth>> {
        let allowed: std::collections::HashSet<i64> = self.store_codes(scope).await?.into_values().collect();
        let rows: Vec<(i64, i64, Vec<u8>)> = self
            .fetch_rows(
                "SELECT month, store_id, categories FROM sales_month WHERE month BETWEEN $1 AND $2",
                &[Arg::Int(from), Arg::Int(to)],
            )
            .await?;
        let mut sums: FxHashMap<(i64, &str), (i64, i64)> = FxHashMap::default();
        for (month, _, packed) in rows.iter().filter(|r| allowed.contains(&r.1)) {
            for (category, t) in unpack_categories(packed).map_err(damaged)? {
                let e = sums.entry((*month, category)).or_default();
                e.0 += t.revenue;
                e.1 += t.cost;
            }
        }
        Ok(sums
            .into_iter()
            .map(|((month, category), (revenue, cost))| CategoryMonth {
                month,
                category: category.into(),
                revenue,
                cost,
            })
            .collect())
    }

    /// How many store-days within reach from `from` to `to` were imported as
    /// summaries, which lack categories and members.
    pub async fn summary_days(&self, scope: &Scope, from: NaiveDate, to: NaiveDate) -> Result<i64> {
        let allowed: std::collections::HashSet<i64> = self.store_codes(scope).await?.into_values().collect();
        // The store-months with summary days (an index holds only those):
        // a month within the range adds its count; a month the range cuts
        // (at most its first and its last) has its days unpacked and counted.
        let sql = "SELECT store_id, month, summary_days FROM sales_month
                   WHERE month BETWEEN $1 AND $2 AND summary_days > 0";
        let months: Vec<(i64, i64, i64)> =
            self.fetch_rows(sql, &[Arg::Int(month_key(from)), Arg::Int(month_key(to))]).await?;
        let mut n = 0;
        let mut cut: HashMap<i64, std::collections::HashSet<i64>> = HashMap::new();
        for (store, month, count) in months.into_iter().filter(|m| allowed.contains(&m.0)) {
            let (first, last) = month_bounds(month).ok_or_else(|| damaged(CodecError))?;
            if first >= from && last <= to {
                n += count;
            } else {
                cut.entry(month).or_default().insert(store);
            }
        }
        for (month, stores) in cut {
            let (first, last) = month_bounds(month).ok_or_else(|| damaged(CodecError))?;
            self.each_stored_day(first.max(from), last.min(to), |d| {
                if d.day.source == DaySource::Summary && stores.contains(&d.store) {
                    n += 1;
                }
            })
            .await?;
        }
        Ok(n)
    }

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

use opsdesk_domain::reports::period::PeriodSums;
use opsdesk_domain::reports::weekly::{IsoWeek, WeeklyInput};
use opsdesk_domain::text::{short_code, short_key};

type PeriodRow = (i64, i64, i64, i64, Option<i64>, Option<i64>, i64, i64, i64);
/// A store-month of the month rollup: store, revenue, cost, tickets, quantity,
/// member revenue, days, days with quantity, days with member revenue.
type MonthSumRow = (i64, i64, i64, i64, i64, i64, i64, i64, i64);

impl Db {
    /// Each store's store-days from `from` to `to` summed as SQL's SUM and
    /// COUNT would sum them (a sum of no figures is none).
    async fn period_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<PeriodRow>> {
        let mut by_store: FxHashMap<i64, PeriodRow> = FxHashMap::default();
        for StoredDay { store, day: d, .. } in self.stored_days(from, to).await? {
            let e = by_store.entry(store).or_insert((store, 0, 0, 0, None, None, 0, 0, 0));
            e.1 += d.revenue;
            e.2 += d.cost;
            e.3 += d.tickets;
            if let Some(q) = d.qty {
                e.4 = Some(e.4.unwrap_or(0) + q);
                e.7 += 1;
            }
            if let Some(m) = d.member_revenue {
                e.5 = Some(e.5.unwrap_or(0) + m);
                e.8 += 1;
            }
            e.6 += 1;
        }
        Ok(by_store.into_values().collect())
    }

    /// Each store's sums over `from..=to`, for the stores that sold.
    pub async fn period_sums(&self, from: NaiveDate, to: NaiveDate) -> Result<HashMap<i64, PeriodSums>> {
        // Whole months come from the month rollup, one row per store and month.
        use chrono::Datelike;
        let whole = from.day() == 1 && to.succ_opt().is_some_and(|n| n.day() == 1) && from <= to;
        let rows: Vec<PeriodRow> = if whole {
            let months: Vec<MonthSumRow> = self
                .fetch_rows(
                    "SELECT store_id, revenue_c, cost_c, tickets, qty, member_revenue_c, days, days_with_qty,
                            days_with_members FROM sales_month WHERE month BETWEEN $1 AND $2",
                    &[Arg::Int(month_key(from)), Arg::Int(month_key(to))],
                )
                .await?;
            let mut by_store: HashMap<i64, PeriodRow> = HashMap::new();
            for (store, revenue, cost, tickets, qty, member_revenue, days, with_qty, with_members) in months {
                let e = by_store.entry(store).or_insert((store, 0, 0, 0, Some(0), Some(0), 0, 0, 0));
                e.1 += revenue;
                e.2 += cost;
                e.3 += tickets;
                e.4 = e.4.map(|q| q + qty);
                e.5 = e.5.map(|m| m + member_revenue);
                e.6 += days;
                e.7 += with_qty;
                e.8 += with_members;
            }
            by_store.into_values().collect()
        } else {
            self.period_days(from, to).await?
        };
        Ok(rows
            .into_iter()
            .map(|(store, revenue, cost, tickets, qty, member_revenue, days, with_qty, with_members)| {
                let sums = PeriodSums {
                    revenue,
                    cost,
                    tickets,
                    // A sum over days some of which lack the figure is no sum.
                    qty: if with_qty == days { Some(qty.unwrap_or(0)) } else { None },
                    member_revenue: if with_members == days { Some(member_revenue.unwrap_or(0)) } else { None },
                    days,
                };
                (store, sums)
            })
            .collect())
    }

    /// The inputs of the weekly report: every store within reach that had
    /// opened by the week's end, in code order.
    pub async fn weekly_inputs(&self, scope: &Scope, week: IsoWeek) -> Result<Vec<WeeklyInput>> {
        let stores = self.stores(scope).await?;
        let cur = self.period_sums(week.monday(), week.sunday()).await?;
        let prev = week.previous();
        let lw = self.period_sums(prev.monday(), prev.sunday()).await?;
        let ly = match week.last_year() {
            Some(w) => self.period_sums(w.monday(), w.sunday()).await?,
            None => HashMap::new(),
        };
        let get = |m: &HashMap<i64, PeriodSums>, id: i64| m.get(&id).copied().unwrap_or_else(PeriodSums::zero);
        Ok(stores
            .into_iter()
            .filter(|s| s.open_date <= week.sunday())
            .map(|s| WeeklyInput {
                region: s.top_region().to_string(),
                week: get(&cur, s.id),
                last_week: get(&lw, s.id),
                last_year: get(&ly, s.id),
                store_code: s.code,
            })
            .collect())
    }
}

use opsdesk_domain::reports::efficiency::{EfficiencyInput, StoreBase};
use opsdesk_domain::reports::monthly::prev_month;
use opsdesk_domain::reports::regions::RegionStore;

impl Db {
    /// The inputs of the efficiency report for `from..=to`: every store within
    /// reach that had opened by `to`, in code order.
    pub async fn efficiency_inputs(
        &self,
        scope: &Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<EfficiencyInput>> {
        let stores = self.stores(scope).await?;
        let cur = self.period_sums(from, to).await?;
        let ly = self.period_sums(same_date_last_year(from), same_date_last_year(to)).await?;
        let get = |m: &HashMap<i64, PeriodSums>, id: i64| m.get(&id).copied().unwrap_or_else(PeriodSums::zero);
        Ok(stores
            .into_iter()
            .filter(|s| s.open_date <= to)
            .map(|s| EfficiencyInput {
                region: s.top_region().to_string(),
                base: StoreBase {
                    staff: s.staff_count,
                    area_sqm: s.area_sqm,
                    sku_count: s.sku_count,
                    open_minutes: s.open_minutes,
                },
                period: get(&cur, s.id),
                last_year: get(&ly, s.id),
                store_code: s.code,
            })
            .collect())
    }

    /// Every store within reach with its month, the month before and the
    /// same month a year earlier; `None` when `month` is no month.
    pub async fn region_stores(&self, scope: &Scope, month: i64) -> Result<Option<Vec<RegionStore>>> {
        let (Some(cur), Some(prev), Some(ly)) =
            (month_bounds(month), month_bounds(prev_month(month)), month_bounds(month - 100))
        else {
            return Ok(None);
        };
        let stores = self.stores(scope).await?;
        let (c, p, y) = (
            self.period_sums(cur.0, cur.1).await?,
            self.period_sums(prev.0, prev.1).await?,
            self.period_sums(ly.0, ly.1).await?,
        );
        let get = |m: &HashMap<i64, PeriodSums>, id: i64| m.get(&id).copied().unwrap_or_else(PeriodSums::zero);
        Ok(Some(
            stores
                .into_iter()
                .map(|s| RegionStore {
                    region: s.top_region().to_string(),
                    area_sqm: s.area_sqm,
                    month: get(&c, s.id),
                    previous: get(&p, s.id),
                    last_year: get(&y, s.id),
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
