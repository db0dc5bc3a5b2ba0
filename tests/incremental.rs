//! The incremental refresh gives exactly the tables of a full recompute: random submissions are
//! applied one by one, and after each the refreshed tables are compared with a full recompute.

use exemplar::analytics::{compute, window_periods};
use exemplar::demo::{DemoOptions, quarter_rows, with_synthetic};
use exemplar::domain::Quarter;
use exemplar::figures::Figures;
use exemplar::store::CurrentValue;
use std::collections::BTreeMap;

type Key = (String, String, i32);

fn current(values: &BTreeMap<Key, f64>) -> Vec<CurrentValue> {
    values
        .iter()
        .map(|((org, metric, p), v)| CurrentValue {
            org_code: org.as_str().into(),
            metric_id: metric.as_str().into(),
            period: exemplar::domain::Quarter::from_index(*p),
            value: *v,
            revision: 1,
            submitted_at: "".into(),
            counts: None,
        })
        .collect()
}

/// The demo's values of `options`, by organisation, metric and quarter.
fn demo_values(reference: &exemplar::domain::Reference, options: &DemoOptions) -> BTreeMap<Key, f64> {
    let mut values = BTreeMap::new();
    for q in 0..options.quarters {
        for (org, metric, period, value) in quarter_rows(reference, options, q) {
            values.insert((org, metric, period.index()), value);
        }
    }
    values
}

#[test]
fn incremental_refresh_equals_full_recompute_after_each_random_submission() {
    let reference = with_synthetic(&exemplar::ingest::reference::bundled().unwrap(), 240);
    let options = DemoOptions { trusts: Some(60), quarters: 8, seed: 7, end: Quarter::parse("2026-Q2").unwrap() };
    let mut values = demo_values(&reference, &options);
    let mut figures = Figures::new(
        0,
        String::new(),
        reference.clone(),
        current(&values),
        compute(&reference, &current(&values)).unwrap(),
    );
    let first = Quarter::parse("2024-Q3").unwrap().index();
    let mut rng = fastrand::Rng::with_seed(11);
    for round in 0..12 {
        // A submission for one or two quarters (sometimes a new one after the last): some values
        // revised, some new, for a random set of organisations and metrics.
        let mut periods = vec![first + rng.i32(0..=options.quarters as i32)];
        if round % 3 == 1 {
            periods.push(first + rng.i32(0..options.quarters as i32));
        }
        let mut touched = Vec::new();
        let mut changes = std::collections::HashSet::new();
        for period in periods {
            let orgs: Vec<_> = reference.organisations.iter().filter(|_| rng.f64() < 0.3).take(40).collect();
            for org in orgs {
                for m in reference.metrics.iter().filter(|m| m.applies(org.trust_type)) {
                    if rng.f64() < 0.4 {
                        let v = m.scale_min + (m.scale_max - m.scale_min) * (rng.f64() * 10.0).round() / 10.0;
                        values.insert((org.ods_code.clone(), m.metric_id.clone(), period), v);
                        changes.insert((org.ods_code.clone(), m.metric_id.clone(), period));
                        touched.push(period);
                    }
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        let changed: BTreeMap<Key, f64> = values
            .iter()
            .filter(|(k, _)| touched.contains(&k.2) && changes.contains(&(k.0.clone(), k.1.clone(), k.2)))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        figures = figures.apply(round + 1, current(&changed)).unwrap();
        // Every other round, the older quarters' positions and trends are on disk (as the server
        // keeps them) for the comparison and the next round's refresh.
        if round % 2 == 0 {
            figures.spill_older_now();
        }
        assert_equals_full_recompute(&figures, &reference, &values, round);
    }
}

/// The figures' tables, flags and row order equal those of a full recompute of `values`.
fn assert_equals_full_recompute(
    figures: &Figures,
    reference: &exemplar::domain::Reference,
    values: &BTreeMap<Key, f64>,
    round: i64,
) {
    let all = current(values);
    let full = Figures::new(0, String::new(), reference.clone(), all.clone(), compute(reference, &all).unwrap());
    let (tables, expected) = (figures.tables(), full.tables());
    assert!(!expected.trust_benchmarks.is_empty());
    assert_eq!(tables.benchmarks, expected.benchmarks, "benchmarks after round {round}");
    assert_eq!(tables.trust_benchmarks, expected.trust_benchmarks, "trust benchmarks after round {round}");
    assert_eq!(tables.indices, expected.indices, "indices after round {round}");
    assert_eq!(tables.trends, expected.trends, "trends after round {round}");
    assert_eq!(tables.gaps, expected.gaps, "gaps after round {round}");
    assert_eq!(figures.quality().collect::<Vec<_>>(), full.quality().collect::<Vec<_>>(), "flags after round {round}");
    // Pages and exports read the rows in the figures' own order, quarter by quarter: the
    // same after a refresh, and each quarter's rows in the order of `sort`.
    fn by_quarter<T: Clone>(rows: &[T], period: impl Fn(&T) -> i32) -> Vec<T> {
        let mut rows = rows.to_vec();
        rows.sort_by_key(|r| period(r));
        rows
    }
    let trends: Vec<_> = figures.trends().collect();
    assert_eq!(trends, by_quarter(&expected.trends, |r| r.period.index()), "trend order, round {round}");
    let trust: Vec<_> = figures.trust_benchmarks().collect();
    assert_eq!(trust, by_quarter(&expected.trust_benchmarks, |r| r.period.index()), "trust order, round {round}");
    let indices: Vec<_> = figures.indices().collect();
    assert_eq!(indices, by_quarter(&expected.indices, |r| r.period.index()), "index order, round {round}");
    assert_eq!(figures.value_count(), all.len());
}

/// One trust's whole quarter revised at a time, as a trust resubmits: with values of the same
/// decimal places, of more places (the trust's peer groups are snapped to them), of none (not
/// decimals: those groups and the trust's trends are not snapped) and back; in the latest
/// quarter and in earlier ones.
#[test]
fn a_trusts_revised_quarter_equals_a_full_recompute() {
    let reference = with_synthetic(&exemplar::ingest::reference::bundled().unwrap(), 120);
    let options = DemoOptions { trusts: Some(40), quarters: 6, seed: 3, end: Quarter::parse("2026-Q2").unwrap() };
    let mut values = demo_values(&reference, &options);
    let all = current(&values);
    let mut figures =
        Figures::new(0, String::new(), reference.clone(), all.clone(), compute(&reference, &all).unwrap());
    let latest = values.keys().map(|k| k.2).max().unwrap();
    let orgs: Vec<String> =
        values.keys().map(|k| k.0.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut rng = fastrand::Rng::with_seed(5);
    for round in 0..8i64 {
        // Rounds 2 and 3 revise the same trust's latest quarter: to values that are not
        // decimals, then back.
        let period = if round % 2 == 0 || round == 3 { latest } else { latest - 1 - rng.i32(0..3) };
        let pick = if round == 3 { 2 } else { round as usize };
        let org = &orgs[pick * 13 % orgs.len()];
        let mut changed = BTreeMap::new();
        for (k, v) in values.iter_mut().filter(|(k, _)| k.0 == *org && k.2 == period) {
            let m = reference.metric(&k.1).unwrap();
            let x = rng.f64();
            let places = match round {
                1 | 5 => 1000.0,
                2 => 0.0,
                _ => 10.0,
            };
            let x = if places > 0.0 { (x * places).round() / places } else { x };
            *v = m.scale_min + (m.scale_max - m.scale_min) * x;
            changed.insert(k.clone(), *v);
        }
        assert!(!changed.is_empty(), "the trust has values in quarter {period}");
        figures = figures.apply(round + 1, current(&changed)).unwrap();
        if round % 3 == 0 {
            figures.spill_older_now();
        }
        assert_equals_full_recompute(&figures, &reference, &values, round);
    }
}

#[test]
fn a_change_to_one_quarter_affects_it_and_the_three_after() {
    let q = |i: i32| exemplar::domain::Quarter::from_index(8090 + i);
    assert_eq!(exemplar::analytics::affected_periods(&[q(10), q(11)]), [10, 11, 12, 13, 14].map(q));
    assert_eq!(window_periods(&[q(10)]), (7..=13).map(q).collect::<Vec<_>>());
}

mod common;

/// The app's path: figures refreshed from the previous ones after submissions (and loaded from
/// an older snapshot plus the submissions since) equal a full recompute, on the real store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_path_refreshes_incrementally_and_equals_a_full_recompute() {
    use exemplar::figures::Figures;
    let db = common::TestDb::new();
    let store = exemplar::app::open_store(&db.url).await.unwrap();
    let reference = store.reference().await.unwrap();
    let options = DemoOptions { trusts: Some(30), quarters: 6, seed: 3, end: Quarter::parse("2026-Q2").unwrap() };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let csv = |rows: &[(String, String, Quarter, f64)]| {
        let mut out = String::from("org_code,metric_id,period,value\n");
        for (o, m, p, v) in rows {
            out.push_str(&format!("{o},{m},{p},{v}\n"));
        }
        out.into_bytes()
    };
    let mut all = Vec::new();
    for q in 0..options.quarters {
        all.extend(quarter_rows(&reference, &options, q));
    }
    let answer = common::submit_csv(&store, csv(&all), today, false).await;
    assert!(!answer.is_rejected(), "{answer:?}");
    let mut figures = Figures::load(&store).await.unwrap();
    let snapshot_version = figures.data_version;
    for q in [1usize, 4, 5] {
        // Revise a third of one quarter's values.
        let rows: Vec<_> = quarter_rows(&reference, &options, q)
            .into_iter()
            .step_by(3)
            .map(|(o, m, p, v)| {
                let metric = reference.metric(&m).unwrap();
                let w = if v + 1.0 <= metric.scale_max { v + 1.0 } else { metric.scale_min };
                (o, m, p, w)
            })
            .collect();
        let answer = common::submit_csv(&store, csv(&rows), today, false).await;
        assert!(!answer.is_rejected(), "{answer:?}");
        figures = Figures::refresh(figures, &store).await.unwrap();
        let values = store.current_values().await.unwrap();
        let full = exemplar::analytics::compute(&reference, &values).unwrap();
        assert_eq!(figures.data_version, store.data_version().await.unwrap());
        assert_eq!(figures.value_count(), values.len());
        assert_eq!(figures.tables(), full, "after the revision of quarter {q}");
    }
    // A new instance starts from the older snapshot and catches up with the submissions since.
    assert_eq!(store.snapshot_version(exemplar::figures::SNAPSHOT_FORMAT).await.unwrap(), snapshot_version);
    let started = Figures::load(&store).await.unwrap();
    assert_eq!(started.tables(), figures.tables());
    // Its values and quality flags come from the snapshot too, and equal the refreshed ones.
    let key = |v: &exemplar::store::CurrentValue| format!("{v:?}");
    assert!(started.values().map(|v| key(&v)).eq(figures.values().map(|v| key(&v))));
    assert!(started.quality().eq(figures.quality()));
    assert!(figures.quality().count() > 0, "the revisions raise quality flags to compare");
    // It stored the quarters that changed: the next start reads them as they are.
    assert_eq!(store.snapshot_version(exemplar::figures::SNAPSHOT_FORMAT).await.unwrap(), figures.data_version);
    let again = Figures::load(&store).await.unwrap();
    assert_eq!(again.computed_at, started.computed_at, "read from the snapshot, not recomputed");
    assert_eq!(again.tables(), figures.tables());
    // A snapshot of another format (an older build's) is not read: the figures are computed in
    // full and the snapshot replaced, every quarter of it.
    let format = exemplar::figures::SNAPSHOT_FORMAT;
    let first = *figures.periods.first().unwrap();
    let old =
        vec![exemplar::store::QuarterPayload { period: first, head: Vec::new(), body: b"an older format".to_vec() }];
    assert!(store.put_snapshot(figures.data_version, "2020-01-01T00:00:00Z", format - 1, true, old).await.unwrap());
    assert_eq!(store.snapshot_version(format).await.unwrap(), 0);
    let recomputed = Figures::load(&store).await.unwrap();
    assert_ne!(recomputed.computed_at, "2020-01-01T00:00:00Z");
    assert_eq!(recomputed.tables(), figures.tables());
    assert_eq!(store.snapshot_version(format).await.unwrap(), figures.data_version);
    assert!(store.snapshot(format - 1).await.unwrap().is_none(), "a snapshot is read only in its own format");
    let snapshot = store.snapshot(format).await.unwrap().unwrap();
    assert_eq!(snapshot.heads.len(), figures.periods.len());
    assert_eq!(Figures::load(&store).await.unwrap().computed_at, recomputed.computed_at);
}
