//! The API's rate limit (tower_governor): a burst, then a steady refill, per API token — or, for
//! requests without one, per client address. Past it the API answers 429 with `Retry-After`.

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use std::net::SocketAddr;
use tower_governor::GovernorError;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;

/// Whom a request counts against: its bearer token (by hash, never the token itself), else its
/// connection's address.
#[derive(Debug, Clone, Copy)]
pub struct TokenOrAddress;

impl KeyExtractor for TokenOrAddress {
    type Key = String;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        Ok(match bearer {
            Some(token) => format!("token:{}", crate::auth::hash_secret(token)),
            None => match req.extensions().get::<axum::extract::ConnectInfo<SocketAddr>>() {
                Some(info) => format!("address:{}", info.0.ip()),
                None => "address:unknown".into(),
            },
        })
    }
}

/// The layer for the API's routes, with `burst` requests and one more every `refill_ms`.
pub fn layer(
    burst: u32,
    refill_ms: u64,
) -> tower_governor::GovernorLayer<TokenOrAddress, governor::middleware::NoOpMiddleware, Body> {
    let config = GovernorConfigBuilder::default()
        .per_millisecond(refill_ms)
        .burst_size(burst.max(1))
        .key_extractor(TokenOrAddress)
        .finish()
        .expect("a burst and a refill period above zero");
    tower_governor::GovernorLayer::new(config).error_handler(too_many)
}

/// 429 as a problem document, saying when to try again.
fn too_many(error: GovernorError) -> Response<Body> {
    let (status, wait, detail) = match error {
        GovernorError::TooManyRequests { wait_time, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            wait_time.max(1),
            format!("This token (or address) has made too many requests; try again in {} s.", wait_time.max(1)),
        ),
        other => (StatusCode::INTERNAL_SERVER_ERROR, 1, format!("The rate limit failed: {other}")),
    };
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Too many requests",
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
    response
}
