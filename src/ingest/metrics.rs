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
    /// The counts behind a proportion (metric submissions only).
    pub numerator: Option<String>,
    pub denominator: Option<String>,
}

/// What the fields are called in the source, for error messages, and what kind of values they hold.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub org: &'static str,
    pub metric: &'static str,
    pub period: &'static str,
    pub value: &'static str,
    /// What the counts are called.
    pub numerator: &'static str,
    pub denominator: &'static str,
    /// Targets are for future quarters and only for exemplar trusts.
    pub targets: bool,
    /// Whether counts sent for a metric that is not a proportion are left unread rather than
    /// refused: a FHIR MeasureReport carries its populations whatever the measure.
    pub counts_where_any: bool,
}

pub const CSV_METRICS: Fields = Fields {
    org: "org_code",
    metric: "metric_id",
    period: "period",
    value: "value",
    numerator: "numerator",
    denominator: "denominator",
    targets: false,
    counts_where_any: false,
};
pub const CSV_TARGETS: Fields = Fields { value: "target", targets: true, ..CSV_METRICS };

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
        let counts = check_counts(&raw, metric, row, f, errors);
        // FHIR writes a proportion's score as a fraction (0–1): with counts that make that
        // fraction, the value is the percentage the counts make.
        let fraction = |t: &str| {
            f.counts_where_any
                && counts.is_some_and(|(share, _)| {
                    t.trim().parse::<f64>().is_ok_and(|v| (v - share / 100.0).abs() <= 0.000_5)
                })
        };
        let counts_given =
            [&raw.numerator, &raw.denominator].iter().any(|t| t.as_deref().is_some_and(|t| !t.trim().is_empty()));
        let value_text = raw.value.as_deref().filter(|t| (!t.trim().is_empty() || !counts_given) && !fraction(t));
        let value = match (metric, value_text) {
            (Some(m), Some(t)) => note(parse_value(t, m), row, f.value, errors),
            // The metric is unknown, but the number's form can still be checked.
            (None, Some(t)) if !t.trim().is_empty() => {
                note(crate::domain::value::parse_decimal(t), row, f.value, errors);
                None
            }
            // Counts alone: the value is the percentage they make.
            (_, None) if counts.is_some() => counts.map(|(c, _)| c),
            // Counts that cannot be: their own errors say why there is no value.
            (_, None) if counts_given => None,
            (_, None) => missing(row, f.value, errors),
            _ => None,
        };
        if let (Some(v), Some((share, _))) = (value, counts)
            && (v - share).abs() > 0.05
        {
            errors.push(RowError::new(
                row,
                f.value,
                format!(
                    "the value {v} disagrees with the counts: {} of {} is {:.2} %, more than 0.05 points away",
                    counts.map_or(0, |(_, c)| c.numerator),
                    counts.map_or(0, |(_, c)| c.denominator),
                    share
                ),
            ));
        }
        let counts = counts.map(|(_, c)| c);
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
                Some(MetricRow { row, org_code, metric_id: m.metric_id.clone(), period, value, comment, counts })
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
    // `metric_name` (the name beside the id, in the web's CSV template) is read and ignored.
    let optional: &[&'static str] =
        if fields.targets { &[] } else { &["comment", fields.numerator, fields.denominator, "metric_name"] };
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
                numerator: cols.get(record, row, fields.numerator, errors).map(str::to_string),
                denominator: cols.get(record, row, fields.denominator, errors).map(str::to_string),
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

/// The counts of a row, checked: whole, not negative, the denominator above zero and not below
/// the numerator, both or neither, and only for a proportion. With them, the percentage they
/// make.
fn check_counts(
    raw: &RawRow,
    metric: Option<&crate::domain::Metric>,
    row: usize,
    f: Fields,
    errors: &mut Errors,
) -> Option<(f64, crate::domain::Counts)> {
    let given = |t: &Option<String>| t.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
    let (numerator, denominator) = (given(&raw.numerator), given(&raw.denominator));
    if numerator.is_none() && denominator.is_none() {
        return None;
    }
    if let Some(m) = metric.filter(|m| !m.is_proportion()) {
        if f.counts_where_any {
            return None;
        }
        let column = if numerator.is_some() { f.numerator } else { f.denominator };
        errors.push(RowError::new(
            row,
            column,
            format!("{} is not a proportion: send its value without a numerator and denominator", m.metric_id),
        ));
        return None;
    }
    let count = |text: Option<String>, column: &str, errors: &mut Errors| -> Option<u32> {
        let Some(text) = text else {
            let other = if column == f.numerator { f.denominator } else { f.numerator };
            errors.push(RowError::new(row, column, format!("give the {column} with the {other}, or neither")));
            return None;
        };
        let n = match crate::domain::value::parse_decimal(&text) {
            Ok(n) => n,
            Err(e) => {
                errors.push(RowError::new(row, column, e));
                return None;
            }
        };
        let problem = if n < 0.0 {
            Some(format!("the {column} {text} is negative: counts are 0 or more"))
        } else if n.fract() != 0.0 {
            Some(format!("the {column} {text} is not a whole number: counts are whole"))
        } else if n > f64::from(u32::MAX) {
            Some(format!("the {column} {text} is too large (at most {})", u32::MAX))
        } else {
            None
        };
        match problem {
            Some(p) => {
                errors.push(RowError::new(row, column, p));
                None
            }
            None => Some(n as u32),
        }
    };
    let n = count(numerator, f.numerator, errors);
    let d = count(denominator, f.denominator, errors);
    let (n, d) = (n?, d?);
    if d == 0 {
        errors.push(RowError::new(row, f.denominator, "the denominator is 0: a proportion needs at least one counted"));
        return None;
    }
    if n > d {
        errors.push(RowError::new(row, f.numerator, format!("the numerator {n} is above the denominator {d}")));
        return None;
    }
    Some((100.0 * f64::from(n) / f64::from(d), crate::domain::Counts { numerator: n, denominator: d }))
}

fn missing<T>(row: usize, column: &str, errors: &mut Errors) -> Option<T> {
    errors.push(RowError::new(row, column, "this field is missing"));
    None
}

/// Records a parse error against its row and column.
pub fn note<T>(result: Result<T, String>, row: usize, column: &str, errors: &mut Errors) -> Option<T> {
    result.map_err(|message| errors.push(RowError::new(row, column, message))).ok()
}
