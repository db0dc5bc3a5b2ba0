//! All reference data in one value, with look-ups by id.

use super::reference::*;

/// The reference data: organisations, domains, metric catalogue, standards, systems, deployments.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    pub organisations: Vec<Organisation>,
    pub domains: Vec<Domain>,
    pub metrics: Vec<Metric>,
    pub standards: Vec<Standard>,
    pub systems: Vec<System>,
    pub deployments: Vec<Deployment>,
    org_index: foldhash::HashMap<String, usize>,
    metric_index: foldhash::HashMap<String, usize>,
}

impl Reference {
    pub fn new(
        organisations: Vec<Organisation>,
        domains: Vec<Domain>,
        metrics: Vec<Metric>,
        standards: Vec<Standard>,
        systems: Vec<System>,
        deployments: Vec<Deployment>,
    ) -> Self {
        let org_index = organisations.iter().enumerate().map(|(i, o)| (o.ods_code.clone(), i)).collect();
        let metric_index = metrics.iter().enumerate().map(|(i, m)| (m.metric_id.clone(), i)).collect();
        Self { organisations, domains, metrics, standards, systems, deployments, org_index, metric_index }
    }

    pub fn organisation(&self, ods_code: &str) -> Option<&Organisation> {
        self.org_index.get(ods_code).map(|&i| &self.organisations[i])
    }

    /// Where an organisation sits in `organisations`.
    pub fn org_position(&self, ods_code: &str) -> Option<usize> {
        self.org_index.get(ods_code).copied()
    }

    /// Where a metric sits in `metrics`.
    pub fn metric_position(&self, metric_id: &str) -> Option<usize> {
        self.metric_index.get(metric_id).copied()
    }

    pub fn metric(&self, metric_id: &str) -> Option<&Metric> {
        self.metric_index.get(metric_id).map(|&i| &self.metrics[i])
    }

    pub fn domain(&self, domain_id: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.domain_id == domain_id)
    }

    pub fn standard(&self, standard_id: &str) -> Option<&Standard> {
        self.standards.iter().find(|s| s.standard_id == standard_id)
    }

    /// Region name for a region code; the code itself when it is not an English region.
    pub fn region_name(code: &str) -> &str {
        REGIONS.iter().find(|(c, _)| *c == code).map_or(code, |(_, n)| n)
    }

    /// The metrics of `domain` that apply to `trust_type`.
    pub fn applicable_in_domain(&self, trust_type: TrustType, domain: &str) -> impl Iterator<Item = &Metric> {
        self.metrics.iter().filter(move |m| m.domain == domain && m.applies(trust_type))
    }
}
