//! The rows that cross the layers: a submission's valid rows and row errors, as ingest reads
//! them and the store writes them, and the current values the store hands the figures.

use super::{AssessedAt, Conformance, Quarter};
use chrono::NaiveDate;
use serde::Serialize;

/// Shared text: the codes and names that millions of rows repeat are one allocation each.
pub type Text = std::sync::Arc<str>;

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

/// One valid row of a metric submission (or, with `value` as the target, of a targets file).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub row: usize,
    pub org_code: String,
    pub metric_id: String,
    pub period: Quarter,
    pub value: f64,
    pub comment: Option<String>,
}

/// One valid row of a conformance submission.
#[derive(Debug, Clone, PartialEq)]
pub struct ConformanceRow {
    pub row: usize,
    pub subject: String,
    pub subject_kind: AssessedAt,
    pub standard_id: String,
    pub result: Conformance,
    pub assessed_on: NaiveDate,
    pub assessor: Option<String>,
    pub evidence: Option<String>,
}

/// The current (newest) revision of one value.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct CurrentValue {
    pub org_code: Text,
    pub metric_id: Text,
    pub period_index: i32,
    pub value: f64,
    pub revision: i64,
    pub submitted_at: Text,
}

/// Where a stored submission ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    /// Every row valid; new values stored as revisions.
    Accepted,
    /// Byte-identical to an accepted submission: nothing stored.
    Duplicate,
    /// Some row invalid: nothing stored, every problem kept.
    Rejected,
}

impl SubmissionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::Accepted => "accepted",
            SubmissionStatus::Duplicate => "duplicate",
            SubmissionStatus::Rejected => "rejected",
        }
    }
}

impl std::str::FromStr for SubmissionStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [SubmissionStatus::Accepted, SubmissionStatus::Duplicate, SubmissionStatus::Rejected]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("'{text}' is not a submission status"))
    }
}

impl std::fmt::Display for SubmissionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
