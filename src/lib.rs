//! Exemplar: how digitally mature NHS trusts in England are, how far each is behind the
//! exemplar trusts, and which IT systems meet the mandated open standards.

/// Benchmarks with polars: peer statistics, positions, indices, trends and gaps.
pub mod analytics;
/// The application: state, router and server.
pub mod app;
/// Sign-in, sessions, API tokens and who may use which route.
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
/// Deterministic demo submissions.
pub mod demo;
/// Validated domain types.
pub mod domain;
/// The application's error type and its HTTP mapping.
pub mod error;
/// CSV exports.
pub mod export;
/// The figures of one data version, shared by pages and exports.
pub mod figures;
/// Parsing submissions and reference files.
pub mod ingest;
/// The database.
pub mod store;
/// Submitting values: validate, then store all or nothing.
pub mod submit;
/// HTTP routes and pages.
pub mod web;
