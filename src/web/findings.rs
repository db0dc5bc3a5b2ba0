//! The board's findings and recommendations: recorded by board members on a metric, a domain or
//! a trust (chosen by name), with the quarter and the figures they were based on; shown on the
//! pages they refer to, readable by every signed-in user.

use super::render;
use crate::auth::{Auth, Shown};
use crate::domain::{Quarter, Role};
use crate::store::{FINDING_STATUSES, Finding, NewFinding};
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/findings", get(list).post(add)).route("/findings/{id}/status", post(set_status))
}

/// A finding with the name of what it is about and where that is shown.
pub struct FindingView {
    pub finding: Finding,
    pub subject_name: String,
    pub href: String,
    /// The quarter it looked at, as the financial year names it (empty if not recorded).
    pub period_label: String,
    pub status_label: &'static str,
    /// Live and past its due date.
    pub overdue: bool,
    /// The published blueprints it points to: (id, title).
    pub blueprints: Vec<(i64, String)>,
}

/// One choice of the "about" list: `metric:id`, `domain:id` or `trust:ODS`, with its name.
pub struct Choice {
    pub value: String,
    pub name: String,
}

/// A group of choices (the metrics of one domain, the domains, the trusts).
pub struct ChoiceGroup {
    pub label: String,
    pub choices: Vec<Choice>,
}

/// A problem with the form, linked from the error summary to its field.
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// What was typed (or pre-filled from a link), kept when the form is shown again.
#[derive(Default, serde::Deserialize)]
pub struct Typed {
    #[serde(default)]
    about: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    owner: String,
    /// When it is due: `YYYY-MM-DD`, or empty.
    #[serde(default)]
    due_on: String,
    /// A published blueprint to follow: its id, or empty.
    #[serde(default)]
    blueprint: String,
}

#[derive(Template)]
#[template(path = "findings.html")]
pub struct FindingsPage {
    pub findings: Vec<FindingView>,
    pub can_write: bool,
    pub csrf_token: String,
    pub errors: Vec<FieldError>,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub groups: Vec<ChoiceGroup>,
    /// The quarters a finding may look at, newest first: (code, label).
    pub periods: Vec<(String, String)>,
    pub typed: Typed,
    /// What the figures shown now are (recorded with a new finding).
    pub based_on: String,
    /// The finding just recorded, for the success message.
    pub recorded: Option<String>,
    /// The published blueprints a finding may point to: (id, title and trust).
    pub blueprint_choices: Vec<(String, String)>,
}

impl FindingsPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// What changes when any of these findings changes, for page caches.
pub fn stamp(findings: &[FindingView]) -> String {
    let latest = findings.iter().map(|v| v.finding.updated_at.as_str()).max().unwrap_or_default();
    format!("{}@{latest}", findings.len())
}

/// Names the subject of each finding and links to its page.
pub async fn views(state: &AppState, findings: Vec<Finding>) -> Result<Vec<FindingView>> {
    let f = state.figures();
    let published = if findings.iter().any(|x| !x.blueprints.is_empty()) {
        super::blueprints::published(state).await?.0
    } else {
        Default::default()
    };
    Ok(findings
        .into_iter()
        .map(|finding| {
            let (name, href) = match finding.subject_kind.as_str() {
                "metric" => (
                    f.reference.metric(&finding.subject).map_or(finding.subject.clone(), |m| m.name.clone()),
                    format!("/metrics/{}", finding.subject),
                ),
                "trust" => (
                    f.reference.organisation(&finding.subject).map_or(finding.subject.clone(), |o| o.name.clone()),
                    format!("/trusts/{}", finding.subject),
                ),
                _ => (
                    f.reference.domain(&finding.subject).map_or(finding.subject.clone(), |d| d.name.clone()),
                    "/gaps".to_string(),
                ),
            };
            let period_label = Quarter::parse(&finding.period).map(|q| q.financial_label()).unwrap_or_default();
            let status_label = crate::store::status_label(&finding.status);
            let overdue = finding.is_overdue(state.today());
            let blueprints = finding
                .blueprints
                .iter()
                .filter_map(|id| published.iter().find(|b| b.id == *id).map(|b| (b.id, b.title.clone())))
                .collect();
            FindingView { finding, subject_name: name, href, period_label, status_label, overdue, blueprints }
        })
        .collect())
}

/// The link that opens the form pre-filled with `about` (`metric:id`, `domain:id`, `trust:ODS`)
/// and the quarter a page shows.
pub fn record_link(about: &str, period: Option<Quarter>) -> String {
    match period {
        Some(q) => format!("/findings?about={about}&period={q}#record"),
        None => format!("/findings?about={about}#record"),
    }
}

#[derive(serde::Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    typed: Typed,
    #[serde(default)]
    recorded: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(query): Query<ListQuery>,
) -> Result<Html<String>> {
    let recorded = match query.recorded {
        Some(id) => state.findings().await?.iter().find(|f| f.id == id).map(|f| f.title.clone()),
        None => None,
    };
    page(&state, &auth, query.typed, Vec::new(), recorded).await
}

/// The metrics by domain, then the domains, then the trusts, each by name.
fn choices(state: &AppState) -> Vec<ChoiceGroup> {
    let f = state.figures();
    let r = &f.reference;
    let mut groups: Vec<ChoiceGroup> = r
        .domains
        .iter()
        .map(|d| ChoiceGroup {
            label: format!("Metrics: {}", d.name),
            choices: r
                .metrics
                .iter()
                .filter(|m| m.domain == d.domain_id)
                .map(|m| Choice { value: format!("metric:{}", m.metric_id), name: m.name.clone() })
                .collect(),
        })
        .collect();
    groups.push(ChoiceGroup {
        label: "Domains".into(),
        choices: r
            .domains
            .iter()
            .map(|d| Choice { value: format!("domain:{}", d.domain_id), name: d.name.clone() })
            .collect(),
    });
    let mut trusts: Vec<Choice> = r
        .organisations
        .iter()
        .map(|o| Choice { value: format!("trust:{}", o.ods_code), name: format!("{} ({})", o.name, o.ods_code) })
        .collect();
    trusts.sort_by(|a, b| a.name.cmp(&b.name));
    groups.push(ChoiceGroup { label: "Trusts".into(), choices: trusts });
    groups
}

/// What the figures shown to `auth` are: a release id, or the data version of provisional figures.
fn based_on(state: &AppState, auth: &Auth) -> String {
    match &auth.shown {
        Shown::Release(r) => format!("release {}", r.id),
        Shown::Provisional => format!("data version {}", state.figures().data_version),
        Shown::Unpublished => "no published figures".into(),
    }
}

async fn page(
    state: &AppState,
    auth: &Auth,
    mut typed: Typed,
    errors: Vec<FieldError>,
    recorded: Option<String>,
) -> Result<Html<String>> {
    let findings = views(state, state.findings().await?.to_vec()).await?;
    let can_write = auth.user.as_ref().is_some_and(|u| u.role == Role::Board);
    let f = state.figures();
    let blueprint_choices = if can_write {
        super::blueprints::published(state)
            .await?
            .0
            .iter()
            .map(|b| {
                let trust = f.reference.organisation(&b.org_code).map_or(b.org_code.as_str(), |o| o.name.as_str());
                (b.id.to_string(), format!("{} ({trust})", b.title))
            })
            .collect()
    } else {
        Vec::new()
    };
    let periods: Vec<(String, String)> = f.periods.iter().rev().map(|q| (q.to_string(), q.financial_label())).collect();
    if typed.period.is_empty() {
        typed.period = periods.first().map(|(code, _)| code.clone()).unwrap_or_default();
    }
    let page = FindingsPage {
        findings,
        can_write,
        csrf_token: auth.csrf_token().into(),
        errors,
        statuses: FINDING_STATUSES.iter().map(|s| (*s, crate::store::status_label(s))).collect(),
        groups: if can_write { choices(state) } else { Vec::new() },
        periods,
        typed,
        based_on: based_on(state, auth),
        recorded,
        blueprint_choices,
    };
    render(auth, &page)
}

#[derive(serde::Deserialize)]
pub struct FindingForm {
    csrf_token: String,
    #[serde(flatten)]
    typed: Typed,
}

/// The subject a form names, or why it names none.
fn subject_of(state: &AppState, about: &str) -> std::result::Result<(String, String), String> {
    let f = state.figures();
    let Some((kind, id)) = about.split_once(':') else {
        return Err("Choose the metric, domain or trust the finding is about.".into());
    };
    let id = id.trim();
    let known = match kind {
        "metric" => f.reference.metric(id).map(|m| m.metric_id.clone()),
        "domain" => f.reference.domain(id).map(|d| d.domain_id.clone()),
        "trust" => f.reference.organisation(&id.to_ascii_uppercase()).map(|o| o.ods_code.clone()),
        _ => return Err("Choose the metric, domain or trust the finding is about.".into()),
    };
    known
        .map(|id| (kind.to_string(), id))
        .ok_or_else(|| format!("There is no {kind} '{id}'. Choose one from the list."))
}

async fn add(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Form(form): Form<FindingForm>,
) -> Result<Response> {
    super::check_csrf(&auth, &form.csrf_token)?;
    let typed = form.typed;
    let mut errors = Vec::new();
    let subject =
        subject_of(&state, &typed.about).map_err(|message| errors.push(FieldError { field: "about", message }));
    // Empty is the latest quarter (or none, before any figures exist).
    let periods = state.figures().periods.clone();
    let period = match typed.period.trim() {
        "" => Some(periods.last().map(|q| q.to_string()).unwrap_or_default()),
        text => Quarter::parse(text).ok().filter(|q| periods.contains(q)).map(|q| q.to_string()),
    };
    if period.is_none() {
        errors.push(FieldError { field: "period", message: "Choose the quarter the finding looked at.".into() });
    }
    let due_on = typed.due_on.trim().to_string();
    if !due_on.is_empty() && chrono::NaiveDate::parse_from_str(&due_on, "%Y-%m-%d").is_err() {
        errors.push(FieldError {
            field: "due_on",
            message: "Write the due date as 2027-03-31, or leave it empty.".into(),
        });
    }
    let published = super::blueprints::published(&state).await?.0;
    let blueprints: Vec<i64> = match typed.blueprint.trim() {
        "" => Vec::new(),
        text => match text.parse::<i64>().ok().filter(|id| published.iter().any(|b| b.id == *id)) {
            Some(id) => vec![id],
            None => {
                errors.push(FieldError {
                    field: "blueprint",
                    message: format!("There is no published blueprint '{text}'. Choose one from the list."),
                });
                Vec::new()
            }
        },
    };
    for (field, value, message) in [
        ("title", &typed.title, "Give the finding a title."),
        ("body", &typed.body, "Write the finding or recommendation."),
        ("owner", &typed.owner, "Say who is to act on it."),
    ] {
        if value.trim().is_empty() {
            errors.push(FieldError { field, message: message.into() });
        }
    }
    let (Ok((subject_kind, subject)), Some(period), true) = (subject, period, errors.is_empty()) else {
        let html = page(&state, &auth, typed, errors, None).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    let new = NewFinding {
        subject_kind,
        subject,
        title: typed.title.trim().into(),
        body: typed.body.trim().into(),
        owner: typed.owner.trim().into(),
        period,
        based_on: based_on(&state, &auth),
        due_on,
        blueprints,
    };
    let id = state.store.add_finding(&new, &auth.actor()).await?;
    state.forget_findings();
    Ok(Redirect::to(&format!("/findings?recorded={id}")).into_response())
}

#[derive(serde::Deserialize)]
pub struct StatusForm {
    csrf_token: String,
    status: String,
    #[serde(default)]
    note: String,
}

async fn set_status(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response> {
    super::check_csrf(&auth, &form.csrf_token)?;
    state
        .store
        .set_finding_status(id, &form.status, &form.note, &auth.actor())
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    state.forget_findings();
    Ok(Redirect::to("/findings").into_response())
}
