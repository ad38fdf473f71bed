//! XLSX files: read cell by cell like CSV, and guarded against archives and
//! sheets that are not what a real export looks like.

mod common;

use std::io::Write;

use common::*;
use opsdesk_db::Backend;
use opsdesk_db::testing::TestDb;
use opsdesk_ingest::{Encoding, ImportOptions, Outcome};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// The small CSV as a workbook: times as Excel dates, money and quantities as numbers.
fn small_as_xlsx(path: &std::path::Path, amount_override: Option<(usize, f64)>) {
    let text = std::fs::read_to_string(data("small/sales_lines.csv")).unwrap();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (r, line) in text.lines().enumerate() {
        let r = r as u32;
        for (c, v) in line.split(',').enumerate() {
            let c = c as u16;
            match (r, c) {
                (0, _) => sheet.write_string(r, c, v).map(|_| ()),
                (_, 2) => {
                    sheet.write_datetime_with_format(r, c, ExcelDateTime::parse_from_str(v).unwrap(), &when).map(|_| ())
                }
                (_, 6..=8) => {
                    let n = match amount_override {
                        Some((row, x)) if row as u32 == r && c == 7 => x,
                        _ => v.parse::<f64>().unwrap(),
                    };
                    sheet.write_number(r, c, n).map(|_| ())
                }
                (_, 3) if v.is_empty() => Ok(()),
                _ => sheet.write_string(r, c, v).map(|_| ()),
            }
            .unwrap();
        }
    }
    book.save(path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workbook_imports_like_the_same_csv() {
    let dir = tempdir::Dir::new();
    let xlsx = dir.path().join("sales.xlsx");
    small_as_xlsx(&xlsx, None);
    for backend in TestDb::backends() {
        let from_csv = with_stores(backend).await;
        import_sales(&from_csv.db, &data("small/sales_lines.csv"), &ImportOptions::default()).await;
        let t = with_stores(backend).await;
        let s = import_sales(&t.db, &xlsx, &ImportOptions::default()).await;
        assert_eq!((s.outcome, s.encoding), (Outcome::Imported, Encoding::Xlsx), "{:?}", s.errors.errors.first());
        assert_eq!(s.rows_imported, manifest("small")["clean_lines"].as_u64().unwrap());
        assert_eq!(
            t.db.rollup_snapshot(&scope()).await.unwrap(),
            from_csv.db.rollup_snapshot(&scope()).await.unwrap(),
            "{backend:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_float_artefact_in_a_workbook_is_refused_not_rounded() {
    let dir = tempdir::Dir::new();
    let xlsx = dir.path().join("sales.xlsx");
    small_as_xlsx(&xlsx, Some((5, 0.1 + 0.2)));
    let t = with_stores(Backend::Sqlite).await;
    let s = import_sales(&t.db, &xlsx, &ImportOptions::default()).await;
    assert_eq!(s.outcome, Outcome::Refused);
    assert_eq!(s.errors.total, 1);
    let e = &s.errors.errors[0];
    assert_eq!((e.row, e.line, e.column.as_str(), e.value.as_str()), (5, 6, "amount", "0.30000000000000004"));
    assert_eq!(e.reason, "more than two decimal places");
}

/// A workbook made by hand around one sheet's XML.
fn handmade_xlsx(path: &std::path::Path, sheet_xml: &[u8]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let parts: [(&str, &[u8]); 4] = [
        ("[Content_Types].xml", br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#),
        ("_rels/.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#),
        ("xl/workbook.xml", br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
        ("xl/_rels/workbook.xml.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#),
    ];
    for (name, body) in parts {
        z.start_file(name, opts).unwrap();
        z.write_all(body).unwrap();
    }
    z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    z.write_all(sheet_xml).unwrap();
    z.finish().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zip_bomb_is_refused_before_it_is_unpacked() {
    let dir = tempdir::Dir::new();
    let bomb = dir.path().join("bomb.xlsx");
    let mut xml = br#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#.to_vec();
    xml.extend(std::iter::repeat_n(b' ', 64 << 20));
    xml.extend(b"</sheetData></worksheet>");
    handmade_xlsx(&bomb, &xml);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let t = with_stores(Backend::Sqlite).await;
    let err = opsdesk_ingest::sales::import_sales(&t.db, &scope(), &bomb, &ImportOptions::default()).await.unwrap_err();
    assert!(err.is_bad_input());
    assert!(err.to_string().contains("refused as a possible zip bomb"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sheet_claiming_absurd_dimensions_is_refused() {
    let dir = tempdir::Dir::new();
    let file = dir.path().join("huge.xlsx");
    handmade_xlsx(
        &file,
        br#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD9999999"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>ticket_no</t></is></c></row></sheetData></worksheet>"#,
    );
    let t = with_stores(Backend::Sqlite).await;
    let err = opsdesk_ingest::sales::import_sales(&t.db, &scope(), &file, &ImportOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("beyond Excel's limits: refused"), "{err}");
}
