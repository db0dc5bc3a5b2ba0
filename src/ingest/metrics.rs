//! Metric submissions and targets as CSV (`org_code,metric_id,period,value[,comment]` and
//! `org_code,metric_id,period,target`), validated whole. FHIR reports reuse the row checks.

use super::columns::read_rows;
use super::{Errors, RowError};
use crate::domain::{MetricId, OdsCode, Quarter, Reference, value::parse_value};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::io::Read;

pub use crate::domain::rows::MetricRow;

/// What a submission may contain besides the reference data: today's date (no quarter that has
/// not ended) and, for a trust's own submitter, the one organisation it may submit for.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    pub reference: &'a Reference,
    pub today: NaiveDate,
    pub own_org: Option<&'a str>,
    /// Whether results for a system may be sent (see `Actor::assesses_systems`).
    pub assesses_systems: bool,
}

impl<'a> Rules<'a> {
    /// The rules for someone who may send anything: the command-line operator.
    pub fn new(reference: &'a Reference, today: NaiveDate) -> Self {
        Self { reference, today, own_org: None, assesses_systems: true }
    }

    /// The rules for `actor`.
    pub fn of(reference: &'a Reference, today: NaiveDate, actor: &'a crate::domain::Actor) -> Self {
        Self { reference, today, own_org: actor.own_org.as_deref(), assesses_systems: actor.assesses_systems }
    }
}

/// One row as read, before any check; each field is `None` when absent.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    pub row: usize,
    pub org: Option<String>,
    pub metric: Option<String>,
    pub period: Option<String>,
    pub value: Option<String>,
    pub comment: Option<String>,
}

/// What the fields are called in the source, for error messages, and what kind of values they hold.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub org: &'static str,
    pub metric: &'static str,
    pub period: &'static str,
    pub value: &'static str,
    /// Targets are for future quarters and only for exemplar trusts.
    pub targets: bool,
}

pub const CSV_METRICS: Fields =
    Fields { org: "org_code", metric: "metric_id", period: "period", value: "value", targets: false };
pub const CSV_TARGETS: Fields =
    Fields { org: "org_code", metric: "metric_id", period: "period", value: "target", targets: true };

/// Checks rows one by one, remembering keys to refuse repeats within the submission.
pub struct Validator<'r> {
    rules: &'r Rules<'r>,
    fields: Fields,
    /// For each quarter given, the row that first gave each (organisation, metric), at the
    /// position `organisation × metrics + metric`; 0 where none has. Its size is bounded by the
    /// reference data and the quarters, however long the file.
    seen: HashMap<i32, Vec<u32>>,
}

impl<'r> Validator<'r> {
    pub fn new(rules: &'r Rules<'r>, fields: Fields) -> Self {
        Self { rules, fields, seen: HashMap::new() }
    }

    /// The row that first gave this key, after recording `row` as its first when none had.
    fn first_row(&mut self, org: &str, metric: &str, period: Quarter, row: usize) -> Option<usize> {
        let reference = self.rules.reference;
        let (o, m) = (reference.org_position(org)?, reference.metric_position(metric)?);
        let cells = reference.organisations.len() * reference.metrics.len();
        let grid = self.seen.entry(period.index()).or_insert_with(|| vec![0; cells]);
        let cell = &mut grid[o * reference.metrics.len() + m];
        match *cell {
            0 => {
                *cell = u32::try_from(row).unwrap_or(u32::MAX);
                None
            }
            first => Some(first as usize),
        }
    }

    /// The valid row, or `None` with every problem of the row added to `errors`.
    pub fn check(&mut self, raw: RawRow, errors: &mut Errors) -> Option<MetricRow> {
        let (row, f, rules) = (raw.row, self.fields, self.rules);
        let before = errors.total();
        let org = match raw.org.as_deref() {
            Some(t) => check_org(t, row, f.org, rules, errors),
            None => missing(row, f.org, errors),
        };
        if f.targets
            && let Some(o) =
                org.as_deref().and_then(|o| rules.reference.organisation(o)).filter(|o| !o.exemplar.is_exemplar())
        {
            errors.push(RowError::new(
                row,
                f.org,
                format!("{} is not an exemplar trust: targets are for exemplar trusts", o.ods_code),
            ));
        }
        let metric = match raw.metric.as_deref() {
            Some(t) => note(MetricId::parse(t), row, f.metric, errors).and_then(|id| {
                match rules.reference.metric(id.as_str()) {
                    Some(m) => Some(m),
                    None => {
                        errors.push(RowError::new(row, f.metric, format!("unknown metric '{id}'")));
                        None
                    }
                }
            }),
            None => missing(row, f.metric, errors),
        };
        let period = match raw.period.as_deref() {
            Some(t) => match Quarter::parse(t) {
                Ok(q) if !f.targets && !q.has_ended(rules.today) => {
                    errors.push(RowError::new(
                        row,
                        f.period,
                        format!("{q} ({}) has not ended yet: values are for past quarters", q.financial_label()),
                    ));
                    None
                }
                other => note(other, row, f.period, errors),
            },
            None => missing(row, f.period, errors),
        };
        if let (Some(org), Some(metric)) = (&org, metric)
            && let Some(tt) = rules.reference.organisation(org).map(|o| o.trust_type).filter(|tt| !metric.applies(*tt))
        {
            errors.push(RowError::new(
                row,
                f.metric,
                format!("{} does not apply to {} trusts like {org}", metric.metric_id, tt.label().to_lowercase()),
            ));
        }
        let value = match (metric, raw.value.as_deref()) {
            (Some(m), Some(t)) => note(parse_value(t, m), row, f.value, errors),
            // The metric is unknown, but the number's form can still be checked.
            (None, Some(t)) if !t.trim().is_empty() => {
                note(crate::domain::value::parse_decimal(t), row, f.value, errors);
                None
            }
            (_, None) => missing(row, f.value, errors),
            _ => None,
        };
        if let (Some(org), Some(metric), Some(period)) = (&org, metric, period)
            && let Some(first) = self.first_row(org, &metric.metric_id, period, row)
        {
            errors.push(RowError::new(
                row,
                f.period,
                format!("{org} {} {period} is already given in row {first}", metric.metric_id),
            ));
        }
        let comment = raw.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        match (org, metric, period, value) {
            (Some(org_code), Some(m), Some(period), Some(value)) if errors.total() == before => {
                Some(MetricRow { row, org_code, metric_id: m.metric_id.clone(), period, value, comment })
            }
            _ => None,
        }
    }
}

/// Parses and validates a whole metric CSV. Either every row is valid, or every problem is listed.
pub fn parse_metric_csv<R: Read>(input: R, rules: &Rules<'_>) -> Result<Vec<MetricRow>, Errors> {
    parse_csv(input, rules, CSV_METRICS)
}

/// Parses and validates a whole targets CSV.
pub fn parse_targets_csv<R: Read>(input: R, rules: &Rules<'_>) -> Result<Vec<MetricRow>, Errors> {
    parse_csv(input, rules, CSV_TARGETS)
}

fn parse_csv<R: Read>(input: R, rules: &Rules<'_>, fields: Fields) -> Result<Vec<MetricRow>, Errors> {
    let mut rows = Vec::new();
    let errors = stream_csv(input, rules, fields, |row| rows.push(row));
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

/// Validates a metric or targets CSV row by row, handing each valid row to `valid` as long as
/// no problem has been found, and answers every problem, by row. Nothing of the file is kept
/// but the repeat check's grid, so that a file of any length is checked in the same memory.
pub fn stream_csv<R: Read>(input: R, rules: &Rules<'_>, fields: Fields, mut valid: impl FnMut(MetricRow)) -> Errors {
    let mut validator = Validator::new(rules, fields);
    let optional: &[&'static str] = if fields.targets { &[] } else { &["comment"] };
    let errors = read_rows(
        input,
        &[fields.org, fields.metric, fields.period, fields.value],
        optional,
        |cols, row, record, errors| {
            let before = errors.total();
            let raw = RawRow {
                row,
                org: cols.get(record, row, fields.org, errors).map(str::to_string),
                metric: cols.get(record, row, fields.metric, errors).map(str::to_string),
                period: cols.get(record, row, fields.period, errors).map(str::to_string),
                value: cols.get(record, row, fields.value, errors).map(str::to_string),
                comment: cols.get(record, row, "comment", errors).map(str::to_string),
            };
            // A cell that is not UTF-8 is reported by `get` and reads as absent: do not report it twice.
            if errors.total() > before {
                return;
            }
            if let Some(row) = validator.check(raw, errors)
                && errors.is_empty()
            {
                valid(row);
            }
        },
    );
    errors.finish()
}

/// Checks an organisation code against the reference data and the submitter's own trust.
pub fn check_org(text: &str, row: usize, column: &str, rules: &Rules<'_>, errors: &mut Errors) -> Option<String> {
    let code = note(OdsCode::parse(text), row, column, errors)?;
    if rules.reference.organisation(code.as_str()).is_none() {
        errors.push(RowError::new(row, column, format!("unknown organisation '{code}'")));
        return None;
    }
    if let Some(own) = rules.own_org.filter(|own| *own != code.as_str()) {
        errors.push(RowError::forbidden(
            row,
            column,
            format!("you may submit only for your own trust {own}, not for {code}"),
        ));
        return None;
    }
    Some(code.as_str().to_string())
}

fn missing<T>(row: usize, column: &str, errors: &mut Errors) -> Option<T> {
    errors.push(RowError::new(row, column, "this field is missing"));
    None
}

/// Records a parse error against its row and column.
pub fn note<T>(result: Result<T, String>, row: usize, column: &str, errors: &mut Errors) -> Option<T> {
    result.map_err(|message| errors.push(RowError::new(row, column, message))).ok()
}
