//! Submitted values: plain decimals, or the words a boolean metric accepts.

use super::reference::{Metric, Unit};

/// Parses a submitted value for `metric`, checking the number's form and the metric's scale.
pub fn parse_value(text: &str, metric: &Metric) -> Result<f64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the value is empty".into());
    }
    let value = if metric.unit == Unit::Boolean {
        match text.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => 1.0,
            "0" | "false" | "no" => 0.0,
            _ => {
                return Err(format!("'{text}' is not a yes/no value: write 0, 1, true, false, yes or no"));
            }
        }
    } else {
        parse_decimal(text)?
    };
    if value < metric.scale_min || value > metric.scale_max {
        return Err(format!(
            "{value} is outside the scale of {} ({} to {})",
            metric.metric_id, metric.scale_min, metric.scale_max
        ));
    }
    Ok(value)
}

/// A plain decimal number: optional sign, digits, optional `.` and digits. No thousands
/// separators, no `%`, no exponent, no NaN or infinity.
pub fn parse_decimal(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if text.contains('%') {
        return Err(format!("'{text}' has a % sign: write the number alone, e.g. 45 for 45%"));
    }
    if text.contains(',') {
        return Err(format!(
            "'{text}' has a comma: write plain numbers with no thousands separators and a . decimal point"
        ));
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("nan") || lower.contains("inf") {
        return Err(format!("'{text}' is not a number: NaN and infinity are not values"));
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !(whole.is_empty() && fraction.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(digits.ends_with('.'));
    if !well_formed {
        return Err(format!("'{text}' is not a plain decimal number"));
    }
    text.parse::<f64>().map_err(|_| format!("'{text}' is not a plain decimal number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::Direction;

    fn metric(unit: Unit, min: f64, max: f64) -> Metric {
        Metric {
            metric_id: "m".into(),
            domain: "well_led".into(),
            name: "M".into(),
            description: String::new(),
            unit,
            scale_min: min,
            scale_max: max,
            direction: Direction::HigherBetter,
            applies_to: Vec::new(),
            counted: String::new(),
            definition: Default::default(),
        }
    }

    #[test]
    fn plain_decimals_are_values() {
        let m = metric(Unit::Percent, 0.0, 100.0);
        assert_eq!(parse_value("45", &m), Ok(45.0));
        assert_eq!(parse_value(" 45.5 ", &m), Ok(45.5));
        assert_eq!(parse_value(".5", &m), Ok(0.5));
        assert_eq!(parse_value("0", &m), Ok(0.0));
    }

    #[test]
    fn separators_percent_signs_and_non_numbers_are_refused_with_reasons() {
        let m = metric(Unit::Count, 0.0, 10000.0);
        assert!(parse_value("1,234", &m).unwrap_err().contains("comma"));
        assert!(parse_value("45%", &m).unwrap_err().contains("% sign"));
        assert!(parse_value("NaN", &m).unwrap_err().contains("NaN"));
        assert!(parse_value("inf", &m).unwrap_err().contains("infinity"));
        assert!(parse_value("-Infinity", &m).is_err());
        assert!(parse_value("1e3", &m).unwrap_err().contains("plain decimal"));
        assert!(parse_value("12.", &m).is_err());
        assert!(parse_value("abc", &m).is_err());
        assert!(parse_value("", &m).unwrap_err().contains("empty"));
    }

    #[test]
    fn values_off_the_scale_are_refused() {
        let m = metric(Unit::Score, 1.0, 5.0);
        assert!(parse_value("5.5", &m).unwrap_err().contains("outside the scale"));
        assert!(parse_value("0", &m).is_err());
        assert_eq!(parse_value("5", &m), Ok(5.0));
    }

    #[test]
    fn boolean_metrics_take_words() {
        let m = metric(Unit::Boolean, 0.0, 1.0);
        for (text, v) in [("yes", 1.0), ("TRUE", 1.0), ("1", 1.0), ("no", 0.0), ("false", 0.0), ("0", 0.0)] {
            assert_eq!(parse_value(text, &m), Ok(v), "{text}");
        }
        assert!(parse_value("maybe", &m).is_err());
        assert!(parse_value("0.5", &m).is_err());
    }
}
