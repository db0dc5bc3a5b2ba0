//! Reading PostgreSQL's values natively from `value_batches` (migration 0008): the arrays come
//! over as they are stored, and each key's current value (its highest revision) is picked here, a
//! quarter and organisation at a time. Through the `metric_values` view the server would unnest
//! and sort every value first, which made reading them all twice as slow as from the one-row-per-
//! value table before (`benches/pg_reads.sh`).

use super::submissions::{CurrentValue, Interner};
use anyhow::Result;
use futures_util::TryStreamExt;
use sqlx::{Connection, PgConnection, Row};

/// Every batch, and one quarter's, the (quarter, organisation) groups together.
macro_rules! batches {
    ($rest:literal) => {
        concat!(
            "SELECT period_index, org_code, submitted_at, metric_ids, revisions, vals, numerators, denominators \
             FROM value_batches ",
            $rest
        )
    };
}

/// The current value of every (organisation, metric, quarter), in key order: what
/// `Store::current_values` gives on every backend.
pub(super) async fn current_values(url: &str) -> Result<Vec<CurrentValue>> {
    let mut conn = PgConnection::connect(url).await?;
    let values = read(sqlx::query(batches!("ORDER BY period_index, org_code")).fetch(&mut conn)).await?;
    conn.close().await?;
    Ok(values)
}

/// Quarter `period`'s current values, for a submission's revision bookkeeping.
pub(super) async fn current_of_quarter(
    conn: &mut PgConnection,
    period: i32,
) -> Result<Vec<super::submissions::Current>> {
    let query = sqlx::query(batches!("WHERE period_index = $1 ORDER BY org_code"));
    let values = read(query.bind(i64::from(period)).fetch(conn)).await?;
    let counts = crate::domain::Counts::numerator;
    Ok(values
        .into_iter()
        .map(|v| {
            let (n, d) = (counts(v.counts), crate::domain::Counts::denominator(v.counts));
            (v.org_code.to_string(), v.metric_id.to_string(), v.value, v.revision, n, d)
        })
        .collect())
}

/// The current values of a stream of batches in (quarter, organisation) order.
async fn read(
    mut rows: futures_util::stream::BoxStream<'_, Result<sqlx::postgres::PgRow, sqlx::Error>>,
) -> Result<Vec<CurrentValue>> {
    let mut intern = Interner::default();
    let mut values = Vec::new();
    // One (quarter, organisation)'s values from all its batches: (metric, revision, value, time,
    // counts).
    type Entry = (crate::domain::Text, i64, f64, crate::domain::Text, Option<crate::domain::Counts>);
    let mut group: Vec<Entry> = Vec::new();
    let mut key: Option<(i32, crate::domain::Text)> = None;
    let flush = |key: &Option<(i32, crate::domain::Text)>, group: &mut Vec<_>, values: &mut Vec<CurrentValue>| {
        let Some((period_index, org_code)) = key else { return };
        group.sort_unstable_by(|a: &Entry, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        for run in group.chunk_by(|a, b| a.0 == b.0) {
            let (metric_id, revision, value, submitted_at, counts) = run.last().expect("a run is never empty").clone();
            values.push(CurrentValue {
                org_code: org_code.clone(),
                metric_id,
                period_index: *period_index,
                value,
                revision,
                submitted_at,
                counts,
            });
        }
        group.clear();
    };
    while let Some(r) = rows.try_next().await? {
        let period_index = r.try_get::<i64, _>(0)? as i32;
        let org = r.try_get_unchecked::<&str, _>(1)?;
        if key.as_ref().is_none_or(|(p, o)| *p != period_index || &**o != org) {
            flush(&key, &mut group, &mut values);
            key = Some((period_index, intern.get(org)));
        }
        let at = intern.get(r.try_get_unchecked::<&str, _>(2)?);
        let metrics: Vec<String> = r.try_get(3)?;
        let revisions: Vec<i64> = r.try_get(4)?;
        let vals: Vec<f64> = r.try_get(5)?;
        let numerators: Option<Vec<Option<i64>>> = r.try_get(6)?;
        let denominators: Option<Vec<Option<i64>>> = r.try_get(7)?;
        for (i, ((metric, revision), value)) in metrics.iter().zip(revisions).zip(vals).enumerate() {
            let count = |c: &Option<Vec<Option<i64>>>| c.as_ref().and_then(|c| c.get(i).copied().flatten());
            let counts = crate::domain::Counts::of(count(&numerators), count(&denominators));
            group.push((intern.get(metric), revision, value, at.clone(), counts));
        }
    }
    flush(&key, &mut group, &mut values);
    Ok(values)
}
