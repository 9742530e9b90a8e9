//! XLSX export: the same table as the CSV (`csv::table`), numbers as number cells, in one
//! worksheet named after the report.
//!
//! Owns: the workbook layout. Must not touch: any figure. Driven by the API
//! (`format=xlsx`, or `Accept` naming the XLSX media type).
//!
//! `rust_xlsxwriter` (`rust-version` 1.88, no default features: pure Rust, its `zip` without
//! zlib) writes the file; XLSX is a zip of XML parts, not worth writing by hand.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::compute::Report;
use super::csv::{Cell, table};

/// The XLSX media type.
pub const MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The report as an XLSX file.
pub fn render(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let (header, rows) = table(report);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(&report.report)?;
    let bold = Format::new().set_bold();
    for (c, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
    }
    for (r, cells) in rows.iter().enumerate() {
        let row = r as u32 + 1;
        for (c, cell) in cells.iter().enumerate() {
            match cell {
                Cell::Text(t) => sheet.write_string(row, c as u16, t)?,
                Cell::Num(n) => sheet.write_number(row, c as u16, *n)?,
                Cell::Empty => continue,
            };
        }
    }
    book.save_to_buffer()
}
