//! The analysts' API: `GET /api/v1/datasets` lists every dataset with its columns (from the data
//! dictionary, the one declaration the exports use too), and `GET /api/v1/datasets/{name}`
//! answers a page of a dataset's rows with the exports' filters — JSON by default (typed values
//! in an envelope naming the figures), or CSV or Parquet by `Accept` — with an opaque cursor to
//! the next page, a strong `ETag` and caching a proxy may follow.

use super::exports::{edition_figures, status_word};
use crate::auth::Auth;
use crate::export::{EXPORTS, Format, Kind, Out, Provenance, Status, Window, write_export};
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Serialize;
use sha2::Digest;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api", get(docs))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/datasets", get(list))
        .route("/api/v1/datasets/{name}", get(rows))
}

/// The API's documentation: authentication, datasets, formats, paging, caching, errors, the
/// column contract and examples in curl, Python and R.
#[derive(askama::Template)]
#[template(path = "api_docs.html")]
pub struct ApiDocs {
    pub datasets: Vec<DatasetInfo>,
    /// This server's address, for the examples.
    pub base: String,
}

async fn docs(Extension(auth): Extension<Auth>, headers: HeaderMap) -> Result<axum::response::Html<String>> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:8080");
    let scheme = if headers.get("x-forwarded-proto").is_some_and(|p| p == "https") { "https" } else { "http" };
    super::render(&auth, &ApiDocs { datasets: datasets(), base: format!("{scheme}://{host}") })
}

/// The exports' filters the API takes (the pages' own parameters, such as `sort`, are refused).
pub const FILTERS: [&str; 9] =
    ["period", "peer_group", "metric_id", "org_code", "region", "icb", "exemplar", "release", "as_of"];

/// Rows a page holds unless `limit` says otherwise, and the most it may say.
pub const DEFAULT_LIMIT: usize = 1_000;
pub const MOST_LIMIT: usize = 10_000;

#[derive(Debug, Serialize)]
pub struct ColumnInfo {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub unit: &'static str,
    pub meaning: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DatasetInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub href: String,
    pub columns: Vec<ColumnInfo>,
}

/// The JSON type of a column's values.
pub fn json_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "string",
        Kind::Float => "number",
        Kind::Int => "integer",
        Kind::Bool => "boolean",
    }
}

/// A dataset's columns, in order.
pub fn columns_of(name: &str) -> Vec<ColumnInfo> {
    crate::export::columns(name)
        .into_iter()
        .map(|c| ColumnInfo { name: c.name, kind: json_type(c.kind), unit: c.unit, meaning: c.meaning })
        .collect()
}

/// Every dataset with its description and columns.
pub fn datasets() -> Vec<DatasetInfo> {
    EXPORTS
        .iter()
        .map(|(name, description)| DatasetInfo {
            name,
            description,
            href: format!("/api/v1/datasets/{name}"),
            columns: columns_of(name),
        })
        .collect()
}

/// The OpenAPI 3.1 document of the API.
async fn openapi_json(State(state): State<AppState>) -> Response {
    match super::openapi::document(&state.figures().reference).to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => AppError::Internal(e.into()).into_response(),
    }
}

async fn list() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "datasets": datasets() }))
}

/// A page's place: how many rows come before it, and the figures it belongs to (a cursor from
/// other figures would skip or repeat rows).
struct Cursor {
    offset: usize,
    edition: String,
}

impl Cursor {
    fn encode(&self) -> String {
        hex::encode(format!("{}|{}", self.offset, self.edition))
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (offset, edition) = text.split_once('|')?;
        Some(Self { offset: offset.parse().ok()?, edition: edition.to_string() })
    }
}

/// What the figures are, as part of cursors and `ETag`s: a release id, or a data version.
fn edition_key(p: &Provenance) -> String {
    match &p.status {
        Status::Published { release, .. } => format!("release-{release}"),
        Status::AsOf(moment) => format!("as-of-{moment}-v{}", p.data_version),
        Status::Provisional | Status::Unpublished => format!("v{}", p.data_version),
    }
}

/// The format `Accept` asks for: CSV, Parquet, or JSON (the default, and for `*/*`).
fn negotiate(headers: &HeaderMap) -> Result<Format> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let wants = |media: &str| accept.split(',').any(|part| part.split(';').next().unwrap_or("").trim() == media);
    if accept.is_empty() || wants("application/json") || wants("*/*") || wants("application/*") {
        Ok(Format::Json)
    } else if wants("text/csv") {
        Ok(Format::Csv)
    } else if wants("application/vnd.apache.parquet") {
        Ok(Format::Parquet)
    } else {
        Err(AppError::NotAcceptable(format!(
            "Accept: '{accept}' is not offered; ask for application/json (the default), text/csv or \
             application/vnd.apache.parquet"
        )))
    }
}

async fn rows(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    if !EXPORTS.iter().any(|(n, _)| *n == name) {
        let names: Vec<&str> = EXPORTS.iter().map(|(n, _)| *n).collect();
        return Err(AppError::NotFound(format!(
            "There is no dataset '{name}'; the datasets are {}.",
            names.join(", ")
        )));
    }
    let format = negotiate(&headers)?;
    // The paging parameters, then the exports' filters from the rest (an unknown one is a 400).
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| AppError::BadRequest(format!("the query could not be read: {e}")))?;
    let (mut cursor_text, mut limit_text, mut rest) = (None, None, Vec::new());
    for (k, v) in pairs {
        match k.as_str() {
            "cursor" => cursor_text = Some(v),
            "limit" => limit_text = Some(v),
            _ => rest.push((k, v)),
        }
    }
    let limit = match limit_text.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_LIMIT,
        Some(text) => text.parse::<usize>().ok().filter(|n| (1..=MOST_LIMIT).contains(n)).ok_or_else(|| {
            AppError::BadRequest(format!("limit: '{text}' is not a whole number from 1 to {MOST_LIMIT}"))
        })?,
    };
    if let Some((k, _)) = rest.iter().find(|(k, _)| !FILTERS.contains(&k.as_str())) {
        return Err(AppError::BadRequest(format!(
            "{k}: not a parameter of the API; it takes {} and cursor and limit",
            FILTERS.join(", ")
        )));
    }
    let rest_query = serde_urlencoded::to_string(&rest).unwrap_or_default();
    let filters: crate::domain::Filters = serde_urlencoded::from_str(&rest_query).map_err(|e| {
        let detail = crate::domain::filters::unreadable(&e.to_string());
        AppError::BadRequest(format!("{detail}; the API also takes cursor and limit"))
    })?;
    let edition = filters.edition().map_err(AppError::BadRequest)?;
    let (f, provenance) = edition_figures(&state, &auth, &edition).await?;
    let key = edition_key(&provenance);
    let offset = match cursor_text.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => 0,
        Some(text) => {
            let cursor = Cursor::decode(text).ok_or_else(|| {
                AppError::BadRequest(format!("cursor: '{text}' is not a cursor this API gave; start without one"))
            })?;
            if cursor.edition != key {
                return Err(AppError::BadRequest(format!(
                    "cursor: it belongs to other figures ({}) than those answered now ({key}); start again without a cursor",
                    cursor.edition
                )));
            }
            cursor.offset
        }
    };
    let mut filter = filters.parse(&f.reference, f.latest_period()).map_err(AppError::BadRequest)?;
    // A saved group's members can change without the figures changing.
    let group = super::exports::resolve_group(&state, &auth, &mut filter).await?;
    let group_stamp = group.map(|g| format!("{}@{}", g.key(), g.updated_at)).unwrap_or_default();

    // A strong ETag: the same figures, query, page and format give the same bytes.
    let etag = {
        let mut h = sha2::Sha256::new();
        h.update(format!("{name}|{key}|{rest_query}|{offset}|{limit}|{}|{group_stamp}", format.extension()));
        format!("\"{}\"", hex::encode(&h.finalize()[..12]))
    };
    let cache = match provenance.status {
        // A release never changes and its figures are published: a proxy may keep them for a
        // day. The board's findings and the collection's state are not part of a release.
        Status::Published { .. }
            if group_stamp.is_empty()
                && !matches!(
                    name.as_str(),
                    "findings" | "recommendations" | "completeness" | "blueprints" | "peer_groups"
                ) =>
        {
            "public, max-age=86400"
        }
        _ => "private, max-age=60",
    };
    let common = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, cache.to_string()),
        (header::VARY, "Accept, Authorization, Cookie".to_string()),
        (header::HeaderName::from_static("x-data-version"), provenance.data_version.to_string()),
        (header::HeaderName::from_static("x-exemplar-status"), status_word(&provenance).to_string()),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }

    let stored = super::exports::stored_records(&state, &auth, &f, &name, &filter).await?;
    let window = Window { skip: offset, take: limit, more: Default::default() };
    let more = window.more.clone();
    let metadata = provenance.metadata(&name);
    let dataset = name.clone();
    let body = super::blocking(move || {
        let mut body = Vec::new();
        let out = Out::new(&mut body, format).with_metadata(metadata).with_window(window);
        write_export(&dataset, &f, &stored.records(), &filter, out)?;
        Ok(body)
    })
    .await?;
    let next = more
        .load(std::sync::atomic::Ordering::Relaxed)
        .then(|| Cursor { offset: offset + limit, edition: key.clone() }.encode());
    let next_link = next.as_ref().map(|c| {
        let mut pairs = rest.clone();
        pairs.push(("cursor".into(), c.clone()));
        if limit != DEFAULT_LIMIT {
            pairs.push(("limit".into(), limit.to_string()));
        }
        format!("/api/v1/datasets/{name}?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
    });
    let mut response = match format {
        Format::Json => {
            let (release, provisional) = match &provenance.status {
                Status::Published { release, .. } => (Some(release.clone()), false),
                Status::Provisional | Status::AsOf(_) => (None, true),
                Status::Unpublished => (None, false),
            };
            let head = serde_json::json!({
                "dataset": name,
                "release": release,
                "data_version": provenance.data_version,
                "computed_at": provenance.computed_at,
                "provisional": provisional,
                "synthetic": provenance.synthetic,
                "status": status_word(&provenance),
                "columns": columns_of(&name),
                "next": next,
            });
            // The envelope around the rows the writer made, without parsing them again.
            let mut text = serde_json::to_string(&head).map_err(|e| AppError::Internal(e.into()))?;
            text.pop();
            text.push_str(",\"rows\":");
            let mut bytes = text.into_bytes();
            bytes.extend_from_slice(&body);
            bytes.push(b'}');
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
        }
        other => (StatusCode::OK, [(header::CONTENT_TYPE, other.content_type())], body).into_response(),
    };
    let h = response.headers_mut();
    for (name, value) in common {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    if let Some(link) = next_link.and_then(|l| HeaderValue::from_str(&format!("<{l}>; rel=\"next\"")).ok()) {
        h.insert(header::LINK, link);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_anything_else_is_refused() {
        let c = Cursor { offset: 2000, edition: "release-2026-Q3.1".into() };
        let back = Cursor::decode(&c.encode()).unwrap();
        assert_eq!((back.offset, back.edition.as_str()), (2000, "release-2026-Q3.1"));
        assert!(Cursor::decode("not a cursor").is_none());
        assert!(Cursor::decode(&hex::encode("x|v1")).is_none());
    }

    #[test]
    fn every_dataset_is_described_with_typed_columns() {
        let all = datasets();
        assert_eq!(all.len(), EXPORTS.len());
        assert!(all.iter().all(|d| !d.columns.is_empty()));
        let values = all.iter().find(|d| d.name == "values").unwrap();
        assert_eq!(values.columns.iter().find(|c| c.name == "value").unwrap().kind, "number");
    }
}
