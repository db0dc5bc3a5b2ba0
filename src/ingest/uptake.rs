//! NHS App uptake as CSV: `area_code,month,measure,value[,age_band]`, one count per area, month,
//! measure and age band (docs/RULES.md §9), validated whole: every problem is reported by row
//! and column, and a file with any problem stores nothing.

use super::columns::read_rows;
use super::{Errors, RowError};
use crate::domain::uptake::{AgeBand, Month, POPULATION, REGISTRATIONS, UptakeRow, area, measure, measures};
use chrono::NaiveDate;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

const REQUIRED: [&str; 4] = ["area_code", "month", "measure", "value"];
const OPTIONAL: [&str; 1] = ["age_band"];

/// The cells of one count as read, before checking: from a CSV row or a FHIR report.
pub struct RawUptake {
    pub row: usize,
    pub area: String,
    pub month: String,
    pub measure: String,
    pub value: String,
    pub age_band: Option<String>,
}

/// Where each cell came from, to name it in an error.
#[derive(Clone)]
pub struct UptakeFields {
    pub area: Cow<'static, str>,
    pub month: Cow<'static, str>,
    pub measure: Cow<'static, str>,
    pub value: Cow<'static, str>,
    pub age_band: Cow<'static, str>,
}

pub const CSV_FIELDS: UptakeFields = UptakeFields {
    area: Cow::Borrowed("area_code"),
    month: Cow::Borrowed("month"),
    measure: Cow::Borrowed("measure"),
    value: Cow::Borrowed("value"),
    age_band: Cow::Borrowed("age_band"),
};

/// A FHIR MeasureReport's fields (see `parse_uptake_reports`).
pub const FHIR_FIELDS: UptakeFields = UptakeFields {
    area: Cow::Borrowed("subject"),
    month: Cow::Borrowed("period.start"),
    measure: Cow::Borrowed("measure"),
    value: Cow::Borrowed("group[0].measureScore.value"),
    age_band: Cow::Borrowed("group[0].stratifier[0].stratum.value.text"),
};

/// Checks counts one by one and then as a whole, the same way whatever format they came in.
pub struct UptakeChecker {
    this_month: Month,
    fields: UptakeFields,
    rows: Vec<UptakeRow>,
    /// Each key's first row, to refuse a repeat within the submission.
    seen: HashMap<(String, Month, String, AgeBand), usize>,
}

impl UptakeChecker {
    /// `today` bounds the months: only months that have ended are taken.
    pub fn new(today: NaiveDate, fields: UptakeFields) -> Self {
        Self { this_month: Month::containing(today), fields, rows: Vec::new(), seen: HashMap::new() }
    }

    /// Checks one count, reporting every problem of its cells.
    pub fn check(&mut self, raw: RawUptake, errors: &mut Errors) {
        self.check_from(raw, None, errors)
    }

    /// Checks one count whose cells came from `fields` rather than the checker's own.
    pub fn check_from(&mut self, raw: RawUptake, fields: Option<&UptakeFields>, errors: &mut Errors) {
        let row = raw.row;
        let f = fields.unwrap_or(&self.fields).clone();
        let before = errors.total();
        let mut problem = |column: &str, message: String| errors.push(RowError::new(row, column, message));
        let area_code = raw.area.trim().to_ascii_uppercase();
        if area_code.is_empty() {
            problem(&f.area, "the area code is empty".into());
        } else if area(&area_code).is_none() {
            problem(
                &f.area,
                format!(
                    "'{}' is not a sub-ICB location, integrated care board, region or England code",
                    raw.area.trim()
                ),
            );
        }
        let month = match Month::parse(raw.month.trim()) {
            Ok(m) if m >= self.this_month => {
                problem(&f.month, format!("{m} has not ended yet: send only months that have ended"));
                None
            }
            Ok(m) => Some(m),
            Err(e) => {
                problem(&f.month, e);
                None
            }
        };
        let measure_text = raw.measure.trim();
        let measure_id = measure_text.to_ascii_lowercase();
        if measure(&measure_id).is_none() {
            let all: Vec<&str> = measures().iter().map(|m| m.measure.as_str()).collect();
            problem(&f.measure, format!("'{measure_text}' is not a measure: write one of {}", all.join(", ")));
        }
        let value_text = raw.value.trim();
        let value = match value_text.parse::<f64>() {
            _ if value_text.is_empty() => {
                problem(&f.value, "the value is empty".into());
                None
            }
            Ok(v) if !v.is_finite() => {
                problem(&f.value, format!("'{value_text}' is not a number"));
                None
            }
            Ok(v) if v < 0.0 => {
                problem(&f.value, format!("{value_text} is negative: a count is 0 or more"));
                None
            }
            Ok(v) if v.fract() != 0.0 => {
                problem(&f.value, format!("{value_text} is not a whole number: a count of events or people"));
                None
            }
            Ok(v) => Some(v),
            Err(_) => {
                problem(&f.value, format!("'{value_text}' is not a number"));
                None
            }
        };
        let age_band = match raw.age_band.as_deref().map(str::trim) {
            None | Some("") => Some(AgeBand::All),
            Some(text) => match text.parse::<AgeBand>() {
                Ok(b) => Some(b),
                Err(e) => {
                    problem(&f.age_band, e);
                    None
                }
            },
        };
        if errors.total() > before {
            return;
        }
        let (Some(month), Some(value), Some(age_band)) = (month, value, age_band) else { return };
        let key = (area_code.clone(), month, measure_id.clone(), age_band);
        if let Some(first) = self.seen.get(&key) {
            errors.push(RowError::new(
                row,
                f.measure.as_ref(),
                format!("{measure_id} for {area_code} in {month} ({age_band}) is already given on row {first}"),
            ));
            return;
        }
        self.seen.insert(key, row);
        self.rows.push(UptakeRow { row, area_code, month, measure: measure_id, age_band, value });
    }

    /// The checks across counts (registrations above the population of the same area, month
    /// and age band), then the rows, or every problem.
    pub fn finish(self, mut errors: Errors) -> Result<Vec<UptakeRow>, Errors> {
        let population: HashMap<(&str, Month, AgeBand), f64> = self
            .rows
            .iter()
            .filter(|r| r.measure == POPULATION)
            .map(|r| ((r.area_code.as_str(), r.month, r.age_band), r.value))
            .collect();
        for r in self.rows.iter().filter(|r| r.measure == REGISTRATIONS) {
            if let Some(p) = population.get(&(r.area_code.as_str(), r.month, r.age_band))
                && r.value > *p
            {
                errors.push(RowError::new(
                    r.row,
                    self.fields.value.as_ref(),
                    format!(
                        "{} registrations in {} in {} is more than its population aged 13 and over ({p})",
                        r.value, r.area_code, r.month
                    ),
                ));
            }
        }
        if errors.is_empty() { Ok(self.rows) } else { Err(errors) }
    }
}

/// Reads and checks an uptake file; `today` bounds the months (only months that have ended).
pub fn parse_uptake_csv<R: Read>(input: R, today: NaiveDate) -> Result<Vec<UptakeRow>, Errors> {
    let mut checker = UptakeChecker::new(today, CSV_FIELDS);
    let errors = read_rows(input, &REQUIRED, &OPTIONAL, |cols, row, record, errors| {
        let mut cell = |name: &str| cols.get(record, row, name, errors).map(str::to_string);
        let (area, month, measure, value, age_band) =
            (cell("area_code"), cell("month"), cell("measure"), cell("value"), cell("age_band"));
        let (area, month, measure, value) = (
            area.unwrap_or_default(),
            month.unwrap_or_default(),
            measure.unwrap_or_default(),
            value.unwrap_or_default(),
        );
        checker.check(RawUptake { row, area, month, measure, value, age_band }, errors);
    });
    checker.finish(errors)
}

/// NHS App uptake as FHIR R4 `MeasureReport`s, alone or in a `Bundle`, each report a "row"
/// numbered from 1 (docs/RULES.md §9.2):
///
/// - `subject`: the area, as `identifier.value` or a `Location/CODE` or `Organization/CODE`
///   reference (sub-ICB locations, ICBs and regions are ODS organisations);
/// - `measure`: a canonical URL whose last segment is the measure's id
///   (`https://…/Measure/registrations`);
/// - `period.start`: a date in the month counted (`period.end`, when given, in the same month);
/// - `group[0].measureScore.value`, or else `group[0].population[0].count`: the count for all
///   ages;
/// - `group[0].stratifier[0].stratum[k]`: one more count per age band, its band in
///   `value.text` (or `value.coding[0].code`) and its count as the group's.
///
/// Every count is checked as a CSV row is, all or nothing.
pub fn parse_uptake_reports(bytes: &[u8], today: NaiveDate) -> Result<Vec<UptakeRow>, Errors> {
    use super::fhir::{is_measure_report, measure_id, period_start, read_json, reports_of, score};
    let json = read_json(bytes)?;
    let reports = reports_of(&json)?;
    let mut checker = UptakeChecker::new(today, FHIR_FIELDS);
    let mut errors = Errors::new();
    for (i, report) in reports.into_iter().enumerate() {
        let row = i + 1;
        if !is_measure_report(row, report, &mut errors) {
            continue;
        }
        let before = errors.total();
        let area = subject_area(report);
        if area.is_none() {
            errors.push(RowError::new(
                row,
                "subject",
                "the report has no subject: give the area's code as subject.identifier.value",
            ));
        }
        let measure = measure_id(report, row, &mut errors);
        let start = period_start(report, row, &mut errors);
        if start.is_none() && errors.total() == before {
            errors.push(RowError::new(row, "period.start", "the report has no period.start: the month it counts"));
        }
        let end = report
            .pointer("/period/end")
            .and_then(Value::as_str)
            .and_then(|e| NaiveDate::parse_from_str(e.get(..10).unwrap_or(e), "%Y-%m-%d").ok());
        if let (Some(start), Some(end)) = (start, end)
            && Month::containing(start) != Month::containing(end)
        {
            errors.push(RowError::new(
                row,
                "period.end",
                format!("the report covers {start} to {end}: an uptake report counts one month"),
            ));
        }
        let count = |value: &Value, at: &str, errors: &mut Errors| {
            score(
                value,
                &format!("{at}/measureScore/value"),
                &pointer_column(&format!("{at}/measureScore/value")),
                row,
                errors,
            )
            .or_else(|| {
                score(
                    value,
                    &format!("{at}/population/0/count"),
                    &pointer_column(&format!("{at}/population/0/count")),
                    row,
                    errors,
                )
            })
        };
        let all_ages = count(report, "/group/0", &mut errors);
        let strata: Vec<(usize, &Value)> = report
            .pointer("/group/0/stratifier/0/stratum")
            .and_then(Value::as_array)
            .map(|s| s.iter().enumerate().collect())
            .unwrap_or_default();
        if all_ages.is_none() && strata.is_empty() && errors.total() == before {
            errors.push(RowError::new(
                row,
                "group[0].measureScore.value",
                "the report has no count: give it as group[0].measureScore.value",
            ));
        }
        if errors.total() > before {
            continue;
        }
        let (area, measure) = (area.unwrap_or_default(), measure.unwrap_or_default());
        let month = start.map(|d| Month::containing(d).to_string()).unwrap_or_default();
        let raw = |value: String, age_band: Option<String>| RawUptake {
            row,
            area: area.clone(),
            month: month.clone(),
            measure: measure.clone(),
            value,
            age_band,
        };
        if let Some(value) = all_ages {
            checker.check(raw(value, None), &mut errors);
        }
        for (k, stratum) in strata {
            let at = format!("/group/0/stratifier/0/stratum/{k}");
            let band = stratum
                .pointer("/value/text")
                .or_else(|| stratum.pointer("/value/coding/0/code"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_default();
            let counted = errors.total();
            let Some(value) = count(report, &at, &mut errors) else {
                if errors.total() == counted {
                    errors.push(RowError::new(
                        row,
                        pointer_column(&format!("{at}/measureScore/value")),
                        "the stratum has no count",
                    ));
                }
                continue;
            };
            let fields = UptakeFields {
                value: pointer_column(&format!("{at}/measureScore/value")).into(),
                age_band: pointer_column(&format!("{at}/value/text")).into(),
                ..FHIR_FIELDS
            };
            checker.check_from(raw(value, Some(band)), Some(&fields), &mut errors);
        }
    }
    checker.finish(errors)
}

/// A JSON pointer written as FHIRPath-like column: `/group/0/measureScore` → `group[0].measureScore`.
fn pointer_column(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.trim_start_matches('/').split('/') {
        if part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

/// The area a report is about: its subject's identifier, or a `Location/` or `Organization/`
/// reference's code.
fn subject_area(report: &Value) -> Option<String> {
    let subject = report.get("subject")?;
    if let Some(code) = subject.pointer("/identifier/value").and_then(Value::as_str) {
        return Some(code.to_string());
    }
    let reference = subject.get("reference").and_then(Value::as_str)?;
    reference.strip_prefix("Location/").or_else(|| reference.strip_prefix("Organization/")).map(str::to_string)
}

/// Whether a FHIR body holds NHS App uptake rather than metric values: its first
/// MeasureReport's measure is one of the uptake measures.
pub fn is_uptake_report(json: &Value) -> bool {
    let first = match json.get("resourceType").and_then(Value::as_str) {
        Some("Bundle") => json.pointer("/entry/0/resource"),
        _ => Some(json),
    };
    first
        .and_then(|r| r.get("measure"))
        .and_then(Value::as_str)
        .and_then(|url| url.trim_end_matches('/').rsplit('/').next())
        .is_some_and(|id| measure(id.split('|').next().unwrap_or_default()).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
    }

    fn errors(text: &str) -> Vec<(usize, String, String)> {
        match parse_uptake_csv(text.as_bytes(), today()) {
            Ok(rows) => panic!("accepted {rows:?}"),
            Err(e) => e.iter().map(|e| (e.row, e.column.clone(), e.message.clone())).collect(),
        }
    }

    #[test]
    fn a_valid_file_gives_one_row_per_count_with_all_ages_when_no_band_is_given() {
        let text =
            "area_code,month,measure,value\n99A,2019-03,registrations,120\n99a,2019-03,population_13_plus,410000\n";
        let rows = parse_uptake_csv(text.as_bytes(), today()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[1].area_code.as_str(), rows[1].age_band, rows[1].value), ("99A", AgeBand::All, 410000.0));
        let banded = "area_code,month,measure,value,age_band\nQYG,2019-03,logins,7,16-24\n";
        assert_eq!(parse_uptake_csv(banded.as_bytes(), today()).unwrap()[0].age_band, AgeBand::From16To24);
    }

    #[test]
    fn every_bad_cell_is_reported_with_its_row_and_column() {
        let text = "area_code,month,measure,value,age_band\n\
                    ZZZ,2019-03,registrations,1,all\n\
                    99A,March 2019,registrations,1,all\n\
                    99A,2027-01,registrations,1,all\n\
                    99A,2019-03,downloads,1,all\n\
                    99A,2019-04,registrations,-3,all\n\
                    99A,2019-05,registrations,2.5,all\n\
                    99A,2019-06,registrations,1,16-25\n\
                    99A,2019-07,registrations,900,all\n\
                    99A,2019-07,population_13_plus,800,all\n\
                    99A,2019-07,population_13_plus,800,all\n";
        let found: Vec<(usize, String)> = errors(text).into_iter().map(|(r, c, _)| (r, c)).collect();
        let expected = [
            (2, "area_code"),
            (3, "month"),
            (4, "month"),
            (5, "measure"),
            (6, "value"),
            (7, "value"),
            (8, "age_band"),
            (11, "measure"),
            (9, "value"),
        ];
        assert_eq!(found, expected.map(|(r, c)| (r, c.to_string())));
    }

    fn report(
        area: &str,
        measure: &str,
        start: &str,
        score: serde_json::Value,
        strata: serde_json::Value,
    ) -> serde_json::Value {
        serde_json::json!({
            "resourceType": "MeasureReport",
            "status": "complete",
            "type": "summary",
            "measure": format!("https://exemplar.example/fhir/Measure/{measure}"),
            "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": area}},
            "period": {"start": start, "end": start},
            "group": [{"measureScore": {"value": score}, "stratifier": [{"code": [{"text": "age band"}], "stratum": strata}]}]
        })
    }

    #[test]
    fn a_bundle_of_measure_reports_gives_a_count_per_report_and_per_age_stratum() {
        let strata = serde_json::json!([
            {"value": {"text": "16-24"}, "measureScore": {"value": 40}},
            {"value": {"text": "75+"}, "population": [{"count": 3}]}
        ]);
        let bundle = serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": report("99A", "registrations", "2019-03-01", serde_json::json!(120), strata)},
            {"resource": report("QNC", "population_13_plus", "2019-03-01", serde_json::json!(900000), serde_json::json!([]))}
        ]});
        assert!(is_uptake_report(&bundle));
        let rows = parse_uptake_reports(bundle.to_string().as_bytes(), today()).unwrap();
        let got: Vec<(usize, &str, &str, AgeBand, f64)> =
            rows.iter().map(|r| (r.row, r.area_code.as_str(), r.measure.as_str(), r.age_band, r.value)).collect();
        assert_eq!(
            got,
            [
                (1, "99A", "registrations", AgeBand::All, 120.0),
                (1, "99A", "registrations", AgeBand::From16To24, 40.0),
                (1, "99A", "registrations", AgeBand::From75, 3.0),
                (2, "QNC", "population_13_plus", AgeBand::All, 900000.0),
            ]
        );
        assert_eq!(rows[0].month.to_string(), "2019-03");
    }

    #[test]
    fn a_bad_report_is_reported_by_entry_and_field() {
        let strata = serde_json::json!([{"value": {"text": "16-25"}, "measureScore": {"value": 4}}]);
        let bundle = serde_json::json!({"resourceType": "Bundle", "entry": [
            {"resource": report("ZZZ", "registrations", "2019-03-01", serde_json::json!(1), serde_json::json!([]))},
            {"resource": report("99A", "downloads", "2019-03-01", serde_json::json!(1), serde_json::json!([]))},
            {"resource": report("99A", "logins", "2019-03-01", serde_json::json!(-1), serde_json::json!([]))},
            {"resource": report("99A", "logins", "2019-04-01", serde_json::json!("7"), serde_json::json!([]))},
            {"resource": report("99A", "logins", "2019-05-01", serde_json::json!(7), strata)},
            {"resource": {"resourceType": "TestReport"}}
        ]});
        let found: Vec<(usize, String)> = match parse_uptake_reports(bundle.to_string().as_bytes(), today()) {
            Ok(rows) => panic!("accepted {rows:?}"),
            Err(e) => e.iter().map(|e| (e.row, e.column.clone())).collect(),
        };
        let expected = [
            (1, "subject"),
            (2, "measure"),
            (3, "group[0].measureScore.value"),
            (4, "group[0].measureScore.value"),
            (5, "group[0].stratifier[0].stratum[0].value.text"),
            (6, "resourceType"),
        ];
        assert_eq!(found, expected.map(|(r, c)| (r, c.to_string())));
        let metric =
            serde_json::json!({"resourceType": "MeasureReport", "measure": "https://example.org/Measure/epr_coverage"});
        assert!(!is_uptake_report(&metric));
    }
}
