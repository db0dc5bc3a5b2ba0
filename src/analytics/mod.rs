//! Benchmarks with polars: peer distributions, ranks, quartiles, gaps, scores, domain and
//! maturity indices, trends and gap summaries, exactly as docs/RULES.md §4 defines them.
//! Frames in, typed tables out; pure and synchronous.

mod compute;
mod exact;
mod frames;
mod tables;

pub use compute::{Frames, Parts, affected_periods, compute, compute_frames, compute_parts, sort, window_periods};
pub use frames::{Values, ValuesBuilder, values_frame};
pub use tables::*;
