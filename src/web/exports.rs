//! The exports page and the CSV and Parquet downloads of docs/RULES.md §7.

use super::render;
use super::view::Params;
use crate::auth::{Auth, Shown};
use crate::domain::filters::Edition;
use crate::export::{Column, EXPORTS, Format, Out, Provenance, Status, write_export};
use crate::figures::Figures;
use crate::store::Cut;
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::Extension;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/export", get(index)).route("/export/{file}", get(download))
}

#[derive(Template)]
#[template(path = "exports.html")]
pub struct ExportsPage {
    pub exports: Vec<(&'static str, &'static str)>,
    /// The data dictionary: each export's name and description with its columns, in order.
    pub dictionary: Vec<(&'static str, &'static str, Vec<&'static Column>)>,
    pub data_version: i64,
    /// The filter form's choices, and the query the download links carry (`?…`, or empty).
    pub periods: Vec<super::view::Choice>,
    pub types: Vec<super::view::Choice>,
    pub regions: Vec<super::view::Choice>,
    pub icbs: Vec<super::view::Choice>,
    pub latest_chosen: bool,
    pub query: String,
    /// The values of `app_uptake`'s `measure`, listed under its columns.
    pub app_measures: &'static [crate::domain::uptake::Measure],
}

impl ExportsPage {
    pub fn new(data_version: i64) -> Self {
        let dictionary = EXPORTS
            .iter()
            .map(|&(name, description)| {
                (name, description, crate::export::columns(name).into_iter().collect::<Vec<_>>())
            })
            .collect();
        Self {
            exports: EXPORTS.to_vec(),
            dictionary,
            data_version,
            periods: Vec::new(),
            types: Vec::new(),
            regions: Vec::new(),
            icbs: Vec::new(),
            latest_chosen: false,
            query: String::new(),
            app_measures: crate::domain::uptake::measures(),
        }
    }
}

/// The exports page; its filter form (quarter, `latest` among them, trust type, region and ICB)
/// builds the download links, so that nobody has to know how a quarter is written.
async fn index(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Params(q): Params,
) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    let latest_chosen = q.period.as_deref().is_some_and(|p| p.trim().eq_ignore_ascii_case("latest"));
    let period =
        if latest_chosen { None } else { q.quarter(f.latest_period(), false).map_err(AppError::BadRequest)? };
    let (peer, region, icb) = (q.peer_group()?, q.region()?, q.icb()?);
    let mut page = ExportsPage::new(state.figures().data_version);
    page.periods = super::view::period_choices(&f, period);
    page.types = super::view::type_choices(peer);
    page.regions = super::view::region_choices(region.as_deref());
    page.icbs = super::view::icb_choices(icb.as_deref());
    page.latest_chosen = latest_chosen;
    page.query = super::view::query_string(&[
        ("period", if latest_chosen { Some("latest".into()) } else { period.map(|p| p.to_string()) }),
        ("peer_group", peer.map(|p| p.as_str().to_string())),
        ("region", region),
        ("icb", icb),
        ("release", q.release.clone()),
    ]);
    render(&auth, &page)
}

async fn download(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(file): Path<String>,
    Params(filters): Params,
) -> Result<Response> {
    let (name, format) = Format::of_file(&file)
        .map(|(name, format)| (name.to_string(), format))
        .ok_or_else(|| AppError::NotFound(format!("There is no export '{file}'.")))?;
    let edition = filters.edition().map_err(AppError::BadRequest)?;
    let (f, provenance) = edition_figures(&state, &auth, &edition).await?;
    let mut filter = filters.parse(&f.reference, f.latest_period()).map_err(AppError::BadRequest)?;
    resolve_group(&state, &auth, &mut filter).await?;
    let file_name = provenance.file_name(&name, format.extension());
    let metadata = provenance.metadata(&name);
    let stored = stored_records(&state, &auth, &f, &name, &filter).await?;
    let (found, body) = super::blocking(move || {
        let mut body = Vec::new();
        let out = Out::new(&mut body, format).with_metadata(metadata);
        let found = write_export(&name, &f, &stored.records(), &filter, out)?;
        Ok((found, body))
    })
    .await?;
    if !found {
        return Err(AppError::NotFound(format!("There is no export '{file}'.")));
    }
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
            (header::HeaderName::from_static("x-data-version"), provenance.data_version.to_string()),
            (header::HeaderName::from_static("x-exemplar-status"), status_word(&provenance).to_string()),
            (header::HeaderName::from_static("x-exemplar-synthetic"), provenance.synthetic.to_string()),
        ],
        body,
    )
        .into_response())
}

/// The records export `name` reads from the store; for `app_uptake`, the uptake figures the
/// server keeps for the data version rather than computed again for each download or page.
pub(super) async fn stored_records(
    state: &AppState,
    auth: &Auth,
    f: &Figures,
    name: &str,
    filter: &crate::export::Filter,
) -> Result<crate::export::Stored> {
    let viewer = auth.user.as_ref().map(|u| u.id);
    if crate::export::reads_uptake(name) {
        let kept = crate::export::Stored::load(&state.store, f, "", filter, viewer).await?;
        return Ok(kept.with_uptake(state.uptake().await?));
    }
    Ok(crate::export::Stored::load(&state.store, f, name, filter, viewer).await?)
}

/// Reads the saved peer group the filter chooses (one the reader may see, or a 404) and keeps
/// its trusts in the filter; returns it, for what depends on its members.
pub(super) async fn resolve_group(
    state: &AppState,
    auth: &Auth,
    filter: &mut crate::export::Filter,
) -> Result<Option<crate::store::PeerGroup>> {
    crate::export::resolve_group(&state.store, filter, auth.user.as_ref().map(|u| u.id))
        .await?
        .map_err(AppError::NotFound)
}

/// The figures an export or the API answers from, with their provenance: `as_of`'s moment (the
/// board, analysts and administrators only), the release `auth.shown` names, or the figures the
/// reader is shown by default.
pub(super) async fn edition_figures(
    state: &AppState,
    auth: &Auth,
    edition: &Edition,
) -> Result<(std::sync::Arc<Figures>, Provenance)> {
    // `release` is in `auth.shown` already (the access layer found it); without one, the
    // figures the reader is shown: a trust's users and visitors see the newest release.
    Ok(match (edition, &auth.shown) {
        (Edition::AsOf(moment), Shown::Provisional) => {
            let moment = moment.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let f = Figures::at(&state.store, Cut::Moment(moment.clone()), moment.clone()).await?;
            let p = Provenance::as_of(&f, &moment);
            (f, p)
        }
        (Edition::AsOf(_), _) => {
            return Err(AppError::Forbidden(
                "as_of shows figures that may never have been published: the board, analysts and administrators \
                 can ask for it; a trust's users download published releases (release=ID)."
                    .into(),
            ));
        }
        (_, Shown::Provisional) => {
            let f = state.figures();
            let p = Provenance::of(&f);
            (f, p)
        }
        (_, Shown::Release(release)) => {
            let f = state.release_figures(release).await?;
            let p = Provenance::published(&f, release);
            (f, p)
        }
        (_, Shown::Unpublished) => {
            let f = state.shown_figures(&Shown::Unpublished).await?;
            let p = Provenance::unpublished(&f);
            (f, p)
        }
    })
}

pub(super) fn status_word(p: &Provenance) -> &'static str {
    match p.status {
        Status::Provisional => "provisional",
        Status::Published { .. } => "published",
        Status::AsOf(_) => "as_of",
        Status::Unpublished => "unpublished",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exports_page_links_every_dataset_to_its_data_dictionary_section() {
        let html = ExportsPage::new(7).render().unwrap();
        let dictionary = html.find("<h2 id=\"data-dictionary\">Data dictionary</h2>").expect("a dictionary heading");
        for (name, _) in EXPORTS {
            let link = html.find(&format!("href=\"#dict-{name}\"")).unwrap_or_else(|| panic!("no link to {name}"));
            let section =
                html.find(&format!("<h3 id=\"dict-{name}\">{name}.csv</h3>")).unwrap_or_else(|| panic!("no {name}"));
            assert!(link < dictionary && dictionary < section, "{name}: link, then the h2, then its h3");
            for c in crate::export::columns(name).into_iter() {
                assert!(html[section..].contains(&format!("<td><code>{}</code></td>", c.name)), "{name}.{}", c.name);
            }
        }
        assert!(!html.contains("<h4") && html.matches("<h1").count() == 1, "headings go h1, h2, h3");
    }
}
