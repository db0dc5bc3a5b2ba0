//! NHS App uptake counts (migration 0019): one submission of kind `uptake` stores each changed
//! count as its key's next revision, in the frame every non-value submission shares
//! (`open_submission`, `close_submission`: the duplicate check, the audit entry, all or nothing).

use super::Store;
use super::batch::{Cell, insert};
use super::submissions::{NewSubmission, Outcome, close_submission};
use crate::domain::uptake::{Month, UptakeRow, UptakeValue};
use anyhow::Result;
use sqlx::Row;
use std::collections::HashMap;

type Key = (i32, String, String, String);

impl Store {
    /// Stores validated uptake rows as one submission: each changed count becomes a new
    /// revision; a byte-identical resend stores nothing.
    pub async fn store_uptake_rows(&self, sub: &NewSubmission, rows: &[UptakeRow]) -> Result<Outcome> {
        let (_guard, mut tx, id) = match self.open_submission(sub, rows.len()).await? {
            Ok(opened) => opened,
            Err(duplicate) => return Ok(duplicate),
        };
        let (first, last) = match (rows.iter().map(|r| r.month).min(), rows.iter().map(|r| r.month).max()) {
            (Some(a), Some(b)) => (a.index(), b.index()),
            _ => (0, -1),
        };
        let mut current: HashMap<Key, (f64, i64)> = HashMap::new();
        for r in sqlx::query(
            "SELECT month_index, area_code, measure, age_band, value, revision FROM app_uptake \
             WHERE month_index BETWEEN $1 AND $2 ORDER BY revision",
        )
        .bind(i64::from(first))
        .bind(i64::from(last))
        .fetch_all(&mut *tx)
        .await?
        {
            let key = (r.try_get::<i64, _>(0)? as i32, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            current.insert(key, (r.try_get(4)?, r.try_get(5)?));
        }
        let changed: Vec<(&UptakeRow, i64)> = rows
            .iter()
            .filter_map(|r| {
                let key = (r.month.index(), r.area_code.clone(), r.measure.clone(), r.age_band.to_string());
                match current.get(&key) {
                    Some((value, _)) if *value == r.value => None,
                    Some((_, revision)) => Some((r, revision + 1)),
                    None => Some((r, 1)),
                }
            })
            .collect();
        let at = super::now_text();
        insert(
            &mut tx,
            "app_uptake",
            &["month_index", "area_code", "measure", "age_band", "revision", "value", "submission_id", "submitted_at"],
            changed
                .iter()
                .map(|(r, revision)| {
                    vec![
                        Cell::Int(i64::from(r.month.index())),
                        Cell::Text(r.area_code.clone()),
                        Cell::Text(r.measure.clone()),
                        Cell::Text(r.age_band.to_string()),
                        Cell::Int(*revision),
                        Cell::Float(r.value),
                        Cell::Int(id),
                        Cell::Text(at.clone()),
                    ]
                })
                // Collected first: a borrowing iterator held across the inserts' awaits makes the
                // future not `Send` (a higher-ranked lifetime the compiler cannot prove).
                .collect::<Vec<_>>(),
            "",
        )
        .await?;
        let months = rows.iter().map(|r| r.month).collect::<std::collections::BTreeSet<_>>();
        let span = match (months.first(), months.last()) {
            (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
            (Some(a), _) => a.to_string(),
            _ => String::new(),
        };
        let detail = format!("{} counts, {} new revisions, {span}", rows.len(), changed.len());
        close_submission(tx, sub, id, rows.len(), changed.len(), &detail).await
    }

    /// The current count of every key, by month, area, measure and age band.
    pub async fn uptake(&self) -> Result<Vec<UptakeValue>> {
        let rows = sqlx::query(
            "SELECT month_index, area_code, measure, age_band, value, revision FROM app_uptake \
             ORDER BY month_index, area_code, measure, age_band, revision",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<UptakeValue> = Vec::with_capacity(rows.len());
        for r in rows {
            let value = UptakeValue {
                month: Month::from_index(r.try_get::<i64, _>(0)? as i32),
                area_code: r.try_get(1)?,
                measure: r.try_get(2)?,
                age_band: r.try_get::<String, _>(3)?.parse().map_err(anyhow::Error::msg)?,
                value: r.try_get(4)?,
                revision: r.try_get(5)?,
            };
            // Revisions of one key come in order: the last is the current one.
            if out.last().is_some_and(|v| {
                (v.month, &v.area_code, &v.measure, v.age_band)
                    == (value.month, &value.area_code, &value.measure, value.age_band)
            }) {
                out.pop();
            }
            out.push(value);
        }
        Ok(out)
    }
}
