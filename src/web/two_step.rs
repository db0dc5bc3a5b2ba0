//! Two-step sign-in: the code from an authenticator app (or a recovery code) after the
//! password, and setting the app up. See `auth::mfa`.

use super::render;
use crate::auth::Auth;
use crate::auth::mfa::{self, Enrolment};
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in/code", get(code_page).post(code))
        .route("/account/two-step", get(enrol_page).post(enrol))
}

#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    csrf_token: String,
    #[serde(default)]
    code: String,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "two_step_code.html")]
pub struct CodePage {
    pub csrf_token: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "two_step_enrol.html")]
pub struct EnrolPage {
    pub csrf_token: String,
    pub next: String,
    pub email: String,
    pub enrolment: Enrolment,
    pub required: bool,
    pub replacing: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "two_step_codes.html")]
pub struct CodesPage {
    pub next: String,
    pub codes: Vec<String>,
}

/// Back to the sign-in form (the password first).
fn to_sign_in() -> Response {
    Redirect::to("/sign-in").into_response()
}

async fn code_page(Extension(auth): Extension<Auth>, Query(q): Query<NextQuery>) -> Result<Response> {
    if auth.pending.is_none() {
        return Ok(to_sign_in());
    }
    let page = CodePage {
        csrf_token: auth.csrf_token().into(),
        next: super::account::safe_next(q.next.as_deref()),
        error: None,
    };
    Ok(render(&auth, &page)?.into_response())
}

/// Checks the code of a pending sign-in: a TOTP code (each time step once) or an unused
/// recovery code. Attempts are limited as passwords are.
async fn code(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Form(form): Form<CodeForm>,
) -> Result<Response> {
    let (Some(user), Some(session)) = (auth.pending.clone(), auth.session.clone()) else { return Ok(to_sign_in()) };
    super::check_csrf(&auth, &form.csrf_token)?;
    let next = super::account::safe_next(form.next.as_deref());
    let again = |status: StatusCode, message: String| -> Result<Response> {
        let page = CodePage { csrf_token: auth.csrf_token().into(), next: next.clone(), error: Some(message) };
        Ok((status, render(&auth, &page)?).into_response())
    };
    let Some(factor) = state.store.second_factor(user.id).await? else { return Ok(to_sign_in()) };
    let address = auth.origin.clone().unwrap_or_default();
    let attempt = match state.limiter.begin(&format!("code:{}", user.email), &address, std::time::Instant::now()) {
        Ok(a) => a,
        Err(wait) => {
            let message = format!("Too many wrong codes. Wait {} seconds and try again.", wait.as_secs().max(1));
            return again(StatusCode::TOO_MANY_REQUESTS, message);
        }
    };
    let by_app = match mfa::matching_step(&factor.secret, &user.email, &form.code, mfa::now_unix()) {
        Some(step) => state.store.take_totp_step(user.id, step).await?,
        None => false,
    };
    let by_recovery = !by_app && state.store.use_recovery_code(user.id, &mfa::recovery_hash(&form.code)).await?;
    let action = match (by_app, by_recovery) {
        (true, _) => "mfa.success",
        (_, true) => "mfa.recovery_code",
        _ => "mfa.failure",
    };
    state.store.audit_second_factor(&user.email, action, auth.origin.clone()).await?;
    if !(by_app || by_recovery) {
        return again(
            StatusCode::UNAUTHORIZED,
            "The code is not right, or has been used. Enter the code your app shows now, or a recovery code.".into(),
        );
    }
    state.limiter.succeeded(attempt);
    state.store.pass_session(&session).await?;
    Ok(Redirect::to(&next).into_response())
}

/// Who is setting up a second factor: a signed-in user, or one whose sign-in waits for it
/// because their role must have one.
fn enrolling_user(auth: &Auth) -> Option<crate::store::User> {
    auth.user.clone().or_else(|| auth.pending.clone())
}

async fn enrol_page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<NextQuery>,
) -> Result<Response> {
    let (Some(user), Some(session)) = (enrolling_user(&auth), auth.session.clone()) else { return Ok(to_sign_in()) };
    let replacing = state.store.second_factor(user.id).await?.is_some();
    if auth.pending.is_some() && replacing {
        // A pending sign-in with a factor gives its code first.
        return Ok(Redirect::to("/sign-in/code").into_response());
    }
    let secret = mfa::new_secret();
    state.store.set_enrolling_secret(&session, &secret).await?;
    let next = super::account::safe_next(q.next.as_deref());
    Ok(enrol_form(&auth, user, &secret, next, replacing, None)?.into_response())
}

/// The set-up form for `secret`, with an error when a code was not right.
fn enrol_form(
    auth: &Auth,
    user: crate::store::User,
    secret: &str,
    next: String,
    replacing: bool,
    error: Option<String>,
) -> Result<axum::response::Html<String>> {
    let page = EnrolPage {
        csrf_token: auth.csrf_token().into(),
        next,
        enrolment: mfa::enrolment(secret, &user.email)?,
        email: user.email,
        required: auth.pending.is_some(),
        replacing,
        error,
    };
    render(auth, &page)
}

/// Confirms the app with its first code; answers the recovery codes, shown once.
async fn enrol(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Form(form): Form<CodeForm>,
) -> Result<Response> {
    let (Some(user), Some(session)) = (enrolling_user(&auth), auth.session.clone()) else { return Ok(to_sign_in()) };
    super::check_csrf(&auth, &form.csrf_token)?;
    let next = super::account::safe_next(form.next.as_deref());
    let Some(secret) = auth.enrolling.clone() else {
        return Ok(Redirect::to(&format!("/account/two-step?next={}", super::access::encode(&next))).into_response());
    };
    let Some(step) = mfa::matching_step(&secret, &user.email, &form.code, mfa::now_unix()) else {
        state.store.audit_second_factor(&user.email, "mfa.enrol_failure", auth.origin.clone()).await?;
        let error = Some("The code is not right. Enter the six digits your app shows now.".into());
        let page = enrol_form(&auth, user, &secret, next, false, error)?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let codes = mfa::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| mfa::recovery_hash(c)).collect();
    state.store.enrol_second_factor(user.id, &secret, step, &hashes, &auth.actor()).await?;
    state.store.pass_session(&session).await?;
    Ok(render(&auth, &CodesPage { next, codes })?.into_response())
}
