//! Between typed rows and polars frames.

use crate::domain::Reference;
use crate::store::CurrentValue;
use polars::prelude::*;

/// `org_code, metric_id, period_index, value` of the current values.
pub fn values_frame(values: &[CurrentValue]) -> PolarsResult<DataFrame> {
    df!(
        "org_code" => values.iter().map(|v| v.org_code.as_str()).collect::<Vec<_>>(),
        "metric_id" => values.iter().map(|v| v.metric_id.as_str()).collect::<Vec<_>>(),
        "period_index" => values.iter().map(|v| v.period_index).collect::<Vec<_>>(),
        "value" => values.iter().map(|v| v.value).collect::<Vec<_>>(),
    )
}

/// `org_code, trust_type, is_exemplar`.
pub fn organisations_frame(reference: &Reference) -> PolarsResult<DataFrame> {
    let orgs = &reference.organisations;
    df!(
        "org_code" => orgs.iter().map(|o| o.ods_code.as_str()).collect::<Vec<_>>(),
        "trust_type" => orgs.iter().map(|o| o.trust_type.as_str()).collect::<Vec<_>>(),
        "is_exemplar" => orgs.iter().map(|o| o.exemplar.is_exemplar()).collect::<Vec<_>>(),
    )
}

/// `metric_id, domain, scale_min, scale_max, d` where `d` is +1 or −1 by direction.
pub fn metrics_frame(reference: &Reference) -> PolarsResult<DataFrame> {
    let m = &reference.metrics;
    df!(
        "metric_id" => m.iter().map(|m| m.metric_id.as_str()).collect::<Vec<_>>(),
        "domain" => m.iter().map(|m| m.domain.as_str()).collect::<Vec<_>>(),
        "scale_min" => m.iter().map(|m| m.scale_min).collect::<Vec<_>>(),
        "scale_max" => m.iter().map(|m| m.scale_max).collect::<Vec<_>>(),
        "d" => m.iter().map(|m| m.direction.sign()).collect::<Vec<_>>(),
    )
}

/// `trust_type, domain, n_applicable`: how many metrics of each domain apply to each type.
pub fn applicable_frame(reference: &Reference) -> PolarsResult<DataFrame> {
    let (mut types, mut domains, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    for t in crate::domain::TrustType::ALL {
        for d in &reference.domains {
            let n = reference.applicable_in_domain(*t, &d.domain_id).count() as i64;
            if n > 0 {
                types.push(t.as_str());
                domains.push(d.domain_id.as_str());
                counts.push(n);
            }
        }
    }
    df!("trust_type" => types, "domain" => domains, "n_applicable" => counts)
}

/// Reads typed columns out of a collected frame.
pub struct Reader<'a>(pub &'a DataFrame);

impl Reader<'_> {
    pub fn str(&self, name: &str) -> PolarsResult<Vec<String>> {
        let col = self.0.column(name)?.cast(&DataType::String)?;
        Ok(col.str()?.iter().map(|v| v.unwrap_or_default().to_string()).collect())
    }

    pub fn opt_f64(&self, name: &str) -> PolarsResult<Vec<Option<f64>>> {
        let col = self.0.column(name)?.cast(&DataType::Float64)?;
        Ok(col.f64()?.iter().collect())
    }

    pub fn f64(&self, name: &str) -> PolarsResult<Vec<f64>> {
        Ok(self.opt_f64(name)?.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }

    pub fn i64(&self, name: &str) -> PolarsResult<Vec<i64>> {
        let col = self.0.column(name)?.cast(&DataType::Int64)?;
        Ok(col.i64()?.iter().map(|v| v.unwrap_or_default()).collect())
    }

    pub fn i32(&self, name: &str) -> PolarsResult<Vec<i32>> {
        Ok(self.i64(name)?.into_iter().map(|v| v as i32).collect())
    }

    pub fn opt_bool(&self, name: &str) -> PolarsResult<Vec<Option<bool>>> {
        let col = self.0.column(name)?.cast(&DataType::Boolean)?;
        Ok(col.bool()?.iter().collect())
    }
}
