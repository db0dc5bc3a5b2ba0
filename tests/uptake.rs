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
