//! Who may use which route: one table, enforced by one middleware. Pages send signed-out users
//! to sign in; the API answers 401 and 403 as JSON.

use crate::auth::{Auth, CSRF_COOKIE, SESSION_COOKIE, hash_secret, user_of_token, visitor_csrf};
use crate::domain::Role;
use crate::web::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user (or API token where tokens are accepted).
    SignedIn,
    /// Signed-in users with one of these roles.
    Roles(&'static [Role]),
}

use Access::*;
use Role::*;

/// Every route of the app and who may use it.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/", Public),
    ("GET", "/healthz", Public),
    ("GET", "/standards", Public),
    ("GET", "/standards/{standard_id}", Public),
    ("GET", "/systems", SignedIn),
    ("GET", "/systems/upgrades", SignedIn),
    ("GET", "/systems/{system_id}", SignedIn),
    ("GET", "/gaps/claims", SignedIn),
    ("GET", "/methods", Public),
    ("GET", "/releases", Public),
    ("GET", "/app", Public),
    ("GET", "/app/areas/{code}", Public),
    ("GET", "/app/measures/{measure}", Public),
    // An analyst or administrator with the publisher permission (the handler checks it).
    ("POST", "/releases", Roles(&[Analyst, Admin])),
    ("GET", "/completeness", SignedIn),
    ("POST", "/completeness/sign-off", Roles(&[Trust])),
    ("POST", "/completeness/window", Roles(&[Admin])),
    ("GET", "/sign-in", Public),
    ("POST", "/sign-in", Public),
    // The second factor: for a sign-in whose password was right (the handlers check).
    ("GET", "/sign-in/code", Public),
    ("POST", "/sign-in/code", Public),
    ("GET", "/account/two-step", Public),
    ("POST", "/account/two-step", Public),
    ("POST", "/sign-out", SignedIn),
    ("GET", "/metrics", SignedIn),
    ("GET", "/metrics/{metric_id}", SignedIn),
    ("GET", "/trusts", SignedIn),
    ("GET", "/trusts/{ods_code}", SignedIn),
    ("GET", "/trusts/{ods_code}/metrics/{metric_id}", SignedIn),
    ("GET", "/gaps", SignedIn),
    ("GET", "/evaluation", SignedIn),
    ("GET", "/blueprints", SignedIn),
    ("POST", "/blueprints", Roles(&[Trust])),
    ("GET", "/blueprints/new", Roles(&[Trust])),
    ("GET", "/blueprints/{id}", SignedIn),
    ("POST", "/blueprints/{id}/review", Roles(&[Board, Admin])),
    ("GET", "/peer-groups", SignedIn),
    ("POST", "/peer-groups", SignedIn),
    ("GET", "/peer-groups/{id}", SignedIn),
    ("POST", "/peer-groups/{id}", SignedIn),
    ("POST", "/peer-groups/{id}/delete", SignedIn),
    ("GET", "/search", SignedIn),
    ("GET", "/board-pack", SignedIn),
    ("GET", "/compare", SignedIn),
    ("GET", "/export", SignedIn),
    ("GET", "/export/{file}", SignedIn),
    ("GET", "/submit", Roles(&[Trust, Analyst, Admin])),
    ("POST", "/submit", Roles(&[Trust, Analyst, Admin])),
    ("GET", "/submit/template.csv", Roles(&[Trust])),
    ("POST", "/submit/{upload_id}/confirm", Roles(&[Trust, Analyst, Admin])),
    ("GET", "/submissions", SignedIn),
    ("GET", "/submissions/{id}", SignedIn),
    ("GET", "/admin/audit", Roles(&[Admin])),
    ("GET", "/findings", SignedIn),
    ("POST", "/findings", Roles(&[Board])),
    ("POST", "/findings/{id}/status", Roles(&[Board])),
    // Trusts send their own figures and results; assessors and administrators send results for
    // systems (conformance only: `api::create`).
    ("POST", "/api/v1/submissions", Roles(&[Trust, Assessor, Analyst, Admin])),
    ("GET", "/api/v1/submissions/{id}", SignedIn),
    ("GET", "/api", Public),
    ("GET", "/api/v1/openapi.json", Public),
    // The analysts' API: every dataset, with a token or a session.
    ("GET", "/api/v1/datasets", SignedIn),
    ("GET", "/api/v1/datasets/{name}", SignedIn),
];

/// Paths where an API token (`Authorization: Bearer`) is accepted.
pub fn accepts_tokens(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/export/")
}

pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

pub fn access_for(method: &Method, route: &str) -> Option<Access> {
    // HEAD is GET without the body (axum answers it from the GET handler): the same access.
    let method = if method == Method::HEAD { &Method::GET } else { method };
    ROUTES.iter().find(|(m, r, _)| *m == method.as_str() && *r == route).map(|(_, _, a)| *a)
}

/// Identifies the caller and enforces `ROUTES`.
pub async fn enforce(State(state): State<AppState>, jar: CookieJar, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/static/") || path.starts_with("/assets/") {
        return next.run(request).await;
    }
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let origin = peer.map(|peer| client_address(peer, request.headers(), &state.config.trusted_proxies).to_string());
    let figures = state.figures();
    let mut auth = Auth {
        origin,
        synthetic: figures.synthetic,
        figures_note: if figures.loading { String::new() } else { crate::export::Provenance::of(&figures).words() },
        ..Auth::default()
    };
    drop(figures);
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_string);
    if let Some(token) = bearer.filter(|_| accepts_tokens(&path)) {
        match user_of_token(&state.store, &token).await {
            Ok(Some((_, scopes))) if !scopes.allow(request.method().as_str()) => {
                let needs = if scopes.read { "submit" } else { "read" };
                return crate::web::error::AppError::Forbidden(format!(
                    "this API token's scope is {}; {} {path} needs the {needs} scope",
                    scopes.text(),
                    request.method()
                ))
                .into_response();
            }
            Ok(Some((user, _))) => auth.user = Some(user),
            Ok(None) => return unauthorised(&path, "the API token is not valid, has expired or has been revoked"),
            Err(e) => return crate::web::error::AppError::Internal(e).into_response(),
        }
    } else if let Some(cookie) = jar.get(SESSION_COOKIE).filter(|_| !is_api(&path) || request.method().is_safe()) {
        // (A change through the API needs a token: a browser would send the cookie for any
        // page that posts to it, so the cookie alone never authorises one.)
        let id_hash = hash_secret(cookie.value());
        match state.store.session(&id_hash, crate::auth::session_idle()).await {
            Ok(Some(session)) => {
                if session.pending {
                    auth.pending = session.user;
                } else {
                    auth.user = session.user;
                }
                auth.session = Some(id_hash);
                auth.csrf = Some(session.csrf_token);
                auth.enrolling = session.enrolling_secret;
            }
            Ok(None) => {}
            Err(e) => return crate::web::error::AppError::Internal(e).into_response(),
        }
    }
    if auth.csrf.is_none()
        && let Some(nonce) = jar.get(CSRF_COOKIE)
    {
        match state.csrf_key().await {
            Ok(key) => auth.csrf = Some(visitor_csrf(&key, nonce.value())),
            Err(e) => return crate::web::error::AppError::Internal(e).into_response(),
        }
    }
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let access = match route {
        Some(route) => match access_for(request.method(), &route) {
            Some(a) => a,
            // A route that is not in the table is nobody's.
            None => return (StatusCode::NOT_FOUND, "not found").into_response(),
        },
        None => Public, // no route matched: the fallback answers 404
    };
    let allowed = match (access, &auth.user) {
        (Public, _) => true,
        (_, None) => {
            if is_api(&path) || accepts_tokens(&path) && request.headers().contains_key(header::AUTHORIZATION) {
                return unauthorised(&path, "sign in or send an API token");
            }
            let next_url = request.uri().path_and_query().map_or(path.clone(), |p| p.to_string());
            return Redirect::to(&format!("/sign-in?next={}", encode(&next_url))).into_response();
        }
        (SignedIn, Some(_)) => true,
        (Roles(roles), Some(user)) => roles.contains(&user.role),
    };
    if !allowed {
        return forbidden(&path);
    }
    match shown(&state, auth.user.as_ref(), &path, request.uri()).await {
        Ok(shown) => {
            if !auth.figures_note.is_empty() {
                auth.figures_note = match &shown {
                    crate::auth::Shown::Provisional => auth.figures_note,
                    crate::auth::Shown::Release(r) => crate::export::Provenance::published(&state.figures(), r).words(),
                    crate::auth::Shown::Unpublished => crate::export::UNPUBLISHED.into(),
                };
            }
            auth.shown = shown;
        }
        Err(e) => return e.into_response(),
    }
    let signed_in = auth.user.is_some();
    request.extensions_mut().insert(auth);
    let mut response = next.run(request).await;
    if signed_in && !response.headers().contains_key(header::CACHE_CONTROL) {
        // What a signed-in user sees is for them only: no cache keeps it (unless the handler
        // says otherwise, as the API does for published releases).
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Which figures a request is shown (docs/RULES.md §3.8): the release its address names
/// (`release=ID` or `latest`); otherwise the provisional figures for the board, analysts,
/// assessors and administrators, and for a trust's users on their own trust's pages and their
/// submissions; the newest release for everyone else.
async fn shown(
    state: &AppState,
    user: Option<&crate::store::User>,
    path: &str,
    uri: &axum::http::Uri,
) -> Result<crate::auth::Shown, crate::web::error::AppError> {
    use crate::auth::Shown;
    let asked = axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(uri)
        .ok()
        .and_then(|q| q.0.get("release").map(|v| v.trim().to_string()))
        .filter(|v| !v.is_empty());
    if let Some(id) = asked {
        // From the kept list; a release it does not have yet (published elsewhere within the
        // last seconds) is looked for in the store before the answer is 404.
        let found = match crate::publish::find_in(&state.releases().await?, &id) {
            Ok(release) => Ok(release),
            Err(_) => crate::publish::find(&state.store, &id).await,
        };
        return found.map(Shown::Release).map_err(|mut e| {
            e[..1].make_ascii_uppercase();
            crate::web::error::AppError::NotFound(format!("{e}."))
        });
    }
    let provisional = match user {
        None => false,
        Some(u) if u.role == Role::Trust => {
            let own = u.org_code.as_deref().is_some_and(|o| {
                // `/trusts/{own}` and the pages under it (a metric's history).
                path.strip_prefix("/trusts/")
                    .and_then(|rest| rest.split('/').next())
                    .is_some_and(|code| code.eq_ignore_ascii_case(o))
            });
            own || ["/submit", "/submissions", "/completeness", "/api/"].iter().any(|p| path.starts_with(p))
        }
        Some(_) => true,
    };
    if provisional {
        return Ok(Shown::Provisional);
    }
    let releases = state.releases().await?;
    Ok(releases.first().cloned().map_or(Shown::Unpublished, Shown::Release))
}

/// The address a request came from: the connection's, unless that is a trusted proxy, in which
/// case the nearest address in `X-Forwarded-For` that is not a trusted proxy (read from the
/// right, since a client may put anything on the left). A header from anyone else is ignored.
pub fn client_address(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            // Not an address: stop at the last hop that was one.
            Err(_) => return client,
        }
    }
    client
}

fn unauthorised(path: &str, message: &str) -> Response {
    if is_api(path) || path.starts_with("/export/") {
        let mut r = (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({ "error": message }))).into_response();
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    } else {
        Redirect::to("/sign-in").into_response()
    }
}

fn forbidden(path: &str) -> Response {
    if is_api(path) {
        (StatusCode::FORBIDDEN, axum::Json(serde_json::json!({ "error": "your role may not use this" })))
            .into_response()
    } else {
        let page = super::ErrorPage { title: "You cannot use this page", message: "Your role does not allow it." };
        let body = askama::Template::render(&page).unwrap_or_default();
        (StatusCode::FORBIDDEN, axum::response::Html(body)).into_response()
    }
}

pub(super) fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Security headers on every response; HSTS when the service is reached over https.
pub async fn security_headers(State(https): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use axum::http::HeaderMap;
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn the_forwarded_address_counts_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.2");
        let headers = forwarded("203.0.113.9, 198.51.100.4");
        assert_eq!(client_address(ip("198.51.100.77"), &headers, &[proxy]), ip("198.51.100.77"), "not a proxy");
        assert_eq!(client_address(proxy, &headers, &[]), proxy, "no proxy is trusted by default");
        // From the right: the address the trusted proxy saw, not what the client wrote before it.
        assert_eq!(client_address(proxy, &headers, &[proxy]), ip("198.51.100.4"));
        let chained = forwarded("203.0.113.9, 198.51.100.4, 10.0.0.3");
        assert_eq!(client_address(proxy, &chained, &[proxy, ip("10.0.0.3")]), ip("198.51.100.4"));
        assert_eq!(client_address(proxy, &forwarded("junk"), &[proxy]), proxy);
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }
}
