//! Every export's declaration: what it lists, and for each column its name, type, unit and
//! meaning beside the cell it reads from a row (see `dictionary.rs`). The rows each export lists,
//! and which rows a filter keeps, are chosen in `datasets.rs` and `conformance.rs`.

use super::Cell;
use super::datasets::{QuarterProgress, RevisedValue};
use super::dictionary::{Column, Export, Kind, export};
use crate::analytics::peers::Peer;
use crate::analytics::uptake::UptakeFigure;
use crate::analytics::{BenchmarkRow, GapRow, IndexRow, TrendRow, TrustBenchmarkRow};
use crate::conformance::{SystemStatus, TrustConformance, Upgrade};
use crate::domain::uptake::Area;
use crate::domain::{CurrentValue, Metric, Organisation, Standard, System};
use crate::figures::Figures;
use crate::figures::evaluation::{EvaluationRow, EvaluationUnit, EventRow};
use crate::figures::statistics::{FunnelRow, IntervalRow, SpcRow};
use crate::store::{ConformanceRecord, Finding, Progress, Release, Target};

/// Every export, in the order of the exports page.
pub const ALL: &[&Export] = &[
    &organisations::EXPORT,
    &metrics::EXPORT,
    &metric_definitions::EXPORT,
    &values::EXPORT,
    &benchmarks::EXPORT,
    &trust_benchmarks::EXPORT,
    &indices::EXPORT,
    &trends::EXPORT,
    &gaps::EXPORT,
    &conformance::EXPORT,
    &systems::EXPORT,
    &trust_conformance::EXPORT,
    &upgrades::EXPORT,
    &findings::EXPORT,
    &standards::EXPORT,
    &targets::EXPORT,
    &revisions::EXPORT,
    &intervals::EXPORT,
    &funnels::EXPORT,
    &spc::EXPORT,
    &spc_groups::EXPORT,
    &completeness::EXPORT,
    &areas::EXPORT,
    &app_uptake::EXPORT,
    &app_uptake_change::EXPORT,
    &peers::EXPORT,
    &evaluation::EXPORT,
    &evaluation_units::EXPORT,
    &event_study::EXPORT,
    &blueprints::EXPORT,
    &peer_groups::EXPORT,
    &recommendations::EXPORT,
];

/// Each export's name and description, in the same order.
pub const EXPORTS: &[(&str, &str)] = &[
    (organisations::EXPORT.name, organisations::EXPORT.description),
    (metrics::EXPORT.name, metrics::EXPORT.description),
    (metric_definitions::EXPORT.name, metric_definitions::EXPORT.description),
    (values::EXPORT.name, values::EXPORT.description),
    (benchmarks::EXPORT.name, benchmarks::EXPORT.description),
    (trust_benchmarks::EXPORT.name, trust_benchmarks::EXPORT.description),
    (indices::EXPORT.name, indices::EXPORT.description),
    (trends::EXPORT.name, trends::EXPORT.description),
    (gaps::EXPORT.name, gaps::EXPORT.description),
    (conformance::EXPORT.name, conformance::EXPORT.description),
    (systems::EXPORT.name, systems::EXPORT.description),
    (trust_conformance::EXPORT.name, trust_conformance::EXPORT.description),
    (upgrades::EXPORT.name, upgrades::EXPORT.description),
    (findings::EXPORT.name, findings::EXPORT.description),
    (standards::EXPORT.name, standards::EXPORT.description),
    (targets::EXPORT.name, targets::EXPORT.description),
    (revisions::EXPORT.name, revisions::EXPORT.description),
    (intervals::EXPORT.name, intervals::EXPORT.description),
    (funnels::EXPORT.name, funnels::EXPORT.description),
    (spc::EXPORT.name, spc::EXPORT.description),
    (spc_groups::EXPORT.name, spc_groups::EXPORT.description),
    (completeness::EXPORT.name, completeness::EXPORT.description),
    (areas::EXPORT.name, areas::EXPORT.description),
    (app_uptake::EXPORT.name, app_uptake::EXPORT.description),
    (app_uptake_change::EXPORT.name, app_uptake_change::EXPORT.description),
    (peers::EXPORT.name, peers::EXPORT.description),
    (evaluation::EXPORT.name, evaluation::EXPORT.description),
    (evaluation_units::EXPORT.name, evaluation_units::EXPORT.description),
    (event_study::EXPORT.name, event_study::EXPORT.description),
    (blueprints::EXPORT.name, blueprints::EXPORT.description),
    (peer_groups::EXPORT.name, peer_groups::EXPORT.description),
    (recommendations::EXPORT.name, recommendations::EXPORT.description),
];

/// Which end of an interval a cell holds.
#[derive(Debug, Clone, Copy)]
enum Bound {
    Lower,
    Upper,
}

/// One end of an interval, empty when there is none.
fn bound(interval: Option<(f64, f64)>, end: Bound) -> Cell {
    Cell::opt_number(interval.map(|(l, u)| match end {
        Bound::Lower => l,
        Bound::Upper => u,
    }))
}

export! {
    organisations: "Every trust: type (its peer group), region and exemplar cohort.",
    |o: &Organisation| {}
    [
        "org_code": Text, "ODS code",
            "The trust's NHS Organisation Data Service code, for example RJ1."
            => Cell::text(&o.ods_code);
        "org_name": Text, "text",
            "The trust's name."
            => Cell::text(&o.name);
        "trust_type": Text, "text",
            "The trust's type: acute, mental_health, community or ambulance. The trust type is also the trust's peer group in every benchmark."
            => Cell::text(o.trust_type.as_str());
        "region": Text, "text",
            "The NHS England region the trust belongs to."
            => Cell::text(&o.region);
        "icb": Text, "ODS code",
            "The integrated care board the trust lies in, by its ODS code (QWO is NHS West Yorkshire ICB); the export's icb filter takes it."
            => Cell::text(&o.icb);
        "exemplar": Text, "text",
            "The trust's exemplar status: gde (Global Digital Exemplar), fast_follower, or none. Trusts whose status is not none are the exemplar trusts."
            => Cell::text(o.exemplar.as_str());
        "exemplar_cohort": Int, "year",
            "The year of the exemplar cohort the trust joined; empty for trusts that are not exemplars."
            => o.exemplar_cohort.map_or(Cell::Empty, |y| Cell::Int(i64::from(y)));
    ]
}

export! {
    metrics: "The metric catalogue: domain, unit, scale, direction and the trust types each applies to.",
    |m: &Metric| {}
    [
        "metric_id": Text, "identifier",
            "The metric's identifier, in snake_case."
            => Cell::text(&*m.metric_id);
        "domain": Text, "identifier",
            "The \"What Good Looks Like\" success measure (domain) the metric belongs to."
            => Cell::text(&*m.domain);
        "name": Text, "text",
            "The metric's name."
            => Cell::text(&m.name);
        "unit": Text, "text",
            "The unit of the metric's values: score, percent, count, days, boolean or gbp."
            => Cell::text(m.unit.as_str());
        "scale_min": Float, "the metric's unit",
            "The lowest value the metric can take; submitted values below it are rejected."
            => Cell::Number(m.scale_min);
        "scale_max": Float, "the metric's unit",
            "The highest value the metric can take; submitted values above it are rejected."
            => Cell::Number(m.scale_max);
        "direction": Text, "text",
            "Whether a higher value is better (higher_better) or a lower value is better (lower_better)."
            => Cell::text(m.direction.as_str());
        "applies_to": Text, "text",
            "The trust types the metric applies to, joined by ';', or all when it applies to every trust type."
            => Cell::text(m.applies_to_text());
    ]
}

export! {
    metric_definitions: "Each metric's definition: why it matters, its numerator and denominator, source, frequency and caveats.",
    |m: &Metric| { let d = &m.definition; }
    [
        "metric_id": Text, "identifier",
            "The metric's identifier, in snake_case."
            => Cell::text(&*m.metric_id);
        "name": Text, "text",
            "The metric's name."
            => Cell::text(&m.name);
        "rationale": Text, "text",
            "Why the metric matters for a trust's digital maturity."
            => Cell::text(&d.rationale);
        "numerator_definition": Text, "text",
            "For a proportion, what its numerator counts; empty for a metric that is not a proportion."
            => Cell::text(&d.numerator);
        "denominator_definition": Text, "text",
            "For a proportion, what its denominator counts; empty for a metric that is not a proportion."
            => Cell::text(&d.denominator);
        "source": Text, "text",
            "Where the figure comes from."
            => Cell::text(&d.source);
        "frequency": Text, "text",
            "How often the figure is collected."
            => Cell::text(&d.frequency);
        "caveats": Text, "text",
            "What to bear in mind when reading or comparing it."
            => Cell::text(&d.caveats);
    ]
}

export! {
    values: "The current value of every metric a trust has submitted, with its revision and when it was submitted.",
    |v: &CurrentValue, o: &Organisation, m: &Metric| { let p = v.period; }
    [
        "org_code": Text, "ODS code",
            "The ODS code of the trust the value is for."
            => Cell::text(&o.ods_code);
        "org_name": Text, "text",
            "The trust's name."
            => Cell::text(&o.name);
        "trust_type": Text, "text",
            "The trust's type, which is its peer group."
            => Cell::text(o.trust_type.as_str());
        "region": Text, "text",
            "The NHS England region of the trust."
            => Cell::text(&o.region);
        "icb": Text, "ODS code",
            "The integrated care board the trust lies in, by its ODS code."
            => Cell::text(&o.icb);
        "exemplar": Text, "text",
            "The trust's exemplar status: gde, fast_follower or none."
            => Cell::text(o.exemplar.as_str());
        "metric_id": Text, "identifier",
            "The metric the value is for."
            => Cell::text(&*m.metric_id);
        "domain": Text, "identifier",
            "The domain the metric belongs to."
            => Cell::text(&*m.domain);
        "period": Text, "YYYY-Qn",
            "The calendar quarter the value is for; for example 2024-Q2 is April to June 2024, which is 2024/25 Q1 in the NHS financial year."
            => Cell::text(p.to_string());
        "period_start": Text, "ISO date",
            "The first day of the quarter."
            => Cell::text(p.start().to_string());
        "period_end": Text, "ISO date",
            "The last day of the quarter."
            => Cell::text(p.end().to_string());
        "value": Float, "the metric's unit",
            "The current value: the newest revision submitted for this trust, metric and quarter. Boolean metrics hold 1 for yes and 0 for no."
            => Cell::Number(v.value);
        "revision": Int, "count from 1",
            "Which revision the current value is: 1 for the first value submitted, rising by one each time a different value is submitted for the same trust, metric and quarter."
            => Cell::Int(v.revision);
        "submitted_at": Text, "UTC timestamp",
            "When the current revision was submitted."
            => Cell::text(&*v.submitted_at);
    ]
}

export! {
    benchmarks: "Peer-group distribution of each metric per quarter: quartiles, exemplar and national medians.",
    |b: &BenchmarkRow| {}
    [
        "metric_id": Text, "identifier",
            "The metric."
            => Cell::text(&*b.metric_id);
        "domain": Text, "identifier",
            "The domain the metric belongs to."
            => Cell::text(&*b.domain);
        "period": Text, "YYYY-Qn",
            "The calendar quarter."
            => Cell::text(b.period.to_string());
        "peer_group": Text, "text",
            "The peer group: the trust type (acute, mental_health, community or ambulance) whose trusts the figures in this row are computed over."
            => Cell::text(&*b.peer_group);
        "n": Int, "count",
            "The number of trusts in the peer group with a current value for the metric in the quarter; every other figure in the row is computed over these values."
            => Cell::Int(b.n);
        "min": Float, "the metric's unit",
            "The lowest value in the peer group."
            => Cell::Number(b.min);
        "p25": Float, "the metric's unit",
            "The lower quartile (25th percentile) of the peer group's values, by linear interpolation between order statistics (Hyndman–Fan type 7): with the n values sorted, the value at position 1 + 0.25 × (n − 1), interpolating between the two neighbouring values."
            => Cell::Number(b.p25);
        "median": Float, "the metric's unit",
            "The median of the peer group's values: the middle value, or the mean of the two middle values when n is even (the same as type 7 at 0.5)."
            => Cell::Number(b.median);
        "p75": Float, "the metric's unit",
            "The upper quartile (75th percentile) of the peer group's values, by linear interpolation between order statistics (Hyndman–Fan type 7): the value at position 1 + 0.75 × (n − 1) of the sorted values."
            => Cell::Number(b.p75);
        "max": Float, "the metric's unit",
            "The highest value in the peer group."
            => Cell::Number(b.max);
        "mean": Float, "the metric's unit",
            "The arithmetic mean of the peer group's values."
            => Cell::Number(b.mean);
        "exemplar_n": Int, "count",
            "The number of exemplar trusts (exemplar status gde or fast_follower) in the peer group with a current value."
            => Cell::Int(b.exemplar_n);
        "exemplar_median": Float, "the metric's unit",
            "The median of the values of the exemplar trusts in the peer group; empty when exemplar_n is 0."
            => Cell::opt_number(b.exemplar_median);
        "national_median": Float, "the metric's unit",
            "The median of the metric's values in the quarter over every trust with a current value, all trust types together."
            => Cell::Number(b.national_median);
    ]
}

export! {
    trust_benchmarks: "Each trust's rank, percentile, quartile, score and gaps on each metric per quarter.",
    |t: &TrustBenchmarkRow| {}
    [
        "org_code": Text, "ODS code",
            "The trust."
            => Cell::text(&*t.org_code);
        "trust_type": Text, "text",
            "The trust's type, which is the peer group it is compared with."
            => Cell::text(&*t.trust_type);
        "metric_id": Text, "identifier",
            "The metric."
            => Cell::text(&*t.metric_id);
        "period": Text, "YYYY-Qn",
            "The calendar quarter."
            => Cell::text(t.period.to_string());
        "value": Float, "the metric's unit",
            "The trust's current value for the metric in the quarter."
            => Cell::Number(t.value);
        "rank": Int, "rank, 1 = best",
            "The trust's position among the n trusts of its peer group with a value, 1 being the best (the highest value for higher_better metrics, the lowest for lower_better). Tied values share the smallest rank, so ranks run 1, 2, 2, 4."
            => Cell::Int(t.rank);
        "percentile": Float, "percentile 0–100",
            "The trust's standing in its peer group: 100 × (n − rank) ÷ (n − 1), where n is the number of trusts in the peer group with a value; 100 when n = 1. 100 is the best."
            => Cell::Number(t.percentile);
        "quartile": Int, "1–4",
            "The peer-group quartile the value falls in, 1 best and 4 worst. For higher_better metrics: 1 if the value ≥ p75, else 2 if ≥ median, else 3 if ≥ p25, else 4. For lower_better metrics the mirror: 1 if ≤ p25, else 2 if ≤ median, else 3 if ≤ p75, else 4."
            => Cell::Int(t.quartile);
        "score": Float, "0–100",
            "The value placed on the metric's scale so that higher is always better: 100 × (value − scale_min) ÷ (scale_max − scale_min) for higher_better metrics, 100 × (scale_max − value) ÷ (scale_max − scale_min) for lower_better metrics."
            => Cell::Number(t.score);
        "gap_to_exemplar": Float, "the metric's unit",
            "How far the trust is behind the exemplar median of its peer group: d × (exemplar_median − value), where d = +1 for higher_better and d = −1 for lower_better metrics. Positive means behind; empty when the peer group has no exemplar trust with a value."
            => Cell::opt_number(t.gap_to_exemplar);
        "gap_to_median": Float, "the metric's unit",
            "How far the trust is behind its peer-group median: d × (median − value), with d = +1 for higher_better and d = −1 for lower_better metrics. Positive means behind."
            => Cell::Number(t.gap_to_median);
        "behind_best_practice": Bool, "true/false",
            "true when gap_to_exemplar > 0, that is when the trust is behind the exemplar median; false otherwise; empty when gap_to_exemplar is empty."
            => t.behind_best_practice.map_or(Cell::Empty, Cell::Bool);
    ]
}

export! {
    indices: "Domain indices and the maturity index (domain = all) of each trust per quarter.",
    |i: &IndexRow| {}
    [
        "org_code": Text, "ODS code",
            "The trust."
            => Cell::text(&*i.org_code);
        "trust_type": Text, "text",
            "The trust's type, which is its peer group."
            => Cell::text(&*i.trust_type);
        "period": Text, "YYYY-Qn",
            "The calendar quarter."
            => Cell::text(i.period.to_string());
        "domain": Text, "identifier",
            "The domain the index is for, or all on the row that holds the trust's maturity index for the quarter."
            => Cell::text(&*i.domain);
        "domain_index": Float, "0–100",
            "On a domain row, the domain index: the mean score of the domain's metrics that apply to the trust's type and have a value, empty when fewer than half of those applicable metrics have one. On the all row, the maturity index: the mean of the trust's non-empty domain indices, empty when all are empty."
            => Cell::opt_number(i.domain_index);
        "n_metrics": Int, "count",
            "The number of the domain's applicable metrics with a value for the trust in the quarter; on the all row, the total over every domain. n_metrics ÷ n_applicable is the coverage."
            => Cell::Int(i.n_metrics);
        "n_applicable": Int, "count",
            "The number of the domain's metrics that apply to the trust's type; on the all row, the total over every domain."
            => Cell::Int(i.n_applicable);
    ]
}

export! {
    trends: "Change on the previous quarter and the four-quarter trend of each trust's values.",
    |t: &TrendRow| {}
    [
        "org_code": Text, "ODS code",
            "The trust."
            => Cell::text(&*t.org_code);
        "metric_id": Text, "identifier",
            "The metric."
            => Cell::text(&*t.metric_id);
        "period": Text, "YYYY-Qn",
            "The calendar quarter p the trend is for."
            => Cell::text(t.period.to_string());
        "change": Float, "the metric's unit",
            "The change on the previous calendar quarter, signed so that positive is an improvement: d × (value in p − value in p − 1), with d = +1 for higher_better and d = −1 for lower_better metrics. Empty when the trust has no value for the previous quarter."
            => Cell::opt_number(t.change);
        "slope": Float, "the metric's unit per quarter",
            "d × the ordinary least-squares slope of value on quarter number (year × 4 + quarter) over those of the four quarters p − 3 to p that have a value; positive is an improvement. Empty when fewer than three of the four quarters have a value."
            => Cell::opt_number(t.slope);
        "trend": Text, "text",
            "improving when slope > 0.01 × (scale_max − scale_min), worsening when slope < −0.01 × (scale_max − scale_min), otherwise stable; that is, the slope is compared with 1% of the metric's scale range. Empty when slope is empty."
            => t.trend.as_deref().map_or(Cell::Empty, Cell::text);
    ]
}

export! {
    gaps: "Where best practice is not followed: how many trusts of each peer group are behind the exemplar median.",
    |g: &GapRow| {}
    [
        "metric_id": Text, "identifier",
            "The metric."
            => Cell::text(&*g.metric_id);
        "period": Text, "YYYY-Qn",
            "The calendar quarter."
            => Cell::text(g.period.to_string());
        "peer_group": Text, "text",
            "The peer group (trust type)."
            => Cell::text(&*g.peer_group);
        "n": Int, "count",
            "The number of trusts in the peer group with a current value for the metric in the quarter."
            => Cell::Int(g.n);
        "n_behind": Int, "count",
            "The number of those trusts behind best practice: those whose gap_to_exemplar is greater than 0."
            => Cell::Int(g.n_behind);
        "share_behind": Float, "share 0–1",
            "n_behind ÷ n: the share of the peer group behind the exemplar median."
            => Cell::Number(g.share_behind);
        "median_gap": Float, "the metric's unit",
            "The median of gap_to_exemplar over the trusts of the peer group with a value (positive means the typical trust is behind); empty when the peer group has no exemplar trust with a value."
            => Cell::opt_number(g.median_gap);
    ]
}

export! {
    conformance: "Every conformance result ever submitted, with whether it is the current one for its subject and standard.",
    |c: &ConformanceRecord, is_current: bool| {}
    [
        "subject": Text, "identifier",
            "What was assessed: a system_id for a standard assessed at system level, or a trust's ODS code for one assessed at organisation level."
            => Cell::text(&c.subject);
        "subject_kind": Text, "text",
            "system or organisation: which of the two the subject is."
            => Cell::text(&c.subject_kind);
        "standard_id": Text, "identifier",
            "The standard assessed against."
            => Cell::text(&c.standard_id);
        "result": Text, "text",
            "The outcome of the assessment: pass, fail or partial. Only pass counts as passed."
            => Cell::text(&c.result);
        "assessed_on": Text, "ISO date",
            "The date of the assessment."
            => Cell::text(&c.assessed_on);
        "assessor": Text, "text",
            "Who carried out the assessment, as submitted; empty when not given."
            => c.assessor.as_ref().map_or(Cell::Empty, Cell::text);
        "current": Bool, "true/false",
            "true when this is the current result for its subject and standard today: of the results assessed on or before today, the one with the latest assessed_on, ties going to the latest submitted. Earlier results are kept as history with false."
            => Cell::Bool(is_current);
    ]
}

export! {
    systems: "Each system's procurable status today and the mandatory standards it fails.",
    |s: &System, st: &SystemStatus| {}
    [
        "system_id": Text, "identifier",
            "The system's identifier in the systems register."
            => Cell::text(&s.system_id);
        "supplier": Text, "text",
            "The system's supplier."
            => Cell::text(&s.supplier);
        "product": Text, "text",
            "The product's name."
            => Cell::text(&s.product);
        "version": Text, "text",
            "The product's version."
            => Cell::text(&s.version);
        "procurable": Bool, "true/false",
            "true when the system may be bought today: every system-level standard whose mandatory_from date is on or before today has a current result of pass for the system. No current result counts as not passed."
            => Cell::Bool(st.procurable);
        "failing_standards": Text, "text",
            "The system-level standards mandatory today whose current result for the system is not a pass, joined by ';'; empty when the system is procurable."
            => Cell::text(st.failing.join(";"));
    ]
}

export! {
    trust_conformance: "Each trust's required and passed standards results and its conformance rate today.",
    |o: &Organisation, t: &TrustConformance| {}
    [
        "org_code": Text, "ODS code",
            "The trust."
            => Cell::text(&o.ods_code);
        "required": Int, "count",
            "The number of results required of the trust today: one for every pair of a system deployed at the trust and a system-level standard mandatory today, plus one for every organisation-level standard mandatory today."
            => Cell::Int(t.required as i64);
        "passed": Int, "count",
            "The number of those required results whose current result is a pass; no current result counts as not passed."
            => Cell::Int(t.passed as i64);
        "conformance_rate": Float, "share 0–1",
            "passed ÷ required; empty when required is 0."
            => Cell::opt_number(t.rate());
        "failing": Text, "text",
            "The required results not passed, joined by ';': system_id:standard_id for a deployed system's standard, standard_id for an organisation-level standard."
            => Cell::text(t.failing.join(";"));
    ]
}

export! {
    upgrades: "Every deployment of a system that is not procurable today, with the standards it fails.",
    |u: &Upgrade, o: Option<&Organisation>| {}
    [
        "org_code": Text, "ODS code",
            "The trust where the system is deployed."
            => Cell::text(&u.ods_code);
        "org_name": Text, "text",
            "The trust's name."
            => o.map_or(Cell::Empty, |o| Cell::text(&o.name));
        "region": Text, "text",
            "The NHS England region of the trust."
            => o.map_or(Cell::Empty, |o| Cell::text(&o.region));
        "system_id": Text, "identifier",
            "The deployed system, which is not procurable today and so has to be upgraded to meet the standards."
            => Cell::text(&u.system_id);
        "function": Text, "text",
            "What the system is deployed for at the trust, for example epr, pas or pathology."
            => Cell::text(&u.function);
        "failing_standards": Text, "text",
            "The system-level standards mandatory today whose current result for the system is not a pass, joined by ';'."
            => Cell::text(u.failing.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(";"));
        "mandatory_since": Text, "ISO dates",
            "The date each failing standard became mandatory, joined by ';' in the same order as failing_standards."
            => Cell::text(u.failing.iter().map(|(_, d)| d.to_string()).collect::<Vec<_>>().join(";"));
    ]
}

export! {
    findings: "The board's findings and recommendations, on a metric, a domain or a trust, with their status.",
    |x: &Finding| {}
    [
        "finding_id": Int, "number",
            "The finding's number, in the order findings were recorded."
            => Cell::Int(x.id);
        "subject_kind": Text, "text",
            "What the finding is about: metric, domain or trust."
            => Cell::text(&x.subject_kind);
        "subject": Text, "id",
            "The metric id, domain id or ODS code the finding is about."
            => Cell::text(&x.subject);
        "title": Text, "text",
            "The finding's title, as the board member recorded it."
            => Cell::text(&x.title);
        "text": Text, "text",
            "The finding or recommendation itself."
            => Cell::text(&x.body);
        "status": Text, "text",
            "open, accepted, in_progress, done or declined; board members move it on, each change kept in status_history."
            => Cell::text(x.status.as_str());
        "owner": Text, "text",
            "Who is to act on the finding."
            => Cell::text(&x.owner);
        "created_by": Text, "email",
            "The board member who recorded the finding."
            => Cell::text(&x.created_by);
        "created_at": Text, "UTC timestamp",
            "When the finding was recorded."
            => Cell::text(&x.created_at);
        "updated_at": Text, "UTC timestamp",
            "When the finding's status last changed."
            => Cell::text(&x.updated_at);
        "period": Text, "quarter",
            "The quarter the finding looked at (2026-Q3 is 2026/27 Q2); empty for findings recorded before it was kept."
            => Cell::text(&x.period);
        "based_on": Text, "text",
            "The figures the finding was based on: a release id, or \"data version N\" for provisional figures."
            => Cell::text(&x.based_on);
        "due_on": Text, "date",
            "When the recommendation is due (YYYY-MM-DD); empty if no date was set."
            => Cell::text(&x.due_on);
        "status_history": Text, "text",
            "Every status it has had, oldest first: status at time by whom (why), separated by \" | \"."
            => Cell::text(x.history.iter().map(|c| if c.note.is_empty() { format!("{} at {} by {}", c.status, c.changed_at, c.changed_by) } else { format!("{} at {} by {} ({})", c.status, c.changed_at, c.changed_by, c.note) }).collect::<Vec<_>>().join(" | "));
        "blueprint_ids": Text, "blueprint numbers",
            "The published blueprints the recommendation points to (see the blueprints export), separated by commas; empty if none."
            => Cell::text(x.blueprints.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    ]
}

export! {
    standards: "The open standards catalogue: category, version, when each is mandatory from and what it is assessed for.",
    |x: &Standard| {}
    [
        "standard_id": Text, "id",
            "The standard's id in this catalogue."
            => Cell::text(&x.standard_id);
        "name": Text, "text",
            "The standard's name."
            => Cell::text(&x.name);
        "category": Text, "text",
            "interoperability, permissions, privacy or security."
            => Cell::text(x.category.as_str());
        "version": Text, "text",
            "The version or release in force."
            => Cell::text(&x.version);
        "mandatory_from": Text, "ISO date",
            "The date from which a current pass is required; empty for an advisory standard."
            => x.mandatory_from.map_or(Cell::Empty, |d| Cell::text(d.to_string()));
        "assessed_at": Text, "text",
            "system for a standard a product meets, organisation for one a trust meets as a whole."
            => Cell::text(x.assessed_at.as_str());
        "reference": Text, "URL",
            "Where the standard is published."
            => Cell::text(&x.reference);
    ]
}

export! {
    targets: "The latest target of each exemplar trust for each metric and quarter, with its baseline and progress.",
    |t: &Target, f: &Figures| { let (latest, baseline, progress) = f.progress(t); }
    [
        "org_code": Text, "ODS code",
            "The exemplar trust that set the target."
            => Cell::text(&*t.org_code);
        "metric_id": Text, "id",
            "The metric the target is for."
            => Cell::text(&*t.metric_id);
        "period": Text, "YYYY-Qn",
            "The quarter by which the trust commits to reach the target."
            => Cell::text(t.period.to_string());
        "target": Float, "the metric's unit",
            "The value the trust commits to reach; the latest revision of the target."
            => Cell::Number(t.target);
        "set_in": Text, "YYYY-Qn",
            "The quarter in which the target was set: the latest quarter that had ended when it was submitted."
            => Cell::text(t.set_in.to_string());
        "baseline": Float, "the metric's unit",
            "The trust's value in the quarter the target was set; empty without one."
            => Cell::opt_number(baseline);
        "latest_value": Float, "the metric's unit",
            "The trust's latest value up to the target's quarter."
            => Cell::opt_number(latest);
        "progress": Float, "share (1 = reached)",
            "(latest_value − baseline) ÷ (target − baseline); empty without a baseline or a latest value, or when the target equals the baseline."
            => Cell::opt_number(progress);
    ]
}

export! {
    revisions: "Every value revised after it was published, with the release that published it and the one that revised it.",
    |release: &Release, since: Option<&str>, v: &RevisedValue| {}
    [
        "release": Text, "id",
            "The release that published the revised value (docs/RULES.md §3.8)."
            => Cell::text(&release.id);
        "published_at": Text, "UTC timestamp",
            "When that release was published."
            => Cell::text(&release.published_at);
        "since_release": Text, "id",
            "The release that had published the value before; empty for the first."
            => since.map_or(Cell::Empty, Cell::text);
        "org_code": Text, "ODS code",
            "The trust whose value was revised."
            => Cell::text(&v.org_code);
        "metric_id": Text, "id",
            "The metric revised."
            => Cell::text(&v.metric_id);
        "period": Text, "YYYY-Qn",
            "The quarter of the value."
            => Cell::text(&v.period);
        "published_value": Float, "metric's unit",
            "The value as the earlier release published it."
            => Cell::Number(v.published);
        "revised_value": Float, "metric's unit",
            "The value as the later release publishes it."
            => Cell::Number(v.now);
    ]
}

export! {
    intervals: "Each proportion's 95 % and 99.8 % Wilson score intervals and its significance against England and its peer group.",
    |i: &IntervalRow| {}
    [
        "org_code": Text, "ODS code",
            "The trust (docs/RULES.md §4.8)."
            => Cell::text(&*i.org_code);
        "metric_id": Text, "id",
            "The metric."
            => Cell::text(&*i.metric_id);
        "period": Text, "YYYY-Qn",
            "The quarter."
            => Cell::text(i.period.to_string());
        "numerator": Int, "count",
            "The numerator the trust sent; empty without counts."
            => i.counts.map_or(Cell::Empty, |c| Cell::Int(i64::from(c.numerator)));
        "denominator": Int, "count",
            "The denominator the trust sent (what the metric counts); empty without counts."
            => i.counts.map_or(Cell::Empty, |c| Cell::Int(i64::from(c.denominator)));
        "value": Float, "the metric's unit",
            "The value (for a proportion, 100 × numerator ÷ denominator)."
            => Cell::Number(i.value);
        "ci95_lower": Float, "percent",
            "Lower bound of the 95 % Wilson score interval, (2x + z² − z√(z² + 4x(1 − x/n))) ÷ 2(n + z²) × 100 with z = 1.959964; empty without counts (no interval: no counts submitted) and for a metric that is not a proportion."
            => bound(i.ci95, Bound::Lower);
        "ci95_upper": Float, "percent",
            "Upper bound of the 95 % Wilson score interval; empty without counts."
            => bound(i.ci95, Bound::Upper);
        "ci998_lower": Float, "percent",
            "Lower bound of the 99.8 % Wilson score interval (z = 3.090232); empty without counts."
            => bound(i.ci998, Bound::Lower);
        "ci998_upper": Float, "percent",
            "Upper bound of the 99.8 % Wilson score interval; empty without counts."
            => bound(i.ci998, Bound::Upper);
        "england_value": Float, "percent",
            "England's pooled proportion: every numerator over every denominator sent for the metric and quarter × 100; empty when no trust sent counts."
            => Cell::opt_number(i.england_value);
        "vs_england_95": Text, "better, similar, worse or not_compared",
            "better: the 95 % interval lies wholly on the better side of England's value (by the metric's direction); worse: wholly on the worse side; similar: it overlaps or touches it; not_compared: no interval or no England value."
            => Cell::text(i.vs_england_95.as_str());
        "vs_england_998": Text, "better, similar, worse or not_compared",
            "As vs_england_95, with the 99.8 % interval."
            => Cell::text(i.vs_england_998.as_str());
        "peer_value": Float, "percent",
            "The pooled proportion of the trust's peer group (its trust type)."
            => Cell::opt_number(i.peer_value);
        "vs_peers_95": Text, "better, similar, worse or not_compared",
            "As vs_england_95, against the peer group's pooled value."
            => Cell::text(i.vs_peers_95.as_str());
        "vs_peers_998": Text, "better, similar, worse or not_compared",
            "As vs_peers_95, with the 99.8 % interval."
            => Cell::text(i.vs_peers_998.as_str());
    ]
}

export! {
    funnels: "Each proportion metric's funnel plot per quarter: each trust's denominator and value with the control limits at it.",
    |x: &FunnelRow| {}
    [
        "metric_id": Text, "id",
            "The proportion metric (docs/RULES.md §4.8)."
            => Cell::text(&*x.metric_id);
        "period": Text, "YYYY-Qn",
            "The quarter."
            => Cell::text(x.period.to_string());
        "org_code": Text, "ODS code",
            "The trust, one point of the funnel."
            => Cell::text(&*x.org_code);
        "denominator": Int, "count",
            "The trust's denominator, the funnel's x axis."
            => Cell::Int(i64::from(x.counts.denominator));
        "value": Float, "percent",
            "The trust's value, the funnel's y axis."
            => Cell::Number(x.value);
        "pooled_value": Float, "percent",
            "England's pooled proportion: the centre line."
            => Cell::Number(x.pooled_value);
        "lower_95": Float, "percent",
            "The lower 95 % control limit at the trust's denominator: the proportion whose Wilson interval just reaches the pooled value (the Fingertips method, PHStatsMethods' sigma_adjustment with p = 0.975), at least 0."
            => Cell::Number(x.point.lower_95);
        "upper_95": Float, "percent",
            "The upper 95 % control limit at the trust's denominator, at most 100."
            => Cell::Number(x.point.upper_95);
        "lower_998": Float, "percent",
            "The lower 99.8 % control limit (p = 0.999), at least 0."
            => Cell::Number(x.point.lower_998);
        "upper_998": Float, "percent",
            "The upper 99.8 % control limit, at most 100."
            => Cell::Number(x.point.upper_998);
        "position": Text, "above_998, above_95, within, below_95 or below_998",
            "Where numerator ÷ denominator falls among the limits, judged at 99.8 % first, as PHStatsMethods' assign_funnel_significance does."
            => Cell::text(x.point.position.as_str());
    ]
}

export! {
    spc: "Making Data Count XmR charts of each trust's quarterly series: mean, process limits, special causes and icons.",
    |x: &SpcRow| {}
    [
        "org_code": Text, "ODS code",
            "The trust whose quarterly series is charted (docs/RULES.md §4.9)."
            => Cell::text(&*x.subject);
        "metric_id": Text, "id",
            "The metric."
            => Cell::text(&*x.metric_id);
        "period": Text, "YYYY-Qn",
            "The quarter of the point."
            => Cell::text(x.period.to_string());
        "value": Float, "the metric's unit",
            "The point's value."
            => Cell::Number(x.value);
        "mean": Float, "the metric's unit",
            "The centre line: the mean of the series."
            => Cell::Number(x.mean);
        "lower_limit": Float, "the metric's unit",
            "mean − 2.66 × the mean moving range, moving ranges of 3.267 × their mean or more left out (NHSRplotthedots' outlier screening); empty with fewer than 12 points (a run chart)."
            => Cell::opt_number(x.limits.map(|l| l.0));
        "upper_limit": Float, "the metric's unit",
            "mean + 2.66 × the mean moving range; empty with fewer than 12 points."
            => Cell::opt_number(x.limits.map(|l| l.1));
        "special_cause": Text, "outside_limits, trend, two_in_three, shift or none",
            "The highest-precedence rule the point is part of: a point outside the limits; seven in a row rising or falling; two of three beyond two-thirds of the way to a limit on one side; seven in a row on one side of the mean."
            => Cell::text(x.point.rule.as_str());
        "point_type": Text, "common_cause, special_cause_improvement or special_cause_concern",
            "The point's special cause read by the metric's direction."
            => Cell::text(x.point.point_type.as_str());
        "variation_icon": Text, "common_cause, improvement_high, improvement_low, concern_high or concern_low",
            "Making Data Count's variation icon of the series' latest point."
            => Cell::text(x.variation_icon);
        "assurance_icon": Text, "consistent_pass, consistent_fail or inconsistent",
            "Making Data Count's assurance icon: the trust's latest target outside the limits on the good side (consistent_pass), on the bad side (consistent_fail), or inside them (inconsistent); empty without a target or limits."
            => x.assurance_icon.map_or(Cell::Empty, Cell::text);
    ]
}

export! {
    spc_groups: "Making Data Count XmR charts of each peer group's median per metric and quarter.",
    |x: &SpcRow| {}
    [
        "peer_group": Text, "text",
            "The peer group (trust type) whose median is charted (docs/RULES.md §4.9)."
            => Cell::text(&*x.subject);
        "metric_id": Text, "id",
            "The metric."
            => Cell::text(&*x.metric_id);
        "period": Text, "YYYY-Qn",
            "The quarter of the point."
            => Cell::text(x.period.to_string());
        "value": Float, "the metric's unit",
            "The peer group's median value in the quarter."
            => Cell::Number(x.value);
        "mean": Float, "the metric's unit",
            "The centre line: the mean of the series."
            => Cell::Number(x.mean);
        "lower_limit": Float, "the metric's unit",
            "mean − 2.66 × the mean moving range, moving ranges of 3.267 × their mean or more left out (NHSRplotthedots' outlier screening); empty with fewer than 12 points (a run chart)."
            => Cell::opt_number(x.limits.map(|l| l.0));
        "upper_limit": Float, "the metric's unit",
            "mean + 2.66 × the mean moving range; empty with fewer than 12 points."
            => Cell::opt_number(x.limits.map(|l| l.1));
        "special_cause": Text, "outside_limits, trend, two_in_three, shift or none",
            "The highest-precedence rule the point is part of: a point outside the limits; seven in a row rising or falling; two of three beyond two-thirds of the way to a limit on one side; seven in a row on one side of the mean."
            => Cell::text(x.point.rule.as_str());
        "point_type": Text, "common_cause, special_cause_improvement or special_cause_concern",
            "The point's special cause read by the metric's direction."
            => Cell::text(x.point.point_type.as_str());
        "variation_icon": Text, "common_cause, improvement_high, improvement_low, concern_high or concern_low",
            "Making Data Count's variation icon of the series' latest point."
            => Cell::text(x.variation_icon);
        "assurance_icon": Text, "empty",
            "Empty: peer groups have no targets."
            => x.assurance_icon.map_or(Cell::Empty, Cell::text);
    ]
}

export! {
    completeness: "Each quarter's collection: whether each trust has submitted, signed off or not started, and the window's closing time.",
    |c: &QuarterProgress, o: &Organisation, p: &Progress, now: &str| {}
    [
        "period": Text, "YYYY-Qn",
            "The quarter collected (docs/RULES.md §3.7)."
            => Cell::text(c.quarter.to_string());
        "org_code": Text, "ODS code",
            "The trust."
            => Cell::text(&o.ods_code);
        "org_name": Text, "text",
            "The trust's name."
            => Cell::text(&o.name);
        "trust_type": Text, "text",
            "The trust's type, its peer group."
            => Cell::text(o.trust_type.as_str());
        "region": Text, "text",
            "The NHS England region the trust belongs to."
            => Cell::text(&o.region);
        "status": Text, "not_started, submitted or signed_off",
            "not_started: no values for the quarter; submitted: values not signed off, or changed since the trust signed them off; signed_off: the trust has signed off its values as they stand."
            => Cell::text(p.as_str());
        "window_closes_at": Text, "UTC timestamp",
            "When the quarter's collection window closes; empty when no window was opened."
            => c.window.as_ref().map_or(Cell::Empty, |w| Cell::text(&w.closes_at));
        "window_closed": Bool, "true or false",
            "Whether the window is closed now (past its closing time, or closed by an administrator); empty when no window was opened."
            => c.window.as_ref().map_or(Cell::Empty, |w| Cell::Bool(w.is_closed(now)));
    ]
}

export! {
    areas: "The areas the NHS App's uptake is counted in: sub-ICB locations, integrated care boards, regions and England, with the 2018 pilot areas.",
    |a: &Area| {}
    [
        "code": Text, "ODS or ONS code",
            "The area's code: a sub-ICB location's ODS code (99A), an integrated care board's (QYG), an NHS England region's (Y62), or England's ONS code (E92000001)."
            => Cell::text(&a.code);
        "name": Text, "text",
            "The area's name; a sub-ICB location carries the name of the clinical commissioning group of 2021 whose code it kept."
            => Cell::text(&a.name);
        "level": Text, "sub_icb, icb, region or england",
            "The area's level."
            => Cell::text(a.level.as_str());
        "parent": Text, "code",
            "The code of the area it lies in: a location's ICB, an ICB's region, a region's England; empty for England."
            => a.parent.as_deref().map_or(Cell::Empty, Cell::text);
        "pilot_area": Text, "text",
            "The 2018 NHS App pilot area the sub-ICB location lies in (Liverpool, Hastings, Bristol, Staffordshire or South Worcestershire); empty elsewhere."
            => a.pilot_area.as_deref().map_or(Cell::Empty, Cell::text);
    ]
}

export! {
    app_uptake: "NHS App uptake by area and month: each measure's count, rate per 1,000 people aged 13 and over, running total and share registered, pooled up to ICBs, regions and England.",
    |u: &UptakeFigure| {}
    [
        "area_code": Text, "ODS or ONS code",
            "The area (see the areas export)."
            => Cell::text(&u.area_code);
        "level": Text, "sub_icb, icb, region or england",
            "The area's level. Areas above sub-ICB locations pool their parts: counts and populations are summed, never rates averaged; an area's own submitted count stands where it was sent."
            => Cell::text(u.level.as_str());
        "month": Text, "YYYY-MM",
            "The calendar month counted."
            => Cell::text(u.month.to_string());
        "measure": Text, "identifier",
            "What is counted: one of the NHS App measures (registrations, logins, appointments_booked, …, population_13_plus), defined in docs/RULES.md §9."
            => Cell::text(&u.measure);
        "age_band": Text, "13-15, 16-24, …, 75+ or all",
            "The age band counted; all for every age from 13."
            => Cell::text(u.age_band.as_str());
        "value": Float, "count",
            "The count in the month: events, or people for registrations, unique logins and the population."
            => Cell::Number(u.value);
        "population": Float, "people",
            "People aged 13 and over registered with a GP practice in the area, month and age band (population_13_plus); empty when not sent."
            => Cell::opt_number(u.population);
        "rate_per_1000": Float, "per 1,000 people aged 13+",
            "1000 × value ÷ population of the same area, month and age band; empty without a population."
            => Cell::opt_number(u.rate_per_1000);
        "cumulative": Float, "count",
            "The running total of the measure from the area's first month with a count, this month included."
            => Cell::Number(u.cumulative);
        "share_registered": Float, "percent",
            "100 × cumulative registrations ÷ population, on registrations rows only; empty elsewhere and without a population."
            => Cell::opt_number(u.share_registered);
    ]
}

export! {
    app_uptake_change: "NHS App uptake's change by area and month: each count against the month before and the same month a year before, at every level.",
    |u: &UptakeFigure| {}
    [
        "area_code": Text, "ODS or ONS code",
            "The area (see the areas export)."
            => Cell::text(&u.area_code);
        "level": Text, "sub_icb, icb, region or england",
            "The area's level; counts above sub-ICB locations are pooled as in app_uptake."
            => Cell::text(u.level.as_str());
        "month": Text, "YYYY-MM",
            "The calendar month counted."
            => Cell::text(u.month.to_string());
        "measure": Text, "identifier",
            "What is counted (docs/RULES.md §9)."
            => Cell::text(&u.measure);
        "age_band": Text, "13-15, 16-24, …, 75+ or all",
            "The age band counted; all for every age from 13."
            => Cell::text(u.age_band.as_str());
        "value": Float, "count",
            "The count in the month."
            => Cell::Number(u.value);
        "previous_month_value": Float, "count",
            "The count of the month before; empty when that month was not counted."
            => Cell::opt_number(u.previous_month);
        "change_on_previous_month": Float, "count",
            "value − previous_month_value."
            => Cell::opt_number(u.change_on_previous_month());
        "percent_change_on_previous_month": Float, "percent",
            "100 × change_on_previous_month ÷ previous_month_value; empty when the month before counted 0."
            => Cell::opt_number(UptakeFigure::percent_change(u.previous_month, u.value));
        "year_before_value": Float, "count",
            "The count of the same month a year before; empty when that month was not counted."
            => Cell::opt_number(u.year_before);
        "change_on_year_before": Float, "count",
            "value − year_before_value."
            => Cell::opt_number(u.change_on_year_before());
        "percent_change_on_year_before": Float, "percent",
            "100 × change_on_year_before ÷ year_before_value; empty when that month counted 0."
            => Cell::opt_number(UptakeFigure::percent_change(u.year_before, u.value));
    ]
}

export! {
    peers: "Peers like us: each trust's 15 nearest trusts of the same type in the quarter, by maturity, domain indices, EPR supplier, size, ICB and region, with the reasons.",
    |p: &Peer| {}
    [
        "org_code": Text, "ODS code",
            "The trust."
            => Cell::text(&p.org_code);
        "peer_code": Text, "ODS code",
            "One of its peers: a trust of the same type."
            => Cell::text(&p.peer_code);
        "rank": Int, "1 to 15",
            "1 for the nearest peer; ties by ODS code."
            => Cell::Int(p.rank as i64);
        "distance": Float, "standardised units",
            "The weighted distance of docs/RULES.md §10.1: standardised maturity and domain indices and size, 0 or 1 for supplier, ICB and region, over the features both trusts have, scaled to the whole."
            => Cell::Number(p.distance);
        "reasons": Text, "text",
            "Why it is a peer: the EPR supplier, maturity and A&E attendances side by side, and a shared ICB or region."
            => Cell::text(&p.reasons);
    ]
}

export! {
    evaluation: "Did the exemplar programme move maturity? Each cohort's difference in differences against matched comparison trusts, per outcome, with its 95 % interval clustered by trust and the pre-trend test.",
    |e: &EvaluationRow| {}
    [
        "cohort": Text, "identifier",
            "The exemplar cohort: its status and year (fast_follower_2017); its start is in data/exemplar_cohorts.csv."
            => Cell::text(&e.cohort);
        "outcome": Text, "identifier",
            "maturity_index, or a domain's id (its domain index)."
            => Cell::text(&e.outcome);
        "estimate": Float, "index points (0–100)",
            "β of the two-way fixed-effects regression y = trust + quarter + β·(cohort trust from its start): the difference in differences (docs/RULES.md §10.2)."
            => Cell::Number(e.estimate.estimate);
        "ci_lower": Float, "index points",
            "The 95 % interval's lower end: β − t(0.975, G−1) × the cluster-robust (CR1, by trust) standard error."
            => Cell::Number(e.estimate.ci_lower);
        "ci_upper": Float, "index points",
            "The 95 % interval's upper end."
            => Cell::Number(e.estimate.ci_upper);
        "n_treated": Int, "trusts",
            "Cohort trusts with values."
            => Cell::Int(e.n_treated as i64);
        "n_control": Int, "trusts",
            "Matched comparison trusts with values."
            => Cell::Int(e.n_control as i64);
        "pre_trend_p": Float, "probability",
            "The p-value of the joint F test that the event study's coefficients two or more quarters before the start are all 0; a small value casts doubt on parallel pre-trends. Empty without such quarters."
            => Cell::opt_number(e.estimate.pre_trend_p);
    ]
}

export! {
    evaluation_units: "The trusts of each cohort's evaluation: the cohort's trusts and the comparison trusts matched to them without replacement on the quarter before the start.",
    |u: &EvaluationUnit| {}
    [
        "cohort": Text, "identifier",
            "The exemplar cohort."
            => Cell::text(&u.cohort);
        "org_code": Text, "ODS code",
            "The trust."
            => Cell::text(&u.org_code);
        "role": Text, "treated or control",
            "treated: a trust of the cohort; control: the nearest trust of the same type outside every cohort, matched to one cohort trust."
            => Cell::text(u.role);
        "matched_to": Text, "ODS code",
            "The trust it is matched to; empty for a cohort trust that found no comparison trust."
            => u.matched_to.as_deref().map_or(Cell::Empty, Cell::text);
        "start_period": Text, "quarter",
            "The cohort's start."
            => Cell::text(u.start_period.to_string());
    ]
}

export! {
    event_study: "Each cohort's event study: the estimate for each quarter relative to its start, the quarter before the start the reference.",
    |e: &EventRow| {}
    [
        "cohort": Text, "identifier",
            "The exemplar cohort."
            => Cell::text(&e.cohort);
        "outcome": Text, "identifier",
            "maturity_index, or a domain's id."
            => Cell::text(&e.outcome);
        "relative_quarter": Int, "quarters",
            "Quarters from the start: 0 is the start, −1 the reference quarter (0 by definition)."
            => Cell::Int(i64::from(e.relative_quarter));
        "estimate": Float, "index points",
            "The coefficient of the cohort's trusts in that quarter, from the two-way fixed-effects regression with one indicator per relative quarter."
            => Cell::Number(e.estimate);
        "ci_lower": Float, "index points",
            "Its 95 % interval's lower end (clustered by trust)."
            => Cell::Number(e.ci_lower);
        "ci_upper": Float, "index points",
            "Its 95 % interval's upper end."
            => Cell::Number(e.ci_upper);
    ]
}

export! {
    blueprints: "What worked where: the published blueprints of what trusts changed, with the metrics, standards and systems they concern.",
    |b: &crate::store::Blueprint| {}
    [
        "blueprint_id": Int, "number",
            "The blueprint's number; its page is /blueprints/{blueprint_id}, with the trust's measured values before and after."
            => Cell::Int(b.id);
        "org_code": Text, "ODS code",
            "The trust that made the change."
            => Cell::text(&b.org_code);
        "title": Text, "text",
            "Its title."
            => Cell::text(&b.title);
        "summary": Text, "text",
            "What changed, in a sentence or two."
            => Cell::text(&b.summary);
        "what_we_did": Text, "text",
            "What the trust did, in its own words."
            => Cell::text(&b.what_we_did);
        "metrics": Text, "metric ids",
            "The metrics it concerns, separated by commas."
            => Cell::text(b.metrics.join(","));
        "standards": Text, "standard ids",
            "The standards it concerns, separated by commas."
            => Cell::text(b.standards.join(","));
        "systems": Text, "system ids",
            "The systems it concerns, separated by commas."
            => Cell::text(b.systems.join(","));
        "started": Text, "quarter",
            "The quarter the change started."
            => Cell::text(&b.started);
        "contact_role": Text, "text",
            "The role to contact at the trust."
            => Cell::text(&b.contact_role);
        "published_at": Text, "UTC timestamp",
            "When the board or an administrator published it."
            => Cell::text(&b.reviewed_at);
    ]
}

export! {
    peer_groups: "Saved peer groups the reader may see (their own, and those shared): one row per trust in each group. Give a group's peer_group value to the benchmarks, trust_benchmarks and gaps exports for its figures.",
    |g: &crate::store::PeerGroup, org: &str, r: &crate::domain::Reference| { let o = r.organisation(org); }
    [
        "peer_group": Text, "saved-N",
            "The group's key: the value of peer_group that chooses it on pages, in exports and in the API."
            => Cell::text(g.key());
        "name": Text, "text",
            "The name its owner gave it."
            => Cell::text(&g.name);
        "shared": Bool, "true or false",
            "true when every signed-in user may see and use it; false when only its owner may."
            => Cell::Bool(g.shared);
        "owner": Text, "e-mail address",
            "Who saved it."
            => Cell::text(&g.owner_email);
        "org_code": Text, "ODS code",
            "A trust in the group."
            => Cell::text(org);
        "org_name": Text, "text",
            "The trust's name."
            => Cell::text(o.map_or("", |o| o.name.as_str()));
        "trust_type": Text, "acute, mental_health, community or ambulance",
            "The trust's type: a saved group may hold trusts of several types."
            => Cell::text(o.map_or("", |o| o.trust_type.as_str()));
        "n_members": Int, "trusts",
            "How many trusts the group holds."
            => Cell::Int(g.members.len() as i64);
        "updated_at": Text, "UTC timestamp",
            "When the group was last changed."
            => Cell::text(&g.updated_at);
    ]
}

export! {
    recommendations: "The board's recommendations to act on: each finding with its owner, due date, status, whether it is overdue today, its last change and the blueprints it points to. The findings export has their full text and history.",
    |x: &Finding, today: chrono::NaiveDate| { let last = x.history.last(); }
    [
        "recommendation_id": Int, "number",
            "The finding's number (finding_id in the findings export)."
            => Cell::Int(x.id);
        "about": Text, "kind:id",
            "What it is about: metric:ID, domain:ID or trust:ODS code."
            => Cell::text(format!("{}:{}", x.subject_kind, x.subject));
        "title": Text, "text",
            "Its title."
            => Cell::text(&x.title);
        "owner": Text, "text",
            "Who is to act on it."
            => Cell::text(&x.owner);
        "status": Text, "text",
            "open, accepted, in_progress, done or declined."
            => Cell::text(x.status.as_str());
        "live": Bool, "true or false",
            "true while it is still to act on (neither done nor declined)."
            => Cell::Bool(x.is_live());
        "due_on": Text, "date",
            "When it is due (YYYY-MM-DD); empty if no date was set."
            => Cell::text(&x.due_on);
        "overdue": Bool, "true or false",
            "true when it is live and its due date has passed (on the day of the export, UTC)."
            => Cell::Bool(x.is_overdue(today));
        "last_changed_at": Text, "UTC timestamp",
            "When its status last changed."
            => Cell::text(last.map_or(x.updated_at.as_str(), |c| c.changed_at.as_str()));
        "last_changed_by": Text, "email",
            "Who changed it last."
            => Cell::text(last.map_or(x.created_by.as_str(), |c| c.changed_by.as_str()));
        "blueprint_ids": Text, "blueprint numbers",
            "The published blueprints it points to, separated by commas; empty if none."
            => Cell::text(x.blueprints.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    ]
}
