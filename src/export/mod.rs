//! The exports of SPEC §7, as CSV or Parquet: fixed columns, filters, empty cells for no value,
//! and CSV text cells guarded against spreadsheet formula injection.

mod conformance;
mod datasets;
mod dictionary;
mod parquet;

pub use datasets::{EXPORTS, write_export};
pub use dictionary::{Column, DICTIONARY};
pub use parquet::{parquet_rows, write_parquet};

use crate::domain::{Quarter, Reference};
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

/// The optional filters every export takes.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Filters {
    pub period: Option<String>,
    pub peer_group: Option<String>,
    pub metric_id: Option<String>,
    /// One ODS code, or several separated by commas.
    pub org_code: Option<String>,
    pub region: Option<String>,
    /// Exemplar cohort: `gde`, `fast_follower` or `none`.
    pub exemplar: Option<String>,
}

/// Filters checked against the reference data.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub period: Option<Quarter>,
    pub peer_group: Option<String>,
    pub metric_id: Option<String>,
    pub org_codes: Vec<String>,
    pub region: Option<String>,
    pub exemplar: Option<crate::domain::Exemplar>,
}

impl Filters {
    /// Checks each given filter; an empty value means no filter.
    pub fn parse(&self, reference: &Reference) -> Result<Filter, String> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let period = given(&self.period).map(|p| Quarter::parse(&p)).transpose().map_err(|e| format!("period: {e}"))?;
        let peer_group = given(&self.peer_group);
        if let Some(p) = &peer_group {
            p.parse::<crate::domain::TrustType>().map_err(|e| format!("peer_group: {e}"))?;
        }
        let metric_id = given(&self.metric_id);
        if let Some(m) = metric_id.as_deref().filter(|m| reference.metric(m).is_none()) {
            return Err(format!("metric_id: unknown metric '{m}'"));
        }
        let org_codes: Vec<String> = given(&self.org_code)
            .map(|o| o.split(',').map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()).collect())
            .unwrap_or_default();
        if let Some(o) = org_codes.iter().find(|o| reference.organisation(o).is_none()) {
            return Err(format!("org_code: unknown organisation '{o}'"));
        }
        let exemplar = given(&self.exemplar).map(|e| e.parse()).transpose().map_err(|e| format!("exemplar: {e}"))?;
        let region = given(&self.region);
        if let Some(r) = region.as_deref().filter(|r| !crate::domain::REGIONS.iter().any(|(_, n)| n == r)) {
            return Err(format!("region: '{r}' is not an NHS England region"));
        }
        Ok(Filter { period, peer_group, metric_id, org_codes, region, exemplar })
    }
}

impl Filter {
    pub fn period_ok(&self, period_index: i32) -> bool {
        self.period.is_none_or(|p| p.index() == period_index)
    }

    pub fn peer_ok(&self, trust_type: &str) -> bool {
        self.peer_group.as_deref().is_none_or(|p| p == trust_type)
    }

    pub fn metric_ok(&self, metric_id: &str) -> bool {
        self.metric_id.as_deref().is_none_or(|m| m == metric_id)
    }

    /// Organisation codes, and region and exemplar cohort through the reference data.
    pub fn org_ok(&self, reference: &Reference, org_code: &str) -> bool {
        let org = reference.organisation(org_code);
        (self.org_codes.is_empty() || self.org_codes.iter().any(|o| o == org_code))
            && self.region.as_deref().is_none_or(|r| org.is_some_and(|o| o.region == r))
            && self.exemplar.is_none_or(|e| org.is_some_and(|o| o.exemplar == e))
    }
}

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

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// Where an export goes: a writer, and the format to write in.
pub struct Out<W> {
    pub writer: W,
    pub format: Format,
}

impl<W> Out<W> {
    pub fn csv(writer: W) -> Self {
        Self { writer, format: Format::Csv }
    }
}

/// Writes a header and rows in `out`'s format.
pub fn write_table<W: Write + Send>(
    out: Out<W>,
    header: &[&str],
    rows: impl Iterator<Item = Vec<Cell>>,
) -> anyhow::Result<()> {
    match out.format {
        Format::Csv => write_csv(out.writer, header, rows),
        Format::Parquet => parquet::write_parquet(out.writer, header, rows),
    }
}

/// Writes a header and rows as RFC 4180 CSV.
fn write_csv<W: Write>(out: W, header: &[&str], rows: impl Iterator<Item = Vec<Cell>>) -> anyhow::Result<()> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
    w.write_record(header)?;
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
