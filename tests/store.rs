//! The store's submission rules, on SQLite by default and on PostgreSQL when
//! `EXEMPLAR_TEST_POSTGRES` is set: revisions, duplicates, all-or-nothing, concurrent writers.

mod common;

use common::{TestDb, small_csv};
use exemplar::app::open_store;
use exemplar::store::{Outcome, Store};
use exemplar::submit::Answer;

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

async fn submit(store: &Store, bytes: Vec<u8>) -> Answer {
    common::submit_csv(store, bytes, today(), false).await
}

/// A store on a database of its own; keep the `TestDb` alive as long as the store.
async fn fresh() -> (TestDb, Store) {
    let db = TestDb::new();
    let store = open_store(&db.url).await.unwrap();
    (db, store)
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_database_is_created_migrated_and_given_the_reference_data_once() {
    let db = TestDb::new();
    let store = open_store(&db.url).await.unwrap();
    let orgs = count(&store, "organisations").await;
    assert!(orgs > 180, "{orgs} organisations");
    let again = open_store(&db.url).await.unwrap();
    assert_eq!(count(&again, "organisations").await, orgs);
    assert_eq!(again.data_version().await.unwrap(), 0);
    let reference = again.reference().await.unwrap();
    assert_eq!(reference.metrics, exemplar::ingest::reference::bundled().unwrap().metrics);
}

#[tokio::test]
async fn a_changed_value_becomes_a_new_revision_and_history_is_kept() {
    let (_db, store) = fresh().await;
    let first = submit(&store, small_csv(&[("RGT", "digital_leadership_capability", "2024-Q2", "3")])).await;
    let Answer::Stored(Outcome::Accepted { submission_id: v1, stored: 1, .. }) = first else { panic!("{first:?}") };
    let second = submit(&store, small_csv(&[("RGT", "digital_leadership_capability", "2024/25 Q1", "4.5")])).await;
    let Answer::Stored(Outcome::Accepted { submission_id: v2, stored: 1, .. }) = second else { panic!("{second:?}") };
    assert!(v2 > v1);
    assert_eq!(store.data_version().await.unwrap(), v2);

    let history = store.value_history("RGT", "digital_leadership_capability").await.unwrap();
    assert_eq!(history.iter().map(|h| (h.revision, h.value)).collect::<Vec<_>>(), vec![(2, 4.5), (1, 3.0)]);
    let current = store.current_values().await.unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!((current[0].value, current[0].revision), (4.5, 2));
}

#[tokio::test]
async fn resending_the_same_value_stores_no_new_revision() {
    let (_db, store) = fresh().await;
    submit(&store, small_csv(&[("RGT", "digital_leadership_capability", "2024-Q2", "3")])).await;
    let again = submit(&store, small_csv(&[("RGT", "digital_leadership_capability", "2024-Q2", "3.0")])).await;
    assert!(matches!(again, Answer::Stored(Outcome::Accepted { stored: 0, unchanged: 1, .. })), "{again:?}");
    assert_eq!(count(&store, "metric_values").await, 1);
}

#[tokio::test]
async fn a_byte_identical_file_is_recognised_and_stores_nothing_new() {
    let (_db, store) = fresh().await;
    let file = small_csv(&[
        ("RGT", "digital_leadership_capability", "2024-Q2", "3"),
        ("RGT", "digital_leadership_capability", "2024-Q3", "3.5"),
    ]);
    let Answer::Stored(Outcome::Accepted { submission_id: first, .. }) = submit(&store, file.clone()).await else {
        panic!()
    };
    let version = store.data_version().await.unwrap();
    let again = submit(&store, file).await;
    assert!(matches!(again, Answer::Stored(Outcome::Duplicate { original, .. }) if original == first), "{again:?}");
    assert_eq!(count(&store, "metric_values").await, 2);
    assert_eq!(store.data_version().await.unwrap(), version);
}

#[tokio::test]
async fn a_file_with_one_bad_row_stores_nothing_and_records_every_error() {
    let (_db, store) = fresh().await;
    let file = small_csv(&[
        ("RGT", "digital_leadership_capability", "2024-Q2", "3"),
        ("RGT", "digital_leadership_capability", "2024-Q3", "9"),
        ("ZZZ99", "digital_leadership_capability", "2024-Q3", "2"),
    ]);
    let answer = submit(&store, file).await;
    let Answer::Stored(Outcome::Rejected { submission_id, errors, .. }) = answer else { panic!("{answer:?}") };
    assert_eq!(
        errors.iter().map(|e| (e.row, e.column.as_str())).collect::<Vec<_>>(),
        vec![(3, "value"), (4, "org_code")]
    );
    assert_eq!(count(&store, "metric_values").await, 0);
    assert_eq!(count(&store, "current_values").await, 0);
    assert_eq!(store.data_version().await.unwrap(), 0);
    let listed = store.submissions(None, 10).await.unwrap();
    assert_eq!(listed[0].id, submission_id);
    assert_eq!((listed[0].status.as_str(), listed[0].errors.total()), ("rejected", 2));
}

#[tokio::test]
async fn a_dry_run_validates_without_storing() {
    let (_db, store) = fresh().await;
    let file = small_csv(&[("RGT", "digital_leadership_capability", "2024-Q2", "3")]);
    let answer = common::submit_csv(&store, file, today(), true).await;
    assert!(matches!(answer, Answer::DryRun { status: "valid", rows: 1, .. }), "{answer:?}");
    assert_eq!(count(&store, "submissions").await, 0);
}

#[tokio::test]
async fn two_submissions_at_the_same_time_are_both_stored_whole() {
    let (_db, store) = fresh().await;
    let a: Vec<_> = (1..=4).map(|q| ("RGT", "digital_leadership_capability", format!("2023-Q{q}"), "3")).collect();
    let b: Vec<_> = (1..=4).map(|q| ("RJ1", "digital_leadership_capability", format!("2023-Q{q}"), "4")).collect();
    let to_csv = |rows: &[(&str, &str, String, &str)]| {
        small_csv(&rows.iter().map(|(o, m, p, v)| (*o, *m, p.as_str(), *v)).collect::<Vec<_>>())
    };
    let (x, y) = tokio::join!(submit(&store, to_csv(&a)), submit(&store, to_csv(&b)));
    assert!(matches!(x, Answer::Stored(Outcome::Accepted { stored: 4, .. })), "{x:?}");
    assert!(matches!(y, Answer::Stored(Outcome::Accepted { stored: 4, .. })), "{y:?}");
    assert_eq!(count(&store, "current_values").await, 8);
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    let (_db, store) = fresh().await;
    submit(&store, small_csv(&[("RGT", "digital_leadership_capability", "2024-Q2", "3")])).await;
    let entries = count(&store, "audit_log").await;
    assert!(entries >= 2, "reference load and submission are audited");
    assert!(sqlx::query("DELETE FROM audit_log").execute(store.pool()).await.is_err());
    assert!(sqlx::query("UPDATE audit_log SET actor = 'x'").execute(store.pool()).await.is_err());
    assert_eq!(count(&store, "audit_log").await, entries);
}

#[tokio::test]
async fn a_comment_with_quotes_and_a_statement_of_its_own_is_stored_as_written() {
    // Both paths: the streamed one writes PostgreSQL's values in COPY text with array literals,
    // where backslashes, quotes, braces, commas, tabs and the word NULL all mean something.
    let comment = "it's \"fine\" \\' \\\\'); DROP TABLE metric_values; -- {a,\tb} NULL";
    let file = format!(
        "org_code,metric_id,period,value,comment\nRGT,digital_leadership_capability,2024-Q2,3,\"{}\"\n",
        comment.replace('"', "\"\"")
    );
    for streamed in [false, true] {
        let (_db, store) = fresh().await;
        let answer = both_paths(&store, file.clone().into_bytes(), false, streamed).await;
        assert!(matches!(answer, Answer::Stored(Outcome::Accepted { stored: 1, .. })), "{answer:?}");
        let history = store.value_history("RGT", "digital_leadership_capability").await.unwrap();
        assert_eq!(history[0].comment.as_deref(), Some(comment), "streamed: {streamed}");
        assert_eq!(count(&store, "metric_values").await, 1);
    }
}

/// One backend's answers to the same sequence of submissions through both paths.
async fn both_paths(store: &Store, bytes: Vec<u8>, dry_run: bool, streamed: bool) -> Answer {
    use exemplar::submit::{Format, Options, Upload, submit};
    let reference = store.reference().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.csv");
    let upload = if streamed {
        std::fs::write(&path, &bytes).unwrap();
        Upload::file(Format::MetricsCsv, path)
    } else {
        Upload::bytes(Format::MetricsCsv, bytes, Some("f.csv".into()))
    };
    let options = Options::on(today()).dry_run(dry_run);
    submit(store, &reference, &exemplar::domain::Actor::operator(), upload, options).await.unwrap().answer
}

/// What a store holds, less the times: every revision, the submissions and the audit log.
/// One stored revision: quarter, trust, metric, revision, value, comment, submission, counts.
type Held = (i64, String, String, i64, f64, Option<String>, i64, Option<i64>, Option<i64>);

async fn holdings(store: &Store) -> (Vec<Held>, Vec<String>) {
    let values = sqlx::query_as(
        "SELECT period_index, org_code, metric_id, revision, value, comment, submission_id, numerator, denominator \
         FROM metric_values \
         ORDER BY period_index, org_code, metric_id, revision",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut log: Vec<String> = store
        .submissions(None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|s| {
            let errors: Vec<String> = s.errors.iter().map(ToString::to_string).collect();
            format!(
                "{} {} {} {} {} {:?} {}",
                s.id,
                s.kind,
                s.status,
                s.rows_total,
                s.rows_stored,
                s.filename,
                errors.join("; ")
            )
        })
        .collect();
    let audit: Vec<(String, String, Option<i64>, String)> =
        sqlx::query_as("SELECT action, subject, submission_id, detail FROM audit_log ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    log.extend(audit.into_iter().map(|a| format!("{a:?}")));
    (values, log)
}

#[tokio::test]
async fn a_file_streamed_from_disk_stores_exactly_what_the_same_bytes_store_errors_included() {
    use exemplar::demo::{DemoOptions, write_demo};
    let (_a, whole) = fresh().await;
    let (_b, streamed) = fresh().await;
    let reference = whole.reference().await.unwrap();
    let end = exemplar::domain::Quarter::parse("2026-Q2").unwrap();
    // Long enough to reach the store in several chunks.
    let options = DemoOptions { trusts: Some(120), quarters: 5, seed: 3, end };
    let mut first = Vec::new();
    let rows = write_demo(&reference, &options, &mut first).unwrap();
    assert!(rows > 20_000, "{rows} rows");
    let text = String::from_utf8(first.clone()).unwrap();
    // Revisions: every other value sent again, a third of them changed to another seed's value
    // for the same key, one with a comment holding quotes; CRLF line ends.
    let mut other = Vec::new();
    write_demo(&reference, &DemoOptions { seed: 4, ..options.clone() }, &mut other).unwrap();
    let other: std::collections::HashMap<String, String> = String::from_utf8(other)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells.len() >= 4).then(|| (cells[..3].join(","), cells[3].to_string()))
        })
        .collect();
    let mut second = String::from("org_code,metric_id,period,value,comment\r\n");
    for (i, line) in text.lines().skip(1).enumerate().filter(|(i, _)| i % 2 == 0) {
        let cells: Vec<&str> = line.split(',').collect();
        let key = cells[..3].join(",");
        let value = match other.get(&key) {
            Some(v) if i % 3 == 0 => v.clone(),
            _ => cells[3].to_string(),
        };
        second.push_str(&format!(
            "{},{},{},{value},{}\r\n",
            cells[0],
            cells[1],
            cells[2],
            if i == 6 { "\"it's \"\"revised\"\" C:\\path\ttab\"" } else { "" }
        ));
    }
    // Problems early, in the middle and after the last chunk: a repeat, an unknown trust, a bad number.
    let lines: Vec<&str> = text.lines().collect();
    let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    bad[3] = "RZZ99,digital_leadership_capability,2026-Q1,3".into();
    let middle = bad.len() / 2;
    bad[middle] = bad[middle + 1].clone();
    let last = bad.len() - 1;
    bad[last] = bad[last].rsplit_once(',').map(|(k, _)| format!("{k},lots")).unwrap();
    let bad = (bad.join("\n") + "\n\n").into_bytes();
    let files = [
        (first.clone(), true),
        (bad.clone(), true),
        (first.clone(), false),
        (bad.clone(), false),
        (second.clone().into_bytes(), false),
        (first.clone(), false),
        (b"org_code,metric_id\n".to_vec(), false),
    ];
    for (bytes, dry_run) in files {
        let a = both_paths(&whole, bytes.clone(), dry_run, false).await;
        let b = both_paths(&streamed, bytes, dry_run, true).await;
        assert_eq!(a, b);
    }
    let (a, b) = (holdings(&whole).await, holdings(&streamed).await);
    assert!(a.0.iter().any(|v| v.3 == 2), "the second file revised values");
    let comment = "it's \"revised\" C:\\path\ttab";
    assert!(a.0.iter().any(|v| v.5.as_deref() == Some(comment)), "the comment is stored as written");
    assert!(a.1.iter().any(|l| l.contains("duplicate")) && a.1.iter().any(|l| l.contains("rejected")));
    assert_eq!(a, b);
}

#[tokio::test]
async fn an_upload_confirmed_several_times_at_once_is_taken_once() {
    let (_db, store) = fresh().await;
    let by = exemplar::domain::Actor::operator();
    let user = store.add_user("t@rgt.example", exemplar::domain::Role::Trust, Some("RGT"), None, &by).await.unwrap();
    let id = store.save_upload(user, "metrics_csv", Some("f.csv"), b"org_code,metric_id,period,value\n").await.unwrap();
    let takes = futures_util::future::join_all((0..5).map(|_| store.take_upload(id, user))).await;
    let taken = takes.into_iter().map(Result::unwrap).filter(Option::is_some).count();
    assert_eq!(taken, 1, "one confirm gets the upload, the others find it gone");
}

#[tokio::test]
async fn counts_are_stored_with_their_revision_by_every_writer() {
    // The whole-file writer and the streaming one (SQLite's or PostgreSQL's COPY) store the same.
    for streamed in [false, true] {
        let (_db, store) = fresh().await;
        let file = |rows: &str| format!("org_code,metric_id,period,value,numerator,denominator\n{rows}").into_bytes();
        let first = file(
            "RGT,eprescribing_coverage,2026-Q1,,850,1000\n\
             RGT,data_security_training,2026-Q1,92.5,7400,8000\n\
             RGT,digital_leadership_capability,2026-Q1,3,,\n",
        );
        let answer = both_paths(&store, first, false, streamed).await;
        assert!(!answer.is_rejected(), "{answer:?}");
        let values = store.current_values().await.unwrap();
        let of = |metric: &str, values: &[exemplar::store::CurrentValue]| {
            let v = values.iter().find(|v| &*v.metric_id == metric).unwrap();
            (v.value, v.revision, v.counts.map(|c| (c.numerator, c.denominator)))
        };
        assert_eq!(of("eprescribing_coverage", &values), (85.0, 1, Some((850, 1000))), "counts alone give the value");
        assert_eq!(of("data_security_training", &values), (92.5, 1, Some((7400, 8000))));
        assert_eq!(of("digital_leadership_capability", &values), (3.0, 1, None));
        // The same value with other counts is a revision; the same value and counts are not.
        let second = file(
            "RGT,eprescribing_coverage,2026-Q1,85,1700,2000\n\
             RGT,data_security_training,2026-Q1,92.5,7400,8000\n",
        );
        let answer = both_paths(&store, second, false, streamed).await;
        assert!(!answer.is_rejected(), "{answer:?}");
        let values = store.current_values().await.unwrap();
        assert_eq!(of("eprescribing_coverage", &values), (85.0, 2, Some((1700, 2000))), "streamed: {streamed}");
        assert_eq!(of("data_security_training", &values), (92.5, 1, Some((7400, 8000))));
        // The history keeps the first counts with the first revision.
        let held = holdings(&store).await.0;
        let first_revision = held.iter().find(|h| h.2 == "eprescribing_coverage" && h.3 == 1).unwrap();
        assert_eq!((first_revision.7, first_revision.8), (Some(850), Some(1000)));
    }
}

/// The database itself refuses a second value with the key (quarter, organisation, metric,
/// revision) of one it holds, whoever writes it: on SQLite the table's primary key, on
/// PostgreSQL the trigger on the batches (migration 0018), also within one batch.
#[tokio::test]
async fn the_database_refuses_a_second_value_with_the_same_key() {
    use exemplar::store::Backend;
    let (_db, store) = fresh().await;
    let first = submit(&store, small_csv(&[("RGT", "digital_leadership_capability", "2024-Q2", "3")])).await;
    let Answer::Stored(Outcome::Accepted { submission_id, .. }) = first else { panic!("{first:?}") };
    let period = exemplar::domain::Quarter::parse("2024-Q2").unwrap().index() as i64;
    let again = |sql: &'static str| sqlx::query(sql).bind(period).bind(submission_id).execute(store.pool());
    let (same_key, within_one) = match store.backend() {
        Backend::Sqlite => (
            again(
                "INSERT INTO metric_values (period_index, org_code, metric_id, revision, value, submission_id, submitted_at) \
                 VALUES ($1, 'RGT', 'digital_leadership_capability', 1, 4, $2, 'now')",
            )
            .await,
            again(
                "INSERT INTO metric_values (period_index, org_code, metric_id, revision, value, submission_id, submitted_at) \
                 VALUES ($1, 'RGT', 'm', 1, 4, $2, 'now'), ($1, 'RGT', 'm', 1, 5, $2, 'now')",
            )
            .await,
        ),
        Backend::Postgres => (
            again(
                "INSERT INTO value_batches (period_index, org_code, submission_id, submitted_at, metric_ids, revisions, vals, comments) \
                 VALUES ($1, 'RGT', $2, 'now', '{digital_leadership_capability,other}', '{1,1}', '{4,5}', '{NULL,NULL}')",
            )
            .await,
            again(
                "INSERT INTO value_batches (period_index, org_code, submission_id, submitted_at, metric_ids, revisions, vals, comments) \
                 VALUES ($1, 'RGT', $2, 'now', '{m,m}', '{1,1}', '{4,5}', '{NULL,NULL}')",
            )
            .await,
        ),
    };
    for refused in [same_key, within_one] {
        let error = refused.expect_err("a repeated key was stored");
        let unique = error.as_database_error().is_some_and(|e| e.is_unique_violation());
        assert!(unique, "{error}");
    }
    assert_eq!(count(&store, "metric_values").await, 1);
    // A value's next revision is still accepted.
    let next = submit(&store, small_csv(&[("RGT", "digital_leadership_capability", "2024-Q2", "4")])).await;
    assert!(matches!(next, Answer::Stored(Outcome::Accepted { stored: 1, .. })), "{next:?}");
}
