//! One filter model, errors by audience, page caches that know the date, and no partial answers
//! while the figures load: the real server on port 0 with a fresh database.

mod common;

use common::{TestApp, TestDb, parse_csv};
use exemplar::app;
use exemplar::config::Config;

#[tokio::test]
async fn an_unknown_parameter_or_value_is_a_clear_error_for_each_audience() {
    let app = TestApp::spawn(true).await;

    // A download: plain text naming the parameter and what is accepted, never the whole file.
    let r = app.get("/export/trust_benchmarks.csv?peergroup=acute").await;
    assert_eq!(r.status(), 400);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let body = r.text().await.unwrap();
    assert!(body.contains("peergroup") && body.contains("peer_group"), "{body}");

    let r = app.get("/export/values.csv?region=london").await;
    assert_eq!(r.status(), 400);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(r.text().await.unwrap().contains("North East and Yorkshire"));

    // A page: an HTML page that says the same.
    let r = app.get("/gaps?region=london").await;
    assert_eq!(r.status(), 400);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("is not an NHS England region"));
    let r = app.get("/trusts?peergroup=acute").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("unknown parameter"));

    // The API: RFC 9457 problems, for errors of every kind.
    for path in ["/api/v1/submissions/999999", "/api/v1/nothing-here"] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
        let problem: serde_json::Value = r.json().await.unwrap();
        assert_eq!(problem["status"], 404, "{path}");
        assert!(problem["title"].is_string() && problem["detail"].is_string(), "{path}: {problem}");
    }
    let r = app.anonymous().get(format!("{}/api/v1/submissions/1", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn period_latest_is_the_latest_quarter_with_data() {
    let app = TestApp::spawn(true).await;
    let latest = app.state.figures().latest_period().unwrap().to_string();

    let (status, text) = app.text("/export/benchmarks.csv?period=latest").await;
    assert_eq!(status, 200);
    let (header, rows) = parse_csv(&text);
    let period = header.iter().position(|h| h == "period").unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[period] == latest), "every row is of {latest}");
    let (status, _) = app.text("/gaps?period=latest").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_cached_page_shows_the_standards_in_force_on_the_day_it_is_asked_for() {
    let app = TestApp::spawn(true).await;
    let f = app.state.figures();
    // A trust running a system that fails a standard mandatory from 2027-04-01 only then.
    let (before, after) =
        (chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(), chrono::NaiveDate::from_ymd_opt(2027, 4, 1).unwrap());
    let failing = |system: &str, date| {
        let current = exemplar::conformance::Current::on(&f.conformance, date);
        exemplar::conformance::system_status(&f.reference, &current, system, date).failing
    };
    let deployment = f
        .reference
        .deployments
        .iter()
        .find(|d| failing(&d.system_id, after).len() > failing(&d.system_id, before).len())
        .expect("a deployment whose system falls behind a standard on 2027-04-01");
    let page = format!("/trusts/{}", deployment.ods_code);

    app.state.clock.set_today(Some(before));
    let (status, first) = app.text(&page).await;
    assert_eq!(status, 200);
    let (_, cached) = app.text(&page).await;
    assert_eq!(first, cached, "the same day, the cached page");

    app.state.clock.set_today(Some(after));
    let (_, next_day) = app.text(&page).await;
    let was = failing(&deployment.system_id, before);
    let newly: Vec<String> = failing(&deployment.system_id, after).into_iter().filter(|s| !was.contains(s)).collect();
    for standard in &newly {
        assert!(
            next_day.matches(standard.as_str()).count() > first.matches(standard.as_str()).count(),
            "{standard} is due on the page from {after}"
        );
    }
}

#[tokio::test]
async fn right_after_a_start_an_export_waits_for_the_figures_and_never_answers_partially() {
    // A database with demo figures and a snapshot of them.
    let db = TestDb::new();
    let state = app::prepare(Config::new(db.url.clone(), "127.0.0.1:0".into(), true)).await.unwrap();
    let f = state.figures();
    let period = f.latest_period().unwrap();
    // One more submission that the snapshot does not hold.
    let csv = format!("org_code,metric_id,period,value\nRGT,digital_leadership_capability,{period},4.5\n");
    let answer = common::submit_csv(&state.store, csv.into_bytes(), state.today(), false).await;
    assert!(!answer.is_rejected(), "{answer:?}");
    drop(state);

    // Start again, figures loading in the background, and ask at once.
    let state = app::prepare_in_background(Config::new(db.url.clone(), "127.0.0.1:0".into(), false)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app::serve(listener, state.clone()));
    let token = exemplar::auth::random_token();
    let by = exemplar::store::Actor::new("test", None);
    state.store.add_user("reader@test.example", exemplar::domain::Role::Analyst, None, None, &by).await.unwrap();
    state.store.create_token("reader@test.example", "test", &exemplar::auth::hash_secret(&token), &by).await.unwrap();

    let r = reqwest::Client::new()
        .get(format!("{base}/export/values.csv?period={period}&org_code=RGT&metric_id=digital_leadership_capability"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    match r.status().as_u16() {
        503 => assert!(r.headers().contains_key("retry-after")),
        200 => {
            let (header, rows) = parse_csv(&r.text().await.unwrap());
            let value = header.iter().position(|h| h == "value").unwrap();
            assert_eq!(rows.len(), 1, "the row the database holds");
            assert_eq!(rows[0][value], "4.5");
        }
        other => panic!("answered {other}"),
    }
}

#[tokio::test]
async fn head_is_answered_as_get_is_without_a_body() {
    let app = TestApp::spawn(true).await;
    for path in ["/", "/healthz", "/standards", "/trusts/RGT", "/export/organisations.csv"] {
        let get = app.client.get(format!("{}{path}", app.base)).send().await.unwrap().status();
        let head = app.client.head(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!((head.status().as_u16(), get.as_u16()), (200, 200), "{path}");
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
    // Signed out, HEAD meets the same access rule as GET: sent to sign in.
    let anonymous = app.anonymous();
    let get = anonymous.get(format!("{}/gaps", app.base)).send().await.unwrap().status();
    let head = anonymous.head(format!("{}/gaps", app.base)).send().await.unwrap().status();
    assert_eq!(head, get);
    assert!(head.is_redirection());
}
