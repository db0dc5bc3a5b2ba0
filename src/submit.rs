//! Submitting: validate the whole file, then store it all or record why not. Shared by the
//! command line, the web form, the API and the demo loader.

use crate::domain::{Quarter, Reference};
use crate::ingest::RowError;
use crate::ingest::conformance::{ConformanceRow, parse_conformance_csv, parse_test_reports};
use crate::ingest::metrics::{MetricRow, Rules, parse_metric_csv, parse_targets_csv};
use crate::store::{NewSubmission, Outcome, Store, SubmissionKind};
use anyhow::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Who is submitting, from where.
#[derive(Debug, Clone)]
pub struct Submitter {
    pub name: String,
    pub source: String,
    /// A trust submitter's own ODS code: rows for other organisations are refused.
    pub own_org: Option<String>,
}

/// What a submission holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `org_code,metric_id,period,value[,comment]`
    MetricsCsv,
    /// `org_code,metric_id,period,target`
    TargetsCsv,
    /// A FHIR R4 MeasureReport or a Bundle of them.
    MeasureReport,
    /// `subject,standard_id,result,assessed_on[,assessor][,evidence]`
    ConformanceCsv,
    /// A FHIR R4 TestReport or a Bundle of them.
    TestReport,
}

/// Valid rows of a submission, by what they hold.
#[derive(Debug, Clone)]
pub enum Parsed {
    Values(Vec<MetricRow>),
    Conformance(Vec<ConformanceRow>),
}

impl Parsed {
    pub fn len(&self) -> usize {
        match self {
            Parsed::Values(r) => r.len(),
            Parsed::Conformance(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Format {
    pub fn kind(self) -> SubmissionKind {
        match self {
            Format::MetricsCsv | Format::MeasureReport => SubmissionKind::Metrics,
            Format::TargetsCsv => SubmissionKind::Targets,
            Format::ConformanceCsv | Format::TestReport => SubmissionKind::Conformance,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::MetricsCsv => "metrics_csv",
            Format::TargetsCsv => "targets_csv",
            Format::MeasureReport => "measure_report",
            Format::ConformanceCsv => "conformance_csv",
            Format::TestReport => "test_report",
        }
    }

    pub fn parse(text: &str) -> Option<Format> {
        [Format::MetricsCsv, Format::TargetsCsv, Format::MeasureReport, Format::ConformanceCsv, Format::TestReport]
            .into_iter()
            .find(|f| f.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::MetricsCsv => "metric values (CSV)",
            Format::TargetsCsv => "targets (CSV)",
            Format::MeasureReport => "metric values (FHIR MeasureReport)",
            Format::ConformanceCsv => "conformance results (CSV)",
            Format::TestReport => "conformance results (FHIR TestReport)",
        }
    }

    /// Guesses the format of an upload from its first bytes and header.
    pub fn sniff(bytes: &[u8]) -> Format {
        let start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let first = start.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') {
            let resource = serde_json::from_slice::<serde_json::Value>(start)
                .ok()
                .and_then(|v| v.get("resourceType").and_then(|r| r.as_str()).map(str::to_string));
            let bundle_of_tests =
                resource.as_deref() == Some("Bundle") && String::from_utf8_lossy(start).contains("\"TestReport\"");
            return if resource.as_deref() == Some("TestReport") || bundle_of_tests {
                Format::TestReport
            } else {
                Format::MeasureReport
            };
        }
        let header_end = start.iter().position(|b| *b == b'\n').unwrap_or(start.len());
        let header = String::from_utf8_lossy(&start[..header_end]).to_ascii_lowercase();
        let has = |name: &str| header.split(',').any(|c| c.trim() == name);
        if has("standard_id") {
            Format::ConformanceCsv
        } else if has("target") {
            Format::TargetsCsv
        } else {
            Format::MetricsCsv
        }
    }
}

/// The answer to a submission: stored, duplicate, rejected, or (dry run) what would happen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Stored(Outcome),
    DryRun { status: &'static str, rows: usize, errors: Vec<RowError> },
}

impl Answer {
    pub fn is_rejected(&self) -> bool {
        matches!(self, Answer::Stored(Outcome::Rejected { .. }))
            || matches!(self, Answer::DryRun { errors, .. } if !errors.is_empty())
    }

    pub fn errors(&self) -> &[RowError] {
        match self {
            Answer::Stored(Outcome::Rejected { errors, .. }) | Answer::DryRun { errors, .. } => errors,
            _ => &[],
        }
    }
}

pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Validates `bytes` in `format` without storing: the valid rows, or every problem.
pub async fn validate(
    reference: &Reference,
    today: chrono::NaiveDate,
    bytes: std::sync::Arc<Vec<u8>>,
    format: Format,
    own_org: Option<String>,
) -> Result<(usize, Result<Parsed, Vec<RowError>>)> {
    let reference = reference.clone();
    Ok(tokio::task::spawn_blocking(move || {
        let rules = Rules { reference: &reference, today, own_org: own_org.as_deref() };
        let lines = data_lines(&bytes);
        match format {
            Format::MetricsCsv => (lines, parse_metric_csv(bytes.as_slice(), &rules).map(Parsed::Values)),
            Format::TargetsCsv => (lines, parse_targets_csv(bytes.as_slice(), &rules).map(Parsed::Values)),
            Format::ConformanceCsv => (lines, parse_conformance_csv(bytes.as_slice(), &rules).map(Parsed::Conformance)),
            Format::MeasureReport => {
                let parsed = crate::ingest::fhir::parse_measure_reports(&bytes, &rules).map(Parsed::Values);
                (parsed.as_ref().map_or(0, Parsed::len), parsed)
            }
            Format::TestReport => {
                let parsed = parse_test_reports(&bytes, &rules).map(Parsed::Conformance);
                (parsed.as_ref().map_or(0, Parsed::len), parsed)
            }
        }
    })
    .await?)
}

fn data_lines(bytes: &[u8]) -> usize {
    bytes.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count().saturating_sub(1)
}

/// Validates a submission and, unless `dry_run`, stores it all or records the rejection.
#[expect(clippy::too_many_arguments, reason = "each argument is one fact of the submission")]
#[tracing::instrument(skip_all, fields(format = format.as_str(), by = %who.name, dry_run))]
pub async fn submit(
    store: &Store,
    reference: &Reference,
    today: chrono::NaiveDate,
    bytes: Vec<u8>,
    format: Format,
    filename: Option<String>,
    who: &Submitter,
    dry_run: bool,
) -> Result<Answer> {
    let hash = content_hash(&bytes);
    let (total, parsed) = validate(reference, today, std::sync::Arc::new(bytes), format, who.own_org.clone()).await?;
    if dry_run {
        return Ok(match parsed {
            Ok(rows) => Answer::DryRun { status: "valid", rows: rows.len(), errors: Vec::new() },
            Err(errors) => Answer::DryRun { status: "rejected", rows: total, errors },
        });
    }
    let sub = NewSubmission {
        kind: format.kind(),
        content_hash: hash,
        submitted_by: who.name.clone(),
        source: who.source.clone(),
        filename,
        org_code: who.own_org.clone(),
    };
    let outcome = match parsed {
        Ok(Parsed::Values(rows)) if format.kind() == SubmissionKind::Targets => {
            store.store_target_rows(&sub, &rows, Quarter::last_ended(today)).await?
        }
        Ok(Parsed::Values(rows)) => store.store_metric_rows(&sub, rows).await?,
        Ok(Parsed::Conformance(rows)) => store.store_conformance_rows(&sub, &rows).await?,
        Err(errors) => store.record_rejection(&sub, total, errors).await?,
    };
    trace_outcome(&outcome);
    Ok(Answer::Stored(outcome))
}

/// One log line per settled submission, with its id, so that it can be followed through the
/// refresh that brings the figures to its data version (the refresh logs `data_version`: the
/// id of the latest submission).
pub fn trace_outcome(outcome: &crate::store::Outcome) {
    use crate::store::Outcome::*;
    match outcome {
        Accepted { submission_id, rows, stored, .. } => {
            tracing::info!(submission_id, rows, stored, "submission accepted")
        }
        Duplicate { submission_id, original, .. } => {
            tracing::info!(submission_id, original, "submission is a duplicate")
        }
        Rejected { submission_id, rows, errors } => {
            tracing::info!(submission_id, rows, errors = errors.len(), "submission rejected")
        }
    }
}

/// A metric CSV submission; see [`submit`].
pub async fn submit_metrics(
    store: &Store,
    reference: &Reference,
    today: chrono::NaiveDate,
    bytes: Vec<u8>,
    filename: Option<String>,
    who: &Submitter,
    dry_run: bool,
) -> Result<Answer> {
    submit(store, reference, today, bytes, Format::MetricsCsv, filename, who, dry_run).await
}

/// How many valid rows the validator hands the store at a time.
const CHUNK: usize = 8192;

/// Submits a file from disk, as [`submit`] would submit its bytes. A metric CSV is streamed:
/// it is read and validated on one thread while the store writes the valid rows on another,
/// inside the submission's transaction, so that memory stays the same however long the file
/// (see `Store::store_metric_feed`). Other formats are read whole.
#[expect(clippy::too_many_arguments, reason = "each argument is one fact of the submission")]
pub async fn submit_file(
    store: &Store,
    reference: &Reference,
    today: chrono::NaiveDate,
    path: &std::path::Path,
    format: Format,
    filename: Option<String>,
    who: &Submitter,
    dry_run: bool,
) -> Result<Answer> {
    use anyhow::Context;
    if format != Format::MetricsCsv {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        return submit(store, reference, today, bytes, format, filename, who, dry_run).await;
    }
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let (sender, feed) = tokio::sync::mpsc::channel(4);
    let end_sender = sender.clone();
    let (reference, own_org, send) = (reference.clone(), who.own_org.clone(), !dry_run);
    // Answers (valid rows, content hash, data rows, errors).
    let validator = tokio::task::spawn_blocking(move || -> Result<(usize, String, usize, Vec<RowError>)> {
        let rules = Rules { reference: &reference, today, own_org: own_org.as_deref() };
        let mut input = Tally::new(std::io::BufReader::with_capacity(1 << 16, file));
        let (mut chunk, mut valid) = (Vec::with_capacity(CHUNK), 0);
        let errors =
            crate::ingest::metrics::stream_csv(&mut input, &rules, crate::ingest::metrics::CSV_METRICS, |row| {
                valid += 1;
                if send {
                    chunk.push(row);
                    if chunk.len() == CHUNK {
                        // A closed channel means the store has failed: its error is the answer.
                        let _ = sender.blocking_send(crate::store::Feed::Rows(std::mem::take(&mut chunk)));
                    }
                }
            });
        // The whole file counts towards its hash and its rows, even after a row that stops the reader.
        let rest = std::io::copy(&mut input, &mut std::io::sink());
        if let Some(e) = input.error.take() {
            return Err(e.into());
        }
        rest?;
        if errors.is_empty() && !chunk.is_empty() {
            let _ = sender.blocking_send(crate::store::Feed::Rows(chunk));
        }
        let (content_hash, rows) = input.finish();
        Ok((valid, content_hash, rows, errors))
    });
    if dry_run {
        let (valid, _, rows, errors) = validator.await??;
        return Ok(if errors.is_empty() {
            Answer::DryRun { status: "valid", rows: valid, errors }
        } else {
            Answer::DryRun { status: "rejected", rows, errors }
        });
    }
    let sub = NewSubmission {
        kind: format.kind(),
        content_hash: String::new(),
        submitted_by: who.name.clone(),
        source: who.source.clone(),
        filename,
        org_code: who.own_org.clone(),
    };
    // The end of the file is sent from here once the validator has sent its last rows.
    let (stored, ended) = tokio::join!(store.store_metric_feed(&sub, feed), async {
        let (_, content_hash, rows, errors) = validator.await??;
        let _ = end_sender.send(crate::store::Feed::End { content_hash, rows, errors }).await;
        anyhow::Ok(())
    });
    ended?;
    let stored = stored?;
    trace_outcome(&stored);
    Ok(Answer::Stored(stored))
}

/// Reads through, hashing the bytes and counting the data lines as `data_lines` does, and keeps
/// a read error for the caller (the CSV reader would report it as the end of the file).
struct Tally<R> {
    inner: R,
    hash: Sha256,
    lines: usize,
    line_has_text: bool,
    error: Option<std::io::Error>,
}

impl<R> Tally<R> {
    fn new(inner: R) -> Self {
        Self { inner, hash: Sha256::new(), lines: 0, line_has_text: false, error: None }
    }

    /// The content hash, and the lines after the header that are not blank.
    fn finish(self) -> (String, usize) {
        let lines = self.lines + usize::from(self.line_has_text);
        (format!("{:x}", self.hash.finalize()), lines.saturating_sub(1))
    }
}

impl<R: std::io::Read> std::io::Read for Tally<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = match self.inner.read(out) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                let kind = e.kind();
                self.error = Some(e);
                return Err(kind.into());
            }
        };
        self.hash.update(&out[..n]);
        for b in &out[..n] {
            if *b == b'\n' {
                self.lines += usize::from(self.line_has_text);
                self.line_has_text = false;
            } else if !b.is_ascii_whitespace() {
                self.line_has_text = true;
            }
        }
        Ok(n)
    }
}
