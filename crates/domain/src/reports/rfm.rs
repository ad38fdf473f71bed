//! R5, member RFM scores and segments (`bench/REPORTS.md` §7): recency,
//! frequency and monetary value over the 365 days to an as-of date, scored
//! 1–5 by rank with ties sharing a score, and the 8-class segment model.

use std::ops::{ControlFlow, Range};
use std::sync::Arc;

use crate::reports::table::{Cell, Kind, ReportTable, RowSource, Rows, col};
use crate::sales::codec::{CodecError, unpack_rfm_rows, walk_rfm_rows};

/// One member's figures over the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberWindow {
    pub member: String,
    /// Days from the latest purchase ticket to the as-of date.
    pub recency_days: i64,
    /// Purchase tickets.
    pub frequency: i64,
    /// Net amount of all the member's tickets, returns included, in fen.
    pub monetary: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RfmRow {
    pub member: String,
    pub recency_days: i64,
    pub frequency: i64,
    pub monetary: i64,
    pub r_score: i64,
    pub f_score: i64,
    pub m_score: i64,
    pub segment_no: usize,
}

impl RfmRow {
    /// A member's row from her figures and scores (R, F, M), with the
    /// segment they put her in.
    pub fn new(member: String, recency_days: i64, frequency: i64, monetary: i64, [r, f, m]: [i64; 3]) -> RfmRow {
        RfmRow {
            member,
            recency_days,
            frequency,
            monetary,
            r_score: r,
            f_score: f,
            m_score: m,
            segment_no: segment_of(r, f, m),
        }
    }
}

/// The eight segments: number, name, and whether R, F and M are high (≥ 3).
pub const SEGMENTS: [(usize, &str, &str, bool, bool, bool); 8] = [
    (1, "重要价值客户", "important value", true, true, true),
    (2, "重要发展客户", "important development", true, false, true),
    (3, "重要保持客户", "important retention", false, true, true),
    (4, "重要挽留客户", "important win-back", false, false, true),
    (5, "一般价值客户", "general value", true, true, false),
    (6, "一般发展客户", "general development", true, false, false),
    (7, "一般保持客户", "general retention", false, true, false),
    (8, "一般挽留客户", "general win-back", false, false, false),
];

/// The segment (1–8) of three scores.
pub fn segment_of(r: i64, f: i64, m: i64) -> usize {
    SEGMENTS.iter().find(|s| s.3 == (r >= 3) && s.4 == (f >= 3) && s.5 == (m >= 3)).map(|s| s.0).unwrap_or(8)
}

/// Scores by rank: `rank_of[i]` is 1 + the number of members strictly
/// before member i in the order; score = 1 + ⌊5·(rank − 1) / N⌋.
fn scores<K: Ord + Copy>(keys: &[K]) -> Vec<i64> {
    let n = keys.len() as i64;
    let mut order: Vec<(K, u32)> = keys.iter().zip(0u32..).map(|(k, i)| (*k, i)).collect();
    order.sort_unstable_by_key(|e| e.0);
    let mut out = vec![0; keys.len()];
    // Walking the keys in order, the rank of a run of equal keys is where
    // the run starts.
    let mut before = 0;
    for (at, &(k, i)) in order.iter().enumerate() {
        if at > 0 && order[at - 1].0 != k {
            before = at as i64;
        }
        out[i as usize] = 1 + 5 * before / n;
    }
    out
}

/// The largest key [`small_scores`] counts instead of sorting.
const COUNTED_KEYS: i64 = 1 << 16;

/// [`scores`] of keys counted rather than sorted when they are small and
/// not negative (days since a purchase, purchase tickets): the number of
/// keys below each key is a running sum over a table of key counts, one
/// pass instead of a sort.
fn small_scores(keys: &[i64]) -> Vec<i64> {
    let (lo, hi) = (keys.iter().min().copied().unwrap_or(0), keys.iter().max().copied().unwrap_or(0));
    if lo < 0 || hi >= COUNTED_KEYS {
        return scores(keys);
    }
    let n = keys.len() as i64;
    // below[k]: how many keys are less than k.
    let mut below = vec![0i64; hi as usize + 2];
    for &k in keys {
        below[k as usize + 1] += 1;
    }
    for i in 1..below.len() {
        below[i] += below[i - 1];
    }
    keys.iter().map(|&k| 1 + 5 * below[k as usize] / n).collect()
}

/// RFM rows for members with at least one purchase ticket, ordered by member
/// id (byte order).
pub fn rfm(mut members: Vec<MemberWindow>) -> Vec<RfmRow> {
    members.retain(|m| m.frequency > 0);
    // Codes are unique: an unstable sort gives the one order, without a
    // buffer of half the members.
    members.sort_unstable_by(|a, b| a.member.as_bytes().cmp(b.member.as_bytes()));
    scored(members)
}

/// The rows of [`rfm`] in the order the members come: a score is a rank,
/// which no order changes. For the segments, which count members and sum
/// their spend: sorting 68 k members by their (empty) codes only to count
/// them took 8.7 ms of the segments' 25 at 1 M lines.
pub fn scored(mut members: Vec<MemberWindow>) -> Vec<RfmRow> {
    members.retain(|m| m.frequency > 0);
    // Recency ranks descending: more days ago, lower score. A window holds
    // 365 days, so the days counted back from the longest ago are small.
    let oldest = members.iter().map(|m| m.recency_days).max().unwrap_or(0);
    let r = small_scores(&members.iter().map(|m| oldest.saturating_sub(m.recency_days)).collect::<Vec<_>>());
    let f = small_scores(&members.iter().map(|m| m.frequency).collect::<Vec<_>>());
    let m = scores(&members.iter().map(|m| m.monetary).collect::<Vec<_>>());
    members
        .into_iter()
        .enumerate()
        .map(|(i, w)| RfmRow::new(w.member, w.recency_days, w.frequency, w.monetary, [r[i], f[i], m[i]]))
        .collect()
}

/// One segment's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRow {
    pub segment_no: usize,
    pub members: i64,
    /// Hundredths of a percent of all listed members.
    pub member_share_pct: Option<i64>,
    pub monetary: i64,
    pub monetary_share_pct: Option<i64>,
}

/// Each segment's members and their spend, in segment order.
pub type SegmentSums = [(i64, i64); 8];

/// The members and spend of each segment, in one pass over the rows.
pub fn segment_sums(rows: &[RfmRow]) -> SegmentSums {
    let mut sums = [(0, 0); 8];
    for r in rows {
        let s = &mut sums[r.segment_no - 1];
        s.0 += 1;
        s.1 += r.monetary;
    }
    sums
}

/// All eight segments in order, empty ones included, with their shares of
/// all listed members and of their spend.
pub fn segment_rows(sums: &SegmentSums) -> Vec<SegmentRow> {
    let n: i64 = sums.iter().map(|s| s.0).sum();
    let total: i64 = sums.iter().map(|s| s.1).sum();
    SEGMENTS
        .iter()
        .zip(sums)
        .map(|(s, &(members, monetary))| SegmentRow {
            segment_no: s.0,
            members,
            member_share_pct: crate::reports::daily::pct(members, n),
            monetary,
            monetary_share_pct: crate::reports::daily::pct(monetary, total),
        })
        .collect()
}

/// All eight segments in order, empty ones included.
pub fn segments(rows: &[RfmRow]) -> Vec<SegmentRow> {
    segment_rows(&segment_sums(rows))
}

/// A score (1–5) as its digit.
fn score_digit(score: i64) -> char {
    char::from_digit(u32::try_from(score).unwrap_or(0), 10).unwrap_or('?')
}

/// The 125 codes `111` … `555` end to end.
static RFM_CODES: [u8; 375] = {
    let mut out = [0u8; 375];
    let mut i = 0;
    while i < 125 {
        out[3 * i] = b'1' + (i / 25) as u8;
        out[3 * i + 1] = b'1' + (i / 5 % 5) as u8;
        out[3 * i + 2] = b'1' + (i % 5) as u8;
        i += 1;
    }
    out
};

/// The three scores as one code, e.g. `534`.
fn rfm_code(scores: [i64; 3]) -> Cell {
    if scores.iter().all(|s| (1..=5).contains(s)) {
        let i = scores.iter().fold(0, |acc, s| acc * 5 + (s - 1) as usize);
        if let Ok(code) = std::str::from_utf8(&RFM_CODES[3 * i..3 * i + 3]) {
            return Cell::Label(code);
        }
    }
    Cell::Text(scores.iter().map(|s| score_digit(*s)).collect())
}

/// Scored members in code order: rows as summed, or the packed parts of
/// the kept form ([`crate::sales::codec::pack_rfm_rows`]), whose rows are
/// unpacked only as a table reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberList {
    Rows(Vec<RfmRow>),
    Packed(PackedMembers),
}

/// The parts of a kept member list, each checked whole when read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedMembers {
    parts: Vec<Part>,
    len: usize,
}

/// A kept part and where its rows stand in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    /// The place of its first row.
    start: usize,
    rows: usize,
    bytes: Vec<u8>,
}

impl PackedMembers {
    /// The parts in order; an error if any does not unpack.
    pub fn new(parts: Vec<Vec<u8>>) -> Result<PackedMembers, CodecError> {
        let mut len = 0;
        let mut placed = Vec::with_capacity(parts.len());
        for part in parts {
            let rows = walk_rfm_rows(&part, |_, _, _, _, _| ControlFlow::Continue(()))?;
            placed.push(Part { start: len, rows, bytes: part });
            len += rows;
        }
        Ok(PackedMembers { parts: placed, len })
    }

    /// How many members the parts hold.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Hands `f` the row at each of `places` with its position there,
    /// unpacking each part they are in once.
    fn pick(&self, places: &[u32], mut f: impl FnMut(usize, &str, i64, i64, i64, [i64; 3])) {
        let mut wanted: Vec<(u32, usize)> = places.iter().enumerate().map(|(i, &p)| (p, i)).collect();
        wanted.sort_unstable();
        let mut next = wanted.iter().peekable();
        for part in &self.parts {
            if next.peek().is_none() {
                break;
            }
            let end = part.start + part.rows;
            if next.peek().is_some_and(|(p, _)| *p as usize >= end) {
                continue;
            }
            let mut at = part.start;
            // Checked when read: the bytes unpack as they did then.
            let _ = walk_rfm_rows(&part.bytes, |member, recency, frequency, monetary, scores| {
                while let Some(&&(p, i)) = next.peek() {
                    if p as usize != at {
                        break;
                    }
                    f(i, member, recency, frequency, monetary, scores);
                    next.next();
                }
                at += 1;
                match next.peek() {
                    Some((p, _)) if (*p as usize) < end => ControlFlow::Continue(()),
                    _ => ControlFlow::Break(()),
                }
            });
        }
    }

    /// Hands `f` the rows in `range`, unpacking only the parts they are in.
    fn each(&self, range: Range<usize>, mut f: impl FnMut(&str, i64, i64, i64, [i64; 3])) {
        let first_part = self.parts.partition_point(|p| p.start <= range.start).saturating_sub(1);
        for part in &self.parts[first_part..] {
            if part.start >= range.end {
                break;
            }
            let mut at = part.start;
            // Checked when read: the bytes unpack as they did then.
            let _ = walk_rfm_rows(&part.bytes, |member, recency, frequency, monetary, scores| {
                if at >= range.end {
                    return ControlFlow::Break(());
                }
                if at >= range.start {
                    f(member, recency, frequency, monetary, scores);
                }
                at += 1;
                ControlFlow::Continue(())
            });
        }
    }
}

impl MemberList {
    pub fn len(&self) -> usize {
        match self {
            MemberList::Rows(rows) => rows.len(),
            MemberList::Packed(p) => p.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members' rows, unpacked.
    pub fn into_rows(self) -> Vec<RfmRow> {
        match self {
            MemberList::Rows(rows) => rows,
            // Checked when read: every part unpacks.
            MemberList::Packed(p) => {
                p.parts.iter().flat_map(|part| unpack_rfm_rows(&part.bytes).unwrap_or_default()).collect()
            }
        }
    }
}

/// A member's row of the R5 list.
fn member_cells(out: &mut Vec<Cell>, member: &str, recency: i64, frequency: i64, monetary: i64, scores: [i64; 3]) {
    let [r, f, m] = scores;
    out.clear();
    out.extend([
        Cell::Text(member.to_string()),
        Cell::Int(recency),
        Cell::Int(frequency),
        Cell::Fixed2(monetary),
        Cell::Int(r),
        Cell::Int(f),
        Cell::Int(m),
        rfm_code(scores),
        Cell::Label(SEGMENTS[segment_of(r, f, m) - 1].1),
    ]);
}

/// The list's rows are made one at a time into one buffer as they are
/// read: at 1 M members, nine cells a row made 300 MB and took 130 ms.
impl RowSource for MemberList {
    fn len(&self) -> usize {
        MemberList::len(self)
    }

    fn each(&self, range: Range<usize>, f: &mut dyn FnMut(&[Cell])) {
        let mut cells = Vec::with_capacity(9);
        match self {
            MemberList::Rows(rows) => {
                for r in &rows[range] {
                    let scores = [r.r_score, r.f_score, r.m_score];
                    member_cells(&mut cells, &r.member, r.recency_days, r.frequency, r.monetary, scores);
                    f(&cells);
                }
            }
            MemberList::Packed(p) => p.each(range, |member, recency, frequency, monetary, scores| {
                member_cells(&mut cells, member, recency, frequency, monetary, scores);
                f(&cells);
            }),
        }
    }

    fn pick(&self, places: &[u32], f: &mut dyn FnMut(usize, &[Cell])) {
        let mut cells = Vec::with_capacity(9);
        match self {
            MemberList::Rows(rows) => {
                for (i, &p) in places.iter().enumerate() {
                    let r = &rows[p as usize];
                    let scores = [r.r_score, r.f_score, r.m_score];
                    member_cells(&mut cells, &r.member, r.recency_days, r.frequency, r.monetary, scores);
                    f(i, &cells);
                }
            }
            MemberList::Packed(p) => p.pick(places, |i, member, recency, frequency, monetary, scores| {
                member_cells(&mut cells, member, recency, frequency, monetary, scores);
                f(i, &cells);
            }),
        }
    }
}

/// R5 member list as a table.
pub fn rfm_members_table(asof: chrono::NaiveDate, members: MemberList) -> ReportTable {
    ReportTable {
        name: "r5_rfm_members",
        title_zh: format!("会员 RFM（截至 {asof}）"),
        title_en: format!("Member RFM as of {asof}"),
        columns: vec![
            col("member_id", "会员号", "member", Kind::Text),
            col("recency_days", "最近购买距今天数", "days since last purchase", Kind::Int),
            col("frequency", "购买次数", "purchases", Kind::Int),
            col("monetary", "消费金额", "spend", Kind::Money),
            col("r_score", "R", "R", Kind::Int),
            col("f_score", "F", "F", Kind::Int),
            col("m_score", "M", "M", Kind::Int),
            col("rfm", "RFM", "RFM", Kind::Text),
            col("segment", "分群", "segment", Kind::Text),
        ],
        rows: Rows::Source(Arc::new(members)),
        totals: vec![],
    }
}

/// R5 segments as a table.
pub fn rfm_segments_table(asof: chrono::NaiveDate, rows: &[SegmentRow]) -> ReportTable {
    ReportTable {
        name: "r5_rfm_segments",
        title_zh: format!("会员分群（截至 {asof}）"),
        title_en: format!("Member segments as of {asof}"),
        columns: vec![
            col("segment_no", "序号", "no.", Kind::Int),
            col("segment", "分群", "segment", Kind::Text),
            col("members", "会员数", "members", Kind::Int),
            col("member_share_pct", "会员占比%", "member share %", Kind::Pct),
            col("monetary", "消费金额", "spend", Kind::Money),
            col("monetary_share_pct", "金额占比%", "spend share %", Kind::Pct),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Int(r.segment_no as i64),
                    Cell::Text(SEGMENTS[r.segment_no - 1].1.into()),
                    Cell::Int(r.members),
                    Cell::opt2(r.member_share_pct),
                    Cell::Fixed2(r.monetary),
                    Cell::opt2(r.monetary_share_pct),
                ]
            })
            .collect(),
        totals: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_score_code_reads_as_its_three_digits() {
        for r in 1..=5 {
            for f in 1..=5 {
                for m in 1..=5 {
                    let code = rfm_code([r, f, m]);
                    assert!(matches!(code, Cell::Label(_)));
                    assert_eq!(code.text(), format!("{r}{f}{m}"));
                }
            }
        }
        assert_eq!(rfm_code([0, 3, 5]), Cell::Text("035".into()));
        assert_eq!(rfm_code([1, 12, 5]), Cell::Text("1?5".into()));
    }

    fn w(member: &str, recency_days: i64, frequency: i64, monetary: i64) -> MemberWindow {
        MemberWindow { member: member.into(), recency_days, frequency, monetary }
    }

    #[test]
    fn equal_values_get_equal_scores_and_return_only_members_are_left_out() {
        let rows = rfm(vec![
            w("M3", 0, 5, 900),
            w("M1", 300, 1, 100),
            w("M2", 10, 1, 100),
            w("M4", 5, 0, -50),
            w("M5", 100, 2, 400),
        ]);
        let got: Vec<(&str, i64, i64, i64)> =
            rows.iter().map(|r| (r.member.as_str(), r.r_score, r.f_score, r.m_score)).collect();
        assert_eq!(got, vec![("M1", 1, 1, 1), ("M2", 3, 1, 1), ("M3", 4, 4, 4), ("M5", 2, 3, 3)]);
        assert_eq!(rows[2].segment_no, 1);
        let seg = segments(&rows);
        assert_eq!(seg.len(), 8);
        assert_eq!(seg[0].members, 1);
        assert_eq!(seg[0].member_share_pct, Some(2500));
        assert_eq!(seg[0].monetary_share_pct, Some(6000));
    }

    #[test]
    fn members_scored_in_any_order_fall_into_the_same_segments() {
        let members: Vec<MemberWindow> = (0..40)
            .map(|i| w(&format!("M{:02}", (i * 7) % 40), (i * 13) % 365, (i * 5) % 9, (i * 37) % 500 - 60))
            .collect();
        let sorted = rfm(members.clone());
        let mut unsorted = scored(members);
        assert_ne!(unsorted, sorted, "the members come in another order");
        assert_eq!(segments(&unsorted), segments(&sorted));
        unsorted.sort_by(|a, b| a.member.cmp(&b.member));
        assert_eq!(unsorted, sorted);
    }

    proptest::proptest! {
        #[test]
        fn scores_follow_the_rank_definition(keys in proptest::collection::vec(-5i64..5, 1..60)) {
            let n = keys.len() as i64;
            let want: Vec<i64> =
                keys.iter().map(|k| 1 + 5 * keys.iter().filter(|x| *x < k).count() as i64 / n).collect();
            proptest::prop_assert_eq!(scores(&keys), want);
        }

        #[test]
        fn counted_scores_are_the_sorted_ones(
            keys in proptest::collection::vec(proptest::prop_oneof![0i64..20, -3i64..3, 0..COUNTED_KEYS + 2], 1..80)
        ) {
            proptest::prop_assert_eq!(small_scores(&keys), scores(&keys));
        }
    }

    /// The packed list, read by any range, gives the cells the rows give:
    /// within a part, across the seams of parts, past the end, empty.
    #[test]
    fn packed_members_read_by_any_range_are_the_rows_cells() {
        use crate::sales::codec::pack_rfm_rows;
        let members: Vec<MemberWindow> =
            (0..9).map(|i| w(&format!("M{i:02}"), (i * 41) % 365, 1 + i % 4, (i * 53) % 700 - 90)).collect();
        let rows = rfm(members);
        let parts =
            vec![pack_rfm_rows(&rows[..3]), pack_rfm_rows(&[]), pack_rfm_rows(&rows[3..5]), pack_rfm_rows(&rows[5..])];
        let packed =
            rfm_members_table(chrono::NaiveDate::MIN, MemberList::Packed(PackedMembers::new(parts.clone()).unwrap()));
        let plain = rfm_members_table(chrono::NaiveDate::MIN, MemberList::Rows(rows.clone()));
        assert_eq!(packed.rows.len(), 9);
        for a in 0..=10 {
            for b in a..=11 {
                let (got, want) =
                    (packed.rows.map_range(a..b, <[Cell]>::to_vec), plain.rows.map_range(a..b, <[Cell]>::to_vec));
                assert_eq!(got, want, "{a}..{b}");
                assert_eq!(got.len(), b.min(9) - a.min(9), "{a}..{b}");
            }
        }
        assert_eq!(packed, plain);
        // Sorted and narrowed, then sorted again, the list keeps its places
        // only, and gives the rows that the cells sorted and narrowed give.
        let cells = Rows::Cells(plain.rows.to_vec());
        for col in 0..9 {
            for descending in [false, true] {
                let want = cells.sorted(col, descending);
                assert_eq!(packed.rows.sorted(col, descending), want, "column {col}");
                assert_eq!(plain.rows.sorted(col, descending), want, "column {col}");
                let hers = |r: &[Cell]| r[4] != Cell::Int(1);
                let narrowed = want.filtered(hers);
                assert_eq!(packed.rows.filtered(hers).sorted(col, descending), narrowed, "column {col}");
                assert!(matches!(packed.rows.filtered(hers), Rows::Source(_)));
            }
        }
        assert_eq!(MemberList::Packed(PackedMembers::new(parts.clone()).unwrap()).into_rows(), rows);
        // A part that does not unpack is refused whole when read.
        let mut damaged = parts;
        let last = damaged[3].len() - 1;
        damaged[3].truncate(last);
        assert_eq!(PackedMembers::new(damaged), Err(CodecError));
    }

    #[test]
    fn the_rfm_cell_is_the_three_scores() {
        let rows = rfm(vec![w("M1", 0, 5, 900), w("M2", 300, 1, 100)]);
        let t = rfm_members_table(chrono::NaiveDate::MIN, MemberList::Rows(rows));
        assert_eq!(t.rows.to_vec()[0][7].text(), "333");
        assert_eq!(t.rows.to_vec()[1][7].text(), "111");
        assert_eq!(t.rows.to_vec()[1][8].as_str(), Some("一般挽留客户"));
    }
}
