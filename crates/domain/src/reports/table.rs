//! One shape for every report's output: named columns (Chinese and English
//! headings) and rows of typed cells. The terminal table, CSV, JSON and XLSX
//! are all drawn from it, so the numbers cannot differ between them.

use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::i18n::Lang;
use crate::money::hundredths;

/// What a column holds; decides formatting and alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Date,
    Int,
    /// Fen shown as yuan with two decimals.
    Money,
    /// Hundredths of a percent shown with two decimals.
    Pct,
    /// A percentage change (同比, 环比): as `Pct`, shown red when negative.
    Growth,
    /// Attainment of a target (达成率): as `Pct`, shown red below 100 %.
    Attainment,
    /// Hundredths shown with two decimals (AOV in yuan, items per ticket …).
    Fixed2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The CSV and JSON name (`bench/REPORTS.md` §8).
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub kind: Kind,
}

pub const fn col(key: &'static str, zh: &'static str, en: &'static str, kind: Kind) -> Column {
    Column { key, zh, en, kind }
}

impl Column {
    pub fn heading(&self, lang: Lang) -> &'static str {
        lang.pick(self.zh, self.en)
    }

    /// Whether a value of this column is shown in red: a fall, or a target missed.
    pub fn alarming(&self, value: f64) -> bool {
        match self.kind {
            Kind::Growth => value < 0.0,
            Kind::Attainment => value < 100.0,
            _ => false,
        }
    }
}

/// A value; `Null` prints as an empty field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// Text known when the program is built (a segment's name, a score
    /// code): no string of its own per row of a long table.
    Label(&'static str),
    Date(NaiveDate),
    Int(i64),
    /// Hundredths (fen for money).
    Fixed2(i64),
    Null,
}

impl Cell {
    pub fn opt2(v: Option<i64>) -> Cell {
        v.map_or(Cell::Null, Cell::Fixed2)
    }

    /// The text of the cell as CSV and the terminal show it.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Label(s) => s.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Int(n) => n.to_string(),
            Cell::Fixed2(n) => hundredths(*n),
            Cell::Null => String::new(),
        }
    }

    /// The number behind the cell, if any (for spreadsheets and charts).
    /// The text of a text cell.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            Cell::Label(s) => Some(s),
            _ => None,
        }
    }

    pub fn number(&self) -> Option<f64> {
        match self {
            Cell::Int(n) => Some(*n as f64),
            Cell::Fixed2(n) => Some(*n as f64 / 100.0),
            _ => None,
        }
    }
}

/// Rows whose cells are made as they are read, from a compact form kept
/// instead: a list of a million members is some 9 MB packed and 300 MB as
/// nine cells a row.
pub trait RowSource: Send + Sync {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands `f` the cells of each row in `range` (within `0..len()`), in order.
    fn each(&self, range: Range<usize>, f: &mut dyn FnMut(&[Cell]));

    /// Hands `f` the row at each of `places` (within `0..len()`) with its
    /// position in `places`, in any order: a source that unpacks rows in
    /// runs reads each run once for all the rows in it.
    fn pick(&self, places: &[u32], f: &mut dyn FnMut(usize, &[Cell])) {
        for (i, &p) in places.iter().enumerate() {
            self.each(p as usize..p as usize + 1, &mut |r| f(i, r));
        }
    }
}

/// The rows of a source at some of its places, in an order of their own (a
/// sort, a segment): four bytes a row instead of its cells.
struct Picked {
    base: Arc<dyn RowSource>,
    places: Vec<u32>,
}

/// How many rows a [`Picked`] gathers at a time to hand them on in order.
const PICKED_AT_ONCE: usize = 1 << 16;

impl RowSource for Picked {
    fn len(&self) -> usize {
        self.places.len()
    }

    fn each(&self, range: Range<usize>, f: &mut dyn FnMut(&[Cell])) {
        let mut at = range.start;
        while at < range.end {
            let to = (at + PICKED_AT_ONCE).min(range.end);
            let mut rows: Vec<Vec<Cell>> = vec![Vec::new(); to - at];
            self.base.pick(&self.places[at..to], &mut |i, r| rows[i] = r.to_vec());
            rows.iter().for_each(|r| f(r));
            at = to;
        }
    }

    fn pick(&self, places: &[u32], f: &mut dyn FnMut(usize, &[Cell])) {
        let mapped: Vec<u32> = places.iter().map(|&p| self.places[p as usize]).collect();
        self.base.pick(&mapped, f);
    }
}

/// A cell as a sort of the desk compares it: numbers by value before
/// blanks, blanks and text by their bytes.
enum SortKey {
    Number(f64),
    Text(String),
}

/// Keys of numbers and blanks as integers in the order they sort in, each
/// with its row, whose place breaks ties (as a stable sort keeps them);
/// `None` if a key is text.
fn numeric_keys(keys: &[SortKey], descending: bool) -> Option<Vec<(u64, u32)>> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let key = match k {
                // `f64::total_cmp`'s order as an integer's.
                SortKey::Number(n) => {
                    let bits = n.to_bits();
                    if bits >> 63 == 1 { !bits } else { bits | 1 << 63 }
                }
                SortKey::Text(t) if t.is_empty() => u64::MAX,
                SortKey::Text(_) => return None,
            };
            Some((if descending { !key } else { key }, i as u32))
        })
        .collect()
}

impl SortKey {
    fn of(cell: &Cell) -> SortKey {
        match cell.number() {
            Some(n) => SortKey::Number(n),
            None => SortKey::Text(cell.text()),
        }
    }

    fn order(&self, other: &SortKey) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (SortKey::Number(a), SortKey::Number(b)) => a.total_cmp(b),
            (SortKey::Number(_), SortKey::Text(_)) => Ordering::Less,
            (SortKey::Text(_), SortKey::Number(_)) => Ordering::Greater,
            (SortKey::Text(a), SortKey::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
        }
    }
}

/// A report's rows: cells as made, or made from a [`RowSource`] when read.
#[derive(Clone)]
pub enum Rows {
    Cells(Vec<Vec<Cell>>),
    Source(Arc<dyn RowSource>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Cells(rows) => rows.len(),
            Rows::Source(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands `f` the cells of each row in `range` (cut to the rows there are).
    pub fn each(&self, range: Range<usize>, f: &mut dyn FnMut(&[Cell])) {
        let end = range.end.min(self.len());
        let range = range.start.min(end)..end;
        match self {
            Rows::Cells(rows) => rows[range].iter().for_each(|r| f(r)),
            Rows::Source(s) => s.each(range, f),
        }
    }

    /// Hands `f` the cells of every row, in order.
    pub fn for_each(&self, mut f: impl FnMut(&[Cell])) {
        self.each(0..self.len(), &mut f);
    }

    /// `f` of each row in `range`.
    pub fn map_range<T>(&self, range: Range<usize>, mut f: impl FnMut(&[Cell]) -> T) -> Vec<T> {
        let mut out = Vec::with_capacity(range.len().min(self.len()));
        self.each(range, &mut |r| out.push(f(r)));
        out
    }

    /// `f` of every row.
    pub fn map<T>(&self, f: impl FnMut(&[Cell]) -> T) -> Vec<T> {
        self.map_range(0..self.len(), f)
    }

    /// Row `i`'s cells.
    pub fn row(&self, i: usize) -> Option<Vec<Cell>> {
        self.map_range(i..i + 1, <[Cell]>::to_vec).pop()
    }

    /// The rows that `keep` keeps: rows from a source stay there (their
    /// places are kept, not their cells).
    pub fn filtered(&self, mut keep: impl FnMut(&[Cell]) -> bool) -> Rows {
        match self {
            Rows::Cells(rows) => Rows::Cells(rows.iter().filter(|r| keep(r)).cloned().collect()),
            Rows::Source(s) => {
                let mut places = Vec::new();
                let mut at = 0u32;
                self.for_each(|r| {
                    if keep(r) {
                        places.push(at);
                    }
                    at += 1;
                });
                Rows::Source(Arc::new(Picked { base: s.clone(), places }))
            }
        }
    }

    /// The rows sorted by column `col` (numbers by value, blanks after
    /// them, text by bytes; rows that compare equal keep their order), or
    /// in the reverse order. Rows from a source stay there.
    pub fn sorted(&self, col: usize, descending: bool) -> Rows {
        let keys: Vec<SortKey> = self.map(|r| r.get(col).map_or(SortKey::Text(String::new()), SortKey::of));
        let order = match numeric_keys(&keys, descending) {
            // Numbers and blanks only: one integer a row, sorted where it lies.
            Some(mut plain) => {
                plain.sort_unstable();
                plain.into_iter().map(|(_, i)| i).collect()
            }
            None => {
                let mut order: Vec<u32> = (0..keys.len() as u32).collect();
                order.sort_by(|&a, &b| {
                    let ord = keys[a as usize].order(&keys[b as usize]);
                    if descending { ord.reverse() } else { ord }
                });
                order
            }
        };
        match self {
            Rows::Cells(rows) => Rows::Cells(order.iter().map(|&i| rows[i as usize].clone()).collect()),
            Rows::Source(s) => Rows::Source(Arc::new(Picked { base: s.clone(), places: order })),
        }
    }

    /// The rows as cells, to change in place (made first if they come
    /// from a source).
    pub fn cells_mut(&mut self) -> &mut Vec<Vec<Cell>> {
        if let Rows::Source(s) = self {
            let mut rows = Vec::with_capacity(s.len());
            s.each(0..s.len(), &mut |r| rows.push(r.to_vec()));
            *self = Rows::Cells(rows);
        }
        match self {
            Rows::Cells(rows) => rows,
            Rows::Source(_) => unreachable!("made into cells above"),
        }
    }

    pub fn to_vec(&self) -> Vec<Vec<Cell>> {
        self.map(<[Cell]>::to_vec)
    }
}

impl From<Vec<Vec<Cell>>> for Rows {
    fn from(rows: Vec<Vec<Cell>>) -> Rows {
        Rows::Cells(rows)
    }
}

impl FromIterator<Vec<Cell>> for Rows {
    fn from_iter<I: IntoIterator<Item = Vec<Cell>>>(rows: I) -> Rows {
        Rows::Cells(rows.into_iter().collect())
    }
}

impl std::fmt::Debug for Rows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rows::Cells(rows) => rows.fmt(f),
            Rows::Source(s) => write!(f, "Rows::Source({} rows)", s.len()),
        }
    }
}

/// Equal when the cells are, however they are kept.
impl PartialEq for Rows {
    fn eq(&self, other: &Rows) -> bool {
        match (self, other) {
            (Rows::Cells(a), Rows::Cells(b)) => a == b,
            _ => self.len() == other.len() && self.to_vec() == other.to_vec(),
        }
    }
}

impl Eq for Rows {}

/// A finished report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTable {
    /// File name stem, e.g. `r1_daily`.
    pub name: &'static str,
    pub title_zh: String,
    pub title_en: String,
    pub columns: Vec<Column>,
    pub rows: Rows,
    /// Total rows (by region, for the company) shown after the rows; not part
    /// of the CSV, whose rows follow `bench/REPORTS.md` exactly.
    pub totals: Vec<Vec<Cell>>,
}

/// Text made safe for a spreadsheet: text starting with `=`, `+`, `-` or `@`
/// (or a tab or carriage return) gets a leading apostrophe so that it is
/// never run as a formula. Numbers such as `-5.00` are left as they are.
pub fn neutralise(value: &str) -> String {
    if needs_neutralising(value) { format!("'{value}") } else { value.to_string() }
}

/// Whether a spreadsheet would read `value` as a formula.
fn needs_neutralising(value: &str) -> bool {
    value.starts_with(['=', '+', '-', '@', '\t', '\r']) && value.parse::<f64>().is_err()
}

fn csv_field(s: &str, out: &mut String) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

impl ReportTable {
    pub fn title(&self, lang: Lang) -> &str {
        lang.pick(&self.title_zh, &self.title_en)
    }

    /// RFC 4180 CSV with the column keys as header and LF line ends.
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(64 * (self.rows.len() + 1));
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(c.key, &mut out);
        }
        out.push('\n');
        self.rows.for_each(|row| {
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // Numbers and dates never need quotes: written in place.
                match cell {
                    Cell::Text(_) | Cell::Label(_) => {
                        let t = cell.as_str().unwrap_or_default();
                        if needs_neutralising(t) {
                            csv_field(&neutralise(t), &mut out);
                        } else {
                            csv_field(t, &mut out);
                        }
                    }
                    Cell::Int(n) => crate::money::push_int(&mut out, *n),
                    Cell::Fixed2(n) => crate::money::push_hundredths(&mut out, *n),
                    Cell::Date(d) => {
                        let _ = write!(out, "{d}");
                    }
                    Cell::Null => {}
                }
            }
            out.push('\n');
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("+86 138"), "'+86 138");
        assert_eq!(neutralise("-5.00"), "-5.00");
        assert_eq!(neutralise("--5"), "'--5");
        assert_eq!(neutralise("12.3元"), "12.3元");
    }

    #[test]
    fn a_sort_puts_numbers_by_value_then_blanks_and_text_by_bytes_and_keeps_ties_in_order() {
        let rows: Rows = vec![
            vec![Cell::Text("b".into()), Cell::Fixed2(250)],
            vec![Cell::Text("a".into()), Cell::Null],
            vec![Cell::Text("c".into()), Cell::Fixed2(-5)],
            vec![Cell::Text("d".into()), Cell::Fixed2(250)],
            vec![Cell::Text("e".into()), Cell::Int(3)],
        ]
        .into();
        let column = |r: &Rows, i: usize| r.map(|row| row[i].text());
        // 2.50 before 3: by value, whatever the cell's kind.
        assert_eq!(column(&rows.sorted(1, false), 0), ["c", "b", "d", "e", "a"]);
        assert_eq!(column(&rows.sorted(1, true), 0), ["a", "e", "b", "d", "c"]);
        assert_eq!(column(&rows.sorted(0, true), 0), ["e", "d", "c", "b", "a"]);
        assert_eq!(column(&rows.filtered(|r| r[1] != Cell::Null), 0), ["b", "c", "d", "e"]);
    }

    proptest::proptest! {
        /// Numbers and blanks sorted as integers come in the order the
        /// cells' comparison gives in a stable sort, either way round.
        #[test]
        fn numbers_sorted_as_integers_keep_the_comparisons_order(
            values in proptest::collection::vec(proptest::option::of(-300i64..300), 0..60),
            descending: bool,
        ) {
            let cells: Vec<Cell> = values
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Some(n) if i % 2 == 0 => Cell::Int(*n),
                    Some(n) => Cell::Fixed2(*n * 7),
                    None => Cell::Null,
                })
                .collect();
            let rows: Rows = cells.iter().map(|c| vec![c.clone()]).collect();
            let mut want: Vec<usize> = (0..cells.len()).collect();
            want.sort_by(|&a, &b| {
                let ord = SortKey::of(&cells[a]).order(&SortKey::of(&cells[b]));
                if descending { ord.reverse() } else { ord }
            });
            let want: Vec<Vec<Cell>> = want.into_iter().map(|i| vec![cells[i].clone()]).collect();
            proptest::prop_assert_eq!(rows.sorted(0, descending).to_vec(), want);
        }
    }

    #[test]
    fn csv_quotes_only_where_it_must_and_prints_null_as_empty() {
        let t = ReportTable {
            name: "t",
            title_zh: String::new(),
            title_en: String::new(),
            columns: vec![
                col("a", "甲", "a", Kind::Text),
                col("b", "乙", "b", Kind::Money),
                col("c", "丙", "c", Kind::Pct),
            ],
            rows: vec![
                vec![Cell::Text("x,\"y\"".into()), Cell::Fixed2(-5), Cell::Null],
                vec![Cell::Text("=1+1".into()), Cell::Fixed2(0), Cell::Fixed2(1)],
            ]
            .into(),
            totals: vec![],
        };
        assert_eq!(t.to_csv(), "a,b,c\n\"x,\"\"y\"\"\",-0.05,\n'=1+1,0.00,0.01\n");
    }
}
