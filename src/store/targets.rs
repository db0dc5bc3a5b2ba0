//! Targets: the value an exemplar trust commits to reach by a quarter, with the quarter it was
//! set in (whose value is the baseline for progress). Revisions as for values.

use super::batch::{Cell, insert};
use super::submissions::{NewSubmission, Outcome, close_submission};
use super::{Store, now_text};
use crate::domain::MetricRow;
use crate::domain::Quarter;
use anyhow::Result;
use sqlx::Row;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Target {
    pub org_code: String,
    pub metric_id: String,
    pub period: Quarter,
    pub target: f64,
    pub set_in: Quarter,
    pub revision: i64,
}

impl Store {
    /// Stores target rows as one submission; `set_in` is the quarter whose value is the baseline.
    pub async fn store_target_rows(&self, sub: &NewSubmission, rows: &[MetricRow], set_in: Quarter) -> Result<Outcome> {
        let (_guard, mut tx, id) = match self.open_submission(sub, rows.len()).await? {
            Ok(opened) => opened,
            Err(duplicate) => return Ok(duplicate),
        };
        let mut latest: HashMap<(String, String, i32), (f64, i64)> = HashMap::new();
        for r in sqlx::query(
            "SELECT t.org_code, t.metric_id, t.period_index, t.target, t.revision FROM targets t WHERE t.revision = \
             (SELECT MAX(x.revision) FROM targets x WHERE x.org_code = t.org_code AND x.metric_id = t.metric_id AND x.period_index = t.period_index)",
        )
        .fetch_all(&mut *tx)
        .await?
        {
            latest.insert(
                (r.try_get(0)?, r.try_get(1)?, r.try_get::<i64, _>(2)? as i32),
                (r.try_get(3)?, r.try_get(4)?),
            );
        }
        let changed: Vec<(&MetricRow, i64)> = rows
            .iter()
            .filter_map(|r| match latest.get(&(r.org_code.clone(), r.metric_id.clone(), r.period.index())) {
                Some((target, _)) if *target == r.value => None,
                Some((_, revision)) => Some((r, revision + 1)),
                None => Some((r, 1)),
            })
            .collect();
        let at = now_text();
        insert(
            &mut tx,
            "targets",
            &[
                "org_code",
                "metric_id",
                "period_index",
                "revision",
                "target",
                "set_in_index",
                "submission_id",
                "submitted_at",
            ],
            changed
                .iter()
                .map(|(r, rev)| {
                    vec![
                        Cell::Text(r.org_code.clone()),
                        Cell::Text(r.metric_id.clone()),
                        Cell::Int(i64::from(r.period.index())),
                        Cell::Int(*rev),
                        Cell::Float(r.value),
                        Cell::Int(i64::from(set_in.index())),
                        Cell::Int(id),
                        Cell::Text(at.clone()),
                    ]
                })
                .collect::<Vec<_>>(),
            "",
        )
        .await?;
        let detail = format!("{} targets, {} new revisions, set in {set_in}", rows.len(), changed.len());
        close_submission(tx, sub, id, rows.len(), changed.len(), &detail).await
    }

    /// The latest revision of every target.
    pub async fn targets(&self) -> Result<Vec<Target>> {
        self.targets_at(i64::MAX).await
    }

    /// The latest revision of every target among those submitted up to data version `version`.
    pub async fn targets_at(&self, version: i64) -> Result<Vec<Target>> {
        let rows = sqlx::query(
            "SELECT t.org_code, t.metric_id, t.period_index, t.target, t.set_in_index, t.revision FROM targets t \
             WHERE t.submission_id <= $1 AND t.revision = \
             (SELECT MAX(x.revision) FROM targets x WHERE x.org_code = t.org_code AND x.metric_id = t.metric_id \
              AND x.period_index = t.period_index AND x.submission_id <= $1) \
             ORDER BY t.org_code, t.metric_id, t.period_index",
        )
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Target {
                    org_code: r.try_get(0)?,
                    metric_id: r.try_get(1)?,
                    period: Quarter::from_index(r.try_get::<i64, _>(2)? as i32),
                    target: r.try_get(3)?,
                    set_in: Quarter::from_index(r.try_get::<i64, _>(4)? as i32),
                    revision: r.try_get(5)?,
                })
            })
            .collect()
    }
}
