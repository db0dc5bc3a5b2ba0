//! Validated domain types; no HTTP, no SQL.

pub mod catalogue;
pub mod ids;
pub mod quarter;
pub mod reference;
pub mod value;

pub use catalogue::Reference;
pub use ids::{MetricId, OdsCode};
pub use quarter::Quarter;
pub use reference::*;
