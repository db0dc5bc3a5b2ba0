//! Conformance results: stored all or nothing as a submission; every result kept.

use super::Store;
use super::batch::{Cell, insert};
use super::submissions::{NewSubmission, Outcome, close_submission};
use crate::domain::Conformance;
use crate::domain::ConformanceRow;
use anyhow::Result;
use sqlx::Row;

/// A stored result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConformanceRecord {
    pub id: i64,
    pub subject: String,
    pub subject_kind: String,
    pub standard_id: String,
    pub result: String,
    pub assessed_on: String,
    pub assessor: Option<String>,
    pub evidence: Option<String>,
    pub submission_id: i64,
}

impl ConformanceRecord {
    pub fn result(&self) -> Option<Conformance> {
        self.result.parse().ok()
    }
}

impl Store {
    pub async fn store_conformance_rows(&self, sub: &NewSubmission, rows: &[ConformanceRow]) -> Result<Outcome> {
        let (_guard, mut tx, id) = match self.open_submission(sub, rows.len()).await? {
            Ok(opened) => opened,
            Err(duplicate) => return Ok(duplicate),
        };
        let at = super::now_text();
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.subject.clone()),
                    Cell::Text(r.subject_kind.to_string()),
                    Cell::Text(r.standard_id.clone()),
                    Cell::Text(r.result.to_string()),
                    Cell::Text(r.assessed_on.to_string()),
                    Cell::OptText(r.assessor.clone()),
                    Cell::OptText(r.evidence.clone()),
                    Cell::Int(id),
                    Cell::Text(at.clone()),
                ]
            })
            .collect();
        insert(
            &mut tx,
            "conformance_results",
            &[
                "subject",
                "subject_kind",
                "standard_id",
                "result",
                "assessed_on",
                "assessor",
                "evidence",
                "submission_id",
                "submitted_at",
            ],
            cells,
            "",
        )
        .await?;
        let detail = format!("{} conformance results", rows.len());
        close_submission(tx, sub, id, rows.len(), rows.len(), &detail).await
    }

    /// Every result, oldest first.
    pub async fn conformance_results(&self) -> Result<Vec<ConformanceRecord>> {
        let rows = sqlx::query(
            "SELECT id, subject, subject_kind, standard_id, result, assessed_on, assessor, evidence, submission_id \
             FROM conformance_results ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ConformanceRecord {
                    id: r.try_get(0)?,
                    subject: r.try_get(1)?,
                    subject_kind: r.try_get(2)?,
                    standard_id: r.try_get(3)?,
                    result: r.try_get(4)?,
                    assessed_on: r.try_get(5)?,
                    assessor: r.try_get(6)?,
                    evidence: r.try_get(7)?,
                    submission_id: r.try_get(8)?,
                })
            })
            .collect()
    }
}
