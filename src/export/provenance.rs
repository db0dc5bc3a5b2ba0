//! What a download or a page says about the figures it holds: provisional or published, which
//! data version, when computed, and whether they are synthetic demonstration figures — in the
//! file's name, in Parquet's key-value metadata, in response headers and in words on pages.

use crate::figures::Figures;

/// The provenance of figures shown or downloaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// The data version: the id of the latest accepted submission the figures include.
    pub data_version: i64,
    pub computed_at: String,
    /// Demonstration values beside real trust names, not NHS data.
    pub synthetic: bool,
}

/// The licence of the reference data every export carries.
pub const REFERENCE_LICENCE: &str = "Reference data: NHS England, Open Government Licence v3.0";

impl Provenance {
    pub fn of(f: &Figures) -> Self {
        Self { data_version: f.data_version, computed_at: f.computed_at.clone(), synthetic: f.synthetic }
    }

    /// `trust_benchmarks_provisional_v16.csv`, with `_synthetic` before the extension for demo figures.
    pub fn file_name(&self, dataset: &str, extension: &str) -> String {
        let synthetic = if self.synthetic { "_synthetic" } else { "" };
        format!("{dataset}_provisional_v{}{synthetic}.{extension}", self.data_version)
    }

    /// Key-value metadata for a Parquet file of `dataset`.
    pub fn metadata(&self, dataset: &str) -> Vec<(String, String)> {
        let mut pairs = vec![
            ("dataset", dataset.to_string()),
            ("status", "provisional".to_string()),
            ("data_version", self.data_version.to_string()),
            ("computed_at", self.computed_at.clone()),
            ("synthetic", self.synthetic.to_string()),
            ("licence", REFERENCE_LICENCE.to_string()),
        ];
        if self.synthetic {
            pairs.push(("note", SYNTHETIC_NOTE.to_string()));
        }
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// In words, for a page: "Provisional figures, not yet published: data version 16, computed
    /// on 4 December 2026 at 14:02 UTC."
    pub fn words(&self) -> String {
        let when = chrono::NaiveDateTime::parse_from_str(&self.computed_at, "%Y-%m-%dT%H:%M:%SZ")
            .map(|t| t.format("on %-d %B %Y at %H:%M UTC").to_string())
            .unwrap_or_default();
        format!(
            "Provisional figures, not yet published: they include every submission up to number {}, computed {when}.",
            self.data_version
        )
    }
}

/// What every page and export says about demonstration figures.
pub const SYNTHETIC_NOTE: &str =
    "Demonstration data: these figures are synthetic, invented beside real trust names. They are not NHS data.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_is_named_after_what_it_holds() {
        let p = Provenance { data_version: 16, computed_at: "2026-12-04T14:02:11Z".into(), synthetic: false };
        assert_eq!(p.file_name("trust_benchmarks", "csv"), "trust_benchmarks_provisional_v16.csv");
        let demo = Provenance { synthetic: true, ..p.clone() };
        assert_eq!(demo.file_name("values", "parquet"), "values_provisional_v16_synthetic.parquet");
        assert!(p.words().contains("computed on 4 December 2026 at 14:02 UTC"), "{}", p.words());
        assert!(demo.metadata("values").iter().any(|(k, v)| k == "synthetic" && v == "true"));
    }
}
