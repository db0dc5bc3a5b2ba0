//! The ideas hub (docs/RULES.md §10.5): a trust submits a blueprint, it stays unseen until the
//! board publishes it, it carries the trust's measured values before and after, and full-text
//! search finds it (and findings), the better match first. On SQLite, and on PostgreSQL when
//! `EXEMPLAR_TEST_POSTGRES` is set.

mod common;

use common::{TestApp, csrf_of, parse_csv, small_csv};
use exemplar::domain::Role;

async fn submit(client: &reqwest::Client, app: &TestApp, fields: &[(&str, &str)]) -> u16 {
    let page = client.get(format!("{}/blueprints/new", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    client.post(format!("{}/blueprints", app.base)).form(&form).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_blueprint_is_unseen_until_published_carries_its_evidence_and_is_found_by_search() {
    let app = TestApp::spawn(false).await;
    let rows: Vec<(&str, &str, &str, &str)> = vec![
        ("RGT", "digital_leadership_capability", "2024-Q3", "1.5"),
        ("RGT", "digital_leadership_capability", "2025-Q1", "2"),
        ("RGT", "digital_leadership_capability", "2025-Q2", "2.5"),
        ("RGT", "digital_leadership_capability", "2025-Q3", "4.5"),
    ];
    common::submit_csv(&app.state.store, small_csv(&rows), chrono::Utc::now().date_naive(), false).await;
    app.state.refresh().await.unwrap();

    let trust = app.user("lead@rgt.blueprints.example", Role::Trust, Some("RGT")).await;
    let other = app.user("lead@rbl.blueprints.example", Role::Trust, Some("RBL")).await;
    let board = app.user("chair@board.blueprints.example", Role::Board, None).await;

    // Every problem is reported; nothing is stored.
    assert_eq!(
        submit(&trust, &app, &[("title", ""), ("started", "1999-Q1"), ("metrics", "no_such_metric")]).await,
        422
    );
    assert!(app.state.store.blueprints().await.unwrap().is_empty());

    let fields = [
        ("title", "Clinical safety officer network for electronic prescribing"),
        ("summary", "A network of clinical safety officers reviewed every prescribing alert."),
        ("what_we_did", "We trained twelve officers and retired the alerts nobody read."),
        ("contact_role", "Chief Clinical Information Officer"),
        ("started", "2025-Q3"),
        ("metrics", "digital_leadership_capability"),
        ("metrics", "eprescribing_coverage"),
    ];
    assert_eq!(submit(&trust, &app, &fields).await, 303);
    // A second, where the word is only in the body: ranked below the first.
    let second = [
        ("title", "Board digital literacy sessions"),
        ("summary", "Monthly sessions for the board."),
        ("what_we_did", "Sessions covered prescribing data among other things."),
        ("contact_role", "Chief Digital Officer"),
        ("started", "2025-Q3"),
    ];
    assert_eq!(submit(&trust, &app, &second).await, 303);
    let stored = app.state.store.blueprints().await.unwrap();
    let (id, id2) = (stored[1].id, stored[0].id);

    let get = |client: &reqwest::Client, path: String| {
        let (client, base) = (client.clone(), app.base.clone());
        async move {
            let r = client.get(format!("{base}{path}")).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // Before publication: the trust and the board see it; another trust, the export and search do not.
    assert_eq!(get(&trust, format!("/blueprints/{id}")).await.0, 200);
    assert_eq!(get(&other, format!("/blueprints/{id}")).await.0, 404);
    let (_, csv) = get(&board, "/export/blueprints.csv".into()).await;
    assert!(parse_csv(&csv).1.is_empty(), "nothing published yet");
    let (_, found) = get(&other, "/search?q=prescribing".into()).await;
    assert!(!found.contains("Clinical safety officer"), "search finds only published blueprints");

    // The board publishes both.
    let (_, page) = get(&board, format!("/blueprints/{id}")).await;
    let csrf = csrf_of(&page);
    for b in [id, id2] {
        let r = board
            .post(format!("{}/blueprints/{b}/review", app.base))
            .form(&[("csrf_token", csrf.as_str()), ("decision", "publish"), ("note", "Clear and measured.")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
    }
    let r = trust
        .post(format!("{}/blueprints/{id}/review", app.base))
        .form(&[("csrf_token", csrf.as_str()), ("decision", "publish")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "a trust does not publish");

    let (status, page) = get(&other, format!("/blueprints/{id}")).await;
    assert_eq!(status, 200, "published: every signed-in reader sees it");
    assert!(!page.contains("+50.0"), "another trust's user sees no provisional figures in the evidence");
    let (status, page) = app.text(&format!("/blueprints/{id}")).await;
    assert_eq!(status, 200);
    // The evidence: 2.5 in the quarter before the start, 4.5 now, +50 score points on a 1–5 scale.
    assert!(page.contains("+50.0") && page.contains("2.5") && page.contains("4.5"), "{page}");
    let (_, second_page) = get(&other, format!("/blueprints/{id2}")).await;
    assert!(second_page.contains("A claim without data"), "no metric linked: marked");

    let (_, csv) = get(&other, "/export/blueprints.csv".into()).await;
    assert_eq!(parse_csv(&csv).1.len(), 2);
    // The most improved trust's blueprint about the metric is named beside it.
    let (_, metric) = app.text("/metrics/digital_leadership_capability?peer_group=acute").await;
    let improved = &metric[metric.find("id=\"improved\"").expect("the most improved section")..];
    assert!(
        improved.contains(&format!("/blueprints/{id}\"")),
        "its blueprint is linked: {}",
        &improved[..1500.min(improved.len())]
    );

    // Search: the title match first, the matched word marked, findings searched too.
    let finding = exemplar::store::NewFinding {
        subject_kind: "metric".into(),
        subject: "eprescribing_coverage".into(),
        title: "Prescribing alerts overwhelm clinicians".into(),
        body: "Recommend reviewing alert fatigue.".into(),
        owner: "NHS England".into(),
        period: "2025-Q3".into(),
        based_on: "data version 1".into(),
        due_on: String::new(),
        blueprints: Vec::new(),
    };
    app.state.store.add_finding(&finding, &exemplar::store::Actor::operator()).await.unwrap();
    let (status, found) = get(&other, "/search?q=prescribing".into()).await;
    assert_eq!(status, 200);
    let first = found.find(&format!("/blueprints/{id}\"")).expect("the title match is found");
    let later = found.find(&format!("/blueprints/{id2}\"")).expect("the body match is found");
    assert!(first < later, "the better match first");
    assert!(found.to_lowercase().contains("<mark>prescribing</mark>"), "the matched word is marked");
    assert!(found.contains("overwhelm clinicians"), "findings are searched");
    let (_, none) = get(&other, "/search?q=%22%3B+DROP+TABLE+blueprints".into()).await;
    assert!(none.contains("No published blueprint matches"), "punctuation never reaches the query language");
}
