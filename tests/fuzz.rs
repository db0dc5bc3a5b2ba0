//! Fuzzing the readers of submissions on stable Rust: every file of `tests/fuzz/corpus`, mutated
//! at random (bytes flipped, inserted, deleted, repeated, cut), is read by every reader — metric,
//! target, conformance and organisation CSV, FHIR MeasureReport and TestReport JSON, the DSPT
//! file. None may panic; each answers valid rows or a bounded list of errors on rows the file
//! has, and the same answer twice.
//!
//! `cargo test --test fuzz` runs 256 cases per reader; a longer run (see BENCHMARKS.md) is
//! `PROPTEST_CASES=100000 cargo test --release --test fuzz`. A failure proptest finds is kept in
//! `tests/fuzz.proptest-regressions` and replayed first on every run; each one found is also
//! kept as a named test at the end of this file.

use exemplar::domain::{Errors, Reference};
use exemplar::ingest::metrics::Rules;
use proptest::prelude::*;
use std::sync::OnceLock;

fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| exemplar::ingest::reference::bundled().unwrap())
}

fn corpus() -> &'static Vec<Vec<u8>> {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "json"))
            .collect();
        files.sort();
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    })
}

/// Bytes a reader treats specially, more likely than others to find a fault.
const SPECIAL: &[u8] = b"\",\n\r\0\xff\xef{}[]:\\'-.0123456789QeE ";

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Repeat(usize, usize, usize),
    Cut(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(SPECIAL.to_vec());
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), special.clone()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1..16usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1..64usize, 1..50usize).prop_map(|(i, n, times)| Mutation::Repeat(i, n, times)),
        any::<usize>().prop_map(Mutation::Cut),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
        match *m {
            Mutation::Flip(i, b) if !bytes.is_empty() => {
                let i = at(i, bytes.len());
                bytes[i] ^= b;
            }
            Mutation::Insert(i, b) => {
                let i = at(i, bytes.len() + 1);
                bytes.insert(i, b);
            }
            Mutation::Delete(i, n) if !bytes.is_empty() => {
                let i = at(i, bytes.len());
                bytes.drain(i..(i + n).min(bytes.len()));
            }
            Mutation::Repeat(i, n, times) if !bytes.is_empty() => {
                let i = at(i, bytes.len());
                let piece = bytes[i..(i + n).min(bytes.len())].to_vec();
                for _ in 0..times {
                    bytes.splice(i..i, piece.iter().copied());
                }
            }
            Mutation::Cut(i) => bytes.truncate(at(i, bytes.len() + 1)),
            _ => {}
        }
    }
    bytes
}

/// A corpus file, mutated.
fn input() -> impl Strategy<Value = Vec<u8>> {
    (0..corpus().len(), prop::collection::vec(mutation(), 0..8)).prop_map(|(k, ms)| apply(corpus()[k].clone(), &ms))
}

/// What a bounded, well-placed list of errors looks like.
fn check_errors(errors: &Errors, last_row: usize) -> Result<(), TestCaseError> {
    prop_assert!(!errors.is_empty());
    prop_assert!(errors.listed().len() <= exemplar::domain::rows::MOST_ERRORS_LISTED);
    prop_assert!(errors.total() >= errors.listed().len());
    for e in errors {
        prop_assert!(e.row >= 1 && e.row <= last_row, "row {} of {last_row}: {e}", e.row);
        prop_assert!(e.message.len() <= 303 && e.column.len() <= 103, "{e}");
    }
    Ok(())
}

/// Every reader on `bytes`: no panic, bounded errors on rows the file has, the same answer twice.
fn read_every_way(bytes: &[u8]) -> Result<(), TestCaseError> {
    use exemplar::ingest::{conformance, fhir, metrics, organisations};
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let rules = Rules::new(reference(), today);
    // A row of a CSV is a line of the file (the last one may lack its line feed, and a file
    // with no data rows is told so on row 2, the first that is missing); a FHIR row is a
    // resource of the Bundle.
    let lines = bytes.iter().filter(|b| **b == b'\n' || **b == b'\r').count() + 2;
    let resources = bytes.len() + 1;
    type Reader<'a> = Box<dyn Fn(&[u8]) -> Result<usize, Errors> + 'a>;
    let readers: [(&str, usize, Reader); 6] = [
        ("metrics", lines, Box::new(|b| metrics::parse_metric_csv(b, &rules).map(|r| r.len()))),
        ("targets", lines, Box::new(|b| metrics::parse_targets_csv(b, &rules).map(|r| r.len()))),
        ("conformance", lines, Box::new(|b| conformance::parse_conformance_csv(b, &rules).map(|r| r.len()))),
        ("organisations", lines, Box::new(|b| organisations::parse_organisations(b).map(|r| r.len()))),
        ("measure reports", resources, Box::new(|b| fhir::parse_measure_reports(b, &rules).map(|r| r.len()))),
        ("test reports", resources, Box::new(|b| conformance::parse_test_reports(b, &rules).map(|r| r.len()))),
    ];
    for (name, last_row, read) in readers {
        let first = read(bytes);
        match &first {
            Ok(rows) => prop_assert!(*rows > 0, "{name}: accepted with no rows"),
            Err(errors) => check_errors(errors, last_row).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?,
        }
        prop_assert_eq!(&first, &read(bytes), "{} answers the same twice", name);
    }
    let _ = exemplar::ingest::dspt::parse_dspt(bytes, reference());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_reader_survives_a_mutated_corpus_file(bytes in input()) {
        read_every_way(&bytes)?;
    }

    #[test]
    fn every_reader_survives_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        read_every_way(&bytes)?;
    }
}

#[test]
fn every_corpus_file_reads_as_it_is() {
    for bytes in corpus() {
        read_every_way(bytes).unwrap();
    }
}

/// Found by the fuzzer: a header with no line feed and no rows is refused on row 2.
#[test]
fn a_header_alone_without_a_line_feed_is_refused_on_row_two() {
    let rules = Rules::new(reference(), chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
    let errors = exemplar::ingest::metrics::parse_metric_csv(&b"org_code,metric_id,period,value,comment"[..], &rules)
        .unwrap_err();
    assert_eq!((errors.total(), errors[0].row), (1, 2));
    assert!(errors[0].message.contains("no data rows"));
}

/// Found by the fuzzer: a Bundle without entries was accepted as a TestReport submission of no
/// rows; it is refused, as it is for MeasureReports.
#[test]
fn a_bundle_without_entries_is_refused_by_both_fhir_readers() {
    let rules = Rules::new(reference(), chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
    for body in [
        &br#"{"resourceType":"Bundle","type":"collection","{entry":[]}"#[..],
        br#"{"resourceType":"Bundle","entry":[]}"#,
    ] {
        let tests = exemplar::ingest::conformance::parse_test_reports(body, &rules).unwrap_err();
        let measures = exemplar::ingest::fhir::parse_measure_reports(body, &rules).unwrap_err();
        for errors in [tests, measures] {
            assert_eq!((errors[0].column.as_str(), errors[0].message.as_str()), ("entry", "the Bundle has no entries"));
        }
    }
}
