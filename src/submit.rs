//! One submission pipeline for every kind and every channel (the web form, the API, the command
//! line, the demo loader): open, validate the whole file, then store it all or record why not,
//! audit, and log the outcome. See docs/RULES.md §3.5.
//!
//! ```text
//! submit(actor, upload, options)
//!   ├─ a metric CSV on disk → stream: validated on one thread, stored chunk by chunk in one
//!   │                         transaction on another (memory flat however long the file)
//!   └─ anything else        → validate → dry run? answer : store (values, targets, conformance
//!                             results or organisations), or record the rejection
//! ```

mod format;
mod stream;

pub use format::{Format, ImportKind};

use crate::domain::{Actor, ConformanceRow, Errors, MetricRow, Organisation, Quarter, Reference, RowError};
use crate::ingest::conformance::{parse_conformance_csv, parse_test_reports};
use crate::ingest::metrics::{Rules, parse_metric_csv, parse_targets_csv};
use crate::store::{NewSubmission, Outcome, Store, SubmissionKind};
use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// What is submitted: its format, its bytes (or the file holding them) and its file name.
#[derive(Debug, Clone)]
pub struct Upload {
    pub format: Format,
    pub body: Body,
    pub filename: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Body {
    Bytes(Vec<u8>),
    /// A file on disk: a metric CSV is streamed from it, anything else read whole.
    File(PathBuf),
}

impl Upload {
    pub fn bytes(format: Format, bytes: Vec<u8>, filename: Option<String>) -> Self {
        Self { format, body: Body::Bytes(bytes), filename }
    }

    /// A file, named by its last component.
    pub fn file(format: Format, path: PathBuf) -> Self {
        let filename = path.file_name().map(|n| n.to_string_lossy().into_owned());
        Self { format, body: Body::File(path), filename }
    }
}

/// How to submit: the date that decides which quarters have ended, and whether only to check.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub today: chrono::NaiveDate,
    pub dry_run: bool,
}

impl Options {
    pub fn on(today: chrono::NaiveDate) -> Self {
        Self { today, dry_run: false }
    }

    pub fn dry_run(self, dry_run: bool) -> Self {
        Self { dry_run, ..self }
    }
}

/// Valid rows of a submission, by what they hold.
#[derive(Debug, Clone)]
pub enum Parsed {
    Values(Vec<MetricRow>),
    Conformance(Vec<ConformanceRow>),
    Organisations(Vec<Organisation>),
    Uptake(Vec<crate::domain::uptake::UptakeRow>),
}

impl Parsed {
    pub fn len(&self) -> usize {
        match self {
            Parsed::Values(r) => r.len(),
            Parsed::Conformance(r) => r.len(),
            Parsed::Organisations(r) => r.len(),
            Parsed::Uptake(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A submission checked: its data rows, its valid rows or every problem, and notes for the
/// person submitting (rows a published file holds that are left out, with why).
#[derive(Debug, Clone)]
pub struct Validated {
    pub rows: usize,
    pub parsed: Result<Parsed, Errors>,
    pub notes: Vec<String>,
}

/// The answer to a submission: stored, duplicate, rejected, or (dry run) what would happen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Stored(Outcome),
    DryRun {
        status: &'static str,
        rows: usize,
        #[serde(flatten)]
        errors: Errors,
    },
    /// Refused whole: the collection of a quarter it holds has closed (docs/RULES.md §3.7).
    Closed {
        rows: usize,
        message: String,
    },
}

impl Answer {
    pub fn is_rejected(&self) -> bool {
        matches!(self, Answer::Stored(Outcome::Rejected { .. }))
            || matches!(self, Answer::DryRun { errors, .. } if !errors.is_empty())
    }

    pub fn errors(&self) -> Option<&Errors> {
        match self {
            Answer::Stored(Outcome::Rejected { errors, .. }) | Answer::DryRun { errors, .. } => Some(errors),
            _ => None,
        }
    }

    /// The id of the stored (or duplicate, or rejected) submission; none for a dry run.
    pub fn submission_id(&self) -> Option<i64> {
        match self {
            Answer::Stored(
                Outcome::Accepted { submission_id, .. }
                | Outcome::Duplicate { submission_id, .. }
                | Outcome::Rejected { submission_id, .. },
            ) => Some(*submission_id),
            Answer::DryRun { .. } | Answer::Closed { .. } => None,
        }
    }

    fn dry_run(rows: usize, parsed: &Result<Parsed, Errors>) -> Self {
        match parsed {
            Ok(valid) => Answer::DryRun { status: "valid", rows: valid.len(), errors: Errors::new() },
            Err(errors) => Answer::DryRun { status: "rejected", rows, errors: errors.clone() },
        }
    }
}

/// What a submission came to, with notes for the person who sent it.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub answer: Answer,
    pub notes: Vec<String>,
}

pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Submits `upload` as `actor`: validated whole, then stored all or nothing (or, with
/// `dry_run`, only checked). Every channel comes here.
#[tracing::instrument(skip_all, fields(format = upload.format.as_str(), by = %actor.name, via = actor.channel.as_str()))]
pub async fn submit(
    store: &Store,
    reference: &Reference,
    actor: &Actor,
    upload: Upload,
    options: Options,
) -> Result<Submitted> {
    let bytes = match upload.body {
        Body::File(path) if upload.format == Format::MetricsCsv => {
            let answer = stream::submit_file(store, reference, actor, &path, upload.filename, options).await?;
            return Ok(Submitted { answer, notes: Vec::new() });
        }
        Body::File(path) => std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        Body::Bytes(bytes) => bytes,
    };
    let hash = content_hash(&bytes);
    let format = upload.format;
    let Validated { rows, parsed, notes } =
        validate(reference, options.today, std::sync::Arc::new(bytes), format, actor).await?;
    if let (Some(org), Ok(Parsed::Values(valid))) = (&actor.own_org, &parsed) {
        let mut quarters: Vec<String> = valid.iter().map(|r| r.period.to_string()).collect();
        quarters.sort();
        quarters.dedup();
        if let Some(window) = store.closed_to(org, &quarters).await?.first() {
            let message = format!(
                "the collection of {} closed at {}: nothing was stored. An administrator can reopen it for {org} \
                 (exemplar window reopen {} --org {org}).",
                window.quarter, window.closes_at, window.quarter
            );
            return Ok(Submitted { answer: Answer::Closed { rows, message }, notes });
        }
    }
    if options.dry_run {
        return Ok(Submitted { answer: Answer::dry_run(rows, &parsed), notes });
    }
    let sub = NewSubmission::by(actor, format.kind(), hash, upload.filename);
    let outcome = match parsed {
        Ok(Parsed::Values(rows)) if format.kind() == SubmissionKind::Targets => {
            store.store_target_rows(&sub, &rows, Quarter::last_ended(options.today)).await?
        }
        Ok(Parsed::Values(rows)) => store.store_metric_rows(&sub, rows).await?,
        Ok(Parsed::Conformance(rows)) => store.store_conformance_rows(&sub, &rows).await?,
        Ok(Parsed::Organisations(orgs)) => store.store_organisations(&sub, &orgs).await?,
        Ok(Parsed::Uptake(rows)) => store.store_uptake_rows(&sub, &rows).await?,
        Err(errors) => store.record_rejection(&sub, rows, errors).await?,
    };
    trace_outcome(&outcome);
    Ok(Submitted { answer: Answer::Stored(outcome), notes })
}

/// Validates `bytes` in `format` without storing: the valid rows, or every problem.
pub async fn validate(
    reference: &Reference,
    today: chrono::NaiveDate,
    bytes: std::sync::Arc<Vec<u8>>,
    format: Format,
    actor: &Actor,
) -> Result<Validated> {
    let reference = reference.clone();
    let actor = actor.clone();
    Ok(tokio::task::spawn_blocking(move || {
        let rules = Rules::of(&reference, today, &actor);
        let lines = data_lines(&bytes);
        // A FHIR submission's rows are its resources, whether they are valid or not.
        let counted = |parsed: Result<Parsed, Errors>| {
            let rows = parsed.as_ref().map_or_else(|_| fhir_resources(&bytes), Parsed::len);
            Validated { rows, parsed, notes: Vec::new() }
        };
        let read = |parsed| Validated { rows: lines, parsed, notes: Vec::new() };
        match format {
            Format::MetricsCsv => read(parse_metric_csv(bytes.as_slice(), &rules).map(Parsed::Values)),
            Format::TargetsCsv => read(parse_targets_csv(bytes.as_slice(), &rules).map(Parsed::Values)),
            Format::ConformanceCsv => read(parse_conformance_csv(bytes.as_slice(), &rules).map(Parsed::Conformance)),
            Format::MeasureReport => {
                counted(crate::ingest::fhir::parse_measure_reports(&bytes, &rules).map(Parsed::Values))
            }
            Format::TestReport => counted(parse_test_reports(&bytes, &rules).map(Parsed::Conformance)),
            Format::OrganisationsCsv => {
                read(crate::ingest::organisations::parse_organisations(&bytes).map(Parsed::Organisations))
            }
            Format::Dspt => dspt(&bytes, &reference, lines),
            // National counts: sent by analysts and administrators, never for one trust.
            Format::UptakeCsv | Format::UptakeMeasureReport if actor.own_org.is_some() => {
                read(Err(Errors::from(RowError::new(
                    1,
                    "",
                    "NHS App uptake is national data: analysts and administrators send it, not a trust",
                ))))
            }
            Format::UptakeCsv => {
                read(crate::ingest::uptake::parse_uptake_csv(bytes.as_slice(), today).map(Parsed::Uptake))
            }
            Format::UptakeMeasureReport => {
                counted(crate::ingest::uptake::parse_uptake_reports(&bytes, today).map(Parsed::Uptake))
            }
        }
    })
    .await?)
}

/// A published DSPT file: its results, and a note of each status's count and of every row left out.
fn dspt(bytes: &[u8], reference: &Reference, lines: usize) -> Validated {
    match crate::ingest::dspt::parse_dspt(bytes, reference) {
        Ok(found) => {
            let mut notes: Vec<String> =
                found.by_status.iter().map(|(status, n)| format!("{n:>5}  {status}")).collect();
            notes.extend(found.skipped.iter().map(|(row, code, why)| format!("row {row} ({code}): not loaded: {why}")));
            Validated { rows: lines, parsed: Ok(Parsed::Conformance(found.rows)), notes }
        }
        Err(e) => Validated { rows: lines, parsed: Err(RowError::new(1, "", e.to_string()).into()), notes: Vec::new() },
    }
}

/// How many resources a FHIR body holds: a Bundle's entries, or one (none if it is not JSON).
fn fhir_resources(bytes: &[u8]) -> usize {
    #[derive(serde::Deserialize)]
    struct Shape {
        #[serde(rename = "resourceType")]
        resource_type: Option<String>,
        entry: Option<Vec<serde::de::IgnoredAny>>,
    }
    match serde_json::from_slice::<Shape>(bytes) {
        Ok(Shape { resource_type: Some(t), entry }) if t == "Bundle" => entry.map_or(0, |e| e.len()),
        Ok(_) => 1,
        Err(_) => 0,
    }
}

fn data_lines(bytes: &[u8]) -> usize {
    bytes.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count().saturating_sub(1)
}

/// One log line per settled submission, with its id, so that it can be followed through the
/// refresh that brings the figures to its data version (the refresh logs `data_version`: the
/// id of the latest submission).
fn trace_outcome(outcome: &Outcome) {
    match outcome {
        Outcome::Accepted { submission_id, rows, stored, .. } => {
            tracing::info!(submission_id, rows, stored, "submission accepted")
        }
        Outcome::Duplicate { submission_id, original, .. } => {
            tracing::info!(submission_id, original, "submission is a duplicate")
        }
        Outcome::Rejected { submission_id, rows, errors } => {
            tracing::info!(submission_id, rows, errors = errors.total(), "submission rejected")
        }
    }
}
