//! Filling a new database with the demo: twelve quarters of submissions, corrections,
//! conformance results, the published DSPT files and one account per role.

use super::{DemoOptions, quarter_rows};
use crate::domain::{Actor, Quarter, Reference};
use crate::store::Store;
use crate::submit::{Format, Options, Upload, submit};
use anyhow::Result;

/// Submits one demo file; the demo is never rejected.
async fn send(store: &Store, reference: &Reference, today: chrono::NaiveDate, upload: Upload) -> Result<()> {
    let name = upload.filename.clone();
    let submitted = submit(store, reference, &Actor::demo(), upload, Options::on(today)).await?;
    if submitted.answer.is_rejected() {
        anyhow::bail!("the demo file {name:?} was rejected: {:?}", submitted.answer);
    }
    Ok(())
}

/// Fills a database that has never had demo data with twelve quarters of demo submissions
/// (one per quarter) and one set of corrections, so that revisions show.
pub async fn load_demo(store: &Store) -> Result<()> {
    if store.state("demo_loaded").await?.is_some() {
        return Ok(());
    }
    let reference = store.reference().await?;
    let today = chrono::Utc::now().date_naive();
    let options = DemoOptions { trusts: None, quarters: 12, seed: 2016, end: Quarter::last_ended(today) };
    for q in 0..options.quarters {
        let rows = quarter_rows(&reference, &options, q);
        let period = rows.first().map(|r| r.2.to_string()).unwrap_or_default();
        let csv = rows_to_csv(&reference, options.seed, rows.iter().map(|r| (r.0.as_str(), r.1.as_str(), r.2, r.3)))?;
        send(store, &reference, today, Upload::bytes(Format::MetricsCsv, csv, Some(format!("demo-{period}.csv"))))
            .await?;
        // The last two quarters are published as they arrive, so that visitors and trusts see
        // releases and the corrections below are revisions after publication.
        if q + 2 >= options.quarters
            && let Some(first) = rows.first()
        {
            let note = "Demonstration release: the figures are synthetic, not NHS data.";
            crate::publish::publish(store, first.2, note, true, &Actor::demo()).await?;
        }
    }
    // A restatement: some trusts correct a few of their latest values.
    let latest = quarter_rows(&reference, &options, options.quarters - 1);
    let corrections: Vec<_> = latest
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 97 == 0)
        .filter_map(|(_, r)| {
            let m = reference.metric(&r.1)?;
            let span = m.scale_max - m.scale_min;
            let v = if r.3 + span * 0.05 <= m.scale_max { r.3 + span * 0.05 } else { r.3 - span * 0.05 };
            let v = if m.unit == crate::domain::Unit::Boolean { 1.0 - r.3 } else { (v * 10.0).round() / 10.0 };
            Some((r.0.as_str(), r.1.as_str(), r.2, v))
        })
        .collect();
    let csv = rows_to_csv(&reference, options.seed, corrections.into_iter())?;
    send(store, &reference, today, Upload::bytes(Format::MetricsCsv, csv, Some("demo-corrections.csv".into()))).await?;
    let conformance = crate::demo::conformance_csv(&reference, options.seed, today);
    send(
        store,
        &reference,
        today,
        Upload::bytes(Format::ConformanceCsv, conformance, Some("demo-conformance.csv".into())),
    )
    .await?;
    let last_month = crate::domain::uptake::Month::containing(today).offset(-1);
    let uptake = super::uptake::uptake_csv(options.seed, last_month);
    send(store, &reference, today, Upload::bytes(Format::UptakeCsv, uptake, Some("demo-app-uptake.csv".into())))
        .await?;
    for (file, bytes) in DSPT_FILES {
        send(store, &reference, today, Upload::bytes(Format::Dspt, bytes.to_vec(), Some(file.to_string()))).await?;
    }
    for (email, role, org) in DEMO_USERS {
        let hash = crate::auth::password::hash(DEMO_PASSWORD.to_string(), email).await?;
        store.add_user(email, *role, *org, Some(&hash), &Actor::demo()).await?;
    }
    store.set_state("demo_loaded", &crate::store::now_text()).await?;
    Ok(())
}

/// The published DSPT files shipped in `data/`, loaded with the demo data.
pub const DSPT_FILES: &[(&str, &[u8])] = &[
    ("dspt_trusts_2021_22.csv", include_bytes!("../../data/dspt_trusts_2021_22.csv")),
    ("dspt_trusts_2022_23.csv", include_bytes!("../../data/dspt_trusts_2022_23.csv")),
];

/// The demo accounts, one per role, created with the demo data only.
pub const DEMO_USERS: &[(&str, crate::domain::Role, Option<&str>)] = &[
    ("trust@example.org", crate::domain::Role::Trust, Some("RGT")),
    ("board@example.org", crate::domain::Role::Board, None),
    ("analyst@example.org", crate::domain::Role::Analyst, None),
    ("assessor@example.org", crate::domain::Role::Assessor, None),
    ("admin@example.org", crate::domain::Role::Admin, None),
];

/// The demo accounts' password; no other account has a default password.
pub const DEMO_PASSWORD: &str = "exemplar-demo";

fn rows_to_csv<'a>(
    reference: &Reference,
    seed: u64,
    rows: impl Iterator<Item = (&'a str, &'a str, Quarter, f64)>,
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    crate::demo::write_rows(reference, seed, rows, &mut w, true)?;
    Ok(w.into_inner()?)
}
