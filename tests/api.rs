//! The submission API with tokens: own rows stored, other trusts' refused, roles, revoked tokens,
//! dry runs, duplicates, media types, size limits, FHIR MeasureReports and targets.

mod common;

use common::{TestApp, TestDb, small_csv};
use exemplar::domain::Role;
use serde_json::Value;

struct Api {
    app: TestApp,
    token: String,
}

async fn api() -> Api {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    app.user("submitter@rgt.example", Role::Trust, Some("RGT")).await;
    let token = app.token("submitter@rgt.example").await;
    Api { app, token }
}

impl Api {
    async fn post(&self, query: &str, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        post_as(&self.app, &self.token, query, content_type, body).await
    }
}

async fn post_as(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/submissions{query}", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn stored(app: &TestApp) -> usize {
    app.state.store.current_values().await.unwrap().len()
}

#[tokio::test]
async fn a_trust_submits_its_own_rows_and_sees_them_in_the_figures() {
    let api = api().await;
    let file = small_csv(&[
        ("RGT", "digital_leadership_capability", "2025-Q1", "4"),
        ("RGT", "digital_strategy_approved", "2025-Q1", "yes"),
    ]);
    let (status, body) = api.post("", "text/csv", file.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["status"].as_str(), body["rows"].as_u64()), (Some("accepted"), Some(2)));
    let id = body["submission_id"].as_i64().unwrap();
    assert_eq!(api.app.state.figures().data_version, id, "the figures follow the submission at once");

    let shown: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/submissions/{id}", api.app.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["status"], "accepted");
    assert_eq!(shown["submission_id"], id);

    let (status, body) = api.post("", "text/csv", file).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")));
}

#[tokio::test]
async fn rows_for_another_trust_are_forbidden_and_listed_and_nothing_is_stored() {
    let api = api().await;
    let file = small_csv(&[
        ("RGT", "digital_leadership_capability", "2025-Q1", "4"),
        ("RJ1", "digital_leadership_capability", "2025-Q1", "4"),
        ("R0A", "digital_leadership_capability", "2025-Q1", "2"),
    ]);
    let (status, body) = api.post("", "text/csv", file).await;
    assert_eq!(status, 403, "{body}");
    let rows: Vec<u64> = body["errors"].as_array().unwrap().iter().map(|e| e["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [3, 4]);
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("RJ1"));
    assert_eq!(stored(&api.app).await, 0);
}

#[tokio::test]
async fn other_roles_cannot_submit_and_revoked_tokens_are_refused() {
    let api = api().await;
    api.app.user("member@board.example", Role::Board, None).await;
    let board = api.app.token("member@board.example").await;
    let file = small_csv(&[("RGT", "digital_leadership_capability", "2025-Q1", "4")]);
    let (status, _) = post_as(&api.app, &board, "", "text/csv", file.clone()).await;
    assert_eq!(status, 403);

    let export = reqwest::Client::new()
        .get(format!("{}/export/organisations.csv", api.app.base))
        .bearer_auth(&board)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status().as_u16(), 200, "tokens work for the exports with their user's rights");
    assert!(export.text().await.unwrap().starts_with("org_code,org_name"));
    let tokens = api.app.state.store.tokens().await.unwrap();
    let mine = tokens.iter().find(|t| t.email == "submitter@rgt.example").unwrap().id;
    api.app.state.store.revoke_token(mine, &exemplar::store::Actor::new("test", None)).await.unwrap();
    let (status, body) = api.post("", "text/csv", file).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = post_as(&api.app, "not-a-token", "", "text/csv", "x").await;
    assert_eq!(status, 401);
    let export = reqwest::Client::new()
        .get(format!("{}/export/organisations.csv", api.app.base))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(export.status().as_u16(), 401);
    assert_eq!(stored(&api.app).await, 0);
}

#[tokio::test]
async fn a_dry_run_answers_without_storing() {
    let api = api().await;
    let file = small_csv(&[("RGT", "digital_leadership_capability", "2025-Q1", "4")]);
    let (status, body) = api.post("?dry_run=true", "text/csv", file).await;
    assert_eq!((status, body["status"].as_str(), body["dry_run"].as_bool()), (200, Some("accepted"), Some(true)));
    assert!(body["submission_id"].is_null());
    assert_eq!(stored(&api.app).await, 0);
}

#[tokio::test]
async fn other_media_types_get_415_and_oversized_bodies_413() {
    let api = api().await;
    let (status, _) = api.post("", "application/xml", "<x/>").await;
    assert_eq!(status, 415);

    let small = TestApp::spawn_with(TestDb::new(), false, |c| c.max_body_bytes = 1024).await;
    small.user("big@rgt.example", Role::Trust, Some("RGT")).await;
    let token = small.token("big@rgt.example").await;
    let mut big = String::from("org_code,metric_id,period,value\n");
    while big.len() < 4096 {
        big.push_str("RGT,digital_leadership_capability,2025-Q1,4\n");
    }
    let (status, _) = post_as(&small, &token, "", "text/csv", big).await;
    assert_eq!(status, 413);
    assert_eq!(small.get("/healthz").await.status().as_u16(), 200, "the server keeps serving");
}

#[tokio::test]
async fn every_kind_of_bad_input_gets_422_with_its_error_and_the_server_keeps_serving() {
    let api = api().await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("missing column", b"org_code,metric_id,value\nRGT,digital_leadership_capability,4\n".to_vec(), "period"),
        (
            "unknown column",
            b"org_code,metric_id,period,value,colour\nRGT,digital_leadership_capability,2025-Q1,4,red\n".to_vec(),
            "colour",
        ),
        (
            "repeated column",
            b"org_code,metric_id,period,value,value\nRGT,digital_leadership_capability,2025-Q1,4,4\n".to_vec(),
            "more than once",
        ),
        ("bad number", small_csv(&[("RGT", "digital_leadership_capability", "2025-Q1", "four")]), "plain decimal"),
        (
            "thousands",
            b"org_code,metric_id,period,value\nRGT,digital_spend_per_staff,2025-Q1,\"1,234\"\n".to_vec(),
            "comma",
        ),
        ("percent", small_csv(&[("RGT", "digital_spend_share", "2025-Q1", "45%")]), "% sign"),
        ("nan", small_csv(&[("RGT", "digital_leadership_capability", "2025-Q1", "NaN")]), "NaN"),
        ("infinity", small_csv(&[("RGT", "digital_leadership_capability", "2025-Q1", "inf")]), "infinity"),
        ("off scale", small_csv(&[("RGT", "digital_leadership_capability", "2025-Q1", "9")]), "outside the scale"),
        (
            "unknown organisation",
            small_csv(&[("ZZZ99", "digital_leadership_capability", "2025-Q1", "4")]),
            "unknown organisation",
        ),
        ("unknown metric", small_csv(&[("RGT", "no_such_metric", "2025-Q1", "4")]), "unknown metric"),
        ("not applicable", small_csv(&[("RGT", "vehicle_connectivity", "2025-Q1", "4")]), "does not apply"),
        (
            "same key twice",
            small_csv(&[
                ("RGT", "digital_leadership_capability", "2025-Q1", "4"),
                ("RGT", "digital_leadership_capability", "2024/25 Q4", "3"),
            ]),
            "already given in row 2",
        ),
        ("empty file", Vec::new(), "empty"),
        ("header only", b"org_code,metric_id,period,value\n".to_vec(), "no data rows"),
        (
            "not utf-8",
            b"org_code,metric_id,period,value\nRGT,digital_leadership_capability,2025-Q1,\xff\xfe\n".to_vec(),
            "UTF-8",
        ),
        ("future quarter", small_csv(&[("RGT", "digital_leadership_capability", "2030-Q1", "4")]), "not ended"),
    ];
    for (name, body, expected) in cases {
        let (status, answer) = api.post("", "text/csv", body).await;
        assert_eq!(status, 422, "{name}: {answer}");
        assert_eq!(answer["status"], "rejected", "{name}");
        let messages: Vec<&str> =
            answer["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
        assert!(
            messages.iter().any(|m| m.contains(expected)) || answer["errors"].to_string().contains(expected),
            "{name}: {messages:?}"
        );
        assert_eq!(api.app.get("/healthz").await.status().as_u16(), 200, "{name}: still serving");
    }
    assert_eq!(stored(&api.app).await, 0);
}

fn measure_report(org: &str, metric: &str, start: &str, score: &str) -> String {
    format!(
        r#"{{"resourceType":"MeasureReport","status":"complete","type":"summary",
        "measure":"https://exemplar.example/fhir/Measure/{metric}",
        "reporter":{{"identifier":{{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"{org}"}}}},
        "date":"2025-04-10","period":{{"start":"{start}","end":"2025-06-30"}},
        "group":[{{"population":[{{"code":{{"coding":[{{"code":"measure-population"}}]}},"count":10}}],"measureScore":{{"value":{score}}}}}]}}"#
    )
}

/// A FHIR `Bundle` (a collection) of `resources`.
fn bundle_of(resources: &[String]) -> String {
    let entries: Vec<String> = resources.iter().map(|r| format!(r#"{{"resource":{r}}}"#)).collect();
    format!(r#"{{"resourceType":"Bundle","type":"collection","entry":[{}]}}"#, entries.join(","))
}

#[tokio::test]
async fn summary_measure_reports_and_bundles_of_them_are_stored() {
    let api = api().await;
    let one = measure_report("RGT", "digital_leadership_capability", "2025-04-01", "3.5");
    let (status, body) = api.post("", "application/fhir+json", one).await;
    assert_eq!(status, 201, "{body}");
    let bundle = bundle_of(&[
        measure_report("RGT", "digital_leadership_capability", "2025-07-01", "4"),
        measure_report("RGT", "digital_spend_share", "2025-07-01", "3"),
    ]);
    let (status, body) = api.post("", "application/fhir+json", bundle).await;
    assert_eq!((status, body["rows"].as_u64()), (201, Some(2)), "{body}");
    let values = api.app.state.store.current_values().await.unwrap();
    let q2 = exemplar::domain::Quarter::parse("2025-Q2").unwrap();
    assert!(
        values.iter().any(|v| &*v.metric_id == "digital_leadership_capability" && v.period == q2 && v.value == 3.5)
    );
    assert_eq!(values.len(), 3);

    // A rejected Bundle answers how many resources it held, not 0.
    let bundle = bundle_of(&[
        measure_report("RGT", "digital_leadership_capability", "2025-10-01", "4"),
        measure_report("RGT", "no_such_metric", "2025-10-01", "3"),
        measure_report("RGT", "digital_spend_share", "2025-10-01", "3"),
    ]);
    let (status, body) = api.post("", "application/fhir+json", bundle).await;
    assert_eq!((status, body["rows"].as_u64()), (422, Some(3)), "{body}");

    // A yes/no metric's score written as JSON decimals: 1.0 and 0.0 are yes and no.
    let bundle = bundle_of(&[
        measure_report("RGT", "digital_strategy_approved", "2025-04-01", "1.0"),
        measure_report("RGT", "board_digital_lead", "2025-04-01", "0.0"),
    ]);
    let (status, body) = api.post("", "application/fhir+json", bundle).await;
    assert_eq!((status, body["rows"].as_u64()), (201, Some(2)), "{body}");
    let values = api.app.state.store.current_values().await.unwrap();
    let of = |metric: &str| values.iter().find(|v| &*v.metric_id == metric).map(|v| v.value);
    assert_eq!((of("digital_strategy_approved"), of("board_digital_lead")), (Some(1.0), Some(0.0)));
}

#[tokio::test]
async fn the_published_fhir_examples_each_get_a_clear_answer() {
    let api = api().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus");
    let expect = [
        ("measurereport-numer-EXM130.json", "the subject is Patient/numer-EXM130"),
        ("measurereport-strat1-EXM111-expectedresults.json", "the subject is Patient/"),
        ("testreport-example.json", "unknown standard 'testscript-example'"),
    ];
    for (file, message) in expect {
        let Ok(body) = std::fs::read(dir.join(file)) else { panic!("{file} is in tests/fuzz/corpus") };
        let (status, answer) = api.post("", "application/fhir+json", body).await;
        assert_eq!((status, answer["rows"].as_u64()), (422, Some(1)), "{file}: {answer}");
        assert!(answer["errors"].to_string().contains(message), "{file}: {answer}");
    }
    assert_eq!(stored(&api.app).await, 0);
}

#[tokio::test]
async fn an_exemplar_trust_submits_targets_and_its_page_shows_progress() {
    let api = api().await;
    let values = small_csv(&[("RGT", "digital_leadership_capability", "2025-Q4", "3")]);
    let (status, _) = api.post("", "text/csv", values).await;
    assert_eq!(status, 201);
    let targets = b"org_code,metric_id,period,target\nRGT,digital_leadership_capability,2027-Q4,5\n".to_vec();
    let (status, body) = api.post("?kind=targets", "text/csv", targets).await;
    assert_eq!(status, 201, "{body}");
    let t = &api.app.state.figures().targets;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].target, 5.0);

    let not_exemplar = b"org_code,metric_id,period,target\nRJ1,digital_leadership_capability,2027-Q4,5\n".to_vec();
    api.app.user("submitter@rj1.example", Role::Trust, Some("RJ1")).await;
    let rj1 = api.app.token("submitter@rj1.example").await;
    let (status, body) = post_as(&api.app, &rj1, "?kind=targets", "text/csv", not_exemplar).await;
    let is_exemplar = api.app.state.figures().reference.organisation("RJ1").unwrap().exemplar.is_exemplar();
    if !is_exemplar {
        assert_eq!(status, 422, "{body}");
        assert!(body["errors"].to_string().contains("not an exemplar trust"));
    }
    let trust = api.app.user("reader@rgt.example", Role::Board, None).await;
    let page = trust.get(format!("{}/trusts/RGT", api.app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Targets and progress") && page.contains("2027/28 Q3"), "the target shows with its quarter");
}

#[tokio::test]
async fn two_trusts_submitting_at_the_same_time_are_both_stored_whole() {
    let api = api().await;
    api.app.user("submitter@rj1.example", Role::Trust, Some("RJ1")).await;
    let rj1 = api.app.token("submitter@rj1.example").await;
    let a: Vec<String> = (1..=4).map(|q| format!("2024-Q{q}")).collect();
    let rgt =
        small_csv(&a.iter().map(|p| ("RGT", "digital_leadership_capability", p.as_str(), "3")).collect::<Vec<_>>());
    let other =
        small_csv(&a.iter().map(|p| ("RJ1", "digital_leadership_capability", p.as_str(), "2")).collect::<Vec<_>>());
    let (x, y) = tokio::join!(api.post("", "text/csv", rgt), post_as(&api.app, &rj1, "", "text/csv", other));
    assert_eq!((x.0, y.0), (201, 201));
    assert_eq!(stored(&api.app).await, 8);
}

#[tokio::test]
async fn another_trusts_submission_and_a_missing_one_get_the_same_answer() {
    let api = api().await;
    // A submission of another trust, made by its own submitter.
    api.app.user("submitter@rj1.example", Role::Trust, Some("RJ1")).await;
    let other = api.app.token("submitter@rj1.example").await;
    let file = small_csv(&[("RJ1", "digital_leadership_capability", "2025-Q1", "3")]);
    let (status, body) = post_as(&api.app, &other, "", "text/csv", file).await;
    assert_eq!(status, 201, "{body}");
    let theirs = body["submission_id"].as_i64().unwrap();
    let missing = theirs + 1000;

    let ask = |id: i64| {
        reqwest::Client::new().get(format!("{}/api/v1/submissions/{id}", api.app.base)).bearer_auth(&api.token).send()
    };
    let (a, b) = (ask(theirs).await.unwrap(), ask(missing).await.unwrap());
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (404, 404));
    let detail =
        |v: Value| v["detail"].as_str().unwrap().replace(&missing.to_string(), "N").replace(&theirs.to_string(), "N");
    assert_eq!(detail(a.json().await.unwrap()), detail(b.json().await.unwrap()));
}
