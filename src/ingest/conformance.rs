//! Conformance results: CSV `subject,standard_id,result,assessed_on[,assessor][,evidence]` and
//! FHIR R4 `TestReport`s, validated whole against the standards and systems catalogues.

use super::columns::read_rows;
use super::metrics::{Rules, note};
use super::{Errors, RowError};
use crate::domain::{AssessedAt, Conformance, OdsCode};
use chrono::NaiveDate;
use serde_json::Value;
use std::io::Read;

pub use crate::domain::rows::ConformanceRow;

/// One result as read, before any check.
#[derive(Debug, Clone, Default)]
struct Raw {
    row: usize,
    subject: Option<String>,
    standard: Option<String>,
    result: Option<String>,
    assessed_on: Option<String>,
    assessor: Option<String>,
    evidence: Option<String>,
}

/// The column names of the source, for errors.
struct Names {
    subject: &'static str,
    standard: &'static str,
    result: &'static str,
    assessed_on: &'static str,
}

const CSV: Names = Names { subject: "subject", standard: "standard_id", result: "result", assessed_on: "assessed_on" };
const FHIR: Names = Names { subject: "participant", standard: "testScript", result: "result", assessed_on: "issued" };

fn check(raw: Raw, names: &Names, rules: &Rules<'_>, errors: &mut Errors) -> Option<ConformanceRow> {
    let (row, r) = (raw.row, rules.reference);
    let before = errors.total();
    let standard = match raw.standard.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => match r.standard(id) {
            Some(s) => Some(s),
            None => {
                errors.push(RowError::new(row, names.standard, format!("unknown standard '{id}'")));
                None
            }
        },
        _ => {
            errors.push(RowError::new(row, names.standard, "this field is missing"));
            None
        }
    };
    let subject = raw.subject.as_deref().map(str::trim).unwrap_or_default().to_string();
    let is_system = r.systems.iter().any(|s| s.system_id == subject);
    let org = OdsCode::parse(&subject).ok().filter(|c| r.organisation(c.as_str()).is_some());
    let subject_kind = match (standard.map(|s| s.assessed_at), is_system, &org) {
        (_, _, _) if subject.is_empty() => {
            errors.push(RowError::new(row, names.subject, "this field is missing"));
            None
        }
        (Some(AssessedAt::System), true, _) => Some(AssessedAt::System),
        (Some(AssessedAt::Organisation), _, Some(_)) => Some(AssessedAt::Organisation),
        (Some(AssessedAt::System), false, Some(code)) => {
            errors.push(RowError::new(
                row,
                names.subject,
                format!(
                    "{code} is a trust, but {} is assessed for each system: give a system_id",
                    standard.unwrap().standard_id
                ),
            ));
            None
        }
        (Some(AssessedAt::Organisation), true, None) => {
            errors.push(RowError::new(
                row,
                names.subject,
                format!(
                    "{subject} is a system, but {} is assessed for each trust: give an ODS code",
                    standard.unwrap().standard_id
                ),
            ));
            None
        }
        (_, false, None) => {
            errors.push(RowError::new(
                row,
                names.subject,
                format!("'{subject}' is neither a known system nor a known trust"),
            ));
            None
        }
        (None, _, _) => None,
    };
    match (subject_kind, rules.own_org) {
        (Some(AssessedAt::System), _) if !rules.assesses_systems => errors.push(RowError::forbidden(
            row,
            names.subject,
            format!(
                "{subject} is a system: its results change every trust that runs it, so they come from its \
                 assessor (the standard's test body) or an administrator; a trust sends results for itself only"
            ),
        )),
        (Some(AssessedAt::Organisation), Some(own)) if org.as_ref().is_none_or(|c| c.as_str() != own) => {
            errors.push(RowError::forbidden(
                row,
                names.subject,
                format!("your trust {own} may send results only for itself, not for {subject}"),
            ))
        }
        _ => {}
    }
    let result = match raw.result.as_deref().map(|t| t.trim().to_ascii_lowercase()) {
        Some(t) => note(t.parse::<Conformance>(), row, names.result, errors),
        None => {
            errors.push(RowError::new(row, names.result, "this field is missing"));
            None
        }
    };
    let assessed_on = match raw.assessed_on.as_deref().map(str::trim) {
        Some(t) => match NaiveDate::parse_from_str(t.get(..10).unwrap_or(t), "%Y-%m-%d") {
            Ok(d) if d > rules.today => {
                errors.push(RowError::new(row, names.assessed_on, format!("{d} is in the future")));
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(RowError::new(
                    row,
                    names.assessed_on,
                    format!("'{t}' is not an ISO date such as 2025-03-31"),
                ));
                None
            }
        },
        None => {
            errors.push(RowError::new(row, names.assessed_on, "this field is missing"));
            None
        }
    };
    let text = |v: Option<String>| v.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    match (standard, subject_kind, result, assessed_on) {
        (Some(s), Some(kind), Some(result), Some(assessed_on)) if errors.total() == before => Some(ConformanceRow {
            row,
            subject: org.map_or(subject, |c| c.as_str().to_string()),
            subject_kind: kind,
            standard_id: s.standard_id.clone(),
            result,
            assessed_on,
            assessor: text(raw.assessor),
            evidence: text(raw.evidence),
        }),
        _ => None,
    }
}

/// Parses and validates a conformance CSV, all or nothing.
pub fn parse_conformance_csv<R: Read>(input: R, rules: &Rules<'_>) -> Result<Vec<ConformanceRow>, Errors> {
    let mut rows = Vec::new();
    let errors = read_rows(
        input,
        &["subject", "standard_id", "result", "assessed_on"],
        &["assessor", "evidence"],
        |cols, row, rec, errors| {
            let raw = Raw {
                row,
                subject: cols.get(rec, row, "subject", errors).map(str::to_string),
                standard: cols.get(rec, row, "standard_id", errors).map(str::to_string),
                result: cols.get(rec, row, "result", errors).map(str::to_string),
                assessed_on: cols.get(rec, row, "assessed_on", errors).map(str::to_string),
                assessor: cols.get(rec, row, "assessor", errors).map(str::to_string),
                evidence: cols.get(rec, row, "evidence", errors).map(str::to_string),
            };
            if let Some(valid) = check(raw, &CSV, rules, errors) {
                rows.push(valid);
            }
        },
    );
    if errors.is_empty() { Ok(rows) } else { Err(errors.finish()) }
}

/// Parses a FHIR R4 TestReport (or a Bundle of them): `testScript` → standard, the `server`
/// participant → system, `result` → pass or fail, `issued` → date.
pub fn parse_test_reports(bytes: &[u8], rules: &Rules<'_>) -> Result<Vec<ConformanceRow>, Errors> {
    let json: Value = serde_json::from_slice(bytes)
        .map_err(|e| Errors::from(RowError::new(1, "", format!("the body is not JSON: {e}"))))?;
    let reports: Vec<&Value> = match json.get("resourceType").and_then(Value::as_str) {
        Some("TestReport") => vec![&json],
        Some("Bundle") => json
            .get("entry")
            .and_then(Value::as_array)
            .map(|e| e.iter().map(|x| x.get("resource").unwrap_or(&Value::Null)).collect())
            .unwrap_or_default(),
        Some(other) => return Err(RowError::new(1, "resourceType", format!("a {other} is not a TestReport")).into()),
        None => {
            return Err(RowError::new(1, "resourceType", "this is not a FHIR resource: it has no resourceType").into());
        }
    };
    if reports.is_empty() {
        return Err(RowError::new(1, "entry", "the Bundle has no entries").into());
    }
    let mut errors = Errors::new();
    let mut rows = Vec::new();
    for (i, report) in reports.into_iter().enumerate() {
        let row = i + 1;
        let before = errors.total();
        if report.get("resourceType").and_then(Value::as_str) != Some("TestReport") {
            errors.push(RowError::new(row, "resourceType", format!("entry {row} is not a TestReport")));
            continue;
        }
        let last = |s: &str| s.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
        let standard = report
            .pointer("/testScript/reference")
            .and_then(Value::as_str)
            .map(last)
            .or_else(|| report.pointer("/testScript/identifier/value").and_then(Value::as_str).map(str::to_string));
        let server = report
            .get("participant")
            .and_then(Value::as_array)
            .and_then(|ps| ps.iter().find(|p| p.get("type").and_then(Value::as_str) == Some("server")))
            .and_then(|p| p.get("uri").and_then(Value::as_str))
            .map(last);
        if server.is_none() {
            errors.push(RowError::new(
                row,
                "participant",
                "the report names no participant of type server (the system tested)",
            ));
        }
        let result = match report.get("result").and_then(Value::as_str) {
            Some("pass") => Some("pass".to_string()),
            Some("fail") => Some("fail".to_string()),
            Some(other) => {
                errors.push(RowError::new(
                    row,
                    "result",
                    format!("'{other}' is not a conclusive result: pass or fail"),
                ));
                continue;
            }
            None => {
                errors.push(RowError::new(row, "result", "the report has no result"));
                continue;
            }
        };
        let raw = Raw {
            row,
            subject: server,
            standard,
            result,
            assessed_on: report.get("issued").and_then(Value::as_str).map(str::to_string),
            assessor: report.pointer("/tester").and_then(Value::as_str).map(str::to_string),
            evidence: report.get("id").and_then(Value::as_str).map(|id| format!("TestReport/{id}")),
        };
        if errors.total() > before {
            continue;
        }
        if let Some(valid) = check(raw, &FHIR, rules, &mut errors) {
            rows.push(valid);
        }
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors.finish()) }
}
