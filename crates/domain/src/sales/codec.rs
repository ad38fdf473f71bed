//! The packed forms of the rollups. A store-day's categories and members
//! are one compact byte string each; a store-month's days are one more, and
//! its days' categories and members are laid end to end, each behind its
//! day of the month. Packing keeps a row per store and month instead of one
//! per store-day, category or member, which makes imports and reports an
//! order of magnitude faster (see `docs/storage.md`).
//!
//! Layout of a day's categories or members: a version byte (1), the entry
//! count, then per entry, sorted by name in byte order: the name's length and
//! UTF-8 bytes, then the figures. A store-month's days: see [`pack_days`].
//! Counts and lengths are LEB128 varints; signed figures are zigzag varints.
//! The kept R5 rows and segments: see [`pack_rfm_rows`].

use std::ops::ControlFlow;

use super::{CategoryTotals, DaySource, MemberDay};
use crate::reports::rfm::{RfmRow, SegmentSums};

const VERSION: u8 = 1;

/// A packed value that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecError;

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a packed rollup value is damaged")
    }
}

impl std::error::Error for CodecError {}

fn put_u(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_i(out: &mut Vec<u8>, v: i64) {
    put_u(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Result<Reader<'a>, CodecError> {
        let mut r = Reader { b, at: 0 };
        r.version()?;
        Ok(r)
    }

    fn version(&mut self) -> Result<(), CodecError> {
        match self.b.get(self.at) {
            Some(&VERSION) => {
                self.at += 1;
                Ok(())
            }
            _ => Err(CodecError),
        }
    }

    fn u(&mut self) -> Result<u64, CodecError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.b.get(self.at).ok_or(CodecError)?;
            self.at += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(v);
            }
        }
        Err(CodecError)
    }

    fn i(&mut self) -> Result<i64, CodecError> {
        let u = self.u()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn str(&mut self) -> Result<&'a str, CodecError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| CodecError)
    }

    fn bytes(&mut self) -> Result<&'a [u8], CodecError> {
        let n = usize::try_from(self.u()?).map_err(|_| CodecError)?;
        let end = self.at.checked_add(n).ok_or(CodecError)?;
        let b = self.b.get(self.at..end).ok_or(CodecError)?;
        self.at = end;
        Ok(b)
    }

    fn count(&mut self) -> Result<usize, CodecError> {
        // An entry takes at least two bytes: a count beyond that is damage.
        let n = usize::try_from(self.u()?).map_err(|_| CodecError)?;
        if n > self.b.len() - self.at { Err(CodecError) } else { Ok(n) }
    }

    fn done(&self) -> Result<(), CodecError> {
        if self.at == self.b.len() { Ok(()) } else { Err(CodecError) }
    }
}

/// Packs categories, which must be sorted by name and unique.
pub fn pack_categories(cats: &[(&str, CategoryTotals)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + cats.len() * 24);
    out.push(VERSION);
    put_u(&mut out, cats.len() as u64);
    for (name, t) in cats {
        put_str(&mut out, name);
        put_i(&mut out, t.revenue);
        put_i(&mut out, t.cost);
        put_i(&mut out, t.qty);
        put_i(&mut out, t.lines);
    }
    out
}

pub fn unpack_categories(b: &[u8]) -> Result<Vec<(&str, CategoryTotals)>, CodecError> {
    let mut r = Reader::new(b)?;
    let n = r.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(r.category()?);
    }
    r.done()?;
    Ok(out)
}

/// Packs members, which must be sorted by code and unique.
pub fn pack_members(members: &[(&str, MemberDay)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + members.len() * 14);
    out.push(VERSION);
    put_u(&mut out, members.len() as u64);
    for (code, m) in members {
        put_str(&mut out, code);
        put_i(&mut out, m.tickets);
        put_i(&mut out, m.net);
    }
    out
}

pub fn unpack_members(b: &[u8]) -> Result<Vec<(&str, MemberDay)>, CodecError> {
    let mut r = Reader::new(b)?;
    let n = r.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(r.member()?);
    }
    r.done()?;
    Ok(out)
}

impl<'a> Reader<'a> {
    fn category(&mut self) -> Result<(&'a str, CategoryTotals), CodecError> {
        let name = self.str()?;
        Ok((name, self.category_totals()?))
    }

    /// A category's figures, as every form of categories writes them.
    fn category_totals(&mut self) -> Result<CategoryTotals, CodecError> {
        Ok(CategoryTotals { revenue: self.i()?, cost: self.i()?, qty: self.i()?, lines: self.i()? })
    }

    fn member(&mut self) -> Result<(&'a str, MemberDay), CodecError> {
        let code = self.str()?;
        Ok((code, MemberDay { tickets: self.i()?, net: self.i()? }))
    }

    /// A member with its code's bytes as stored, not checked as UTF-8.
    fn member_bytes(&mut self) -> Result<(&'a [u8], MemberDay), CodecError> {
        let code = self.bytes()?;
        Ok((code, MemberDay { tickets: self.i()?, net: self.i()? }))
    }
}

/// Walks packed values laid end to end (as a database's concatenating
/// aggregate returns them), each preceded by a `prefix_len`-byte prefix.
fn for_each_prefixed<'a, N, T>(
    b: &'a [u8],
    prefix_len: usize,
    entry: impl Fn(&mut Reader<'a>) -> Result<(N, T), CodecError>,
    mut f: impl FnMut(&'a [u8], N, T),
) -> Result<(), CodecError> {
    let mut r = Reader { b, at: 0 };
    while r.at < b.len() {
        let prefix = b.get(r.at..r.at + prefix_len).ok_or(CodecError)?;
        r.at += prefix_len;
        r.version()?;
        for _ in 0..r.count()? {
            let (name, x) = entry(&mut r)?;
            f(prefix, name, x);
        }
    }
    Ok(())
}

/// Calls `f(prefix, code, day)` for every member of packed values laid end to
/// end, each preceded by a `prefix_len`-byte prefix (the store-day's date as
/// text). The codes come as stored, not checked as UTF-8 (a check per
/// member-day is a fifth of a year's RFM): the caller checks those it keeps.
pub fn for_each_member_prefixed<'a>(
    b: &'a [u8],
    prefix_len: usize,
    f: impl FnMut(&'a [u8], &'a [u8], MemberDay),
) -> Result<(), CodecError> {
    for_each_prefixed(b, prefix_len, Reader::member_bytes, f)
}

/// The packed values laid end to end, each preceded by a one-byte prefix
/// (the day of the month, in a store-month's detail), as (prefix, value)
/// slices; `entry` reads one entry of a value.
fn sections<'a>(
    b: &'a [u8],
    entry: impl Fn(&mut Reader<'a>) -> Result<(), CodecError>,
) -> Result<Vec<(u8, &'a [u8])>, CodecError> {
    let mut out = Vec::new();
    let mut r = Reader { b, at: 0 };
    while r.at < b.len() {
        let prefix = b[r.at];
        let start = r.at + 1;
        r.at = start;
        r.version()?;
        for _ in 0..r.count()? {
            entry(&mut r)?;
        }
        out.push((prefix, &b[start..r.at]));
    }
    Ok(out)
}

/// The days of a store-month's packed categories: (day of the month, the
/// day's packed categories), from either form [`join_category_days`] reads.
pub fn category_sections(b: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, CodecError> {
    if b.first() != Some(&NAMED_ONCE) {
        let days = sections(b, |r| r.category().map(drop))?;
        return Ok(days.into_iter().map(|(day, packed)| (day, packed.to_vec())).collect());
    }
    let mut r = Reader { b, at: 1 };
    if r.b.get(r.at) != Some(&NAMED_ONCE_VERSION) {
        return Err(CodecError);
    }
    r.at += 1;
    let names: Vec<&str> = (0..r.count()?).map(|_| r.str()).collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    while r.at < b.len() {
        let day = b[r.at];
        r.at += 1;
        let n = r.count()?;
        let mut cats = Vec::with_capacity(n);
        for _ in 0..n {
            let name = *usize::try_from(r.u()?).ok().and_then(|i| names.get(i)).ok_or(CodecError)?;
            cats.push((name, r.category_totals()?));
        }
        out.push((day, pack_categories(&cats)));
    }
    Ok(out)
}

/// The first byte of a store-month's categories with each name written
/// once: no day is numbered 0, so the form of [`join_sections`] never
/// starts with it.
const NAMED_ONCE: u8 = 0;
const NAMED_ONCE_VERSION: u8 = 2;

/// A store-month's categories from its days' packed categories (each
/// behind its day of the month), every name written once: a byte `0`, a
/// version byte (2), the names (count, then each its length and bytes), then
/// per day its day of the month, its entry count and per entry the name's
/// number and the figures. A pharmacy's dozen categories spelled out in
/// every day were half of the bytes a 10 M-line import wrote (writing none
/// of them made it 0.13 s quicker); [`category_sections`] reads this form
/// and the one before.
///
/// The same reading sums the month: `totals` is the month's categories
/// packed as a day's are, sorted by name.
pub fn join_category_days<'a>(days: impl IntoIterator<Item = (u8, &'a [u8])>) -> Result<JoinedCategories, CodecError> {
    let mut month = MonthCategories::default();
    let mut body = Vec::new();
    for (day, packed) in days {
        body.push(day);
        month.read_day(packed, Some(&mut body))?;
    }
    let mut joined = Vec::with_capacity(body.len() + 2 + month.names.len() * 16);
    joined.extend([NAMED_ONCE, NAMED_ONCE_VERSION]);
    put_u(&mut joined, month.names.len() as u64);
    for name in &month.names {
        put_str(&mut joined, name);
    }
    joined.extend_from_slice(&body);
    Ok(JoinedCategories { joined, totals: month.packed_totals() })
}

/// What [`join_category_days`] makes of a store-month's days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedCategories {
    /// The days' categories, each name written once.
    pub joined: Vec<u8>,
    /// The month's categories summed, packed as a day's are.
    pub totals: Vec<u8>,
}

/// Days' packed categories summed into one, packed as a day's are.
pub fn sum_categories<'a>(days: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, CodecError> {
    let mut month = MonthCategories::default();
    for packed in days {
        month.read_day(packed, None)?;
    }
    Ok(month.packed_totals())
}

/// The categories of a store-month's days as they are read: each name
/// numbered once, in the order first seen, and its figures summed.
#[derive(Default)]
struct MonthCategories<'a> {
    names: Vec<&'a str>,
    totals: Vec<CategoryTotals>,
}

impl<'a> MonthCategories<'a> {
    /// Reads a day's packed categories and, into `out`, writes them as the
    /// joined form does: the entry count, then per entry the name's number
    /// and the figures' bytes as they were. A name is checked as UTF-8 once,
    /// when first seen, and looked up first where the day's entry before it
    /// points: a day lists its categories sorted by name, mostly the same as
    /// the month's first days, which numbered them.
    fn read_day(&mut self, packed: &'a [u8], mut out: Option<&mut Vec<u8>>) -> Result<(), CodecError> {
        let mut r = Reader::new(packed)?;
        let n = r.count()?;
        if let Some(out) = out.as_deref_mut() {
            put_u(out, n as u64);
        }
        let mut next = 0;
        for _ in 0..n {
            let name = r.bytes()?;
            let at = r.at;
            let t = r.category_totals()?;
            let number = match self.names.get(next) {
                Some(x) if x.as_bytes() == name => next,
                _ => match self.names.iter().position(|x| x.as_bytes() == name) {
                    Some(k) => k,
                    None => {
                        self.names.push(std::str::from_utf8(name).map_err(|_| CodecError)?);
                        self.totals.push(CategoryTotals::default());
                        self.names.len() - 1
                    }
                },
            };
            self.totals[number] += t;
            if let Some(out) = out.as_deref_mut() {
                put_u(out, number as u64);
                out.extend_from_slice(&packed[at..r.at]);
            }
            next = number + 1;
        }
        r.done()
    }

    fn packed_totals(&self) -> Vec<u8> {
        let mut cats: Vec<(&str, CategoryTotals)> =
            self.names.iter().copied().zip(self.totals.iter().copied()).collect();
        cats.sort_unstable_by(|a, b| a.0.cmp(b.0));
        pack_categories(&cats)
    }
}

/// The days of a store-month's packed members: (day of the month, the day's
/// packed members).
pub fn member_sections(b: &[u8]) -> Result<Vec<(u8, &[u8])>, CodecError> {
    sections(b, |r| r.member_bytes().map(drop))
}

/// Lays days' packed values end to end, each behind its day of the month:
/// the form [`category_sections`] and [`member_sections`] read, and
/// [`for_each_member_prefixed`] walks with
/// a prefix of one byte.
pub fn join_sections<'a>(days: impl IntoIterator<Item = (u8, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (day, packed) in days {
        out.push(day);
        out.extend_from_slice(packed);
    }
    out
}

/// One day of a store-month as stored: its figures, where they came from,
/// and the import batch that wrote it. A store-month's days are packed into
/// one value ([`pack_days`]): a month is one row to write instead of thirty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedDay {
    /// The day of the month, 1 to 31.
    pub day: u8,
    pub revenue: i64,
    pub cost: i64,
    pub tickets: i64,
    pub qty: Option<i64>,
    pub member_revenue: Option<i64>,
    pub member_tickets: Option<i64>,
    pub returns: Option<i64>,
    pub lines: Option<i64>,
    pub source: DaySource,
    pub batch: i64,
}

const HAS_QTY: u8 = 1;
const HAS_MEMBER_REVENUE: u8 = 2;
const HAS_MEMBER_TICKETS: u8 = 4;
const HAS_RETURNS: u8 = 8;
const HAS_LINES: u8 = 16;
const SUMMARY: u8 = 32;

/// Packs a store-month's days, which must be in day order, one per day.
/// Layout: the version byte, then per day its day of the month, a byte of
/// flags (which optional figures follow, and whether it is a summary), the
/// revenue, cost and tickets, the optional figures present, and the batch.
pub fn pack_days(days: &[PackedDay]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + days.len() * 24);
    out.push(VERSION);
    for d in days {
        let opts = [d.qty, d.member_revenue, d.member_tickets, d.returns, d.lines];
        let mut flags = if d.source == DaySource::Summary { SUMMARY } else { 0 };
        for (bit, v) in [HAS_QTY, HAS_MEMBER_REVENUE, HAS_MEMBER_TICKETS, HAS_RETURNS, HAS_LINES].iter().zip(opts) {
            if v.is_some() {
                flags |= bit;
            }
        }
        out.extend([d.day, flags]);
        put_i(&mut out, d.revenue);
        put_i(&mut out, d.cost);
        put_i(&mut out, d.tickets);
        for v in opts.into_iter().flatten() {
            put_i(&mut out, v);
        }
        put_i(&mut out, d.batch);
    }
    out
}

/// Calls `f` for each day of a packed store-month, in day order.
pub fn for_each_day(b: &[u8], mut f: impl FnMut(PackedDay)) -> Result<(), CodecError> {
    let mut r = Reader::new(b)?;
    let mut last = 0u8;
    while r.at < b.len() {
        let (&day, &flags) = (r.b.get(r.at).ok_or(CodecError)?, r.b.get(r.at + 1).ok_or(CodecError)?);
        r.at += 2;
        if day <= last || day > 31 || flags >= SUMMARY << 1 {
            return Err(CodecError);
        }
        last = day;
        let (revenue, cost, tickets) = (r.i()?, r.i()?, r.i()?);
        let mut opt = |bit: u8| if flags & bit != 0 { r.i().map(Some) } else { Ok(None) };
        let (qty, member_revenue, member_tickets) = (opt(HAS_QTY)?, opt(HAS_MEMBER_REVENUE)?, opt(HAS_MEMBER_TICKETS)?);
        let (returns, lines) = (opt(HAS_RETURNS)?, opt(HAS_LINES)?);
        let source = if flags & SUMMARY != 0 { DaySource::Summary } else { DaySource::Lines };
        let batch = r.i()?;
        f(PackedDay {
            day,
            revenue,
            cost,
            tickets,
            qty,
            member_revenue,
            member_tickets,
            returns,
            lines,
            source,
            batch,
        });
    }
    Ok(())
}

/// The days of a packed store-month, in day order.
pub fn unpack_days(b: &[u8]) -> Result<Vec<PackedDay>, CodecError> {
    let mut out = Vec::with_capacity(31);
    for_each_day(b, |d| out.push(d))?;
    Ok(out)
}

/// Packs scored RFM rows, which must be in member code order (the kept R5
/// of `crates/db/src/reports/rfm.rs`): the row count, then per row the length
/// of the code it shares with the row before, the rest of its code (length
/// and bytes), recency, frequency, monetary, and its scores as one number,
/// 25·(r − 1) + 5·(f − 1) + (m − 1).
pub fn pack_rfm_rows(rows: &[RfmRow]) -> Vec<u8> {
    let mut out = vec![VERSION];
    put_u(&mut out, rows.len() as u64);
    let mut before: &[u8] = &[];
    for r in rows {
        let code = r.member.as_bytes();
        let shared = code.iter().zip(before).take_while(|(a, b)| a == b).count();
        put_u(&mut out, shared as u64);
        put_u(&mut out, (code.len() - shared) as u64);
        out.extend_from_slice(&code[shared..]);
        put_i(&mut out, r.recency_days);
        put_i(&mut out, r.frequency);
        put_i(&mut out, r.monetary);
        put_u(&mut out, ((r.r_score - 1) * 25 + (r.f_score - 1) * 5 + (r.m_score - 1)) as u64);
        before = code;
    }
    out
}

/// The rows [`pack_rfm_rows`] packed, each with its segment.
pub fn unpack_rfm_rows(b: &[u8]) -> Result<Vec<RfmRow>, CodecError> {
    let mut out = Vec::new();
    walk_rfm_rows(b, |member, recency_days, frequency, monetary, scores| {
        out.push(RfmRow::new(member.to_string(), recency_days, frequency, monetary, scores));
        ControlFlow::Continue(())
    })?;
    Ok(out)
}

/// Hands `f` each row [`pack_rfm_rows`] packed (code, recency, frequency,
/// monetary, scores) until it breaks; returns how many rows the bytes hold,
/// all of them checked when `f` never breaks.
pub fn walk_rfm_rows(
    b: &[u8],
    mut f: impl FnMut(&str, i64, i64, i64, [i64; 3]) -> ControlFlow<()>,
) -> Result<usize, CodecError> {
    let mut r = Reader::new(b)?;
    let n = r.count()?;
    let mut code: Vec<u8> = Vec::new();
    for _ in 0..n {
        let shared = usize::try_from(r.u()?).map_err(|_| CodecError)?;
        if shared > code.len() {
            return Err(CodecError);
        }
        code.truncate(shared);
        code.extend_from_slice(r.bytes()?);
        let member = std::str::from_utf8(&code).map_err(|_| CodecError)?;
        let (recency_days, frequency, monetary) = (r.i()?, r.i()?, r.i()?);
        let scores = r.u()?;
        if scores >= 125 {
            return Err(CodecError);
        }
        let scores = [1 + scores as i64 / 25, 1 + scores as i64 / 5 % 5, 1 + scores as i64 % 5];
        if f(member, recency_days, frequency, monetary, scores).is_break() {
            return Ok(n);
        }
    }
    r.done()?;
    Ok(n)
}

/// Packs the eight segments' members and spend.
pub fn pack_segment_sums(sums: &SegmentSums) -> Vec<u8> {
    let mut out = vec![VERSION];
    for &(members, monetary) in sums {
        put_i(&mut out, members);
        put_i(&mut out, monetary);
    }
    out
}

pub fn unpack_segment_sums(b: &[u8]) -> Result<SegmentSums, CodecError> {
    let mut r = Reader::new(b)?;
    let mut sums = [(0, 0); 8];
    for s in &mut sums {
        *s = (r.i()?, r.i()?);
    }
    r.done()?;
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn categories_round_trip(mut v in proptest::collection::vec(("[a-z处方药]{1,6}", any::<i64>(), any::<i64>(), any::<i64>(), any::<i64>()), 0..20)) {
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v.dedup_by(|a, b| a.0 == b.0);
            let cats: Vec<(&str, CategoryTotals)> = v.iter().map(|(n, r, c, q, l)| (n.as_str(), CategoryTotals { revenue: *r, cost: *c, qty: *q, lines: *l })).collect();
            let packed = pack_categories(&cats);
            prop_assert_eq!(unpack_categories(&packed).unwrap(), cats);
        }

        #[test]
        fn members_round_trip(v in proptest::collection::btree_map("M[0-9]{1,9}", (any::<i64>(), any::<i64>()), 0..50)) {
            let ms: Vec<(&str, MemberDay)> = v.iter().map(|(k, (t, n))| (k.as_str(), MemberDay { tickets: *t, net: *n })).collect();
            let packed = pack_members(&ms);
            prop_assert_eq!(unpack_members(&packed).unwrap(), ms);
        }

        #[test]
        fn rfm_rows_round_trip(
            v in proptest::collection::btree_map("(M0{0,3}[0-9]{1,4}|会员[0-9]{0,3}|110101199001011234X)", (0i64..365, 1i64..400, any::<i64>(), 1i64..=5, 1i64..=5, 1i64..=5), 0..60)
        ) {
            let rows: Vec<RfmRow> = v
                .into_iter()
                .map(|(member, (recency, frequency, monetary, r, f, m))| RfmRow::new(member, recency, frequency, monetary, [r, f, m]))
                .collect();
            let packed = pack_rfm_rows(&rows);
            prop_assert_eq!(unpack_rfm_rows(&packed).unwrap(), rows);
        }

        #[test]
        fn segment_sums_round_trip(sums in proptest::array::uniform8((any::<i64>(), any::<i64>()))) {
            prop_assert_eq!(unpack_segment_sums(&pack_segment_sums(&sums)).unwrap(), sums);
        }

        #[test]
        fn damaged_bytes_are_an_error_never_a_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = unpack_members(&b);
            let _ = unpack_categories(&b);
            let _ = unpack_rfm_rows(&b);
            let _ = unpack_segment_sums(&b);
        }
    }

    fn arb_day() -> impl Strategy<Value = PackedDay> {
        let opt = || proptest::option::of(any::<i64>());
        ((any::<i64>(), any::<i64>(), any::<i64>(), any::<bool>(), any::<i64>()), (opt(), opt(), opt(), opt(), opt()))
            .prop_map(
                |((revenue, cost, tickets, summary, batch), (qty, member_revenue, member_tickets, returns, lines))| {
                    PackedDay {
                        day: 1,
                        revenue,
                        cost,
                        tickets,
                        qty,
                        member_revenue,
                        member_tickets,
                        returns,
                        lines,
                        source: if summary { DaySource::Summary } else { DaySource::Lines },
                        batch,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn days_round_trip(days in proptest::collection::btree_map(1u8..=31, arb_day(), 0..31)) {
            let days: Vec<PackedDay> = days.into_iter().map(|(day, d)| PackedDay { day, ..d }).collect();
            prop_assert_eq!(unpack_days(&pack_days(&days)).unwrap(), days);
        }

        #[test]
        fn damaged_days_are_an_error_never_a_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = unpack_days(&b);
        }
    }

    #[test]
    fn a_months_sections_split_back_into_its_days() {
        let c1 = pack_categories(&[("母婴", CategoryTotals { revenue: 1, cost: 2, qty: 3, lines: 4 })]);
        let c9 = pack_categories(&[]);
        let month = join_sections([(1, c1.as_slice()), (9, c9.as_slice())]);
        assert_eq!(category_sections(&month).unwrap(), vec![(1, c1.clone()), (9, c9.clone())]);
        let mut seen = Vec::new();
        for_each_prefixed(&month, 1, Reader::category, |d, n, t| seen.push((d[0], n, t.qty))).unwrap();
        assert_eq!(seen, vec![(1, "母婴", 3)]);
        let m = pack_members(&[("M1", MemberDay { tickets: 2, net: 300 })]);
        let members = join_sections([(30, m.as_slice())]);
        assert_eq!(member_sections(&members).unwrap(), vec![(30, m.as_slice())]);
        assert_eq!(member_sections(&members[..members.len() - 1]), Err(CodecError));
        assert_eq!(category_sections(&[]).unwrap(), vec![]);
    }

    #[test]
    fn a_months_categories_named_once_read_back_as_its_days() {
        let t = |n: i64| CategoryTotals { revenue: n * 100, cost: -n, qty: n, lines: 1 };
        let d1 = pack_categories(&[("中成药", t(1)), ("母婴", t(2))]);
        let d2 = pack_categories(&[]);
        let d3 = pack_categories(&[("保健品", t(3)), ("母婴", t(-4))]);
        let days = [(1, d1.as_slice()), (2, d2.as_slice()), (31, d3.as_slice())];
        let JoinedCategories { joined: month, totals } = join_category_days(days).unwrap();
        assert_eq!(month[0], NAMED_ONCE);
        // The month summed in the same reading, sorted by name.
        let sum = pack_categories(&[
            ("中成药", t(1)),
            ("保健品", t(3)),
            ("母婴", CategoryTotals { revenue: -200, cost: 2, qty: -2, lines: 2 }),
        ]);
        assert_eq!(totals, sum);
        assert_eq!(sum_categories(days.iter().map(|d| d.1)).unwrap(), sum);
        assert_eq!(sum_categories([]).unwrap(), pack_categories(&[]));
        assert_eq!(month.windows("母婴".len()).filter(|w| *w == "母婴".as_bytes()).count(), 1, "each name once");
        let back = category_sections(&month).unwrap();
        assert_eq!(back, days.iter().map(|&(d, p)| (d, p.to_vec())).collect::<Vec<_>>());
        assert!(join_sections(days).len() > month.len());
        // A day's pack that cannot be read, a name's number beyond the names,
        // a cut value: refused, never a panic.
        assert_eq!(join_category_days([(1, &d1[..d1.len() - 1])]), Err(CodecError));
        assert_eq!(sum_categories([&d1[..d1.len() - 1]]), Err(CodecError));
        let not_utf8 = [VERSION, 1, 1, 0xff, 0, 0, 0, 0];
        assert_eq!(join_category_days([(1, not_utf8.as_slice())]), Err(CodecError));
        // One name, "a"; day 1 has one entry naming the sixth.
        let beyond = [NAMED_ONCE, NAMED_ONCE_VERSION, 1, 1, b'a', 1, 1, 5, 0, 0, 0, 0];
        assert_eq!(category_sections(&beyond), Err(CodecError));
        let within = [NAMED_ONCE, NAMED_ONCE_VERSION, 1, 1, b'a', 1, 1, 0, 0, 0, 0, 0];
        assert_eq!(category_sections(&within).unwrap()[0].1, pack_categories(&[("a", CategoryTotals::default())]));
        assert_eq!(category_sections(&month[..month.len() - 1]), Err(CodecError));
    }

    proptest! {
        #[test]
        fn damaged_month_categories_are_an_error_never_a_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut named = vec![NAMED_ONCE, NAMED_ONCE_VERSION];
            named.extend_from_slice(&b);
            let _ = category_sections(&named);
            let _ = category_sections(&b);
        }
    }

    #[test]
    fn days_out_of_order_or_beyond_the_month_are_damage() {
        let day = |day| PackedDay {
            day,
            revenue: 100,
            cost: 60,
            tickets: 2,
            qty: Some(3),
            member_revenue: None,
            member_tickets: None,
            returns: Some(0),
            lines: Some(4),
            source: DaySource::Lines,
            batch: 7,
        };
        let good = pack_days(&[day(1), day(31)]);
        assert_eq!(unpack_days(&good).unwrap(), vec![day(1), day(31)]);
        // Day, flags, five figures and the batch: ten bytes a day here.
        assert_eq!(good.len(), 1 + 2 * 10);
        assert_eq!(unpack_days(&pack_days(&[day(2), day(2)])), Err(CodecError));
        assert_eq!(unpack_days(&pack_days(&[day(5), day(3)])), Err(CodecError));
        assert_eq!(unpack_days(&pack_days(&[day(32)])), Err(CodecError));
        assert_eq!(unpack_days(&pack_days(&[day(0)])), Err(CodecError));
        assert_eq!(unpack_days(&good[..good.len() - 1]), Err(CodecError));
        assert_eq!(unpack_days(&[1]), Ok(vec![]));
    }

    #[test]
    fn values_laid_end_to_end_read_as_one() {
        let a = pack_categories(&[("母婴", CategoryTotals { revenue: 1, cost: 2, qty: 3, lines: 4 })]);
        let b = pack_categories(&[
            ("处方药", CategoryTotals { revenue: -5, cost: 0, qty: 0, lines: 1 }),
            ("母婴", CategoryTotals::default()),
        ]);
        let both = [a.clone(), b].concat();
        let mut seen = Vec::new();
        for_each_prefixed(&both, 0, Reader::category, |_, n, t| seen.push((n, t.revenue))).unwrap();
        assert_eq!(seen, vec![("母婴", 1), ("处方药", -5), ("母婴", 0)]);
        let damaged = [a.as_slice(), &[1]].concat();
        assert_eq!(for_each_prefixed(&damaged, 0, Reader::category, |_, _, _| ()), Err(CodecError));
        let monthly = [b"202610".as_slice(), &a].concat();
        let mut months = Vec::new();
        for_each_prefixed(&monthly, 6, Reader::category, |m, n, t| months.push((m, n, t.qty))).unwrap();
        assert_eq!(months, vec![(b"202610".as_slice(), "母婴", 3)]);
        let m = pack_members(&[("M1", MemberDay { tickets: 2, net: 300 })]);
        let dated = [b"2026-10-30".as_slice(), &m, b"2026-10-31", &m].concat();
        let mut days = Vec::new();
        for_each_member_prefixed(&dated, 10, |d, c, x| days.push((d, c, x.net))).unwrap();
        assert_eq!(
            days,
            vec![(b"2026-10-30".as_slice(), b"M1".as_slice(), 300), (b"2026-10-31".as_slice(), b"M1".as_slice(), 300)]
        );
        let cut = &dated[..dated.len() - 1];
        assert_eq!(for_each_member_prefixed(cut, 10, |_, _, _| ()), Err(CodecError));
    }

    #[test]
    fn a_typical_store_day_packs_small() {
        let ms: Vec<(String, MemberDay)> =
            (0..40).map(|i| (format!("M{:07}", i * 37), MemberDay { tickets: 1, net: 12_345 })).collect();
        let refs: Vec<(&str, MemberDay)> = ms.iter().map(|(c, m)| (c.as_str(), *m)).collect();
        assert!(pack_members(&refs).len() < 40 * 14);
        assert_eq!(unpack_members(&[2, 0]), Err(CodecError));
        assert_eq!(unpack_members(&[1, 1]), Err(CodecError));
    }
}
