//! HTTP: one router per area, merged here; handlers parse, call the layers below, and render.

pub mod access;
mod account;
mod admin;
mod api;
mod app_uptake;
mod blueprints;
mod board_pack;
mod catalogue;
mod claims;
mod compare;
mod completeness;
mod datasets;
pub mod error;
mod evaluation;
mod exports;
mod findings;
mod gaps;
mod metric;
mod middleware;
mod openapi;
mod overview;
mod page;
mod peer_groups;
mod rate;
mod releases;
mod standards;
mod state;
mod submit;
mod systems;
mod trust;
mod trusts;
mod two_step;
mod view;

use crate::auth::Auth;
use crate::domain::Role;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
pub use page::{CachedPage, Page};
pub use state::{AppState, Clock, PageCache};
use std::sync::Arc;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

pub fn router(state: AppState) -> Router {
    let static_dir = state.config.static_dir.clone();
    Router::new()
        .merge(overview::router())
        .merge(metric::router())
        .merge(trust::router())
        .merge(catalogue::router())
        .merge(exports::router())
        .route("/healthz", get(healthz))
        .nest_service("/static", ServeDir::new(&static_dir))
        .nest_service("/assets", ServeDir::new(static_dir.join("assets")))
        .merge(account::router())
        .merge(submit::router())
        .merge(
            api::router()
                .merge(datasets::router())
                .layer(rate::layer(state.config.api_burst, state.config.api_refill_ms)),
        )
        .merge(admin::router())
        .merge(systems::router())
        .merge(standards::router())
        .merge(claims::router())
        .merge(findings::router())
        .merge(compare::router())
        .merge(trusts::router())
        .merge(gaps::router())
        .merge(board_pack::router())
        .merge(releases::router())
        .merge(app_uptake::router())
        .merge(evaluation::router())
        .merge(blueprints::router())
        .merge(peer_groups::router())
        .merge(completeness::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(page::send))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::web::access::enforce))
        .layer(axum::middleware::from_fn_with_state(state.readiness(), middleware::front))
        .layer(axum::middleware::from_fn_with_state(
            state.config.secure_cookies(),
            crate::web::access::security_headers,
        ))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

/// Refuses a form whose CSRF token is not the request's (`Auth::csrf_ok`) with 403.
pub fn check_csrf(auth: &Auth, token: &str) -> Result<()> {
    if auth.csrf_ok(token) {
        Ok(())
    } else {
        Err(AppError::Forbidden("The form has expired. Go back, reload the page and try again.".into()))
    }
}

/// Renders a page for `auth`'s user (the header's account links); a failure becomes a 500.
pub fn render<T: Template>(auth: &Auth, page: &T) -> Result<Html<String>> {
    Ok(with_account(&for_reader(page.render()?, auth), auth))
}

/// The reader's own parts of a page, in the order of `page::MARKERS`: the header's account
/// links, who is signed in, and the banner.
fn reader_parts(auth: &Auth) -> [String; 3] {
    [account_links(auth), who(auth), banner(auth)]
}

/// The page with the reader's own parts in place of its first `<!--account-->`, `<!--who-->`
/// and `<!--banner-->`: one copy of the page, not one per part.
fn with_account(html: &str, auth: &Auth) -> Html<String> {
    Html(page::fill(html, &page::slots_of(html), &reader_parts(auth)))
}

/// Who a page is for, as far as what it shows differs (part of a cached page's key): a visitor,
/// a signed-in reader, or a board member.
fn reader_class(auth: &Auth) -> &'static str {
    match &auth.user {
        None => "visitor",
        Some(u) if u.role == Role::Board => "board",
        Some(_) => "signed-in",
    }
}

/// What differs between readers is marked in the templates and settled here, before a page is
/// cached for its reader class: `<!--in:…:in-->` (links to pages that need an account) is shown
/// to signed-in readers only, `<!--out:…:out-->` ("sign in to see") to visitors only, and
/// `<!--board:…:board-->` (such as "Record a finding") to board members only; the others stay
/// comments.
fn for_reader(html: String, auth: &Auth) -> String {
    for_class(html, reader_class(auth))
}

/// `for_reader` for a reader class (`reader_class`).
fn for_class(html: String, class: &str) -> String {
    let html = match class {
        "visitor" => html.replace("<!--out:", "").replace(":out-->", ""),
        _ => html.replace("<!--in:", "").replace(":in-->", ""),
    };
    if class == "board" { html.replace("<!--board:", "").replace(":board-->", "") } else { html }
}

/// The banner under the header of every page: synthetic demonstration figures said so, and what
/// the figures shown are (provisional, which submissions, when computed).
#[derive(Template)]
#[template(path = "partials/banner.html")]
struct Banner<'a> {
    synthetic: bool,
    figures_note: &'a str,
}

fn banner(auth: &Auth) -> String {
    Banner { synthetic: auth.synthetic, figures_note: &auth.figures_note }.render().unwrap_or_default()
}

/// A page from this instance's cache, if `key` (which names the data version) is there.
pub fn cached(state: &AppState, auth: &Auth, key: &str) -> Option<Page> {
    state.pages.get(key).map(|cached| Page { cached, parts: Arc::new(reader_parts(auth)) })
}

/// The cache key of a page: everything it depends on — the data version, the figures shown,
/// the reader class (visitor, signed in, board), today's date (the
/// standards in force, so procurement, change with it), the URL, and `more` (findings, say).
pub fn page_key(state: &AppState, auth: &Auth, data_version: i64, more: &str, uri: &axum::http::Uri) -> String {
    format!("{data_version}|{}|{}|{}|{more}|{uri}", auth.shown.key(), reader_class(auth), state.today())
}

/// Serves a page from the cache, or builds it off the async runtime and caches it. The key,
/// from `page_key`, names everything the page shows.
pub async fn cached_page<T: Template + Send + 'static>(
    state: &AppState,
    auth: &Auth,
    key: String,
    build: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<Page> {
    if let Some(page) = cached(state, auth, &key) {
        return Ok(page);
    }
    let loading = state.figures().loading;
    let class = reader_class(auth);
    let cached = Arc::new(blocking(move || Ok(CachedPage::new(for_class(build()?.render()?, class)))).await?);
    if !loading {
        state.pages.put(key, cached.clone());
    }
    Ok(Page { cached, parts: Arc::new(reader_parts(auth)) })
}

/// The header's links for the signed-in user, or the sign-in link. Pages are cached without
/// them (they are the same for everyone) and the links go in at `<!--account-->`.
#[derive(Template)]
#[template(path = "partials/account.html")]
struct AccountLinks<'a> {
    email: Option<&'a str>,
    /// A trust's user's own trust, for "My trust".
    own_org: Option<&'a str>,
    submits: bool,
    audits: bool,
    two_step: bool,
}

/// The header's account area: who is signed in (and as what), and the sign-out button.
#[derive(Template)]
#[template(path = "partials/who.html")]
struct Who<'a> {
    email: Option<&'a str>,
    role: &'a str,
    csrf_token: &'a str,
}

fn who(auth: &Auth) -> String {
    let user = auth.user.as_ref();
    let role = user.map_or("", |u| match u.role {
        Role::Trust => "trust submitter",
        Role::Board => "board member",
        Role::Analyst => "analyst",
        Role::Assessor => "assessor",
        Role::Admin => "administrator",
    });
    let who = Who { email: user.map(|u| u.email.as_str()), role, csrf_token: auth.csrf_token() };
    who.render().unwrap_or_else(|e| {
        tracing::error!(error = ?e, "the account area did not render");
        String::new()
    })
}

fn account_links(auth: &Auth) -> String {
    let user = auth.user.as_ref();
    let links = AccountLinks {
        email: user.map(|u| u.email.as_str()),
        own_org: user.filter(|u| u.role == Role::Trust).and_then(|u| u.org_code.as_deref()),
        submits: user.is_some_and(|u| matches!(u.role, Role::Trust | Role::Analyst | Role::Admin)),
        audits: user.is_some_and(|u| u.role == Role::Admin),
        two_step: user.is_some_and(|u| crate::auth::mfa::required_for(u.role)),
    };
    links.render().unwrap_or_else(|e| {
        tracing::error!(error = ?e, "the account links did not render");
        String::new()
    })
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let f = state.figures();
    let figures = if f.loading { "loading" } else { "ready" };
    Json(
        serde_json::json!({ "status": "ok", "data_version": f.data_version, "computed_at": f.computed_at, "figures": figures }),
    )
}

async fn not_found() -> AppError {
    AppError::NotFound("There is no page at this address.".into())
}

/// Runs CPU-heavy page work (charts) off the async runtime.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| AppError::Internal(e.into()))?
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readers_parts_go_in_place_of_each_marker_once() {
        let auth = crate::auth::Auth { synthetic: true, ..Default::default() };
        let page = "<header><!--account--></header><p><!--who--></p><main><!--banner-->text <!--who--></main>";
        let out = super::with_account(page, &auth).0;
        assert!(!out.contains("<!--account-->") && !out.contains("<!--banner-->"), "{out}");
        assert!(
            out.starts_with("<header>") && out.ends_with("text <!--who--></main>"),
            "only the first of each: {out}"
        );
        assert!(out.contains("Sign in") && out.contains("Demonstration data"), "{out}");
        assert!(out.find("Sign in") < out.find("Demonstration data"), "in the page's order");
    }
}
