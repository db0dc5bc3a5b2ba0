//! What an attack-and-fault probe tried, kept as tests (see SECURITY.md): bounded error lists,
//! sign-in limits that cannot be raced or turned against a user, no stored state for anonymous
//! visitors, system-level conformance from assessors only, and the headers of signed-in pages.

mod common;

use common::{TestApp, TestDb};
use exemplar::domain::Role;
use serde_json::Value;

async fn trust_app() -> (TestApp, String) {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    app.user("submitter@rgt.example", Role::Trust, Some("RGT")).await;
    let token = app.token("submitter@rgt.example").await;
    (app, token)
}

async fn post_csv(app: &TestApp, token: &str, body: Vec<u8>) -> (u16, usize, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/submissions", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (status, bytes.len(), serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A 5 MB request with a very wide header row once answered 312 MB; 40 MB of bad rows stored
/// 339 MB of errors. Now the answer and the stored errors are bounded, and every error counted.
#[tokio::test]
async fn error_lists_are_bounded_in_the_answer_and_in_the_database() {
    let (app, token) = trust_app().await;
    let mut wide = String::from("org_code,metric_id,period,value");
    while wide.len() < 5 << 20 {
        wide.push_str(",an_unknown_column");
    }
    wide.push_str("\nRGT,clinical_wifi_coverage,2024-Q1,50\n");
    let (status, size, body) = post_csv(&app, &token, wide.into_bytes()).await;
    assert_eq!(status, 422);
    assert!(size < 10_000, "the answer is {size} bytes");
    assert_eq!(body["error_count"], 1);

    let mut bad = String::from("org_code,metric_id,period,value\n");
    let mut n = 0;
    while bad.len() < 40 << 20 {
        bad.push_str(&format!("RGT,not_a_metric_{n},2024-Q1,50\n"));
        n += 1;
    }
    let (status, size, body) = post_csv(&app, &token, bad.into_bytes()).await;
    assert_eq!(status, 422);
    assert_eq!(body["error_count"], n, "every error is counted");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1_000, "the first thousand are listed");
    assert_eq!(body["error_summary"][0]["count"], n);
    assert!(size < 300_000, "the answer is {size} bytes");
    let id = body["submission_id"].as_i64().unwrap();
    let stored = app.state.store.submission(id).await.unwrap().unwrap();
    assert!(stored.errors.to_stored().len() < 300_000);
    assert_eq!(stored.errors.total(), n);

    // The submission's page shows the summary and the first thousand.
    let page = app.user("analyst@nhs.example", Role::Admin, None).await;
    let html = page.get(format!("{}/submissions/{id}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("All {n} problems, by column and kind")), "summary table");
    assert!(html.contains("The first 1000 problems"));
    assert!(html.len() < 1_000_000, "the page is {} bytes", html.len());
}
