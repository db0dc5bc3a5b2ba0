//! The analysts' API: every dataset listed with its columns; a dataset's rows as JSON equal to
//! its CSV export cell for cell; paging that returns every row exactly once; ETags and 304s;
//! strict parameters answered with problem+json; CSV and Parquet by `Accept`; tokens required.

mod common;

use common::{TestApp, parse_csv};
use exemplar::domain::Role;
use serde_json::Value;

struct Api {
    app: TestApp,
    token: String,
}

async fn api() -> Api {
    let app = TestApp::spawn(true).await;
    app.user("reader@analyst.example", Role::Analyst, None).await;
    let token = app.token("reader@analyst.example").await;
    Api { app, token }
}

impl Api {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = reqwest::Client::new().get(format!("{}{path}", self.app.base)).bearer_auth(&self.token);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send().await.unwrap()
    }

    async fn json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path, &[]).await;
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// Every row of a dataset, following `next` from page to page.
    async fn all_rows(&self, name: &str, query: &str) -> (Value, Vec<Value>) {
        let (mut rows, mut path, mut first) = (Vec::new(), format!("/api/v1/datasets/{name}?{query}"), None);
        loop {
            let (status, page) = self.json(&path).await;
            assert_eq!(status, 200, "{path}: {page}");
            rows.extend(page["rows"].as_array().unwrap().iter().cloned());
            let next = page["next"].as_str().map(str::to_string);
            first.get_or_insert(page);
            match next {
                Some(cursor) => path = format!("/api/v1/datasets/{name}?{query}&cursor={cursor}"),
                None => return (first.unwrap(), rows),
            }
        }
    }
}

/// A JSON value as the CSV export writes it: numbers compared as numbers by the caller.
fn as_csv(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => exemplar::export::guard(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.as_f64().map(exemplar::export::format_number).unwrap_or_default(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn every_dataset_is_listed_and_its_json_rows_equal_its_csv_export_cell_for_cell() {
    let api = api().await;
    let (status, list) = api.json("/api/v1/datasets").await;
    assert_eq!(status, 200);
    let datasets = list["datasets"].as_array().unwrap();
    assert_eq!(datasets.len(), exemplar::export::EXPORTS.len());
    let values = datasets.iter().find(|d| d["name"] == "values").unwrap();
    let value = values["columns"].as_array().unwrap().iter().find(|c| c["name"] == "value").unwrap();
    assert_eq!((value["type"].as_str(), value["unit"].is_string()), (Some("number"), true));

    for (name, _) in exemplar::export::EXPORTS {
        let (head, rows) = api.all_rows(name, "limit=10000").await;
        assert_eq!(head["dataset"], *name);
        assert_eq!(head["data_version"], 17);
        assert_eq!(head["synthetic"], true);
        let (_, csv) = api.app.text(&format!("/export/{name}.csv")).await;
        let (header, csv_rows) = parse_csv(&csv);
        let columns: Vec<&str> =
            head["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(columns, header, "{name}: the same columns in the same order");
        assert_eq!(rows.len(), csv_rows.len(), "{name}: the same rows");
        for (i, (json, csv)) in rows.iter().zip(&csv_rows).enumerate() {
            for (c, column) in header.iter().enumerate() {
                let (j, s) = (&json[column.as_str()], &csv[c]);
                match (j.as_f64(), s.parse::<f64>()) {
                    (Some(a), Ok(b)) => assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{name} row {i} {column}"),
                    _ => assert_eq!(as_csv(j), *s, "{name} row {i} {column}"),
                }
            }
        }
    }
}

#[tokio::test]
async fn paging_returns_every_row_once_and_a_repeated_request_is_not_modified() {
    let api = api().await;
    let (_, whole) = api.all_rows("trust_benchmarks", "limit=10000&peer_group=ambulance").await;
    let (first, paged) = api.all_rows("trust_benchmarks", "limit=97&peer_group=ambulance").await;
    assert!(whole.len() > 97 * 3, "several pages: {}", whole.len());
    assert_eq!(paged, whole, "every row exactly once, in the same order");
    assert_eq!(first["provisional"], true);
    assert!(first["release"].is_null());

    let r = api.get("/api/v1/datasets/metrics?limit=5", &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && r.headers()["cache-control"].to_str().unwrap().contains("max-age=60"));
    let link = r.headers()["link"].to_str().unwrap().to_string();
    assert!(link.contains("rel=\"next\"") && link.contains("limit=5"), "{link}");
    let again = api.get("/api/v1/datasets/metrics?limit=5", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status().as_u16(), 304);
    let other = api.get("/api/v1/datasets/metrics?limit=6", &[("if-none-match", &etag)]).await;
    assert_eq!(other.status().as_u16(), 200, "another page is another ETag");

    // A published release may be kept by a proxy.
    let r = api.get("/api/v1/datasets/indices?release=latest&limit=1", &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["cache-control"].to_str().unwrap().starts_with("public"));
    let body: Value = r.json().await.unwrap();
    assert!(body["release"].is_string() && body["provisional"] == false);
}

#[tokio::test]
async fn bad_parameters_are_problems_naming_the_parameter_and_tokens_are_required() {
    let api = api().await;
    for (query, says) in [
        ("region=Atlantis", "region"),
        ("icb=XYZ", "icb"),
        ("peer_group=hospital", "peer_group"),
        ("colour=red", "colour"),
        ("regoin=London", "regoin"),
        ("period=2099-Q9", "period"),
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("cursor=zz", "cursor"),
        ("metric_id=nope", "metric_id"),
    ] {
        let r = api.get(&format!("/api/v1/datasets/values?{query}"), &[]).await;
        assert_eq!(r.status().as_u16(), 400, "{query}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{query}");
        let problem: Value = r.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains(says), "{query}: {problem}");
    }
    // A cursor from other figures is refused rather than skipping rows.
    let stale = hex::encode("10|v3");
    let r = api.get(&format!("/api/v1/datasets/values?cursor={stale}"), &[]).await;
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(api.get("/api/v1/datasets/nothing", &[]).await.status().as_u16(), 404);
    let unauthenticated = reqwest::Client::new().get(format!("{}/api/v1/datasets/values", api.app.base)).send().await;
    assert_eq!(unauthenticated.unwrap().status().as_u16(), 401);
    let r = api.get("/api/v1/datasets/values", &[("accept", "image/png")]).await;
    assert_eq!(r.status().as_u16(), 406);
}

#[tokio::test]
async fn csv_and_parquet_come_by_accept() {
    let api = api().await;
    let r = api.get("/api/v1/datasets/metrics", &[("accept", "text/csv")]).await;
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    let (_, export) = api.app.text("/export/metrics.csv").await;
    assert_eq!(csv, export, "a page holding every row is the export");
    let r = api.get("/api/v1/datasets/metrics", &[("accept", "application/vnd.apache.parquet")]).await;
    assert_eq!(r.headers()["content-type"], "application/vnd.apache.parquet");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
}

#[tokio::test]
async fn a_token_does_only_what_its_scope_allows_until_it_expires() {
    let app = TestApp::spawn(true).await;
    app.user("scoped@rgt.example", Role::Trust, Some("RGT")).await;
    let by = exemplar::store::Actor::new("test", None);
    let make = |scopes: &str, expires: Option<&'static str>| {
        let token = exemplar::auth::random_token();
        let scopes = exemplar::domain::TokenScopes::parse(scopes).unwrap();
        let (store, by, hash) = (app.state.store.clone(), by.clone(), exemplar::auth::hash_secret(&token));
        async move {
            store.create_scoped_token("scoped@rgt.example", "t", &hash, &scopes, expires, &by).await.unwrap();
            token
        }
    };
    let (read, submit, expired) =
        (make("read", None).await, make("submit", None).await, make("read submit", Some("2020-01-01T00:00:00Z")).await);
    let get = |token: String| {
        let url = format!("{}/api/v1/datasets/metrics?limit=1", app.base);
        async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().status().as_u16() }
    };
    let post = |token: String| {
        let url = format!("{}/api/v1/submissions?dry_run=true", app.base);
        let csv = "org_code,metric_id,period,value\nRGT,digital_leadership_capability,2025-Q4,4\n";
        async move {
            let r = reqwest::Client::new().post(url).bearer_auth(token).header("content-type", "text/csv").body(csv);
            r.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(get(read.clone()).await, 200);
    assert_eq!(post(read).await, 403, "a read token does not submit");
    assert_eq!(get(submit.clone()).await, 403, "a submit token does not read");
    assert_eq!(post(submit).await, 200);
    assert_eq!(get(expired.clone()).await, 401, "an expired token is refused");
    assert_eq!(post(expired).await, 401);
    let used = app.state.store.tokens().await.unwrap();
    assert!(
        used.iter().filter(|t| t.scopes != "read submit").all(|t| t.last_used_at.is_some()),
        "last use is recorded"
    );
}

#[tokio::test]
async fn past_its_rate_limit_a_token_is_told_to_wait_and_others_are_not() {
    let app = TestApp::spawn_with(common::TestDb::new(), false, |c| {
        c.api_burst = 3;
        c.api_refill_ms = 60_000;
    })
    .await;
    app.user("busy@analyst.example", Role::Analyst, None).await;
    let (busy, calm) = (app.token("busy@analyst.example").await, app.token("busy@analyst.example").await);
    let get = |token: &str| {
        reqwest::Client::new().get(format!("{}/api/v1/datasets", app.base)).bearer_auth(token.to_string()).send()
    };
    for _ in 0..3 {
        assert_eq!(get(&busy).await.unwrap().status().as_u16(), 200);
    }
    let refused = get(&busy).await.unwrap();
    assert_eq!(refused.status().as_u16(), 429);
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    assert_eq!(get(&calm).await.unwrap().status().as_u16(), 200, "each token has its own allowance");
}
