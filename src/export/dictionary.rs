//! The exports' data dictionary (docs/RULES.md §7): every column of every export, in order, with its unit and meaning.

/// One column of one export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The export's name, as in `super::EXPORTS` (the file is `{export}.csv`).
    pub export: &'static str,
    /// The column's name in the header row.
    pub name: &'static str,
    /// What its values are: the type of its Parquet column.
    pub kind: Kind,
    /// The unit or form of its values.
    pub unit: &'static str,
    /// What it holds and, for computed figures, how it is computed.
    pub meaning: &'static str,
}

/// What a column's values are, for the typed exports (Parquet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Float,
    Int,
    Bool,
}

const fn col(
    export: &'static str,
    name: &'static str,
    kind: Kind,
    unit: &'static str,
    meaning: &'static str,
) -> Column {
    Column { export, name, kind, unit, meaning }
}

/// The columns of `export`, in order.
pub fn columns(export: &str) -> Vec<&'static Column> {
    DICTIONARY.iter().filter(|c| c.export == export).collect()
}

/// Every column of every export, grouped by export in `super::EXPORTS` order and in each
/// export's column order.
pub const DICTIONARY: &[Column] = &[
    // organisations
    col(
        "organisations",
        "org_code",
        Kind::Text,
        "ODS code",
        "The trust's NHS Organisation Data Service code, for example RJ1.",
    ),
    col("organisations", "org_name", Kind::Text, "text", "The trust's name."),
    col(
        "organisations",
        "trust_type",
        Kind::Text,
        "text",
        "The trust's type: acute, mental_health, community or ambulance. The trust type is also the trust's peer group in every benchmark.",
    ),
    col("organisations", "region", Kind::Text, "text", "The NHS England region the trust belongs to."),
    col(
        "organisations",
        "icb",
        Kind::Text,
        "ODS code",
        "The integrated care board the trust lies in, by its ODS code (QWO is NHS West Yorkshire ICB); the export's icb filter takes it.",
    ),
    col(
        "organisations",
        "exemplar",
        Kind::Text,
        "text",
        "The trust's exemplar status: gde (Global Digital Exemplar), fast_follower, or none. Trusts whose status is not none are the exemplar trusts.",
    ),
    col(
        "organisations",
        "exemplar_cohort",
        Kind::Int,
        "year",
        "The year of the exemplar cohort the trust joined; empty for trusts that are not exemplars.",
    ),
    // metrics
    col("metrics", "metric_id", Kind::Text, "identifier", "The metric's identifier, in snake_case."),
    col(
        "metrics",
        "domain",
        Kind::Text,
        "identifier",
        "The \"What Good Looks Like\" success measure (domain) the metric belongs to.",
    ),
    col("metrics", "name", Kind::Text, "text", "The metric's name."),
    col(
        "metrics",
        "unit",
        Kind::Text,
        "text",
        "The unit of the metric's values: score, percent, count, days, boolean or gbp.",
    ),
    col(
        "metrics",
        "scale_min",
        Kind::Float,
        "the metric's unit",
        "The lowest value the metric can take; submitted values below it are rejected.",
    ),
    col(
        "metrics",
        "scale_max",
        Kind::Float,
        "the metric's unit",
        "The highest value the metric can take; submitted values above it are rejected.",
    ),
    col(
        "metrics",
        "direction",
        Kind::Text,
        "text",
        "Whether a higher value is better (higher_better) or a lower value is better (lower_better).",
    ),
    col(
        "metrics",
        "applies_to",
        Kind::Text,
        "text",
        "The trust types the metric applies to, joined by ';', or all when it applies to every trust type.",
    ),
    // metric definitions
    col("metric_definitions", "metric_id", Kind::Text, "identifier", "The metric's identifier, in snake_case."),
    col("metric_definitions", "name", Kind::Text, "text", "The metric's name."),
    col(
        "metric_definitions",
        "rationale",
        Kind::Text,
        "text",
        "Why the metric matters for a trust's digital maturity.",
    ),
    col(
        "metric_definitions",
        "numerator_definition",
        Kind::Text,
        "text",
        "For a proportion, what its numerator counts; empty for a metric that is not a proportion.",
    ),
    col(
        "metric_definitions",
        "denominator_definition",
        Kind::Text,
        "text",
        "For a proportion, what its denominator counts; empty for a metric that is not a proportion.",
    ),
    col("metric_definitions", "source", Kind::Text, "text", "Where the figure comes from."),
    col("metric_definitions", "frequency", Kind::Text, "text", "How often the figure is collected."),
    col("metric_definitions", "caveats", Kind::Text, "text", "What to bear in mind when reading or comparing it."),
    // values
    col("values", "org_code", Kind::Text, "ODS code", "The ODS code of the trust the value is for."),
    col("values", "org_name", Kind::Text, "text", "The trust's name."),
    col("values", "trust_type", Kind::Text, "text", "The trust's type, which is its peer group."),
    col("values", "region", Kind::Text, "text", "The NHS England region of the trust."),
    col("values", "icb", Kind::Text, "ODS code", "The integrated care board the trust lies in, by its ODS code."),
    col("values", "exemplar", Kind::Text, "text", "The trust's exemplar status: gde, fast_follower or none."),
    col("values", "metric_id", Kind::Text, "identifier", "The metric the value is for."),
    col("values", "domain", Kind::Text, "identifier", "The domain the metric belongs to."),
    col(
        "values",
        "period",
        Kind::Text,
        "YYYY-Qn",
        "The calendar quarter the value is for; for example 2024-Q2 is April to June 2024, which is 2024/25 Q1 in the NHS financial year.",
    ),
    col("values", "period_start", Kind::Text, "ISO date", "The first day of the quarter."),
    col("values", "period_end", Kind::Text, "ISO date", "The last day of the quarter."),
    col(
        "values",
        "value",
        Kind::Float,
        "the metric's unit",
        "The current value: the newest revision submitted for this trust, metric and quarter. Boolean metrics hold 1 for yes and 0 for no.",
    ),
    col(
        "values",
        "revision",
        Kind::Int,
        "count from 1",
        "Which revision the current value is: 1 for the first value submitted, rising by one each time a different value is submitted for the same trust, metric and quarter.",
    ),
    col("values", "submitted_at", Kind::Text, "UTC timestamp", "When the current revision was submitted."),
    // benchmarks
    col("benchmarks", "metric_id", Kind::Text, "identifier", "The metric."),
    col("benchmarks", "domain", Kind::Text, "identifier", "The domain the metric belongs to."),
    col("benchmarks", "period", Kind::Text, "YYYY-Qn", "The calendar quarter."),
    col(
        "benchmarks",
        "peer_group",
        Kind::Text,
        "text",
        "The peer group: the trust type (acute, mental_health, community or ambulance) whose trusts the figures in this row are computed over.",
    ),
    col(
        "benchmarks",
        "n",
        Kind::Int,
        "count",
        "The number of trusts in the peer group with a current value for the metric in the quarter; every other figure in the row is computed over these values.",
    ),
    col("benchmarks", "min", Kind::Float, "the metric's unit", "The lowest value in the peer group."),
    col(
        "benchmarks",
        "p25",
        Kind::Float,
        "the metric's unit",
        "The lower quartile (25th percentile) of the peer group's values, by linear interpolation between order statistics (Hyndman–Fan type 7): with the n values sorted, the value at position 1 + 0.25 × (n − 1), interpolating between the two neighbouring values.",
    ),
    col(
        "benchmarks",
        "median",
        Kind::Float,
        "the metric's unit",
        "The median of the peer group's values: the middle value, or the mean of the two middle values when n is even (the same as type 7 at 0.5).",
    ),
    col(
        "benchmarks",
        "p75",
        Kind::Float,
        "the metric's unit",
        "The upper quartile (75th percentile) of the peer group's values, by linear interpolation between order statistics (Hyndman–Fan type 7): the value at position 1 + 0.75 × (n − 1) of the sorted values.",
    ),
    col("benchmarks", "max", Kind::Float, "the metric's unit", "The highest value in the peer group."),
    col("benchmarks", "mean", Kind::Float, "the metric's unit", "The arithmetic mean of the peer group's values."),
    col(
        "benchmarks",
        "exemplar_n",
        Kind::Int,
        "count",
        "The number of exemplar trusts (exemplar status gde or fast_follower) in the peer group with a current value.",
    ),
    col(
        "benchmarks",
        "exemplar_median",
        Kind::Float,
        "the metric's unit",
        "The median of the values of the exemplar trusts in the peer group; empty when exemplar_n is 0.",
    ),
    col(
        "benchmarks",
        "national_median",
        Kind::Float,
        "the metric's unit",
        "The median of the metric's values in the quarter over every trust with a current value, all trust types together.",
    ),
    // trust_benchmarks
    col("trust_benchmarks", "org_code", Kind::Text, "ODS code", "The trust."),
    col(
        "trust_benchmarks",
        "trust_type",
        Kind::Text,
        "text",
        "The trust's type, which is the peer group it is compared with.",
    ),
    col("trust_benchmarks", "metric_id", Kind::Text, "identifier", "The metric."),
    col("trust_benchmarks", "period", Kind::Text, "YYYY-Qn", "The calendar quarter."),
    col(
        "trust_benchmarks",
        "value",
        Kind::Float,
        "the metric's unit",
        "The trust's current value for the metric in the quarter.",
    ),
    col(
        "trust_benchmarks",
        "rank",
        Kind::Int,
        "rank, 1 = best",
        "The trust's position among the n trusts of its peer group with a value, 1 being the best (the highest value for higher_better metrics, the lowest for lower_better). Tied values share the smallest rank, so ranks run 1, 2, 2, 4.",
    ),
    col(
        "trust_benchmarks",
        "percentile",
        Kind::Float,
        "percentile 0–100",
        "The trust's standing in its peer group: 100 × (n − rank) ÷ (n − 1), where n is the number of trusts in the peer group with a value; 100 when n = 1. 100 is the best.",
    ),
    col(
        "trust_benchmarks",
        "quartile",
        Kind::Int,
        "1–4",
        "The peer-group quartile the value falls in, 1 best and 4 worst. For higher_better metrics: 1 if the value ≥ p75, else 2 if ≥ median, else 3 if ≥ p25, else 4. For lower_better metrics the mirror: 1 if ≤ p25, else 2 if ≤ median, else 3 if ≤ p75, else 4.",
    ),
    col(
        "trust_benchmarks",
        "score",
        Kind::Float,
        "0–100",
        "The value placed on the metric's scale so that higher is always better: 100 × (value − scale_min) ÷ (scale_max − scale_min) for higher_better metrics, 100 × (scale_max − value) ÷ (scale_max − scale_min) for lower_better metrics.",
    ),
    col(
        "trust_benchmarks",
        "gap_to_exemplar",
        Kind::Float,
        "the metric's unit",
        "How far the trust is behind the exemplar median of its peer group: d × (exemplar_median − value), where d = +1 for higher_better and d = −1 for lower_better metrics. Positive means behind; empty when the peer group has no exemplar trust with a value.",
    ),
    col(
        "trust_benchmarks",
        "gap_to_median",
        Kind::Float,
        "the metric's unit",
        "How far the trust is behind its peer-group median: d × (median − value), with d = +1 for higher_better and d = −1 for lower_better metrics. Positive means behind.",
    ),
    col(
        "trust_benchmarks",
        "behind_best_practice",
        Kind::Bool,
        "true/false",
        "true when gap_to_exemplar > 0, that is when the trust is behind the exemplar median; false otherwise; empty when gap_to_exemplar is empty.",
    ),
    // indices
    col("indices", "org_code", Kind::Text, "ODS code", "The trust."),
    col("indices", "trust_type", Kind::Text, "text", "The trust's type, which is its peer group."),
    col("indices", "period", Kind::Text, "YYYY-Qn", "The calendar quarter."),
    col(
        "indices",
        "domain",
        Kind::Text,
        "identifier",
        "The domain the index is for, or all on the row that holds the trust's maturity index for the quarter.",
    ),
    col(
        "indices",
        "domain_index",
        Kind::Float,
        "0–100",
        "On a domain row, the domain index: the mean score of the domain's metrics that apply to the trust's type and have a value, empty when fewer than half of those applicable metrics have one. On the all row, the maturity index: the mean of the trust's non-empty domain indices, empty when all are empty.",
    ),
    col(
        "indices",
        "n_metrics",
        Kind::Int,
        "count",
        "The number of the domain's applicable metrics with a value for the trust in the quarter; on the all row, the total over every domain. n_metrics ÷ n_applicable is the coverage.",
    ),
    col(
        "indices",
        "n_applicable",
        Kind::Int,
        "count",
        "The number of the domain's metrics that apply to the trust's type; on the all row, the total over every domain.",
    ),
    // trends
    col("trends", "org_code", Kind::Text, "ODS code", "The trust."),
    col("trends", "metric_id", Kind::Text, "identifier", "The metric."),
    col("trends", "period", Kind::Text, "YYYY-Qn", "The calendar quarter p the trend is for."),
    col(
        "trends",
        "change",
        Kind::Float,
        "the metric's unit",
        "The change on the previous calendar quarter, signed so that positive is an improvement: d × (value in p − value in p − 1), with d = +1 for higher_better and d = −1 for lower_better metrics. Empty when the trust has no value for the previous quarter.",
    ),
    col(
        "trends",
        "slope",
        Kind::Float,
        "the metric's unit per quarter",
        "d × the ordinary least-squares slope of value on quarter number (year × 4 + quarter) over those of the four quarters p − 3 to p that have a value; positive is an improvement. Empty when fewer than three of the four quarters have a value.",
    ),
    col(
        "trends",
        "trend",
        Kind::Text,
        "text",
        "improving when slope > 0.01 × (scale_max − scale_min), worsening when slope < −0.01 × (scale_max − scale_min), otherwise stable; that is, the slope is compared with 1% of the metric's scale range. Empty when slope is empty.",
    ),
    // gaps
    col("gaps", "metric_id", Kind::Text, "identifier", "The metric."),
    col("gaps", "period", Kind::Text, "YYYY-Qn", "The calendar quarter."),
    col("gaps", "peer_group", Kind::Text, "text", "The peer group (trust type)."),
    col(
        "gaps",
        "n",
        Kind::Int,
        "count",
        "The number of trusts in the peer group with a current value for the metric in the quarter.",
    ),
    col(
        "gaps",
        "n_behind",
        Kind::Int,
        "count",
        "The number of those trusts behind best practice: those whose gap_to_exemplar is greater than 0.",
    ),
    col(
        "gaps",
        "share_behind",
        Kind::Float,
        "share 0–1",
        "n_behind ÷ n: the share of the peer group behind the exemplar median.",
    ),
    col(
        "gaps",
        "median_gap",
        Kind::Float,
        "the metric's unit",
        "The median of gap_to_exemplar over the trusts of the peer group with a value (positive means the typical trust is behind); empty when the peer group has no exemplar trust with a value.",
    ),
    // conformance
    col(
        "conformance",
        "subject",
        Kind::Text,
        "identifier",
        "What was assessed: a system_id for a standard assessed at system level, or a trust's ODS code for one assessed at organisation level.",
    ),
    col("conformance", "subject_kind", Kind::Text, "text", "system or organisation: which of the two the subject is."),
    col("conformance", "standard_id", Kind::Text, "identifier", "The standard assessed against."),
    col(
        "conformance",
        "result",
        Kind::Text,
        "text",
        "The outcome of the assessment: pass, fail or partial. Only pass counts as passed.",
    ),
    col("conformance", "assessed_on", Kind::Text, "ISO date", "The date of the assessment."),
    col(
        "conformance",
        "assessor",
        Kind::Text,
        "text",
        "Who carried out the assessment, as submitted; empty when not given.",
    ),
    col(
        "conformance",
        "current",
        Kind::Bool,
        "true/false",
        "true when this is the current result for its subject and standard today: of the results assessed on or before today, the one with the latest assessed_on, ties going to the latest submitted. Earlier results are kept as history with false.",
    ),
    // systems
    col("systems", "system_id", Kind::Text, "identifier", "The system's identifier in the systems register."),
    col("systems", "supplier", Kind::Text, "text", "The system's supplier."),
    col("systems", "product", Kind::Text, "text", "The product's name."),
    col("systems", "version", Kind::Text, "text", "The product's version."),
    col(
        "systems",
        "procurable",
        Kind::Bool,
        "true/false",
        "true when the system may be bought today: every system-level standard whose mandatory_from date is on or before today has a current result of pass for the system. No current result counts as not passed.",
    ),
    col(
        "systems",
        "failing_standards",
        Kind::Text,
        "text",
        "The system-level standards mandatory today whose current result for the system is not a pass, joined by ';'; empty when the system is procurable.",
    ),
    // trust_conformance
    col("trust_conformance", "org_code", Kind::Text, "ODS code", "The trust."),
    col(
        "trust_conformance",
        "required",
        Kind::Int,
        "count",
        "The number of results required of the trust today: one for every pair of a system deployed at the trust and a system-level standard mandatory today, plus one for every organisation-level standard mandatory today.",
    ),
    col(
        "trust_conformance",
        "passed",
        Kind::Int,
        "count",
        "The number of those required results whose current result is a pass; no current result counts as not passed.",
    ),
    col(
        "trust_conformance",
        "conformance_rate",
        Kind::Float,
        "share 0–1",
        "passed ÷ required; empty when required is 0.",
    ),
    col(
        "trust_conformance",
        "failing",
        Kind::Text,
        "text",
        "The required results not passed, joined by ';': system_id:standard_id for a deployed system's standard, standard_id for an organisation-level standard.",
    ),
    // upgrades
    col("upgrades", "org_code", Kind::Text, "ODS code", "The trust where the system is deployed."),
    col("upgrades", "org_name", Kind::Text, "text", "The trust's name."),
    col("upgrades", "region", Kind::Text, "text", "The NHS England region of the trust."),
    col(
        "upgrades",
        "system_id",
        Kind::Text,
        "identifier",
        "The deployed system, which is not procurable today and so has to be upgraded to meet the standards.",
    ),
    col(
        "upgrades",
        "function",
        Kind::Text,
        "text",
        "What the system is deployed for at the trust, for example epr, pas or pathology.",
    ),
    col(
        "upgrades",
        "failing_standards",
        Kind::Text,
        "text",
        "The system-level standards mandatory today whose current result for the system is not a pass, joined by ';'.",
    ),
    col(
        "upgrades",
        "mandatory_since",
        Kind::Text,
        "ISO dates",
        "The date each failing standard became mandatory, joined by ';' in the same order as failing_standards.",
    ),
    col("findings", "finding_id", Kind::Int, "number", "The finding's number, in the order findings were recorded."),
    col("findings", "subject_kind", Kind::Text, "text", "What the finding is about: metric, domain or trust."),
    col("findings", "subject", Kind::Text, "id", "The metric id, domain id or ODS code the finding is about."),
    col("findings", "title", Kind::Text, "text", "The finding's title, as the board member recorded it."),
    col("findings", "text", Kind::Text, "text", "The finding or recommendation itself."),
    col("findings", "status", Kind::Text, "text", "open, accepted or done; board members move it on."),
    col("findings", "owner", Kind::Text, "text", "Who is to act on the finding."),
    col("findings", "created_by", Kind::Text, "email", "The board member who recorded the finding."),
    col("findings", "created_at", Kind::Text, "UTC timestamp", "When the finding was recorded."),
    col("findings", "updated_at", Kind::Text, "UTC timestamp", "When the finding's status last changed."),
    col(
        "findings",
        "period",
        Kind::Text,
        "quarter",
        "The quarter the finding looked at (2026-Q3 is 2026/27 Q2); empty for findings recorded before it was kept.",
    ),
    col(
        "findings",
        "based_on",
        Kind::Text,
        "text",
        "The figures the finding was based on: a release id, or \"data version N\" for provisional figures.",
    ),
    col("standards", "standard_id", Kind::Text, "id", "The standard's id in this catalogue."),
    col("standards", "name", Kind::Text, "text", "The standard's name."),
    col("standards", "category", Kind::Text, "text", "interoperability, permissions, privacy or security."),
    col("standards", "version", Kind::Text, "text", "The version or release in force."),
    col(
        "standards",
        "mandatory_from",
        Kind::Text,
        "ISO date",
        "The date from which a current pass is required; empty for an advisory standard.",
    ),
    col(
        "standards",
        "assessed_at",
        Kind::Text,
        "text",
        "system for a standard a product meets, organisation for one a trust meets as a whole.",
    ),
    col("standards", "reference", Kind::Text, "URL", "Where the standard is published."),
    col("targets", "org_code", Kind::Text, "ODS code", "The exemplar trust that set the target."),
    col("targets", "metric_id", Kind::Text, "id", "The metric the target is for."),
    col("targets", "period", Kind::Text, "YYYY-Qn", "The quarter by which the trust commits to reach the target."),
    col(
        "targets",
        "target",
        Kind::Float,
        "the metric's unit",
        "The value the trust commits to reach; the latest revision of the target.",
    ),
    col(
        "targets",
        "set_in",
        Kind::Text,
        "YYYY-Qn",
        "The quarter in which the target was set: the latest quarter that had ended when it was submitted.",
    ),
    col(
        "targets",
        "baseline",
        Kind::Float,
        "the metric's unit",
        "The trust's value in the quarter the target was set; empty without one.",
    ),
    col(
        "targets",
        "latest_value",
        Kind::Float,
        "the metric's unit",
        "The trust's latest value up to the target's quarter.",
    ),
    col(
        "targets",
        "progress",
        Kind::Float,
        "share (1 = reached)",
        "(latest_value − baseline) ÷ (target − baseline); empty without a baseline or a latest value, or when the target equals the baseline.",
    ),
    col("revisions", "release", Kind::Text, "id", "The release that published the revised value (docs/RULES.md §3.8)."),
    col("revisions", "published_at", Kind::Text, "UTC timestamp", "When that release was published."),
    col(
        "revisions",
        "since_release",
        Kind::Text,
        "id",
        "The release that had published the value before; empty for the first.",
    ),
    col("revisions", "org_code", Kind::Text, "ODS code", "The trust whose value was revised."),
    col("revisions", "metric_id", Kind::Text, "id", "The metric revised."),
    col("revisions", "period", Kind::Text, "YYYY-Qn", "The quarter of the value."),
    col("revisions", "published_value", Kind::Float, "metric's unit", "The value as the earlier release published it."),
    col("revisions", "revised_value", Kind::Float, "metric's unit", "The value as the later release publishes it."),
    col("intervals", "org_code", Kind::Text, "ODS code", "The trust (docs/RULES.md §4.8)."),
    col("intervals", "metric_id", Kind::Text, "id", "The metric."),
    col("intervals", "period", Kind::Text, "YYYY-Qn", "The quarter."),
    col("intervals", "numerator", Kind::Int, "count", "The numerator the trust sent; empty without counts."),
    col(
        "intervals",
        "denominator",
        Kind::Int,
        "count",
        "The denominator the trust sent (what the metric counts); empty without counts.",
    ),
    col(
        "intervals",
        "value",
        Kind::Float,
        "the metric's unit",
        "The value (for a proportion, 100 × numerator ÷ denominator).",
    ),
    col(
        "intervals",
        "ci95_lower",
        Kind::Float,
        "percent",
        "Lower bound of the 95 % Wilson score interval, (2x + z² − z√(z² + 4x(1 − x/n))) ÷ 2(n + z²) × 100 with z = 1.959964; empty without counts (no interval: no counts submitted) and for a metric that is not a proportion.",
    ),
    col(
        "intervals",
        "ci95_upper",
        Kind::Float,
        "percent",
        "Upper bound of the 95 % Wilson score interval; empty without counts.",
    ),
    col(
        "intervals",
        "ci998_lower",
        Kind::Float,
        "percent",
        "Lower bound of the 99.8 % Wilson score interval (z = 3.090232); empty without counts.",
    ),
    col(
        "intervals",
        "ci998_upper",
        Kind::Float,
        "percent",
        "Upper bound of the 99.8 % Wilson score interval; empty without counts.",
    ),
    col(
        "intervals",
        "england_value",
        Kind::Float,
        "percent",
        "England's pooled proportion: every numerator over every denominator sent for the metric and quarter × 100; empty when no trust sent counts.",
    ),
    col(
        "intervals",
        "vs_england_95",
        Kind::Text,
        "better, similar, worse or not_compared",
        "better: the 95 % interval lies wholly on the better side of England's value (by the metric's direction); worse: wholly on the worse side; similar: it overlaps or touches it; not_compared: no interval or no England value.",
    ),
    col(
        "intervals",
        "vs_england_998",
        Kind::Text,
        "better, similar, worse or not_compared",
        "As vs_england_95, with the 99.8 % interval.",
    ),
    col(
        "intervals",
        "peer_value",
        Kind::Float,
        "percent",
        "The pooled proportion of the trust's peer group (its trust type).",
    ),
    col(
        "intervals",
        "vs_peers_95",
        Kind::Text,
        "better, similar, worse or not_compared",
        "As vs_england_95, against the peer group's pooled value.",
    ),
    col(
        "intervals",
        "vs_peers_998",
        Kind::Text,
        "better, similar, worse or not_compared",
        "As vs_peers_95, with the 99.8 % interval.",
    ),
    col("funnels", "metric_id", Kind::Text, "id", "The proportion metric (docs/RULES.md §4.8)."),
    col("funnels", "period", Kind::Text, "YYYY-Qn", "The quarter."),
    col("funnels", "org_code", Kind::Text, "ODS code", "The trust, one point of the funnel."),
    col("funnels", "denominator", Kind::Int, "count", "The trust's denominator, the funnel's x axis."),
    col("funnels", "value", Kind::Float, "percent", "The trust's value, the funnel's y axis."),
    col("funnels", "pooled_value", Kind::Float, "percent", "England's pooled proportion: the centre line."),
    col(
        "funnels",
        "lower_95",
        Kind::Float,
        "percent",
        "The lower 95 % control limit at the trust's denominator: the proportion whose Wilson interval just reaches the pooled value (the Fingertips method, PHStatsMethods' sigma_adjustment with p = 0.975), at least 0.",
    ),
    col(
        "funnels",
        "upper_95",
        Kind::Float,
        "percent",
        "The upper 95 % control limit at the trust's denominator, at most 100.",
    ),
    col("funnels", "lower_998", Kind::Float, "percent", "The lower 99.8 % control limit (p = 0.999), at least 0."),
    col("funnels", "upper_998", Kind::Float, "percent", "The upper 99.8 % control limit, at most 100."),
    col(
        "funnels",
        "position",
        Kind::Text,
        "above_998, above_95, within, below_95 or below_998",
        "Where numerator ÷ denominator falls among the limits, judged at 99.8 % first, as PHStatsMethods' assign_funnel_significance does.",
    ),
    col("spc", "org_code", Kind::Text, "ODS code", "The trust whose quarterly series is charted (docs/RULES.md §4.9)."),
    col("spc", "metric_id", Kind::Text, "id", "The metric."),
    col("spc", "period", Kind::Text, "YYYY-Qn", "The quarter of the point."),
    col("spc", "value", Kind::Float, "the metric's unit", "The point's value."),
    col("spc", "mean", Kind::Float, "the metric's unit", "The centre line: the mean of the series."),
    col(
        "spc",
        "lower_limit",
        Kind::Float,
        "the metric's unit",
        "mean − 2.66 × the mean moving range, moving ranges of 3.267 × their mean or more left out (NHSRplotthedots' outlier screening); empty with fewer than 12 points (a run chart).",
    ),
    col(
        "spc",
        "upper_limit",
        Kind::Float,
        "the metric's unit",
        "mean + 2.66 × the mean moving range; empty with fewer than 12 points.",
    ),
    col(
        "spc",
        "special_cause",
        Kind::Text,
        "outside_limits, trend, two_in_three, shift or none",
        "The highest-precedence rule the point is part of: a point outside the limits; seven in a row rising or falling; two of three beyond two-thirds of the way to a limit on one side; seven in a row on one side of the mean.",
    ),
    col(
        "spc",
        "point_type",
        Kind::Text,
        "common_cause, special_cause_improvement or special_cause_concern",
        "The point's special cause read by the metric's direction.",
    ),
    col(
        "spc",
        "variation_icon",
        Kind::Text,
        "common_cause, improvement_high, improvement_low, concern_high or concern_low",
        "Making Data Count's variation icon of the series' latest point.",
    ),
    col(
        "spc",
        "assurance_icon",
        Kind::Text,
        "consistent_pass, consistent_fail or inconsistent",
        "Making Data Count's assurance icon: the trust's latest target outside the limits on the good side (consistent_pass), on the bad side (consistent_fail), or inside them (inconsistent); empty without a target or limits.",
    ),
    col(
        "spc_groups",
        "peer_group",
        Kind::Text,
        "text",
        "The peer group (trust type) whose median is charted (docs/RULES.md §4.9).",
    ),
    col("spc_groups", "metric_id", Kind::Text, "id", "The metric."),
    col("spc_groups", "period", Kind::Text, "YYYY-Qn", "The quarter of the point."),
    col("spc_groups", "value", Kind::Float, "the metric's unit", "The peer group's median value in the quarter."),
    col("spc_groups", "mean", Kind::Float, "the metric's unit", "The centre line: the mean of the series."),
    col(
        "spc_groups",
        "lower_limit",
        Kind::Float,
        "the metric's unit",
        "mean − 2.66 × the mean moving range, moving ranges of 3.267 × their mean or more left out (NHSRplotthedots' outlier screening); empty with fewer than 12 points (a run chart).",
    ),
    col(
        "spc_groups",
        "upper_limit",
        Kind::Float,
        "the metric's unit",
        "mean + 2.66 × the mean moving range; empty with fewer than 12 points.",
    ),
    col(
        "spc_groups",
        "special_cause",
        Kind::Text,
        "outside_limits, trend, two_in_three, shift or none",
        "The highest-precedence rule the point is part of: a point outside the limits; seven in a row rising or falling; two of three beyond two-thirds of the way to a limit on one side; seven in a row on one side of the mean.",
    ),
    col(
        "spc_groups",
        "point_type",
        Kind::Text,
        "common_cause, special_cause_improvement or special_cause_concern",
        "The point's special cause read by the metric's direction.",
    ),
    col(
        "spc_groups",
        "variation_icon",
        Kind::Text,
        "common_cause, improvement_high, improvement_low, concern_high or concern_low",
        "Making Data Count's variation icon of the series' latest point.",
    ),
    col("spc_groups", "assurance_icon", Kind::Text, "empty", "Empty: peer groups have no targets."),
    col("completeness", "period", Kind::Text, "YYYY-Qn", "The quarter collected (docs/RULES.md §3.7)."),
    col("completeness", "org_code", Kind::Text, "ODS code", "The trust."),
    col("completeness", "org_name", Kind::Text, "text", "The trust's name."),
    col("completeness", "trust_type", Kind::Text, "text", "The trust's type, its peer group."),
    col("completeness", "region", Kind::Text, "text", "The NHS England region the trust belongs to."),
    col(
        "completeness",
        "status",
        Kind::Text,
        "not_started, submitted or signed_off",
        "not_started: no values for the quarter; submitted: values not signed off, or changed since the trust signed them off; signed_off: the trust has signed off its values as they stand.",
    ),
    col(
        "completeness",
        "window_closes_at",
        Kind::Text,
        "UTC timestamp",
        "When the quarter's collection window closes; empty when no window was opened.",
    ),
    col(
        "completeness",
        "window_closed",
        Kind::Bool,
        "true or false",
        "Whether the window is closed now (past its closing time, or closed by an administrator); empty when no window was opened.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn columns_of(export: &str) -> impl Iterator<Item = &'static Column> + '_ {
        DICTIONARY.iter().filter(move |c| c.export == export)
    }

    fn header(name: &str) -> Vec<String> {
        let figures = crate::figures::Figures::new(
            0,
            String::new(),
            crate::ingest::reference::bundled().unwrap(),
            Vec::new(),
            crate::analytics::Tables::default(),
        );
        let mut buf = Vec::new();
        assert!(
            super::super::write_export(
                name,
                &figures,
                &super::super::Records::default(),
                &super::super::Filter::default(),
                super::super::Out::csv(&mut buf)
            )
            .unwrap(),
            "{name} is listed in EXPORTS but not written"
        );
        let text = String::from_utf8(buf).unwrap();
        let first = text.lines().next().unwrap_or_default();
        first.split(',').map(str::to_string).collect()
    }

    #[test]
    fn every_exported_column_has_a_dictionary_entry_in_order() {
        for (name, _) in super::super::EXPORTS {
            let described: Vec<&str> = columns_of(name).map(|c| c.name).collect();
            assert!(!described.is_empty(), "{name} has no dictionary entries");
            assert_eq!(described, header(name), "dictionary columns of {name}.csv");
        }
        for c in DICTIONARY {
            assert!(
                super::super::EXPORTS.iter().any(|(name, _)| *name == c.export),
                "{}.{} describes an export that does not exist",
                c.export,
                c.name
            );
            assert!(!c.unit.is_empty() && !c.meaning.is_empty(), "{}.{} needs a unit and a meaning", c.export, c.name);
        }
    }

    #[test]
    fn a_column_name_has_one_kind_in_every_export() {
        for c in DICTIONARY {
            let first = DICTIONARY.iter().find(|d| d.name == c.name).unwrap();
            assert_eq!(c.kind, first.kind, "{}.{} and {}.{}", c.export, c.name, first.export, first.name);
        }
        let kind = |export: &str, name: &str| columns(export).into_iter().find(|c| c.name == name).unwrap().kind;
        assert_eq!(kind("benchmarks", "median"), Kind::Float);
        assert_eq!(kind("trust_benchmarks", "rank"), Kind::Int);
        assert_eq!(kind("trust_benchmarks", "behind_best_practice"), Kind::Bool);
        assert_eq!(kind("values", "org_code"), Kind::Text);
    }

    #[test]
    fn the_dictionary_lists_exports_in_the_order_of_the_exports_page() {
        let mut order: Vec<&str> = DICTIONARY.iter().map(|c| c.export).collect();
        order.dedup();
        let exports: Vec<&str> = super::super::EXPORTS.iter().map(|(name, _)| *name).collect();
        assert_eq!(order, exports);
    }
}
