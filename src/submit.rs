//! Submitting metric values: validate the whole file, then store it all or record why not.
//! Shared by the command line, the web form, the API and the demo loader.

use crate::domain::Reference;
use crate::ingest::RowError;
use crate::ingest::metrics::{Rules, parse_metric_csv};
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

/// The answer to a submission: stored, duplicate, rejected, or (dry run) what would happen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Stored(Outcome),
    DryRun {
        status: &'static str,
        rows: usize,
        errors: Vec<RowError>,
    },
}

impl Answer {
    pub fn is_rejected(&self) -> bool {
        matches!(self, Answer::Stored(Outcome::Rejected { .. }))
            || matches!(self, Answer::DryRun { errors, .. } if !errors.is_empty())
    }
}

pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Validates `bytes` as a metric CSV and, unless `dry_run`, stores it all or records the rejection.
pub async fn submit_metrics(
    store: &Store,
    reference: &Reference,
    today: chrono::NaiveDate,
    bytes: Vec<u8>,
    filename: Option<String>,
    who: &Submitter,
    dry_run: bool,
) -> Result<Answer> {
    let hash = content_hash(&bytes);
    let reference_owned = reference.clone();
    let own_org = who.own_org.clone();
    let (parsed, total) = tokio::task::spawn_blocking(move || {
        let total = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .count()
            .saturating_sub(1);
        let rules = Rules {
            reference: &reference_owned,
            today,
            own_org: own_org.as_deref(),
        };
        (parse_metric_csv(bytes.as_slice(), &rules), total)
    })
    .await?;
    if dry_run {
        return Ok(match parsed {
            Ok(rows) => Answer::DryRun {
                status: "valid",
                rows: rows.len(),
                errors: Vec::new(),
            },
            Err(errors) => Answer::DryRun {
                status: "rejected",
                rows: total,
                errors,
            },
        });
    }
    let sub = NewSubmission {
        kind: SubmissionKind::Metrics,
        content_hash: hash,
        submitted_by: who.name.clone(),
        source: who.source.clone(),
        filename,
    };
    Ok(Answer::Stored(match parsed {
        Ok(rows) => store.store_metric_rows(&sub, &rows).await?,
        Err(errors) => store.record_rejection(&sub, total, errors).await?,
    }))
}
