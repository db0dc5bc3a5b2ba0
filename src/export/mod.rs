//! The exports of docs/RULES.md §7, as CSV or Parquet: fixed columns, filters, empty cells for no value,
//! and CSV text cells guarded against spreadsheet formula injection.

mod conformance;
mod datasets;
mod declared;
mod dictionary;
mod parquet;
mod provenance;

pub use datasets::{QuarterProgress, Records, Stored, reads_group, reads_uptake, resolve_group, write_export};
pub use dictionary::{ALL, Column, EXPORTS, Export, Kind, columns, dictionary};
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

    /// The cell as a typed JSON value: a number, a boolean, text, or `null` when empty (or not
    /// a finite number).
    pub fn json(self) -> serde_json::Value {
        match self {
            Cell::Text(s) => serde_json::Value::String(s),
            // -0 is written 0, as the CSV writes it.
            Cell::Number(v) => serde_json::Number::from_f64(if v == 0.0 { 0.0 } else { v })
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Cell::Int(v) => serde_json::Value::from(v),
            Cell::Bool(b) => serde_json::Value::Bool(b),
            Cell::Empty => serde_json::Value::Null,
        }
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
    /// A JSON array of rows, each an object of typed values (numbers as numbers, empty as
    /// `null`, booleans as booleans): the API's rows.
    Json,
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
            Format::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Parquet => "application/vnd.apache.parquet",
            Format::Json => "application/json",
        }
    }
}

/// Where an export goes: a writer, the format to write in, and the key-value metadata a
/// Parquet file carries (its provenance).
pub struct Out<W> {
    pub writer: W,
    pub format: Format,
    pub metadata: Vec<(String, String)>,
    /// Only these rows (a page of the API), and whether more follow.
    pub window: Option<Window>,
}

/// A page of an export's rows: `take` rows after the first `skip`; `more` is set when at least
/// one row follows the page.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub skip: usize,
    pub take: usize,
    pub more: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<W> Out<W> {
    pub fn new(writer: W, format: Format) -> Self {
        Self { writer, format, metadata: Vec::new(), window: None }
    }

    pub fn csv(writer: W) -> Self {
        Self::new(writer, Format::Csv)
    }

    pub fn with_metadata(self, metadata: Vec<(String, String)>) -> Self {
        Self { metadata, ..self }
    }

    pub fn with_window(self, window: Window) -> Self {
        Self { window: Some(window), ..self }
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
    // A page: skip, then take one more than asked to learn whether more follow.
    let (skip, take, more) = match &out.window {
        Some(w) => (w.skip, w.take, Some(w.more.clone())),
        None => (0, usize::MAX - 1, None),
    };
    let mut seen = 0usize;
    let rows = rows.skip(skip).take(take.saturating_add(1)).filter_map(move |row| {
        seen += 1;
        if seen > take {
            if let Some(more) = &more {
                more.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            None
        } else {
            Some(row)
        }
    });
    match out.format {
        Format::Json => write_json(out.writer, &columns, rows),
        Format::Csv => write_csv(out.writer, &columns, rows),
        Format::Parquet => {
            let fields: Vec<(&str, Kind)> = columns.iter().map(|c| (c.name, c.kind)).collect();
            parquet::write_parquet(out.writer, &fields, &out.metadata, rows)
        }
    }
}

/// Writes rows as a JSON array of objects keyed by column name, streaming row by row: numbers as
/// numbers, empty cells as `null`, booleans as booleans, text unguarded (JSON is not run as a
/// formula).
fn write_json<W: Write>(out: W, columns: &[&Column], rows: impl Iterator<Item = Vec<Cell>>) -> anyhow::Result<()> {
    let mut w = std::io::BufWriter::new(out);
    w.write_all(b"[")?;
    for (i, row) in rows.enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        let object: serde_json::Map<String, serde_json::Value> =
            columns.iter().zip(row).map(|(c, cell)| (c.name.to_string(), cell.json())).collect();
        serde_json::to_writer(&mut w, &object)?;
    }
    w.write_all(b"]")?;
    w.flush()?;
    Ok(())
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
