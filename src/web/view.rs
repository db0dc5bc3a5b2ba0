//! What pages share: the query parameters, the quarter and filter choices, number formatting and sortable headers.

use crate::domain::{Quarter, TrustType};
use crate::figures::Figures;
use crate::web::error::{AppError, Result};

/// Filters a page keeps in its URL: the one filter model (`domain::Filters`).
pub type PageQuery = crate::domain::Filters;

impl PageQuery {
    /// The chosen quarter, or the latest with data.
    pub fn period(&self, f: &Figures) -> Result<Option<Quarter>> {
        self.quarter(f.latest_period(), true).map_err(AppError::BadRequest)
    }

    pub fn peer_group(&self) -> Result<Option<TrustType>> {
        self.trust_type().map_err(AppError::BadRequest)
    }

    pub fn exemplar(&self) -> Result<Option<crate::domain::Exemplar>> {
        self.cohort().map_err(AppError::BadRequest)
    }

    pub fn descending(&self) -> bool {
        self.dir.as_deref() == Some("desc")
    }

    /// The region, checked against the seven NHS England regions.
    pub fn region(&self) -> Result<Option<String>> {
        self.checked_region().map_err(AppError::BadRequest)
    }

    pub fn icb(&self) -> Result<Option<String>> {
        self.checked_icb().map_err(AppError::BadRequest)
    }
}

/// Which trusts a page looks at: a type (peer group), a region, an integrated care board and an
/// exemplar cohort, each optional, as the query chose them.
#[derive(Debug, Clone, Default)]
pub struct TrustScope {
    pub peer: Option<TrustType>,
    pub region: Option<String>,
    pub icb: Option<String>,
    pub cohort: Option<crate::domain::Exemplar>,
    /// A saved peer group chosen instead of a type: its key (`saved-12`) and its trusts.
    pub saved: Option<(String, Vec<String>)>,
}

impl TrustScope {
    /// The scope `query` chooses; a value that cannot be read is a 400.
    pub fn of(query: &PageQuery) -> Result<Self> {
        Ok(Self {
            peer: query.peer_group()?,
            region: query.region()?,
            icb: query.icb()?,
            cohort: query.exemplar()?,
            saved: None,
        })
    }

    /// Whether trust `o` is in the scope.
    pub fn keeps(&self, o: &crate::domain::Organisation) -> bool {
        self.peer.is_none_or(|p| o.trust_type == p)
            && self.saved.as_ref().is_none_or(|(_, members)| members.contains(&o.ods_code))
            && self.region.as_deref().is_none_or(|r| o.region == r)
            && self.icb.as_deref().is_none_or(|i| o.icb == i)
            && self.cohort.is_none_or(|c| o.exemplar == c)
    }

    /// The scope as query parameters, to keep it in links.
    pub fn parameters(&self) -> [(&'static str, Option<String>); 4] {
        [
            (
                "peer_group",
                self.saved.as_ref().map(|(key, _)| key.clone()).or(self.peer.map(|p| p.as_str().to_string())),
            ),
            ("region", self.region.clone()),
            ("icb", self.icb.clone()),
            ("exemplar", self.cohort.map(|c| c.as_str().to_string())),
        ]
    }
}

/// The query of a page or download in the one filter model; an unknown parameter or a value
/// that cannot be read is a 400 that names the accepted parameters.
pub struct Params(pub PageQuery);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self> {
        match axum::extract::Query::<PageQuery>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(q)) if !parts.uri.path().starts_with("/export/") && q.as_of.is_some() => {
                Err(AppError::BadRequest(
                    "as_of chooses the figures of a download (/export/…); pages take release=ID (or latest)".into(),
                ))
            }
            Ok(axum::extract::Query(q)) => Ok(Params(q)),
            Err(e) => Err(AppError::BadRequest(crate::domain::filters::unreadable(&e.body_text()))),
        }
    }
}

/// One choice in a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub fn period_choices(f: &Figures, chosen: Option<Quarter>) -> Vec<Choice> {
    f.periods
        .iter()
        .rev()
        .map(|q| Choice { value: q.to_string(), label: q.financial_label(), selected: Some(*q) == chosen })
        .collect()
}

pub fn type_choices(chosen: Option<TrustType>) -> Vec<Choice> {
    TrustType::ALL
        .iter()
        .map(|t| Choice { value: t.as_str().into(), label: t.label().into(), selected: Some(*t) == chosen })
        .collect()
}

pub fn region_choices(chosen: Option<&str>) -> Vec<Choice> {
    crate::domain::REGIONS
        .iter()
        .map(|(_, n)| Choice { value: (*n).into(), label: (*n).into(), selected: Some(*n) == chosen })
        .collect()
}

/// A figure for a table: up to two decimal places, no trailing zeros; empty for none.
pub fn num(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => {
            let s = format!("{:.2}", (v * 100.0).round() / 100.0);
            let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
            if s == "-0" { "0".into() } else { s }
        }
        _ => String::new(),
    }
}

/// Whether the page's figures are still loading (what they are is said by the banner every
/// page carries: `web::banner`).
pub struct Meta {
    pub loading: bool,
}

impl Meta {
    pub fn of(f: &Figures) -> Self {
        Self { loading: f.loading }
    }
}

/// The 42 integrated care boards for a `<select>`, by name.
pub fn icb_choices(chosen: Option<&str>) -> Vec<Choice> {
    let mut all: Vec<&crate::domain::Icb> = crate::domain::icbs().iter().collect();
    all.sort_by(|a, b| a.short_name().cmp(b.short_name()));
    all.into_iter()
        .map(|i| Choice {
            value: i.icb_code.clone(),
            label: format!("{} ({})", i.short_name(), i.icb_code),
            selected: Some(i.icb_code.as_str()) == chosen,
        })
        .collect()
}

pub fn exemplar_choices(chosen: Option<crate::domain::Exemplar>) -> Vec<Choice> {
    crate::domain::Exemplar::ALL
        .iter()
        .map(|e| Choice { value: e.as_str().into(), label: e.label().into(), selected: Some(*e) == chosen })
        .collect()
}

/// A column header that sorts the table by following a link (no script needed).
pub struct SortHeader {
    pub label: String,
    pub href: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    pub aria_sort: String,
    pub numeric: bool,
}

/// Headers for `columns` (key, label, numeric), keeping the page's other filters in each link.
pub fn sort_headers(
    path: &str,
    filters: &[(&str, Option<String>)],
    sort: Option<&str>,
    descending: bool,
    columns: &[(&str, &str, bool)],
) -> Vec<SortHeader> {
    columns
        .iter()
        .map(|(key, label, numeric)| {
            let active = sort == Some(*key);
            let next_desc = active && !descending;
            let mut pairs: Vec<(&str, Option<String>)> = filters.to_vec();
            pairs.push(("sort", Some((*key).to_string())));
            pairs.push(("dir", Some(if next_desc { "desc" } else { "asc" }.to_string())));
            SortHeader {
                label: (*label).to_string(),
                href: format!("{path}{}", query_string(&pairs)),
                aria_sort: match (active, descending) {
                    (false, _) => "none".into(),
                    (true, false) => "ascending".into(),
                    (true, true) => "descending".into(),
                },
                numeric: *numeric,
            }
        })
        .collect()
}

/// Builds a query string from the filters that are set.
pub fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| format!("{k}={}", encode(v))))
        .collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A 95 % interval in words for a table cell, or why there is none.
pub fn interval_text(interval: Option<(f64, f64)>, proportion: bool) -> String {
    match interval {
        Some((l, u)) => format!("{l:.1} to {u:.1}"),
        None if proportion => "no interval: no counts submitted".into(),
        None => "not a proportion".into(),
    }
}

/// A Making Data Count point's kind, as the chart marks it (here, above both layers).
impl From<crate::analytics::spc::PointType> for crate::charts::PointType {
    fn from(t: crate::analytics::spc::PointType) -> Self {
        use crate::analytics::spc::PointType as P;
        match t {
            P::Improvement => crate::charts::PointType::Improvement,
            P::Concern => crate::charts::PointType::Concern,
            P::CommonCause => crate::charts::PointType::CommonCause,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_show_at_most_two_decimals() {
        assert_eq!(num(Some(2.0)), "2");
        assert_eq!(num(Some(2.456)), "2.46");
        assert_eq!(num(Some(-0.001)), "0");
        assert_eq!(num(None), "");
    }
}
