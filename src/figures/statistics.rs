//! The uncertainty behind the figures (docs/RULES.md §4.8, §4.9): each proportion's Wilson
//! intervals and its significance against England and its peer group, the funnel plot of each
//! proportion metric and quarter, and the Making Data Count chart of each trust's and each peer
//! group median's series. Computed from a quarter's values once per quarter (and shared, like the
//! quarter, between data versions until its values change); the charts of a series when asked.

use super::Figures;
use crate::analytics::spc::{self, Chart};
use crate::analytics::uncertainty::{Comparison, FunnelPoint, Level, compare, funnel_point, wilson};
use crate::domain::{Counts, CurrentValue, Quarter, Reference, Text, TrustType};
use std::collections::HashMap;

/// One value's intervals (percentages) and comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalRow {
    pub org_code: Text,
    pub metric_id: Text,
    pub period: crate::domain::Quarter,
    pub counts: Option<Counts>,
    pub value: f64,
    pub ci95: Option<(f64, f64)>,
    pub ci998: Option<(f64, f64)>,
    /// The pooled proportion of every trust that sent counts for the metric and quarter (%).
    pub england_value: Option<f64>,
    pub vs_england_95: Comparison,
    pub vs_england_998: Comparison,
    /// The pooled proportion of the trust's peer group (%).
    pub peer_value: Option<f64>,
    pub vs_peers_95: Comparison,
    pub vs_peers_998: Comparison,
}

/// One trust in a funnel plot: its denominator, value and the limits at its denominator.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelRow {
    pub metric_id: Text,
    pub period: crate::domain::Quarter,
    pub org_code: Text,
    pub counts: Counts,
    pub value: f64,
    /// The pooled England proportion, the funnel's centre line (%).
    pub pooled_value: f64,
    pub point: FunnelPoint,
}

/// A quarter's intervals (one per value, in the values' order) and funnels.
#[derive(Debug, Default)]
pub struct QuarterStatistics {
    pub intervals: Vec<IntervalRow>,
    pub funnels: Vec<FunnelRow>,
}

/// Numerators and denominators summed.
#[derive(Debug, Default, Clone, Copy)]
struct Pool {
    numerator: f64,
    denominator: f64,
}

impl Pool {
    fn add(&mut self, c: Counts) {
        self.numerator += f64::from(c.numerator);
        self.denominator += f64::from(c.denominator);
    }

    /// The pooled proportion (0–1).
    fn share(self) -> Option<f64> {
        (self.denominator > 0.0).then(|| self.numerator / self.denominator)
    }
}

/// A quarter's statistics from its values.
pub fn of_quarter(reference: &Reference, values: &[CurrentValue]) -> QuarterStatistics {
    let trust_type = |org: &str| reference.organisation(org).map(|o| o.trust_type);
    let mut england: HashMap<&str, Pool> = HashMap::new();
    let mut peers: HashMap<(&str, TrustType), Pool> = HashMap::new();
    for v in values {
        if let (Some(c), Some(t)) = (v.counts, trust_type(&v.org_code)) {
            england.entry(&v.metric_id).or_default().add(c);
            peers.entry((&v.metric_id, t)).or_default().add(c);
        }
    }
    let mut out = QuarterStatistics::default();
    for v in values {
        // Values of metrics the reference does not know are compared with nothing (and keep
        // their place, so that the intervals line up with the values).
        let direction = reference.metric(&v.metric_id).map(|m| m.direction);
        let compare = |i, c| direction.map_or(Comparison::NotCompared, |d| compare(i, c, d));
        let interval = |level| v.counts.and_then(|c| wilson(f64::from(c.numerator), f64::from(c.denominator), level));
        let (i95, i998) = (interval(Level::P95), interval(Level::P998));
        let pooled_england = england.get(&*v.metric_id).and_then(|p| p.share());
        let pooled_peers = trust_type(&v.org_code).and_then(|t| peers.get(&(&*v.metric_id, t))).and_then(|p| p.share());
        let percent = |i: Option<(f64, f64)>| i.map(|(l, u)| (100.0 * l, 100.0 * u));
        out.intervals.push(IntervalRow {
            org_code: v.org_code.clone(),
            metric_id: v.metric_id.clone(),
            period: v.period,
            counts: v.counts,
            value: v.value,
            ci95: percent(i95),
            ci998: percent(i998),
            england_value: pooled_england.map(|p| 100.0 * p),
            vs_england_95: compare(i95, pooled_england),
            vs_england_998: compare(i998, pooled_england),
            peer_value: pooled_peers.map(|p| 100.0 * p),
            vs_peers_95: compare(i95, pooled_peers),
            vs_peers_998: compare(i998, pooled_peers),
        });
        if let (Some(c), Some(pooled)) = (v.counts, pooled_england)
            && let Some(point) = funnel_point(f64::from(c.numerator), f64::from(c.denominator), pooled)
        {
            out.funnels.push(FunnelRow {
                metric_id: v.metric_id.clone(),
                period: v.period,
                org_code: v.org_code.clone(),
                counts: c,
                value: v.value,
                pooled_value: 100.0 * pooled,
                point,
            });
        }
    }
    out.funnels.sort_by(|a, b| {
        (reference.metric_position(&a.metric_id), a.counts.denominator, &a.org_code).cmp(&(
            reference.metric_position(&b.metric_id),
            b.counts.denominator,
            &b.org_code,
        ))
    });
    out
}

/// A series to chart: its subject (trust or peer group), metric and (quarter, value) points.
type Series = (Text, Text, Vec<(Quarter, f64)>);

/// One point of a series' chart, for the `spc` and `spc_groups` exports.
#[derive(Debug, Clone, PartialEq)]
pub struct SpcRow {
    /// The trust's ODS code, or the peer group.
    pub subject: Text,
    pub metric_id: Text,
    pub period: crate::domain::Quarter,
    pub value: f64,
    pub mean: f64,
    pub limits: Option<(f64, f64)>,
    pub point: spc::Point,
    pub variation_icon: &'static str,
    pub assurance_icon: Option<&'static str>,
}

impl Figures {
    /// A quarter's intervals and funnels.
    pub fn statistics(&self, period: Quarter) -> Option<&QuarterStatistics> {
        let q = self.quarters.get(&period)?;
        Some(q.core.statistics.get_or_init(|| of_quarter(&self.reference, &q.core.value_rows(period))))
    }

    /// One value's intervals and comparisons.
    pub fn interval(&self, org_code: &str, metric_id: &str, period: Quarter) -> Option<&IntervalRow> {
        let q = self.quarters.get(&period)?;
        let key = (self.org_key(org_code)?, self.metric_key(metric_id)?);
        let i = q.core.value_at.get(&key)?;
        self.statistics(period)?.intervals.get(i)
    }

    /// A trust's target for a metric, the latest set: what the assurance icon compares with.
    pub fn latest_target(&self, org_code: &str, metric_id: &str) -> Option<f64> {
        self.targets
            .iter()
            .filter(|t| t.org_code == org_code && t.metric_id == metric_id)
            .max_by_key(|t| (t.period.index(), t.revision))
            .map(|t| t.target)
    }

    /// A trust's quarterly series of a metric, in time order: (quarter, value).
    pub fn series(&self, org_code: &str, metric_id: &str) -> Vec<(Quarter, f64)> {
        self.quarters.keys().filter_map(|&p| self.value_of(org_code, metric_id, p).map(|v| (p, v))).collect()
    }

    /// The Making Data Count chart of a trust's series of a metric.
    pub fn spc(&self, org_code: &str, metric_id: &str) -> Option<(Vec<Quarter>, Chart)> {
        let metric = self.reference.metric(metric_id)?;
        let series = self.series(org_code, metric_id);
        let values: Vec<f64> = series.iter().map(|(_, v)| *v).collect();
        let chart = spc::chart(&values, metric.direction, self.latest_target(org_code, metric_id))?;
        Some((series.into_iter().map(|(p, _)| p).collect(), chart))
    }

    /// Every point of every trust's chart (`spc`), or of every peer group median's
    /// (`spc_groups`, when `groups`), keeping the series `keep` accepts (subject, metric).
    pub fn spc_rows(&self, groups: bool, keep: impl Fn(&str, &str) -> bool) -> Vec<SpcRow> {
        let mut series: std::collections::BTreeMap<(u32, u32), Series> = Default::default();
        if groups {
            for b in self.benchmarks().filter(|b| keep(&b.peer_group, &b.metric_id)) {
                let key = (super::type_pos(&b.peer_group), self.metric_key(&b.metric_id).unwrap_or(u32::MAX));
                let entry =
                    series.entry(key).or_insert_with(|| (b.peer_group.clone(), b.metric_id.clone(), Vec::new()));
                entry.2.push((b.period, b.median));
            }
        } else {
            for v in self.values().filter(|v| keep(&v.org_code, &v.metric_id)) {
                let rank = self.org_key(&v.org_code).map_or(u32::MAX, |p| self.reference.org_rank(p as usize));
                let key = (rank, self.metric_key(&v.metric_id).unwrap_or(u32::MAX));
                let entry = series.entry(key).or_insert_with(|| (v.org_code.clone(), v.metric_id.clone(), Vec::new()));
                entry.2.push((v.period, v.value));
            }
        }
        let mut rows = Vec::new();
        for (subject, metric_id, mut points) in series.into_values() {
            let Some(metric) = self.reference.metric(&metric_id) else { continue };
            points.sort_by_key(|(p, _)| *p);
            let values: Vec<f64> = points.iter().map(|(_, v)| *v).collect();
            let target = if groups { None } else { self.latest_target(&subject, &metric_id) };
            let Some(chart) = spc::chart(&values, metric.direction, target) else { continue };
            for ((period, value), point) in points.into_iter().zip(&chart.points) {
                rows.push(SpcRow {
                    subject: subject.clone(),
                    metric_id: metric_id.clone(),
                    period,
                    value,
                    mean: chart.mean,
                    limits: chart.limits.filter(|(l, u)| l.is_finite() && u.is_finite()),
                    point: *point,
                    variation_icon: chart.variation_icon,
                    assurance_icon: chart.assurance_icon,
                });
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trust_alone_in_its_peer_group_is_similar_to_itself_and_compared_with_england() {
        let reference = crate::ingest::reference::bundled().unwrap();
        let types: Vec<(String, TrustType)> =
            reference.organisations.iter().map(|o| (o.ods_code.clone(), o.trust_type)).collect();
        let acute = types.iter().find(|(_, t)| *t == TrustType::Acute).unwrap().0.clone();
        let mental = types.iter().find(|(_, t)| *t == TrustType::MentalHealth).unwrap().0.clone();
        let value = |org: &str, n: u32, d: u32| CurrentValue {
            org_code: org.into(),
            metric_id: "data_security_training".into(),
            period: crate::domain::Quarter::from_index(8100),
            value: 100.0 * f64::from(n) / f64::from(d),
            revision: 1,
            submitted_at: "t".into(),
            counts: Some(Counts { numerator: n, denominator: d }),
        };
        let s = of_quarter(&reference, &[value(&acute, 900, 1000), value(&mental, 100, 1000)]);
        let alone = &s.intervals[0];
        assert_eq!(alone.peer_value, Some(90.0));
        assert_eq!(alone.vs_peers_95, Comparison::Similar);
        assert_eq!(alone.england_value, Some(50.0));
        assert_eq!((alone.vs_england_95, s.intervals[1].vs_england_95), (Comparison::Better, Comparison::Worse));
        assert_eq!(s.funnels.len(), 2);
    }

    #[test]
    fn pooled_proportions_sum_the_counts() {
        let mut p = Pool::default();
        p.add(Counts { numerator: 1, denominator: 4 });
        p.add(Counts { numerator: 9, denominator: 16 });
        assert_eq!(p.share(), Some(0.5));
        assert_eq!(Pool::default().share(), None);
    }
}
