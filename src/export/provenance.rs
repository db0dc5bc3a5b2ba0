//! What a download or a page says about the figures it holds: provisional or published, which
//! data version, when computed, and whether they are synthetic demonstration figures — in the
//! file's name, in Parquet's key-value metadata, in response headers and in words on pages.

use crate::figures::Figures;

/// Which figures: the provisional ones, a published release, or those of a moment.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Provisional,
    Published {
        release: String,
        published_at: String,
    },
    AsOf(String),
    /// Nothing published yet, for a reader who sees published figures only: empty.
    Unpublished,
}

/// The provenance of figures shown or downloaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// The data version: the id of the latest accepted submission the figures include.
    pub data_version: i64,
    pub computed_at: String,
    /// Demonstration values beside real trust names, not NHS data.
    pub synthetic: bool,
    pub status: Status,
}

/// The licence of the reference data every export carries.
pub const REFERENCE_LICENCE: &str = "Reference data: NHS England, Open Government Licence v3.0";

impl Provenance {
    /// The figures of `edition` read from the store, with their provenance: the provisional
    /// figures, a release's (as frozen at its data version) or those of a moment.
    pub async fn figures(
        store: &crate::store::Store,
        edition: &crate::domain::filters::Edition,
    ) -> anyhow::Result<(std::sync::Arc<Figures>, Self)> {
        use crate::domain::filters::Edition;
        use crate::store::Cut;
        Ok(match edition {
            Edition::Provisional => {
                let f = Figures::load(store).await?;
                let p = Self::of(&f);
                (f, p)
            }
            Edition::Release(id) => {
                let release = crate::publish::find(store, id).await.map_err(anyhow::Error::msg)?;
                let f = Figures::at(store, Cut::Version(release.data_version), release.published_at.clone()).await?;
                let p = Self::published(&f, &release);
                (f, p)
            }
            Edition::AsOf(moment) => {
                let moment = moment.format("%Y-%m-%dT%H:%M:%SZ").to_string();
                let f = Figures::at(store, Cut::Moment(moment.clone()), moment.clone()).await?;
                let p = Self::as_of(&f, &moment);
                (f, p)
            }
        })
    }

    /// The provisional figures `f`.
    pub fn of(f: &Figures) -> Self {
        Self {
            data_version: f.data_version,
            computed_at: f.computed_at.clone(),
            synthetic: f.synthetic,
            status: Status::Provisional,
        }
    }

    /// A release's figures.
    pub fn published(f: &Figures, release: &crate::store::Release) -> Self {
        let status = Status::Published { release: release.id.clone(), published_at: release.published_at.clone() };
        Self { status, ..Self::of(f) }
    }

    /// No figures: nothing is published yet.
    pub fn unpublished(f: &Figures) -> Self {
        Self { status: Status::Unpublished, ..Self::of(f) }
    }

    /// The figures as they stood at `moment`.
    pub fn as_of(f: &Figures, moment: &str) -> Self {
        Self { status: Status::AsOf(moment.to_string()), ..Self::of(f) }
    }

    /// `trust_benchmarks_provisional_v16.csv`, `trust_benchmarks_2026-Q3.1.csv` or
    /// `trust_benchmarks_as_of_20261001T120000Z.csv`, with `_synthetic` before the extension
    /// for demo figures.
    pub fn file_name(&self, dataset: &str, extension: &str) -> String {
        let synthetic = if self.synthetic { "_synthetic" } else { "" };
        let what = match &self.status {
            Status::Provisional => format!("provisional_v{}", self.data_version),
            Status::Published { release, .. } => release.clone(),
            Status::AsOf(moment) => format!("as_of_{}", moment.replace(['-', ':'], "")),
            Status::Unpublished => "unpublished".into(),
        };
        format!("{dataset}_{what}{synthetic}.{extension}")
    }

    /// Key-value metadata for a Parquet file of `dataset`.
    pub fn metadata(&self, dataset: &str) -> Vec<(String, String)> {
        let status = match &self.status {
            Status::Provisional => "provisional",
            Status::Published { .. } => "published",
            Status::AsOf(_) => "as_of",
            Status::Unpublished => "unpublished",
        };
        let mut pairs = vec![
            ("dataset", dataset.to_string()),
            ("status", status.to_string()),
            ("data_version", self.data_version.to_string()),
            ("computed_at", self.computed_at.clone()),
            ("synthetic", self.synthetic.to_string()),
            ("licence", REFERENCE_LICENCE.to_string()),
        ];
        match &self.status {
            Status::Published { release, published_at } => {
                pairs.push(("release", release.clone()));
                pairs.push(("published_at", published_at.clone()));
            }
            Status::AsOf(moment) => pairs.push(("as_of", moment.clone())),
            Status::Unpublished => pairs.push(("note", UNPUBLISHED.to_string())),
            Status::Provisional => {}
        }
        if matches!(self.status, Status::AsOf(_)) && self.data_version == 0 {
            pairs.push(("note", "No submission had been accepted by then: the export is empty.".to_string()));
        }
        if self.synthetic {
            pairs.push(("synthetic_note", SYNTHETIC_NOTE.to_string()));
        }
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// In words, for a page: "Provisional figures, not yet published: they include every
    /// submission up to number 16, computed on 4 December 2026 at 14:02 UTC."
    pub fn words(&self) -> String {
        let when = |t: &str| {
            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%SZ")
                .map(|t| t.format("%-d %B %Y at %H:%M UTC").to_string())
                .unwrap_or_else(|_| t.to_string())
        };
        match &self.status {
            Status::Provisional => format!(
                "Provisional figures, not yet published: they include every submission up to number {}, computed on {}.",
                self.data_version,
                when(&self.computed_at)
            ),
            Status::Published { release, published_at } => {
                format!("Published on {}, release {release}.", when(published_at))
            }
            Status::AsOf(moment) => format!("The figures as they stood on {}.", when(moment)),
            Status::Unpublished => UNPUBLISHED.to_string(),
        }
    }
}

/// What a reader who sees published figures only is told before the first release.
pub const UNPUBLISHED: &str =
    "Nothing has been published yet: the figures appear here once the first release is published.";

/// What every page and export says about demonstration figures.
pub const SYNTHETIC_NOTE: &str =
    "Demonstration data: these figures are synthetic, invented beside real trust names. They are not NHS data.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_is_named_after_what_it_holds() {
        let p = Provenance {
            data_version: 16,
            computed_at: "2026-12-04T14:02:11Z".into(),
            synthetic: false,
            status: Status::Provisional,
        };
        assert_eq!(p.file_name("trust_benchmarks", "csv"), "trust_benchmarks_provisional_v16.csv");
        let demo = Provenance { synthetic: true, ..p.clone() };
        assert_eq!(demo.file_name("values", "parquet"), "values_provisional_v16_synthetic.parquet");
        assert!(p.words().contains("computed on 4 December 2026 at 14:02 UTC"), "{}", p.words());
        assert!(demo.metadata("values").iter().any(|(k, v)| k == "synthetic" && v == "true"));
        let release = Status::Published { release: "2026-Q3.1".into(), published_at: "2026-11-12T09:30:00Z".into() };
        let published = Provenance { status: release, ..p.clone() };
        assert_eq!(published.file_name("trust_benchmarks", "csv"), "trust_benchmarks_2026-Q3.1.csv");
        assert_eq!(published.words(), "Published on 12 November 2026 at 09:30 UTC, release 2026-Q3.1.");
        let then = Provenance { status: Status::AsOf("2026-10-01T12:00:00Z".into()), ..p };
        assert_eq!(then.file_name("values", "csv"), "values_as_of_20261001T120000Z.csv");
    }
}
