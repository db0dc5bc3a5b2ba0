//! Identifiers that arrive as text: ODS codes and metric ids.

use std::fmt;

/// An NHS Organisation Data Service code: 3 to 5 upper-case letters and digits, such as `RJ1`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct OdsCode(String);

impl OdsCode {
    /// Parses a code; lower-case letters are taken as upper-case, surrounding spaces are dropped.
    pub fn parse(text: &str) -> Result<Self, String> {
        let code = text.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err("the organisation code is empty".into());
        }
        if !(3..=5).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("'{}' is not an ODS code: 3 to 5 letters and digits, such as RJ1", text.trim()));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A metric's id in the catalogue: snake_case, such as `eprescribing_coverage`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct MetricId(String);

impl MetricId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let id = text.trim();
        let mut bytes = id.bytes();
        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
        if !first_ok || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(format!("'{id}' is not a metric id: lower-case snake_case such as epr_coverage"));
        }
        Ok(Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MetricId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ods_codes_are_three_to_five_letters_and_digits() {
        assert_eq!(OdsCode::parse("RJ1").unwrap().as_str(), "RJ1");
        assert_eq!(OdsCode::parse(" g6v2s ").unwrap().as_str(), "G6V2S");
        assert!(OdsCode::parse("R1").unwrap_err().contains("not an ODS code"));
        assert!(OdsCode::parse("RJ1XYZ").is_err());
        assert!(OdsCode::parse("R-J1").is_err());
        assert!(OdsCode::parse("").unwrap_err().contains("empty"));
    }

    #[test]
    fn metric_ids_are_snake_case() {
        assert!(MetricId::parse("epr_coverage_2").is_ok());
        assert!(MetricId::parse("EPR").is_err());
        assert!(MetricId::parse("2fa").is_err());
        assert!(MetricId::parse("epr-coverage").is_err());
    }
}
