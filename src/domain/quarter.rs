//! Calendar quarters: the canonical `YYYY-Qn` form, the NHS financial-year form, and their dates.

use chrono::{Datelike, NaiveDate};
use std::fmt;

/// A calendar quarter: `2024-Q2` is April to June 2024, which the NHS calls `2024/25 Q1`.
/// Held as its index (`year × 4 + quarter`), so that it is as small as an integer in every
/// table of figures and orders as time does.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter(i32);

impl fmt::Debug for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quarter({self})")
    }
}

/// The years a quarter may be in: from before the first digital-maturity assessments to well
/// after any target a trust sets (docs/RULES.md §3.1).
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

impl Quarter {
    pub fn new(year: i32, quarter: u8) -> Result<Self, String> {
        if !(1..=4).contains(&quarter) {
            return Err(format!("quarter {quarter} does not exist: a year has quarters 1 to 4"));
        }
        if !YEARS.contains(&year) {
            return Err(format!(
                "year {year} is out of range: quarters run from {}-Q1 to {}-Q4",
                YEARS.start(),
                YEARS.end()
            ));
        }
        Ok(Self(year * 4 + i32::from(quarter)))
    }

    /// Parses `2024-Q2` (calendar) or `2024/25 Q1` (NHS financial year, April to March).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some((year, q)) = text.split_once("-Q").or_else(|| text.split_once("-q")) {
            let year = parse_year(year, text)?;
            let q = parse_quarter_digit(q, text)?;
            return Self::new(year, q);
        }
        if let Some((fy, q)) = text.split_once(' ') {
            let (start, end) = fy.split_once('/').ok_or_else(|| not_a_quarter(text))?;
            let start = parse_year(start, text)?;
            if end.len() != 2 || !end.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_a_quarter(text));
            }
            let end: i32 = end.parse().map_err(|_| not_a_quarter(text))?;
            if end != (start + 1).rem_euclid(100) {
                return Err(format!(
                    "'{text}' is not a financial year: {start}/{:02} should follow {start}",
                    (start + 1).rem_euclid(100)
                ));
            }
            let q = q.trim();
            let q = q.strip_prefix('Q').or_else(|| q.strip_prefix('q')).ok_or_else(|| not_a_quarter(text))?;
            let q = parse_quarter_digit(q, text)?;
            // Financial Q1 (April–June) is calendar Q2; financial Q4 (January–March) is the next year's Q1.
            return if q == 4 { Self::new(start + 1, 1) } else { Self::new(start, q + 1) };
        }
        Err(not_a_quarter(text))
    }

    pub fn year(self) -> i32 {
        (self.0 - 1).div_euclid(4)
    }

    pub fn quarter(self) -> u8 {
        ((self.0 - 1).rem_euclid(4) + 1) as u8
    }

    /// The quarter number used for trend slopes and stored in the database: `year × 4 + quarter`.
    pub fn index(self) -> i32 {
        self.0
    }

    pub fn from_index(index: i32) -> Self {
        Self(index)
    }

    /// The quarter `k` quarters after this one (before it when `k` is negative).
    pub fn offset(self, k: i32) -> Self {
        Self(self.0 + k)
    }

    pub fn previous(self) -> Self {
        Self::from_index(self.index() - 1)
    }

    pub fn next(self) -> Self {
        Self::from_index(self.index() + 1)
    }

    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year(), u32::from(self.quarter()) * 3 - 2, 1).expect("valid quarter start")
    }

    pub fn end(self) -> NaiveDate {
        self.next().start().pred_opt().expect("valid quarter end")
    }

    /// The quarter that contains `date`.
    pub fn containing(date: NaiveDate) -> Self {
        Self(date.year() * 4 + (date.month0() / 3 + 1) as i32)
    }

    /// The latest quarter that has ended on `today`.
    pub fn last_ended(today: NaiveDate) -> Self {
        Self::containing(today).previous()
    }

    pub fn has_ended(self, today: NaiveDate) -> bool {
        self.end() < today
    }

    /// The NHS financial-year label: `2024-Q2` is `2024/25 Q1`.
    pub fn financial_label(self) -> String {
        let (year, quarter) = (self.year(), self.quarter());
        let (start, q) = if quarter == 1 { (year - 1, 4) } else { (year, quarter - 1) };
        format!("{start}/{:02} Q{q}", (start + 1).rem_euclid(100))
    }
}

/// `q + k`: the quarter `k` quarters later.
impl std::ops::Add<i32> for Quarter {
    type Output = Quarter;
    fn add(self, k: i32) -> Quarter {
        self.offset(k)
    }
}

/// `q - k`: the quarter `k` quarters earlier.
impl std::ops::Sub<i32> for Quarter {
    type Output = Quarter;
    fn sub(self, k: i32) -> Quarter {
        self.offset(-k)
    }
}

/// `a - b`: how many quarters `b` is before `a`.
impl std::ops::Sub for Quarter {
    type Output = i32;
    fn sub(self, other: Quarter) -> i32 {
        self.0 - other.0
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year(), self.quarter())
    }
}

impl serde::Serialize for Quarter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Quarter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A quarter as its index, for tables that are stored rather than shown (the snapshot):
/// `#[serde(with = "crate::domain::quarter::as_index")]`.
pub mod as_index {
    use super::Quarter;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(q: &Quarter, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(q.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Quarter, D::Error> {
        Ok(Quarter(i32::deserialize(d)?))
    }
}

fn not_a_quarter(text: &str) -> String {
    format!("'{text}' is not a quarter: write 2024-Q2 or 2024/25 Q1")
}

fn parse_year(text: &str, whole: &str) -> Result<i32, String> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_quarter(whole));
    }
    text.parse().map_err(|_| not_a_quarter(whole))
}

fn parse_quarter_digit(text: &str, whole: &str) -> Result<u8, String> {
    match text {
        "1" => Ok(1),
        "2" => Ok(2),
        "3" => Ok(3),
        "4" => Ok(4),
        _ if text.len() == 1 && text.as_bytes()[0].is_ascii_digit() => {
            Err(format!("'{whole}' names quarter {text}: a year has quarters 1 to 4"))
        }
        _ => Err(not_a_quarter(whole)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quarter {
        Quarter::parse(text).unwrap()
    }

    #[test]
    fn a_quarter_outside_the_stated_years_is_refused() {
        assert!(Quarter::parse("1900-Q1").unwrap_err().contains("from 2000-Q1 to 2100-Q4"));
        assert!(Quarter::parse("2101-Q1").is_err());
        assert!(Quarter::parse("2000-Q1").is_ok());
    }

    #[test]
    fn a_financial_year_quarter_maps_to_its_calendar_quarter() {
        assert_eq!(q("2024/25 Q1"), q("2024-Q2"));
        assert_eq!(q("2024/25 Q2"), q("2024-Q3"));
        assert_eq!(q("2024/25 Q3"), q("2024-Q4"));
        assert_eq!(q("2024/25 Q4"), q("2025-Q1"));
        assert_eq!(q("1999/00 Q4"), q("2000-Q1"));
    }

    #[test]
    fn quarters_label_themselves_in_financial_year_form() {
        assert_eq!(q("2024-Q2").financial_label(), "2024/25 Q1");
        assert_eq!(q("2025-Q1").financial_label(), "2024/25 Q4");
        assert_eq!(q("2024-Q2").to_string(), "2024-Q2");
    }

    #[test]
    fn malformed_quarters_are_refused_with_a_reason() {
        assert!(Quarter::parse("2024-Q5").unwrap_err().contains("quarters 1 to 4"));
        assert!(Quarter::parse("2024/26 Q1").unwrap_err().contains("not a financial year"));
        assert!(Quarter::parse("Q1 2024").unwrap_err().contains("not a quarter"));
        assert!(Quarter::parse("2024Q1").is_err());
        assert!(Quarter::parse("24-Q1").is_err());
        assert!(Quarter::parse("").is_err());
    }

    #[test]
    fn a_quarter_knows_its_dates_and_neighbours() {
        let p = q("2024-Q2");
        assert_eq!(p.start().to_string(), "2024-04-01");
        assert_eq!(p.end().to_string(), "2024-06-30");
        assert_eq!(q("2024-Q1").previous(), q("2023-Q4"));
        assert_eq!(q("2023-Q4").next(), q("2024-Q1"));
        assert_eq!(Quarter::from_index(p.index()), p);
        assert_eq!(q("2025-Q1").index() - q("2024-Q4").index(), 1);
    }

    #[test]
    fn only_ended_quarters_have_ended() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(Quarter::last_ended(today), q("2026-Q3"));
        assert!(q("2026-Q3").has_ended(today));
        assert!(!q("2026-Q4").has_ended(today));
    }
}
