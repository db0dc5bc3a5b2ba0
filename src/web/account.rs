//! Signing in and out: a server-side session behind an HttpOnly, SameSite=Lax cookie, renewed at
//! sign-in, with a CSRF token; failures delayed (see `auth::rate`) and audited.

use super::render;
use crate::auth::{
    Auth, CSRF_COOKIE, SESSION_COOKIE, SESSION_HOURS, hash_secret, password, random_token, visitor_csrf,
};
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .merge(super::two_step::router())
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub csrf_token: String,
    pub next: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    csrf_token: String,
    next: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .build()
}

/// Where to go after signing in: a path on this site only, parsed as an HTTP path and query
/// (which refuses tabs, line breaks, NUL and spaces) and written back from the parse; not a
/// scheme, a host, or a path a browser would read as one (`//host`, `/\\host`).
pub(super) fn safe_next(next: Option<&str>) -> String {
    next.and_then(|n| n.parse::<axum::http::uri::PathAndQuery>().ok())
        .filter(|pq| pq.path().starts_with('/') && !pq.path().starts_with("//") && !pq.as_str().contains('\\'))
        .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string())
}

/// Makes sure the browser can send the sign-in form: the session's CSRF token, or a visitor's,
/// derived from a new nonce in a cookie (nothing is stored on the server for a visitor).
async fn ensure_csrf(state: &AppState, auth: &Auth, jar: CookieJar) -> Result<(CookieJar, String)> {
    if let Some(csrf) = &auth.csrf {
        return Ok((jar, csrf.clone()));
    }
    let nonce = random_token();
    let csrf = visitor_csrf(&state.csrf_key().await?, &nonce);
    Ok((jar.add(cookie(state, CSRF_COOKIE, nonce)), csrf))
}

async fn sign_in_page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Result<Response> {
    let (jar, csrf_token) = ensure_csrf(&state, &auth, jar).await?;
    let page = SignInPage { csrf_token, next: safe_next(q.next.as_deref()), email: String::new(), error: None };
    Ok((jar, render(&auth, &page)?).into_response())
}

async fn sign_in(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Result<Response> {
    super::check_csrf(&auth, &form.csrf_token)?;
    let email = form.email.trim().to_lowercase();
    let address = auth.origin.clone().unwrap_or_default();
    let next = safe_next(form.next.as_deref());
    let again = |status: StatusCode, message: &str| -> Result<Response> {
        let page = SignInPage {
            csrf_token: auth.csrf_token().into(),
            next: next.clone(),
            email: email.clone(),
            error: Some(message.into()),
        };
        Ok((status, render(&auth, &page)?).into_response())
    };
    let attempt = match state.limiter.begin(&email, &address, std::time::Instant::now()) {
        Ok(attempt) => attempt,
        Err(wait) => {
            // Not checked, so not audited (a flood would fill the log); the refusal is logged.
            tracing::warn!(account = %email, address = %address, wait = wait.as_secs(), "sign-in delayed");
            let seconds = wait.as_secs().max(1);
            let message = format!(
                "There have been too many failed attempts to sign in. Wait {} and try again.",
                if seconds < 90 { format!("{seconds} seconds") } else { format!("{} minutes", seconds.div_ceil(60)) }
            );
            let mut response = again(StatusCode::TOO_MANY_REQUESTS, &message)?;
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
            return Ok(response);
        }
    };
    let found = state.store.user_by_email(&email).await?;
    let (user, hash) = match found {
        Some((user, hash)) if !user.disabled => (Some(user), hash),
        _ => (None, None),
    };
    let ok = password::verify(form.password, hash).await && user.is_some();
    state.store.audit_sign_in(&email, ok, auth.origin.clone()).await?;
    let Some(user) = user.filter(|_| ok) else {
        // The attempt stays counted as a failure.
        return again(StatusCode::UNAUTHORIZED, "The email address or password is not right.");
    };
    state.limiter.succeeded(attempt);
    // A new session id at sign-in: any earlier one is dropped.
    if let Some(old) = &auth.session {
        state.store.delete_session(old).await?;
    }
    // With a second factor (or when one is required and not yet set up) the session waits for
    // it: it is not signed in until the code is given.
    let has_factor = state.store.second_factor(user.id).await?.is_some();
    let must_enrol = !has_factor && state.config.require_mfa && crate::auth::mfa::required_for(user.role);
    let (id, csrf) = (random_token(), random_token());
    state.store.create_session(&hash_secret(&id), user.id, &csrf, SESSION_HOURS, has_factor || must_enrol).await?;
    let jar = jar.remove(Cookie::build(CSRF_COOKIE).path("/").build());
    // A trust's user who was not on their way somewhere lands on their own trust.
    let next = match (&user.org_code, user.role) {
        (Some(org), crate::domain::Role::Trust) if next == "/" => format!("/trusts/{org}"),
        _ => next,
    };
    let to = match (has_factor, must_enrol) {
        (true, _) => format!("/sign-in/code?next={}", super::access::encode(&next)),
        (_, true) => format!("/account/two-step?next={}", super::access::encode(&next)),
        _ => next,
    };
    Ok((jar.add(cookie(&state, SESSION_COOKIE, id)), Redirect::to(&to)).into_response())
}

async fn sign_out(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response> {
    super::check_csrf(&auth, &form.csrf_token)?;
    if let Some(id_hash) = &auth.session {
        state.store.delete_session(id_hash).await?;
    }
    Ok((jar.remove(Cookie::build(SESSION_COOKIE).path("/").build()), Redirect::to("/")).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn after_sign_in_only_a_path_on_this_site_is_followed() {
        assert_eq!(safe_next(Some("/trusts/RGT?period=latest")), "/trusts/RGT?period=latest");
        for hostile in [
            "/\t/evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "evil.example",
            "/a\nb",
            "/a\0b",
            "/a b",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
