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

/// Waits until `check` holds, for at most a second; answers how long it took.
async fn within_a_second(mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(1), "not within a second");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn a_sign_out_or_revocation_on_one_instance_holds_on_the_other_at_once() {
    let db = TestDb::new();
    let url = db.url.clone();
    let first = TestApp::spawn_on(db, false).await;
    let second = TestApp::spawn_on(TestDb::sharing(&url), false).await;
    first.user("two@rgt.example", Role::Trust, Some("RGT")).await;
    let client = first.sign_in("two@rgt.example", common::PASSWORD).await.unwrap();
    let submit = |base: String| {
        let client = client.clone();
        async move { client.get(format!("{base}/submit")).send().await.unwrap().status().as_u16() }
    };
    // The second instance has checked the session (and keeps it).
    assert_eq!(submit(second.base.clone()).await, 200);
    assert_eq!(submit(second.base.clone()).await, 200);
    let page = client.get(format!("{}/submit", first.base)).send().await.unwrap().text().await.unwrap();
    let csrf = common::csrf_of(&page);
    let out =
        client.post(format!("{}/sign-out", first.base)).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(out.status().as_u16(), 303);
    // Signed out on the first instance: at once there, and within the watch interval on the second.
    assert_eq!(submit(first.base.clone()).await, 303);
    within_a_second(async || submit(second.base.clone()).await == 303).await;

    // A revoked token: refused by the instance that had been accepting it.
    let token = first.token("two@rgt.example").await;
    let status = |base: String| {
        let token = token.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{base}/api/v1/datasets"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(second.base.clone()).await, 200);
    let id = first.state.store.tokens().await.unwrap().into_iter().find(|t| t.email == "two@rgt.example").unwrap().id;
    first.state.store.revoke_token(id, &exemplar::store::Actor::new("test", None)).await.unwrap();
    assert_eq!(status(first.base.clone()).await, 401);
    within_a_second(async || status(second.base.clone()).await == 401).await;
}
