//! The ideas hub (docs/RULES.md §10.5): blueprints of what trusts changed — submitted by a
//! trust's users, published after review by the board or an administrator, shown with the
//! trust's own measured values before and after — and full-text search across the published
//! blueprints and the board's findings.

use super::render;
use crate::auth::Auth;
use crate::domain::{Quarter, Role};
use crate::figures::Figures;
use crate::store::{Blueprint, MATCH_END, MATCH_START, NewBlueprint, SearchHit};
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/blueprints", get(list).post(add))
        .route("/blueprints/new", get(form))
        .route("/blueprints/{id}", get(detail))
        .route("/blueprints/{id}/review", post(review))
        .route("/search", get(search))
}

/// The published blueprints, and a stamp that changes whenever one is published, for the keys
/// of pages that show them.
pub async fn published(state: &AppState) -> Result<(std::sync::Arc<Vec<Blueprint>>, String)> {
    let all = state.published_blueprints().await?;
    let latest = all.iter().map(|b| b.reviewed_at.as_str()).max().unwrap_or_default().to_string();
    let stamp = format!("bp{}@{latest}", all.len());
    Ok((all, stamp))
}

/// The newest published blueprint of `org_code` about `metric_id`: (id, title).
pub fn about(published: &[Blueprint], org_code: &str, metric_id: &str) -> Option<(i64, String)> {
    published
        .iter()
        .find(|b| b.org_code == org_code && b.metrics.iter().any(|m| m == metric_id))
        .map(|b| (b.id, b.title.clone()))
}

/// May review (publish or send back) blueprints.
fn reviews(auth: &Auth) -> bool {
    auth.user.as_ref().is_some_and(|u| matches!(u.role, Role::Board | Role::Admin))
}

/// The trust whose blueprints the user may see before they are published.
fn own_trust(auth: &Auth) -> Option<String> {
    auth.user.as_ref().filter(|u| u.role == Role::Trust).and_then(|u| u.org_code.clone())
}

/// Whether `auth` may see `b`: published ones everyone signed in; the others their own trust's
/// users and the reviewers.
fn visible(auth: &Auth, b: &Blueprint) -> bool {
    b.status == "published" || reviews(auth) || own_trust(auth).as_deref() == Some(b.org_code.as_str())
}

pub struct BlueprintLine {
    pub id: i64,
    pub title: String,
    pub trust: String,
    pub started: String,
    pub status: String,
    pub summary: String,
}

fn line(f: &Figures, b: &Blueprint) -> BlueprintLine {
    BlueprintLine {
        id: b.id,
        title: b.title.clone(),
        trust: f.reference.organisation(&b.org_code).map_or(b.org_code.clone(), |o| o.name.clone()),
        started: Quarter::parse(&b.started).map_or(b.started.clone(), |q| q.financial_label()),
        status: b.status.clone(),
        summary: b.summary.clone(),
    }
}

#[derive(Template)]
#[template(path = "blueprints.html")]
pub struct BlueprintsPage {
    pub published: Vec<BlueprintLine>,
    /// Waiting for review (reviewers), or the trust's own not yet published.
    pub waiting: Vec<BlueprintLine>,
    pub reviewer: bool,
    pub can_submit: bool,
    pub submitted: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    submitted: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>> {
    let f = state.figures();
    let all = state.store.blueprints().await?;
    let published = all.iter().filter(|b| b.status == "published").map(|b| line(&f, b)).collect();
    let waiting = all.iter().filter(|b| b.status != "published" && visible(&auth, b)).map(|b| line(&f, b)).collect();
    render(
        &auth,
        &BlueprintsPage {
            published,
            waiting,
            reviewer: reviews(&auth),
            can_submit: own_trust(&auth).is_some(),
            submitted: q.submitted.is_some(),
        },
    )
}

/// A problem with the form, linked from the error summary to its field.
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// (value, name) pairs of a list to choose from.
type Choices = Vec<(String, String)>;

#[derive(Template)]
#[template(path = "blueprint_new.html")]
pub struct NewPage {
    pub csrf_token: String,
    pub org_name: String,
    pub errors: Vec<FieldError>,
    pub typed: Vec<(String, String)>,
    pub metrics: Vec<(String, String)>,
    pub standards: Vec<(String, String)>,
    pub systems: Vec<(String, String)>,
    pub quarters: Vec<(String, String)>,
}

impl NewPage {
    fn typed(&self, field: &str) -> &str {
        self.typed.iter().find(|(k, _)| k == field).map_or("", |(_, v)| v.as_str())
    }

    fn chosen(&self, field: &str, value: &str) -> bool {
        self.typed.iter().any(|(k, v)| k == field && v == value)
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// The text fields: name, label and rows (0 for a one-line input).
    fn texts(&self) -> [(&'static str, &'static str, usize); 4] {
        [
            ("title", "Title", 0),
            ("summary", "Summary: what changed, in a sentence or two", 3),
            ("what_we_did", "What the trust did", 8),
            ("contact_role", "Role to contact, such as Chief Clinical Information Officer", 0),
        ]
    }

    /// The lists to choose from: name, label and choices.
    fn pickers(&self) -> [(&'static str, &'static str, &Choices); 3] {
        [
            ("metrics", "Metrics it concerns", &self.metrics),
            ("standards", "Standards it concerns", &self.standards),
            ("systems", "Systems it concerns", &self.systems),
        ]
    }
}

fn new_page(
    state: &AppState,
    auth: &Auth,
    org: &str,
    typed: Vec<(String, String)>,
    errors: Vec<FieldError>,
) -> NewPage {
    let f = state.figures();
    let r = &f.reference;
    NewPage {
        csrf_token: auth.csrf_token().into(),
        org_name: r.organisation(org).map_or(org.to_string(), |o| o.name.clone()),
        errors,
        typed,
        metrics: r.metrics.iter().map(|m| (m.metric_id.clone(), m.name.clone())).collect(),
        standards: r.standards.iter().map(|s| (s.standard_id.clone(), s.name.clone())).collect(),
        systems: r.systems.iter().map(|s| (s.system_id.clone(), format!("{} ({})", s.product, s.supplier))).collect(),
        quarters: f.periods.iter().rev().map(|q| (q.to_string(), q.financial_label())).collect(),
    }
}

async fn form(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    let org = own_trust(&auth).ok_or_else(|| AppError::Forbidden("Only a trust's users submit blueprints.".into()))?;
    render(&auth, &new_page(&state, &auth, &org, Vec::new(), Vec::new()))
}

async fn add(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: axum::body::Bytes,
) -> Result<Response> {
    let org = own_trust(&auth).ok_or_else(|| AppError::Forbidden("Only a trust's users submit blueprints.".into()))?;
    let typed: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| AppError::BadRequest(format!("the form could not be read: {e}")))?;
    let one = |k: &str| typed.iter().find(|(n, _)| n == k).map_or(String::new(), |(_, v)| v.trim().to_string());
    let many = |k: &str| typed.iter().filter(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).collect::<Vec<_>>();
    super::check_csrf(&auth, &one("csrf_token"))?;
    let f = state.figures();
    let r = &f.reference;
    let mut errors = Vec::new();
    for (field, message) in [
        ("title", "Give the blueprint a title."),
        ("summary", "Summarise what changed in a sentence or two."),
        ("what_we_did", "Say what the trust did."),
        ("contact_role", "Give the role to contact (not a person's name)."),
    ] {
        if one(field).is_empty() {
            errors.push(FieldError { field, message: message.into() });
        }
    }
    let started = Quarter::parse(&one("started")).ok().filter(|q| f.periods.contains(q));
    if started.is_none() {
        errors.push(FieldError { field: "started", message: "Choose the quarter the change started.".into() });
    }
    let metrics = many("metrics");
    if let Some(bad) = metrics.iter().find(|m| r.metric(m).is_none()) {
        errors.push(FieldError { field: "metrics", message: format!("There is no metric '{bad}'.") });
    }
    let standards = many("standards");
    if let Some(bad) = standards.iter().find(|s| !r.standards.iter().any(|x| &x.standard_id == *s)) {
        errors.push(FieldError { field: "standards", message: format!("There is no standard '{bad}'.") });
    }
    let systems = many("systems");
    if let Some(bad) = systems.iter().find(|s| !r.systems.iter().any(|x| &x.system_id == *s)) {
        errors.push(FieldError { field: "systems", message: format!("There is no system '{bad}'.") });
    }
    if !errors.is_empty() {
        let html = render(&auth, &new_page(&state, &auth, &org, typed, errors))?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    let new = NewBlueprint {
        org_code: org,
        title: one("title"),
        summary: one("summary"),
        what_we_did: one("what_we_did"),
        metrics,
        standards,
        systems,
        started: started.map(|q| q.to_string()).unwrap_or_default(),
        contact_role: one("contact_role"),
    };
    state.store.add_blueprint(&new, &auth.actor()).await?;
    state.forget_blueprints();
    Ok(Redirect::to("/blueprints?submitted=1").into_response())
}

/// A linked metric's measured values around the blueprint's start.
pub struct Evidence {
    pub metric_id: String,
    pub metric: String,
    pub before: String,
    pub after: String,
    pub change: String,
    pub variation: &'static str,
}

#[derive(Template)]
#[template(path = "blueprint.html")]
pub struct DetailPage {
    pub b: BlueprintLine,
    pub what_we_did: String,
    pub contact_role: String,
    pub org_code: String,
    pub standards: Vec<(String, String)>,
    pub systems: Vec<(String, String)>,
    pub evidence: Vec<Evidence>,
    /// No linked metric has values before and after: a claim without data.
    pub unmeasured: bool,
    pub before_label: String,
    pub after_label: String,
    pub review_note: String,
    pub reviewer: bool,
    pub csrf_token: String,
    /// The board's recommendations that point to it: (id, title, status).
    pub findings: Vec<(i64, String, &'static str)>,
}

/// The trust's values of each linked metric in the quarter before the start and the latest,
/// with the change in score points and the Making Data Count reading of the latest.
fn evidence(f: &Figures, b: &Blueprint) -> (Vec<Evidence>, String, String) {
    let (Ok(start), Some(latest)) = (Quarter::parse(&b.started), f.latest_period()) else {
        return (Vec::new(), String::new(), String::new());
    };
    let before = start + -1;
    let rows = b
        .metrics
        .iter()
        .filter_map(|id| {
            let m = f.reference.metric(id)?;
            let (x, y) = (f.value_of(&b.org_code, id, before), f.value_of(&b.org_code, id, latest));
            let span = m.scale_max - m.scale_min;
            let change = x.zip(y).map(|(x, y)| 100.0 * m.direction.sign() * (y - x) / span);
            let variation = f
                .spc(&b.org_code, id)
                .map_or("no chart yet", |(_, c)| crate::analytics::spc::variation_short(c.variation_icon));
            Some(Evidence {
                metric_id: id.clone(),
                metric: m.name.clone(),
                before: x.map_or("no value".into(), |v| super::view::num(Some(v))),
                after: y.map_or("no value".into(), |v| super::view::num(Some(v))),
                change: change.map_or("–".into(), |c| format!("{c:+.1}")),
                variation,
            })
        })
        .collect();
    (rows, before.financial_label(), latest.financial_label())
}

async fn detail(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
) -> Result<Html<String>> {
    let hidden = || AppError::NotFound(format!("There is no blueprint {id} that you can see."));
    let b = state.store.blueprint(id).await?.filter(|b| visible(&auth, b)).ok_or_else(hidden)?;
    // The evidence comes from the figures this reader is shown (a release, for another trust's
    // user), never from provisional figures they may not see.
    let f = state.shown_figures(&auth.shown).await?;
    let r = &f.reference;
    let (evidence, before_label, after_label) = evidence(&f, &b);
    let unmeasured = !evidence.iter().any(|e| e.change != "–");
    let named = |ids: &[String], name: &dyn Fn(&str) -> Option<String>| -> Vec<(String, String)> {
        ids.iter().map(|i| (i.clone(), name(i).unwrap_or_else(|| i.clone()))).collect()
    };
    let findings = state
        .findings()
        .await?
        .iter()
        .filter(|x| x.blueprints.contains(&b.id))
        .map(|x| (x.id, x.title.clone(), crate::store::status_label(&x.status)))
        .collect();
    let page = DetailPage {
        findings,
        b: line(&f, &b),
        what_we_did: b.what_we_did.clone(),
        contact_role: b.contact_role.clone(),
        org_code: b.org_code.clone(),
        standards: named(&b.standards, &|i| r.standards.iter().find(|s| s.standard_id == i).map(|s| s.name.clone())),
        systems: named(&b.systems, &|i| r.systems.iter().find(|s| s.system_id == i).map(|s| s.product.clone())),
        evidence,
        unmeasured,
        before_label,
        after_label,
        review_note: b.review_note.clone(),
        reviewer: reviews(&auth) && b.status == "submitted",
        csrf_token: auth.csrf_token().into(),
    };
    render(&auth, &page)
}

#[derive(serde::Deserialize)]
pub struct ReviewForm {
    csrf_token: String,
    decision: String,
    #[serde(default)]
    note: String,
}

async fn review(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(form): Form<ReviewForm>,
) -> Result<Response> {
    super::check_csrf(&auth, &form.csrf_token)?;
    if !reviews(&auth) {
        return Err(AppError::Forbidden("The board and administrators review blueprints.".into()));
    }
    let publish = match form.decision.as_str() {
        "publish" => true,
        "reject" => false,
        other => return Err(AppError::BadRequest(format!("decision: '{other}' is not publish or reject"))),
    };
    state
        .store
        .review_blueprint(id, publish, &form.note, &auth.actor())
        .await
        .map_err(|e| AppError::NotFound(e.to_string()))?;
    state.forget_blueprints();
    Ok(Redirect::to(&format!("/blueprints/{id}")).into_response())
}

/// A hit's text as HTML: escaped, with its matched words in `<mark>`.
pub fn marked(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            MATCH_START => out.push_str("<mark>"),
            MATCH_END => out.push_str("</mark>"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub struct HitView {
    pub href: String,
    pub title: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub q: String,
    pub blueprints: Vec<HitView>,
    pub findings: Vec<HitView>,
}

#[derive(serde::Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<SearchQuery>,
) -> Result<Html<String>> {
    let (blueprints, findings) = state.store.search(&q.q).await?;
    let view = |prefix: &str, hits: Vec<SearchHit>| -> Vec<HitView> {
        hits.into_iter()
            .map(|h| HitView { href: format!("{prefix}{}", h.id), title: marked(&h.title), text: marked(&h.text) })
            .collect()
    };
    render(
        &auth,
        &SearchPage {
            q: q.q.clone(),
            blueprints: view("/blueprints/", blueprints),
            findings: view("/findings#finding-", findings),
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hit_is_escaped_and_only_its_matches_are_marked() {
        let text = format!("a <b>{}fax{} & more", super::MATCH_START, super::MATCH_END);
        assert_eq!(super::marked(&text), "a &lt;b&gt;<mark>fax</mark> &amp; more");
    }
}
