//! XLSX sheets read cell by cell (memory does not grow with the sheet beyond
//! its shared strings), behind guards against zip bombs and absurd sheets.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{DataRef, Reader, Xlsx, XlsxCellReader};

use crate::IngestError;
use crate::source::Chunk;

/// Excel's own limits; a sheet that claims more is not a real export.
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLS: u32 = 16_384;
const MAX_ENTRIES: usize = 10_000;
const MAX_ENTRY_BYTES: u64 = 2 << 30;
const MAX_TOTAL_BYTES: u64 = 4 << 30;
/// Sheet XML compresses well, but not this well.
const MAX_RATIO: u64 = 250;
const ROWS_PER_CHUNK: usize = 20_000;

/// Refuses archives whose declared sizes or ratios are those of a zip bomb.
fn check_archive(path: &Path, name: &str) -> Result<(), IngestError> {
    let f = File::open(path).map_err(|e| IngestError::io(name, e))?;
    let mut zip =
        zip::ZipArchive::new(f).map_err(|e| IngestError::file(name, format!("not a readable XLSX file: {e}")))?;
    if zip.len() > MAX_ENTRIES {
        return Err(IngestError::file(name, format!("the XLSX archive has {} entries; refused", zip.len())));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let e = zip.by_index_raw(i).map_err(|e| IngestError::file(name, format!("not a readable XLSX file: {e}")))?;
        let (size, packed) = (e.size(), e.compressed_size().max(1));
        total += size;
        if size > MAX_ENTRY_BYTES || total > MAX_TOTAL_BYTES || (size > (1 << 20) && size / packed > MAX_RATIO) {
            return Err(IngestError::file(
                name,
                format!(
                    "the XLSX entry {} unpacks to {size} bytes from {packed}: refused as a possible zip bomb",
                    e.name().unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// A cell as text: numbers in their shortest exact decimal form (so that
/// `12.3` stays `12.3` and a float artefact shows as what it is), dates as
/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`.
fn cell_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => format!("{f}"),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(dt) => match dt.as_datetime() {
            Some(t) => {
                // Excel stores times as fractions of a day: round to the second.
                let secs = t.and_utc().timestamp_millis();
                let t = chrono::DateTime::from_timestamp((secs + 500).div_euclid(1000), 0)
                    .map(|d| d.naive_utc())
                    .unwrap_or(t);
                if t.time() == chrono::NaiveTime::MIN {
                    t.format("%Y-%m-%d").to_string()
                } else {
                    t.format("%Y-%m-%d %H:%M:%S").to_string()
                }
            }
            None => dt.as_f64().to_string(),
        },
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

/// Cells gathered into rows.
struct Rows<'a> {
    name: &'a str,
    reader: XlsxCellReader<'a, BufReader<File>>,
    pending: Option<(u32, Vec<String>)>,
    done: bool,
    rows_done: u64,
}

impl Rows<'_> {
    /// The next non-empty row: (0-based sheet row, cells as text).
    fn next_row(&mut self) -> Result<Option<(u32, Vec<String>)>, IngestError> {
        loop {
            if self.done {
                return Ok(self.pending.take());
            }
            let cell =
                self.reader.next_cell().map_err(|e| IngestError::file(self.name, format!("XLSX read error: {e}")))?;
            let Some(cell) = cell else {
                self.done = true;
                continue;
            };
            let (r, c) = cell.get_position();
            if r >= MAX_ROWS || c >= MAX_COLS {
                return Err(IngestError::file(
                    self.name,
                    format!("a cell at row {} column {} lies beyond Excel's limits", r + 1, c + 1),
                ));
            }
            let text = cell_text(cell.get_value());
            let finished = match &self.pending {
                Some((pr, _)) if *pr == r => None,
                _ => self.pending.replace((r, Vec::new())),
            };
            let (_, row) = self.pending.as_mut().expect("pending row was just set");
            if !text.is_empty() {
                if row.len() <= c as usize {
                    row.resize(c as usize + 1, String::new());
                }
                row[c as usize] = text;
            }
            if let Some(done) = finished.filter(|(_, cells)| !cells.is_empty()) {
                self.rows_done += 1;
                return Ok(Some(done));
            }
        }
    }
}

/// Reads the first sheet of a workbook: hands its header to `plan`, which
/// answers the key column (see [`crate::source`]), then hands over chunks of
/// rows with the position (rows done, rows in the sheet).
pub fn read_xlsx(
    path: &Path,
    plan: impl FnOnce(&[String]) -> Result<Option<usize>, IngestError>,
    mut each: impl FnMut(Chunk, (u64, u64)) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let name = path.display().to_string();
    check_archive(path, &name)?;
    let bad = |e: calamine::XlsxError| IngestError::file(&name, format!("not a readable XLSX file: {e}"));
    let f = File::open(path).map_err(|e| IngestError::io(&name, e))?;
    let mut book: Xlsx<BufReader<File>> = Xlsx::new(BufReader::new(f)).map_err(bad)?;
    let sheet =
        book.sheet_names().first().cloned().ok_or_else(|| IngestError::file(&name, "the workbook has no sheet"))?;
    let reader = book.worksheet_cells_reader(&sheet).map_err(bad)?;
    let dims = reader.dimensions();
    let (rows, cols) = (dims.end.0.saturating_sub(dims.start.0) + 1, dims.end.1.saturating_sub(dims.start.1) + 1);
    if dims.end.0 >= MAX_ROWS || dims.end.1 >= MAX_COLS {
        return Err(IngestError::file(
            &name,
            format!("the sheet claims {rows} rows × {cols} columns, beyond Excel's limits: refused"),
        ));
    }
    let mut src = Rows { name: &name, reader, pending: None, done: false, rows_done: 0 };
    let header: Vec<String> = match src.next_row()? {
        Some((_, h)) => h.into_iter().map(|s| s.trim().to_string()).collect(),
        None => return Err(IngestError::file(&name, "the sheet is empty / 工作表为空")),
    };
    let key_col = plan(&header)?;
    let mut index = 0;
    let mut chunk: Vec<(u64, Vec<String>)> = Vec::new();
    while let Some((r, cells)) = src.next_row()? {
        if chunk.len() >= ROWS_PER_CHUNK {
            let same_key = match key_col {
                Some(k) => chunk.last().map(|(_, l)| l.get(k) == cells.get(k)).unwrap_or(false),
                None => false,
            };
            if !same_key {
                each(Chunk::rows(index, std::mem::take(&mut chunk)), (src.rows_done, u64::from(rows)))?;
                index += 1;
            }
        }
        chunk.push((u64::from(r) + 1, cells));
    }
    if !chunk.is_empty() {
        each(Chunk::rows(index, chunk), (src.rows_done, u64::from(rows)))?;
    }
    Ok(())
}
