//! The exports of docs/RULES.md §7, as CSV or Parquet: fixed columns, filters, empty cells for no value,
//! and CSV text cells guarded against spreadsheet formula injection.

mod conformance;
mod datasets;
mod dictionary;
mod parquet;
mod provenance;

pub use datasets::{EXPORTS, QuarterProgress, Records, Stored, write_export};
pub use dictionary::{Column, DICTIONARY, Kind};
pub use parquet::{parquet_rows, write_parquet};
pub use provenance::{Provenance, REFERENCE_LICENCE, SYNTHETIC_NOTE, Status, UNPUBLISHED};

use std::io::Write;

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Int(i64),
    Bool(bool),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    pub fn opt_number(v: Option<f64>) -> Self {
        v.map_or(Cell::Empty, Cell::Number)
    }

    /// The cell as written: numbers with a `.` decimal point and no exponent, booleans as
    /// `true`/`false`, and text that a spreadsheet would run as a formula prefixed with `'`.
    pub fn render(&self) -> String {
        match self {
            Cell::Text(s) => guard(s),
            Cell::Number(v) if v.is_finite() => format_number(*v),
            Cell::Number(_) | Cell::Empty => String::new(),
            Cell::Int(v) => v.to_string(),
            Cell::Bool(b) => b.to_string(),
        }
    }
}

/// Shortest text that reads back as the same number; never an exponent.
pub fn format_number(v: f64) -> String {
    if v == 0.0 { "0".into() } else { format!("{v}") }
}

/// Prefixes `'` to text starting with `=`, `+`, `-`, `@`, tab or carriage return.
pub fn guard(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() }
}

pub use crate::domain::filters::{Filter, Filters};

/// An export's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    /// An export's file name split into the export and its format: `values.parquet`.
    pub fn of_file(file: &str) -> Option<(&str, Format)> {
        let (name, extension) = file.rsplit_once('.')?;
        Some((name, Self::parse(extension)?))
    }

    /// `csv` or `parquet`.
    pub fn parse(extension: &str) -> Option<Format> {
        match extension {
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// Where an export goes: a writer, the format to write in, and the key-value metadata a
/// Parquet file carries (its provenance).
pub struct Out<W> {
    pub writer: W,
    pub format: Format,
    pub metadata: Vec<(String, String)>,
}

impl<W> Out<W> {
    pub fn new(writer: W, format: Format) -> Self {
        Self { writer, format, metadata: Vec::new() }
    }

    pub fn csv(writer: W) -> Self {
        Self::new(writer, Format::Csv)
    }

    pub fn with_metadata(self, metadata: Vec<(String, String)>) -> Self {
        Self { metadata, ..self }
    }
}

/// Writes export `export`'s header (its columns in the data dictionary, the one place they are
/// declared) and `rows` in `out`'s format; a row with another number of cells is an error.
pub fn write_table<W: Write + Send>(
    out: Out<W>,
    export: &str,
    rows: impl Iterator<Item = Vec<Cell>>,
) -> anyhow::Result<()> {
    let columns = dictionary::columns(export);
    anyhow::ensure!(!columns.is_empty(), "the data dictionary has no columns for {export}");
    let width = columns.len();
    let rows = rows.enumerate().map(move |(i, row)| {
        assert_eq!(row.len(), width, "row {i} of {export} has {} cells for {width} columns", row.len());
        row
    });
    match out.format {
        Format::Csv => write_csv(out.writer, &columns, rows),
        Format::Parquet => {
            let fields: Vec<(&str, Kind)> = columns.iter().map(|c| (c.name, c.kind)).collect();
            parquet::write_parquet(out.writer, &fields, &out.metadata, rows)
        }
    }
}

/// Writes a header and rows as RFC 4180 CSV.
fn write_csv<W: Write>(out: W, columns: &[&Column], rows: impl Iterator<Item = Vec<Cell>>) -> anyhow::Result<()> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
    w.write_record(columns.iter().map(|c| c.name))?;
    for row in rows {
        w.write_record(row.iter().map(Cell::render))?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_a_spreadsheet_would_run_is_prefixed() {
        assert_eq!(Cell::text("=SUM(A1)").render(), "'=SUM(A1)");
        assert_eq!(Cell::text("+44").render(), "'+44");
        assert_eq!(Cell::text("-x").render(), "'-x");
        assert_eq!(Cell::text("@cmd").render(), "'@cmd");
        assert_eq!(Cell::text("\tx").render(), "'\tx");
        assert_eq!(Cell::text("Barts Health NHS Trust").render(), "Barts Health NHS Trust");
    }

    #[test]
    fn numbers_are_plain_decimals_and_missing_values_empty() {
        assert_eq!(Cell::Number(-2.5).render(), "-2.5");
        assert_eq!(Cell::Number(100.0).render(), "100");
        assert_eq!(Cell::Number(1e-7).render(), "0.0000001");
        assert_eq!(Cell::Number(-0.0).render(), "0");
        assert_eq!(Cell::opt_number(None).render(), "");
        assert_eq!(Cell::Number(f64::NAN).render(), "");
        assert_eq!(Cell::Bool(true).render(), "true");
    }
}
