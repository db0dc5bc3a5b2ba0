//! NHS App uptake end to end (docs/RULES.md §9): an analyst sends counts through the API, the
//! export gives rates, running totals, shares and pooled areas, revisions and duplicates are
//! kept as for metric values, a trust cannot send uptake and a bad file stores nothing. On
//! SQLite, and on PostgreSQL when `EXEMPLAR_TEST_POSTGRES` is set.

mod common;

use common::{TestApp, parse_csv};
use exemplar::domain::Role;
use serde_json::Value;

async fn post(app: &TestApp, token: &str, body: &str) -> (u16, Value) {
    let (status, bytes) = app.post_submission(token, body.to_string()).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The `app_uptake` export as (area, month, measure) → the row's cells by column name.
async fn uptake(app: &TestApp) -> Vec<std::collections::HashMap<String, String>> {
    let (status, text) = app.text("/export/app_uptake.csv").await;
    assert_eq!(status, 200, "{text}");
    let (header, rows) = parse_csv(&text);
    rows.into_iter().map(|r| header.iter().cloned().zip(r).collect()).collect()
}

const FIRST: &str = "area_code,month,measure,value\n\
                     05G,2019-01,registrations,100\n\
                     05G,2019-01,population_13_plus,1000\n\
                     05G,2019-02,registrations,50\n\
                     05G,2019-02,population_13_plus,1000\n\
                     05W,2019-01,registrations,300\n\
                     05W,2019-01,population_13_plus,3000\n";

#[tokio::test]
async fn an_analyst_sends_uptake_and_the_export_pools_it_into_rates_totals_and_shares() {
    let app = TestApp::spawn(false).await;
    app.user("uptake-analyst@test.example", Role::Analyst, None).await;
    let token = app.token("uptake-analyst@test.example").await;
    let (status, answer) = post(&app, &token, FIRST).await;
    assert_eq!(
        (status, answer["status"].as_str(), answer["rows"].as_u64()),
        (201, Some("accepted"), Some(6)),
        "{answer}"
    );

    let rows = uptake(&app).await;
    let find = |area: &str, month: &str, measure: &str| {
        rows.iter()
            .find(|r| r["area_code"] == area && r["month"] == month && r["measure"] == measure)
            .unwrap_or_else(|| panic!("{area} {month} {measure} in {rows:?}"))
            .clone()
    };
    let own = find("05G", "2019-02", "registrations");
    assert_eq!(
        [
            &own["level"],
            &own["value"],
            &own["population"],
            &own["rate_per_1000"],
            &own["cumulative"],
            &own["share_registered"]
        ],
        ["sub_icb", "50", "1000", "50", "150", "15"]
    );
    let icb = find("QNC", "2019-01", "registrations");
    assert_eq!(
        [&icb["level"], &icb["value"], &icb["population"], &icb["rate_per_1000"]],
        ["icb", "400", "4000", "100"]
    );
    let england = find("E92000001", "2019-01", "registrations");
    assert_eq!([&england["level"], &england["value"]], ["england", "400"]);

    // A changed count is a new revision; the same bytes again are a duplicate.
    let changed = FIRST.replace("05G,2019-02,registrations,50", "05G,2019-02,registrations,60");
    let (status, answer) = post(&app, &token, &changed).await;
    assert_eq!((status, answer["status"].as_str()), (201, Some("accepted")), "{answer}");
    let stored: i64 = sqlx::query_scalar("SELECT rows_stored FROM submissions WHERE id = $1")
        .bind(answer["submission_id"].as_i64().unwrap())
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1, "only the changed count is stored");
    let (status, answer) = post(&app, &token, &changed).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("duplicate")), "{answer}");
    assert_eq!(
        uptake(&app).await.iter().filter(|r| r["area_code"] == "05G" && r["measure"] == "registrations").count(),
        2
    );
    let revisions: i64 =
        sqlx::query_scalar("SELECT MAX(revision) FROM app_uptake WHERE area_code = '05G' AND month_index = $1")
            .bind(i64::from(exemplar::domain::uptake::Month::parse("2019-02").unwrap().index()))
            .fetch_one(app.state.store.pool())
            .await
            .unwrap();
    assert_eq!(revisions, 2);

    // Every problem of a bad file, with its row and column, and nothing stored.
    let before = uptake(&app).await.len();
    let bad = "area_code,month,measure,value,age_band\n\
               ZZZ,2019-03,registrations,1,all\n\
               99A,2019-03,registrations,-1,all\n\
               99A,2019-03,logins,2,16-25\n\
               99A,2019-04,logins,3,all\n";
    let (status, answer) = post(&app, &token, bad).await;
    assert_eq!(status, 422, "{answer}");
    let errors: Vec<(u64, &str)> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(errors, [(2, "area_code"), (3, "value"), (4, "age_band")]);
    assert_eq!(uptake(&app).await.len(), before);

    // National data: a trust's user cannot send it.
    app.user("uptake-trust@test.example", Role::Trust, Some("RGT")).await;
    let trust = app.token("uptake-trust@test.example").await;
    let (status, _) = post(&app, &trust, FIRST).await;
    assert_eq!(status, 403);

    // The areas: 106 locations, 42 ICBs, 7 regions and England, the pilot locations marked.
    let (status, text) = app.text("/export/areas.csv").await;
    assert_eq!(status, 200);
    let (header, areas) = parse_csv(&text);
    let level = header.iter().position(|h| h == "level").unwrap();
    let pilot = header.iter().position(|h| h == "pilot_area").unwrap();
    let count = |l: &str| areas.iter().filter(|a| a[level] == l).count();
    assert_eq!([count("sub_icb"), count("icb"), count("region"), count("england")], [106, 42, 7, 1]);
    assert_eq!(areas.iter().filter(|a| !a[pilot].is_empty()).count(), 10);

    // The pages are public: the map marks the pilot boards, the tables carry the same numbers.
    let visitor = app.anonymous();
    let page = |path: &str| {
        let (visitor, base) = (visitor.clone(), app.base.clone());
        let path = path.to_string();
        async move {
            let r = visitor.get(format!("{base}{path}")).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, html) = page("/app").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Tile map of England") && html.contains(">QNC P<"), "the map marks Staffordshire's board");
    assert!(html.contains("February 2019"), "the latest month is named");
    let (status, html) = page("/app/areas/QNC").await;
    assert_eq!(status, 200);
    assert!(html.contains("Holds a 2018 NHS App pilot area") && html.contains("/app/areas/05G"));
    let (status, html) = page("/app/measures/registrations").await;
    assert_eq!(status, 200);
    assert!(html.contains("NHS North Staffordshire CCG"), "{html}");
    assert_eq!(page("/app/areas/ZZZ").await.0, 404);
    assert_eq!(page("/app?measure=downloads").await.0, 400);
}

/// A FHIR R4 MeasureReport of one count about an area, with counts by age band as strata.
fn report(area: &str, measure: &str, month: &str, count: i64, strata: &[(&str, i64)]) -> Value {
    let strata: Vec<Value> = strata
        .iter()
        .map(|(band, n)| serde_json::json!({"value": {"text": band}, "measureScore": {"value": n}}))
        .collect();
    serde_json::json!({
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": "summary",
        "measure": format!("https://exemplar.example/fhir/Measure/{measure}"),
        "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": area}},
        "period": {"start": format!("{month}-01"), "end": format!("{month}-28")},
        "group": [{"measureScore": {"value": count}, "stratifier": [{"code": [{"text": "age band"}], "stratum": strata}]}]
    })
}

async fn post_fhir(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/submissions", app.base))
        .bearer_auth(token)
        .header("content-type", "application/fhir+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn fhir_reports_and_the_submit_page_store_uptake_and_the_pages_chart_it() {
    let app = TestApp::spawn(false).await;
    app.user("fhir-analyst@test.example", Role::Analyst, None).await;
    let token = app.token("fhir-analyst@test.example").await;

    // A Bundle of reports, one with age strata: each report and each stratum is a count.
    let bundle = serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": report("99A", "registrations", "2019-01", 200, &[("16-24", 80), ("75+", 5)])},
        {"resource": report("99A", "population_13_plus", "2019-01", 1000, &[("16-24", 200), ("75+", 100)])},
        {"resource": report("99A", "registrations", "2019-02", 100, &[])},
        {"resource": report("99A", "population_13_plus", "2019-02", 1000, &[])},
    ]});
    let (status, answer) = post_fhir(&app, &token, &bundle).await;
    assert_eq!((status, answer["status"].as_str()), (201, Some("accepted")), "{answer}");
    let rows = uptake(&app).await;
    let banded = rows
        .iter()
        .find(|r| r["area_code"] == "99A" && r["measure"] == "registrations" && r["age_band"] == "16-24")
        .expect("the stratum is a count of its own");
    assert_eq!([&banded["value"], &banded["share_registered"]], ["80", "40"]);

    // A bad report: every problem by its place in the Bundle and its field, nothing stored.
    let before = uptake(&app).await.len();
    let bad = serde_json::json!({"resourceType": "Bundle", "entry": [
        {"resource": report("99A", "registrations", "2019-03", 5, &[("16-25", 1)])},
        {"resource": report("ZZZ", "logins", "2019-03", 5, &[])},
    ]});
    let (status, answer) = post_fhir(&app, &token, &bad).await;
    assert_eq!(status, 422, "{answer}");
    let errors: Vec<(u64, &str)> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(errors, [(1, "group[0].stratifier[0].stratum[0].value.text"), (2, "subject")]);
    assert_eq!(uptake(&app).await.len(), before);

    // The change on the month before, in its own export.
    let (status, text) = app.text("/export/app_uptake_change.csv").await;
    assert_eq!(status, 200);
    let (header, changes) = parse_csv(&text);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let feb = changes
        .iter()
        .find(|r| r[at("area_code")] == "99A" && r[at("month")] == "2019-02" && r[at("measure")] == "registrations")
        .expect("February's registrations");
    assert_eq!(
        [
            &feb[at("previous_month_value")],
            &feb[at("change_on_previous_month")],
            &feb[at("percent_change_on_previous_month")]
        ],
        ["200", "-100", "-50"]
    );

    // The submit page: an analyst previews uptake (a new count and a revision), then stores it.
    let analyst = app.user("web-analyst@test.example", Role::Analyst, None).await;
    let form_page = analyst.get(format!("{}/submit", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(form_page.contains("Submit NHS App uptake"), "{form_page}");
    let csrf = common::csrf_of(&form_page);
    let pasted = "area_code,month,measure,value\n99A,2019-02,registrations,120\n99A,2019-03,registrations,90\n";
    let form = reqwest::multipart::Form::new().text("csrf_token", csrf.clone()).text("pasted", pasted);
    let preview = analyst.post(format!("{}/submit", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(preview.status().as_u16(), 200);
    let preview = preview.text().await.unwrap();
    assert!(preview.contains("Rows by month") && preview.contains("Counts this would revise"), "{preview}");
    assert!(preview.contains("100 (revision 1)"), "the current count is shown beside the new one");
    let upload = preview.split("/submit/").nth(1).and_then(|s| s.split('/').next()).unwrap().to_string();
    let stored = analyst
        .post(format!("{}/submit/{upload}/confirm", app.base))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status().as_u16(), 303);
    let now = uptake(&app).await;
    let feb =
        now.iter().find(|r| r["area_code"] == "99A" && r["month"] == "2019-02" && r["measure"] == "registrations");
    assert_eq!(feb.map(|r| r["value"].as_str()), Some("120"));
    // An analyst's metric values are refused on the page, with the reason.
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf.clone())
        .text("pasted", "org_code,metric_id,period,value\nRGT,digital_leadership_capability,2025-Q1,3\n");
    let refused = analyst.post(format!("{}/submit", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    assert!(refused.text().await.unwrap().contains("Metric values and targets come from trusts"));

    // The pages: both tile maps, the funnel, the age bands, and an area's SPC chart.
    let visitor = app.anonymous();
    let get = |path: &'static str| {
        let (visitor, base) = (visitor.clone(), app.base.clone());
        async move { visitor.get(format!("{base}{path}")).send().await.unwrap().text().await.unwrap() }
    };
    let html = get("/app").await;
    assert!(html.contains("seven NHS regions") && html.contains(">North West P<"), "regions");
    assert!(html.contains("registered-funnel") && html.contains("Share registered by age band"), "funnel and age");
    assert!(html.contains("Taken up fastest"), "the feature heat map");
    let html = get("/app/areas/99A?measure=registrations").await;
    assert!(html.contains("Making Data Count chart") && html.contains("Change on the month before"), "{html}");
}
