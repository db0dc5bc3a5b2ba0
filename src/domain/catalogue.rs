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
    /// Each organisation's place in the order of ODS codes, by position in `organisations`.
    org_ranks: Vec<u32>,
    /// Shared copies of the codes, for the millions of computed rows that repeat them.
    texts: Texts,
}

#[derive(Debug, Clone, Default)]
struct Texts {
    orgs: Vec<std::sync::Arc<str>>,
    metrics: Vec<std::sync::Arc<str>>,
    domains: Vec<std::sync::Arc<str>>,
    types: Vec<std::sync::Arc<str>>,
    words: foldhash::HashMap<&'static str, std::sync::Arc<str>>,
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
        let mut by_code: Vec<usize> = (0..organisations.len()).collect();
        by_code.sort_by(|&a, &b| organisations[a].ods_code.cmp(&organisations[b].ods_code));
        let mut org_ranks = vec![0; organisations.len()];
        for (rank, &i) in by_code.iter().enumerate() {
            org_ranks[i] = rank as u32;
        }
        let texts = Texts {
            orgs: organisations.iter().map(|o| o.ods_code.as_str().into()).collect(),
            metrics: metrics.iter().map(|m| m.metric_id.as_str().into()).collect(),
            domains: domains.iter().map(|d| d.domain_id.as_str().into()).collect(),
            types: TrustType::ALL.iter().map(|t| t.as_str().into()).collect(),
            words: ["all", "improving", "worsening", "stable"].into_iter().map(|w| (w, w.into())).collect(),
        };
        Self {
            organisations,
            domains,
            metrics,
            standards,
            systems,
            deployments,
            org_index,
            metric_index,
            org_ranks,
            texts,
        }
    }

    /// The shared ODS code of the organisation at `position`.
    pub fn org_text(&self, position: usize) -> std::sync::Arc<str> {
        self.texts.orgs[position].clone()
    }

    /// Where the organisation at `position` comes in the order of ODS codes.
    pub fn org_rank(&self, position: usize) -> u32 {
        self.org_ranks[position]
    }

    /// The shared id of the metric at `position`.
    pub fn metric_text(&self, position: usize) -> std::sync::Arc<str> {
        self.texts.metrics[position].clone()
    }

    /// The shared id of the domain at `position`.
    pub fn domain_text(&self, position: usize) -> std::sync::Arc<str> {
        self.texts.domains[position].clone()
    }

    /// The shared name of the trust type at `position` of `TrustType::ALL`.
    pub fn type_text(&self, position: usize) -> std::sync::Arc<str> {
        self.texts.types[position].clone()
    }

    /// A shared copy of one of the words the tables use (`all`, `improving`, `worsening`, `stable`).
    pub fn word(&self, word: &str) -> std::sync::Arc<str> {
        self.texts.words.get(word).cloned().unwrap_or_else(|| word.into())
    }

    /// The shared copy of any text the tables repeat: an ODS code, a metric, domain or trust
    /// type id, or one of the words; a new copy of any other text.
    pub fn shared(&self, text: &str) -> std::sync::Arc<str> {
        if let Some(i) = self.org_position(text) {
            return self.org_text(i);
        }
        if let Some(i) = self.metric_position(text) {
            return self.metric_text(i);
        }
        if let Some(i) = self.domains.iter().position(|d| d.domain_id == text) {
            return self.domain_text(i);
        }
        match TrustType::ALL.iter().position(|t| t.as_str() == text) {
            Some(i) => self.type_text(i),
            None => self.word(text),
        }
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
