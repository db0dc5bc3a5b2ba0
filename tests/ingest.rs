//! Metric submissions (docs/RULES.md §3.1) parsed against the bundled reference data.
//!
//! Every refused input is checked for the row, the column and a distinctive part of the reason,
//! and for the absence of any accepted rows. The header is row 1, so the first data row is row 2.
//! Today is fixed at 2026-11-26: the last quarter that has ended is 2026-Q3.
//!
//! Codes used, with their types in the bundled data: RGT (Cambridge University Hospitals, acute),
//! R0A (Manchester University, acute), RRU (London Ambulance Service, ambulance).

use chrono::NaiveDate;
use exemplar::domain::{Quarter, Reference, TrustType};
use exemplar::ingest::metrics::{MetricRow, Rules, parse_metric_csv};
use exemplar::ingest::reference::bundled;
use exemplar::ingest::{Errors, RowError};
use std::sync::OnceLock;

const HEADER: &str = "org_code,metric_id,period,value\n";

fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| bundled().expect("the bundled reference data loads"))
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn rules() -> Rules<'static> {
    Rules::new(reference(), today())
}

fn quarter(text: &str) -> Quarter {
    Quarter::parse(text).unwrap()
}

/// A file made of the standard header and `rows`, each ending in a line feed.
fn csv(rows: &[&str]) -> Vec<u8> {
    let mut text = HEADER.to_string();
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text.into_bytes()
}

fn parse_with(bytes: &[u8], rules: &Rules<'_>) -> Result<Vec<MetricRow>, Errors> {
    parse_metric_csv(bytes, rules)
}

fn parse(bytes: &[u8]) -> Result<Vec<MetricRow>, Errors> {
    parse_with(bytes, &rules())
}

fn accepted(result: Result<Vec<MetricRow>, Errors>) -> Vec<MetricRow> {
    match result {
        Ok(rows) => rows,
        Err(errors) => panic!("expected the file to be accepted, got {errors:#?}"),
    }
}

fn refused(result: Result<Vec<MetricRow>, Errors>) -> Vec<RowError> {
    match result {
        Ok(rows) => panic!("expected the file to be refused, got Ok with {rows:#?}"),
        Err(errors) => errors.listed().to_vec(),
    }
}

/// The single error of a refused file.
fn only_error(result: Result<Vec<MetricRow>, Errors>) -> RowError {
    let errors = refused(result);
    assert_eq!(errors.len(), 1, "expected exactly one error, got {errors:#?}");
    errors.into_iter().next().unwrap()
}

fn assert_error(error: &RowError, row: usize, column: &str, part: &str) {
    assert_eq!(error.row, row, "row of {error:?}");
    assert_eq!(error.column, column, "column of {error:?}");
    assert!(error.message.contains(part), "message of {error:?} should contain {part:?}");
}

fn trust_type(code: &str) -> TrustType {
    reference().organisation(code).unwrap_or_else(|| panic!("{code} is in the bundled data")).trust_type
}

// ---------------------------------------------------------------------------------------------
// The header
// ---------------------------------------------------------------------------------------------

#[test]
fn a_missing_required_column_is_refused_on_row_one_naming_the_column() {
    let file = b"org_code,metric_id,period\nRGT,epr_capability,2024-Q2\n";

    let error = only_error(parse(file));

    assert_error(&error, 1, "value", "required column is missing");
}

#[test]
fn an_unknown_column_is_refused_on_row_one_listing_the_expected_columns() {
    let file = b"org_code,metric_id,period,value,notes\nRGT,epr_capability,2024-Q2,3,x\n";

    let error = only_error(parse(file));

    assert_error(&error, 1, "notes", "unknown column");
    assert!(error.message.contains("org_code, metric_id, period, value"));
    assert!(error.message.contains("optionally comment"));
}

#[test]
fn a_repeated_column_is_refused_on_row_one_naming_the_column() {
    let file = b"org_code,metric_id,period,value,VALUE\nRGT,epr_capability,2024-Q2,3,4\n";

    let error = only_error(parse(file));

    assert_error(&error, 1, "value", "more than once");
}

#[test]
fn an_empty_file_is_refused_as_empty() {
    let file = b"";

    let error = only_error(parse(file));

    assert_error(&error, 1, "", "the file is empty");
}

#[test]
fn a_file_of_blank_lines_is_refused_as_empty() {
    let file = b"\r\n\n  \n";

    let error = only_error(parse(file));

    assert_error(&error, 1, "", "the file is empty");
}

#[test]
fn a_header_with_no_data_rows_is_refused_on_row_two() {
    let file = HEADER.as_bytes();

    let error = only_error(parse(file));

    assert_error(&error, 2, "", "no data rows");
}

#[test]
fn a_header_followed_only_by_blank_lines_is_refused_as_having_no_data_rows() {
    let file = b"org_code,metric_id,period,value\r\n\r\n\r\n";

    let error = only_error(parse(file));

    assert_error(&error, 2, "", "no data rows");
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

#[test]
fn a_value_that_is_not_a_number_is_refused_with_its_row_and_column() {
    let file = csv(&["RGT,epr_capability,2024-Q2,abc"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "value", "'abc' is not a plain decimal number");
}

#[test]
fn a_value_with_a_thousands_separator_is_refused_with_its_row_and_column() {
    let file = csv(&["RGT,paper_records_retrieved,2024-Q2,\"1,234\""]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "value", "'1,234' has a comma");
}

#[test]
fn a_value_with_a_percent_sign_is_refused_with_its_row_and_column() {
    let file = csv(&["RGT,eprescribing_coverage,2024-Q2,45%"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "value", "'45%' has a % sign");
}

#[test]
fn nan_and_infinities_are_refused_each_on_its_own_row() {
    let file = csv(&[
        "RGT,eprescribing_coverage,2024-Q2,NaN",
        "RGT,eprescribing_coverage,2024-Q3,inf",
        "RGT,critical_patch_days,2024-Q2,-Infinity",
    ]);

    let errors = refused(parse(&file));

    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_error(&errors[0], 2, "value", "'NaN' is not a number");
    assert_error(&errors[1], 3, "value", "'inf' is not a number");
    assert_error(&errors[2], 4, "value", "'-Infinity' is not a number");
    for error in &errors {
        assert!(error.message.contains("NaN and infinity are not values"));
    }
}

#[test]
fn a_score_off_its_metrics_scale_is_refused_naming_the_scale() {
    let metric = reference().metric("digital_leadership_capability").unwrap();
    assert_eq!((metric.scale_min, metric.scale_max), (1.0, 5.0));
    let file = csv(&["RGT,digital_leadership_capability,2024-Q2,7"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "value", "7 is outside the scale of digital_leadership_capability (1 to 5)");
}

#[test]
fn a_score_below_its_metrics_scale_is_refused() {
    let file = csv(&["RGT,digital_leadership_capability,2024-Q2,0"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "value", "outside the scale");
}

#[test]
fn an_empty_value_is_refused_as_empty() {
    let file = csv(&["RGT,epr_capability,2024-Q2,"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "value", "the value is empty");
}

#[test]
fn a_word_that_is_not_yes_or_no_is_refused_for_a_boolean_metric() {
    let file = csv(&["RGT,offline_backup_tested,2024-Q2,maybe"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "value", "'maybe' is not a yes/no value");
}

// ---------------------------------------------------------------------------------------------
// Organisations and metrics
// ---------------------------------------------------------------------------------------------

#[test]
fn an_unknown_organisation_with_a_well_formed_code_is_refused() {
    assert!(reference().organisation("ZZZ99").is_none());
    let file = csv(&["ZZZ99,epr_capability,2024-Q2,3"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "org_code", "unknown organisation 'ZZZ99'");
}

#[test]
fn a_malformed_ods_code_is_refused_as_not_an_ods_code() {
    let file = csv(&["R-J1,epr_capability,2024-Q2,3"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "org_code", "'R-J1' is not an ODS code");
}

#[test]
fn an_empty_organisation_code_is_refused_as_empty() {
    let file = csv(&[",epr_capability,2024-Q2,3"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "org_code", "the organisation code is empty");
}

#[test]
fn an_unknown_metric_is_refused_naming_it() {
    assert!(reference().metric("epr_wizardry").is_none());
    let file = csv(&["RGT,epr_wizardry,2024-Q2,3"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "metric_id", "unknown metric 'epr_wizardry'");
}

#[test]
fn a_metric_id_that_is_not_snake_case_is_refused() {
    let file = csv(&["RGT,EPR-Capability,2024-Q2,3"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "metric_id", "is not a metric id");
}

#[test]
fn an_ambulance_only_metric_is_refused_for_an_acute_trust() {
    assert_eq!(trust_type("RGT"), TrustType::Acute);
    let metric = reference().metric("vehicle_connectivity").unwrap();
    assert_eq!(metric.applies_to, vec![TrustType::Ambulance]);
    let file = csv(&["RGT,vehicle_connectivity,2024-Q2,50"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "metric_id", "vehicle_connectivity does not apply to acute trusts like RGT");
}

#[test]
fn an_ambulance_only_metric_is_accepted_for_an_ambulance_trust() {
    assert_eq!(trust_type("RRU"), TrustType::Ambulance);
    let file = csv(&["RRU,vehicle_connectivity,2024-Q2,50"]);

    let rows = accepted(parse(&file));

    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].org_code, "RRU");
    assert_eq!(rows[0].value, 50.0);
}

// ---------------------------------------------------------------------------------------------
// Periods
// ---------------------------------------------------------------------------------------------

#[test]
fn the_same_org_metric_and_quarter_twice_is_refused_on_the_later_row_naming_the_earlier() {
    let file = csv(&["RGT,epr_capability,2024-Q2,3", "RGT,epr_capability,2024-Q3,3", "RGT,epr_capability,2024-Q2,4"]);

    let error = only_error(parse(&file));

    assert_error(&error, 4, "period", "RGT epr_capability 2024-Q2 is already given in row 2");
}

#[test]
fn the_same_quarter_in_calendar_and_financial_year_form_is_a_repeat() {
    let file = csv(&["RGT,epr_capability,2024-Q2,3", "RGT,epr_capability,2024/25 Q1,4"]);

    let error = only_error(parse(&file));

    assert_error(&error, 3, "period", "already given in row 2");
    assert!(error.message.contains("2024-Q2"));
}

#[test]
fn the_same_trust_in_lower_case_and_upper_case_is_a_repeat() {
    let file = csv(&["RGT,epr_capability,2024-Q2,3", "rgt,epr_capability,2024-Q2,4"]);

    let error = only_error(parse(&file));

    assert_error(&error, 3, "period", "RGT epr_capability 2024-Q2 is already given in row 2");
}

#[test]
fn a_quarter_that_has_not_ended_is_refused_while_the_last_ended_quarter_passes() {
    let future = csv(&["RGT,epr_capability,2026-Q4,3"]);
    let past = csv(&["RGT,epr_capability,2026-Q3,3"]);

    let error = only_error(parse(&future));
    let rows = accepted(parse(&past));

    assert_error(&error, 2, "period", "2026-Q4 (2026/27 Q3) has not ended yet");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].period, quarter("2026-Q3"));
}

#[test]
fn a_quarter_that_has_not_ended_is_refused_in_financial_year_form_too() {
    let file = csv(&["RGT,epr_capability,2026/27 Q3,3"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "period", "2026-Q4 (2026/27 Q3) has not ended yet");
}

#[test]
fn a_fifth_quarter_is_refused_as_not_existing() {
    let file = csv(&["RGT,epr_capability,2024-Q5,3"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "period", "quarters 1 to 4");
}

#[test]
fn a_quarter_written_with_the_year_last_is_refused_as_not_a_quarter() {
    let file = csv(&["RGT,epr_capability,Q1 2024,3"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "period", "'Q1 2024' is not a quarter");
    assert!(error.message.contains("write 2024-Q2 or 2024/25 Q1"));
}

#[test]
fn a_financial_year_that_does_not_follow_its_start_is_refused() {
    let file = csv(&["RGT,epr_capability,2024/26 Q1,3"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "period", "is not a financial year");
}

// ---------------------------------------------------------------------------------------------
// Rows and bytes
// ---------------------------------------------------------------------------------------------

#[test]
fn a_row_with_too_few_cells_is_refused_counting_its_cells() {
    let file = csv(&["RGT,epr_capability,2024-Q2,3", "RGT,epr_capability,2024-Q3"]);

    let error = only_error(parse(&file));

    assert_error(&error, 3, "", "this row has 3 cells but the header has 4");
}

#[test]
fn a_row_with_too_many_cells_is_refused_counting_its_cells() {
    let file = csv(&["RGT,epr_capability,2024-Q2,3,extra"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "", "this row has 5 cells but the header has 4");
}

#[test]
fn bytes_that_are_not_utf8_in_a_cell_are_refused_with_their_row_and_column() {
    let mut file = csv(&["RGT,epr_capability,2024-Q2,3"]);
    file.extend_from_slice(b"RGT,epr_capability,2024-Q3,\xff\xfe\n");

    let error = only_error(parse(&file));

    assert_error(&error, 3, "value", "not UTF-8");
}

#[test]
fn bytes_that_are_not_utf8_in_a_comment_are_refused_with_their_row_and_column() {
    let file = b"org_code,metric_id,period,value,comment\nRGT,epr_capability,2024-Q2,3,caf\xe9\n";

    let error = only_error(parse(file));

    assert_error(&error, 2, "comment", "not UTF-8");
}

#[test]
fn bytes_that_are_not_utf8_in_a_column_name_are_refused_on_row_one() {
    let file = b"org_code,metric_id,period,value,\xff\nRGT,epr_capability,2024-Q2,3,x\n";

    let error = only_error(parse(file));

    assert_error(&error, 1, "#5", "column name is not UTF-8");
}

#[test]
fn a_file_with_several_problems_reports_every_one_with_its_row() {
    let file = csv(&[
        "RGT,epr_capability,2024-Q2,3",                // row 2: valid
        "ZZZ99,epr_capability,2024-Q2,3",              // row 3: unknown organisation
        "RGT,eprescribing_coverage,2024-Q2,abc",       // row 4: not a number
        "RGT,cyber_incidents,2026-Q4,2",               // row 5: quarter not ended
        "RGT,mfa_coverage,2024-Q2",                    // row 6: too few cells
        "RGT,epr_wizardry,2024-Q2,3",                  // row 7: unknown metric
        "RGT,epr_capability,2024/25 Q1,4",             // row 8: repeats row 2
        "RGT,digital_leadership_capability,2024-Q2,7", // row 9: off the scale
        "RGT,vehicle_connectivity,2024-Q2,50",         // row 10: not for acute trusts
        "RGT,mfa_coverage,2024-Q2,88",                 // row 11: valid
    ]);

    let errors = refused(parse(&file));

    let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
    assert_eq!(
        found,
        vec![
            (3, "org_code"),
            (4, "value"),
            (5, "period"),
            (6, ""),
            (7, "metric_id"),
            (8, "period"),
            (9, "value"),
            (10, "metric_id"),
        ],
        "{errors:#?}"
    );
    assert!(errors[0].message.contains("unknown organisation 'ZZZ99'"));
    assert!(errors[1].message.contains("'abc' is not a plain decimal number"));
    assert!(errors[2].message.contains("has not ended yet"));
    assert!(errors[3].message.contains("3 cells but the header has 4"));
    assert!(errors[4].message.contains("unknown metric 'epr_wizardry'"));
    assert!(errors[5].message.contains("already given in row 2"));
    assert!(errors[6].message.contains("outside the scale"));
    assert!(errors[7].message.contains("does not apply to acute trusts"));
}

#[test]
fn a_row_with_problems_in_several_cells_reports_each_cell() {
    let file = csv(&["R-J1,epr_wizardry,2024-Q5,3"]);

    let errors = refused(parse(&file));

    let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(columns, vec!["org_code", "metric_id", "period"], "{errors:#?}");
    assert!(errors.iter().all(|e| e.row == 2));
}

#[test]
fn a_whitespace_only_line_is_skipped_and_later_rows_keep_their_line_numbers() {
    let file = csv(&["RGT,epr_capability,2024-Q2,3", "   ", "RGT,epr_capability,2024-Q3,abc"]);

    let error = only_error(parse(&file));

    assert_error(&error, 4, "value", "not a plain decimal number");
}

/// `RowError::row` is the line of the file, so an empty line counts like a whitespace-only one.
#[test]
fn an_empty_line_is_skipped_and_later_rows_keep_their_line_numbers() {
    let file = csv(&["RGT,epr_capability,2024-Q2,3", "", "RGT,epr_capability,2024-Q3,abc"]);

    let error = only_error(parse(&file));

    assert_error(&error, 4, "value", "not a plain decimal number");
}

// ---------------------------------------------------------------------------------------------
// Accepted forms
// ---------------------------------------------------------------------------------------------

#[test]
fn a_valid_row_is_parsed_into_its_fields() {
    let file = csv(&["RGT,eprescribing_coverage,2024-Q2, 87.5 "]);

    let rows = accepted(parse(&file));

    assert_eq!(
        rows,
        vec![MetricRow {
            row: 2,
            org_code: "RGT".into(),
            metric_id: "eprescribing_coverage".into(),
            period: quarter("2024-Q2"),
            value: 87.5,
            comment: None,
            counts: None,
        }]
    );
}

#[test]
fn a_utf8_byte_order_mark_before_the_header_is_accepted() {
    let mut file = b"\xEF\xBB\xBF".to_vec();
    file.extend_from_slice(&csv(&["RGT,epr_capability,2024-Q2,3"]));

    let rows = accepted(parse(&file));

    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].row, 2);
    assert_eq!(rows[0].org_code, "RGT");
}

#[test]
fn a_byte_order_mark_before_a_quoted_header_is_accepted() {
    let file = b"\xEF\xBB\xBF\"org_code\",\"metric_id\",\"period\",\"value\"\nRGT,epr_capability,2024-Q2,3\n";

    let rows = accepted(parse(file));

    assert_eq!(rows.len(), 1);
}

#[test]
fn crlf_line_ends_are_accepted() {
    let file = b"org_code,metric_id,period,value\r\nRGT,epr_capability,2024-Q2,3\r\nRGT,epr_capability,2024-Q3,4\r\n";

    let rows = accepted(parse(file));

    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].period, quarter("2024-Q2"));
    assert_eq!(rows[1].period, quarter("2024-Q3"));
    assert_eq!(rows[1].value, 4.0);
}

#[test]
fn crlf_line_ends_refuse_bad_rows_as_lf_line_ends_do() {
    let file = b"org_code,metric_id,period,value\r\nRGT,epr_capability,2024-Q2,3\r\nRGT,epr_capability,2024-Q3,abc\r\n";

    let error = only_error(parse(file));

    assert_eq!(error.column, "value");
    assert!(error.message.contains("'abc' is not a plain decimal number"));
}

/// Row numbers do not depend on the line ends: the first data row is row 2 with CRLF too.
#[test]
fn crlf_line_ends_keep_the_row_numbers_of_errors() {
    let file = b"org_code,metric_id,period,value\r\nRGT,epr_capability,2024-Q2,3\r\nRGT,epr_capability,2024-Q3,abc\r\n";

    let error = only_error(parse(file));

    assert_error(&error, 3, "value", "not a plain decimal number");
}

/// The parsed rows carry the same row numbers with CRLF line ends as with LF.
#[test]
fn crlf_line_ends_keep_the_row_numbers_of_accepted_rows() {
    let file = b"org_code,metric_id,period,value\r\nRGT,epr_capability,2024-Q2,3\r\nRGT,epr_capability,2024-Q3,4\r\n";

    let rows = accepted(parse(file));

    let numbers: Vec<usize> = rows.iter().map(|r| r.row).collect();
    assert_eq!(numbers, vec![2, 3]);
}

#[test]
fn upper_case_column_names_are_accepted() {
    let file = b"ORG_CODE,Metric_ID,PERIOD,Value\nRGT,epr_capability,2024-Q2,3\n";

    let rows = accepted(parse(file));

    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].metric_id, "epr_capability");
}

#[test]
fn columns_in_another_order_are_read_by_name() {
    let file = b"value,period,org_code,metric_id\n64,2024-Q3,RGT,mfa_coverage\n";

    let rows = accepted(parse(file));

    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].org_code, "RGT");
    assert_eq!(rows[0].metric_id, "mfa_coverage");
    assert_eq!(rows[0].period, quarter("2024-Q3"));
    assert_eq!(rows[0].value, 64.0);
}

#[test]
fn an_optional_comment_column_is_accepted_and_kept_per_row() {
    let file = b"org_code,metric_id,period,value,comment\n\
        RGT,epr_capability,2024-Q2,3,\"Go-live of phase 2, wards 1-4\"\n\
        RGT,epr_capability,2024-Q3,4,   \n";

    let rows = accepted(parse(file));

    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].comment.as_deref(), Some("Go-live of phase 2, wards 1-4"));
    assert_eq!(rows[1].comment, None);
}

#[test]
fn a_comment_column_may_come_first() {
    let file = b"comment,org_code,metric_id,period,value\nchecked,RGT,epr_capability,2024-Q2,3\n";

    let rows = accepted(parse(file));

    assert_eq!(rows[0].comment.as_deref(), Some("checked"));
    assert_eq!(rows[0].value, 3.0);
}

#[test]
fn boolean_words_are_accepted_for_a_boolean_metric() {
    let metric = reference().metric("offline_backup_tested").unwrap();
    assert_eq!(metric.unit.as_str(), "boolean");
    let file = csv(&[
        "RGT,offline_backup_tested,2024-Q1,yes",
        "RGT,offline_backup_tested,2024-Q2,no",
        "RGT,offline_backup_tested,2024-Q3,true",
        "RGT,offline_backup_tested,2024-Q4,false",
        "RGT,offline_backup_tested,2025-Q1,1",
        "RGT,offline_backup_tested,2025-Q2,0",
        "RGT,offline_backup_tested,2025-Q3,YES",
    ]);

    let rows = accepted(parse(&file));

    let values: Vec<f64> = rows.iter().map(|r| r.value).collect();
    assert_eq!(values, vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
}

#[test]
fn boolean_words_are_refused_for_a_numeric_metric() {
    let file = csv(&["RGT,eprescribing_coverage,2024-Q2,yes"]);

    let error = only_error(parse(&file));

    assert_error(&error, 2, "value", "'yes' is not a plain decimal number");
}

#[test]
fn a_financial_year_quarter_is_stored_as_its_calendar_quarter() {
    let file = csv(&["RGT,epr_capability,2024/25 Q1,3", "RGT,epr_capability,2024/25 Q4,4"]);

    let rows = accepted(parse(&file));

    assert_eq!(rows[0].period, quarter("2024-Q2"));
    assert_eq!(rows[0].period.to_string(), "2024-Q2");
    assert_eq!(rows[1].period, quarter("2025-Q1"));
}

#[test]
fn a_lower_case_organisation_code_is_taken_as_upper_case() {
    let file = csv(&["rgt,epr_capability,2024-Q2,3"]);

    let rows = accepted(parse(&file));

    assert_eq!(rows[0].org_code, "RGT");
}

// ---------------------------------------------------------------------------------------------
// A trust submitting for itself
// ---------------------------------------------------------------------------------------------

#[test]
fn a_trust_submitter_is_refused_a_row_for_another_trust_naming_both_codes() {
    assert_eq!(trust_type("R0A"), TrustType::Acute);
    let rules = Rules { own_org: Some("RGT"), ..rules() };
    let file = csv(&["RGT,epr_capability,2024-Q2,3", "R0A,epr_capability,2024-Q2,3"]);

    let error = only_error(parse_with(&file, &rules));

    assert_error(&error, 3, "org_code", "own trust RGT, not for R0A");
}

#[test]
fn a_trust_submitter_may_submit_its_own_rows() {
    let rules = Rules { own_org: Some("RGT"), ..rules() };
    let file = csv(&["RGT,epr_capability,2024-Q2,3", "rgt,mfa_coverage,2024-Q2,91"]);

    let rows = accepted(parse_with(&file, &rules));

    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.org_code == "RGT"));
}

/// Errors are bounded: the first thousand are listed, all are counted and summarised by kind.
#[test]
fn a_file_of_many_bad_rows_lists_the_first_thousand_and_counts_them_all() {
    let mut text = String::from("org_code,metric_id,period,value\n");
    for i in 0..5_000 {
        text.push_str(&format!("RGT,metric_{i},2024-Q1,50\n"));
    }
    let Err(errors) = parse(text.as_bytes()) else { panic!("refused") };
    assert_eq!(errors.total(), 5_000);
    assert_eq!(errors.listed().len(), exemplar::domain::rows::MOST_ERRORS_LISTED);
    assert_eq!(errors.unlisted(), 4_000);
    assert_eq!((errors[0].row, errors[999].row), (2, 1001), "the first ones, by row");
    // One kind: the quoted cell text is not part of the reason.
    assert_eq!(errors.summary().len(), 1, "{:?}", errors.summary());
    assert_eq!((errors.summary()[0].column.as_str(), errors.summary()[0].count), ("metric_id", 5_000));
    assert_eq!(errors.summary()[0].reason, "unknown metric '…'");
    let stored = errors.to_stored();
    assert!(stored.len() < 200_000, "what is stored is bounded: {} bytes", stored.len());
    assert_eq!(Errors::from_stored(&stored).unwrap(), errors);
}

#[test]
fn errors_stored_as_a_plain_list_before_they_were_bounded_still_read() {
    let old = r#"[{"row":2,"column":"value","message":"'x' is not a number"}]"#;
    let errors = Errors::from_stored(old).unwrap();
    assert_eq!((errors.total(), errors[0].row, errors.summary()[0].count), (1, 2, 1));
}

#[test]
fn a_very_wide_header_is_one_error_not_one_per_column() {
    let wide = |columns: usize| {
        let mut text = String::from("org_code,metric_id,period,value");
        for i in 0..columns {
            text.push_str(&format!(",x{i}"));
        }
        text.push_str("\nRGT,clinical_wifi_coverage,2024-Q1,50\n");
        text
    };
    let errors = refused(parse(wide(1_000).as_bytes()));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_error(&errors[0], 1, "", "1004 columns");
    // A header row over the row limit is stopped before it is read whole.
    let errors = refused(parse(wide(100_000).as_bytes()));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_error(&errors[0], 1, "", "the header row is longer than");
}

#[test]
fn a_cell_or_a_row_over_the_limits_is_refused_with_its_row() {
    use exemplar::ingest::columns::{MOST_CELL_BYTES, MOST_ROW_BYTES};
    let long_comment = "x".repeat(MOST_CELL_BYTES + 1);
    let text = format!(
        "org_code,metric_id,period,value,comment\nRGT,clinical_wifi_coverage,2024-Q1,50,fine\nRGT,clinical_wifi_coverage,2024-Q2,50,{long_comment}\n"
    );
    assert_error(&only_error(parse(text.as_bytes())), 3, "comment", "longer than 4000 bytes");
    // A row far over the limit (45 MB in one quoted comment, as a probe sent) stops the reader
    // at that row, before the row is in memory; the rows before it are still checked.
    let huge = "y".repeat(45 << 20);
    let text = format!(
        "org_code,metric_id,period,value,comment\nRGT,clinical_wifi_coverage,2024-Q1,bad,\nRGT,clinical_wifi_coverage,2024-Q2,50,\"{huge}\"\nRGT,clinical_wifi_coverage,2024-Q3,50,\n"
    );
    let errors = refused(parse(text.as_bytes()));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_error(&errors[0], 2, "value", "not a plain decimal number");
    assert_error(&errors[1], 3, "", &format!("longer than {MOST_ROW_BYTES} bytes"));
}

#[test]
fn an_error_quotes_at_most_the_start_of_a_long_cell() {
    let text =
        format!("org_code,metric_id,period,value\nRGT,clinical_wifi_coverage,2024-Q1,{}\n", "9".repeat(3_000) + "x");
    let error = only_error(parse(text.as_bytes()));
    assert_error(&error, 2, "value", "…' is not a plain decimal number");
    assert!(error.message.len() < 100, "{}", error.message);
}

// ---------------------------------------------------------------------------------------------
// Counts behind a proportion (docs/RULES.md §3.9)
// ---------------------------------------------------------------------------------------------

/// A file with the count columns and `rows`.
fn counted(rows: &[&str]) -> Vec<u8> {
    let mut text = "org_code,metric_id,period,value,numerator,denominator\n".to_string();
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text.into_bytes()
}

#[test]
fn counts_alone_give_the_value_and_a_value_that_agrees_is_kept() {
    let rows = accepted(parse(&counted(&[
        "RGT,eprescribing_coverage,2026-Q1,,1,3",
        "RGT,data_security_training,2026-Q1,33.3,1,3",
        "RGT,mfa_coverage,2026-Q1,0,0,40",
        "RGT,clinical_system_training,2026-Q1,100,40,40",
        "RGT,digital_leadership_capability,2026-Q1,3,,",
    ])));
    assert!((rows[0].value - 100.0 / 3.0).abs() < 1e-12, "{}", rows[0].value);
    assert_eq!(rows[0].counts.map(|c| (c.numerator, c.denominator)), Some((1, 3)));
    assert_eq!(rows[1].value, 33.3, "within 0.05 points of 33.33: the value as sent");
    assert_eq!((rows[2].value, rows[3].value), (0.0, 100.0), "a zero numerator, and one equal to its denominator");
    assert_eq!(rows[4].counts, None);
}

#[test]
fn counts_that_cannot_be_are_refused_each_with_its_row_column_and_reason() {
    let errors = refused(parse(&counted(&[
        "RGT,eprescribing_coverage,2026-Q1,50,1,3",
        "RGT,data_security_training,2026-Q1,,5,4",
        "RGT,mfa_coverage,2026-Q1,,-1,40",
        "RGT,clinical_system_training,2026-Q1,,2.5,40",
        "RGT,staff_mobile_record_access,2026-Q1,,0,0",
        "RGT,single_sign_on_coverage,2026-Q1,,5,",
        "RGT,digital_leadership_capability,2026-Q1,3,1,2",
        "RGT,core_system_availability,2026-Q1,99,99,100",
    ])));
    assert_eq!(errors.len(), 8, "{errors:#?}");
    assert_error(&errors[0], 2, "value", "disagrees with the counts: 1 of 3 is 33.33 %");
    assert_error(&errors[1], 3, "numerator", "the numerator 5 is above the denominator 4");
    assert_error(&errors[2], 4, "numerator", "negative");
    assert_error(&errors[3], 5, "numerator", "not a whole number");
    assert_error(&errors[4], 6, "denominator", "the denominator is 0");
    assert_error(&errors[5], 7, "denominator", "give the denominator with the numerator");
    assert_error(&errors[6], 8, "numerator", "digital_leadership_capability is not a proportion");
    assert_error(&errors[7], 9, "numerator", "core_system_availability is not a proportion");
}

#[test]
fn a_fhir_report_gives_its_numerator_and_denominator_populations_as_counts() {
    use exemplar::ingest::fhir::parse_measure_reports;
    let report = |score: &str, n: u32, d: u32| {
        format!(
            r#"{{"resourceType":"MeasureReport","status":"complete","type":"summary",
            "measure":"https://exemplar.example/fhir/Measure/eprescribing_coverage",
            "subject":{{"identifier":{{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RGT"}}}},
            "period":{{"start":"2026-01-01","end":"2026-03-31"}},
            "group":[{{"population":[
                {{"code":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/measure-population","code":"initial-population"}}]}},"count":{d}}},
                {{"code":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/measure-population","code":"denominator"}}]}},"count":{d}}},
                {{"code":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/measure-population","code":"numerator"}}]}},"count":{n}}}],
              "measureScore":{{"value":{score}}}}}]}}"#
        )
    };
    // FHIR's fraction, and a percentage: both the counts' value.
    for score in ["0.85", "85"] {
        let rows = parse_measure_reports(report(score, 850, 1000).as_bytes(), &rules()).unwrap();
        assert_eq!(rows[0].value, 85.0, "score {score}");
        assert_eq!(rows[0].counts.map(|c| (c.numerator, c.denominator)), Some((850, 1000)));
    }
    let errors = parse_measure_reports(report("0.85", 1001, 1000).as_bytes(), &rules()).unwrap_err();
    assert!(errors.listed()[0].message.contains("above the denominator"), "{errors:?}");
    assert_eq!(errors.listed()[0].column, "group[0].population[numerator].count");
}
