//! NHS App uptake as CSV: `area_code,month,measure,value[,age_band]`, one count per area, month,
//! measure and age band (docs/RULES.md §9), validated whole: every problem is reported by row
//! and column, and a file with any problem stores nothing.

use super::columns::read_rows;
use super::{Errors, RowError};
use crate::domain::uptake::{AgeBand, Month, POPULATION, REGISTRATIONS, UptakeRow, area, measure, measures};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::io::Read;

const REQUIRED: [&str; 4] = ["area_code", "month", "measure", "value"];
const OPTIONAL: [&str; 1] = ["age_band"];

/// Reads and checks an uptake file; `today` bounds the months (only months that have ended).
pub fn parse_uptake_csv<R: Read>(input: R, today: NaiveDate) -> Result<Vec<UptakeRow>, Errors> {
    let this_month = Month::containing(today);
    let mut rows: Vec<UptakeRow> = Vec::new();
    // Each key's first row, to refuse a repeat within the file.
    let mut seen: HashMap<(String, Month, String, AgeBand), usize> = HashMap::new();
    let mut errors = read_rows(input, &REQUIRED, &OPTIONAL, |cols, row, record, errors| {
        let before = errors.total();
        let mut problem = |column: &str, message: String| errors.push(RowError::new(row, column, message));
        let cell = |name: &str, errors: &mut Errors| cols.get(record, row, name, errors).map(str::trim);
        let (area_text, month_text, measure_text, value_text, band_text) = {
            let mut e = Errors::new();
            let cells = (
                cell("area_code", &mut e).unwrap_or_default().to_string(),
                cell("month", &mut e).unwrap_or_default().to_string(),
                cell("measure", &mut e).unwrap_or_default().to_string(),
                cell("value", &mut e).unwrap_or_default().to_string(),
                cell("age_band", &mut e).map(str::to_string),
            );
            for error in e.iter() {
                problem(&error.column, error.message.clone());
            }
            cells
        };
        let area_code = area_text.to_ascii_uppercase();
        if area_code.is_empty() {
            problem("area_code", "the area code is empty".into());
        } else if area(&area_code).is_none() {
            problem(
                "area_code",
                format!("'{area_text}' is not a sub-ICB location, integrated care board, region or England code"),
            );
        }
        let month = match Month::parse(&month_text) {
            Ok(m) if m >= this_month => {
                problem("month", format!("{m} has not ended yet: send only months that have ended"));
                None
            }
            Ok(m) => Some(m),
            Err(e) => {
                problem("month", e);
                None
            }
        };
        let measure_id = measure_text.to_ascii_lowercase();
        if measure(&measure_id).is_none() {
            let all: Vec<&str> = measures().iter().map(|m| m.measure.as_str()).collect();
            problem("measure", format!("'{measure_text}' is not a measure: write one of {}", all.join(", ")));
        }
        let value = match value_text.parse::<f64>() {
            _ if value_text.is_empty() => {
                problem("value", "the value is empty".into());
                None
            }
            Ok(v) if !v.is_finite() => {
                problem("value", format!("'{value_text}' is not a number"));
                None
            }
            Ok(v) if v < 0.0 => {
                problem("value", format!("{value_text} is negative: a count is 0 or more"));
                None
            }
            Ok(v) if v.fract() != 0.0 => {
                problem("value", format!("{value_text} is not a whole number: a count of events or people"));
                None
            }
            Ok(v) => Some(v),
            Err(_) => {
                problem("value", format!("'{value_text}' is not a number"));
                None
            }
        };
        let age_band = match band_text.as_deref() {
            None | Some("") => Some(AgeBand::All),
            Some(text) => match text.parse::<AgeBand>() {
                Ok(b) => Some(b),
                Err(e) => {
                    problem("age_band", e);
                    None
                }
            },
        };
        if errors.total() > before {
            return;
        }
        let (Some(month), Some(value), Some(age_band)) = (month, value, age_band) else { return };
        let key = (area_code.clone(), month, measure_id.clone(), age_band);
        if let Some(first) = seen.get(&key) {
            errors.push(RowError::new(
                row,
                "measure",
                format!("{measure_id} for {area_code} in {month} ({age_band}) is already given on row {first}"),
            ));
            return;
        }
        seen.insert(key, row);
        rows.push(UptakeRow { row, area_code, month, measure: measure_id, age_band, value });
    });
    // Registrations above the population of the same area, month and age band.
    let population: HashMap<(&str, Month, AgeBand), f64> = rows
        .iter()
        .filter(|r| r.measure == POPULATION)
        .map(|r| ((r.area_code.as_str(), r.month, r.age_band), r.value))
        .collect();
    for r in rows.iter().filter(|r| r.measure == REGISTRATIONS) {
        if let Some(p) = population.get(&(r.area_code.as_str(), r.month, r.age_band))
            && r.value > *p
        {
            errors.push(RowError::new(
                r.row,
                "value",
                format!(
                    "{} registrations in {} in {} is more than its population aged 13 and over ({p})",
                    r.value, r.area_code, r.month
                ),
            ));
        }
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
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
}
