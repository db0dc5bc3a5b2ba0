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

/// The longest message and column name an error keeps, in bytes, and the most characters of a
/// cell a message quotes: an error is small whatever the file held.
const MOST_MESSAGE_BYTES: usize = 300;
const MOST_COLUMN_BYTES: usize = 100;
const MOST_QUOTED_CHARS: usize = 40;

/// `message` with each text it quotes ('…') cut to its first `MOST_QUOTED_CHARS` characters.
fn quoting_less(message: String) -> String {
    if message.matches('\'').count() % 2 == 1 {
        return message; // an apostrophe, not quotations
    }
    let (mut out, mut quoted, mut n) = (String::with_capacity(message.len().min(512)), false, 0);
    for c in message.chars() {
        if c == '\'' {
            quoted = !quoted;
            n = 0;
        } else if quoted {
            n += 1;
            if n > MOST_QUOTED_CHARS {
                if n == MOST_QUOTED_CHARS + 1 {
                    out.push('…');
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// `text` cut to at most `most` bytes at a character boundary, marked with an ellipsis when cut.
fn clipped(mut text: String, most: usize) -> String {
    if text.len() > most {
        let mut end = most;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

impl RowError {
    pub fn new(row: usize, column: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row,
            column: clipped(column.into(), MOST_COLUMN_BYTES),
            message: clipped(quoting_less(message.into()), MOST_MESSAGE_BYTES),
            forbidden: false,
        }
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

/// How many errors a submission lists: the first, by row. Every error is counted, and
/// summarised by column and reason, however many there are.
pub const MOST_ERRORS_LISTED: usize = 1_000;
/// How many kinds of error (column and reason) the summary tells apart; the rest are counted
/// together.
const MOST_ERROR_KINDS: usize = 100;

/// A submission's problems, bounded: the first `MOST_ERRORS_LISTED` errors, how many there
/// were in all, and how many of each kind, so that what a rejection holds (in memory, in its
/// answer and in the database) stays small whatever the file held.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Errors {
    /// The first errors found, in the order they were found.
    #[serde(rename = "errors")]
    listed: Vec<RowError>,
    /// Every error, listed or not.
    #[serde(rename = "error_count")]
    total: usize,
    /// Each kind's count, most frequent first once `finish`ed.
    #[serde(rename = "error_summary")]
    summary: Vec<ErrorKind>,
    #[serde(skip)]
    kinds: std::collections::HashMap<(String, String), usize>,
    /// Some row was for an organisation the submitter may not submit for.
    #[serde(skip)]
    forbidden: bool,
}

/// One kind of error: a column and a reason (the message without the cell text it quotes).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ErrorKind {
    pub column: String,
    pub reason: String,
    pub count: usize,
}

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, error: RowError) {
        self.total += 1;
        self.forbidden |= error.forbidden;
        let mut key = (error.column.clone(), reason(&error.message));
        if !self.kinds.contains_key(&key) && self.kinds.len() >= MOST_ERROR_KINDS {
            key = (String::new(), "other problems".into());
        }
        let next = self.summary.len();
        let k = *self.kinds.entry(key.clone()).or_insert(next);
        if k == next {
            self.summary.push(ErrorKind { column: key.0, reason: key.1, count: 0 });
        }
        self.summary[k].count += 1;
        if self.listed.len() < MOST_ERRORS_LISTED {
            self.listed.push(error);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many errors were found, listed or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The errors listed: the first `MOST_ERRORS_LISTED` found.
    pub fn listed(&self) -> &[RowError] {
        &self.listed
    }

    pub fn iter(&self) -> std::slice::Iter<'_, RowError> {
        self.listed.iter()
    }

    /// How many errors were found but not listed.
    pub fn unlisted(&self) -> usize {
        self.total - self.listed.len()
    }

    pub fn summary(&self) -> &[ErrorKind] {
        &self.summary
    }

    pub fn forbidden(&self) -> bool {
        self.forbidden
    }

    /// Whether an error of `message` was found (listed or not).
    pub fn has_reason(&self, message: &str) -> bool {
        let reason = reason(message);
        self.summary.iter().any(|k| k.reason == reason)
    }

    /// Puts the listed errors in row order and the summary's kinds most frequent first.
    pub fn finish(mut self) -> Self {
        self.listed.sort_by_key(|e| e.row);
        self.summary
            .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| (&a.column, &a.reason).cmp(&(&b.column, &b.reason))));
        self.kinds.clear();
        self
    }

    /// The errors as a submission's row stores them (JSON), and back; a row written before
    /// errors were bounded holds a plain list.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("errors serialise")
    }

    pub fn from_stored(text: &str) -> Result<Self, serde_json::Error> {
        match serde_json::from_str::<Errors>(text) {
            Ok(errors) => Ok(errors),
            Err(_) => Ok(serde_json::from_str::<Vec<RowError>>(text)?.into_iter().collect::<Errors>().finish()),
        }
    }
}

impl Extend<RowError> for Errors {
    fn extend<I: IntoIterator<Item = RowError>>(&mut self, iter: I) {
        for e in iter {
            self.push(e);
        }
    }
}

/// The `i`th listed error.
impl std::ops::Index<usize> for Errors {
    type Output = RowError;

    fn index(&self, i: usize) -> &RowError {
        &self.listed[i]
    }
}

impl From<RowError> for Errors {
    fn from(error: RowError) -> Self {
        std::iter::once(error).collect()
    }
}

impl FromIterator<RowError> for Errors {
    fn from_iter<I: IntoIterator<Item = RowError>>(iter: I) -> Self {
        let mut errors = Errors::new();
        errors.extend(iter);
        errors
    }
}

impl<'a> IntoIterator for &'a Errors {
    type Item = &'a RowError;
    type IntoIter = std::slice::Iter<'a, RowError>;

    fn into_iter(self) -> Self::IntoIter {
        self.listed.iter()
    }
}

/// The reason of an error message: the message with the cell text it quotes ('…') left out,
/// so that errors of one kind share one reason.
fn reason(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '\'' if !quoted => {
                quoted = true;
                out.push_str("'…'");
            }
            '\'' => quoted = false,
            _ if quoted => {}
            c => out.push(c),
        }
    }
    if quoted {
        // An apostrophe, not a quotation: keep the message as it was.
        return message.to_string();
    }
    out
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
    /// The counts behind a proportion, when the row gave them.
    pub counts: Option<Counts>,
}

/// The counts behind a proportion: `numerator` of `denominator` (docs/RULES.md §3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    pub numerator: u32,
    pub denominator: u32,
}

impl Counts {
    /// Counts as stored: both or neither (anything else is not counts).
    pub fn of(numerator: Option<i64>, denominator: Option<i64>) -> Option<Counts> {
        Some(Counts { numerator: u32::try_from(numerator?).ok()?, denominator: u32::try_from(denominator?).ok()? })
    }

    pub fn numerator(c: Option<Counts>) -> Option<i64> {
        c.map(|c| i64::from(c.numerator))
    }

    pub fn denominator(c: Option<Counts>) -> Option<i64> {
        c.map(|c| i64::from(c.denominator))
    }
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
    #[serde(with = "crate::domain::quarter::as_index")]
    pub period: crate::domain::Quarter,
    pub value: f64,
    pub revision: i64,
    pub submitted_at: Text,
    /// The counts behind the value, when the trust sent them.
    #[serde(default)]
    pub counts: Option<Counts>,
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
