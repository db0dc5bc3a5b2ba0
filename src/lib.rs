//! Exemplar: how digitally mature NHS trusts in England are, how far each is behind the
//! exemplar trusts, and which IT systems meet the mandated open standards.

/// Benchmarks with polars: peer statistics, positions, indices, trends and gaps.
pub mod analytics;
/// The application: start-up and the server.
pub mod app;
/// Password hashing, sessions and API tokens.
pub mod auth;
/// `exemplar bench`: the benchmark recompute at any scale, timed, for comparison with DuckDB.
pub mod bench;
/// SVG charts drawn with plotters.
pub mod charts;
/// The command line.
pub mod cli;
/// Configuration from flags and the environment.
pub mod config;
/// Conformance and procurement rules.
pub mod conformance;
/// Deterministic demo submissions, and filling a new database with them.
pub mod demo;
/// Validated domain types.
pub mod domain;
/// Exports as CSV and Parquet, with their data dictionary.
pub mod export;
/// The figures of one data version, shared by pages and exports.
pub mod figures;
/// Parsing submissions and reference files.
pub mod ingest;
/// The database.
/// Publishing releases: frozen figures with their changes.
pub mod publish;
pub mod store;
/// The one submission pipeline: validate a whole file of any kind, then store it all or nothing.
pub mod submit;
/// HTTP: routes, pages, access by role, the shared state and errors by audience.
pub mod web;
