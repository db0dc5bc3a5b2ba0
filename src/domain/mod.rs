//! Validated domain types; no HTTP, no SQL.

pub mod actor;
pub mod catalogue;
pub mod filters;
pub mod geography;
pub mod ids;
pub mod quarter;
pub mod reference;
pub mod rows;
pub mod uptake;
pub mod value;

pub use actor::{Actor, Channel, TokenScopes};
pub use catalogue::Reference;
pub use filters::{Filter, Filters};
pub use geography::{Icb, icb, icbs};
pub use ids::{MetricId, OdsCode};
pub use quarter::Quarter;
pub use reference::*;
pub use rows::{ConformanceRow, Counts, CurrentValue, ErrorKind, Errors, MetricRow, RowError, SubmissionStatus, Text};
