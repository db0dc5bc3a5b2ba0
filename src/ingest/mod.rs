//! Submissions and reference files in, validated domain rows out; every row error collected.
//! No HTTP and no SQL here.

pub mod columns;
pub mod conformance;
pub mod dspt;
pub mod fhir;
pub mod metrics;
pub mod organisations;
pub mod reference;

use serde::Serialize;

/// One problem with one cell of a submission. `row` is the line of the file (the header is row 1).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
    /// The row is for an organisation the submitter may not submit for.
    #[serde(skip)]
    pub forbidden: bool,
}

impl RowError {
    pub fn new(row: usize, column: impl Into<String>, message: impl Into<String>) -> Self {
        Self { row, column: column.into(), message: message.into(), forbidden: false }
    }

    pub fn forbidden(row: usize, column: impl Into<String>, message: impl Into<String>) -> Self {
        Self { forbidden: true, ..Self::new(row, column, message) }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "row {}: {}", self.row, self.message)
        } else {
            write!(f, "row {}, column {}: {}", self.row, self.column, self.message)
        }
    }
}
