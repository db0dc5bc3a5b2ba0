//! The one filter model of pages, exports and the API: the parameters an address may carry,
//! checked against the reference data. An unknown parameter is an error, never ignored.

use super::{Exemplar, Quarter, Reference, TrustType};

/// The parameters of a page's or an export's address, as written. Every one is optional; an
/// empty value means no filter.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// A quarter (`2024-Q2` or `2024/25 Q1`), or `latest`: the latest quarter with data.
    pub period: Option<String>,
    pub peer_group: Option<String>,
    pub metric_id: Option<String>,
    /// One ODS code, or several separated by commas.
    pub org_code: Option<String>,
    pub region: Option<String>,
    /// An integrated care board's ODS code (`QWO`), any case.
    pub icb: Option<String>,
    /// Exemplar cohort: `gde`, `fast_follower` or `none`.
    pub exemplar: Option<String>,
    /// Pages: words to search trusts for.
    pub q: Option<String>,
    /// Pages: a column to sort by, and `desc` for descending.
    pub sort: Option<String>,
    pub dir: Option<String>,
    /// The compare page: ODS codes separated by commas.
    pub orgs: Option<String>,
    /// The systems pages: the date procurement is judged on.
    pub on: Option<String>,
    /// The compare page: colour the heat map by `quartile` (the default) or `significance`
    /// against England.
    pub colour: Option<String>,
    /// Pages that list many rows: the page of them, from 1.
    pub page: Option<String>,
    /// Exports: a published release's id (`2026-Q3.1`), or `latest`.
    pub release: Option<String>,
    /// Exports: the figures as they stood at a moment (`2026-10-01T12:00:00Z`).
    pub as_of: Option<String>,
}

/// The names `Filters` accepts, for error messages.
pub const PARAMETERS: [&str; 16] = [
    "period",
    "peer_group",
    "metric_id",
    "org_code",
    "region",
    "icb",
    "exemplar",
    "q",
    "sort",
    "dir",
    "orgs",
    "on",
    "colour",
    "page",
    "release",
    "as_of",
];

/// Which figures an export holds: the provisional ones, a release's, or those of a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edition {
    Provisional,
    Release(String),
    AsOf(chrono::DateTime<chrono::Utc>),
}

/// Filters checked against the reference data.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub period: Option<Quarter>,
    pub peer_group: Option<String>,
    pub metric_id: Option<String>,
    pub org_codes: Vec<String>,
    pub region: Option<String>,
    pub icb: Option<String>,
    pub exemplar: Option<Exemplar>,
    /// A saved peer group chosen as `peer_group` (`saved-12`): its id, and its trusts once the
    /// caller has read them from the store (until then no trust passes `org_ok`).
    pub saved_group: Option<i64>,
    pub members: Option<Vec<String>>,
}

/// The `peer_group` value of saved peer group `id`.
pub fn saved_group_key(id: i64) -> String {
    format!("saved-{id}")
}

/// The saved peer group a `peer_group` value names (`saved-12`), if it names one.
pub fn saved_group_id(peer_group: &str) -> Option<i64> {
    peer_group.trim().strip_prefix("saved-").and_then(|n| n.parse().ok()).filter(|n| *n > 0)
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Filters {
    /// Which figures: `release` (an id, or `latest`) or `as_of` (an RFC 3339 time), not both.
    pub fn edition(&self) -> Result<Edition, String> {
        match (given(&self.release), given(&self.as_of)) {
            (Some(_), Some(_)) => Err("give release or as_of, not both".into()),
            (Some(r), None) => Ok(Edition::Release(r.to_string())),
            (None, Some(t)) => {
                chrono::DateTime::parse_from_rfc3339(t).map(|t| Edition::AsOf(t.with_timezone(&chrono::Utc))).map_err(
                    |_| format!("as_of: '{t}' is not a time such as 2026-10-01T12:00:00Z (RFC 3339, with its offset)"),
                )
            }
            (None, None) => Ok(Edition::Provisional),
        }
    }

    /// The chosen quarter: `latest` (and no choice, when `default_latest`) is `latest`.
    pub fn quarter(&self, latest: Option<Quarter>, default_latest: bool) -> Result<Option<Quarter>, String> {
        match given(&self.period) {
            Some(p) if p.eq_ignore_ascii_case("latest") => Ok(latest),
            Some(p) => Quarter::parse(p).map(Some).map_err(|e| format!("period: {e}, or latest")),
            None => Ok(if default_latest { latest } else { None }),
        }
    }

    /// The trust type chosen as the peer group; a saved group is refused (see `saved_group`
    /// for the places that take one).
    pub fn trust_type(&self) -> Result<Option<TrustType>, String> {
        if self.saved_group().is_some() {
            return Err("peer_group: a saved peer group cannot be used here; choose a trust type (acute, \
                        mental_health, community or ambulance)"
                .into());
        }
        given(&self.peer_group).map(str::parse).transpose().map_err(|e| format!("peer_group: {e}"))
    }

    /// The saved peer group chosen as the peer group (`peer_group=saved-12`), by id.
    pub fn saved_group(&self) -> Option<i64> {
        given(&self.peer_group).and_then(saved_group_id)
    }

    pub fn cohort(&self) -> Result<Option<Exemplar>, String> {
        given(&self.exemplar).map(str::parse).transpose().map_err(|e| format!("exemplar: {e}"))
    }

    /// The integrated care board, by its ODS code (in any case).
    pub fn checked_icb(&self) -> Result<Option<String>, String> {
        match given(&self.icb) {
            None => Ok(None),
            Some(code) => {
                let code = code.to_ascii_uppercase();
                match super::icb(&code) {
                    Some(_) => Ok(Some(code)),
                    None => Err(format!(
                        "icb: '{code}' is not the ODS code of an integrated care board; they are {}",
                        super::icbs().iter().map(|i| i.icb_code.as_str()).collect::<Vec<_>>().join(", ")
                    )),
                }
            }
        }
    }

    /// The region, one of the seven NHS England regions.
    pub fn checked_region(&self) -> Result<Option<String>, String> {
        match given(&self.region) {
            Some(r) if !super::REGIONS.iter().any(|(_, n)| *n == r) => {
                let names: Vec<&str> = super::REGIONS.iter().map(|(_, n)| *n).collect();
                Err(format!("region: '{r}' is not an NHS England region; the regions are {}", names.join(", ")))
            }
            r => Ok(r.map(str::to_string)),
        }
    }

    /// Checks each given filter; `latest` is the latest quarter with data.
    pub fn parse(&self, reference: &Reference, latest: Option<Quarter>) -> Result<Filter, String> {
        let period = self.quarter(latest, false)?;
        let saved_group = self.saved_group();
        let peer_group = match saved_group {
            Some(id) => Some(saved_group_key(id)),
            None => self.trust_type()?.map(|t| t.as_str().to_string()),
        };
        let metric_id = given(&self.metric_id).map(str::to_string);
        if let Some(m) = metric_id.as_deref().filter(|m| reference.metric(m).is_none()) {
            return Err(format!("metric_id: unknown metric '{m}'"));
        }
        let org_codes: Vec<String> = given(&self.org_code)
            .map(|o| o.split(',').map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()).collect())
            .unwrap_or_default();
        if let Some(o) = org_codes.iter().find(|o| reference.organisation(o).is_none()) {
            return Err(format!("org_code: unknown organisation '{o}'"));
        }
        let exemplar = self.cohort()?;
        let region = self.checked_region()?;
        let icb = self.checked_icb()?;
        Ok(Filter { period, peer_group, metric_id, org_codes, region, icb, exemplar, saved_group, members: None })
    }
}

/// The message for an address whose parameters cannot be read (an unknown name, most often).
pub fn unreadable(detail: &str) -> String {
    let detail = detail.replace("unknown field", "unknown parameter").replace("expected one of", "expected one of:");
    format!("The address's parameters cannot be read: {detail}. The parameters are {}.", PARAMETERS.join(", "))
}

impl Filter {
    pub fn period_ok(&self, period: Quarter) -> bool {
        self.period.is_none_or(|p| p == period)
    }

    /// Whether an organisation of `trust_type` is in the chosen peer group's type; with a saved
    /// group chosen, every type is (its trusts are kept by `org_ok`).
    pub fn peer_ok(&self, trust_type: &str) -> bool {
        self.saved_group.is_some() || self.peer_group.as_deref().is_none_or(|p| p == trust_type)
    }

    /// Whether a row keyed by a peer group (a trust type, or a saved group's key) is the chosen one.
    pub fn group_ok(&self, peer_group: &str) -> bool {
        self.peer_group.as_deref().is_none_or(|p| p == peer_group)
    }

    pub fn metric_ok(&self, metric_id: &str) -> bool {
        self.metric_id.as_deref().is_none_or(|m| m == metric_id)
    }

    /// Organisation codes, and region and exemplar cohort through the reference data.
    /// Whether an NHS App area lies in the chosen region and integrated care board.
    pub fn area_ok(&self, area: &super::uptake::Area) -> bool {
        use super::uptake::Level;
        self.region.as_deref().is_none_or(|r| area.within(Level::Region).is_some_and(|a| a.name == r))
            && self.icb.as_deref().is_none_or(|i| area.within(Level::Icb).is_some_and(|a| a.code == i))
    }

    /// Whether a month lies in the chosen quarter.
    pub fn month_ok(&self, month: super::uptake::Month) -> bool {
        self.period.is_none_or(|p| {
            let start = super::uptake::Month::containing(p.start());
            month >= start && month < start.offset(3)
        })
    }

    pub fn org_ok(&self, reference: &Reference, org_code: &str) -> bool {
        let org = reference.organisation(org_code);
        (self.org_codes.is_empty() || self.org_codes.iter().any(|o| o == org_code))
            && self.region.as_deref().is_none_or(|r| org.is_some_and(|o| o.region == r))
            && self.icb.as_deref().is_none_or(|i| org.is_some_and(|o| o.icb == i))
            && self.exemplar.is_none_or(|e| org.is_some_and(|o| o.exemplar == e))
            && (self.saved_group.is_none() || self.members.as_ref().is_some_and(|m| m.iter().any(|c| c == org_code)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(query: &str) -> Result<Filters, String> {
        serde_urlencoded::from_str::<Filters>(query).map_err(|e| unreadable(&e.to_string()))
    }

    #[test]
    fn an_unknown_parameter_is_an_error_naming_the_accepted_ones() {
        let error = read("peergroup=acute").unwrap_err();
        assert!(error.contains("unknown parameter `peergroup`"), "{error}");
        assert!(error.contains("peer_group"), "{error}");
    }

    #[test]
    fn latest_is_the_latest_quarter_with_data() {
        let latest = Quarter::parse("2025-Q3").ok();
        let f = read("period=latest").unwrap();
        assert_eq!(f.quarter(latest, false), Ok(latest));
        assert_eq!(read("").unwrap().quarter(latest, false), Ok(None));
        assert_eq!(read("").unwrap().quarter(latest, true), Ok(latest));
        assert!(read("period=soon").unwrap().quarter(latest, false).is_err());
    }

    #[test]
    fn a_region_must_be_one_of_the_seven() {
        assert!(read("region=london").unwrap().checked_region().unwrap_err().contains("London"));
        assert_eq!(read("region=London").unwrap().checked_region(), Ok(Some("London".into())));
    }
}
