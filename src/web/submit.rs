//! Submitting through the web: upload a file or paste CSV, preview what would be stored (or
//! every error), confirm; and the history of submissions.

use super::render;
use crate::auth::Auth;
use crate::domain::Errors;
use crate::domain::{Quarter, Role};
use crate::figures::quality::QualityFlag;
use crate::store::{Outcome, SubmissionRecord};
use crate::submit::{Format, Options, Upload, Validated, submit, validate};
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/submit", get(form).post(preview))
        .route("/submit/template.csv", get(template))
        .route("/submit/{upload_id}/confirm", post(confirm))
        .route("/submissions", get(list))
        .route("/submissions/{id}", get(detail))
}

#[derive(Template)]
#[template(path = "submit.html")]
pub struct SubmitPage {
    pub csrf_token: String,
    pub org_code: String,
    pub error: Option<String>,
    /// The quarter the checklist and the template are for, and the quarters to choose from.
    pub quarter: Quarter,
    pub periods: Vec<super::view::Choice>,
    /// The trust's applicable metrics with no value yet in `quarter`, by domain.
    pub missing: Vec<(String, Vec<(String, String)>)>,
    pub submitted: usize,
    pub applicable: usize,
}

#[derive(serde::Deserialize, Default)]
pub struct QuarterQuery {
    #[serde(default)]
    period: Option<String>,
}

/// The quarter a trust is asked about: `period` if given, else the last quarter that has ended
/// (the one being collected); one of the last eight ended quarters.
fn collected_quarter(state: &AppState, period: Option<&str>) -> Result<(Quarter, Vec<Quarter>)> {
    let last = Quarter::last_ended(state.today());
    let choices: Vec<Quarter> = std::iter::successors(Some(last), |q| Some(q.previous())).take(8).collect();
    let quarter = match period.map(str::trim).filter(|p| !p.is_empty()) {
        None => last,
        Some(text) => Quarter::parse(text).ok().filter(|q| choices.contains(q)).ok_or_else(|| {
            AppError::BadRequest(format!(
                "period: '{text}' is not one of the last eight quarters, {} to {last}",
                choices[7]
            ))
        })?,
    };
    Ok((quarter, choices))
}

/// The submit page for `org_code` and `quarter`: what is still to submit, and the form.
fn submit_page(
    state: &AppState,
    auth: &Auth,
    org_code: String,
    quarter: Quarter,
    choices: &[Quarter],
    error: Option<String>,
) -> SubmitPage {
    let f = state.figures();
    let org = f.reference.organisation(&org_code);
    let applicable: Vec<&crate::domain::Metric> =
        f.reference.metrics.iter().filter(|m| org.is_some_and(|o| m.applies(o.trust_type))).collect();
    let submitted = applicable.iter().filter(|m| f.value_at(&org_code, &m.metric_id, quarter).is_some()).count();
    let missing = f
        .reference
        .domains
        .iter()
        .map(|d| {
            let list: Vec<(String, String)> = applicable
                .iter()
                .filter(|m| m.domain == d.domain_id && f.value_at(&org_code, &m.metric_id, quarter).is_none())
                .map(|m| (m.metric_id.clone(), m.name.clone()))
                .collect();
            (d.name.clone(), list)
        })
        .filter(|(_, list)| !list.is_empty())
        .collect();
    SubmitPage {
        csrf_token: auth.csrf_token().into(),
        org_code,
        error,
        quarter,
        periods: choices
            .iter()
            .map(|q| super::view::Choice { value: q.to_string(), label: q.financial_label(), selected: *q == quarter })
            .collect(),
        missing,
        submitted,
        applicable: applicable.len(),
    }
}

/// A CSV template for the trust's quarter: every applicable metric, its name beside its id
/// (`metric_name` is read and ignored), the value already stored filled in.
async fn template(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    axum::extract::Query(q): axum::extract::Query<QuarterQuery>,
) -> Result<Response> {
    let (_, org_code) = trust_of(&auth)?;
    let (quarter, _) = collected_quarter(&state, q.period.as_deref())?;
    let f = state.figures();
    let org = f
        .reference
        .organisation(&org_code)
        .ok_or_else(|| AppError::NotFound(format!("There is no trust {org_code}.")))?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut write = |record: &[String]| out.write_record(record).map_err(|e| AppError::Internal(e.into()));
    let header = ["org_code", "metric_id", "metric_name", "period", "value", "numerator", "denominator", "comment"];
    write(&header.map(String::from))?;
    for m in f.reference.metrics.iter().filter(|m| m.applies(org.trust_type)) {
        let stored = f.value_at(&org_code, &m.metric_id, quarter);
        let counts = stored.as_ref().and_then(|v| v.counts);
        let scale = format!(
            "{} {}–{}",
            m.unit.as_str(),
            super::view::num(Some(m.scale_min)),
            super::view::num(Some(m.scale_max))
        );
        write(&[
            org_code.clone(),
            m.metric_id.clone(),
            if m.is_proportion() {
                format!("{} ({scale}; or give the counts)", m.name)
            } else {
                format!("{} ({scale})", m.name)
            },
            quarter.to_string(),
            stored.map_or(String::new(), |v| v.value.to_string()),
            counts.map_or(String::new(), |c| c.numerator.to_string()),
            counts.map_or(String::new(), |c| c.denominator.to_string()),
            String::new(),
        ])?;
    }
    let body = out.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let name = format!("{org_code}_{quarter}_template.csv");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response())
}

pub struct QuarterSummary {
    pub quarter: String,
    pub rows: usize,
    pub new: usize,
    pub revised: usize,
    pub unchanged: usize,
}

pub struct Revision {
    pub org_code: String,
    pub metric_id: String,
    pub metric: String,
    pub quarter: String,
    pub old: String,
    pub new: String,
}

#[derive(Template)]
#[template(path = "preview.html")]
pub struct PreviewPage {
    pub csrf_token: String,
    pub upload_id: i64,
    pub format: String,
    pub filename: String,
    pub rows: usize,
    pub errors: Errors,
    pub quarters: Vec<QuarterSummary>,
    pub metrics: Vec<(String, usize)>,
    pub revisions: Vec<Revision>,
    pub flags: Vec<QualityFlag>,
    pub rules: String,
    /// NHS App uptake: months and measures rather than quarters and metrics, no quality rules.
    pub uptake: bool,
}

impl PreviewPage {
    pub fn period_noun(&self) -> &'static str {
        if self.uptake { "month" } else { "quarter" }
    }

    pub fn item_noun(&self) -> &'static str {
        if self.uptake { "measure" } else { "metric" }
    }
}

fn trust_of(auth: &Auth) -> Result<(i64, String)> {
    match &auth.user {
        Some(u) if u.role == Role::Trust => Ok((u.id, u.org_code.clone().unwrap_or_default())),
        _ => Err(AppError::Forbidden("Only a trust's submitters may submit.".into())),
    }
}

/// Who may submit on the web, and for what: a trust's submitter for their trust (`Some(org)`),
/// an analyst or administrator NHS App uptake, national data (`None`).
fn submitter(auth: &Auth) -> Result<(i64, Option<String>)> {
    match &auth.user {
        Some(u) if u.role == Role::Trust => Ok((u.id, Some(u.org_code.clone().unwrap_or_default()))),
        Some(u) if matches!(u.role, Role::Analyst | Role::Admin) => Ok((u.id, None)),
        _ => Err(AppError::Forbidden(
            "Only a trust's submitters (metric values and targets) and analysts and administrators (NHS App uptake) may submit."
                .into(),
        )),
    }
}

#[derive(Template)]
#[template(path = "submit_uptake.html")]
pub struct UptakeSubmitPage {
    pub csrf_token: String,
    pub error: Option<String>,
    pub measures: Vec<(String, String)>,
    pub bands: Vec<&'static str>,
}

fn uptake_page(auth: &Auth, error: Option<String>) -> UptakeSubmitPage {
    use crate::domain::uptake::{AgeBand, measures};
    UptakeSubmitPage {
        csrf_token: auth.csrf_token().into(),
        error,
        measures: measures().iter().map(|m| (m.measure.clone(), m.name.clone())).collect(),
        bands: AgeBand::ALL.iter().map(|b| b.as_str()).collect(),
    }
}

async fn form(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    axum::extract::Query(q): axum::extract::Query<QuarterQuery>,
) -> Result<Html<String>> {
    let (_, org) = submitter(&auth)?;
    let Some(org_code) = org else { return render(&auth, &uptake_page(&auth, None)) };
    let (quarter, choices) = collected_quarter(&state, q.period.as_deref())?;
    render(&auth, &submit_page(&state, &auth, org_code, quarter, &choices, None))
}

async fn preview(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    mut multipart: Multipart,
) -> Result<Response> {
    let (user_id, org) = submitter(&auth)?;
    let (mut csrf, mut file, mut filename, mut pasted) = (String::new(), Vec::new(), None, String::new());
    while let Some(field) =
        multipart.next_field().await.map_err(|e| AppError::BadRequest(format!("the upload could not be read: {e}")))?
    {
        match field.name().unwrap_or_default() {
            "csrf_token" => csrf = field.text().await.unwrap_or_default(),
            "pasted" => pasted = field.text().await.unwrap_or_default(),
            "file" => {
                filename = field.file_name().filter(|n| !n.is_empty()).map(str::to_string);
                file = field
                    .bytes()
                    .await
                    .map_err(|e| AppError::BadRequest(format!("the file could not be read: {e}")))?
                    .to_vec();
            }
            _ => {}
        }
    }
    super::check_csrf(&auth, &csrf)?;
    let bytes = if file.is_empty() { pasted.into_bytes() } else { file };
    let format = Format::sniff(&bytes);
    let refused = if bytes.iter().all(u8::is_ascii_whitespace) {
        Some("Choose a file or paste CSV rows.".to_string())
    } else if org.is_none() && format.kind() != crate::store::SubmissionKind::Uptake {
        Some(format!(
            "This holds {}: analysts and administrators send NHS App uptake here, a CSV with the columns \
             area_code, month, measure and value (or FHIR MeasureReports about areas). Metric values and targets come from trusts.",
            format.label()
        ))
    } else {
        None
    };
    if let Some(message) = refused {
        let html = match org {
            Some(org_code) => {
                let (quarter, choices) = collected_quarter(&state, None)?;
                render(&auth, &submit_page(&state, &auth, org_code, quarter, &choices, Some(message)))?
            }
            None => render(&auth, &uptake_page(&auth, Some(message)))?,
        };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    let f = state.figures();
    let today = state.today();
    let bytes = std::sync::Arc::new(bytes);
    let Validated { rows: total, parsed, .. } =
        validate(&f.reference, today, bytes.clone(), format, &auth.actor().for_org(org)).await?;
    let upload_id = match &parsed {
        Ok(_) => state.store.save_upload(user_id, format.as_str(), filename.as_deref(), &bytes).await?,
        Err(_) => 0,
    };
    let mut page = PreviewPage {
        csrf_token: auth.csrf_token().into(),
        upload_id,
        format: format.label().into(),
        filename: filename.unwrap_or_else(|| "pasted rows".into()),
        rows: total,
        errors: Errors::new(),
        quarters: Vec::new(),
        metrics: Vec::new(),
        revisions: Vec::new(),
        flags: Vec::new(),
        rules: crate::figures::quality::rules_text(),
        uptake: format.kind() == crate::store::SubmissionKind::Uptake,
    };
    match parsed {
        Err(errors) => page.errors = errors,
        Ok(crate::submit::Parsed::Conformance(rows)) => {
            page.rows = rows.len();
            let mut by_standard: BTreeMap<String, usize> = BTreeMap::new();
            for r in &rows {
                *by_standard.entry(format!("{} ({})", r.standard_id, r.result)).or_default() += 1;
            }
            page.metrics = by_standard.into_iter().collect();
        }
        Ok(crate::submit::Parsed::Organisations(orgs)) => page.rows = orgs.len(),
        Ok(crate::submit::Parsed::Uptake(rows)) => {
            page.rows = rows.len();
            let current = state.store.uptake().await?;
            uptake_preview(&mut page, &rows, &current);
        }
        Ok(crate::submit::Parsed::Values(rows)) => {
            page.rows = rows.len();
            let mut by_quarter: BTreeMap<Quarter, QuarterSummary> = BTreeMap::new();
            let mut by_metric: BTreeMap<String, usize> = BTreeMap::new();
            for r in &rows {
                *by_metric.entry(r.metric_id.clone()).or_default() += 1;
                let q = by_quarter.entry(r.period).or_insert_with(|| QuarterSummary {
                    quarter: r.period.financial_label(),
                    rows: 0,
                    new: 0,
                    revised: 0,
                    unchanged: 0,
                });
                q.rows += 1;
                if format == Format::TargetsCsv {
                    q.new += 1;
                    continue;
                }
                match f.value_at(&r.org_code, &r.metric_id, r.period) {
                    None => q.new += 1,
                    Some(old) if old.value == r.value => q.unchanged += 1,
                    Some(old) => {
                        q.revised += 1;
                        page.revisions.push(Revision {
                            org_code: r.org_code.clone(),
                            metric: f.reference.metric(&r.metric_id).map_or(r.metric_id.clone(), |m| m.name.clone()),
                            metric_id: r.metric_id.clone(),
                            quarter: r.period.financial_label(),
                            old: format!("{} (revision {})", old.value, old.revision),
                            new: r.value.to_string(),
                        });
                    }
                }
                page.flags.extend(crate::figures::quality::check(&f, &r.org_code, &r.metric_id, r.period, r.value));
            }
            page.quarters = by_quarter.into_values().collect();
            page.metrics = by_metric.into_iter().collect();
        }
    }
    let status =
        if page.errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, render(&auth, &page)?).into_response())
}

/// An uptake file's preview: its rows by month (new, revised, unchanged against the counts
/// stored now) and by measure, and the counts it would revise.
fn uptake_preview(
    page: &mut PreviewPage,
    rows: &[crate::domain::uptake::UptakeRow],
    current: &[crate::domain::uptake::UptakeValue],
) {
    use crate::domain::uptake::{AgeBand, Month};
    let stored: std::collections::HashMap<(&str, Month, &str, AgeBand), (f64, i64)> = current
        .iter()
        .map(|v| ((v.area_code.as_str(), v.month, v.measure.as_str(), v.age_band), (v.value, v.revision)))
        .collect();
    let mut by_month: BTreeMap<Month, QuarterSummary> = BTreeMap::new();
    let mut by_measure: BTreeMap<String, usize> = BTreeMap::new();
    for r in rows {
        *by_measure.entry(r.measure.clone()).or_default() += 1;
        let m = by_month.entry(r.month).or_insert_with(|| QuarterSummary {
            quarter: r.month.label(),
            rows: 0,
            new: 0,
            revised: 0,
            unchanged: 0,
        });
        m.rows += 1;
        match stored.get(&(r.area_code.as_str(), r.month, r.measure.as_str(), r.age_band)) {
            None => m.new += 1,
            Some((old, _)) if *old == r.value => m.unchanged += 1,
            Some((old, revision)) => {
                m.revised += 1;
                page.revisions.push(Revision {
                    org_code: r.area_code.clone(),
                    metric: crate::domain::uptake::measure(&r.measure).map_or(r.measure.clone(), |x| x.name.clone()),
                    metric_id: r.measure.clone(),
                    quarter: format!("{} ({})", r.month.label(), r.age_band),
                    old: format!("{old} (revision {revision})"),
                    new: r.value.to_string(),
                });
            }
        }
    }
    page.quarters = by_month.into_values().collect();
    page.metrics = by_measure.into_iter().collect();
}

#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    csrf_token: String,
}

async fn confirm(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(upload_id): Path<i64>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response> {
    let (user_id, org) = submitter(&auth)?;
    super::check_csrf(&auth, &form.csrf_token)?;
    let (format, filename, bytes) = state
        .store
        .take_upload(upload_id, user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("This upload has already been confirmed, or it is not yours.".into()))?;
    let format =
        Format::parse(&format).ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown upload format {format}")))?;
    let actor = auth.actor().for_org(org);
    let f = state.figures();
    let upload = Upload::bytes(format, bytes, filename);
    let answer = submit(&state.store, &f.reference, &actor, upload, Options::on(state.today())).await?.answer;
    if let crate::submit::Answer::Closed { message, .. } = &answer {
        return Err(AppError::Conflict(format!("This file cannot be stored: {message}")));
    }
    if matches!(answer, crate::submit::Answer::Stored(Outcome::Accepted { .. })) {
        state.refresh().await?;
    }
    let id = answer.submission_id().unwrap_or_default();
    Ok(Redirect::to(&format!("/submissions/{id}?stored=1")).into_response())
}

#[derive(Template)]
#[template(path = "submissions.html")]
pub struct SubmissionsPage {
    pub scope: String,
    pub submissions: Vec<SubmissionRecord>,
}

/// A trust's submitter sees its own trust's submissions; the other roles see all.
fn scope(auth: &Auth) -> Option<String> {
    auth.user.as_ref().filter(|u| u.role == Role::Trust).and_then(|u| u.org_code.clone())
}

async fn list(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    let own = scope(&auth);
    let submissions = state.store.submissions(own.as_deref(), 500).await?;
    let scope = own.map_or("every trust and the command line".into(), |o| format!("trust {o}"));
    render(&auth, &SubmissionsPage { scope, submissions })
}

/// A value a submission stored, as its page lists it.
pub struct StoredRow {
    pub quarter: String,
    /// The value's history on the trust's metric page.
    pub href: String,
    pub metric: String,
    pub value: String,
    /// "new", or "revised from 42.0".
    pub change: String,
}

/// What a trust's quarter looks like now, after the submission: for the confirmation panel.
pub struct QuarterNow {
    pub quarter: String,
    pub href: String,
    pub maturity: String,
}

#[derive(Template)]
#[template(path = "submission.html")]
pub struct SubmissionPage {
    pub s: SubmissionRecord,
    /// Just confirmed: show the confirmation panel.
    pub just_stored: bool,
    pub values: Vec<StoredRow>,
    pub new_values: usize,
    pub revised_values: usize,
    pub quarters: Vec<QuarterNow>,
}

/// The most stored values a submission's page lists.
const LISTED_VALUES: usize = 500;

#[derive(serde::Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    stored: Option<String>,
}

async fn detail(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<DetailQuery>,
) -> Result<Html<String>> {
    let s = visible_submission(&state, &auth, id).await?;
    let stored = match (&s.org_code, s.kind.as_str(), s.status) {
        (Some(org), "metrics", crate::domain::SubmissionStatus::Accepted) => {
            state.store.submission_values(id, org).await?
        }
        _ => Vec::new(),
    };
    let f = state.figures();
    let new_values = stored.iter().filter(|v| v.previous.is_none()).count();
    let mut quarters: Vec<Quarter> = stored.iter().map(|v| v.period).collect();
    quarters.dedup();
    let org = s.org_code.clone().unwrap_or_default();
    let quarters = quarters
        .into_iter()
        .map(|q| QuarterNow {
            quarter: q.financial_label(),
            href: format!("/trusts/{org}?period={q}"),
            maturity: super::view::num(f.index(&org, q, "all").and_then(|i| i.domain_index)),
        })
        .collect();
    let values = stored
        .iter()
        .take(LISTED_VALUES)
        .map(|v| StoredRow {
            quarter: v.period.financial_label(),
            metric: f.reference.metric(&v.metric_id).map_or(v.metric_id.clone(), |m| m.name.clone()),
            href: format!("/trusts/{org}/metrics/{}", v.metric_id),
            value: super::view::num(Some(v.value)),
            change: match v.previous {
                None => "new".into(),
                Some(p) => format!("revised from {}", super::view::num(Some(p))),
            },
        })
        .collect();
    let page = SubmissionPage {
        just_stored: q.stored.is_some() && s.status == crate::domain::SubmissionStatus::Accepted,
        new_values,
        revised_values: stored.len() - new_values,
        values,
        quarters,
        s,
    };
    render(&auth, &page)
}

/// A submission the user may see.
pub async fn visible_submission(state: &AppState, auth: &Auth, id: i64) -> Result<SubmissionRecord> {
    // One answer for "no such submission" and "another trust's": the answer must not tell a
    // trust which ids exist.
    let hidden = || AppError::NotFound(format!("There is no submission {id} that you can see."));
    let s = state.store.submission(id).await?.ok_or_else(hidden)?;
    match scope(auth) {
        Some(own) if s.org_code.as_deref() != Some(own.as_str()) => Err(hidden()),
        _ => Ok(s),
    }
}
