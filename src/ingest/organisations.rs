//! An organisations file: the columns of the `organisations.csv` export, so that the list an
//! analyst downloads can be edited and loaded back. New organisations are added; a known ODS
//! code has its name, type, region and cohort replaced.

use super::columns::read_rows;
use super::{Errors, RowError};
use crate::domain::OdsCode;
use crate::domain::reference::{Exemplar, Organisation, REGIONS, TrustType};
use std::collections::HashMap;

pub const REQUIRED: &[&str] = &["org_code", "org_name", "trust_type", "region", "exemplar"];
pub const OPTIONAL: &[&str] = &["exemplar_cohort", "icb"];

/// Every organisation of the file, or every problem with it (row, column, reason).
pub fn parse_organisations(bytes: &[u8]) -> Result<Vec<Organisation>, Errors> {
    let mut orgs = Vec::new();
    let mut first_row: HashMap<String, usize> = HashMap::new();
    let errors = read_rows(bytes, REQUIRED, OPTIONAL, |columns, row, record, errors| {
        let before = errors.total();
        let mut cell = |name: &str| columns.get(record, row, name, errors).map(str::trim).unwrap_or("");
        let icb = cell("icb").to_string();
        let (code, name, kind, region, exemplar, cohort) = (
            cell("org_code").to_string(),
            cell("org_name").to_string(),
            cell("trust_type").to_string(),
            cell("region").to_string(),
            cell("exemplar").to_string(),
            cell("exemplar_cohort").to_string(),
        );
        let code = match OdsCode::parse(&code) {
            Ok(c) => Some(c.as_str().to_string()),
            Err(e) => {
                errors.push(RowError::new(row, "org_code", e));
                None
            }
        };
        if name.is_empty() {
            errors.push(RowError::new(row, "org_name", "the organisation needs a name"));
        }
        let trust_type = kind.parse::<TrustType>().map_err(|e| errors.push(RowError::new(row, "trust_type", e))).ok();
        if !REGIONS.iter().any(|(_, r)| *r == region) {
            let names: Vec<_> = REGIONS.iter().map(|(_, r)| *r).collect();
            errors.push(RowError::new(row, "region", format!("'{region}' is not one of {}", names.join("; "))));
        }
        if !icb.is_empty() && crate::domain::icb(&icb).is_none() {
            errors.push(RowError::new(
                row,
                "icb",
                format!("'{icb}' is not the ODS code of an integrated care board (such as QWO)"),
            ));
        }
        let exemplar = exemplar.parse::<Exemplar>().map_err(|e| errors.push(RowError::new(row, "exemplar", e))).ok();
        let cohort = if cohort.is_empty() {
            None
        } else {
            match cohort.parse::<i32>() {
                Ok(y) if (2000..=2100).contains(&y) => Some(y),
                _ => {
                    errors.push(RowError::new(row, "exemplar_cohort", format!("'{cohort}' is not a year")));
                    None
                }
            }
        };
        if let (Some(exemplar), Some(_)) = (exemplar, cohort)
            && !exemplar.is_exemplar()
        {
            errors.push(RowError::new(row, "exemplar_cohort", "only an exemplar trust has a cohort year"));
        }
        if let Some(code) = &code
            && let Some(first) = first_row.insert(code.clone(), row)
        {
            errors.push(RowError::new(row, "org_code", format!("{code} is already on row {first}")));
        }
        if errors.total() == before
            && let (Some(ods_code), Some(trust_type), Some(exemplar)) = (code, trust_type, exemplar)
        {
            orgs.push(Organisation { ods_code, name, trust_type, region, icb, exemplar, exemplar_cohort: cohort });
        }
    });
    if errors.is_empty() { Ok(orgs) } else { Err(errors.finish()) }
}
