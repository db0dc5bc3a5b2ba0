//! Submissions and reference files in, validated domain rows out; every row error collected.
//! No HTTP and no SQL here.

pub mod columns;
pub mod conformance;
pub mod dspt;
pub mod fhir;
pub mod metrics;
pub mod organisations;
pub mod reference;
pub mod uptake;

pub use crate::domain::rows::{Errors, RowError};
