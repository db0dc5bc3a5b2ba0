//! Metric submissions as CSV: `org_code,metric_id,period,value[,comment]`, validated whole.

use super::RowError;
use super::columns::read_rows;
use crate::domain::{MetricId, OdsCode, Quarter, Reference, value::parse_value};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::io::Read;

/// One valid row of a metric submission.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub row: usize,
    pub org_code: String,
    pub metric_id: String,
    pub period: Quarter,
    pub value: f64,
    pub comment: Option<String>,
}

/// What a submission may contain besides the reference data: today's date (no quarter that has
/// not ended) and, for a trust's own submitter, the one organisation it may submit for.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    pub reference: &'a Reference,
    pub today: NaiveDate,
    pub own_org: Option<&'a str>,
}

/// Parses and validates a whole metric CSV. Either every row is valid, or every problem is listed.
pub fn parse_metric_csv<R: Read>(
    input: R,
    rules: &Rules<'_>,
) -> Result<Vec<MetricRow>, Vec<RowError>> {
    let mut rows = Vec::new();
    let mut seen: HashMap<(String, String, Quarter), usize> = HashMap::new();
    let mut errors = read_rows(
        input,
        &["org_code", "metric_id", "period", "value"],
        &["comment"],
        |cols, row, record, errors| {
            let before = errors.len();
            let org = cols
                .get(record, row, "org_code", errors)
                .and_then(|t| check_org(t, row, rules, errors));
            let metric = cols
                .get(record, row, "metric_id", errors)
                .and_then(|t| note(MetricId::parse(t), row, "metric_id", errors))
                .and_then(|id| match rules.reference.metric(id.as_str()) {
                    Some(m) => Some(m),
                    None => {
                        errors.push(RowError::new(
                            row,
                            "metric_id",
                            format!("unknown metric '{id}'"),
                        ));
                        None
                    }
                });
            let period =
                cols.get(record, row, "period", errors)
                    .and_then(|t| match Quarter::parse(t) {
                        Ok(q) if !q.has_ended(rules.today) => {
                            errors.push(RowError::new(
                                row,
                                "period",
                                format!(
                                    "{q} ({}) has not ended yet: values are for past quarters",
                                    q.financial_label()
                                ),
                            ));
                            None
                        }
                        other => note(other, row, "period", errors),
                    });
            let value_text = cols.get(record, row, "value", errors);
            let comment = cols
                .get(record, row, "comment", errors)
                .map(str::trim)
                .filter(|c| !c.is_empty());
            if let (Some(org), Some(metric)) = (&org, metric) {
                let trust_type = rules.reference.organisation(org).map(|o| o.trust_type);
                if let Some(tt) = trust_type.filter(|tt| !metric.applies(*tt)) {
                    errors.push(RowError::new(
                        row,
                        "metric_id",
                        format!(
                            "{} does not apply to {} trusts like {org}",
                            metric.metric_id,
                            tt.label().to_lowercase()
                        ),
                    ));
                }
            }
            let value = match (metric, value_text) {
                (Some(m), Some(t)) => note(parse_value(t, m), row, "value", errors),
                // The metric is unknown, but the number's form can still be checked.
                (None, Some(t)) if !t.trim().is_empty() => {
                    note(crate::domain::value::parse_decimal(t), row, "value", errors);
                    None
                }
                _ => None,
            };
            if let (Some(org), Some(metric), Some(period)) = (&org, metric, period) {
                let key = (org.clone(), metric.metric_id.clone(), period);
                if let Some(first) = seen.get(&key) {
                    errors.push(RowError::new(
                        row,
                        "period",
                        format!(
                            "{org} {} {period} is already given in row {first}",
                            metric.metric_id
                        ),
                    ));
                } else {
                    seen.insert(key, row);
                }
            }
            if errors.len() == before
                && let (Some(org), Some(metric), Some(period), Some(value)) =
                    (org, metric, period, value)
            {
                rows.push(MetricRow {
                    row,
                    org_code: org,
                    metric_id: metric.metric_id.clone(),
                    period,
                    value,
                    comment: comment.map(str::to_string),
                });
            }
        },
    );
    if errors.is_empty() {
        Ok(rows)
    } else {
        errors.sort_by_key(|e| e.row);
        Err(errors)
    }
}

/// Checks an organisation code against the reference data and the submitter's own trust.
pub fn check_org(
    text: &str,
    row: usize,
    rules: &Rules<'_>,
    errors: &mut Vec<RowError>,
) -> Option<String> {
    let code = note(OdsCode::parse(text), row, "org_code", errors)?;
    if rules.reference.organisation(code.as_str()).is_none() {
        errors.push(RowError::new(
            row,
            "org_code",
            format!("unknown organisation '{code}'"),
        ));
        return None;
    }
    if let Some(own) = rules.own_org.filter(|own| *own != code.as_str()) {
        errors.push(RowError::new(
            row,
            "org_code",
            format!("you may submit only for your own trust {own}, not for {code}"),
        ));
        return None;
    }
    Some(code.as_str().to_string())
}

/// Records a parse error against its row and column.
pub fn note<T>(
    result: Result<T, String>,
    row: usize,
    column: &str,
    errors: &mut Vec<RowError>,
) -> Option<T> {
    result
        .map_err(|message| errors.push(RowError::new(row, column, message)))
        .ok()
}
