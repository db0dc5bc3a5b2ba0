//! Between typed rows and polars frames.
//!
//! Inside the pipeline an organisation, metric, trust type or domain is its position in the
//! reference data (an `i32`), not its text: joins and group-bys on small integers are several
//! times faster than on strings, and a value takes 20 bytes instead of carrying two strings.
//! The codes become text again only when frames become typed rows.

use super::tables::Text;
use crate::domain::CurrentValue;
use crate::domain::Quarter;
use crate::domain::{Reference, TrustType};
use polars::prelude::*;

/// The domain code of the maturity index rows (`domain = all`).
pub const ALL_DOMAINS: i32 = -1;

fn position(i: usize) -> i32 {
    i32::try_from(i).expect("fewer than 2^31 reference rows")
}

fn type_code(t: TrustType) -> i32 {
    position(TrustType::ALL.iter().position(|x| *x == t).unwrap_or_default())
}

fn domain_code(reference: &Reference, domain: &str) -> i32 {
    reference.domains.iter().position(|d| d.domain_id == domain).map_or(ALL_DOMAINS, position)
}

/// Builds the values frame row by row (`org_code, metric_id, period_index, value`, coded);
/// values of organisations or metrics the reference does not know are left out.
#[derive(Default)]
pub struct ValuesBuilder {
    orgs: Vec<i32>,
    metrics: Vec<i32>,
    periods: Vec<i32>,
    values: Vec<f64>,
    /// Each value's decimal places (`exact::each_places`), where every value came with them.
    places: Vec<u8>,
}

impl ValuesBuilder {
    pub fn push(&mut self, reference: &Reference, org_code: &str, metric_id: &str, period: Quarter, value: f64) {
        if let (Some(o), Some(m)) = (reference.org_position(org_code), reference.metric_position(metric_id)) {
            self.orgs.push(position(o));
            self.metrics.push(position(m));
            self.periods.push(period.index());
            self.values.push(value);
        }
    }

    /// A builder with room for `n` values (with their places).
    pub fn with_capacity(n: usize) -> Self {
        let v = || Vec::with_capacity(n);
        ValuesBuilder {
            orgs: v(),
            metrics: v(),
            periods: v(),
            values: Vec::with_capacity(n),
            places: Vec::with_capacity(n),
        }
    }

    /// A value of the organisation and metric at these positions in the reference.
    pub fn push_coded(&mut self, org: u32, metric: u32, period: Quarter, value: f64) {
        self.orgs.push(position(org as usize));
        self.metrics.push(position(metric as usize));
        self.periods.push(period.index());
        self.values.push(value);
    }

    /// `push_coded` with the value's decimal places (`exact::each_places`), which the
    /// computation then need not count again: a refresh keeps them with its quarter's values.
    pub fn push_counted(&mut self, org: u32, metric: u32, period: Quarter, value: f64, places: u8) {
        self.push_coded(org, metric, period, value);
        self.places.push(places);
    }

    /// Adds `other`'s values after these.
    pub fn append(&mut self, mut other: ValuesBuilder) {
        self.orgs.append(&mut other.orgs);
        self.metrics.append(&mut other.metrics);
        self.periods.append(&mut other.periods);
        self.values.append(&mut other.values);
        self.places.append(&mut other.places);
    }

    /// The values, in the canonical order of `Values`.
    pub fn finish(self) -> PolarsResult<Values> {
        let counted = !self.values.is_empty() && self.places.len() == self.values.len();
        if self.in_order() {
            return Ok(Values {
                frame: df!(
                    "org_code" => self.orgs,
                    "metric_id" => self.metrics,
                    "period_index" => self.periods,
                    "value" => self.values,
                )?,
                places: counted.then_some(self.places),
            });
        }
        let order = self.by_buckets().unwrap_or_else(|| self.by_keys());
        let gather = |column: &[i32]| order.iter().map(|&i| column[i as usize]).collect::<Vec<_>>();
        let values: Vec<f64> = order.iter().map(|&i| self.values[i as usize]).collect();
        let places = counted.then(|| order.iter().map(|&i| self.places[i as usize]).collect());
        Ok(Values {
            frame: df!(
                "org_code" => gather(&self.orgs),
                "metric_id" => gather(&self.metrics),
                "period_index" => gather(&self.periods),
                "value" => values,
            )?,
            places,
        })
    }

    /// Whether the rows came in the canonical order already (as a refresh pushes them).
    fn in_order(&self) -> bool {
        let key = |i: usize| (self.periods[i], self.metrics[i], self.orgs[i]);
        (1..self.values.len()).all(|i| key(i - 1) <= key(i))
    }

    /// The rows' order by a sort on one packed key (quarter, metric, organisation, then the row
    /// number, which keeps equal keys in the order they came; none come from the store).
    fn by_keys(&self) -> Vec<u32> {
        use rayon::prelude::*;
        let packed = |i: usize| (packed(self.periods[i], self.metrics[i], self.orgs[i]), i as u32);
        // In parallel only for a large frame: a refresh's quarter of values sorts faster on the
        // calling thread than with a pool to wake.
        let mut order: Vec<(u64, u32)>;
        if self.values.len() < 1 << 20 {
            order = (0..self.values.len()).map(packed).collect();
            order.sort_unstable();
        } else {
            order = (0..self.values.len()).into_par_iter().map(packed).collect();
            order.par_sort_unstable();
        }
        order.into_iter().map(|(_, i)| i).collect()
    }

    /// The same order as `by_keys`, for a large frame, by counting: one bucket per quarter and
    /// metric (a file has a few thousand), each row put in its bucket in the order it came, then
    /// each bucket in organisation order — which it already is when the file lists each
    /// quarter's organisations in the reference's order, as the exports and the demo files do.
    /// Two passes over the rows instead of a sort of them all. `None` for a small frame, or one
    /// with more buckets than rows or a position outside the packed key's fields.
    fn by_buckets(&self) -> Option<Vec<u32>> {
        let n = self.values.len();
        let in_field = |c: &[i32]| c.iter().all(|&x| in_key(x));
        if n < 1 << 20 || !in_field(&self.periods) || !in_field(&self.metrics) || !in_field(&self.orgs) {
            return None;
        }
        let first = *self.periods.iter().min()?;
        let width = *self.metrics.iter().max()? as usize + 1;
        let buckets = (*self.periods.iter().max()? - first) as usize * width + width;
        if buckets > n {
            return None;
        }
        let bucket = |i: usize| (self.periods[i] - first) as usize * width + self.metrics[i] as usize;
        let mut starts = vec![0usize; buckets + 1];
        for i in 0..n {
            starts[bucket(i) + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; n];
        for i in 0..n {
            let b = bucket(i);
            order[next[b]] = i as u32;
            next[b] += 1;
        }
        let orgs = &self.orgs;
        for b in 0..buckets {
            let rows = &mut order[starts[b]..starts[b + 1]];
            if !rows.windows(2).all(|w| orgs[w[0] as usize] < orgs[w[1] as usize]) {
                rows.sort_unstable_by_key(|&i| (orgs[i as usize], i));
            }
        }
        Some(order)
    }
}

/// Positions and quarters below 2^21 (two million organisations or metrics) fit the packed
/// sort key, three to a `u64`.
fn in_key(x: i32) -> bool {
    (0..1 << 21).contains(&x)
}

fn packed(period: i32, metric: i32, org: i32) -> u64 {
    let field = |x: i32| u64::from(x.max(0) as u32 & 0x1f_ffff);
    field(period) << 42 | field(metric) << 21 | field(org)
}

/// The values frame (`org_code, metric_id, period_index, value`, coded) in a canonical order:
/// by quarter, then metric, then organisation. Sums (means) then add up in the same order
/// whatever order the values came in, so that a refresh equals a full recompute to the last bit.
#[derive(Debug, Clone)]
pub struct Values {
    frame: DataFrame,
    /// Each row's decimal places, where the builder was given them (`push_counted`).
    places: Option<Vec<u8>>,
}

impl Values {
    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }

    pub fn height(&self) -> usize {
        self.frame.height()
    }

    /// Each row's decimal places (`exact::each_places`): as given, or counted now.
    pub fn places(&self) -> PolarsResult<std::borrow::Cow<'_, [u8]>> {
        Ok(match &self.places {
            Some(places) => std::borrow::Cow::Borrowed(places),
            None => {
                std::borrow::Cow::Owned(super::exact::each_places(&numbers(self.frame.column("value")?.f64()?, 0.0)))
            }
        })
    }
}

/// The values frame of current values.
pub fn values_frame(reference: &Reference, values: &[CurrentValue]) -> PolarsResult<Values> {
    let mut builder = ValuesBuilder::default();
    for v in values {
        builder.push(reference, &v.org_code, &v.metric_id, v.period, v.value);
    }
    builder.finish()
}

/// `org_code, trust_type, is_exemplar`.
pub fn organisations_frame(reference: &Reference) -> PolarsResult<DataFrame> {
    let orgs = &reference.organisations;
    df!(
        "org_code" => (0..orgs.len()).map(position).collect::<Vec<_>>(),
        "trust_type" => orgs.iter().map(|o| type_code(o.trust_type)).collect::<Vec<_>>(),
        "is_exemplar" => orgs.iter().map(|o| o.exemplar.is_exemplar()).collect::<Vec<_>>(),
    )
}

/// `metric_id, domain, scale_min, scale_max, d` where `d` is +1 or −1 by direction.
pub fn metrics_frame(reference: &Reference) -> PolarsResult<DataFrame> {
    let m = &reference.metrics;
    df!(
        "metric_id" => (0..m.len()).map(position).collect::<Vec<_>>(),
        "domain" => m.iter().map(|m| domain_code(reference, &m.domain)).collect::<Vec<_>>(),
        "scale_min" => m.iter().map(|m| m.scale_min).collect::<Vec<_>>(),
        "scale_max" => m.iter().map(|m| m.scale_max).collect::<Vec<_>>(),
        "d" => m.iter().map(|m| m.direction.sign()).collect::<Vec<_>>(),
    )
}

/// `trust_type, domain, n_applicable`: how many metrics of each domain apply to each type.
pub fn applicable_frame(reference: &Reference) -> PolarsResult<DataFrame> {
    let (mut types, mut domains, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    for t in TrustType::ALL {
        for d in &reference.domains {
            let n = reference.applicable_in_domain(*t, &d.domain_id).count() as i64;
            if n > 0 {
                types.push(type_code(*t));
                domains.push(domain_code(reference, &d.domain_id));
                counts.push(n);
            }
        }
    }
    df!("trust_type" => types, "domain" => domains, "n_applicable" => counts)
}

/// A column's numbers, `missing` for a null: copied chunk by chunk where there is none.
pub(super) fn numbers<T: PolarsNumericType>(ca: &ChunkedArray<T>, missing: T::Native) -> Vec<T::Native> {
    if ca.null_count() > 0 {
        return ca.iter().map(|v| v.unwrap_or(missing)).collect();
    }
    let mut out = Vec::with_capacity(ca.len());
    for chunk in ca.downcast_iter() {
        out.extend_from_slice(chunk.values().as_slice());
    }
    out
}

/// Reads typed columns out of a collected frame, turning codes back into text.
pub struct Reader<'a>(pub &'a DataFrame, pub &'a Reference);

/// A column of codes, made text row by row: each row takes one shared copy.
pub struct Coded<'a> {
    codes: Vec<i32>,
    text: Box<dyn Fn(i32) -> Text + 'a>,
}

impl Coded<'_> {
    pub fn at(&self, row: usize) -> Text {
        (self.text)(self.codes[row])
    }

    pub fn code(&self, row: usize) -> i32 {
        self.codes[row]
    }
}

impl<'a> Reader<'a> {
    fn coded(&self, name: &str, text: impl Fn(i32) -> Text + 'a) -> PolarsResult<Coded<'a>> {
        Ok(Coded { codes: self.i32(name)?, text: Box::new(text) })
    }

    pub fn org(&self, name: &str) -> PolarsResult<Coded<'a>> {
        let r = self.1;
        self.coded(name, move |c| r.org_text(c as usize))
    }

    pub fn metric(&self, name: &str) -> PolarsResult<Coded<'a>> {
        let r = self.1;
        self.coded(name, move |c| r.metric_text(c as usize))
    }

    pub fn trust_type(&self, name: &str) -> PolarsResult<Coded<'a>> {
        let r = self.1;
        self.coded(name, move |c| r.type_text(c as usize))
    }

    pub fn domain(&self, name: &str) -> PolarsResult<Coded<'a>> {
        let r = self.1;
        self.coded(name, move |c| if c == ALL_DOMAINS { r.word("all") } else { r.domain_text(c as usize) })
    }

    pub fn opt_f64(&self, name: &str) -> PolarsResult<Vec<Option<f64>>> {
        let col = self.0.column(name)?.cast(&DataType::Float64)?;
        Ok(col.f64()?.iter().collect())
    }

    pub fn f64(&self, name: &str) -> PolarsResult<Vec<f64>> {
        let col = self.0.column(name)?.cast(&DataType::Float64)?;
        Ok(numbers(col.f64()?, f64::NAN))
    }

    pub fn i64(&self, name: &str) -> PolarsResult<Vec<i64>> {
        let col = self.0.column(name)?.cast(&DataType::Int64)?;
        Ok(numbers(col.i64()?, 0))
    }

    pub fn i32(&self, name: &str) -> PolarsResult<Vec<i32>> {
        let col = self.0.column(name)?.cast(&DataType::Int32)?;
        Ok(numbers(col.i32()?, 0))
    }

    pub fn opt_bool(&self, name: &str) -> PolarsResult<Vec<Option<bool>>> {
        let col = self.0.column(name)?.cast(&DataType::Boolean)?;
        Ok(col.bool()?.iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large frame's order by counting is its order by sorting: rows in the reference's
    /// order, rows out of it, and repeated keys (kept in the order they came).
    #[test]
    fn counting_orders_rows_as_sorting_does() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below) as i32
        };
        let mut builder = ValuesBuilder::default();
        let n = (1 << 20) + 4096;
        for i in 0..n {
            // Mostly organisation after organisation in order, with some out of order and repeats.
            let org = if i % 97 == 0 { next(3000) } else { (i / 40 % 3000) as i32 };
            builder.orgs.push(org);
            builder.metrics.push(next(40));
            builder.periods.push(8000 + next(12));
            builder.values.push(i as f64);
        }
        let counted = builder.by_buckets().expect("a large frame is ordered by counting");
        assert_eq!(counted, builder.by_keys());
        let in_order = counted.windows(2).filter(|w| w[0] < w[1]).count();
        assert!(in_order > 0 && in_order < n - 1, "the rows moved");
    }
}
