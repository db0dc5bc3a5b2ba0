//! Several app instances on one database agree: a submission accepted by one is reflected by the
//! other's pages within a few seconds (each instance polls the data version).

mod common;

use common::{TestApp, TestDb, small_csv};
use exemplar::domain::Role;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_submission_to_one_instance_shows_on_the_other_within_seconds() {
    let db = TestDb::new();
    let url = db.url.clone();
    let first = TestApp::spawn_with(db, false, |c| c.poll_seconds = 0.5).await;
    let second = TestApp::spawn_with(TestDb::sharing(&url), false, |c| c.poll_seconds = 0.5).await;
    first.user("one@rgt.example", Role::Trust, Some("RGT")).await;
    let token = first.token("one@rgt.example").await;

    let (_, before) = second.text("/metrics/digital_leadership_capability?peer_group=acute").await;
    assert!(!before.contains(">3.75<"));
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/submissions", first.base))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(small_csv(&[("RGT", "digital_leadership_capability", "2025-Q4", "3.75")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);

    let started = Instant::now();
    loop {
        let health: serde_json::Value = second.get("/healthz").await.json().await.unwrap();
        if health["data_version"] == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the second instance did not follow within 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, after) = second.text("/metrics/digital_leadership_capability?peer_group=acute&period=2025-Q4").await;
    assert!(after.contains(">3.75<"), "the second instance's page shows the new value");
    // Sessions live in the shared database: a user signed in on one instance is signed in on both.
    let client = first.sign_in("one@rgt.example", common::PASSWORD).await.unwrap();
    let submit = client.get(format!("{}/submit", second.base)).send().await.unwrap();
    assert_eq!(submit.status().as_u16(), 200);
}
