//! Reading a file as a stream of chunks of whole records.
//!
//! A CSV file is read in blocks of a few megabytes; each chunk ends on a
//! record boundary (a newline outside quotes) and, when a key column is
//! given, where that column changes value, so that a sales ticket never spans
//! two chunks and chunks can be parsed in parallel. The encoding is decided
//! from the bytes: a UTF-8 BOM or valid UTF-8 means UTF-8; otherwise bytes
//! that decode as GB18030 (a superset of GBK) mean GB18030; anything else is
//! refused. XLSX sheets are read cell by cell through [`crate::xlsx`].

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::IngestError;

/// A chunk's size. A chunk is cut at a ticket's end, so that its store-days
/// are whole but for its first and last. 1 MB against 4 MB: the workers
/// start sooner and the chunks in flight take a quarter of the memory (a
/// 1 M-line import 0.39 → 0.35 s, peak 110 → 99 MiB; 10 M lines the same
/// time).
const BLOCK: usize = 1 << 20;
const SNIFF: usize = 1 << 20;
/// A ticket (or record) larger than this is not a POS export.
const MAX_RUN: usize = 64 << 20;

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// GB18030, which includes GBK and GB2312 (Excel's 'CSV' on Chinese Windows).
    Gb18030,
    /// Not text: an XLSX workbook.
    Xlsx,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gb18030 => "GB18030/GBK",
            Encoding::Xlsx => "XLSX",
        }
    }
}

/// A chunk of whole records.
pub struct Chunk {
    pub index: usize,
    pub data: ChunkData,
    /// Where its bytes go when it is dropped, for the reader to fill again.
    spares: Option<Spares>,
}

/// Buffers of chunks already parsed. A fresh buffer per chunk cost a page
/// fault (and the kernel's zeroing) per 4 KiB page it filled: 3 % of the
/// CPU of a large import.
type Spares = Arc<Mutex<Vec<Vec<u8>>>>;

/// How many spare buffers are kept: as many as chunks are in flight.
const MAX_SPARES: usize = 16;

impl Drop for Chunk {
    fn drop(&mut self) {
        if let (Some(spares), ChunkData::Csv { bytes, .. }) = (&self.spares, &mut self.data)
            && let Ok(mut spares) = spares.lock()
            && spares.len() < MAX_SPARES
        {
            spares.push(std::mem::take(bytes));
        }
    }
}

pub enum ChunkData {
    /// CSV bytes in the file's encoding, starting at physical line
    /// `first_line`; `None` when the reader left lines uncounted
    /// ([`Lines::Relative`]): then the chunk starts where the one before
    /// it ended, and its records are numbered as if it started at line 1.
    Csv { bytes: Vec<u8>, first_line: Option<u64>, encoding: Encoding },
    /// Rows of a sheet with their line numbers.
    Rows(Vec<(u64, Vec<String>)>),
}

/// The fields of one record.
pub enum Fields<'a> {
    Text { text: &'a str, ranges: &'a [Range<usize>] },
    Owned(&'a [String]),
}

impl Fields<'_> {
    pub fn len(&self) -> usize {
        match self {
            Fields::Text { ranges, .. } => ranges.len(),
            Fields::Owned(v) => v.len(),
        }
    }

    /// Field `i`, without surrounding whitespace; empty when absent.
    #[inline(always)]
    pub fn get(&self, i: usize) -> &str {
        match self {
            Fields::Text { text, ranges } => ranges
                .get(i)
                .map(|r| {
                    debug_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                    // SAFETY: a record's ranges lie on character boundaries of
                    // its text: the plain splitter cuts valid UTF-8 at ASCII
                    // commas, and the CSV path checks every range
                    // (`csv_records`). The checked slice cost 2 % of an import.
                    trimmed(unsafe { text.get_unchecked(r.clone()) })
                })
                .unwrap_or(""),
            Fields::Owned(v) => v.get(i).map(|s| s.trim_ascii()).unwrap_or(""),
        }
    }

    pub fn to_strings(&self) -> Vec<String> {
        (0..self.len())
            .map(|i| match self {
                Fields::Text { text, ranges } => text[ranges[i].clone()].to_string(),
                Fields::Owned(v) => v[i].clone(),
            })
            .collect()
    }
}

/// `s.trim_ascii()`, answered at once for a field that starts and ends with
/// a byte above the space (nearly every field; ASCII whitespace is at or
/// below it).
#[inline(always)]
fn trimmed(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if *first > b' ' && *last > b' ' => s,
        [only] if *only > b' ' => s,
        _ => s.trim_ascii(),
    }
}

/// One record as a chunk yields it.
pub struct Record<'a> {
    pub line: u64,
    pub fields: Fields<'a>,
    /// The bytes were not valid in the file's encoding.
    pub bad_encoding: bool,
}

impl Chunk {
    /// A chunk of a sheet's rows.
    pub fn rows(index: usize, rows: Vec<(u64, Vec<String>)>) -> Chunk {
        Chunk { index, data: ChunkData::Rows(rows), spares: None }
    }

    /// Calls `f` for every record of the chunk, in order. Blank lines are
    /// skipped. Returns how many lines the chunk holds (0 for a sheet's rows,
    /// which carry their own numbers).
    pub fn for_each_record(&self, mut f: impl FnMut(Record<'_>)) -> u64 {
        match &self.data {
            ChunkData::Rows(rows) => {
                for (line, fields) in rows {
                    f(Record { line: *line, fields: Fields::Owned(fields), bad_encoding: false });
                }
                0
            }
            ChunkData::Csv { bytes, first_line, encoding } => {
                let first_line = first_line.unwrap_or(1);
                let decoded: Cow<[u8]> = match encoding {
                    Encoding::Gb18030 => {
                        let (text, _, _) = encoding_rs::GB18030.decode(bytes);
                        match text {
                            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
                        }
                    }
                    _ => Cow::Borrowed(bytes),
                };
                match plain_records(&decoded, first_line, *encoding, &mut f) {
                    Some(lines) => lines,
                    None => csv_records(&decoded, first_line, *encoding, f),
                }
            }
        }
    }

    /// The line the chunk starts at, when the reader counted it.
    pub fn first_line(&self) -> Option<u64> {
        match &self.data {
            ChunkData::Csv { first_line, .. } => *first_line,
            ChunkData::Rows(rows) => Some(rows.first().map_or(0, |r| r.0)),
        }
    }
}

/// The records of CSV text by the `csv` reader (quotes, embedded newlines).
/// Returns the number of lines of the text.
fn csv_records(data: &[u8], first_line: u64, encoding: Encoding, mut f: impl FnMut(Record<'_>)) -> u64 {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(data);
    let mut rec = csv::ByteRecord::new();
    let mut ranges: Vec<Range<usize>> = Vec::with_capacity(16);
    let (mut line, mut counted) = (first_line, 0usize);
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                // Only I/O can fail on an in-memory slice with flexible records.
                f(Record { line, fields: Fields::Owned(&[]), bad_encoding: true });
                break;
            }
        }
        // The reader's position is where it began to read, before the blank
        // lines it skipped, and its line count leaves them out: count the
        // newlines up to the record's first byte instead.
        let mut at = rec.position().map_or(counted, |p| p.byte() as usize).max(counted);
        while data.get(at) == Some(&b'\n') {
            at += 1;
        }
        line += count(&data[counted..at], b'\n') as u64;
        counted = at;
        ranges.clear();
        ranges.extend((0..rec.len()).filter_map(|i| rec.range(i)));
        // Unquoting joins the fields end to end: a character cut in two by a
        // quote and a comma can read as whole there. Each field must hold
        // whole characters ([`Fields::get`] relies on it).
        let whole = |text: &str| ranges.iter().all(|r| text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        match std::str::from_utf8(rec.as_slice()) {
            Ok(text) if whole(text) => {
                let bad = encoding == Encoding::Gb18030 && text.contains('\u{fffd}');
                f(Record { line, fields: Fields::Text { text, ranges: &ranges }, bad_encoding: bad });
            }
            _ => {
                let owned: Vec<String> = rec.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
                f(Record { line, fields: Fields::Owned(&owned), bad_encoding: true });
            }
        }
    }
    line - first_line + count(&data[counted..], b'\n') as u64
}

/// The records of CSV text without quotes: every comma separates fields and
/// every newline ends a record, so one pass over the two bytes splits it.
/// Gives exactly what the `csv` reader gives on such text (blank lines
/// skipped, a `\r` kept in the last field), only faster.
/// Returns the number of lines of the text; `None`, having yielded nothing,
/// when the text holds a quote: it is for the `csv` reader then.
fn plain_records(data: &[u8], first_line: u64, encoding: Encoding, f: &mut impl FnMut(Record<'_>)) -> Option<u64> {
    // The positions' buffer is the thread's, kept from one chunk to the next
    // (a fresh one is a page fault per 4 KiB filled).
    thread_local! {
        static MARKS: std::cell::Cell<Vec<u32>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut marks = MARKS.take();
    marks.clear();
    marks.reserve(data.len() / 8);
    let quoted = delimiters(data, &mut marks);
    if quoted {
        MARKS.set(marks);
        return None;
    }
    let mut ranges: Vec<Range<usize>> = Vec::with_capacity(16);
    let mut line = first_line;
    let mut start = 0;
    let mut field = 0;
    // Commas and newlines are ASCII: when the whole text is valid, every
    // record cut from it is too, and needs no check of its own. (SIMD
    // validation: the same answer as the standard library's, at a third of
    // its time on a 4 MB chunk.)
    let whole = simdutf8::basic::from_utf8(data).ok();
    let mut emit = |start: usize, end: usize, ranges: &mut Vec<Range<usize>>, line: u64| {
        let rec = &data[start..end];
        if rec.is_empty() {
            return;
        }
        let text = match whole {
            Some(w) => Ok(&w[start..end]),
            None => std::str::from_utf8(rec),
        };
        match text {
            Ok(text) => {
                let bad = encoding == Encoding::Gb18030 && text.contains('\u{fffd}');
                f(Record { line, fields: Fields::Text { text, ranges }, bad_encoding: bad });
            }
            Err(_) => {
                let owned: Vec<String> =
                    ranges.iter().map(|r| String::from_utf8_lossy(&rec[r.clone()]).into_owned()).collect();
                f(Record { line, fields: Fields::Owned(&owned), bad_encoding: true });
            }
        }
    };
    for &at in &marks {
        let at = at as usize;
        ranges.push(field - start..at - start);
        if data[at] == b'\n' {
            emit(start, at, &mut ranges, line);
            ranges.clear();
            line += 1;
            start = at + 1;
        }
        field = at + 1;
    }
    if start < data.len() {
        ranges.push(field - start..data.len() - start);
        emit(start, data.len(), &mut ranges, line);
    }
    MARKS.set(marks);
    Some(line - first_line)
}

/// The positions of every comma and newline in `data` (under 4 GiB), in
/// order; and whether it holds a quote.
fn delimiters(data: &[u8], out: &mut Vec<u32>) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        let (done, quoted) = unsafe { delimiters_avx2(data, out) };
        let rest = &data[done..];
        out.extend(memchr::memchr2_iter(b',', b'\n', rest).map(|at| (done + at) as u32));
        return quoted || memchr::memchr(b'"', rest).is_some();
    }
    out.extend(memchr::memchr2_iter(b',', b'\n', data).map(|at| at as u32));
    memchr::memchr(b'"', data).is_some()
}

/// [`delimiters`] 32 bytes at a time: one compare of each block against
/// both bytes gives a bit per delimiter, read off lowest first. A field of
/// a POS line is a few bytes long, where a search call per delimiter costs
/// more than the search. Quotes are looked for in the same pass. Returns
/// how far it got (a multiple of 32) and whether it met a quote.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn delimiters_avx2(data: &[u8], out: &mut Vec<u32>) -> (usize, bool) {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
        _mm256_setzero_si256, _mm256_testz_si256,
    };
    let comma = _mm256_set1_epi8(b',' as i8);
    let newline = _mm256_set1_epi8(b'\n' as i8);
    let quote = _mm256_set1_epi8(b'"' as i8);
    let mut quotes = _mm256_setzero_si256();
    let mut at = 0;
    for block in data.chunks_exact(32) {
        // SAFETY: `block` holds 32 readable bytes; the load is unaligned.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()) };
        let hits = _mm256_or_si256(_mm256_cmpeq_epi8(v, comma), _mm256_cmpeq_epi8(v, newline));
        quotes = _mm256_or_si256(quotes, _mm256_cmpeq_epi8(v, quote));
        let mut bits = _mm256_movemask_epi8(hits) as u32;
        while bits != 0 {
            out.push((at + bits.trailing_zeros() as usize) as u32);
            bits &= bits - 1;
        }
        at += 32;
    }
    (at, _mm256_testz_si256(quotes, quotes) == 0)
}

/// Reads a CSV or XLSX file (decided by its first bytes, not its name):
/// hands its header and encoding to `plan`, which answers the key column
/// chunks must not split (or refuses the file), then hands over each chunk
/// with the position (bytes or rows done, and in all). Returns the file's
/// sha256.
pub fn read_file(
    path: &Path,
    plan: impl FnOnce(&[String], Encoding) -> Result<Option<usize>, IngestError>,
    each: impl FnMut(Chunk, (u64, u64)) -> Result<(), IngestError>,
) -> Result<String, IngestError> {
    match read_chunks(path, true, Lines::Counted, plan, each)? {
        Some(sha) => Ok(sha),
        None => sha256_file(path),
    }
}

/// Whether the reader numbers the lines of a CSV file's chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Every chunk says the line it starts at.
    Counted,
    /// Only the first chunk does; each later one starts where the one before
    /// ended, which the caller learns from [`Chunk::for_each_record`]'s count.
    /// The reader then makes no pass of its own over the bytes to count
    /// their newlines (the parse finds them anyway): 4 % of the CPU of a
    /// large import.
    Relative,
}

/// [`read_file`], with the sha256 of a CSV file computed as it is read
/// when `hash` is set; `None` when it is not (or for a workbook), for the
/// caller to compute with [`sha256_file`] when it suits it.
pub fn read_chunks(
    path: &Path,
    hash: bool,
    lines: Lines,
    plan: impl FnOnce(&[String], Encoding) -> Result<Option<usize>, IngestError>,
    mut each: impl FnMut(Chunk, (u64, u64)) -> Result<(), IngestError>,
) -> Result<Option<String>, IngestError> {
    let name = path.display().to_string();
    let mut f = File::open(path).map_err(|e| IngestError::io(&name, e))?;
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic).map_err(|e| IngestError::io(&name, e))?;
    if n == 4 && magic == *b"PK\x03\x04" {
        crate::xlsx::read_xlsx(path, |h| plan(h, Encoding::Xlsx), each)?;
        return Ok(None);
    }
    let mut csv = CsvSource::open(path, hash, lines)?;
    let key_col = plan(&csv.header, csv.encoding)?;
    while let Some(chunk) = csv.next_chunk(key_col)? {
        each(chunk, (csv.consumed, csv.size))?;
    }
    Ok(csv.hasher.map(|h| hex(&h.finalize())))
}

/// The sha256 of a file (CSV or workbook), read anew.
pub fn sha256_file(path: &Path) -> Result<String, IngestError> {
    let name = path.display().to_string();
    let mut f = File::open(path).map_err(|e| IngestError::io(&name, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| IngestError::io(&name, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A CSV file read block by block.
struct CsvSource {
    name: String,
    path: std::path::PathBuf,
    file: File,
    encoding: Encoding,
    header: Vec<String>,
    buf: Vec<u8>,
    eof: bool,
    next_line: u64,
    index: usize,
    hasher: Option<Sha256>,
    size: u64,
    consumed: u64,
    spares: Spares,
    lines: Lines,
}

/// How often a byte occurs.
fn count(bytes: &[u8], b: u8) -> usize {
    memchr::memchr_iter(b, bytes).count()
}

/// Record boundaries (positions just after a newline outside quotes), from
/// the end of `buf` backwards, assuming `buf` starts at a record start.
fn boundaries_from_end(buf: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let total_quotes = count(buf, b'"');
    let mut pos = buf.len();
    let mut quotes_after = 0usize;
    std::iter::from_fn(move || {
        loop {
            let p = memchr::memrchr(b'\n', &buf[..pos])?;
            quotes_after += count(&buf[p + 1..pos], b'"');
            pos = p;
            if (total_quotes - quotes_after).is_multiple_of(2) {
                return Some(p + 1);
            }
        }
    })
}

/// Field `idx` of one CSV record (without its line end), unquoted.
fn field_of(rec: &[u8], idx: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut field = 0;
    let mut in_quotes = false;
    let mut i = 0;
    while i < rec.len() {
        let b = rec[i];
        if in_quotes {
            if b == b'"' {
                if rec.get(i + 1) == Some(&b'"') {
                    if field == idx {
                        out.push(b'"');
                    }
                    i += 1;
                } else {
                    in_quotes = false;
                }
            } else if field == idx {
                out.push(b);
            }
        } else if b == b'"' {
            in_quotes = true;
        } else if b == b',' {
            if field == idx {
                break;
            }
            field += 1;
        } else if field == idx && b != b'\r' {
            out.push(b);
        }
        i += 1;
    }
    out
}

/// Where to end a chunk taken from `buf`: after the last complete record,
/// or with a key column, before the run of records that share the last
/// complete record's key (it may go on in the next block). `None` when no
/// such place exists yet.
fn cut_point(buf: &[u8], key_col: Option<usize>) -> Option<usize> {
    let mut bounds = boundaries_from_end(buf);
    let last_end = bounds.next()?;
    let Some(col) = key_col else {
        return Some(last_end);
    };
    let mut run_start = bounds.next().unwrap_or(0);
    let key = field_of(&buf[run_start..last_end - 1], col);
    loop {
        if run_start == 0 {
            return None;
        }
        let prev_start = bounds.next().unwrap_or(0);
        if field_of(&buf[prev_start..run_start - 1], col) != key {
            return Some(run_start);
        }
        run_start = prev_start;
    }
}

impl CsvSource {
    fn open(path: &Path, hash: bool, lines: Lines) -> Result<CsvSource, IngestError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| IngestError::io(&name, e))?;
        let size = file.metadata().map_err(|e| IngestError::io(&name, e))?.len();
        let mut src = CsvSource {
            name,
            path: path.to_path_buf(),
            file,
            encoding: Encoding::Utf8,
            header: Vec::new(),
            buf: Vec::with_capacity(BLOCK * 2),
            eof: false,
            next_line: 1,
            index: 0,
            hasher: hash.then(Sha256::new),
            size,
            consumed: 0,
            spares: Spares::default(),
            lines,
        };
        src.fill(SNIFF)?;
        if src.buf.is_empty() {
            return Err(IngestError::file(&src.name, "the file is empty / 文件为空"));
        }
        let mut start = 0;
        if src.buf.starts_with(b"\xEF\xBB\xBF") {
            start = 3;
        } else if src.buf.starts_with(b"\xFF\xFE") || src.buf.starts_with(b"\xFE\xFF") {
            return Err(IngestError::file(
                &src.name,
                "the file is UTF-16; save it as UTF-8 or GBK CSV, or as XLSX / 文件为 UTF-16 编码，请另存为 UTF-8 或 GBK 的 CSV，或 XLSX",
            ));
        } else {
            src.encoding = sniff_encoding(&src.buf, src.eof).map_err(|line| {
                IngestError::file(
                    &src.name,
                    format!("line {line} is neither UTF-8 nor GB18030/GBK text / 第 {line} 行既不是 UTF-8 也不是 GB18030/GBK 编码"),
                )
            })?;
        }
        src.buf.drain(..start);
        src.consumed = start as u64;
        // The header is the first record.
        let end = loop {
            let mut it = boundaries_from_end(&src.buf).collect::<Vec<_>>();
            it.reverse();
            if let Some(&first) = it.first() {
                break first;
            }
            if src.eof {
                break src.buf.len();
            }
            if src.buf.len() > MAX_RUN {
                return Err(IngestError::file(&src.name, "no line end found in the first 64 MB"));
            }
            src.fill(src.buf.len() + BLOCK)?;
        };
        let head: Vec<u8> = src.buf.drain(..end).collect();
        src.consumed += end as u64;
        let text = match src.encoding {
            Encoding::Gb18030 => encoding_rs::GB18030.decode(&head).0.into_owned(),
            _ => String::from_utf8_lossy(&head).into_owned(),
        };
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        let mut rec = csv::StringRecord::new();
        if !rdr.read_record(&mut rec).unwrap_or(false) {
            return Err(IngestError::file(&src.name, "the file has no header row / 文件没有表头行"));
        }
        src.header = rec.iter().map(|s| s.trim().trim_start_matches('\u{feff}').to_string()).collect();
        src.next_line = 2;
        Ok(src)
    }

    /// Reads until the buffer holds `want` bytes or the file ends.
    fn fill(&mut self, want: usize) -> Result<(), IngestError> {
        while !self.eof && self.buf.len() < want {
            let old = self.buf.len();
            let room = want.max(old + 64 * 1024) - old;
            self.buf.reserve(room);
            // `read_to_end` reads into the spare room without zeroing it first.
            let n = (&mut self.file)
                .take(room as u64)
                .read_to_end(&mut self.buf)
                .map_err(|e| IngestError::io(&self.name, e))?;
            if let Some(h) = &mut self.hasher {
                h.update(&self.buf[old..]);
            }
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// The line the unread part of the file starts at: counted again from
    /// the file's start when the chunks' lines were left uncounted (only an
    /// error needs it then).
    fn line_at_consumed(&self) -> Result<u64, IngestError> {
        if self.lines == Lines::Counted || self.index == 0 {
            return Ok(self.next_line);
        }
        let io = |e| IngestError::io(&self.name, e);
        let mut f = File::open(&self.path).map_err(io)?;
        let (mut left, mut lines) = (self.consumed, 1u64);
        let mut buf = vec![0u8; 1 << 20];
        while left > 0 {
            let n = f.read(&mut buf[..left.min(1 << 20) as usize]).map_err(io)?;
            if n == 0 {
                break;
            }
            lines += count(&buf[..n], b'\n') as u64;
            left -= n as u64;
        }
        Ok(lines)
    }

    fn next_chunk(&mut self, key_col: Option<usize>) -> Result<Option<Chunk>, IngestError> {
        let mut want = BLOCK;
        loop {
            self.fill(want)?;
            if self.buf.is_empty() {
                return Ok(None);
            }
            let cut = if self.eof { Some(self.buf.len()) } else { cut_point(&self.buf, key_col) };
            match cut {
                Some(cut) if cut > 0 => {
                    let spare = self.spares.lock().ok().and_then(|mut s| s.pop());
                    let mut rest = spare.unwrap_or_else(|| Vec::with_capacity(BLOCK * 2));
                    rest.clear();
                    rest.extend_from_slice(&self.buf[cut..]);
                    self.buf.truncate(cut);
                    let bytes = std::mem::replace(&mut self.buf, rest);
                    let first_line = match self.lines {
                        Lines::Relative if self.index > 0 => None,
                        Lines::Relative => Some(self.next_line),
                        Lines::Counted => {
                            let first = self.next_line;
                            self.next_line += count(&bytes, b'\n') as u64;
                            Some(first)
                        }
                    };
                    self.consumed += bytes.len() as u64;
                    self.index += 1;
                    return Ok(Some(Chunk {
                        index: self.index - 1,
                        data: ChunkData::Csv { bytes, first_line, encoding: self.encoding },
                        spares: Some(self.spares.clone()),
                    }));
                }
                _ if self.buf.len() > MAX_RUN => {
                    return Err(IngestError::file(
                        &self.name,
                        format!(
                            "from line {} on, one ticket or record runs over 64 MB; is the file sorted by ticket?",
                            self.line_at_consumed()?
                        ),
                    ));
                }
                _ => want = self.buf.len() + BLOCK,
            }
        }
    }
}

/// Decides the encoding from the first block; on failure returns the line
/// (1-based) of the first byte that fits neither.
fn sniff_encoding(block: &[u8], whole_file: bool) -> Result<Encoding, u64> {
    // A block may end inside a character: judge only complete lines.
    let judged = if whole_file {
        block
    } else {
        match block.iter().rposition(|&b| b == b'\n') {
            Some(p) => &block[..=p],
            None => block,
        }
    };
    match std::str::from_utf8(judged) {
        Ok(_) => return Ok(Encoding::Utf8),
        Err(e) if e.error_len().is_none() && !whole_file => return Ok(Encoding::Utf8),
        Err(_) => {}
    }
    let (_, _, had_errors) = encoding_rs::GB18030.decode(judged);
    if !had_errors {
        return Ok(Encoding::Gb18030);
    }
    let bad = std::str::from_utf8(judged).err().map(|e| e.valid_up_to()).unwrap_or(0);
    Err(1 + count(&judged[..bad], b'\n') as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(data: &[u8], plain: bool) -> Vec<(u64, Vec<String>, bool)> {
        let mut out = Vec::new();
        let mut push = |r: Record<'_>| out.push((r.line, r.fields.to_strings(), r.bad_encoding));
        let lines = if plain {
            plain_records(data, 7, Encoding::Utf8, &mut push).expect("no quotes")
        } else {
            csv_records(data, 7, Encoding::Utf8, push)
        };
        // Both say how many lines the text holds, for the merge to number
        // the chunk after.
        assert_eq!(lines, count(data, b'\n') as u64, "{:?}", String::from_utf8_lossy(data));
        out
    }

    /// Whether the plain splitter declines the text, yielding nothing.
    fn declined(data: &[u8]) -> bool {
        let mut yielded = 0;
        plain_records(data, 1, Encoding::Utf8, &mut |_| yielded += 1).is_none() && yielded == 0
    }

    #[test]
    fn the_plain_splitter_reads_what_the_csv_reader_reads() {
        for data in [
            &b"a,b,c\nd,,f\n"[..],
            b"a,b\r\n\n\nc,d\r\n",
            b"x,y\n,\n,\nlast,no newline",
            b"\n\n",
            b"",
            b"one\n\xff\xfe,2\nthree,\n",
            b"\r\n,,,\n",
        ] {
            assert_eq!(records(data, true), records(data, false), "{:?}", String::from_utf8_lossy(data));
        }
        // Quoted text is the csv reader's: a quote anywhere, in a 32-byte
        // block of the vector search or in the tail after the last block.
        let line = "T1,S1,2026-10-01 08:00:00,,P1,x,1,1.50,1.00\n".repeat(4);
        for at in [0, 5, 31, 32, 63, 100, line.len() - 1] {
            let mut quoted = line.clone().into_bytes();
            quoted.insert(at, b'"');
            assert!(declined(&quoted), "quote at {at}");
        }
        assert!(declined(b"\"q\"\n"));
        assert!(!declined(line.as_bytes()));
        // Long enough for the 32-byte blocks of the delimiter search.
        let long: String = (0..500)
            .map(|i| format!("T{i},S{},2026-10-{:02} 08:00:00,,P{i},x,1,{i}.50,1.00\n", i % 7, i % 28 + 1))
            .collect();
        let long = format!("{long}\n\ntail,without,newline");
        assert_eq!(records(long.as_bytes(), true), records(long.as_bytes(), false));
        assert_eq!(
            records(b"a,b\n\nc\n", true),
            vec![(7, vec!["a".to_string(), "b".to_string()], false), (9, vec!["c".to_string()], false)]
        );
        // Line numbers count blank lines and newlines inside quotes.
        assert_eq!(
            records(b"a\n\n\"x\ny\",b\n\nc\n", false),
            vec![
                (7, vec!["a".to_string()], false),
                (9, vec!["x\ny".to_string(), "b".to_string()], false),
                (12, vec!["c".to_string()], false)
            ]
        );
    }

    #[test]
    fn a_character_cut_by_a_quote_and_a_comma_is_a_bad_encoding() {
        // "\xE5\x87" and \x86 are halves of one character, whole only when
        // the unquoted fields are joined.
        let bad = records(b"ok,1\n\"\xE5\x87\",\x86\n", false);
        assert_eq!(
            bad,
            vec![
                (7, vec!["ok".to_string(), "1".to_string()], false),
                (8, vec!["\u{fffd}".to_string(), "\u{fffd}".to_string()], true)
            ]
        );
    }

    #[test]
    fn boundaries_skip_newlines_inside_quotes() {
        let buf = b"a,\"x\ny\"\nb,c\nd,";
        let b: Vec<usize> = boundaries_from_end(buf).collect();
        assert_eq!(b, vec![12, 8]);
    }

    #[test]
    fn chunks_end_where_the_ticket_changes() {
        let buf = b"T1,a\nT1,b\nT2,c\nT2,d\nT2,e";
        // The last complete record is T2,d: its run starts at T2,c.
        assert_eq!(cut_point(buf, Some(0)), Some(10));
        assert_eq!(cut_point(buf, None), Some(20));
        assert_eq!(cut_point(b"T1,a\nT1,b\nT1,c", Some(0)), None);
    }

    #[test]
    fn quoted_fields_are_unquoted_for_comparison() {
        assert_eq!(field_of(b"\"S1,x\",\"a\"\"b\",c\r", 1), b"a\"b".to_vec());
        assert_eq!(field_of(b"\"S1,x\",\"a\"\"b\",c\r", 2), b"c".to_vec());
        assert_eq!(field_of(b"a,b", 5), Vec::<u8>::new());
    }

    #[test]
    fn encodings_are_decided_from_the_bytes() {
        assert_eq!(sniff_encoding("单号,门店\n".as_bytes(), true), Ok(Encoding::Utf8));
        let (gbk, _, _) = encoding_rs::GBK.encode("单号,门店\n");
        assert_eq!(sniff_encoding(&gbk, true), Ok(Encoding::Gb18030));
        assert_eq!(sniff_encoding(b"ok\nok\n\x81\x20\xff\n", true), Err(3));
    }
}
