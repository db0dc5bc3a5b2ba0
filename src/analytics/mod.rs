//! Benchmarks with polars: peer distributions, ranks, quartiles, gaps, scores, domain and
//! maturity indices, trends and gap summaries, exactly as docs/RULES.md §4 defines them.
//! Frames in, typed tables out; pure and synchronous.

mod compute;
pub mod evaluation;
mod exact;
mod frames;
pub mod peers;
pub mod spc;
mod summaries;
mod tables;
pub mod uncertainty;
pub mod uptake;

/// The type-7 quantile of a sorted list (docs/RULES.md §4.1), for the index summaries and for a
/// subset a page filters by region or cohort; the peer statistics are polars'.
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// `values` sorted for `quantile`.
pub fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

pub use compute::{
    CodedPosition, Frames, Parts, Revision, affected_periods, compute, compute_frames, compute_group, compute_parts,
    compute_revision, national_median, peer_key, sort, window_periods,
};
pub use exact::{each_places, places_of_value};
pub use frames::{Values, ValuesBuilder, values_frame};
pub use summaries::{CodedIndex, coded_summaries};
pub use tables::*;

#[cfg(test)]
mod tests {
    #[test]
    fn short_list_quantiles_interpolate_linearly() {
        let v = super::sorted(vec![4.0, 1.0, 3.0, 2.0]);
        assert_eq!(super::quantile(&v, 0.25), Some(1.75));
        assert_eq!(super::quantile(&v, 0.5), Some(2.5));
        assert_eq!(super::quantile(&[], 0.5), None);
    }
}
