//! The Data Security and Protection Toolkit's published trust status files, as organisation-level
//! results for the `dspt` standard: Standards Exceeded or Met → pass, Approaching Standards →
//! partial, Standards Not Met → fail, Not Published → no result. Unknown codes (trusts that have
//! merged since) are reported, not guessed.

use super::conformance::ConformanceRow;
use crate::domain::{AssessedAt, Conformance, OdsCode, Reference};
use chrono::NaiveDate;
use std::collections::BTreeMap;

pub const STANDARD: &str = "dspt";

/// What an import found: the results to store and every row left out, with its reason.
#[derive(Debug, Default)]
pub struct DsptImport {
    pub rows: Vec<ConformanceRow>,
    pub skipped: Vec<(usize, String, String)>,
    /// Rows of the file by their status text.
    pub by_status: BTreeMap<String, usize>,
}

/// Reads a published DSPT trust file (the 2021/22 and 2022/23 layouts).
pub fn parse_dspt(bytes: &[u8], reference: &Reference) -> anyhow::Result<DsptImport> {
    if reference.standard(STANDARD).is_none() {
        anyhow::bail!("the standards catalogue has no '{STANDARD}' standard");
    }
    let text = String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).into_owned();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_string()).collect();
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let code_col = col(&["ODS Code", "Code"])
        .ok_or_else(|| anyhow::anyhow!("no 'ODS Code' or 'Code' column: not a DSPT trust file"))?;
    let status_col = col(&["Status"]).ok_or_else(|| anyhow::anyhow!("no 'Status' column: not a DSPT trust file"))?;
    let date_col = col(&["Date Of Publication"]);
    let mut out = DsptImport::default();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record?;
        let code = record.get(code_col).unwrap_or_default().trim().to_string();
        let status = record.get(status_col).unwrap_or_default().trim().to_string();
        *out.by_status.entry(status.clone()).or_default() += 1;
        let result = if status.ends_with("Standards Exceeded") || status.ends_with("Standards Met") {
            Conformance::Pass
        } else if status.ends_with("Approaching Standards") {
            Conformance::Partial
        } else if status.ends_with("Standards Not Met") {
            Conformance::Fail
        } else {
            out.skipped.push((row, code, format!("status '{status}' is no result")));
            continue;
        };
        let Some(org) = OdsCode::parse(&code).ok().filter(|c| reference.organisation(c.as_str()).is_some()) else {
            out.skipped.push((
                row,
                code.clone(),
                format!("{code} is not an open trust in the reference data (merged or closed)"),
            ));
            continue;
        };
        // The year is the status's prefix, such as "22/23"; results count from the publication
        // date, or else from the end of June that closes the toolkit year.
        let year =
            status.get(..5).and_then(|y| y.split_once('/')).and_then(|(_, b)| b.parse::<i32>().ok()).map(|b| 2000 + b);
        let published =
            date_col.and_then(|c| record.get(c)).and_then(|d| NaiveDate::parse_from_str(d.trim(), "%d/%m/%Y").ok());
        let Some(assessed_on) = published.or_else(|| year.and_then(|y| NaiveDate::from_ymd_opt(y, 6, 30))) else {
            out.skipped.push((row, code, "no publication date and no toolkit year".into()));
            continue;
        };
        out.rows.push(ConformanceRow {
            row,
            subject: org.as_str().to_string(),
            subject_kind: AssessedAt::Organisation,
            standard_id: STANDARD.into(),
            result,
            assessed_on,
            assessor: Some(format!("DSPT publication {}", status.get(..5).unwrap_or_default())),
            evidence: Some(status),
        });
    }
    Ok(out)
}
