//! Peers like us (docs/RULES.md §10.1): each trust's nearest trusts of the same type by
//! transparent features, with the reasons each is a peer.
//!
//! Numeric features — the maturity index, each domain index and, where it exists, size (the
//! logarithm of 1 + monthly A&E attendances) — are standardised within the trust type (z-scores,
//! population standard deviation). Categorical features — the main electronic patient record's
//! supplier, the ICB and the region — differ by 0 (same) or 1 (different). The distance is the
//! square root of the weighted sum of squared differences over the features both trusts have,
//! scaled up by the weight of the type's features over the weight of those compared, so that a
//! missing value neither brings a trust nearer nor pushes it away.

use std::collections::BTreeMap;

/// How many peers each trust is given.
pub const NEIGHBOURS: usize = 15;

/// The weight of each feature; the domain indices share theirs equally.
pub const WEIGHTS: Weights = Weights { maturity: 2.0, domains: 1.0, size: 1.0, supplier: 1.0, icb: 0.5, region: 0.5 };

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub maturity: f64,
    pub domains: f64,
    pub size: f64,
    pub supplier: f64,
    pub icb: f64,
    pub region: f64,
}

/// What a trust is compared on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PeerFeatures {
    pub org_code: String,
    pub trust_type: String,
    pub region: String,
    pub icb: String,
    /// The maturity index and each domain index (in the reference data's order) of the quarter.
    pub maturity: Option<f64>,
    pub domains: Vec<Option<f64>>,
    /// The supplier of the main electronic patient record, from the deployments.
    pub supplier: Option<String>,
    /// Monthly A&E attendances (all departments), where the trust reports them.
    pub attendances: Option<f64>,
}

/// One trust's peer.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub org_code: String,
    pub peer_code: String,
    /// 1 for the nearest.
    pub rank: usize,
    pub distance: f64,
    /// Why it is a peer, in words.
    pub reasons: String,
}

/// The mean and population standard deviation of the values present.
fn spread(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.collect();
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
    (mean, var.sqrt())
}

/// A numeric feature of every trust of a type: each one's standardised value, or none.
fn standardised(values: Vec<Option<f64>>) -> Vec<Option<f64>> {
    let (mean, sd) = spread(values.iter().flatten().copied());
    values.into_iter().map(|v| v.map(|x| if sd > 0.0 { (x - mean) / sd } else { 0.0 })).collect()
}

fn size(attendances: f64) -> f64 {
    (1.0 + attendances.max(0.0)).ln()
}

/// A number as the reasons write it: no decimals, thousands grouped.
fn whole(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < -0.5 { format!("-{out}") } else { out }
}

/// Every trust's `k` nearest trusts of the same type, nearest first (ties by ODS code); with
/// `only`, that trust's alone.
pub fn nearest(all: &[PeerFeatures], k: usize, w: &Weights, only: Option<&str>) -> Vec<Peer> {
    let only_type = only.and_then(|code| all.iter().find(|t| t.org_code == code)).map(|t| t.trust_type.as_str());
    let mut by_type: BTreeMap<&str, Vec<&PeerFeatures>> = BTreeMap::new();
    for t in all {
        by_type.entry(t.trust_type.as_str()).or_default().push(t);
    }
    let mut out = Vec::new();
    for (trust_type, trusts) in &by_type {
        if only.is_some() && only_type != Some(*trust_type) {
            continue;
        }
        let maturity = standardised(trusts.iter().map(|t| t.maturity).collect());
        let domain_count = trusts.iter().map(|t| t.domains.len()).max().unwrap_or(0);
        let domains: Vec<Vec<Option<f64>>> = (0..domain_count)
            .map(|d| standardised(trusts.iter().map(|t| t.domains.get(d).copied().flatten()).collect()))
            .collect();
        let sizes = standardised(trusts.iter().map(|t| t.attendances.map(size)).collect());
        let per_domain = if domain_count > 0 { w.domains / domain_count as f64 } else { 0.0 };
        // The weight of the features this type has at all.
        let has = |f: &dyn Fn(&PeerFeatures) -> bool| trusts.iter().any(|t| f(t));
        let total = w.maturity * f64::from(u8::from(has(&|t| t.maturity.is_some())))
            + (0..domain_count)
                .filter(|d| trusts.iter().any(|t| t.domains.get(*d).copied().flatten().is_some()))
                .count() as f64
                * per_domain
            + w.size * f64::from(u8::from(has(&|t| t.attendances.is_some())))
            + w.supplier * f64::from(u8::from(has(&|t| t.supplier.is_some())))
            + w.icb
            + w.region;
        for (i, a) in trusts.iter().enumerate() {
            if only.is_some_and(|code| code != a.org_code) {
                continue;
            }
            let mut candidates: Vec<(f64, &PeerFeatures, usize)> = Vec::new();
            for (j, b) in trusts.iter().enumerate() {
                if i == j {
                    continue;
                }
                let (mut sum, mut weight) = (0.0, 0.0);
                let mut add = |x: Option<f64>, y: Option<f64>, wk: f64| {
                    if let (Some(x), Some(y)) = (x, y) {
                        sum += wk * (x - y).powi(2);
                        weight += wk;
                    }
                };
                add(maturity[i], maturity[j], w.maturity);
                for d in &domains {
                    add(d[i], d[j], per_domain);
                }
                add(sizes[i], sizes[j], w.size);
                let same = |x: bool| Some(if x { 0.0 } else { 1.0 });
                if let (Some(s), Some(t)) = (&a.supplier, &b.supplier) {
                    add(same(s == t), Some(0.0), w.supplier);
                }
                add(same(a.icb == b.icb), Some(0.0), w.icb);
                add(same(a.region == b.region), Some(0.0), w.region);
                if weight > 0.0 {
                    candidates.push(((sum * total / weight).sqrt(), b, j));
                }
            }
            candidates.sort_by(|x, y| x.0.total_cmp(&y.0).then_with(|| x.1.org_code.cmp(&y.1.org_code)));
            for (rank, (distance, b, _)) in candidates.into_iter().take(k).enumerate() {
                out.push(Peer {
                    org_code: a.org_code.clone(),
                    peer_code: b.org_code.clone(),
                    rank: rank + 1,
                    distance,
                    reasons: reasons(a, b),
                });
            }
        }
    }
    out
}

/// Why `b` is a peer of `a`: the supplier, maturity and size side by side, and shared places.
fn reasons(a: &PeerFeatures, b: &PeerFeatures) -> String {
    let mut parts = Vec::new();
    match (&a.supplier, &b.supplier) {
        (Some(x), Some(y)) if x == y => parts.push(format!("same EPR supplier ({x})")),
        (Some(x), Some(y)) => parts.push(format!("EPR from {y} against {x}")),
        _ => {}
    }
    if let (Some(x), Some(y)) = (a.maturity, b.maturity) {
        parts.push(format!("maturity {} against {}", whole(y), whole(x)));
    }
    if let (Some(x), Some(y)) = (a.attendances, b.attendances) {
        parts.push(format!("{} against {} A&E attendances a month", whole(y), whole(x)));
    }
    if a.icb == b.icb {
        parts.push("same ICB".into());
    } else if a.region == b.region {
        parts.push("same region".into());
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(code: &str, maturity: f64, supplier: &str, region: &str, icb: &str) -> PeerFeatures {
        PeerFeatures {
            org_code: code.into(),
            trust_type: "acute".into(),
            region: region.into(),
            icb: icb.into(),
            maturity: Some(maturity),
            domains: vec![Some(maturity)],
            supplier: Some(supplier.into()),
            attendances: None,
        }
    }

    #[test]
    fn the_nearest_trust_shares_the_supplier_and_the_maturity_and_says_so() {
        let trusts = [
            trust("A", 50.0, "Epic", "London", "QMJ"),
            trust("B", 52.0, "Epic", "London", "QMJ"),
            trust("C", 51.0, "Cerner", "London", "QMJ"),
            trust("D", 90.0, "Epic", "North West", "QYG"),
            PeerFeatures { trust_type: "ambulance".into(), ..trust("E", 50.0, "Epic", "London", "QMJ") },
        ];
        let peers = nearest(&trusts, 15, &WEIGHTS, None);
        assert_eq!(
            nearest(&trusts, 15, &WEIGHTS, Some("A")),
            peers.iter().filter(|p| p.org_code == "A").cloned().collect::<Vec<_>>()
        );
        let of_a: Vec<(&str, usize)> =
            peers.iter().filter(|p| p.org_code == "A").map(|p| (p.peer_code.as_str(), p.rank)).collect();
        // B (same supplier, 2 points away) before C (another supplier, 1 point away) before D;
        // E is an ambulance trust and never a peer of an acute one.
        assert_eq!(of_a, [("B", 1), ("C", 2), ("D", 3)]);
        let b = peers.iter().find(|p| p.org_code == "A" && p.peer_code == "B").unwrap();
        assert_eq!(b.reasons, "same EPR supplier (Epic); maturity 52 against 50; same ICB");
        // By hand: maturity sd over A–D is 16.3 (mean 60.75), so B is 2 ÷ 16.3 = 0.123 away in
        // maturity (weight 2) and in the domain (weight 1): √(3 × 0.123²) = 0.213.
        let sd = ((10.75f64.powi(2) + 8.75f64.powi(2) + 9.75f64.powi(2) + 29.25f64.powi(2)) / 4.0).sqrt();
        let expected = (3.0 * (2.0 / sd).powi(2)).sqrt();
        assert!((b.distance - expected).abs() < 1e-12, "{} against {expected}", b.distance);
        assert_eq!(peers.iter().filter(|p| p.org_code == "E").count(), 0, "a type of one has no peers");
    }

    #[test]
    fn a_missing_feature_is_left_out_and_the_distance_scaled_to_the_whole() {
        let mut a = trust("A", 50.0, "Epic", "London", "QMJ");
        let b = trust("B", 50.0, "Epic", "London", "QMJ");
        let c = trust("C", 70.0, "Epic", "London", "QMJ");
        a.domains = vec![None];
        let peers = nearest(&[a, b, c], 15, &WEIGHTS, None);
        let ab = peers.iter().find(|p| p.org_code == "A" && p.peer_code == "B").unwrap();
        assert_eq!(ab.distance, 0.0);
        let ac = peers.iter().find(|p| p.org_code == "A" && p.peer_code == "C").unwrap();
        // The domain is left out (weight 1 of 5): maturity (weight 2), supplier, ICB and region
        // are compared. The sd of 50, 50, 70 is 9.43, so C is 20 ÷ 9.43 = 2.12 away in
        // maturity: √(2 × 2.12² × 5 ÷ 4) = 2.12 × √2.5.
        let sd = (2.0f64 * (20.0f64 / 3.0).powi(2) + (40.0f64 / 3.0).powi(2)).sqrt() / 3.0f64.sqrt();
        assert!((ac.distance - (20.0 / sd) * 2.5f64.sqrt()).abs() < 1e-9, "{}", ac.distance);
    }
}
