//! Saved peer groups (docs/RULES.md §10.6): any signed-in user names a set of trusts (chosen by
//! name, or starting from a trust's nearest neighbours), keeps it private or shares it, and
//! chooses it wherever a peer group is taken — the metric pages, the exports and the API —
//! with every benchmark computed for it.

use super::blueprints::FieldError;
use super::render;
use super::view::{Choice, num};
use crate::auth::Auth;
use crate::domain::Quarter;
use crate::figures::Figures;
use crate::store::{NewPeerGroup, PeerGroup};
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

/// The sizes a group may have.
pub const SMALLEST: usize = 2;
pub const LARGEST: usize = 50;
const LONGEST_NAME: usize = 80;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/peer-groups", get(list).post(add))
        .route("/peer-groups/{id}", get(detail).post(update))
        .route("/peer-groups/{id}/delete", post(delete))
}

fn user_id(auth: &Auth) -> Option<i64> {
    auth.user.as_ref().map(|u| u.id)
}

/// The saved groups the reader may see: their own and the shared ones, by name.
pub async fn visible(state: &AppState, auth: &Auth) -> Result<Vec<PeerGroup>> {
    let viewer = user_id(auth);
    Ok(state.peer_groups().await?.iter().filter(|g| g.visible_to(viewer)).cloned().collect())
}

/// The saved group the query chooses as `peer_group`, among `visible`; one the reader may not
/// see is answered as one that does not exist.
pub fn chosen(visible: &[PeerGroup], query: &super::view::PageQuery) -> Result<Option<PeerGroup>> {
    let Some(id) = query.saved_group() else { return Ok(None) };
    visible.iter().find(|g| g.id == id).cloned().map(Some).ok_or_else(|| {
        AppError::NotFound(format!("There is no saved peer group {} that you can see.", crate::store::group_key(id)))
    })
}

/// The trusts a list page keeps (`view::TrustScope`), where `peer_group` may name a saved
/// group the reader may see as well as a type.
pub async fn scope(state: &AppState, auth: &Auth, query: &super::view::PageQuery) -> Result<super::view::TrustScope> {
    if query.saved_group().is_none() {
        return super::view::TrustScope::of(query);
    }
    let group = chosen(&visible(state, auth).await?, query)?.map(|g| (g.key(), g.members));
    let without = super::view::PageQuery { peer_group: None, ..query.clone() };
    Ok(super::view::TrustScope { saved: group, ..super::view::TrustScope::of(&without)? })
}

/// What the groups a page offers depend on, for its cache key.
pub fn stamp(visible: &[PeerGroup]) -> String {
    visible.iter().map(|g| format!("{}@{}", g.id, g.updated_at)).collect::<Vec<_>>().join(",")
}

/// The saved groups as choices of a peer-group list, after the trust types.
pub fn choices(visible: &[PeerGroup], chosen: Option<&str>) -> Vec<Choice> {
    visible
        .iter()
        .map(|g| Choice {
            value: g.key(),
            label: format!("{} (saved, {} trusts)", g.name, g.members.len()),
            selected: chosen == Some(g.key().as_str()),
        })
        .collect()
}

/// A trust to tick in the form.
pub struct TrustBox {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub checked: bool,
}

/// The form that saves or changes a group: its trusts by region, ticked where chosen.
pub struct GroupForm {
    pub action: String,
    pub submit: &'static str,
    pub name: String,
    pub shared: bool,
    pub regions: Vec<(String, usize, Vec<TrustBox>)>,
    pub n_chosen: usize,
}

impl GroupForm {
    fn new(f: &Figures, action: String, submit: &'static str, name: String, shared: bool, chosen: &[String]) -> Self {
        let mut regions: Vec<(String, usize, Vec<TrustBox>)> = Vec::new();
        for (_, region) in crate::domain::REGIONS.iter() {
            let mut trusts: Vec<TrustBox> = f
                .reference
                .organisations
                .iter()
                .filter(|o| o.region == *region)
                .map(|o| TrustBox {
                    code: o.ods_code.clone(),
                    name: o.name.clone(),
                    kind: o.trust_type.label().to_lowercase(),
                    checked: chosen.contains(&o.ods_code),
                })
                .collect();
            trusts.sort_by(|a, b| a.name.cmp(&b.name));
            let ticked = trusts.iter().filter(|t| t.checked).count();
            regions.push(((*region).to_string(), ticked, trusts));
        }
        let n_chosen = regions.iter().map(|r| r.1).sum();
        Self { action, submit, name, shared, regions, n_chosen }
    }
}

/// One group in a list.
pub struct GroupLine {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub n: usize,
    pub shared: bool,
    pub owner: String,
    pub mine: bool,
}

fn line(g: &PeerGroup, viewer: Option<i64>) -> GroupLine {
    GroupLine {
        id: g.id,
        key: g.key(),
        name: g.name.clone(),
        n: g.members.len(),
        shared: g.shared,
        owner: g.owner_email.clone(),
        mine: viewer == Some(g.owner_id),
    }
}

#[derive(Template)]
#[template(path = "peer_groups.html")]
pub struct ListPage {
    pub mine: Vec<GroupLine>,
    pub shared: Vec<GroupLine>,
    pub form: GroupForm,
    pub errors: Vec<FieldError>,
    pub csrf_token: String,
    /// The trust whose nearest neighbours the form starts from.
    pub from: Option<String>,
    pub smallest: usize,
    pub largest: usize,
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    /// Start from this trust and its nearest neighbours.
    #[serde(default)]
    from: Option<String>,
}

async fn list_page(
    state: &AppState,
    auth: &Auth,
    form: GroupForm,
    errors: Vec<FieldError>,
    from: Option<String>,
) -> Result<ListPage> {
    let viewer = user_id(auth);
    let groups = visible(state, auth).await?;
    Ok(ListPage {
        mine: groups.iter().filter(|g| viewer == Some(g.owner_id)).map(|g| line(g, viewer)).collect(),
        shared: groups.iter().filter(|g| viewer != Some(g.owner_id)).map(|g| line(g, viewer)).collect(),
        form,
        errors,
        csrf_token: auth.csrf_token().into(),
        from,
        smallest: SMALLEST,
        largest: LARGEST,
    })
}

async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    let mut chosen = Vec::new();
    let mut name = String::new();
    let from = q.from.as_deref().map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty());
    if let Some(code) = &from {
        let org =
            f.reference.organisation(code).ok_or_else(|| AppError::NotFound(format!("There is no trust '{code}'.")))?;
        chosen.push(code.clone());
        if let Some(q) = f.latest_period() {
            chosen.extend(f.peers(q, Some(code)).into_iter().map(|p| p.peer_code));
        }
        name = format!("Trusts like {}", org.name);
    }
    let form = GroupForm::new(&f, "/peer-groups".into(), "Save the peer group", name, false, &chosen);
    render(&auth, &list_page(&state, &auth, form, Vec::new(), from).await?)
}

/// A group as the form sent it, checked: the group, or the errors with what was typed.
fn read_form(
    f: &Figures,
    auth: &Auth,
    body: &[u8],
) -> Result<std::result::Result<NewPeerGroup, (NewPeerGroup, Vec<FieldError>)>> {
    let typed: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::BadRequest(format!("the form could not be read: {e}")))?;
    let one = |k: &str| typed.iter().find(|(n, _)| n == k).map_or(String::new(), |(_, v)| v.trim().to_string());
    super::check_csrf(auth, &one("csrf_token"))?;
    let members: Vec<String> = typed
        .iter()
        .filter(|(n, _)| n == "members")
        .map(|(_, v)| v.trim().to_ascii_uppercase())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let group = NewPeerGroup { name: one("name"), shared: one("shared") == "yes", members };
    let mut errors = Vec::new();
    if group.name.is_empty() {
        errors.push(FieldError { field: "name", message: "Give the peer group a name.".into() });
    } else if group.name.chars().count() > LONGEST_NAME {
        errors
            .push(FieldError { field: "name", message: format!("Give a name of at most {LONGEST_NAME} characters.") });
    }
    if let Some(bad) = group.members.iter().find(|c| f.reference.organisation(c).is_none()) {
        errors.push(FieldError { field: "members", message: format!("There is no trust '{bad}'.") });
    } else if !(SMALLEST..=LARGEST).contains(&group.members.len()) {
        errors.push(FieldError {
            field: "members",
            message: format!(
                "Choose from {SMALLEST} to {LARGEST} trusts; {} {} chosen.",
                group.members.len(),
                if group.members.len() == 1 { "was" } else { "were" }
            ),
        });
    }
    Ok(if errors.is_empty() { Ok(group) } else { Err((group, errors)) })
}

async fn add(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: axum::body::Bytes,
) -> Result<Response> {
    let user = auth.user.clone().ok_or_else(|| AppError::Forbidden("Sign in to save a peer group.".into()))?;
    let f = state.shown_figures(&auth.shown).await?;
    match read_form(&f, &auth, &body)? {
        Ok(group) => {
            let id = state.store.add_peer_group(&group, &user, &auth.actor()).await?;
            state.forget_peer_groups();
            Ok(Redirect::to(&format!("/peer-groups/{id}")).into_response())
        }
        Err((group, errors)) => {
            let form = GroupForm::new(
                &f,
                "/peer-groups".into(),
                "Save the peer group",
                group.name,
                group.shared,
                &group.members,
            );
            let html = render(&auth, &list_page(&state, &auth, form, errors, None).await?)?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}

/// A metric's benchmarks in the group, one quarter.
pub struct MetricLine {
    pub metric_id: String,
    pub name: String,
    pub n: i64,
    pub p25: String,
    pub median: String,
    pub p75: String,
    pub exemplar_median: String,
    pub national_median: String,
}

/// A trust of the group, with its maturity index in the quarter.
pub struct MemberLine {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub region: String,
    pub maturity: String,
}

#[derive(Template)]
#[template(path = "peer_group.html")]
pub struct DetailPage {
    pub g: GroupLine,
    pub updated_at: String,
    pub period_label: String,
    pub period_value: String,
    pub periods: Vec<Choice>,
    pub metrics: Vec<MetricLine>,
    pub members: Vec<MemberLine>,
    pub form: Option<GroupForm>,
    pub errors: Vec<FieldError>,
    pub csrf_token: String,
    pub smallest: usize,
    pub largest: usize,
    pub saved: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

/// A group the reader may see, or a 404 that does not say whether it exists.
async fn seen(state: &AppState, auth: &Auth, id: i64) -> Result<PeerGroup> {
    visible(state, auth).await?.into_iter().find(|g| g.id == id).ok_or_else(|| {
        AppError::NotFound(format!("There is no saved peer group {} that you can see.", crate::store::group_key(id)))
    })
}

fn detail_page(
    f: &Figures,
    auth: &Auth,
    g: &PeerGroup,
    period: Option<Quarter>,
    form: Option<GroupForm>,
    errors: Vec<FieldError>,
) -> Result<DetailPage> {
    let figures = f.group(&g.key(), &g.members)?;
    let r = &f.reference;
    let metrics = period
        .map(|p| {
            r.metrics
                .iter()
                .filter_map(|m| {
                    let b = figures.benchmark(&m.metric_id, p)?;
                    Some(MetricLine {
                        metric_id: m.metric_id.clone(),
                        name: m.name.clone(),
                        n: b.n,
                        p25: num(Some(b.p25)),
                        median: num(Some(b.median)),
                        p75: num(Some(b.p75)),
                        exemplar_median: num(b.exemplar_median),
                        national_median: num(Some(b.national_median)),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut members: Vec<MemberLine> = g
        .members
        .iter()
        .map(|c| {
            let o = r.organisation(c);
            MemberLine {
                code: c.clone(),
                name: o.map_or(c.clone(), |o| o.name.clone()),
                kind: o.map_or(String::new(), |o| o.trust_type.label().to_string()),
                region: o.map_or(String::new(), |o| o.region.clone()),
                maturity: num(period.and_then(|p| f.index(c, p, "all")).and_then(|i| i.domain_index)),
            }
        })
        .collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let viewer = user_id(auth);
    Ok(DetailPage {
        g: line(g, viewer),
        updated_at: g.updated_at.clone(),
        period_label: period.map_or("no data yet".into(), |p| p.financial_label()),
        period_value: period.map(|p| p.to_string()).unwrap_or_default(),
        periods: super::view::period_choices(f, period),
        metrics,
        members,
        form,
        errors,
        csrf_token: auth.csrf_token().into(),
        smallest: SMALLEST,
        largest: LARGEST,
        saved: false,
    })
}

fn edit_form(f: &Figures, g: &PeerGroup) -> GroupForm {
    GroupForm::new(f, format!("/peer-groups/{}", g.id), "Save the changes", g.name.clone(), g.shared, &g.members)
}

async fn detail(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Query(query): Query<DetailQuery>,
) -> Result<Html<String>> {
    let g = seen(&state, &auth, id).await?;
    let f = state.shown_figures(&auth.shown).await?;
    let period = crate::domain::Filters { period: query.period.clone(), ..Default::default() }
        .quarter(f.latest_period(), true)
        .map_err(AppError::BadRequest)?;
    let mine = user_id(&auth) == Some(g.owner_id);
    let saved = query.saved.is_some();
    let page = super::blocking(move || {
        let form = mine.then(|| edit_form(&f, &g));
        let mut page = detail_page(&f, &auth, &g, period, form, Vec::new())?;
        page.saved = saved;
        Ok((page, auth))
    })
    .await?;
    render(&page.1, &page.0)
}

async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response> {
    let g = seen(&state, &auth, id).await?;
    let owner = user_id(&auth)
        .filter(|u| *u == g.owner_id)
        .ok_or_else(|| AppError::Forbidden("Only the user who saved a peer group may change it.".into()))?;
    let f = state.shown_figures(&auth.shown).await?;
    match read_form(&f, &auth, &body)? {
        Ok(group) => {
            state.store.update_peer_group(id, &group, owner, &auth.actor()).await?;
            state.forget_peer_groups();
            Ok(Redirect::to(&format!("/peer-groups/{id}?saved=1")).into_response())
        }
        Err((typed, errors)) => {
            let form = GroupForm::new(
                &f,
                format!("/peer-groups/{id}"),
                "Save the changes",
                typed.name,
                typed.shared,
                &typed.members,
            );
            let page = detail_page(&f, &auth, &g, f.latest_period(), Some(form), errors)?;
            let html = render(&auth, &page)?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}

async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> Result<Response> {
    super::check_csrf(&auth, form.get("csrf_token").map_or("", String::as_str))?;
    let g = seen(&state, &auth, id).await?;
    let owner = user_id(&auth)
        .filter(|u| *u == g.owner_id)
        .ok_or_else(|| AppError::Forbidden("Only the user who saved a peer group may delete it.".into()))?;
    state.store.delete_peer_group(id, owner, &auth.actor()).await?;
    state.forget_peer_groups();
    Ok(Redirect::to("/peer-groups").into_response())
}
