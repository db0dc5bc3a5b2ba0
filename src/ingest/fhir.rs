//! FHIR R4 `MeasureReport`s (alone or in a `Bundle`) as metric submissions: the subject's or
//! reporter's ODS code, the measure's last path segment as the metric id, `period.start` as the
//! quarter and `group[0].measureScore.value` as the value, with the group's `numerator` and
//! `denominator` populations as a proportion's counts. Only the fields used are read; the
//! rest of the resource is left alone. Each report is a "row", numbered from 1 in the bundle.

use super::metrics::{Fields, MetricRow, RawRow, Rules, Validator};
use super::{Errors, RowError};
use crate::domain::Quarter;
use serde_json::Value;

pub const FHIR_FIELDS: Fields = Fields {
    org: "subject",
    metric: "measure",
    period: "period.start",
    value: "group[0].measureScore.value",
    numerator: "group[0].population[numerator].count",
    denominator: "group[0].population[denominator].count",
    targets: false,
    counts_where_any: true,
};

/// Parses and validates a MeasureReport or a Bundle of them, all or nothing.
pub fn parse_measure_reports(bytes: &[u8], rules: &Rules<'_>) -> Result<Vec<MetricRow>, Errors> {
    let json = read_json(bytes)?;
    let reports = reports_of(&json)?;
    let mut errors = Errors::new();
    let mut rows = Vec::new();
    let mut validator = Validator::new(rules, FHIR_FIELDS);
    for (i, report) in reports.into_iter().enumerate() {
        let row = i + 1;
        if let Some(raw) = raw_row(row, report, &mut errors)
            && let Some(valid) = validator.check(raw, &mut errors)
        {
            rows.push(valid);
        }
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

/// The JSON of a FHIR body, or the error that it is not JSON.
pub fn read_json(bytes: &[u8]) -> Result<Value, Errors> {
    serde_json::from_slice(bytes).map_err(|e| {
        Errors::from(RowError::new(
            1,
            "",
            format!("the body is not JSON: {e} (line {}, column {})", e.line(), e.column()),
        ))
    })
}

/// The resources of a MeasureReport or of a Bundle's entries (each is checked to be a
/// MeasureReport by `is_measure_report` as it is read).
pub fn reports_of(json: &Value) -> Result<Vec<&Value>, Errors> {
    let reports: Vec<&Value> = match json.get("resourceType").and_then(Value::as_str) {
        Some("MeasureReport") => vec![json],
        Some("Bundle") => json
            .get("entry")
            .and_then(Value::as_array)
            .map(|entries| entries.iter().map(|e| e.get("resource").unwrap_or(&Value::Null)).collect())
            .unwrap_or_default(),
        Some(other) => {
            return Err(RowError::new(
                1,
                "resourceType",
                format!("a {other} is not a MeasureReport or a Bundle of MeasureReports"),
            )
            .into());
        }
        None => {
            return Err(RowError::new(1, "resourceType", "this is not a FHIR resource: it has no resourceType").into());
        }
    };
    if reports.is_empty() {
        return Err(RowError::new(1, "entry", "the Bundle has no entries").into());
    }
    Ok(reports)
}

/// Whether entry `row` is a MeasureReport, reporting it when not.
pub fn is_measure_report(row: usize, report: &Value, errors: &mut Errors) -> bool {
    match report.get("resourceType").and_then(Value::as_str) {
        Some("MeasureReport") => true,
        Some(other) => {
            errors.push(RowError::new(row, "resourceType", format!("entry {row} is a {other}, not a MeasureReport")));
            false
        }
        None => {
            errors.push(RowError::new(row, "resourceType", format!("entry {row} has no resource")));
            false
        }
    }
}

/// The measure's id: the last path segment of its canonical URL, without a `|version`.
pub fn measure_id(report: &Value, row: usize, errors: &mut Errors) -> Option<String> {
    match report.get("measure") {
        Some(Value::String(url)) => Some(
            url.trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .split('|')
                .next()
                .unwrap_or_default()
                .to_string(),
        ),
        Some(Value::Object(_)) => {
            errors.push(RowError::new(
                row,
                "measure",
                "measure is a Reference, as in FHIR STU3: R4 gives the measure's canonical URL",
            ));
            None
        }
        _ => None,
    }
}

/// The date `period.start` gives, or the problem with it.
pub fn period_start(report: &Value, row: usize, errors: &mut Errors) -> Option<chrono::NaiveDate> {
    let start = report.pointer("/period/start").and_then(Value::as_str)?;
    match chrono::NaiveDate::parse_from_str(start.get(..10).unwrap_or(start), "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            errors.push(RowError::new(row, "period.start", format!("'{start}' is not a FHIR date")));
            None
        }
    }
}

/// A score at `pointer` as text, reported under `column` when it is not a number. A whole
/// number in JSON's decimal form (1.0) is the whole number: a yes/no metric's 0.0 and 1.0 are
/// its 0 and 1.
pub fn score(report: &Value, pointer: &str, column: &str, row: usize, errors: &mut Errors) -> Option<String> {
    match report.pointer(pointer) {
        Some(Value::Number(n)) => Some(match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        Some(Value::String(s)) => {
            errors.push(RowError::new(
                row,
                column,
                format!("the score is the text \"{s}\": FHIR JSON writes numbers without quotes"),
            ));
            None
        }
        Some(_) => {
            errors.push(RowError::new(row, column, "the score is not a number"));
            None
        }
        None => None,
    }
}

/// The fields of one report, with the problems of its shape reported.
fn raw_row(row: usize, report: &Value, errors: &mut Errors) -> Option<RawRow> {
    if !is_measure_report(row, report, errors) {
        return None;
    }
    let before = errors.total();
    let org = organisation(report, row, errors);
    let metric = measure_id(report, row, errors);
    let period = period_start(report, row, errors).map(|date| Quarter::containing(date).to_string());
    let value = score(report, "/group/0/measureScore/value", "group[0].measureScore.value", row, errors);
    if errors.total() > before {
        return None;
    }
    let count = |code: &str| {
        report.pointer("/group/0/population").and_then(Value::as_array).and_then(|populations| {
            populations
                .iter()
                .find(|p| {
                    p.pointer("/code/coding").and_then(Value::as_array).is_some_and(|codings| {
                        codings.iter().any(|c| c.get("code").and_then(Value::as_str) == Some(code))
                    })
                })
                .and_then(|p| p.get("count"))
                .map(|c| c.to_string())
        })
    };
    let (numerator, denominator) = (count("numerator"), count("denominator"));
    Some(RawRow { row, org, metric, period, value, comment: None, numerator, denominator })
}

/// The ODS code of the report's subject, or else of its reporter: an identifier's value, or an
/// `Organization/CODE` reference.
fn organisation(report: &Value, row: usize, errors: &mut Errors) -> Option<String> {
    for field in ["subject", "reporter"] {
        let Some(party) = report.get(field) else { continue };
        if let Some(code) = party.pointer("/identifier/value").and_then(Value::as_str) {
            return Some(code.to_string());
        }
        if let Some(reference) = party.get("reference").and_then(Value::as_str) {
            if let Some(code) = reference.strip_prefix("Organization/") {
                return Some(code.to_string());
            }
            if field == "subject" && report.get("reporter").is_none() {
                errors.push(RowError::new(
                    row,
                    "subject",
                    format!("the subject is {reference}: Exemplar takes reports about an organisation, identified by its ODS code"),
                ));
                return None;
            }
        }
    }
    None
}
