//! Reports as XLSX workbooks, laid out the way an operations analyst builds
//! them by hand: a title row with the report, its period and when it was
//! made; a bold, frozen header with a filter; number formats per column;
//! widths to fit; totals in bold under a rule; negative growth in red. Text
//! cells carry Excel's quote prefix when they start like a formula, so a
//! value can never run as one.

use chrono::{DateTime, Datelike, Local};
use opsdesk_domain::i18n::Lang;
use opsdesk_domain::reports::table::{Cell, Kind, ReportTable};
use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError};

const RED: u32 = 0xC00000;

fn number_format(kind: Kind) -> &'static str {
    match kind {
        Kind::Money => "#,##0.00",
        Kind::Pct | Kind::Growth | Kind::Attainment | Kind::Fixed2 => "0.00",
        Kind::Int => "#,##0",
        Kind::Date => "yyyy-mm-dd",
        Kind::Text => "@",
    }
}

fn risky(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Display width of a text in Excel's character units (CJK counts double).
fn width(text: &str) -> f64 {
    text.chars().map(|c| if c.is_ascii() { 1.0 } else { 2.0 }).sum()
}

/// The workbook of one report, in the user's language.
pub fn xlsx(t: &ReportTable, lang: Lang, generated: DateTime<Local>) -> Result<Vec<u8>, XlsxError> {
    workbook(t, lang, Some(generated))
}

/// A workbook to edit and bring back: the header on the first row (so the
/// importer reads it as any other file), no title, no totals.
pub fn xlsx_for_editing(t: &ReportTable, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    workbook(t, lang, None)
}

fn workbook(t: &ReportTable, lang: Lang, generated: Option<DateTime<Local>>) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(t.name)?;
    let ncols = t.columns.len() as u16;
    let last_col = ncols.saturating_sub(1);

    let top = u32::from(generated.is_some());
    if let Some(generated) = generated {
        let title = Format::new().set_bold().set_font_size(14);
        let made = lang.pick("生成于", "generated");
        let heading = format!("{}    {made} {}", t.title(lang), generated.format("%Y-%m-%d %H:%M"));
        if ncols > 1 {
            sheet.merge_range(0, 0, 0, last_col, &heading, &title)?;
        } else {
            sheet.write_string_with_format(0, 0, &heading, &title)?;
        }
        sheet.set_row_height(0, 22)?;
    }

    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border_bottom(FormatBorder::Thin)
        .set_align(FormatAlign::Center);
    let mut widths: Vec<f64> = Vec::with_capacity(t.columns.len());
    for (c, col) in t.columns.iter().enumerate() {
        let h = col.heading(lang);
        sheet.write_string_with_format(top, c as u16, h, &header)?;
        widths.push(width(h) + 2.0);
    }
    sheet.set_freeze_panes(top + 1, 0)?;

    let body: Vec<Format> = t.columns.iter().map(|c| Format::new().set_num_format(number_format(c.kind))).collect();
    let mut at = top + 1;
    let mut first_total = true;
    let mut put = |cells: &[Cell], total: bool| -> Result<(), XlsxError> {
        for (c, (cell, col)) in cells.iter().zip(&t.columns).enumerate() {
            let mut f = body[c].clone();
            if total {
                f = f.set_bold();
                if first_total {
                    f = f.set_border_top(FormatBorder::Thin);
                }
            }
            let c = c as u16;
            match cell {
                Cell::Text(_) | Cell::Label(_) => {
                    let s = cell.as_str().unwrap_or_default();
                    if risky(s) {
                        f = f.set_quote_prefix();
                    }
                    sheet.write_string_with_format(at, c, s, &f)?;
                }
                Cell::Date(d) => {
                    let x = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    sheet.write_datetime_with_format(at, c, &x, &f)?;
                }
                Cell::Int(_) | Cell::Fixed2(_) => {
                    let n = cell.number().unwrap_or_default();
                    if col.alarming(n) {
                        f = f.set_font_color(Color::RGB(RED));
                    }
                    sheet.write_number_with_format(at, c, n, &f)?;
                }
                Cell::Null => {
                    sheet.write_blank(at, c, &f)?;
                }
            }
            let w = match (cell, col.kind) {
                (Cell::Date(_), _) => 11.0,
                (Cell::Fixed2(n), Kind::Money) => width(&cell.text()) + (n.abs() / 100).to_string().len() as f64 / 3.0,
                _ => width(&cell.text()),
            };
            widths[c as usize] = widths[c as usize].max(w + 2.0);
        }
        if total {
            first_total = false;
        }
        at += 1;
        Ok(())
    };
    // The rows are read once, each written as it comes (a long list's
    // cells are made one row at a time).
    let mut failed = None;
    t.rows.for_each(|cells| {
        if failed.is_none() {
            failed = put(cells, false).err();
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    for cells in &t.totals {
        put(cells, true)?;
    }
    if at > top + 1 && ncols > 0 {
        sheet.autofilter(top, 0, at - 1 - t.totals.len() as u32, last_col)?;
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, w.min(60.0))?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use opsdesk_domain::reports::table::col;

    #[test]
    fn a_report_opens_with_its_title_headings_numbers_and_defused_text() {
        let t = ReportTable {
            name: "r2_monthly",
            title_zh: "月报 2026-10".into(),
            title_en: "Monthly report 2026-10".into(),
            columns: vec![
                col("store_code", "门店", "store", Kind::Text),
                col("revenue", "销售额", "revenue", Kind::Money),
                col("yoy_pct", "同比%", "YoY %", Kind::Growth),
                col("date", "日期", "date", Kind::Date),
            ],
            rows: vec![
                vec![
                    Cell::Text("S0001".into()),
                    Cell::Fixed2(123456),
                    Cell::Fixed2(-1250),
                    Cell::Date(chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()),
                ],
                vec![Cell::Text("=cmd|' /C calc'!A0".into()), Cell::Fixed2(5), Cell::Null, Cell::Null],
            ]
            .into(),
            totals: vec![vec![Cell::Text("Σ".into()), Cell::Fixed2(123461), Cell::Null, Cell::Null]],
        };
        let bytes = xlsx(&t, Lang::Zh, Local::now()).unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("r2_monthly").unwrap();
        assert!(matches!(range.get_value((0, 0)), Some(Data::String(s)) if s.starts_with("月报 2026-10    生成于 ")));
        assert_eq!(range.get_value((1, 1)), Some(&Data::String("销售额".into())));
        assert_eq!(range.get_value((2, 1)), Some(&Data::Float(1234.56)));
        assert_eq!(range.get_value((2, 2)), Some(&Data::Float(-12.5)));
        assert_eq!(range.get_value((3, 0)), Some(&Data::String("=cmd|' /C calc'!A0".into())));
        assert_eq!(range.get_value((4, 1)), Some(&Data::Float(1234.61)));
        // The formula-like text is a plain string cell, not a formula.
        let formulas = book.worksheet_formula("r2_monthly").unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
    }
}
